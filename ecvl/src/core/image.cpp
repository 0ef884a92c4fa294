// The Image type: allocation, copies, views, element access and type conversion.
#include "ecvl/image.h"

#include "core/visit.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <numeric>

namespace ecvl {

namespace detail {
void throw_error(const char* file, int line, const char* cond, const std::string& msg) {
    std::ostringstream os;
    os << msg;
    if (cond) os << " [check '" << cond << "' failed]";
    const char* base = file;
    for (const char* p = file; *p; ++p)
        if (*p == '/') base = p + 1;
    os << " (" << base << ":" << line << ")";
    throw Error(os.str());
}
}  // namespace detail

namespace {

using detail::visit;

template <class T>
T convert(double v, bool saturate) {
    if constexpr (std::is_floating_point_v<T>) {
        return static_cast<T>(v);
    } else if (saturate) {
        if (std::isnan(v)) return 0;
        const double r = std::nearbyint(v);
        if (r <= double(std::numeric_limits<T>::min())) return std::numeric_limits<T>::min();
        if (r >= double(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
        return static_cast<T>(r);
    } else {
        // truncation toward zero, then wrap modulo the width (defined for every input)
        if (std::isnan(v) || std::fabs(v) >= 9.2e18) return 0;
        return static_cast<T>(static_cast<uint64_t>(static_cast<int64_t>(v)));
    }
}

// Visits every element's byte offset in axis-0-fastest order.
template <class F>
void for_each_offset(const std::vector<int>& dims, const std::vector<int64_t>& strides, F f) {
    if (dims.empty()) return;
    std::vector<int> idx(dims.size(), 0);
    int64_t off = 0;
    const size_t n = std::accumulate(dims.begin(), dims.end(), size_t(1), [](size_t a, int d) { return a * size_t(d); });
    for (size_t i = 0; i < n; ++i) {
        f(off);
        for (size_t a = 0; a < dims.size(); ++a) {  // odometer
            off += strides[a];
            if (++idx[a] < dims[a]) break;
            off -= strides[a] * dims[a];
            idx[a] = 0;
        }
    }
}

template <class T>
void strided_run(const uint8_t* s, int64_t ss, uint8_t* d, int64_t ds, int n) {
    for (int i = 0; i < n; ++i) std::memcpy(d + i * ds, s + i * ss, sizeof(T));
}

// dst (dense, dims) = src read through sstr (byte strides of the source along each of dst's axes).
// The inner loop runs along a long axis (axis 0, or 1 when axis 0 is short, as the c of "cxy"),
// with the element size known at compile time, so permutations run at memory speed.
void permute_copy(const uint8_t* src, const std::vector<int64_t>& sstr, uint8_t* dst, const std::vector<int>& dims,
                  size_t es) {
    if (dims.empty()) return;
    std::vector<int64_t> dstr(dims.size());
    int64_t acc = int64_t(es);
    for (size_t a = 0; a < dims.size(); ++a) {
        dstr[a] = acc;
        acc *= dims[a];
    }
    const size_t inner = dims.size() > 1 && dims[0] < 16 && dims[1] > dims[0] ? 1 : 0;
    const int n = dims[inner];
    std::vector<int> idx(dims.size(), 0);
    size_t rows = 1;
    for (size_t a = 0; a < dims.size(); ++a)
        if (a != inner) rows *= size_t(dims[a]);
    int64_t so = 0, dof = 0;
    for (size_t r = 0; r < rows; ++r) {
        switch (es) {
            case 1: strided_run<uint8_t>(src + so, sstr[inner], dst + dof, dstr[inner], n); break;
            case 2: strided_run<uint16_t>(src + so, sstr[inner], dst + dof, dstr[inner], n); break;
            case 4: strided_run<uint32_t>(src + so, sstr[inner], dst + dof, dstr[inner], n); break;
            default: strided_run<uint64_t>(src + so, sstr[inner], dst + dof, dstr[inner], n); break;
        }
        for (size_t a = 0; a < dims.size(); ++a) {  // odometer over the other axes
            if (a == inner) continue;
            so += sstr[a];
            dof += dstr[a];
            if (++idx[a] < dims[a]) break;
            so -= sstr[a] * dims[a];
            dof -= dstr[a] * dims[a];
            idx[a] = 0;
        }
    }
}

std::vector<int64_t> dense_strides(const std::vector<int>& dims, size_t elemsize) {
    std::vector<int64_t> s(dims.size());
    int64_t acc = int64_t(elemsize);
    for (size_t a = 0; a < dims.size(); ++a) {
        s[a] = acc;
        acc *= dims[a];
    }
    return s;
}

std::string dims_str(const std::vector<int>& d) {
    std::string s = "{";
    for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
    return s + "}";
}

std::shared_ptr<void> allocate(size_t bytes) {
    // 64-byte aligned and zero-filled; at least one byte, so an image is never null
    const size_t n = (std::max<size_t>(bytes, 1) + 63) / 64 * 64;
    auto* p = static_cast<uint8_t*>(std::aligned_alloc(64, n));
    ECVL_CHECK(p, "cannot allocate " << bytes << " bytes for an image");
    std::memset(p, 0, n);
    return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
}

}  // namespace

size_t DataTypeSize(DataType t) {
    if (t == DataType::none) return 0;
    return visit(t, [](auto v) { return sizeof(v); });
}

const char* DataTypeName(DataType t) {
    static const char* names[] = {"int8", "int16", "int32", "int64", "float32", "float64", "uint8", "uint16", "none"};
    return names[int(t)];
}

const char* ColorTypeName(ColorType t) {
    static const char* names[] = {"none", "GRAY", "RGB", "RGBA", "BGR", "HSV", "YCbCr"};
    return names[int(t)];
}

int ColorTypeChannels(ColorType t) {
    switch (t) {
        case ColorType::none: return 0;
        case ColorType::GRAY: return 1;
        case ColorType::RGBA: return 4;
        default: return 3;
    }
}

Image::Image(const std::vector<int>& dims, DataType elemtype, const std::string& channels, ColorType colortype,
             const std::vector<float>& spacings, Device dev, const std::map<std::string, MetaData>& meta)
    : elemtype_(elemtype), dims_(dims), channels_(channels), colortype_(colortype), meta_(meta), dev_(dev) {
    ECVL_CHECK(elemtype != DataType::none, "Image: element type none");
    ECVL_CHECK(!dims.empty(), "Image: no dimensions");
    ECVL_CHECK(dims.size() == channels.size(), "Image: " << dims.size() << " dimensions " << dims_str(dims)
                                                         << " but channel string \"" << channels << "\" names "
                                                         << channels.size() << " axes");
    for (int d : dims) ECVL_CHECK(d > 0, "Image: dimensions must be positive, got " << dims_str(dims));
    for (char c : channels)
        ECVL_CHECK(std::string("xyzcto").find(c) != std::string::npos,
                   "Image: unknown axis '" << c << "' in \"" << channels << "\" (use x, y, z, c, t, o)");
    for (char c : std::string("xyzct"))
        ECVL_CHECK(std::count(channels.begin(), channels.end(), c) <= 1,
                   "Image: axis '" << c << "' appears twice in \"" << channels << "\"");
    if (colortype != ColorType::none) {
        const size_t c = channels.find('c');
        ECVL_CHECK(c != std::string::npos,
                   "Image: colour type " << ColorTypeName(colortype) << " needs a 'c' axis, channels are \"" << channels << "\"");
        ECVL_CHECK(dims[c] == ColorTypeChannels(colortype), "Image: colour type " << ColorTypeName(colortype) << " has "
                                                                                   << ColorTypeChannels(colortype)
                                                                                   << " channels, the c axis has " << dims[c]);
    }
    ECVL_CHECK(dev != Device::GPU, "Image: this build of ECVL has no GPU support");
    ECVL_CHECK(spacings.empty() || spacings.size() == dims.size(),
               "Image: " << spacings.size() << " spacings for " << dims.size() << " dimensions");
    spacings_ = spacings.empty() ? std::vector<float>(dims.size(), 1.0f) : spacings;
    elemsize_ = uint8_t(DataTypeSize(elemtype));
    strides_ = dense_strides(dims, elemsize_);
    datasize_ = Elements() * elemsize_;
    storage_ = allocate(datasize_);
    data_ = static_cast<uint8_t*>(storage_.get());
    contiguous_ = true;
}

Image Image::Wrap(const std::vector<int>& dims, DataType elemtype, const std::string& channels, ColorType colortype,
                  uint8_t* data, std::shared_ptr<void> owner) {
    ECVL_CHECK(data, "Image::Wrap: null data");
    Image img(std::vector<int>(dims.size(), 1), elemtype, channels, ColorType::none);  // validates the axes
    img.dims_ = dims;
    for (int d : dims) ECVL_CHECK(d > 0, "Image::Wrap: dimensions must be positive, got " << dims_str(dims));
    img.colortype_ = colortype;
    if (colortype != ColorType::none) {
        const size_t c = channels.find('c');
        ECVL_CHECK(c != std::string::npos && dims[c] == ColorTypeChannels(colortype),
                   "Image::Wrap: colour type " << ColorTypeName(colortype) << " does not fit dimensions " << dims_str(dims)
                                               << " \"" << channels << "\"");
    }
    img.strides_ = dense_strides(dims, img.elemsize_);
    img.datasize_ = img.Elements() * img.elemsize_;
    img.storage_ = std::move(owner);
    img.data_ = data;
    return img;
}

Image::Image(const Image& o)
    : elemtype_(o.elemtype_), elemsize_(o.elemsize_), dims_(o.dims_), channels_(o.channels_),
      colortype_(o.colortype_), spacings_(o.spacings_), meta_(o.meta_), dev_(o.dev_) {
    if (o.IsEmpty()) return;
    strides_ = dense_strides(dims_, elemsize_);
    datasize_ = Elements() * elemsize_;
    storage_ = allocate(datasize_);
    data_ = static_cast<uint8_t*>(storage_.get());
    if (o.contiguous_) std::memcpy(data_, o.data_, datasize_);
    else permute_copy(o.data_, o.strides_, data_, dims_, elemsize_);
}

Image& Image::operator=(const Image& o) {
    if (this != &o) *this = Image(o);
    return *this;
}

Image::Image(Image&& o) noexcept { *this = std::move(o); }

Image& Image::operator=(Image&& o) noexcept {
    if (this == &o) return *this;
    elemtype_ = o.elemtype_;
    elemsize_ = o.elemsize_;
    dims_ = std::move(o.dims_);
    strides_ = std::move(o.strides_);
    channels_ = std::move(o.channels_);
    colortype_ = o.colortype_;
    spacings_ = std::move(o.spacings_);
    data_ = o.data_;
    datasize_ = o.datasize_;
    contiguous_ = o.contiguous_;
    meta_ = std::move(o.meta_);
    dev_ = o.dev_;
    storage_ = std::move(o.storage_);
    view_ = o.view_;
    // leave the source empty, not half-moved
    o.elemtype_ = DataType::none;
    o.elemsize_ = 0;
    o.dims_.clear();
    o.strides_.clear();
    o.channels_.clear();
    o.colortype_ = ColorType::none;
    o.spacings_.clear();
    o.data_ = nullptr;
    o.datasize_ = 0;
    o.contiguous_ = true;
    o.meta_.clear();
    o.dev_ = Device::NONE;
    o.view_ = false;
    return *this;
}

size_t Image::Elements() const {
    if (dims_.empty()) return 0;
    return std::accumulate(dims_.begin(), dims_.end(), size_t(1), [](size_t a, int d) { return a * size_t(d); });
}

namespace {
int axis_size(const Image& img, char a, const char* what) {
    const size_t i = img.channels_.find(a);
    ECVL_CHECK(i != std::string::npos, what << ": the image has no '" << a << "' axis (channels \"" << img.channels_ << "\")");
    return img.dims_[i];
}
}  // namespace

int Image::Width() const { return axis_size(*this, 'x', "Width"); }
int Image::Height() const { return axis_size(*this, 'y', "Height"); }
int Image::Channels() const {
    for (char a : std::string("czo")) {
        const size_t i = channels_.find(a);
        if (i != std::string::npos) return dims_[i];
    }
    return 1;
}

const uint8_t* Image::Ptr(const std::vector<int>& coords) const {
    ECVL_CHECK(!IsEmpty(), "Ptr: the image is empty");
    ECVL_CHECK(coords.size() == dims_.size(),
               "Ptr: " << coords.size() << " coordinates for " << dims_.size() << " dimensions \"" << channels_ << "\"");
    int64_t off = 0;
    for (size_t a = 0; a < coords.size(); ++a) {
        ECVL_CHECK(coords[a] >= 0 && coords[a] < dims_[a],
                   "Ptr: coordinates " << dims_str(coords) << " outside the image " << dims_str(dims_));
        off += coords[a] * strides_[a];
    }
    return data_ + off;
}

uint8_t* Image::Ptr(const std::vector<int>& coords) {
    return const_cast<uint8_t*>(static_cast<const Image*>(this)->Ptr(coords));
}

void Image::check_type(DataType t) const {
    ECVL_CHECK(t == elemtype_, "the image holds " << DataTypeName(elemtype_) << ", not " << DataTypeName(t));
}

double Image::Get(const std::vector<int>& coords) const {
    const uint8_t* p = Ptr(coords);
    return visit(elemtype_, [&](auto v) {
        using T = decltype(v);
        return double(*reinterpret_cast<const T*>(p));
    });
}

void Image::SetTo(double value) {
    ECVL_CHECK(!IsEmpty(), "SetTo: the image is empty");
    visit(elemtype_, [&](auto v) {
        using T = decltype(v);
        const T x = convert<T>(value, true);
        for_each_offset(dims_, strides_, [&](int64_t off) { *reinterpret_cast<T*>(data_ + off) = x; });
    });
}

void Image::ConvertTo(DataType dtype, bool saturate) {
    Image out;
    ecvl::ConvertTo(*this, out, dtype, saturate);
    if (!view_) {
        *this = std::move(out);
        return;
    }
    ECVL_CHECK(dtype == elemtype_, "ConvertTo: a view cannot change its element type (it shares "
                                       << DataTypeName(elemtype_) << " memory); convert a copy (Clone) instead");
}

const MetaData& Image::GetMeta(const std::string& key) const {
    auto it = meta_.find(key);
    if (it == meta_.end()) {
        std::string keys;
        for (const auto& kv : meta_) keys += (keys.empty() ? "" : ", ") + kv.first;
        ECVL_FAIL("GetMeta: no metadata '" << key << "' (the image has: " << (keys.empty() ? "none" : keys) << ")");
    }
    return it->second;
}

Image View(const Image& img, const std::vector<int>& start, const std::vector<int>& size) {
    ECVL_CHECK(!img.IsEmpty(), "View: the image is empty");
    ECVL_CHECK(start.size() == img.dims_.size() && size.size() == img.dims_.size(),
               "View: start and size need " << img.dims_.size() << " values (channels \"" << img.channels_ << "\")");
    Image v;
    v.elemtype_ = img.elemtype_;
    v.elemsize_ = img.elemsize_;
    v.channels_ = img.channels_;
    v.colortype_ = img.colortype_;
    v.spacings_ = img.spacings_;
    v.meta_ = img.meta_;
    v.dev_ = img.dev_;
    v.strides_ = img.strides_;
    v.storage_ = img.storage_;
    v.view_ = true;
    v.dims_.resize(img.dims_.size());
    int64_t off = 0;
    for (size_t a = 0; a < img.dims_.size(); ++a) {
        const int len = size[a] < 0 ? img.dims_[a] - start[a] : size[a];
        ECVL_CHECK(start[a] >= 0 && len >= 1 && start[a] + len <= img.dims_[a],
                   "View: box from " << dims_str(start) << " of size " << dims_str(size) << " does not fit "
                                     << dims_str(img.dims_) << " (axis '" << img.channels_[a] << "')");
        v.dims_[a] = len;
        off += start[a] * img.strides_[a];
    }
    v.data_ = img.data_ + off;
    v.contiguous_ = v.strides_ == dense_strides(v.dims_, v.elemsize_);
    v.datasize_ = v.Elements() * v.elemsize_;
    const size_t c = img.channels_.find('c');
    if (c != std::string::npos && v.dims_[c] != img.dims_[c])
        v.colortype_ = v.dims_[c] == 1 ? ColorType::GRAY : ColorType::none;
    return v;
}

void ConvertTo(const Image& src, Image& dst, DataType dtype, bool saturate) {
    ECVL_CHECK(!src.IsEmpty(), "ConvertTo: the source image is empty");
    ECVL_CHECK(dtype != DataType::none, "ConvertTo: target type none");
    if (dtype == src.elemtype_) {  // exact, whatever the type (int64 does not survive a double)
        dst = Image(src);
        return;
    }
    Image out(src.dims_, dtype, src.channels_, src.colortype_, src.spacings_, src.dev_, src.meta_);
    visit(src.elemtype_, [&](auto s) {
        using S = decltype(s);
        visit(dtype, [&](auto d) {
            using D = decltype(d);
            D* o = reinterpret_cast<D*>(out.data_);
            for_each_offset(src.dims_, src.strides_, [&](int64_t off) {
                const double v = double(*reinterpret_cast<const S*>(src.data_ + off));
                *o++ = convert<D>(v, saturate);
            });
        });
    });
    dst = std::move(out);
}

void RearrangeChannels(const Image& src, Image& dst, const std::string& channels) {
    ECVL_CHECK(!src.IsEmpty(), "RearrangeChannels: the source image is empty");
    std::string a = src.channels_, b = channels;
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    ECVL_CHECK(a == b, "RearrangeChannels: \"" << channels << "\" is not a reordering of \"" << src.channels_ << "\"");
    std::vector<int> dims(channels.size()), from(channels.size());
    std::vector<float> spacings(channels.size());
    for (size_t i = 0; i < channels.size(); ++i) {
        from[i] = int(src.channels_.find(channels[i]));
        dims[i] = src.dims_[size_t(from[i])];
        spacings[i] = src.spacings_[size_t(from[i])];
    }
    Image out(dims, src.elemtype_, channels, src.colortype_, spacings, src.dev_, src.meta_);
    // write the output densely; read the source through its strides, permuted
    std::vector<int64_t> strides(channels.size());
    for (size_t i = 0; i < channels.size(); ++i) strides[i] = src.strides_[size_t(from[i])];
    permute_copy(src.data_, strides, out.data_, dims, src.elemsize_);
    dst = std::move(out);
}

void CopyImage(const Image& src, Image& dst) {
    ECVL_CHECK(!src.IsEmpty(), "CopyImage: the source image is empty");
    if (dst.IsOwner()) {
        dst = src;
        return;
    }
    ECVL_CHECK(dst.dims_ == src.dims_, "CopyImage: source " << dims_str(src.dims_) << " into a view of "
                                                            << dims_str(dst.dims_) << ": sizes differ");
    // read the source in order, write through the view's strides, converting to its type
    std::vector<double> values;
    values.reserve(src.Elements());
    visit(src.elemtype_, [&](auto s) {
        using S = decltype(s);
        for_each_offset(src.dims_, src.strides_,
                        [&](int64_t off) { values.push_back(double(*reinterpret_cast<const S*>(src.data_ + off))); });
    });
    visit(dst.elemtype_, [&](auto d) {
        using D = decltype(d);
        size_t i = 0;
        for_each_offset(dst.dims_, dst.strides_,
                        [&](int64_t off) { *reinterpret_cast<D*>(dst.data_ + off) = convert<D>(values[i++], true); });
    });
}

// ---- arithmetic ----

namespace {

enum class Op { Add, Sub, Mul, Div };

double apply(Op op, double a, double b, bool integer_result) {
    switch (op) {
        case Op::Add: return a + b;
        case Op::Sub: return a - b;
        case Op::Mul: return a * b;
        default: return b == 0 && integer_result ? 0.0 : a / b;  // integer x / 0 = 0, as OpenCV
    }
}

const char* op_name(Op op) {
    static const char* n[] = {"Add", "Sub", "Mul", "Div"};
    return n[int(op)];
}

// Reads every element of img as double, in axis-0-fastest order.
std::vector<double> values(const Image& img) {
    std::vector<double> v;
    v.reserve(img.Elements());
    visit(img.elemtype_, [&](auto x) {
        using T = decltype(x);
        for_each_offset(img.dims_, img.strides_, [&](int64_t off) { v.push_back(double(*reinterpret_cast<const T*>(img.data_ + off))); });
    });
    return v;
}

void arith(Op op, const Image& a, const Image* b, double value, Image& dst, DataType t, bool saturate) {
    ECVL_CHECK(!a.IsEmpty() && (!b || !b->IsEmpty()), op_name(op) << ": an operand is empty");
    if (b)
        ECVL_CHECK(a.dims_ == b->dims_ && a.channels_ == b->channels_,
                   op_name(op) << ": images " << dims_str(a.dims_) << " \"" << a.channels_ << "\" and " << dims_str(b->dims_)
                               << " \"" << b->channels_ << "\" differ");
    if (t == DataType::none) t = a.elemtype_;
    const std::vector<double> x = values(a), y = b ? values(*b) : std::vector<double>();
    Image out(a.dims_, t, a.channels_, a.colortype_, a.spacings_, a.dev_, a.meta_);
    const bool integer = t != DataType::float32 && t != DataType::float64;
    visit(t, [&](auto d) {
        using D = decltype(d);
        D* o = reinterpret_cast<D*>(out.data_);
        for (size_t i = 0; i < x.size(); ++i) o[i] = convert<D>(apply(op, x[i], b ? y[i] : value, integer), saturate);
    });
    dst = std::move(out);
}

}  // namespace

void Add(const Image& a, const Image& b, Image& d, DataType t, bool s) { arith(Op::Add, a, &b, 0, d, t, s); }
void Sub(const Image& a, const Image& b, Image& d, DataType t, bool s) { arith(Op::Sub, a, &b, 0, d, t, s); }
void Mul(const Image& a, const Image& b, Image& d, DataType t, bool s) { arith(Op::Mul, a, &b, 0, d, t, s); }
void Div(const Image& a, const Image& b, Image& d, DataType t, bool s) { arith(Op::Div, a, &b, 0, d, t, s); }
void Add(const Image& a, double v, Image& d, bool s) { arith(Op::Add, a, nullptr, v, d, DataType::none, s); }
void Sub(const Image& a, double v, Image& d, bool s) { arith(Op::Sub, a, nullptr, v, d, DataType::none, s); }
void Mul(const Image& a, double v, Image& d, bool s) { arith(Op::Mul, a, nullptr, v, d, DataType::none, s); }
void Div(const Image& a, double v, Image& d, bool s) { arith(Op::Div, a, nullptr, v, d, DataType::none, s); }

Image operator+(const Image& a, const Image& b) { Image d; Add(a, b, d); return d; }
Image operator-(const Image& a, const Image& b) { Image d; Sub(a, b, d); return d; }
Image operator*(const Image& a, const Image& b) { Image d; Mul(a, b, d); return d; }
Image operator/(const Image& a, const Image& b) { Image d; Div(a, b, d); return d; }
Image operator+(const Image& a, double v) { Image d; Add(a, v, d); return d; }
Image operator-(const Image& a, double v) { Image d; Sub(a, v, d); return d; }
Image operator*(const Image& a, double v) { Image d; Mul(a, v, d); return d; }
Image operator/(const Image& a, double v) { Image d; Div(a, v, d); return d; }
Image operator-(const Image& a) { Image d; Mul(a, -1.0, d); return d; }

}  // namespace ecvl
