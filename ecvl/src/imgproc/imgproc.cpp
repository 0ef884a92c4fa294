// Image processing through OpenCV on the image's own memory: planar images one plane at a time
// (each plane is a single-channel cv::Mat header over the image, rows at the image's stride),
// interleaved ones as one multi-channel Mat. No copies in or out.
#include "ecvl/imgproc.h"

#include <cmath>
#include <cstring>
#include <opencv2/imgproc.hpp>

#include "core/opencv_bridge.h"

namespace ecvl {
namespace {

enum class Layout { Planar, Interleaved };  // "xy"/"xyc", "cxy"

Layout layout_of(const Image& img, const char* who) {
    ECVL_CHECK(!img.IsEmpty(), who << ": the image is empty");
    const std::string& ch = img.channels_;
    const bool planar = ch == "xy" || ch == "xyc", inter = ch == "cxy";
    ECVL_CHECK(planar || inter, who << ": needs a 2-D image with channels \"xy\", \"xyc\" or \"cxy\", got \"" << ch << "\"");
    const int64_t es = int64_t(img.elemsize_);
    if (planar) {
        ECVL_CHECK(img.strides_[0] == es, who << ": x must be contiguous (a view along x is strided; Clone() it)");
    } else {
        ECVL_CHECK(img.strides_[0] == es && img.strides_[1] == es * img.dims_[0],
                   who << ": interleaved pixels must be contiguous (Clone() the view)");
    }
    return planar ? Layout::Planar : Layout::Interleaved;
}

int width(const Image& img, Layout l) { return img.dims_[l == Layout::Planar ? 0 : 1]; }
int height(const Image& img, Layout l) { return img.dims_[l == Layout::Planar ? 1 : 2]; }
int planes(const Image& img, Layout l) { return l == Layout::Planar && img.dims_.size() == 3 ? img.dims_[2] : 1; }

// A Mat header over plane p (planar) or over the whole image (interleaved).
cv::Mat mat(const Image& img, Layout l, int p) {
    const int depth = detail::cv_depth(img.elemtype_);
    if (l == Layout::Planar)
        return cv::Mat(height(img, l), width(img, l), CV_MAKETYPE(depth, 1), img.data_ + p * (img.dims_.size() == 3 ? img.strides_[2] : 0),
                       size_t(img.strides_[1]));
    return cv::Mat(height(img, l), width(img, l), CV_MAKETYPE(depth, img.dims_[0]), img.data_, size_t(img.strides_[2]));
}

// The image to write results into: dst itself when it already owns contiguous memory of this
// shape and type that is not the source's (loops over frames then allocate nothing), else a new one.
Image* target(Image& dst, const Image& src, const std::vector<int>& dims, DataType t, const std::string& channels,
              ColorType ct, const std::vector<float>& spacings, Image& fresh) {
    const bool overlaps = dst.data_ && src.data_ && dst.data_ < src.data_ + src.datasize_ && src.data_ < dst.data_ + dst.datasize_;
    if (dst.IsOwner() && !dst.IsEmpty() && dst.contiguous_ && dst.dims_ == dims && dst.elemtype_ == t &&
        dst.channels_ == channels && !overlaps) {
        dst.colortype_ = ct;
        dst.spacings_ = spacings;
        dst.meta_ = src.meta_;
        return &dst;
    }
    fresh = Image(dims, t, channels, ct, spacings, src.dev_, src.meta_);
    return &fresh;
}

// dst = f applied to every plane of src, output w x h; the rest of src's description is kept.
// interleave: for planar images with several planes, run f once on the merged (interleaved)
// pixels and split the result, instead of once per plane (for ops whose per-pixel work, such as
// warpAffine's coordinates, is shared by the channels).
template <class F>
void per_plane(const char* who, const Image& src, Image& dst, int w, int h, F f, bool interleave = false) {
    const Layout l = layout_of(src, who);
    std::vector<int> dims = src.dims_;
    dims[l == Layout::Planar ? 0 : 1] = w;
    dims[l == Layout::Planar ? 1 : 2] = h;
    std::vector<float> sp = src.spacings_;
    sp[l == Layout::Planar ? 0 : 1] *= float(width(src, l)) / float(w);
    sp[l == Layout::Planar ? 1 : 2] *= float(height(src, l)) / float(h);
    Image fresh;
    Image& out = *target(dst, src, dims, src.elemtype_, src.channels_, src.colortype_, sp, fresh);
    try {
        if (interleave && l == Layout::Planar && planes(src, l) > 1) {
            std::vector<cv::Mat> in_planes, out_planes;
            for (int p = 0; p < planes(src, l); ++p) {
                in_planes.push_back(mat(src, l, p));
                out_planes.push_back(mat(out, l, p));
            }
            cv::Mat merged, result;
            cv::merge(in_planes, merged);
            f(merged, result);
            cv::split(result, out_planes);
            for (int p = 0; p < planes(src, l); ++p)
                ECVL_CHECK(out_planes[size_t(p)].data == mat(out, l, p).data, who << ": OpenCV reallocated a plane");
        } else {
            for (int p = 0; p < planes(src, l); ++p) {
                cv::Mat o = mat(out, l, p);
                f(mat(src, l, p), o);
                ECVL_CHECK(o.data == mat(out, l, p).data, who << ": OpenCV reallocated the output (size or type mismatch)");
            }
        }
    } catch (const cv::Exception& e) {
        ECVL_FAIL(who << ": OpenCV cannot process " << DataTypeName(src.elemtype_) << " \"" << src.channels_
                      << "\" images: " << e.err);
    }
    if (&out == &fresh) dst = std::move(fresh);
}

int cv_interp(InterpolationType t) {
    switch (t) {
        case InterpolationType::nearest: return cv::INTER_NEAREST;
        case InterpolationType::area: return cv::INTER_AREA;
        case InterpolationType::cubic: return cv::INTER_CUBIC;
        case InterpolationType::lanczos4: return cv::INTER_LANCZOS4;
        default: return cv::INTER_LINEAR;
    }
}

}  // namespace

void ResizeDim(const Image& src, Image& dst, const std::vector<int>& new_dims, InterpolationType interp) {
    ECVL_CHECK(new_dims.size() == 2 && new_dims[0] > 0 && new_dims[1] > 0,
               "ResizeDim: new_dims must be {width, height} > 0");
    per_plane("ResizeDim", src, dst, new_dims[0], new_dims[1], [&](const cv::Mat& in, cv::Mat& out) {
        cv::resize(in, out, out.size(), 0, 0, cv_interp(interp));
    });
}

void ResizeScale(const Image& src, Image& dst, const std::vector<double>& scales, InterpolationType interp) {
    ECVL_CHECK(scales.size() == 2 && scales[0] > 0 && scales[1] > 0, "ResizeScale: scales must be {sx, sy} > 0");
    const Layout l = layout_of(src, "ResizeScale");
    ResizeDim(src, dst,
              {std::max(1, int(std::lround(width(src, l) * scales[0]))), std::max(1, int(std::lround(height(src, l) * scales[1])))},
              interp);
}

void Flip2D(const Image& src, Image& dst) {
    const Layout l = layout_of(src, "Flip2D");
    per_plane("Flip2D", src, dst, width(src, l), height(src, l), [](const cv::Mat& in, cv::Mat& out) { cv::flip(in, out, 0); });
}

void Mirror2D(const Image& src, Image& dst) {
    const Layout l = layout_of(src, "Mirror2D");
    per_plane("Mirror2D", src, dst, width(src, l), height(src, l), [](const cv::Mat& in, cv::Mat& out) { cv::flip(in, out, 1); });
}

void Rotate2D(const Image& src, Image& dst, double angle, const std::vector<double>& center, double scale,
              InterpolationType interp) {
    ECVL_CHECK(center.empty() || center.size() == 2, "Rotate2D: center must be {x, y} or empty");
    ECVL_CHECK(scale > 0, "Rotate2D: scale must be > 0, got " << scale);
    const Layout l = layout_of(src, "Rotate2D");
    const int w = width(src, l), h = height(src, l);
    const cv::Point2f c = center.empty() ? cv::Point2f((w - 1) / 2.0f, (h - 1) / 2.0f)
                                         : cv::Point2f(float(center[0]), float(center[1]));
    const cv::Mat m = cv::getRotationMatrix2D(c, angle, scale);
    per_plane("Rotate2D", src, dst, w, h, [&](const cv::Mat& in, cv::Mat& out) {
        cv::warpAffine(in, out, m, cv::Size(w, h), cv_interp(interp), cv::BORDER_CONSTANT, cv::Scalar::all(0));
    }, true);
}

void GaussianBlur(const Image& src, Image& dst, int size_x, int size_y, double sigma_x, double sigma_y) {
    ECVL_CHECK((size_x == 0 || (size_x > 0 && size_x % 2 == 1)) && (size_y == 0 || (size_y > 0 && size_y % 2 == 1)),
               "GaussianBlur: kernel sizes must be odd (or 0 to derive them from sigma), got " << size_x << "x" << size_y);
    ECVL_CHECK(sigma_x >= 0 && sigma_y >= 0 && (size_x > 0 || sigma_x > 0),
               "GaussianBlur: needs a kernel size or a positive sigma");
    const Layout l = layout_of(src, "GaussianBlur");
    per_plane("GaussianBlur", src, dst, width(src, l), height(src, l), [&](const cv::Mat& in, cv::Mat& out) {
        cv::GaussianBlur(in, out, cv::Size(size_x, size_y), sigma_x, sigma_y, cv::BORDER_REFLECT_101);
    });
}

void GaussianBlur(const Image& src, Image& dst, double sigma) {
    ECVL_CHECK(sigma > 0, "GaussianBlur: sigma must be > 0, got " << sigma);
    GaussianBlur(src, dst, 0, 0, sigma, sigma);
}

void Threshold(const Image& src, Image& dst, double thresh, double maxval, ThresholdingType type) {
    const Layout l = layout_of(src, "Threshold");
    per_plane("Threshold", src, dst, width(src, l), height(src, l), [&](const cv::Mat& in, cv::Mat& out) {
        cv::threshold(in, out, thresh, maxval, type == ThresholdingType::BINARY ? cv::THRESH_BINARY : cv::THRESH_BINARY_INV);
    });
}

namespace {
// OpenCV's conversion codes to and from BGR; YCbCr is OpenCV's YCrCb with Cr and Cb swapped.
int to_bgr(ColorType t) {
    switch (t) {
        case ColorType::GRAY: return cv::COLOR_GRAY2BGR;
        case ColorType::RGB: return cv::COLOR_RGB2BGR;
        case ColorType::RGBA: return cv::COLOR_RGBA2BGR;
        case ColorType::HSV: return cv::COLOR_HSV2BGR_FULL;
        case ColorType::YCbCr: return cv::COLOR_YCrCb2BGR;
        default: return -1;
    }
}
int from_bgr(ColorType t) {
    switch (t) {
        case ColorType::GRAY: return cv::COLOR_BGR2GRAY;
        case ColorType::RGB: return cv::COLOR_BGR2RGB;
        case ColorType::RGBA: return cv::COLOR_BGR2RGBA;
        case ColorType::HSV: return cv::COLOR_BGR2HSV_FULL;
        case ColorType::YCbCr: return cv::COLOR_BGR2YCrCb;
        default: return -1;
    }
}
void swap_cr_cb(cv::Mat& m) {
    std::vector<cv::Mat> ch;
    cv::split(m, ch);
    std::swap(ch[1], ch[2]);
    cv::merge(ch, m);
}
}  // namespace

// A single OpenCV code for the pair, or -1 (then the conversion goes through BGR).
int direct(ColorType from, ColorType to) {
    using C = ColorType;
    if (from == C::BGR) return from_bgr(to);
    if (to == C::BGR) return to_bgr(from);
    if (from == C::RGB && to == C::GRAY) return cv::COLOR_RGB2GRAY;
    if (from == C::GRAY && to == C::RGB) return cv::COLOR_GRAY2RGB;
    if (from == C::RGB && to == C::HSV) return cv::COLOR_RGB2HSV_FULL;
    if (from == C::HSV && to == C::RGB) return cv::COLOR_HSV2RGB_FULL;
    if (from == C::RGB && to == C::RGBA) return cv::COLOR_RGB2RGBA;
    if (from == C::RGBA && to == C::RGB) return cv::COLOR_RGBA2RGB;
    if (from == C::RGBA && to == C::GRAY) return cv::COLOR_RGBA2GRAY;
    if (from == C::GRAY && to == C::RGBA) return cv::COLOR_GRAY2RGBA;
    return -1;
}

void ChangeColorSpace(const Image& src, Image& dst, ColorType new_type) {
    const char* who = "ChangeColorSpace";
    ECVL_CHECK(src.colortype_ != ColorType::none && new_type != ColorType::none,
               who << ": from " << ColorTypeName(src.colortype_) << " to " << ColorTypeName(new_type)
                   << " (both need a colour type)");
    const Layout l = layout_of(src, who);
    ECVL_CHECK(src.channels_ != "xy", who << ": needs a c axis");
    if (src.colortype_ == new_type) {
        dst = src;
        return;
    }
    ECVL_CHECK(src.elemtype_ == DataType::uint8 || src.elemtype_ == DataType::float32,
               who << ": " << DataTypeName(src.elemtype_) << " images (uint8 or float32 only)");
    // OpenCV converts interleaved pixels: an interleaved source is read in place, a planar one is
    // interleaved once (cv::merge of its planes); the result goes straight into the destination
    // (through cv::split for a planar one)
    const int w = width(src, l), h = height(src, l), cn = ColorTypeChannels(new_type);
    const int depth = detail::cv_depth(src.elemtype_);
    cv::Mat in;
    if (l == Layout::Interleaved) {
        in = mat(src, l, 0);
    } else {
        std::vector<cv::Mat> ch;
        for (int p = 0; p < planes(src, l); ++p) ch.push_back(mat(src, l, p));
        cv::merge(ch, in);
    }
    const std::vector<int> dims = l == Layout::Planar ? std::vector<int>{w, h, cn} : std::vector<int>{cn, w, h};
    Image fresh;
    Image& res = *target(dst, src, dims, src.elemtype_, src.channels_, new_type, src.spacings_, fresh);
    try {
        if (src.colortype_ == ColorType::YCbCr) {
            in = in.clone();
            swap_cr_cb(in);
        }
        cv::Mat out = l == Layout::Interleaved ? mat(res, l, 0) : cv::Mat(h, w, CV_MAKETYPE(depth, cn));
        const int code = direct(src.colortype_, new_type);
        if (code >= 0) {
            cv::cvtColor(in, out, code);
        } else {
            cv::Mat bgr;
            cv::cvtColor(in, bgr, to_bgr(src.colortype_));
            cv::cvtColor(bgr, out, from_bgr(new_type));
        }
        if (new_type == ColorType::YCbCr) swap_cr_cb(out);
        if (l == Layout::Planar) {
            std::vector<cv::Mat> ch;
            for (int p = 0; p < cn; ++p) ch.push_back(mat(res, l, p));
            cv::split(out, ch);
            for (int p = 0; p < cn; ++p)
                ECVL_CHECK(ch[size_t(p)].data == mat(res, l, p).data, who << ": OpenCV reallocated a plane");
        } else {
            ECVL_CHECK(out.data == res.data_, who << ": OpenCV reallocated the output");
        }
    } catch (const cv::Exception& e) {
        ECVL_FAIL(who << ": " << ColorTypeName(src.colortype_) << " -> " << ColorTypeName(new_type) << ": " << e.err);
    }
    if (&res == &fresh) dst = std::move(fresh);
}

}  // namespace ecvl

