// Image processing through OpenCV on the image's own memory: planar images one plane at a time
// (each plane is a single-channel cv::Mat header over the image, rows at the image's stride),
// interleaved ones as one multi-channel Mat. No copies in or out.
#include "ecvl/imgproc.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <random>
#include <sstream>
#include <opencv2/imgproc.hpp>
#include <opencv2/photo.hpp>

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

using detail::cv_interp;

}  // namespace

namespace {
template <class T>
std::string list(const std::vector<T>& v) {
    std::ostringstream o;
    o << "{";
    for (size_t i = 0; i < v.size(); ++i) o << (i ? ", " : "") << v[i];
    o << "}";
    return o.str();
}

const char* interp_name(InterpolationType t) {
    static const char* n[] = {"nearest", "linear", "area", "cubic", "lanczos4"};
    return n[int(t)];
}

bool is_volume(const Image& img) { return img.channels_ == "xyz" || img.channels_ == "xyzc"; }

// OpenCV has no 3-D resize: each slice goes through cv::resize into a real type, then a native
// pass along z interpolates between the resized slices by cv::resize's own rules, and rounds once.
void resize_volume(const Image& src, Image& dst, int nw, int nh, int nd, InterpolationType interp) {
    const char* who = "ResizeDim";
    ECVL_CHECK(src.strides_[0] == int64_t(src.elemsize_), who << ": x must be contiguous (a view along x is strided; Clone() it)");
    const int w = src.dims_[0], h = src.dims_[1], d = src.dims_[2], nc = src.dims_.size() == 4 ? src.dims_[3] : 1;
    ECVL_CHECK(nd == d || interp == InterpolationType::nearest || interp == InterpolationType::linear,
               who << ": along z only nearest and linear interpolation exist, got " << interp_name(interp) << " (depth "
                   << d << " -> " << nd << ")");
    const bool wide = src.elemtype_ == DataType::int32 || src.elemtype_ == DataType::float64;  // float32 would round them
    std::vector<cv::Mat> slices(size_t(d) * size_t(nc));  // slice (z, c) at c * d + z
    try {
        const int depth = detail::cv_depth(src.elemtype_);
        for (int c = 0; c < nc; ++c)
            for (int z = 0; z < d; ++z) {
                const cv::Mat in(h, w, CV_MAKETYPE(depth, 1),
                                 src.data_ + z * src.strides_[2] + (src.dims_.size() == 4 ? c * src.strides_[3] : 0),
                                 size_t(src.strides_[1]));
                cv::Mat real;
                in.convertTo(real, wide ? CV_64F : CV_32F);
                cv::resize(real, slices[size_t(c) * size_t(d) + size_t(z)], cv::Size(nw, nh), 0, 0, cv_interp(interp));
            }
    } catch (const cv::Exception& e) {
        ECVL_FAIL(who << ": OpenCV cannot process " << DataTypeName(src.elemtype_) << " \"" << src.channels_
                      << "\" slices: " << e.err);
    }
    std::vector<int> dims{nw, nh, nd};
    std::vector<float> sp = src.spacings_;
    sp[0] *= float(w) / float(nw);
    sp[1] *= float(h) / float(nh);
    sp[2] *= float(d) / float(nd);
    if (src.dims_.size() == 4) dims.push_back(nc);
    Image out(dims, DataType::float64, src.channels_, src.colortype_, sp, src.dev_, src.meta_);
    double* o = reinterpret_cast<double*>(out.data_);
    const size_t plane = size_t(nw) * size_t(nh);
    const double scale = 1.0 / (double(nd) / d);  // as cv::resize computes its inverse scale
    auto along_z = [&](auto zero) {
        using T = decltype(zero);
        for (int z = 0; z < nd; ++z) {
            int z0 = 0;
            double f = 0;
            if (interp == InterpolationType::nearest) {
                z0 = std::min(int(std::floor(z * scale)), d - 1);
            } else if (nd == d) {
                z0 = z;
            } else {  // pixel centres; the edge slices are replicated
                const double at = (z + 0.5) * scale - 0.5;
                z0 = int(std::floor(at));
                f = at - z0;
                if (z0 < 0) z0 = 0, f = 0;
                if (z0 >= d - 1) z0 = d - 1, f = 0;
            }
            const int z1 = std::min(z0 + 1, d - 1);
            for (int c = 0; c < nc; ++c) {
                const T* a = slices[size_t(c) * size_t(d) + size_t(z0)].ptr<T>();
                const T* b = slices[size_t(c) * size_t(d) + size_t(z1)].ptr<T>();
                double* row = o + (size_t(c) * size_t(nd) + size_t(z)) * plane;
                if (f == 0) {
                    for (size_t i = 0; i < plane; ++i) row[i] = a[i];
                } else {
                    for (size_t i = 0; i < plane; ++i) row[i] = (1 - f) * a[i] + f * b[i];
                }
            }
        }
    };
    if (wide) along_z(double{});
    else along_z(float{});
    ConvertTo(out, dst, src.elemtype_);
}
}  // namespace

