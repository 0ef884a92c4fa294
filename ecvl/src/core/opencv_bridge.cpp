// Image <-> cv::Mat, sharing memory where the layouts agree.
#include "core/opencv_bridge.h"

#include <opencv2/imgproc.hpp>

namespace ecvl::detail {

int cv_interp(InterpolationType t) {
    switch (t) {
        case InterpolationType::nearest: return cv::INTER_NEAREST;
        case InterpolationType::area: return cv::INTER_AREA;
        case InterpolationType::cubic: return cv::INTER_CUBIC;
        case InterpolationType::lanczos4: return cv::INTER_LANCZOS4;
        default: return cv::INTER_LINEAR;
    }
}


int cv_depth(DataType t) {
    switch (t) {
        case DataType::uint8: return CV_8U;
        case DataType::int8: return CV_8S;
        case DataType::uint16: return CV_16U;
        case DataType::int16: return CV_16S;
        case DataType::int32: return CV_32S;
        case DataType::float32: return CV_32F;
        case DataType::float64: return CV_64F;
        default: ECVL_FAIL("OpenCV has no " << DataTypeName(t) << " matrices");
    }
}

DataType ecvl_type(int depth) {
    switch (depth) {
        case CV_8U: return DataType::uint8;
        case CV_8S: return DataType::int8;
        case CV_16U: return DataType::uint16;
        case CV_16S: return DataType::int16;
        case CV_32S: return DataType::int32;
        case CV_32F: return DataType::float32;
        case CV_64F: return DataType::float64;
        default: ECVL_FAIL("OpenCV depth " << depth << " has no ECVL element type");
    }
}

cv::Mat ImageToMat(const Image& img) {
    ECVL_CHECK(!img.IsEmpty(), "ImageToMat: the image is empty");
    const std::string& ch = img.channels_;
    const bool gray2d = ch == "xy";
    ECVL_CHECK(gray2d || ch == "xyc" || ch == "cxy",
               "ImageToMat: needs a 2-D image (channels \"xy\", \"xyc\" or \"cxy\"), got \"" << ch << "\"");
    const Image* src = &img;
    Image inter;
    if (!gray2d && (ch != "cxy" || !img.contiguous_)) {  // planar or strided: one copy into interleaved
        RearrangeChannels(img, inter, "cxy");
        src = &inter;
    } else if (!img.contiguous_) {
        inter = img;  // a contiguous copy of a strided view
        src = &inter;
    }
    const int c = gray2d ? 1 : src->dims_[0];
    cv::Mat header(src->Height(), src->Width(), CV_MAKETYPE(cv_depth(src->elemtype_), c), src->data_);
    return src == &img ? header : header.clone();  // never point into the temporary
}

Image MatToImage(const cv::Mat& mat, ColorType ctype) {
    ECVL_CHECK(!mat.empty() && mat.dims == 2, "MatToImage: needs a non-empty 2-D matrix");
    cv::Mat m = mat.isContinuous() ? mat : mat.clone();
    auto keep = std::make_shared<cv::Mat>(m);  // the Image holds a reference to the Mat's memory
    const int c = m.channels();
    const DataType t = ecvl_type(m.depth());
    if (c == 1) return Image::Wrap({m.cols, m.rows}, t, "xy", ColorType::none, m.data, keep);
    return Image::Wrap({c, m.cols, m.rows}, t, "cxy", ctype, m.data, keep);
}

}  // namespace ecvl::detail

namespace ecvl {

cv::Mat ImageToMat(const Image& img) { return detail::ImageToMat(img); }
Image MatToImage(const cv::Mat& m, ColorType ctype) { return detail::MatToImage(m, ctype); }

}  // namespace ecvl
