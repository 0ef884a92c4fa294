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

/// Resizes to new_dims {width, height}, or a planar "xyz"/"xyzc" volume to {width, height, depth}:
/// each slice is resized by OpenCV (in float32, or float64 for int32/float64, so nothing is rounded
/// twice), then resampled along z natively by the same rule (nearest: slice floor(z * d / D);
/// linear: pixel centres, edges replicated). Along z only nearest and linear exist (others throw
/// unless the depth is kept). {width, height} on a volume keeps its depth.
void ResizeDim(const Image& src, Image& dst, const std::vector<int>& new_dims,
               InterpolationType interp = InterpolationType::linear);
/// Resizes by scales {sx, sy} (volumes: {sx, sy, sz}); the new size is rounded to the nearest pixel,
/// at least 1.
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
/// Rotates by `angle` degrees counter-clockwise about the image centre, scaled by `scale`, into an
/// image just large enough to hold all of it: ceil(scale * (w |cos| + h |sin|)) x
/// ceil(scale * (w |sin| + h |cos|)), the centre mapped to the new centre, uncovered pixels 0.
/// Spacings are the source's divided by `scale`.
void RotateFullImage2D(const Image& src, Image& dst, double angle, double scale = 1.0,
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

/// Quantizes into thresholds.size() + 1 levels spread evenly from minval to maxval: an element v
/// gets level k = the number of thresholds below v (v <= thresholds[0] -> minval, v > the last ->
/// maxval). Thresholds strictly increasing; any layout and type (levels rounded and saturated).
void MultiThreshold(const Image& src, Image& dst, const std::vector<int>& thresholds, int minval = 0,
                    int maxval = 255);
/// Multi-level Otsu (Liao, Chen and Chung 2001) of a one-channel uint8 image: the n_thresholds
/// increasing values t_1 < ... < t_n (classes [0, t_1], [t_1 + 1, t_2], ..., [t_n + 1, 255], as
/// MultiThreshold reads them) maximizing the between-class variance of the 256-bin histogram. Found
/// exactly by dynamic programming over Liao's class tables (O(n * 256^2), any n from 1 to 255);
/// among equal maxima the smallest t_n wins, then the smallest t_(n-1), and so on. With
/// n_thresholds = 1 it is OtsuThreshold.
std::vector<int> OtsuMultiThreshold(const Image& src, int n_thresholds = 2);

// Noise. Any layout and element type; results are saturated to the type (int64 goes through
// double). Each function is deterministic for a given seed: one std::mt19937_64 seeded with it,
// drawn in a fixed order (the colour axis slowest, so a planar and an interleaved copy of an image
// get the same noise), single-threaded; the overloads without a seed take one from
// std::random_device.

/// dst = src + n, n ~ Laplace(0, b) with b = std_dev / sqrt(2) (standard deviation std_dev), per element.
void AdditiveLaplaceNoise(const Image& src, Image& dst, double std_dev, uint64_t seed);
void AdditiveLaplaceNoise(const Image& src, Image& dst, double std_dev);
/// dst = src + k, k ~ Poisson(lambda) (mean and variance lambda; not centred), per element.
void AdditivePoissonNoise(const Image& src, Image& dst, double lambda, uint64_t seed);
void AdditivePoissonNoise(const Image& src, Image& dst, double lambda);
/// dst = src + n, n ~ Normal(0, std_dev^2), per element.
void AdditiveGaussianNoise(const Image& src, Image& dst, double std_dev, uint64_t seed);
void AdditiveGaussianNoise(const Image& src, Image& dst, double std_dev);
/// Each pixel (each element with per_channel) becomes salt with probability p: the type's maximum
/// (1 for float32/float64). The seed comes after per_channel.
void Salt(const Image& src, Image& dst, double p, bool per_channel, uint64_t seed);
void Salt(const Image& src, Image& dst, double p, bool per_channel = false);
/// Salt(img, out, p, 42) would take 42 for per_channel: a compile error instead (the seed goes last).
void Salt(const Image& src, Image& dst, double p, int) = delete;
/// The same with pepper: 0.
void Pepper(const Image& src, Image& dst, double p, bool per_channel, uint64_t seed);
void Pepper(const Image& src, Image& dst, double p, bool per_channel = false);
void Pepper(const Image& src, Image& dst, double p, int) = delete;
/// With probability p a pixel (element) is replaced: half of them by salt, half by pepper.
void SaltAndPepper(const Image& src, Image& dst, double p, bool per_channel, uint64_t seed);
void SaltAndPepper(const Image& src, Image& dst, double p, bool per_channel = false);
void SaltAndPepper(const Image& src, Image& dst, double p, int) = delete;
/// Tiles x and y with cells of ceil(drop_size * width) x ceil(drop_size * height) pixels from the
/// top-left corner (as ECVL); each cell becomes 0 with probability p, in every channel
/// (per_channel: each channel drawn apart; other axes such as z: each slice drawn apart). The
/// channel string without c must begin with "xy". drop_size in (0, 1].
void CoarseDropout(const Image& src, Image& dst, double p, double drop_size, bool per_channel, uint64_t seed);
void CoarseDropout(const Image& src, Image& dst, double p, double drop_size, bool per_channel = false);
void CoarseDropout(const Image& src, Image& dst, double p, double drop_size, int) = delete;

/// dst = src + beta, saturated to the type; any layout and type.
void Brightness(const Image& src, Image& dst, double beta);
/// dst = mid + alpha * (src - mid), saturated, alpha >= 0 (0: flat mid grey, 1: unchanged), with mid
/// the middle of the type's range: 127.5 for uint8, 32767.5 for uint16, 0 for signed integer types,
/// 0.5 for float32/float64. Any layout and type.
void Contrast(const Image& src, Image& dst, double alpha);

enum class InpaintType { INPAINT_NS, INPAINT_TELEA };
/// Fills the pixels where `mask` is non-zero from their surroundings within `radius` pixels
/// (cv::inpaint: Telea 2004 fast marching, or Navier-Stokes). src: uint8 with 1 or 3 channels,
/// uint16 or float32 with 1 (a planar image with other channel counts is inpainted plane by plane);
/// mask: one channel of any type, src's width and height, any 2-D layout.
void Inpaint(const Image& src, Image& dst, const Image& mask, double radius,
             InpaintType type = InpaintType::INPAINT_TELEA);

/// Raw moments m_pq = sum over pixels of x^p y^q I(x, y) (x the column, y the row, from 0) of a
/// one-channel 2-D image of any type, for p + q <= order (0..32): moments has (order + 1)^2 values, m_pq at
/// moments[p * (order + 1) + q], 0 where p + q > order. m00 is the total, m10 / m00 the centroid's x.
void Moments(const Image& src, std::vector<double>& moments, int order = 3);
/// Central moments mu_pq = sum of (x - cx)^p (y - cy)^q I(x, y) about center {cx, cy} (empty: the
/// centroid {m10 / m00, m01 / m00}), laid out as Moments'.
void CentralMoments(const Image& src, std::vector<double>& moments, const std::vector<double>& center = {},
                    int order = 3);

// ---- Shape analysis: native implementations (no OpenCV), see docs/ecvl.md ----

/// A pixel position.
struct Point2i {
    int x = 0, y = 0;
    bool operator==(const Point2i&) const = default;
};

/// One connected component: bounding box, pixel count and centroid (entry 0 is the background).
struct ComponentStats {
    int x = 0, y = 0, width = 0, height = 0;  ///< bounding box: left, top, size
    int64_t area = 0;                          ///< pixels
    double cx = 0, cy = 0;                     ///< centroid
};

/// Labels the connected components of the non-zero pixels of a one-channel image (any element
/// type; "xy", or "xyc"/"cxy" with one channel) with 4- or 8-connectivity. dst becomes int32 with
/// src's layout: 0 for the background, 1..n for the components in scan order (8-connectivity scans
/// 2x2 blocks, the Grana/Bolelli block-based family; 4-connectivity scans runs of pixels), the
/// numbering OpenCV gives. Returns n + 1, the number of labels including the background (as OpenCV).
int ConnectedComponentsLabeling(const Image& src, Image& dst, int connectivity = 8);
/// The same, and the statistics of each label, computed while labelling (stats[label]).
int ConnectedComponentsLabeling(const Image& src, Image& dst, std::vector<ComponentStats>& stats, int connectivity = 8);

/// Where a contour sits in the nesting of borders: indices into the contour list, -1 for none
/// (OpenCV's {next, previous, first child, parent}).
struct ContourHierarchy {
    int next = -1, previous = -1, first_child = -1, parent = -1;
    bool operator==(const ContourHierarchy&) const = default;
};

/// The borders of the non-zero regions of a one-channel image (any element type), found by
/// Suzuki-Abe border following with 8-connected foreground: outer borders and hole borders, every
/// border pixel listed in order (no approximation), the image edge counting as background.
void FindContours(const Image& src, std::vector<std::vector<Point2i>>& contours);
/// The same, with the full nesting tree (outer border -> its holes -> regions inside them ...).
void FindContours(const Image& src, std::vector<std::vector<Point2i>>& contours,
                  std::vector<ContourHierarchy>& hierarchy);

enum class ThinningType { ZHANGSUEN, GUOHALL };
/// Thins the non-zero regions of a one-channel uint8 image to one-pixel-wide skeletons by
/// Zhang-Suen (1984) or Guo-Hall (1989) parallel thinning. A pixel is foreground when >= 128 (as
/// OpenCV's thinning, which divides by 255); dst is uint8 0/255. As in OpenCV, pixels on the
/// image's edge are never removed; the output equals cv::ximgproc::thinning's.
void Skeletonization(const Image& src, Image& dst, ThinningType type = ThinningType::ZHANGSUEN);

}  // namespace ecvl