void ResizeDim(const Image& src, Image& dst, const std::vector<int>& new_dims, InterpolationType interp) {
    const bool volume = is_volume(src);
    ECVL_CHECK((new_dims.size() == 2 || (new_dims.size() == 3 && volume)) &&
                   std::all_of(new_dims.begin(), new_dims.end(), [](int n) { return n > 0; }),
               "ResizeDim: new_dims must be {width, height} > 0 (or {width, height, depth} for an \"xyz\" or \"xyzc\" "
               "volume), got " << list(new_dims) << " for \"" << src.channels_ << "\"");
    if (volume) {
        resize_volume(src, dst, new_dims[0], new_dims[1], new_dims.size() == 3 ? new_dims[2] : src.dims_[2], interp);
        return;
    }
    per_plane("ResizeDim", src, dst, new_dims[0], new_dims[1], [&](const cv::Mat& in, cv::Mat& out) {
        cv::resize(in, out, out.size(), 0, 0, cv_interp(interp));
    });
}

void ResizeScale(const Image& src, Image& dst, const std::vector<double>& scales, InterpolationType interp) {
    const bool volume = is_volume(src);
    ECVL_CHECK((scales.size() == 2 || (scales.size() == 3 && volume)) &&
                   std::all_of(scales.begin(), scales.end(), [](double s) { return s > 0; }),
               "ResizeScale: scales must be {sx, sy} > 0 (or {sx, sy, sz} for an \"xyz\" or \"xyzc\" volume), got "
                   << list(scales) << " for \"" << src.channels_ << "\"");
    auto scaled = [](int n, double s) { return std::max(1, int(std::lround(n * s))); };
    if (volume) {
        ResizeDim(src, dst,
                  {scaled(src.dims_[0], scales[0]), scaled(src.dims_[1], scales[1]),
                   scales.size() == 3 ? scaled(src.dims_[2], scales[2]) : src.dims_[2]},
                  interp);
        return;
    }
    const Layout l = layout_of(src, "ResizeScale");
    ResizeDim(src, dst, {scaled(width(src, l), scales[0]), scaled(height(src, l), scales[1])}, interp);
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

void RotateFullImage2D(const Image& src, Image& dst, double angle, double scale, InterpolationType interp) {
    ECVL_CHECK(std::isfinite(angle), "RotateFullImage2D: angle must be finite, got " << angle);
    ECVL_CHECK(scale > 0 && std::isfinite(scale), "RotateFullImage2D: scale must be > 0, got " << scale);
    const Layout l = layout_of(src, "RotateFullImage2D");
    const int w = width(src, l), h = height(src, l);
    cv::Mat m = cv::getRotationMatrix2D(cv::Point2f((w - 1) / 2.0f, (h - 1) / 2.0f), angle, scale);
    // the bounding box of the rotated image; the tolerance keeps cos(90) ~ 6e-17 from adding a pixel
    const double c = std::fabs(m.at<double>(0, 0)), s = std::fabs(m.at<double>(0, 1));
    const int nw = std::max(1, int(std::ceil(w * c + h * s - 1e-9))), nh = std::max(1, int(std::ceil(w * s + h * c - 1e-9)));
    m.at<double>(0, 2) += (nw - w) / 2.0;  // the old centre onto the new one
    m.at<double>(1, 2) += (nh - h) / 2.0;
    const size_t xa = l == Layout::Planar ? 0 : 1;
    const float sx = src.spacings_[xa], sy = src.spacings_[xa + 1];  // before dst, which may be src, changes
    per_plane("RotateFullImage2D", src, dst, nw, nh, [&](const cv::Mat& in, cv::Mat& out) {
        cv::warpAffine(in, out, m, cv::Size(nw, nh), cv_interp(interp), cv::BORDER_CONSTANT, cv::Scalar::all(0));
    }, true);
    dst.spacings_[xa] = float(sx / scale);
    dst.spacings_[xa + 1] = float(sy / scale);
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

namespace ecvl {

namespace {
void check_one_channel_uint8(const Image& src, const char* who) {
    const Layout l = layout_of(src, who);
    ECVL_CHECK(src.elemtype_ == DataType::uint8 && planes(src, l) == 1 && (l == Layout::Planar || src.dims_[0] == 1),
               who << ": needs a one-channel uint8 image, got " << DataTypeName(src.elemtype_) << " \"" << src.channels_ << "\"");
}
}  // namespace

void MultiThreshold(const Image& src, Image& dst, const std::vector<int>& thresholds, int minval, int maxval) {
    ECVL_CHECK(!src.IsEmpty(), "MultiThreshold: the image is empty");
    ECVL_CHECK(!thresholds.empty(), "MultiThreshold: no thresholds");
    for (size_t i = 1; i < thresholds.size(); ++i)
        ECVL_CHECK(thresholds[i - 1] < thresholds[i],
                   "MultiThreshold: thresholds must be strictly increasing, got " << list(thresholds));
    const size_t n = thresholds.size();
    const double step = double(maxval - minval) / double(n);
    Image f;
    ConvertTo(src, f, DataType::float64);
    double* p = reinterpret_cast<double*>(f.data_);
    for (size_t i = 0; i < f.Elements(); ++i) {
        const size_t k = size_t(std::lower_bound(thresholds.begin(), thresholds.end(), p[i],
                                                 [](int t, double v) { return t < v; }) -
                                thresholds.begin());
        p[i] = k == n ? maxval : minval + double(k) * step;
    }
    ConvertTo(f, dst, src.elemtype_);
}

std::vector<int> OtsuMultiThreshold(const Image& src, int n_thresholds) {
    const char* who = "OtsuMultiThreshold";
    ECVL_CHECK(n_thresholds >= 1 && n_thresholds <= 255, who << ": n_thresholds must be in 1..255, got " << n_thresholds);
    check_one_channel_uint8(src, who);
    const std::vector<int64_t> hist = CalcHist(src);
    // Liao's tables from prefix sums: a class of levels u..v has count P and level sum S, and adds
    // S^2 / P to the between-class variance (up to constants); integers, so equal classes tie exactly
    std::vector<int64_t> P(257, 0), S(257, 0);
    for (int i = 0; i < 256; ++i) {
        P[size_t(i) + 1] = P[size_t(i)] + hist[size_t(i)];
        S[size_t(i) + 1] = S[size_t(i)] + int64_t(i) * hist[size_t(i)];
    }
    auto term = [&](int u, int v) {
        const double p = double(P[size_t(v) + 1] - P[size_t(u)]), s = double(S[size_t(v) + 1] - S[size_t(u)]);
        return p > 0 ? s * s / p : 0.0;
    };
    // best[k][t]: the best k + 1 classes covering 0..t; from[k][t]: the last threshold there. The
    // sum is separable in the classes, so this is the exhaustive search's maximum, found in
    // O(n * 256^2) instead of O(256^n).
    const size_t n = size_t(n_thresholds);
    std::vector<std::vector<double>> best(n + 1, std::vector<double>(256, -1.0));
    std::vector<std::vector<int>> from(n + 1, std::vector<int>(256, -1));
    for (int t = 0; t < 256; ++t) best[0][size_t(t)] = term(0, t);
    for (size_t k = 1; k <= n; ++k)
        for (int t = int(k); t < 256; ++t)
            for (int s = int(k) - 1; s < t; ++s) {
                const double v = best[k - 1][size_t(s)] + term(s + 1, t);
                if (v > best[k][size_t(t)]) {  // strict: the smallest s among equals
                    best[k][size_t(t)] = v;
                    from[k][size_t(t)] = s;
                }
            }
    std::vector<int> thresholds(n);
    int t = 255;
    for (size_t k = n; k >= 1; --k) {
        t = from[k][size_t(t)];
        thresholds[k - 1] = t;
    }
    return thresholds;
}

namespace {
// Uniform doubles from the generator's top 53 bits, in [0, 1) or (0, 1) (for logarithms). Written
// out, as are the distributions below, because std's distributions differ between standard
// libraries: a seed then gives the same noise everywhere.
double uniform(std::mt19937_64& g) { return double(g() >> 11) * 0x1.0p-53; }
double uniform_open(std::mt19937_64& g) { return (double(g() >> 11) + 0.5) * 0x1.0p-53; }

// log(k!): exact sum below 16, Stirling's series above (error < 1e-13); std::lgamma writes the
// global signgam, a data race when loader threads add noise at once.
double log_factorial(int64_t k) {
    if (k < 16) {
        double r = 0;
        for (int64_t i = 2; i <= k; ++i) r += std::log(double(i));
        return r;
    }
    const double n = double(k) + 1, n2 = n * n;
    return (n - 0.5) * std::log(n) - n + 0.5 * std::log(2 * std::numbers::pi) + 1 / (12 * n) - 1 / (360 * n * n2) +
           1 / (1260 * n * n2 * n2);
}

// Poisson(lambda): inversion by sequential search for small lambda, Hörmann's transformed
// rejection with squeeze (PTRS, 1993) from 10 on, where the search would take ~lambda steps.
int64_t poisson(std::mt19937_64& g, double lambda) {
    if (lambda < 10) {
        const double u = uniform(g);
        double p = std::exp(-lambda), cdf = p;
        int64_t k = 0;
        while (u > cdf && p > 0) {
            ++k;
            p *= lambda / double(k);
            cdf += p;
        }
        return k;
    }
    const double slam = std::sqrt(lambda), loglam = std::log(lambda);
    const double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
    const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
        const double u = uniform(g) - 0.5, v = uniform_open(g), us = 0.5 - std::fabs(u);
        const double kd = std::floor((2 * a / us + b) * u + lambda + 0.43);
        if (us >= 0.07 && v <= vr) return int64_t(kd);
        if (kd < 0 || (us < 0.013 && v > us)) continue;
        const int64_t k = int64_t(kd);
        if (std::log(v) + std::log(inv_alpha) - std::log(a / (us * us) + b) <= -lambda + double(k) * loglam - log_factorial(k))
            return k;
    }
}

uint64_t random_seed() {
    std::random_device rd;
    return (uint64_t(rd()) << 32) ^ uint64_t(rd());
}

// The largest value of the type, the colour of salt (1 for reals, whose range is [0, 1] here).
double type_max(DataType t) {
    switch (t) {
        case DataType::uint8: return 255;
        case DataType::uint16: return 65535;
        case DataType::int8: return 127;
        case DataType::int16: return 32767;
        case DataType::int32: return 2147483647.0;
        case DataType::int64: return 9223372036854775807.0;
        default: return 1;
    }
}

// dst = src with f applied to its values as doubles, handed over in a fixed order (all of channel
// 0 pixel by pixel, the other axes in src's order, then channel 1 ...) so the draws of one seed land
// on the same pixels in a planar and an interleaved image; saturated back to src's type.
template <class F>
void with_noise(const char* who, const Image& src, Image& dst, uint64_t seed, F f) {
    ECVL_CHECK(!src.IsEmpty(), who << ": the image is empty");
    Image d;
    ConvertTo(src, d, DataType::float64);
    double* p = reinterpret_cast<double*>(d.data_);
    const size_t n = d.Elements(), ci = d.channels_.find('c');
    size_t inner = n, nc = 1;  // elements before the c axis, and its size
    if (ci != std::string::npos) {
        inner = 1;
        for (size_t a = 0; a < ci; ++a) inner *= size_t(d.dims_[a]);
        nc = size_t(d.dims_[ci]);
    }
    const size_t pixels = n / nc;
    auto fixed = [&](size_t i) {
        const size_t rest = i / inner;
        return i % inner + inner * (rest / nc) + pixels * (rest % nc);
    };
    std::vector<double> v(n);
    for (size_t i = 0; i < n; ++i) v[fixed(i)] = p[i];
    std::mt19937_64 g(seed);
    f(v, pixels, nc, g);
    for (size_t i = 0; i < n; ++i) p[i] = v[fixed(i)];
    ConvertTo(d, dst, src.elemtype_);
}

void salt_pepper(const char* who, const Image& src, Image& dst, double p, bool per_channel, uint64_t seed,
                 double salt_share) {
    ECVL_CHECK(p >= 0 && p <= 1, who << ": p must be in [0, 1], got " << p);
    const double salt = type_max(src.elemtype_);
    with_noise(who, src, dst, seed, [&](std::vector<double>& v, size_t pixels, size_t nc, std::mt19937_64& g) {
        const size_t draws = per_channel ? v.size() : pixels;
        for (size_t i = 0; i < draws; ++i) {
            const double u = uniform(g);  // one draw decides both whether and which
            if (u >= p) continue;
            const double value = u < p * salt_share ? salt : 0.0;
            if (per_channel) {
                v[i] = value;
            } else {
                for (size_t c = 0; c < nc; ++c) v[i + pixels * c] = value;
            }
        }
    });
}
}  // namespace

void AdditiveLaplaceNoise(const Image& src, Image& dst, double std_dev, uint64_t seed) {
    ECVL_CHECK(std_dev >= 0 && std::isfinite(std_dev), "AdditiveLaplaceNoise: std_dev must be >= 0, got " << std_dev);
    const double b = std_dev / std::sqrt(2.0);
    with_noise("AdditiveLaplaceNoise", src, dst, seed, [&](std::vector<double>& v, size_t, size_t, std::mt19937_64& g) {
        for (double& x : v) {  // inverse CDF
            const double u = uniform_open(g) - 0.5;
            x -= b * (u < 0 ? -1 : 1) * std::log(1 - 2 * std::fabs(u));
        }
    });
}
void AdditiveLaplaceNoise(const Image& src, Image& dst, double std_dev) {
    AdditiveLaplaceNoise(src, dst, std_dev, random_seed());
}

void AdditivePoissonNoise(const Image& src, Image& dst, double lambda, uint64_t seed) {
    ECVL_CHECK(lambda >= 0 && lambda < 1e9, "AdditivePoissonNoise: lambda must be in [0, 1e9), got " << lambda);
    with_noise("AdditivePoissonNoise", src, dst, seed, [&](std::vector<double>& v, size_t, size_t, std::mt19937_64& g) {
        for (double& x : v) x += double(poisson(g, lambda));
    });
}
void AdditivePoissonNoise(const Image& src, Image& dst, double lambda) {
    AdditivePoissonNoise(src, dst, lambda, random_seed());
}

void AdditiveGaussianNoise(const Image& src, Image& dst, double std_dev, uint64_t seed) {
    ECVL_CHECK(std_dev >= 0 && std::isfinite(std_dev), "AdditiveGaussianNoise: std_dev must be >= 0, got " << std_dev);
    with_noise("AdditiveGaussianNoise", src, dst, seed, [&](std::vector<double>& v, size_t, size_t, std::mt19937_64& g) {
        for (size_t i = 0; i < v.size(); i += 2) {  // Box-Muller: two normals per two uniforms
            const double r = std_dev * std::sqrt(-2 * std::log(uniform_open(g))), a = 2 * std::numbers::pi * uniform(g);
            v[i] += r * std::cos(a);
            if (i + 1 < v.size()) v[i + 1] += r * std::sin(a);
        }
    });
}
void AdditiveGaussianNoise(const Image& src, Image& dst, double std_dev) {
    AdditiveGaussianNoise(src, dst, std_dev, random_seed());
}

void Salt(const Image& src, Image& dst, double p, bool per_channel, uint64_t seed) {
    salt_pepper("Salt", src, dst, p, per_channel, seed, 1.0);
}
void Salt(const Image& src, Image& dst, double p, bool per_channel) { Salt(src, dst, p, per_channel, random_seed()); }
void Pepper(const Image& src, Image& dst, double p, bool per_channel, uint64_t seed) {
    salt_pepper("Pepper", src, dst, p, per_channel, seed, 0.0);
}
void Pepper(const Image& src, Image& dst, double p, bool per_channel) { Pepper(src, dst, p, per_channel, random_seed()); }
void SaltAndPepper(const Image& src, Image& dst, double p, bool per_channel, uint64_t seed) {
    salt_pepper("SaltAndPepper", src, dst, p, per_channel, seed, 0.5);
}
void SaltAndPepper(const Image& src, Image& dst, double p, bool per_channel) {
    SaltAndPepper(src, dst, p, per_channel, random_seed());
}

void CoarseDropout(const Image& src, Image& dst, double p, double drop_size, bool per_channel, uint64_t seed) {
    const char* who = "CoarseDropout";
    ECVL_CHECK(p >= 0 && p <= 1, who << ": p must be in [0, 1], got " << p);
    ECVL_CHECK(drop_size > 0 && drop_size <= 1, who << ": drop_size must be in (0, 1], got " << drop_size);
    std::string axes = src.channels_;
    std::erase(axes, 'c');
    ECVL_CHECK(axes.starts_with("xy"), who << ": needs x and y as the first axes besides c, got \"" << src.channels_ << "\"");
    const size_t w = size_t(src.dims_[src.channels_.find('x')]), h = size_t(src.dims_[src.channels_.find('y')]);
    const size_t cw = size_t(std::ceil(double(w) * drop_size)), ch = size_t(std::ceil(double(h) * drop_size));
    const size_t cells_x = (w + cw - 1) / cw, cells_y = (h + ch - 1) / ch;
    with_noise(who, src, dst, seed, [&](std::vector<double>& v, size_t pixels, size_t nc, std::mt19937_64& g) {
        const size_t slices = pixels / (w * h);  // z and other axes: drawn apart
        std::vector<char> drop(cells_x * cells_y);
        for (size_t c0 = 0; c0 < (per_channel ? nc : 1); ++c0)
            for (size_t z = 0; z < slices; ++z) {
                for (char& d : drop) d = uniform(g) < p;
                for (size_t y = 0; y < h; ++y)
                    for (size_t x = 0; x < w; ++x) {
                        if (!drop[(y / ch) * cells_x + x / cw]) continue;
                        const size_t at = x + w * (y + h * z);
                        if (per_channel) {
                            v[at + pixels * c0] = 0;
                        } else {
                            for (size_t c = 0; c < nc; ++c) v[at + pixels * c] = 0;
                        }
                    }
            }
    });
}
void CoarseDropout(const Image& src, Image& dst, double p, double drop_size, bool per_channel) {
    CoarseDropout(src, dst, p, drop_size, per_channel, random_seed());
}

void Brightness(const Image& src, Image& dst, double beta) {
    ECVL_CHECK(!src.IsEmpty(), "Brightness: the image is empty");
    ECVL_CHECK(std::isfinite(beta), "Brightness: beta must be finite, got " << beta);
    Add(src, beta, dst);
}

void Contrast(const Image& src, Image& dst, double alpha) {
    ECVL_CHECK(!src.IsEmpty(), "Contrast: the image is empty");
    ECVL_CHECK(alpha >= 0 && std::isfinite(alpha), "Contrast: alpha must be >= 0, got " << alpha);
    double mid = 0;
    switch (src.elemtype_) {
        case DataType::uint8: mid = 127.5; break;
        case DataType::uint16: mid = 32767.5; break;
        case DataType::float32:
        case DataType::float64: mid = 0.5; break;
        default: break;  // signed integers: 0
    }
    Image f;
    ConvertTo(src, f, DataType::float64);
    double* p = reinterpret_cast<double*>(f.data_);
    for (size_t i = 0; i < f.Elements(); ++i) p[i] = mid + alpha * (p[i] - mid);
    ConvertTo(f, dst, src.elemtype_);
}

void Inpaint(const Image& src, Image& dst, const Image& mask, double radius, InpaintType type) {
    const char* who = "Inpaint";
    ECVL_CHECK(radius > 0 && std::isfinite(radius), who << ": radius must be > 0, got " << radius);
    const Layout l = layout_of(src, who), lm = layout_of(mask, "Inpaint (mask)");
    const int w = width(src, l), h = height(src, l);
    ECVL_CHECK(width(mask, lm) == w && height(mask, lm) == h,
               who << ": the mask is " << width(mask, lm) << "x" << height(mask, lm) << ", the image " << w << "x" << h);
    ECVL_CHECK(planes(mask, lm) == 1 && (lm == Layout::Planar || mask.dims_[0] == 1),
               who << ": the mask needs one channel, got \"" << mask.channels_ << "\"");
    // a planar uint8 colour image is inpainted as OpenCV's 3-channel one; else plane by plane
    const bool merge = l == Layout::Planar && planes(src, l) == 3 && src.elemtype_ == DataType::uint8;
    const int cn = merge ? 3 : l == Layout::Planar ? 1 : src.dims_[0];
    ECVL_CHECK((src.elemtype_ == DataType::uint8 && (cn == 1 || cn == 3)) ||
                   ((src.elemtype_ == DataType::uint16 || src.elemtype_ == DataType::float32) && cn == 1),
               who << ": " << DataTypeName(src.elemtype_) << " \"" << src.channels_ << "\" with " << cn
                   << " channels per pixel (OpenCV takes uint8 with 1 or 3, uint16 or float32 with 1)");
    cv::Mat m;
    try {
        m = mat(mask, lm, 0) != 0;
    } catch (const cv::Exception& e) {
        ECVL_FAIL(who << ": OpenCV cannot read a " << DataTypeName(mask.elemtype_) << " mask: " << e.err);
    }
    const int flag = type == InpaintType::INPAINT_NS ? cv::INPAINT_NS : cv::INPAINT_TELEA;
    per_plane(who, src, dst, w, h, [&](const cv::Mat& in, cv::Mat& out) { cv::inpaint(in, m, out, radius, flag); }, merge);
}

namespace {
// sum of (x - cx)^p (y - cy)^q I(x, y) for p + q <= order; each row is first reduced to its sums
// of (x - cx)^p I, so the cost is O(pixels * order + rows * order^2).
std::vector<double> moments_about(const std::vector<double>& v, int w, int h, double cx, double cy, int order) {
    const size_t n = size_t(order) + 1;
    std::vector<double> m(n * n, 0.0), row(n), xp(size_t(w) * n);
    for (int x = 0; x < w; ++x) {
        double t = 1;
        for (size_t p = 0; p < n; ++p, t *= x - cx) xp[size_t(x) * n + p] = t;
    }
    for (int y = 0; y < h; ++y) {
        std::fill(row.begin(), row.end(), 0.0);
        const double* r = v.data() + size_t(y) * size_t(w);
        for (int x = 0; x < w; ++x) {
            if (r[x] == 0) continue;
            for (size_t p = 0; p < n; ++p) row[p] += r[x] * xp[size_t(x) * n + p];
        }
        double yq = 1;
        for (size_t q = 0; q < n; ++q, yq *= y - cy)
            for (size_t p = 0; p + q < n; ++p) m[p * n + q] += row[p] * yq;
    }
    return m;
}

std::vector<double> one_channel_2d(const Image& src, const char* who, int order, int& w, int& h) {
    ECVL_CHECK(order >= 0 && order <= 32, who << ": order must be in 0..32, got " << order);
    const Layout l = layout_of(src, who);
    ECVL_CHECK(planes(src, l) == 1 && (l == Layout::Planar || src.dims_[0] == 1),
               who << ": needs a one-channel image, got \"" << src.channels_ << "\" with " << src.Channels() << " channels");
    w = width(src, l);
    h = height(src, l);
    auto values = channel_values(src, who);  // x fastest, then y, in every one-channel layout
    return std::move(values[0]);
}
}  // namespace

void Moments(const Image& src, std::vector<double>& moments, int order) {
    int w = 0, h = 0;
    const std::vector<double> v = one_channel_2d(src, "Moments", order, w, h);
    moments = moments_about(v, w, h, 0, 0, order);
}

void CentralMoments(const Image& src, std::vector<double>& moments, const std::vector<double>& center, int order) {
    ECVL_CHECK(center.empty() || center.size() == 2, "CentralMoments: center must be {x, y} or empty, got "
                                                         << center.size() << " values");
    int w = 0, h = 0;
    const std::vector<double> v = one_channel_2d(src, "CentralMoments", order, w, h);
    double cx = 0, cy = 0;
    if (center.empty()) {
        const std::vector<double> raw = moments_about(v, w, h, 0, 0, 1);
        ECVL_CHECK(raw[0] != 0, "CentralMoments: the image sums to 0, so it has no centroid; give a center");
        cx = raw[2] / raw[0];  // m10 at p * 2 + q
        cy = raw[1] / raw[0];
    } else {
        cx = center[0];
        cy = center[1];
    }
    moments = moments_about(v, w, h, cx, cy, order);
}

}  // namespace ecvl
