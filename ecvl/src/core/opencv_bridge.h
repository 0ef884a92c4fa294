// Image <-> cv::Mat without copying where the layouts agree (2-D, interleaved "cxy", contiguous).
// Internal: OpenCV stays out of ECVL's public headers.
#pragma once
#include <opencv2/core.hpp>

#include "ecvl/image.h"
#include "ecvl/imgproc.h"

namespace ecvl::detail {

int cv_depth(DataType t);      ///< CV_8U, ... ; throws for types OpenCV lacks (int64)
DataType ecvl_type(int depth); ///< throws for depths ECVL lacks
int cv_interp(InterpolationType t);  ///< cv::INTER_* of an ECVL interpolation

/// A Mat header over img's pixels (no copy) when img is "cxy" (or "xy") and contiguous; else a
/// copy rearranged to interleaved. Either way the Mat is rows = height, cols = width.
cv::Mat ImageToMat(const Image& img);
/// An Image over the Mat's pixels (no copy: the Image keeps the Mat's memory alive), "cxy" for
/// several channels, "xy" for one; continuous Mats only (others are cloned first).
Image MatToImage(const cv::Mat& m, ColorType ctype);

}  // namespace ecvl::detail