namespace ecvl {

namespace {
int cv_morph(MorphType op) {
    static const int ops[] = {cv::MORPH_ERODE, cv::MORPH_DILATE, cv::MORPH_OPEN, cv::MORPH_CLOSE,
                              cv::MORPH_GRADIENT, cv::MORPH_TOPHAT, cv::MORPH_BLACKHAT};
    return ops[int(op)];
}

void morphology(const Image& src, Image& dst, MorphType op, const cv::Mat& k, int iterations) {
    ECVL_CHECK(iterations >= 1, "Morphology: iterations must be >= 1, got " << iterations);
    const Layout l = layout_of(src, "Morphology");
    per_plane("Morphology", src, dst, width(src, l), height(src, l), [&](const cv::Mat& in, cv::Mat& out) {
        cv::morphologyEx(in, out, cv_morph(op), k, cv::Point(-1, -1), iterations, cv::BORDER_CONSTANT,
                         cv::morphologyDefaultBorderValue());
    });
}

// A one-channel "xy" (or "xyc" with c = 1) image as a contiguous Mat of `depth` (a copy).
cv::Mat small_mat(const Image& k, int depth, const char* who) {
    ECVL_CHECK(!k.IsEmpty() && (k.channels_ == "xy" || (k.channels_ == "xyc" && k.dims_[2] == 1)),
               who << ": the kernel must be a one-channel \"xy\" image");
    Image c = k.Clone();
    cv::Mat m(c.dims_[1], c.dims_[0], CV_MAKETYPE(detail::cv_depth(c.elemtype_), 1), c.data_);
    cv::Mat out;
    m.convertTo(out, depth);
    return out;
}
}  // namespace

void Morphology(const Image& src, Image& dst, MorphType op, int kx, int ky, int iterations) {
    ECVL_CHECK(kx > 0 && ky > 0 && kx % 2 == 1 && ky % 2 == 1, "Morphology: kernel sizes must be odd and positive");
    morphology(src, dst, op, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(kx, ky)), iterations);
}

