// Image processing: geometric transforms, blur, thresholds, colour spaces.
//
// 2-D functions take images with axes x and y and, optionally, c: planar "xyc" is processed one
// channel plane at a time straight from the image's memory (no copy in or out), interleaved "cxy"
// as one multi-channel image; the result has the source's layout, element type, colour type,
// spacings (scaled when the size changes) and metadata. dst may be src. An unsupported layout,
// element type or parameter throws, naming it.
#pragma once
#include <vector>

#include "ecvl/image.h"

namespace ecvl {

enum class InterpolationType { nearest, linear, area, cubic, lanczos4 };
enum class ThresholdingType { BINARY, BINARY_INV };

/// Resizes to new_dims {width, height}.
void ResizeDim(const Image& src, Image& dst, const std::vector<int>& new_dims,
               InterpolationType interp = InterpolationType::linear);
/// Resizes by scales {sx, sy} (the new size is rounded to the nearest pixel, at least 1).
void ResizeScale(const Image& src, Image& dst, const std::vector<double>& scales,
                 InterpolationType interp = InterpolationType::linear);
/// Upside down (rows reversed).
void Flip2D(const Image& src, Image& dst);
/// Left-right (columns reversed).
void Mirror2D(const Image& src, Image& dst);
/// Rotates by `angle` degrees counter-clockwise (as displayed) about `center` {x, y} (default: the
/// image centre), scaled by `scale`; the size is kept and uncovered pixels become 0.
void Rotate2D(const Image& src, Image& dst, double angle, const std::vector<double>& center = {}, double scale = 1.0,
              InterpolationType interp = InterpolationType::linear);
/// Gaussian blur with an odd kernel size_x x size_y (0: derived from sigma); sigma_y 0 = sigma_x.
void GaussianBlur(const Image& src, Image& dst, int size_x, int size_y, double sigma_x, double sigma_y = 0);
/// GaussianBlur with the kernel size derived from sigma (ECVL's short form).
void GaussianBlur(const Image& src, Image& dst, double sigma);
/// dst = maxval where src > thresh (BINARY; BINARY_INV: where src <= thresh), else 0; per element.
void Threshold(const Image& src, Image& dst, double thresh, double maxval,
               ThresholdingType type = ThresholdingType::BINARY);
/// Converts among GRAY, RGB, BGR, RGBA, HSV and YCbCr (uint8: OpenCV's 8-bit ranges, H in 0..180;
/// float32: [0, 1] components, H in degrees). The colour axis changes size as needed (GRAY 1,
/// RGBA 4). The source needs a colour type other than none.
void ChangeColorSpace(const Image& src, Image& dst, ColorType new_type);

enum class MorphType { MORPH_ERODE, MORPH_DILATE, MORPH_OPEN, MORPH_CLOSE, MORPH_GRADIENT, MORPH_TOPHAT, MORPH_BLACKHAT };

/// Morphology with a rectangular kernel of odd size kx x ky (or the kernel image: uint8, non-zero
/// = part of the structuring element), `iterations` times; outside the image counts as absent.
void Morphology(const Image& src, Image& dst, MorphType op, int kx, int ky, int iterations = 1);
void Morphology(const Image& src, Image& dst, MorphType op, const Image& kernel, int iterations = 1);
/// Median of the ksize x ksize neighbourhood (odd ksize; 3 and 5 for every type OpenCV allows,
/// larger for uint8 only).
void MedianBlur(const Image& src, Image& dst, int ksize);
/// Mean of the kx x ky neighbourhood.
void BoxBlur(const Image& src, Image& dst, int kx, int ky);
/// Correlation with `kernel` (a float32 or float64 "xy" image, odd sizes), result in src's type.
void Filter2D(const Image& src, Image& dst, const Image& kernel);
/// Correlation with kernel_x along x, then kernel_y along y (odd lengths).
void SeparableFilter2D(const Image& src, Image& dst, const std::vector<double>& kernel_x,
                       const std::vector<double>& kernel_y);
/// Otsu's threshold of a one-channel uint8 image (the value maximizing the between-class variance).
int OtsuThreshold(const Image& src);
/// Swaps x and y.
void Transpose(const Image& src, Image& dst);
/// The centred size {width, height} box, copied.
void CenterCrop(const Image& src, Image& dst, const std::vector<int>& size);
/// Side by side (same height, type and channels) and one above the other (same width...).
void HConcat(const std::vector<Image>& src, Image& dst);
void VConcat(const std::vector<Image>& src, Image& dst);

/// Mean and standard deviation (population) per channel, over any layout and type.
void MeanStdDev(const Image& src, std::vector<double>& mean, std::vector<double>& stddev);
/// dst = (src - mean) / stddev per channel (mean/stddev: one value, or one per channel); float32.
void Normalize(const Image& src, Image& dst, const std::vector<double>& mean, const std::vector<double>& stddev);
/// Rescales linearly so the minimum becomes new_min and the maximum new_max (in src's type).
void ScaleTo(const Image& src, Image& dst, double new_min, double new_max);
/// Histogram of a one-channel uint8 image: 256 counts.
std::vector<int64_t> CalcHist(const Image& src);
/// Histogram equalization of a one-channel uint8 image (OpenCV's cv::equalizeHist).
void EqualizeHist(const Image& src, Image& dst);
/// Summed-area table of a one-channel image, (width + 1) x (height + 1), float64 (int32 for uint8).
void IntegralImage(const Image& src, Image& dst);
/// dst = max * (src / max) ^ gamma for integer types (max: the type's maximum), src ^ gamma for reals.
void GammaContrast(const Image& src, Image& dst, double gamma);
/// A border of `value` around x and y: padding {top, bottom, left, right}.
void Pad(const Image& src, Image& dst, const std::vector<int>& padding, double value = 0);
/// Equal images stacked along a new z axis: "xy" -> "xyz", "xyc" -> "xyzc".
void Stack(const std::vector<Image>& src, Image& dst);

}  // namespace ecvl
