// Image <-> Tensor. A planar contiguous float32 image has exactly a CHW tensor's memory layout
// ("xyc": x fastest, then y, then c), so that case is one copy; everything else converts element
// by element, walking the image's own strides (views and interleaved images need no Clone first).
#include <cstring>

#include "ecvl/support_eddl.h"

namespace ecvl {
namespace {

struct Axes {
    int x, y, c;  // index in dims_ of each axis; c = -1 when there is none
};

Axes tensor_axes(const Image& img, const char* who) {
    ECVL_CHECK(!img.IsEmpty(), who << ": the image is empty");
    const int n = int(img.dims_.size());
    Axes a{-1, -1, -1};
    for (int i = 0; i < n; ++i) {
        const char ch = img.channels_[size_t(i)];
        if (ch == 'x') a.x = i;
        else if (ch == 'y') a.y = i;
        else if (img.dims_[size_t(i)] > 1 || a.c < 0) {
            ECVL_CHECK(a.c < 0 || img.dims_[size_t(a.c)] == 1,
                       who << ": an image \"" << img.channels_ << "\" of size " << img.dims_[size_t(a.c)] << " x "
                           << img.dims_[size_t(i)] << " on two axes besides x and y does not fit {C, H, W}");
            a.c = i;
        }
    }
    ECVL_CHECK(a.x >= 0 && a.y >= 0, who << ": needs x and y axes, got \"" << img.channels_ << "\"");
    return a;
}

template <class T>
void to_chw(const Image& img, const Axes& a, float* dst) {
    const int W = img.dims_[size_t(a.x)], H = img.dims_[size_t(a.y)], C = a.c >= 0 ? img.dims_[size_t(a.c)] : 1;
    const int64_t sx = img.strides_[size_t(a.x)], sy = img.strides_[size_t(a.y)], sc = a.c >= 0 ? img.strides_[size_t(a.c)] : 0;
    for (int c = 0; c < C; ++c)
        for (int y = 0; y < H; ++y) {
            const uint8_t* row = img.data_ + c * sc + y * sy;
            float* d = dst + (int64_t(c) * H + y) * W;
            if (sx == int64_t(sizeof(T))) {
                const T* s = reinterpret_cast<const T*>(row);
                for (int x = 0; x < W; ++x) d[x] = float(s[x]);
            } else {
                for (int x = 0; x < W; ++x) {
                    T v;
                    std::memcpy(&v, row + x * sx, sizeof(T));
                    d[x] = float(v);
                }
            }
        }
}

void image_to_chw(const Image& img, const Axes& a, float* dst) {
    switch (img.elemtype_) {
        case DataType::uint8: to_chw<uint8_t>(img, a, dst); break;
        case DataType::int8: to_chw<int8_t>(img, a, dst); break;
        case DataType::uint16: to_chw<uint16_t>(img, a, dst); break;
        case DataType::int16: to_chw<int16_t>(img, a, dst); break;
        case DataType::int32: to_chw<int32_t>(img, a, dst); break;
        case DataType::int64: to_chw<int64_t>(img, a, dst); break;
        case DataType::float32: to_chw<float>(img, a, dst); break;
        case DataType::float64: to_chw<double>(img, a, dst); break;
        default: ECVL_FAIL("ImageToTensor: element type " << DataTypeName(img.elemtype_));
    }
}

std::vector<int> chw(const Image& img, const Axes& a) {
    return {a.c >= 0 ? img.dims_[size_t(a.c)] : 1, img.dims_[size_t(a.y)], img.dims_[size_t(a.x)]};
}

std::string shape_str(const std::vector<int>& s) {
    std::string out = "{";
    for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + "}";
}

}  // namespace

eddl::tensor ImageToTensor(const Image& img) {
    const Axes a = tensor_axes(img, "ImageToTensor");
    eddl::tensor t = eddl::Tensor::empty(chw(img, a));
    image_to_chw(img, a, t->data());
    return t;
}

void ImageToTensor(const Image& img, eddl::Tensor& t, int offset) {
    const Axes a = tensor_axes(img, "ImageToTensor");
    const std::vector<int> s = chw(img, a);
    const eddl::Shape& ts = t.getShape();
    ECVL_CHECK(ts.size() == 4 && ts[1] == s[0] && ts[2] == s[1] && ts[3] == s[2],
               "ImageToTensor: an image of {C, H, W} " << shape_str(s) << " does not fit a batch tensor " << shape_str(ts));
    ECVL_CHECK(offset >= 0 && offset < ts[0], "ImageToTensor: sample " << offset << " outside a batch of " << ts[0]);
    image_to_chw(img, a, t.data() + int64_t(offset) * s[0] * s[1] * s[2]);
}

void TensorToImage(const eddl::Tensor& t, Image& img, ColorType ct) {
    const eddl::Shape& s = t.getShape();
    ECVL_CHECK(s.size() >= 2 && s.size() <= 4, "TensorToImage: needs {H, W}, {C, H, W} or {N, C, H, W}, got " << shape_str(s));
    const int W = s.back(), H = s[s.size() - 2], C = s.size() >= 3 ? s[s.size() - 3] : 1, N = s.size() == 4 ? s[0] : 1;
    Image out;
    if (s.size() == 2) out = Image({W, H}, DataType::float32, "xy", ct);
    else if (N == 1) out = Image({W, H, C}, DataType::float32, "xyc", ct);
    else out = Image({W, H, C, N}, DataType::float32, "xyco", ct);
    std::memcpy(out.data_, t.data(), size_t(t.numel()) * sizeof(float));  // CHW is planar "xyc"
    img = std::move(out);
}

}  // namespace ecvl