void Morphology(const Image& src, Image& dst, MorphType op, const Image& kernel, int iterations) {
    const cv::Mat k = small_mat(kernel, CV_8U, "Morphology");
    ECVL_CHECK(k.cols % 2 == 1 && k.rows % 2 == 1, "Morphology: kernel sizes must be odd");
    morphology(src, dst, op, k, iterations);
}

void MedianBlur(const Image& src, Image& dst, int ksize) {
    ECVL_CHECK(ksize > 1 && ksize % 2 == 1, "MedianBlur: ksize must be odd and > 1, got " << ksize);
    ECVL_CHECK(ksize <= 5 || src.elemtype_ == DataType::uint8,
               "MedianBlur: ksize " << ksize << " needs uint8 (OpenCV takes 3 and 5 for other types)");
    const Layout l = layout_of(src, "MedianBlur");
    per_plane("MedianBlur", src, dst, width(src, l), height(src, l),
              [&](const cv::Mat& in, cv::Mat& out) { cv::medianBlur(in, out, ksize); });
}

void BoxBlur(const Image& src, Image& dst, int kx, int ky) {
    ECVL_CHECK(kx > 0 && ky > 0, "BoxBlur: kernel sizes must be positive");
    const Layout l = layout_of(src, "BoxBlur");
    per_plane("BoxBlur", src, dst, width(src, l), height(src, l), [&](const cv::Mat& in, cv::Mat& out) {
        cv::blur(in, out, cv::Size(kx, ky), cv::Point(-1, -1), cv::BORDER_REFLECT_101);
    });
}

