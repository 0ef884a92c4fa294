// ECVL <-> OpenCV, for programs that use OpenCV themselves (ECVL's other headers never include
// OpenCV). Include this after <opencv2/core.hpp> is available and link OpenCV's core library.
#pragma once
#include <opencv2/core.hpp>

#include "ecvl/image.h"

namespace ecvl {

/// A cv::Mat over img's own pixels, no copy, when the layout allows: 2-D "cxy" (interleaved) or
/// "xy", contiguous; writing the Mat writes the image. Other layouts (planar "xyc", views) give an
/// interleaved copy. Rows = height, cols = width, channels = the c axis. int64 images throw
/// (OpenCV has no such depth).
cv::Mat ImageToMat(const Image& img);
/// An Image over the Mat's pixels, no copy: "cxy" for several channels, "xy" for one; the Image
/// keeps the Mat's memory alive. A non-continuous Mat (a ROI) is cloned first.
Image MatToImage(const cv::Mat& m, ColorType ctype = ColorType::none);

}  // namespace ecvl