void Filter2D(const Image& src, Image& dst, const Image& kernel) {
    const cv::Mat k = small_mat(kernel, CV_64F, "Filter2D");
    ECVL_CHECK(k.cols % 2 == 1 && k.rows % 2 == 1, "Filter2D: kernel sizes must be odd, got " << k.cols << "x" << k.rows);
    const Layout l = layout_of(src, "Filter2D");
    per_plane("Filter2D", src, dst, width(src, l), height(src, l), [&](const cv::Mat& in, cv::Mat& out) {
        cv::filter2D(in, out, -1, k, cv::Point(-1, -1), 0, cv::BORDER_REFLECT_101);
    });
}

void SeparableFilter2D(const Image& src, Image& dst, const std::vector<double>& kx, const std::vector<double>& ky) {
    ECVL_CHECK(!kx.empty() && !ky.empty() && kx.size() % 2 == 1 && ky.size() % 2 == 1,
               "SeparableFilter2D: kernel lengths must be odd, got " << kx.size() << " and " << ky.size());
    const Layout l = layout_of(src, "SeparableFilter2D");
    const cv::Mat mx(1, int(kx.size()), CV_64F, const_cast<double*>(kx.data())),
        my(1, int(ky.size()), CV_64F, const_cast<double*>(ky.data()));
    per_plane("SeparableFilter2D", src, dst, width(src, l), height(src, l), [&](const cv::Mat& in, cv::Mat& out) {
        cv::sepFilter2D(in, out, -1, mx, my, cv::Point(-1, -1), 0, cv::BORDER_REFLECT_101);
    });
}

int OtsuThreshold(const Image& src) {
    const Layout l = layout_of(src, "OtsuThreshold");
    ECVL_CHECK(src.elemtype_ == DataType::uint8 && planes(src, l) == 1 && (l == Layout::Planar || src.dims_[0] == 1),
               "OtsuThreshold: needs a one-channel uint8 image, got " << DataTypeName(src.elemtype_) << " \""
                                                                      << src.channels_ << "\"");
    cv::Mat out;
    return int(cv::threshold(mat(src, l, 0), out, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU));
}

void Transpose(const Image& src, Image& dst) {
    const Layout l = layout_of(src, "Transpose");
    per_plane("Transpose", src, dst, height(src, l), width(src, l),
              [](const cv::Mat& in, cv::Mat& out) { cv::transpose(in, out); });
    std::swap(dst.spacings_[l == Layout::Planar ? 0 : 1], dst.spacings_[l == Layout::Planar ? 1 : 2]);
}

void CenterCrop(const Image& src, Image& dst, const std::vector<int>& size) {
    const Layout l = layout_of(src, "CenterCrop");
    ECVL_CHECK(size.size() == 2 && size[0] >= 1 && size[1] >= 1 && size[0] <= width(src, l) && size[1] <= height(src, l),
               "CenterCrop: size {width, height} must fit " << width(src, l) << "x" << height(src, l));
    std::vector<int> start(src.dims_.size(), 0), len(src.dims_.size(), -1);
    const size_t xa = l == Layout::Planar ? 0 : 1;
    start[xa] = (width(src, l) - size[0]) / 2;
    start[xa + 1] = (height(src, l) - size[1]) / 2;
    len[xa] = size[0];
    len[xa + 1] = size[1];
    dst = View(src, start, len).Clone();
}

namespace {
void concat(const std::vector<Image>& src, Image& dst, bool horizontal) {
    const char* who = horizontal ? "HConcat" : "VConcat";
    ECVL_CHECK(!src.empty(), who << ": no images");
    const Layout l = layout_of(src[0], who);
    const int axis = int(l == Layout::Planar ? 0 : 1) + (horizontal ? 0 : 1);
    std::vector<int> dims = src[0].dims_;
    dims[size_t(axis)] = 0;
    for (const Image& s : src) {
        ECVL_CHECK(layout_of(s, who) == l && s.channels_ == src[0].channels_ && s.elemtype_ == src[0].elemtype_,
                   who << ": images of different layouts or types");
        for (size_t a = 0; a < dims.size(); ++a)
            ECVL_CHECK(int(a) == axis || s.dims_[a] == src[0].dims_[a],
                       who << ": sizes differ along '" << src[0].channels_[a] << "'");
        dims[size_t(axis)] += s.dims_[size_t(axis)];
    }
    Image out(dims, src[0].elemtype_, src[0].channels_, src[0].colortype_, src[0].spacings_, src[0].dev_, src[0].meta_);
    int at = 0;
    for (const Image& s : src) {
        std::vector<int> start(dims.size(), 0), len(s.dims_);
        start[size_t(axis)] = at;
        Image target = View(out, start, len);
        CopyImage(s, target);
        at += s.dims_[size_t(axis)];
    }
    dst = std::move(out);
}
}  // namespace

void HConcat(const std::vector<Image>& src, Image& dst) { concat(src, dst, true); }
void VConcat(const std::vector<Image>& src, Image& dst) { concat(src, dst, false); }

}  // namespace ecvl

namespace ecvl {

namespace {
// The c axis (or none) and the values of channel k as doubles, any layout.
std::vector<std::vector<double>> channel_values(const Image& src, const char* who) {
    ECVL_CHECK(!src.IsEmpty(), who << ": the image is empty");
    const size_t c = src.channels_.find('c');
    const int n = c == std::string::npos ? 1 : src.dims_[c];
    std::vector<std::vector<double>> v(static_cast<size_t>(n));
    for (int k = 0; k < n; ++k) {
        std::vector<int> start(src.dims_.size(), 0), len(src.dims_.size(), -1);
        if (c != std::string::npos) {
            start[c] = k;
            len[c] = 1;
        }
        Image plane;
        ConvertTo(View(src, start, len), plane, DataType::float64);
        const double* p = reinterpret_cast<const double*>(plane.data_);
        v[size_t(k)].assign(p, p + plane.Elements());
    }
    return v;
}
}  // namespace

void MeanStdDev(const Image& src, std::vector<double>& mean, std::vector<double>& stddev) {
    mean.clear();
    stddev.clear();
    for (const auto& v : channel_values(src, "MeanStdDev")) {
        double s = 0, s2 = 0;
        for (double x : v) s += x;
        const double m = s / double(v.size());
        for (double x : v) s2 += (x - m) * (x - m);
        mean.push_back(m);
        stddev.push_back(std::sqrt(s2 / double(v.size())));
    }
}

void Normalize(const Image& src, Image& dst, const std::vector<double>& mean, const std::vector<double>& stddev) {
    const size_t c = src.channels_.find('c');
    const size_t n = c == std::string::npos ? 1 : size_t(src.dims_[c]);
    ECVL_CHECK((mean.size() == 1 || mean.size() == n) && (stddev.size() == 1 || stddev.size() == n),
               "Normalize: mean and stddev need 1 or " << n << " values");
    for (double s : stddev) ECVL_CHECK(s > 0, "Normalize: stddev must be > 0, got " << s);
    Image out;
    ConvertTo(src, out, DataType::float32);
    float* p = reinterpret_cast<float*>(out.data_);
    const int64_t cstride = c == std::string::npos ? 0 : out.strides_[c] / int64_t(sizeof(float));
    for (size_t i = 0; i < out.Elements(); ++i) {
        const size_t k = c == std::string::npos ? 0 : size_t((int64_t(i) / cstride) % int64_t(n));
        p[i] = float((p[i] - mean[mean.size() == 1 ? 0 : k]) / stddev[stddev.size() == 1 ? 0 : k]);
    }
    dst = std::move(out);
}

void ScaleTo(const Image& src, Image& dst, double new_min, double new_max) {
    ECVL_CHECK(new_min < new_max, "ScaleTo: new_min " << new_min << " must be below new_max " << new_max);
    double lo = 1e300, hi = -1e300;
    for (const auto& v : channel_values(src, "ScaleTo"))
        for (double x : v) {
            lo = std::min(lo, x);
            hi = std::max(hi, x);
        }
    const double scale = hi > lo ? (new_max - new_min) / (hi - lo) : 0.0;
    Image f;
    ConvertTo(src, f, DataType::float64);
    double* p = reinterpret_cast<double*>(f.data_);
    for (size_t i = 0; i < f.Elements(); ++i) p[i] = new_min + (p[i] - lo) * scale;
    ConvertTo(f, dst, src.elemtype_);
}

std::vector<int64_t> CalcHist(const Image& src) {
    ECVL_CHECK(src.elemtype_ == DataType::uint8 && src.Channels() == 1,
               "CalcHist: needs a one-channel uint8 image, got " << DataTypeName(src.elemtype_) << " \"" << src.channels_ << "\"");
    std::vector<int64_t> h(256, 0);
    const auto values = channel_values(src, "CalcHist");  // kept alive: [0] of a temporary would dangle
    for (double x : values[0]) ++h[size_t(x)];
    return h;
}

void EqualizeHist(const Image& src, Image& dst) {
    ECVL_CHECK(src.elemtype_ == DataType::uint8 && src.Channels() == 1, "EqualizeHist: needs a one-channel uint8 image");
    const Layout l = layout_of(src, "EqualizeHist");
    per_plane("EqualizeHist", src, dst, width(src, l), height(src, l),
              [](const cv::Mat& in, cv::Mat& out) { cv::equalizeHist(in, out); });
}

void IntegralImage(const Image& src, Image& dst) {
    const Layout l = layout_of(src, "IntegralImage");
    ECVL_CHECK(planes(src, l) == 1 && (l == Layout::Planar || src.dims_[0] == 1), "IntegralImage: needs a one-channel image");
    const DataType t = src.elemtype_ == DataType::uint8 ? DataType::int32 : DataType::float64;
    Image out({width(src, l) + 1, height(src, l) + 1}, t, "xy", ColorType::none);
    cv::Mat o(height(src, l) + 1, width(src, l) + 1, CV_MAKETYPE(detail::cv_depth(t), 1), out.data_);
    try {
        cv::integral(mat(src, l, 0), o, detail::cv_depth(t));
    } catch (const cv::Exception& e) {
        ECVL_FAIL("IntegralImage: " << DataTypeName(src.elemtype_) << ": " << e.err);
    }
    ECVL_CHECK(o.data == out.data_, "IntegralImage: OpenCV reallocated the output");
    dst = std::move(out);
}

void GammaContrast(const Image& src, Image& dst, double gamma) {
    ECVL_CHECK(gamma > 0, "GammaContrast: gamma must be > 0, got " << gamma);
    const bool real = src.elemtype_ == DataType::float32 || src.elemtype_ == DataType::float64;
    double max = 1;
    switch (src.elemtype_) {
        case DataType::uint8: max = 255; break;
        case DataType::uint16: max = 65535; break;
        case DataType::int8: max = 127; break;
        case DataType::int16: max = 32767; break;
        case DataType::int32: max = 2147483647.0; break;
        default: break;
    }
    Image f;
    ConvertTo(src, f, DataType::float64);
    double* p = reinterpret_cast<double*>(f.data_);
    for (size_t i = 0; i < f.Elements(); ++i)
        p[i] = real ? std::pow(std::max(p[i], 0.0), gamma) : max * std::pow(std::max(p[i], 0.0) / max, gamma);
    ConvertTo(f, dst, src.elemtype_);
}

void Pad(const Image& src, Image& dst, const std::vector<int>& padding, double value) {
    ECVL_CHECK(padding.size() == 4, "Pad: padding needs {top, bottom, left, right}");
    for (int p : padding) ECVL_CHECK(p >= 0, "Pad: negative padding " << p);
    const Layout l = layout_of(src, "Pad");
    per_plane("Pad", src, dst, width(src, l) + padding[2] + padding[3], height(src, l) + padding[0] + padding[1],
              [&](const cv::Mat& in, cv::Mat& out) {
                  cv::copyMakeBorder(in, out, padding[0], padding[1], padding[2], padding[3], cv::BORDER_CONSTANT,
                                     cv::Scalar::all(value));
              });
    const size_t xa = l == Layout::Planar ? 0 : 1;
    dst.spacings_[xa] = src.spacings_[xa];  // a border does not change the pixel size
    dst.spacings_[xa + 1] = src.spacings_[xa + 1];
}

void Stack(const std::vector<Image>& src, Image& dst) {
    ECVL_CHECK(!src.empty(), "Stack: no images");
    const Image& f = src[0];
    ECVL_CHECK(f.channels_ == "xy" || f.channels_ == "xyc", "Stack: needs \"xy\" or \"xyc\" images, got \"" << f.channels_ << "\"");
    for (size_t i = 0; i < src.size(); ++i)
        ECVL_CHECK(src[i].dims_ == f.dims_ && src[i].channels_ == f.channels_ && src[i].elemtype_ == f.elemtype_,
                   "Stack: image " << i << " differs from image 0 in size, axes or type");
    const bool c = f.channels_ == "xyc";
    std::vector<int> dims{f.dims_[0], f.dims_[1], int(src.size())};
    if (c) dims.push_back(f.dims_[2]);
    std::vector<float> sp{f.spacings_[0], f.spacings_[1], 1.0f};
    if (c) sp.push_back(f.spacings_[2]);
    Image out(dims, f.elemtype_, c ? "xyzc" : "xyz", f.colortype_, sp, f.dev_, f.meta_);
    for (size_t z = 0; z < src.size(); ++z) {
        std::vector<int> start(dims.size(), 0), len(dims.size(), -1);
        start[2] = int(z);
        len[2] = 1;
        Image target = View(out, start, len);
        Image one = src[z].Clone();  // as a one-slice volume
        one.dims_.insert(one.dims_.begin() + 2, 1);
        one.strides_.insert(one.strides_.begin() + 2, one.strides_.size() > 2 ? one.strides_[2] : int64_t(one.datasize_));
        one.spacings_.insert(one.spacings_.begin() + 2, 1.0f);
        one.channels_ = c ? "xyzc" : "xyz";
        CopyImage(one, target);
    }
    dst = std::move(out);
}

}  // namespace ecvl
