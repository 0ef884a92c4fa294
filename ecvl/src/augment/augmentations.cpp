// The augmentations: what each draws and how it transforms. Geometric ones run OpenCV on the
// image's own memory, one x-y plane at a time for planar images and volumes, as one Mat for
// interleaved ones (as imgproc.cpp does); distortions build one coordinate map and remap the image
// and the mask with it (the mask with nearest neighbour).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <numbers>
#include <sstream>
#include <tmmintrin.h>
#include <opencv2/imgproc.hpp>

#include "augment/params.h"
#include "core/opencv_bridge.h"

#include "ecvl/augment.h"

namespace ecvl {

// ---- seeds and draws ----

namespace {
uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// Written out rather than std:: distributions, whose output differs between standard libraries:
// a seed then gives the same augmentation everywhere.
double unit(std::mt19937_64& g) { return double(g() >> 11) * 0x1.0p-53; }  // [0, 1)
double draw(std::mt19937_64& g, const Range& r) { return r[0] + unit(g) * (r[1] - r[0]); }
// An integer uniform in [lo, hi].
int64_t draw_int(std::mt19937_64& g, int64_t lo, int64_t hi) {
    const uint64_t span = uint64_t(hi - lo) + 1;
    return lo + int64_t((unsigned __int128)g() * span >> 64);
}
bool bernoulli(std::mt19937_64& g, double p) { return unit(g) < p; }
}  // namespace

uint64_t AugmentationSeed(uint64_t global_seed, uint64_t epoch, uint64_t sample_index) {
    return splitmix64(splitmix64(splitmix64(global_seed) ^ epoch) ^ sample_index);
}

double AugmentationDraw::Get(const std::string& name) const {
    for (const auto& [k, v] : values)
        if (k == name) return v;
    std::string have;
    for (const auto& [k, v] : values) have += (have.empty() ? "" : ", ") + k;
    ECVL_FAIL(augmentation << ": no drawn value '" << name << "' (there are: " << (have.empty() ? "none" : have) << ")");
}

std::string AugmentationRecord::ToString() const {
    std::ostringstream o;
    for (const AugmentationDraw& d : draws) {
        o << d.augmentation;
        for (const auto& [k, v] : d.values) o << " " << k << "=" << detail::FormatNumber(v);
        if (d.seed) o << " seed=" << d.seed;
        o << "\n";
    }
    return o.str();
}

// ---- the parameter table: names, checks, writing ----

namespace detail {

std::string Violation(const Limits& l, double v) {
    std::ostringstream o;
    if (!std::isfinite(v)) return "must be a finite number";
    if (l.integer && v != std::floor(v)) return "must be a whole number";
    const bool low = l.lo_open ? !(v > l.lo) : !(v >= l.lo), high = l.hi_open ? !(v < l.hi) : !(v <= l.hi);
    if (!low && !high) return {};
    const bool lo_inf = std::isinf(l.lo), hi_inf = std::isinf(l.hi);
    if (!lo_inf && !hi_inf)
        o << "must be in " << (l.lo_open ? "(" : "[") << FormatNumber(l.lo) << ", " << FormatNumber(l.hi)
          << (l.hi_open ? ")" : "]");
    else if (!lo_inf)
        o << "must be " << (l.lo_open ? "> " : ">= ") << FormatNumber(l.lo);
    else
        o << "must be " << (l.hi_open ? "< " : "<= ") << FormatNumber(l.hi);
    return o.str();
}

const char* InterpName(InterpolationType t) {
    switch (t) {
        case InterpolationType::nearest: return "nearest";
        case InterpolationType::area: return "area";
        case InterpolationType::cubic: return "cubic";
        case InterpolationType::lanczos4: return "lanczos4";
        default: return "linear";
    }
}
const char* BorderName(BorderType t) {
    switch (t) {
        case BorderType::reflect: return "reflect";
        case BorderType::reflect101: return "reflect101";
        case BorderType::replicate: return "replicate";
        case BorderType::wrap: return "wrap";
        default: return "constant";
    }
}
bool InterpFromName(const std::string& s, InterpolationType& t, std::string& names) {
    names = "\"nearest\", \"linear\", \"area\", \"cubic\", \"lanczos4\"";
    for (InterpolationType c : {InterpolationType::nearest, InterpolationType::linear, InterpolationType::area,
                                InterpolationType::cubic, InterpolationType::lanczos4})
        if (s == InterpName(c)) return t = c, true;
    return false;
}
bool BorderFromName(const std::string& s, BorderType& t, std::string& names) {
    names = "\"constant\", \"reflect\", \"reflect101\" (or \"reflect_101\"), \"replicate\", \"wrap\"";
    if (s == "reflect_101") return t = BorderType::reflect101, true;  // the original's distortions spelled it so
    for (BorderType c : {BorderType::constant, BorderType::reflect, BorderType::reflect101, BorderType::replicate,
                         BorderType::wrap})
        if (s == BorderName(c)) return t = c, true;
    return false;
}

std::string FormatNumber(double v) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

namespace {
// The constructors' check: the same bounds the text language enforces, without positions.
class CheckVisitor final : public ParamVisitor {
public:
    explicit CheckVisitor(const char* aug) : aug_(aug) {}
    void RangeParam(const char* name, Range& r, const Limits& l) override {
        for (double v : r) check(name, l, v);
        ECVL_CHECK(r[0] <= r[1], aug_ << ": range " << name << " [" << FormatNumber(r[0]) << ", " << FormatNumber(r[1])
                                      << "] has its minimum above its maximum");
    }
    void NumberParam(const char* name, double& v, const Limits& l) override { check(name, l, v); }
    void VectorParam(const char* name, std::vector<double>& v, const VectorLimits& l) override {
        if (v.empty() && l.may_be_empty) return;
        ECVL_CHECK(v.size() >= l.min_size && v.size() <= l.max_size,
                   aug_ << ": " << name << " needs " << sizes(l) << " values, got " << v.size());
        for (double x : v) check(name, l.each, x);
    }
    void InterpParam(const char*, InterpolationType&) override {}
    void BorderParam(const char*, BorderType&) override {}

    static std::string sizes(const VectorLimits& l) {
        if (l.min_size == l.max_size) return std::to_string(l.min_size);
        if (l.max_size == SIZE_MAX) return "at least " + std::to_string(l.min_size);
        return std::to_string(l.min_size) + " to " + std::to_string(l.max_size);
    }

private:
    void check(const char* name, const Limits& l, double v) const {
        const std::string why = Violation(l, v);
        ECVL_CHECK(why.empty(), aug_ << ": " << name << " " << why << ", got " << FormatNumber(v));
    }
    const char* aug_;
};

// ToText: every parameter written out (empty optional vectors left out), so the text does not
// depend on the defaults of the version that reads it.
class WriteVisitor final : public ParamVisitor {
public:
    explicit WriteVisitor(std::string& out) : o_(out) {}
    void RangeParam(const char* name, Range& r, const Limits&) override {
        o_ += std::string(" ") + name + "=[" + FormatNumber(r[0]) + "," + FormatNumber(r[1]) + "]";
    }
    void NumberParam(const char* name, double& v, const Limits&) override {
        o_ += std::string(" ") + name + "=" + FormatNumber(v);
    }
    void VectorParam(const char* name, std::vector<double>& v, const VectorLimits& l) override {
        if (v.empty()) return;
        if (v.size() == 1 && l.number_ok) {
            o_ += std::string(" ") + name + "=" + FormatNumber(v[0]);
            return;
        }
        o_ += std::string(" ") + name + "=(";
        for (size_t i = 0; i < v.size(); ++i) {
            if (i) o_ += ',';
            o_ += FormatNumber(v[i]);
        }
        o_ += ")";
    }
    void InterpParam(const char* name, InterpolationType& t) override {
        o_ += std::string(" ") + name + "=\"" + InterpName(t) + "\"";
    }
    void BorderParam(const char* name, BorderType& t) override {
        o_ += std::string(" ") + name + "=\"" + BorderName(t) + "\"";
    }

private:
    std::string& o_;
};
}  // namespace
}  // namespace detail

// ---- Augmentation and SingleAugmentation ----

void Augmentation::Apply(Image& img, std::mt19937_64& rng) const {
    Image gt;
    Apply(img, gt, rng);
}

namespace {
std::string first_word(const std::string& text) {
    const size_t b = text.find_first_not_of(" \t"), e = text.find_first_of(" \t\n", b);
    return b == std::string::npos ? std::string("augmentation") : text.substr(b, e - b);
}
}  // namespace

void Augmentation::Apply(Image& img, Image& gt, std::mt19937_64& rng, AugmentationRecord& record) const {
    AugmentationDraw d;
    d.augmentation = first_word(ToText());
    d.seed = rng();
    std::mt19937_64 own(d.seed);
    Apply(img, gt, own);
    record.draws.push_back(std::move(d));
}

void Augmentation::ReplayFrom(const AugmentationRecord& record, size_t& next, Image& img, Image& gt) const {
    const std::string name = first_word(ToText());
    ECVL_CHECK(next < record.draws.size() && record.draws[next].augmentation == name,
               "Replay: " << name << " expects its draw at position " << next << " of the record, which holds "
                          << (next < record.draws.size() ? record.draws[next].augmentation : std::string("nothing")));
    std::mt19937_64 own(record.draws[next++].seed);
    Apply(img, gt, own);
}

void Augmentation::Replay(const AugmentationRecord& record, Image& img, Image& gt) const {
    size_t next = 0;
    ReplayFrom(record, next, img, gt);
    ECVL_CHECK(next == record.draws.size(), "Replay: the record holds " << record.draws.size()
                                                                        << " draws, this augmentation used " << next);
}

void Augmentation::Replay(const AugmentationRecord& record, Image& img) const {
    Image gt;
    Replay(record, img, gt);
}

namespace {
// Runs an augmentation's transformation, naming it in errors raised by the functions it calls.
template <class F>
void named(const char* name, F f) {
    try {
        f();
    } catch (const Error& e) {
        if (std::strncmp(e.what(), name, std::strlen(name)) == 0) throw;
        throw Error(std::string(name) + ": " + e.what());
    }
}
}  // namespace

void SingleAugmentation::Apply(Image& img, Image& gt, std::mt19937_64& rng) const {
    ECVL_CHECK(!img.IsEmpty(), Name() << ": the image is empty");
    const AugmentationDraw d = Draw(img, rng);
    named(Name(), [&] { Run(d, img, gt); });
}

void SingleAugmentation::Apply(Image& img, Image& gt, std::mt19937_64& rng, AugmentationRecord& record) const {
    ECVL_CHECK(!img.IsEmpty(), Name() << ": the image is empty");
    AugmentationDraw d = Draw(img, rng);
    named(Name(), [&] { Run(d, img, gt); });
    record.draws.push_back(std::move(d));
}

void SingleAugmentation::ReplayFrom(const AugmentationRecord& record, size_t& next, Image& img, Image& gt) const {
    ECVL_CHECK(next < record.draws.size() && record.draws[next].augmentation == Name(),
               "Replay: " << Name() << " expects its draw at position " << next << " of the record, which holds "
                          << (next < record.draws.size() ? record.draws[next].augmentation : std::string("nothing")));
    ECVL_CHECK(!img.IsEmpty() || !gt.IsEmpty(), Name() << ": nothing to replay onto (image and ground truth are empty)");
    const AugmentationDraw& d = record.draws[next++];
    named(Name(), [&] { Run(d, img, gt); });
}

std::string SingleAugmentation::ToText() const {
    std::string s = Name();
    detail::WriteVisitor w(s);
    const_cast<SingleAugmentation*>(this)->Describe(w);  // the writer only reads
    return s;
}

void SingleAugmentation::Check() {
    detail::CheckVisitor c(Name());
    Describe(c);
}

// ---- image plumbing ----

namespace {

bool is_planar2d(const Image& i) { return i.channels_ == "xy" || i.channels_ == "xyc"; }
bool is_volume(const Image& i) { return i.channels_ == "xyz" || i.channels_ == "xyzc"; }
bool is_inter(const Image& i) { return i.channels_ == "cxy"; }
size_t xaxis(const Image& i) { return is_inter(i) ? 1 : 0; }
int W(const Image& i) { return i.dims_[xaxis(i)]; }
int H(const Image& i) { return i.dims_[xaxis(i) + 1]; }

void need_layout(const char* who, const Image& img, bool volumes) {
    const bool ok = is_planar2d(img) || is_inter(img) || (volumes && is_volume(img));
    ECVL_CHECK(ok, who << ": needs a 2-D image (\"xy\", \"xyc\" or \"cxy\")"
                       << (volumes ? " or a volume (\"xyz\", \"xyzc\")" : "") << ", got \"" << img.channels_ << "\"");
}

// The layout checks of a geometric augmentation; gt, when given, must be as large as img.
void need_pair(const char* who, const Image& img, const Image& gt, bool volumes) {
    if (img.IsEmpty()) {  // a replay onto a mask alone
        need_layout(who, gt, volumes);
        return;
    }
    need_layout(who, img, volumes);
    if (gt.IsEmpty()) return;
    need_layout(who, gt, volumes);
    ECVL_CHECK(W(gt) == W(img) && H(gt) == H(img),
               who << ": the ground truth is " << W(gt) << "x" << H(gt) << ", the image " << W(img) << "x" << H(img));
}

// img itself when OpenCV can read its planes in place (x contiguous; interleaved pixels
// contiguous), else a contiguous copy in tmp.
const Image& readable(const Image& img, Image& tmp) {
    const int64_t es = int64_t(img.elemsize_);
    const bool ok = img.strides_[0] == es && (!is_inter(img) || img.strides_[1] == es * img.dims_[0]);
    if (ok) return img;
    tmp = img.Clone();
    return tmp;
}

// A new image described as `like` but of dims and type t, not zero-filled (every element is about
// to be written).
Image uninit(const Image& like, const std::vector<int>& dims, DataType t) {
    size_t n = DataTypeSize(t);
    for (int d : dims) n *= size_t(d);
    std::shared_ptr<uint8_t[]> mem(new uint8_t[n]);
    Image out = Image::Wrap(dims, t, like.channels_, like.colortype_, mem.get(), mem);
    out.spacings_ = like.spacings_;
    out.meta_ = like.meta_;
    return out;
}

// The same with x-y size w x h (spacings scaled).
Image uninit_like(const Image& src, int w, int h) {
    std::vector<int> dims = src.dims_;
    const size_t xa = xaxis(src);
    dims[xa] = w;
    dims[xa + 1] = h;
    Image out = uninit(src, dims, src.elemtype_);
    out.spacings_[xa] *= float(W(src)) / float(w);
    out.spacings_[xa + 1] *= float(H(src)) / float(h);
    return out;
}

// Mat headers over every x-y plane of a planar image or volume, or over the whole of an
// interleaved one.
std::vector<cv::Mat> planes(const Image& img) {
    const int depth = detail::cv_depth(img.elemtype_);
    uint8_t* data = img.data_;
    if (is_inter(img)) return {cv::Mat(H(img), W(img), CV_MAKETYPE(depth, img.dims_[0]), data, size_t(img.strides_[2]))};
    const size_t nd = img.dims_.size();
    const int n2 = nd > 2 ? img.dims_[2] : 1, n3 = nd > 3 ? img.dims_[3] : 1;
    const int64_t s2 = nd > 2 ? img.strides_[2] : 0, s3 = nd > 3 ? img.strides_[3] : 0;
    std::vector<cv::Mat> m;
    m.reserve(size_t(n2) * size_t(n3));
    for (int i3 = 0; i3 < n3; ++i3)
        for (int i2 = 0; i2 < n2; ++i2)
            m.emplace_back(H(img), W(img), CV_MAKETYPE(depth, 1), data + i2 * s2 + i3 * s3, size_t(img.strides_[1]));
    return m;
}

// f(in_plane, out_plane) for every plane, out being a new w x h image that replaces img.
template <class F>
void per_plane(const char* who, Image& img, int w, int h, F f) {
    Image tmp;
    const Image& src = readable(img, tmp);
    Image out = uninit_like(src, w, h);
    try {
        const std::vector<cv::Mat> in = planes(src), o = planes(out);
        for (size_t p = 0; p < in.size(); ++p) {
            cv::Mat dst = o[p];
            f(in[p], dst);
            ECVL_CHECK(dst.data == o[p].data, who << ": OpenCV reallocated the output (size or type mismatch)");
        }
    } catch (const cv::Exception& e) {
        ECVL_FAIL(who << ": OpenCV cannot process " << DataTypeName(src.elemtype_) << " \"" << src.channels_
                      << "\" images: " << e.err);
    }
    img = std::move(out);
}

// f(plane, plane) in place when img owns its memory and OpenCV can read it in place; else per_plane.
template <class F>
void in_place(const char* who, Image& img, F f) {
    const int64_t es = int64_t(img.elemsize_);
    if (!img.IsOwner() || img.strides_[0] != es || (is_inter(img) && img.strides_[1] != es * img.dims_[0])) {
        per_plane(who, img, W(img), H(img), f);
        return;
    }
    try {
        for (cv::Mat m : planes(img)) f(m, m);
    } catch (const cv::Exception& e) {
        ECVL_FAIL(who << ": OpenCV cannot process " << DataTypeName(img.elemtype_) << " \"" << img.channels_
                      << "\" images: " << e.err);
    }
}

using detail::cv_interp;
int cv_border(BorderType t) {
    switch (t) {
        case BorderType::reflect: return cv::BORDER_REFLECT;
        case BorderType::reflect101: return cv::BORDER_REFLECT_101;
        case BorderType::replicate: return cv::BORDER_REPLICATE;
        case BorderType::wrap: return cv::BORDER_WRAP;
        default: return cv::BORDER_CONSTANT;
    }
}

// Per-thread working buffers reused from one image to the next (cv::Mat::create keeps memory of
// the same size): a fresh megabyte per image costs more in page faults than the warp itself.
// Apply stays free of shared state: each loader thread has its own.
struct Scratch {
    cv::Mat map, merged_in, merged_out;
};
Scratch& scratch() {
    thread_local Scratch s;
    return s;
}

// f(in, out) once on the channels of a planar 2-D image merged into one interleaved Mat, the
// result split into img's planes: for warps, whose per-pixel coordinate work the channels then
// share (OpenCV 4.6 remaps 3 interleaved channels ~2.5x faster than 3 planes one by one).
template <class F>
void merged(const char* who, Image& img, int w, int h, F f) {
    Image tmp;
    const Image& src = readable(img, tmp);
    Image out = uninit_like(src, w, h);
    try {
        std::vector<cv::Mat> in = planes(src), o = planes(out);
        cv::Mat& m = scratch().merged_in;
        cv::Mat& r = scratch().merged_out;
        cv::merge(in, m);
        f(m, r);
        cv::split(r, o);
        for (size_t p = 0; p < o.size(); ++p)
            ECVL_CHECK(o[p].data == planes(out)[p].data, who << ": OpenCV reallocated a plane");
    } catch (const cv::Exception& e) {
        ECVL_FAIL(who << ": OpenCV cannot process " << DataTypeName(src.elemtype_) << " \"" << src.channels_
                      << "\" images: " << e.err);
    }
    img = std::move(out);
}

// Resamples img at map (CV_32FC2: for each output pixel the source x, y) and gt with nearest
// neighbour and the same map; gt's constant border is 0 (background). A planar image with several
// planes converts the map once to OpenCV's fixed-point form, which each plane then reuses.
void remap_pair(const char* who, Image& img, Image& gt, const cv::Mat& map, InterpolationType interp, BorderType bt,
                double bv) {
    const int w = map.cols, h = map.rows;
    // area has no meaning for remap; OpenCV takes it as linear
    auto resample = [&](const cv::Mat& in, cv::Mat& out) {
        cv::remap(in, out, map, cv::Mat(), cv_interp(interp), cv_border(bt), cv::Scalar::all(bv));
    };
    if (!img.IsEmpty()) {
        if (is_planar2d(img) && img.Channels() > 1 && img.Channels() <= 4) merged(who, img, w, h, resample);
        else per_plane(who, img, w, h, resample);
    }
    if (!gt.IsEmpty())
        per_plane(who, gt, w, h, [&](const cv::Mat& in, cv::Mat& out) {
            cv::remap(in, out, map, cv::Mat(), cv::INTER_NEAREST, cv_border(bt), cv::Scalar::all(0));
        });
}

// Warps img by the affine matrix m (source -> destination), gt with gt_interp, constant borders.
void warp_pair(const char* who, Image& img, Image& gt, const cv::Mat& m, InterpolationType interp,
               InterpolationType gt_interp, BorderType bt, double bv) {
    auto warp = [&](Image& im, int flags, double value) {
        const int w = W(im), h = H(im);
        auto f = [&](const cv::Mat& in, cv::Mat& out) {
            cv::warpAffine(in, out, m, cv::Size(w, h), flags, cv_border(bt), cv::Scalar::all(value));
        };
        if (is_planar2d(im) && im.Channels() > 1 && im.Channels() <= 4) merged(who, im, w, h, f);
        else per_plane(who, im, w, h, f);
    };
    if (!img.IsEmpty()) warp(img, cv_interp(interp), bv);
    if (!gt.IsEmpty()) warp(gt, cv_interp(gt_interp), 0);
}

// The box x0, y0, w, h of every plane, copied.
void crop(Image& img, int x0, int y0, int w, int h) {
    std::vector<int> start(img.dims_.size(), 0), len(img.dims_.size(), -1);
    const size_t xa = xaxis(img);
    start[xa] = x0;
    start[xa + 1] = y0;
    len[xa] = w;
    len[xa + 1] = h;
    img = View(img, start, len).Clone();
}

// img (2-D or volume) with a border of `value` (or reflected...) around x and y.
void pad(const char* who, Image& img, int top, int bottom, int left, int right, BorderType bt, double value) {
    const float sx = img.spacings_[xaxis(img)], sy = img.spacings_[xaxis(img) + 1];
    per_plane(who, img, W(img) + left + right, H(img) + top + bottom, [&](const cv::Mat& in, cv::Mat& out) {
        cv::copyMakeBorder(in, out, top, bottom, left, right, cv_border(bt), cv::Scalar::all(value));
    });
    img.spacings_[xaxis(img)] = sx;  // a border keeps the pixel size
    img.spacings_[xaxis(img) + 1] = sy;
}

// dst = f(v) as float32 for every element, same layout; uint8 through a 256-entry table per channel.
template <class F>
void to_float32(Image& img, F f) {
    Image tmp;
    const Image& src = img.contiguous_ ? img : (tmp = img.Clone());
    Image out = uninit(src, src.dims_, DataType::float32);
    const size_t ci = src.channels_.find('c');
    size_t inner = src.Elements(), nc = 1;
    if (ci != std::string::npos) {
        inner = 1;
        for (size_t a = 0; a < ci; ++a) inner *= size_t(src.dims_[a]);
        nc = size_t(src.dims_[ci]);
    }
    const size_t outer = src.Elements() / (inner * nc);
    float* o = reinterpret_cast<float*>(out.data_);
    if (src.elemtype_ == DataType::uint8) {
        std::vector<float> lut(256 * nc);
        for (size_t c = 0; c < nc; ++c)
            for (int v = 0; v < 256; ++v) lut[c * 256 + size_t(v)] = f(double(v), c);
        const uint8_t* s = src.data_;
        if (inner == 1 && nc == 3) {  // interleaved colour: pixel by pixel
            const float *l0 = lut.data(), *l1 = l0 + 256, *l2 = l1 + 256;
            for (size_t k = 0; k < outer; ++k, s += 3, o += 3) {
                o[0] = l0[s[0]];
                o[1] = l1[s[1]];
                o[2] = l2[s[2]];
            }
        } else {
            for (size_t k = 0; k < outer; ++k)
                for (size_t c = 0; c < nc; ++c) {
                    const float* l = lut.data() + c * 256;
                    for (size_t i = 0; i < inner; ++i) *o++ = l[*s++];
                }
        }
    } else {
        Image d;
        ConvertTo(src, d, DataType::float64);
        const double* s = reinterpret_cast<const double*>(d.data_);
        for (size_t k = 0; k < outer; ++k)
            for (size_t c = 0; c < nc; ++c)
                for (size_t i = 0; i < inner; ++i) *o++ = f(*s++, c);
    }
    img = std::move(out);
}

// Uniform noise in [-1, 1) for element i of the field of `seed`: a counter-based hash, so the
// field is the same however it is computed and needs one 64-bit draw from the caller's generator.
inline void noise_pair(uint64_t seed, uint64_t i, float& a, float& b) {
    const uint64_t h = splitmix64(seed ^ (i * 0xd1b54a32d192ed03ull));
    a = float(int32_t(uint32_t(h >> 32))) * 0x1.0p-31f;
    b = float(int32_t(uint32_t(h))) * 0x1.0p-31f;
}

}  // namespace

using detail::Limits;
using detail::VectorLimits;
namespace {
const Limits kProb{.lo = 0, .hi = 1};
}

// ---- geometric ----

AugRotate::AugRotate(Range angle, std::vector<double> center, double scale, InterpolationType interp,
                     InterpolationType gt_interp)
    : angle_(angle), center_(std::move(center)), scale_(scale), interp_(interp), gt_interp_(gt_interp) {
    Check();
}
void AugRotate::Describe(detail::ParamVisitor& v) {
    v.RangeParam("angle", angle_, {.required = true});
    v.VectorParam("center", center_, {.each = {}, .min_size = 2, .max_size = 2, .may_be_empty = true});
    v.NumberParam("scale", scale_, {.lo = 0, .lo_open = true});
    v.InterpParam("interp", interp_);
    v.InterpParam("gt_interp", gt_interp_);
}
AugmentationDraw AugRotate::Draw(const Image&, std::mt19937_64& rng) const {
    return {name, {{"angle", draw(rng, angle_)}}};
}
void AugRotate::Run(const AugmentationDraw& d, Image& img, Image& gt) const {
    need_pair(name, img, gt, true);
    const double angle = d.Get("angle");
    const Image& ref = img.IsEmpty() ? gt : img;
    const cv::Point2f c = center_.empty() ? cv::Point2f((W(ref) - 1) / 2.0f, (H(ref) - 1) / 2.0f)
                                          : cv::Point2f(float(center_[0]), float(center_[1]));
    const cv::Mat m = cv::getRotationMatrix2D(c, angle, scale_);
    warp_pair(name, img, gt, m, interp_, gt_interp_, BorderType::constant, 0);
}

AugResizeDim::AugResizeDim(std::vector<double> dims, InterpolationType interp, InterpolationType gt_interp)
    : dims_(std::move(dims)), interp_(interp), gt_interp_(gt_interp) {
    Check();
}
void AugResizeDim::Describe(detail::ParamVisitor& v) {
    v.VectorParam("dims", dims_, {.each = {.lo = 1, .integer = true}, .min_size = 2, .max_size = 3, .required = true});
    v.InterpParam("interp", interp_);
    v.InterpParam("gt_interp", gt_interp_);
}
AugmentationDraw AugResizeDim::Draw(const Image&, std::mt19937_64&) const { return {name, {}}; }
void AugResizeDim::Run(const AugmentationDraw&, Image& img, Image& gt) const {
    need_pair(name, img, gt, true);
    const std::vector<int> dims(dims_.begin(), dims_.end());
    if (!img.IsEmpty()) ResizeDim(img, img, dims, interp_);
    if (!gt.IsEmpty()) ResizeDim(gt, gt, dims, gt_interp_);
}

AugResizeScale::AugResizeScale(std::vector<double> scale, InterpolationType interp, InterpolationType gt_interp)
    : scale_(std::move(scale)), interp_(interp), gt_interp_(gt_interp) {
    Check();
}
void AugResizeScale::Describe(detail::ParamVisitor& v) {
    v.VectorParam("scale", scale_, {.each = {.lo = 0, .lo_open = true}, .min_size = 2, .max_size = 3, .required = true});
    v.InterpParam("interp", interp_);
    v.InterpParam("gt_interp", gt_interp_);
}
AugmentationDraw AugResizeScale::Draw(const Image&, std::mt19937_64&) const { return {name, {}}; }
void AugResizeScale::Run(const AugmentationDraw&, Image& img, Image& gt) const {
    need_pair(name, img, gt, true);
    if (!img.IsEmpty()) ResizeScale(img, img, scale_, interp_);
    if (!gt.IsEmpty()) ResizeScale(gt, gt, scale_, gt_interp_);
}

AugFlip::AugFlip(double p) : p_(p) { Check(); }
void AugFlip::Describe(detail::ParamVisitor& v) { v.NumberParam("p", p_, kProb); }
AugmentationDraw AugFlip::Draw(const Image&, std::mt19937_64& rng) const {
    return {name, {{"flip", bernoulli(rng, p_) ? 1.0 : 0.0}}};
}
void AugFlip::Run(const AugmentationDraw& d, Image& img, Image& gt) const {
    need_pair(name, img, gt, true);
    if (d.Get("flip") == 0) return;
    for (Image* im : {&img, &gt})
        if (!im->IsEmpty()) in_place(name, *im, [](const cv::Mat& in, cv::Mat& out) { cv::flip(in, out, 0); });
}

AugMirror::AugMirror(double p) : p_(p) { Check(); }
void AugMirror::Describe(detail::ParamVisitor& v) { v.NumberParam("p", p_, kProb); }
AugmentationDraw AugMirror::Draw(const Image&, std::mt19937_64& rng) const {
    return {name, {{"mirror", bernoulli(rng, p_) ? 1.0 : 0.0}}};
}
namespace {
// dst[0 .. n) = src[0 .. n) reversed. A plain loop that GCC vectorizes with byte shuffles when the
// CPU has them: the clones below are picked at load time (x86-64 baseline SSE2 has no byte
// shuffle, and OpenCV 4.6's flip of one-byte planes is not vectorized either). ThreadSanitizer
// builds take the portable one only: the choosing function runs while the loader relocates the
// library, before ThreadSanitizer has started (as for CCL's popcount clones).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
__attribute__((target_clones("default", "ssse3", "avx2")))
#endif
void reverse_copy_bytes(const uint8_t* __restrict src, uint8_t* __restrict dst, int n) {
    for (int i = 0; i < n; ++i) dst[n - 1 - i] = src[i];  // the source read forward: prefetch-friendly
}

// The same for n 3-byte pixels (interleaved RGB/BGR uint8), which OpenCV 4.6's flip does one
// pixel at a time. With SSSE3, four pixels per 16-byte load: a byte shuffle puts them in reverse
// order in the top 12 bytes and the 16-byte store starts 4 bytes early; those 4 bytes belong to the
// next group's destination (or the scalar tail's), written afterwards. Chosen at run time rather
// than by clones, so ThreadSanitizer builds keep it.
__attribute__((target("ssse3"))) void reverse_pixels3_ssse3(const uint8_t* src, uint8_t* dst, int n, int& done) {
    const __m128i order = _mm_setr_epi8(-1, -1, -1, -1, 9, 10, 11, 6, 7, 8, 3, 4, 5, 0, 1, 2);
    int i = 0;
    for (; i + 6 <= n; i += 4) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 3 * i));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 3 * (n - 4 - i) - 4), _mm_shuffle_epi8(v, order));
    }
    done = i;
}
void reverse_pixels3(const uint8_t* __restrict src, uint8_t* __restrict dst, int n) {
    static const bool ssse3 = __builtin_cpu_supports("ssse3");
    int i = 0;
    if (ssse3) reverse_pixels3_ssse3(src, dst, n, i);
    for (; i < n; ++i)
        for (int c = 0; c < 3; ++c) dst[3 * (n - 1 - i) + c] = src[3 * i + c];
}
}  // namespace

void AugMirror::Run(const AugmentationDraw& d, Image& img, Image& gt) const {
    need_pair(name, img, gt, true);
    if (d.Get("mirror") == 0) return;
    for (Image* im : {&img, &gt})
        if (!im->IsEmpty()) per_plane(name, *im, W(*im), H(*im), [](const cv::Mat& in, cv::Mat& out) {
            if (in.type() == CV_8UC1) {
                for (int y = 0; y < in.rows; ++y) reverse_copy_bytes(in.ptr<uint8_t>(y), out.ptr<uint8_t>(y), in.cols);
            } else if (in.type() == CV_8UC3) {
                for (int y = 0; y < in.rows; ++y) reverse_pixels3(in.ptr<uint8_t>(y), out.ptr<uint8_t>(y), in.cols);
            } else {
                cv::flip(in, out, 1);
            }
        });
}

AugTranspose::AugTranspose(double p) : p_(p) { Check(); }
void AugTranspose::Describe(detail::ParamVisitor& v) { v.NumberParam("p", p_, kProb); }
AugmentationDraw AugTranspose::Draw(const Image&, std::mt19937_64& rng) const {
    return {name, {{"transpose", bernoulli(rng, p_) ? 1.0 : 0.0}}};
}
void AugTranspose::Run(const AugmentationDraw& d, Image& img, Image& gt) const {
    need_pair(name, img, gt, true);
    if (d.Get("transpose") == 0) return;
    for (Image* im : {&img, &gt}) {
        if (im->IsEmpty()) continue;
        const size_t xa = xaxis(*im);
        const float sx = im->spacings_[xa], sy = im->spacings_[xa + 1];
        per_plane(name, *im, H(*im), W(*im), [](const cv::Mat& in, cv::Mat& out) { cv::transpose(in, out); });
        im->spacings_[xa] = sy;
        im->spacings_[xa + 1] = sx;
    }
}

AugElasticTransform::AugElasticTransform(Range alpha, Range sigma, InterpolationType interp, BorderType border_type,
                                         double border_value)
    : alpha_(alpha), sigma_(sigma), interp_(interp), border_type_(border_type), border_value_(border_value) {
    Check();
}
void AugElasticTransform::Describe(detail::ParamVisitor& v) {
    v.RangeParam("alpha", alpha_, {.lo = 0});
    v.RangeParam("sigma", sigma_, {.lo = 0, .lo_open = true});
    v.InterpParam("interp", interp_);
    v.BorderParam("border_type", border_type_);
    v.NumberParam("border_value", border_value_, {});
}
AugmentationDraw AugElasticTransform::Draw(const Image&, std::mt19937_64& rng) const {
    AugmentationDraw d{name, {{"alpha", draw(rng, alpha_)}, {"sigma", draw(rng, sigma_)}}};
    d.seed = rng();
    return d;
}
void AugElasticTransform::Run(const AugmentationDraw& d, Image& img, Image& gt) const {
    need_pair(name, img, gt, false);
    const Image& ref = img.IsEmpty() ? gt : img;
    const int w = W(ref), h = H(ref);
    const double alpha = d.Get("alpha"), sigma = d.Get("sigma");
    // the field: uniform noise in [-1, 1] per pixel and axis (x, y interleaved), smoothed, times alpha
    cv::Mat& field = scratch().map;
    field.create(h, w, CV_32FC2);
    float* f = field.ptr<float>();
    const size_t n = size_t(w) * size_t(h);
    for (size_t i = 0; i < n; ++i) noise_pair(d.seed, i, f[2 * i], f[2 * i + 1]);
    cv::GaussianBlur(field, field, cv::Size(0, 0), sigma, sigma, cv::BORDER_REFLECT_101);
    const float a = float(alpha);
    for (int y = 0; y < h; ++y) {
        float* r = field.ptr<float>(y);
        for (int x = 0; x < w; ++x) {
            r[2 * x] = float(x) + a * r[2 * x];
            r[2 * x + 1] = float(y) + a * r[2 * x + 1];
        }
    }
    remap_pair(name, img, gt, field, interp_, border_type_, border_value_);
}

AugGridDistortion::AugGridDistortion(Range num_steps, Range distort_limit, InterpolationType interp,
                                     BorderType border_type, double border_value)
    : num_steps_(num_steps), distort_limit_(distort_limit), interp_(interp), border_type_(border_type),
      border_value_(border_value) {
    Check();
}
void AugGridDistortion::Describe(detail::ParamVisitor& v) {
    v.RangeParam("num_steps", num_steps_, {.lo = 1, .hi = 1000, .integer = true});
    v.RangeParam("distort_limit", distort_limit_, {.lo = -1, .lo_open = true});
    v.InterpParam("interp", interp_);
    v.BorderParam("border_type", border_type_);
    v.NumberParam("border_value", border_value_, {});
}
AugmentationDraw AugGridDistortion::Draw(const Image&, std::mt19937_64& rng) const {
    const int k = int(draw_int(rng, int64_t(num_steps_[0]), int64_t(num_steps_[1])));
    AugmentationDraw d{name, {{"num_steps", double(k)}}};
    d.values.reserve(1 + 2 * size_t(k));
    for (const char* axis : {"x", "y"})
        for (int i = 0; i < k; ++i) {
            std::string key(axis);  // x0, x1, ..., y0, ...
            key += std::to_string(i);
            d.values.emplace_back(std::move(key), draw(rng, distort_limit_));
        }
    return d;
}
void AugGridDistortion::Run(const AugmentationDraw& d, Image& img, Image& gt) const {
    need_pair(name, img, gt, false);
    const Image& ref = img.IsEmpty() ? gt : img;
    const int w = W(ref), h = H(ref), k = int(d.Get("num_steps"));
    ECVL_CHECK(k >= 1 && d.values.size() == 1 + 2 * size_t(k), name << ": the draw holds " << d.values.size()
                                                                    << " values for " << k << " steps");
    // Along each axis the output is cut into k equal cells; cell i reads a source stretch of
    // relative length 1 + d_i, the stretches rescaled to cover the source exactly (edges fixed).
    auto axis = [&](int size, size_t first) {
        std::vector<float> at(static_cast<size_t>(size));
        const double len = size - 1.0;
        std::vector<double> src(static_cast<size_t>(k));
        double total = 0;
        for (int i = 0; i < k; ++i) total += src[size_t(i)] = 1.0 + d.values[first + size_t(i)].second;
        double start = 0;
        for (int i = 0; i < k; ++i) {
            const double o0 = len * i / k, o1 = len * (i + 1) / k, s = len * src[size_t(i)] / total;
            for (int p = int(std::ceil(o0)); p <= int(std::floor(o1)) && p < size; ++p)
                at[size_t(p)] = float(o1 > o0 ? start + (p - o0) / (o1 - o0) * s : start);
            start += s;
        }
        return at;
    };
    const std::vector<float> xs = axis(w, 1), ys = axis(h, 1 + size_t(k));
    cv::Mat& map = scratch().map;
    map.create(h, w, CV_32FC2);
    for (int y = 0; y < h; ++y) {
        float* r = map.ptr<float>(y);
        for (int x = 0; x < w; ++x) {
            r[2 * x] = xs[size_t(x)];
            r[2 * x + 1] = ys[size_t(y)];
        }
    }
    remap_pair(name, img, gt, map, interp_, border_type_, border_value_);
}

AugOpticalDistortion::AugOpticalDistortion(Range distort_limit, Range shift_limit, InterpolationType interp,
                                           BorderType border_type, double border_value)
    : distort_limit_(distort_limit), shift_limit_(shift_limit), interp_(interp), border_type_(border_type),
      border_value_(border_value) {
    Check();
}
void AugOpticalDistortion::Describe(detail::ParamVisitor& v) {
    v.RangeParam("distort_limit", distort_limit_, {});
    v.RangeParam("shift_limit", shift_limit_, {});
    v.InterpParam("interp", interp_);
    v.BorderParam("border_type", border_type_);
    v.NumberParam("border_value", border_value_, {});
}
AugmentationDraw AugOpticalDistortion::Draw(const Image&, std::mt19937_64& rng) const {
    const double k = draw(rng, distort_limit_), dx = draw(rng, shift_limit_), dy = draw(rng, shift_limit_);
    return {name, {{"k", k}, {"dx", dx}, {"dy", dy}}};
}
void AugOpticalDistortion::Run(const AugmentationDraw& d, Image& img, Image& gt) const {
    need_pair(name, img, gt, false);
    const Image& ref = img.IsEmpty() ? gt : img;
    const int w = W(ref), h = H(ref);
    const double k = d.Get("k"), cx = (w - 1) / 2.0 + d.Get("dx") * w, cy = (h - 1) / 2.0 + d.Get("dy") * h;
    // the camera model with focal lengths w, h and radial coefficients k1 = k2 = k: each output
    // pixel reads the source at its radially distorted position
    cv::Mat& map = scratch().map;
    map.create(h, w, CV_32FC2);
    for (int y = 0; y < h; ++y) {
        float* r = map.ptr<float>(y);
        const double ny = (y - cy) / h;
        for (int x = 0; x < w; ++x) {
            const double nx = (x - cx) / w, r2 = nx * nx + ny * ny, f = 1 + k * r2 + k * r2 * r2;
            r[2 * x] = float(cx + w * nx * f);
            r[2 * x + 1] = float(cy + h * ny * f);
        }
    }
    remap_pair(name, img, gt, map, interp_, border_type_, border_value_);
}

AugAffine::AugAffine(Range angle, Range scale, Range shear, Range translate_x, Range translate_y,
                     InterpolationType interp, BorderType border_type, double border_value)
    : angle_(angle), scale_(scale), shear_(shear), translate_x_(translate_x), translate_y_(translate_y),
      interp_(interp), border_type_(border_type), border_value_(border_value) {
    Check();
}
void AugAffine::Describe(detail::ParamVisitor& v) {
    v.RangeParam("angle", angle_, {});
    v.RangeParam("scale", scale_, {.lo = 0, .lo_open = true});
    v.RangeParam("shear", shear_, {.lo = -89, .hi = 89});
    v.RangeParam("translate_x", translate_x_, {.lo = -1, .hi = 1});
    v.RangeParam("translate_y", translate_y_, {.lo = -1, .hi = 1});
    v.InterpParam("interp", interp_);
    v.BorderParam("border_type", border_type_);
    v.NumberParam("border_value", border_value_, {});
}
AugmentationDraw AugAffine::Draw(const Image&, std::mt19937_64& rng) const {
    const double a = draw(rng, angle_), s = draw(rng, scale_), sh = draw(rng, shear_), tx = draw(rng, translate_x_),
                 ty = draw(rng, translate_y_);
    return {name, {{"angle", a}, {"scale", s}, {"shear", sh}, {"translate_x", tx}, {"translate_y", ty}}};
}
void AugAffine::Run(const AugmentationDraw& d, Image& img, Image& gt) const {
    need_pair(name, img, gt, false);
    const Image& ref = img.IsEmpty() ? gt : img;
    const int w = W(ref), h = H(ref);
    const double a = d.Get("angle") * std::numbers::pi / 180, s = d.Get("scale"),
                 sh = std::tan(d.Get("shear") * std::numbers::pi / 180);
    const double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
    // source -> destination: p' = c + t + R(a) S(s) Shear(sh) (p - c); rotation counter-clockwise
    // as displayed (y down), as Rotate2D
    const double r00 = s * std::cos(a), r01 = s * std::sin(a), r10 = -s * std::sin(a), r11 = s * std::cos(a);
    const double m00 = r00, m01 = r00 * sh + r01, m10 = r10, m11 = r10 * sh + r11;
    const double tx = cx + d.Get("translate_x") * w - (m00 * cx + m01 * cy);
    const double ty = cy + d.Get("translate_y") * h - (m10 * cx + m11 * cy);
    const cv::Mat m = (cv::Mat_<double>(2, 3) << m00, m01, tx, m10, m11, ty);
    warp_pair(name, img, gt, m, interp_, InterpolationType::nearest, border_type_, border_value_);
}

AugCenterCrop::AugCenterCrop(std::vector<double> size) : size_(std::move(size)) { Check(); }
void AugCenterCrop::Describe(detail::ParamVisitor& v) {
    v.VectorParam("size", size_, {.each = {.lo = 1, .integer = true}, .min_size = 2, .max_size = 2, .may_be_empty = true});
}
AugmentationDraw AugCenterCrop::Draw(const Image& img, std::mt19937_64&) const {
    need_layout(name, img, true);
    const int s = std::min(W(img), H(img));
    const double w = size_.empty() ? s : size_[0], h = size_.empty() ? s : size_[1];
    return {name, {{"x", std::floor((W(img) - w) / 2)}, {"y", std::floor((H(img) - h) / 2)}, {"width", w}, {"height", h}}};
}
void AugCenterCrop::Run(const AugmentationDraw& d, Image& img, Image& gt) const {
    need_pair(name, img, gt, true);
    const Image& ref = img.IsEmpty() ? gt : img;
    const int x = int(d.Get("x")), y = int(d.Get("y")), w = int(d.Get("width")), h = int(d.Get("height"));
    ECVL_CHECK(x >= 0 && y >= 0 && x + w <= W(ref) && y + h <= H(ref),
               name << ": the box " << w << "x" << h << " at (" << x << ", " << y << ") does not fit the image "
                    << W(ref) << "x" << H(ref));
    if (!img.IsEmpty()) crop(img, x, y, w, h);
    if (!gt.IsEmpty()) crop(gt, x, y, w, h);
}

AugRandomCrop::AugRandomCrop(std::vector<double> size, BorderType border_type, double border_value)
    : size_(std::move(size)), border_type_(border_type), border_value_(border_value) {
    Check();
}
void AugRandomCrop::Describe(detail::ParamVisitor& v) {
    v.VectorParam("size", size_, {.each = {.lo = 1, .integer = true}, .min_size = 2, .max_size = 2, .required = true});
    v.BorderParam("border_type", border_type_);
    v.NumberParam("border_value", border_value_, {});
}
AugmentationDraw AugRandomCrop::Draw(const Image& img, std::mt19937_64& rng) const {
    need_layout(name, img, true);
    const int w = int(size_[0]), h = int(size_[1]), pw = std::max(W(img), w), ph = std::max(H(img), h);
    const double x = double(draw_int(rng, 0, pw - w)), y = double(draw_int(rng, 0, ph - h));
    return {name, {{"x", x}, {"y", y}}};
}
void AugRandomCrop::Run(const AugmentationDraw& d, Image& img, Image& gt) const {
    need_pair(name, img, gt, true);
    const int w = int(size_[0]), h = int(size_[1]);
    for (Image* im : {&img, &gt}) {
        if (im->IsEmpty()) continue;
        const int iw = W(*im), ih = H(*im);
        if (iw < w || ih < h) {  // centred padding up to the box
            const int left = std::max(0, w - iw) / 2, top = std::max(0, h - ih) / 2;
            pad(name, *im, top, std::max(0, h - ih) - top, left, std::max(0, w - iw) - left, border_type_,
                im == &img ? border_value_ : 0.0);
        }
        const int x = int(d.Get("x")), y = int(d.Get("y"));
        ECVL_CHECK(x >= 0 && y >= 0 && x + w <= W(*im) && y + h <= H(*im),
                   name << ": the box " << w << "x" << h << " at (" << x << ", " << y << ") does not fit "
                        << W(*im) << "x" << H(*im));
        crop(*im, x, y, w, h);
    }
}

AugRandomResizedCrop::AugRandomResizedCrop(std::vector<double> size, Range scale, Range ratio,
                                           InterpolationType interp, InterpolationType gt_interp)
    : size_(std::move(size)), scale_(scale), ratio_(ratio), interp_(interp), gt_interp_(gt_interp) {
    Check();
}
void AugRandomResizedCrop::Describe(detail::ParamVisitor& v) {
    v.VectorParam("size", size_, {.each = {.lo = 1, .integer = true}, .min_size = 2, .max_size = 2, .required = true});
    v.RangeParam("scale", scale_, {.lo = 0, .hi = 1, .lo_open = true});
    v.RangeParam("ratio", ratio_, {.lo = 0, .lo_open = true});
    v.InterpParam("interp", interp_);
    v.InterpParam("gt_interp", gt_interp_);
}
AugmentationDraw AugRandomResizedCrop::Draw(const Image& img, std::mt19937_64& rng) const {
    need_layout(name, img, true);
    const int iw = W(img), ih = H(img);
    const double area = double(iw) * ih, lr0 = std::log(ratio_[0]), lr1 = std::log(ratio_[1]);
    for (int attempt = 0; attempt < 10; ++attempt) {
        const double a = area * draw(rng, scale_), r = std::exp(draw(rng, {lr0, lr1}));
        const int w = int(std::lround(std::sqrt(a * r))), h = int(std::lround(std::sqrt(a / r)));
        if (w >= 1 && h >= 1 && w <= iw && h <= ih) {
            const double x = double(draw_int(rng, 0, iw - w)), y = double(draw_int(rng, 0, ih - h));
            return {name, {{"x", x}, {"y", y}, {"width", double(w)}, {"height", double(h)}}};
        }
    }
    // no box fitted: the whole image, its ratio clamped into the range, centred
    int w = iw, h = ih;
    const double in_ratio = double(iw) / ih;
    if (in_ratio < ratio_[0]) h = std::max(1, int(std::lround(iw / ratio_[0])));
    else if (in_ratio > ratio_[1]) w = std::max(1, int(std::lround(ih * ratio_[1])));
    return {name, {{"x", double((iw - w) / 2)}, {"y", double((ih - h) / 2)}, {"width", double(w)}, {"height", double(h)}}};
}
void AugRandomResizedCrop::Run(const AugmentationDraw& d, Image& img, Image& gt) const {
    need_pair(name, img, gt, true);
    const Image& ref = img.IsEmpty() ? gt : img;
    const int x = int(d.Get("x")), y = int(d.Get("y")), w = int(d.Get("width")), h = int(d.Get("height"));
    ECVL_CHECK(x >= 0 && y >= 0 && x + w <= W(ref) && y + h <= H(ref),
               name << ": the box " << w << "x" << h << " at (" << x << ", " << y << ") does not fit the image "
                    << W(ref) << "x" << H(ref));
    const std::vector<int> size{int(size_[0]), int(size_[1])};
    if (!img.IsEmpty()) {
        crop(img, x, y, w, h);
        ResizeDim(img, img, size, interp_);
    }
    if (!gt.IsEmpty()) {
        crop(gt, x, y, w, h);
        ResizeDim(gt, gt, size, gt_interp_);
    }
}

AugToFloat32::AugToFloat32(double divisor, double divisor_gt) : divisor_(divisor), divisor_gt_(divisor_gt) { Check(); }
void AugToFloat32::Describe(detail::ParamVisitor& v) {
    v.NumberParam("divisor", divisor_, {.lo = 0, .lo_open = true});
    v.NumberParam("divisor_gt", divisor_gt_, {.lo = 0, .lo_open = true});
}
AugmentationDraw AugToFloat32::Draw(const Image&, std::mt19937_64&) const { return {name, {}}; }
void AugToFloat32::Run(const AugmentationDraw&, Image& img, Image& gt) const {
    const double di = divisor_, dg = divisor_gt_;
    if (!img.IsEmpty()) to_float32(img, [di](double v, size_t) { return float(v / di); });
    if (!gt.IsEmpty()) to_float32(gt, [dg](double v, size_t) { return float(v / dg); });
}

void AugDivBy255::Describe(detail::ParamVisitor&) {}
AugmentationDraw AugDivBy255::Draw(const Image&, std::mt19937_64&) const { return {name, {}}; }
void AugDivBy255::Run(const AugmentationDraw&, Image& img, Image& gt) const {
    if (!img.IsEmpty()) to_float32(img, [](double v, size_t) { return float(v / 255); });
    if (!gt.IsEmpty()) to_float32(gt, [](double v, size_t) { return float(v / 255); });
}

// ---- photometric ----

AugGaussianBlur::AugGaussianBlur(Range sigma) : sigma_(sigma) { Check(); }
void AugGaussianBlur::Describe(detail::ParamVisitor& v) { v.RangeParam("sigma", sigma_, {.lo = 0, .required = true}); }
AugmentationDraw AugGaussianBlur::Draw(const Image&, std::mt19937_64& rng) const {
    return {name, {{"sigma", draw(rng, sigma_)}}};
}
void AugGaussianBlur::Run(const AugmentationDraw& d, Image& img, Image&) const {
    if (img.IsEmpty()) return;  // a replay onto a mask alone: nothing photometric
    need_layout(name, img, false);
    const double s = d.Get("sigma");
    if (s <= 0) return;
    // cv::GaussianBlur's kernel size rule (3 sigma each side for uint8, 4 otherwise) through
    // sepFilter2D with a float kernel: on OpenCV 4.6 twice as fast as its bit-exact uint8 blur,
    // within 1 of it
    const int k = int(std::lround(s * (img.elemtype_ == DataType::uint8 ? 3 : 4) * 2 + 1)) | 1;
    const cv::Mat kernel = cv::getGaussianKernel(k, s, CV_32F);
    in_place(name, img, [&](const cv::Mat& in, cv::Mat& out) {
        cv::sepFilter2D(in, out, -1, kernel, kernel, cv::Point(-1, -1), 0, cv::BORDER_REFLECT_101);
    });
}

#define ECVL_NOISE_AUG(Class, param, text, call)                                                           \
    Class::Class(Range param) : param##_(param) { Check(); }                                               \
    void Class::Describe(detail::ParamVisitor& v) { v.RangeParam(text, param##_, {.lo = 0, .required = true}); } \
    AugmentationDraw Class::Draw(const Image&, std::mt19937_64& rng) const {                               \
        AugmentationDraw d{name, {{text, draw(rng, param##_)}}};                                           \
        d.seed = rng();                                                                                    \
        return d;                                                                                          \
    }                                                                                                      \
    void Class::Run(const AugmentationDraw& d, Image& img, Image&) const {                                 \
        if (!img.IsEmpty()) call(img, img, d.Get(text), d.seed);                                           \
    }
ECVL_NOISE_AUG(AugAdditiveLaplaceNoise, std_dev, "std_dev", AdditiveLaplaceNoise)
ECVL_NOISE_AUG(AugAdditivePoissonNoise, lambda, "lambda", AdditivePoissonNoise)
ECVL_NOISE_AUG(AugGaussianNoise, std_dev, "std_dev", AdditiveGaussianNoise)
#undef ECVL_NOISE_AUG

AugGammaContrast::AugGammaContrast(Range gamma) : gamma_(gamma) { Check(); }
void AugGammaContrast::Describe(detail::ParamVisitor& v) { v.RangeParam("gamma", gamma_, {.lo = 0, .required = true}); }
AugmentationDraw AugGammaContrast::Draw(const Image&, std::mt19937_64& rng) const {
    return {name, {{"gamma", draw(rng, gamma_)}}};
}
void AugGammaContrast::Run(const AugmentationDraw& d, Image& img, Image&) const {
    if (img.IsEmpty()) return;  // a replay onto a mask alone: nothing photometric
    // gamma 0 as its limit: x^g -> 1 for x > 0, 0 stays 0
    GammaContrast(img, img, std::max(d.Get("gamma"), 1e-300));
}

AugBrightness::AugBrightness(Range beta) : beta_(beta) { Check(); }
void AugBrightness::Describe(detail::ParamVisitor& v) { v.RangeParam("beta", beta_, {.required = true}); }
AugmentationDraw AugBrightness::Draw(const Image&, std::mt19937_64& rng) const {
    return {name, {{"beta", draw(rng, beta_)}}};
}
void AugBrightness::Run(const AugmentationDraw& d, Image& img, Image&) const {
    if (img.IsEmpty()) return;  // a replay onto a mask alone: nothing photometric
    const double beta = d.Get("beta");
    if (img.elemtype_ != DataType::uint8 || !img.contiguous_) {
        Brightness(img, img, beta);
        return;
    }
    // uint8, in place when the memory is img's own: v + beta rounded to nearest (as ecvl::Add) is
    // v + round(beta), a saturating add of a whole number, unless beta ends in .5 (then ties go
    // to even, and a table of the 256 results gives them)
    if (!img.IsOwner()) img = img.Clone();
    uint8_t* p = img.data_;
    const size_t n = img.Elements();
    const double k = std::nearbyint(beta);
    if (std::fabs(beta - k) != 0.5) {
        cv::Mat all(1, int(n), CV_8UC1, p);
        if (k >= 0) cv::add(all, cv::Scalar::all(std::min(k, 255.0)), all);
        else cv::subtract(all, cv::Scalar::all(std::min(-k, 255.0)), all);
        return;
    }
    uint8_t lut[256];
    for (int v = 0; v < 256; ++v) lut[v] = uint8_t(std::clamp(std::nearbyint(v + beta), 0.0, 255.0));
    for (size_t i = 0; i < n; ++i) p[i] = lut[p[i]];
}

AugContrast::AugContrast(Range alpha) : alpha_(alpha) { Check(); }
void AugContrast::Describe(detail::ParamVisitor& v) { v.RangeParam("alpha", alpha_, {.lo = 0, .required = true}); }
AugmentationDraw AugContrast::Draw(const Image&, std::mt19937_64& rng) const {
    return {name, {{"alpha", draw(rng, alpha_)}}};
}
void AugContrast::Run(const AugmentationDraw& d, Image& img, Image&) const {
    if (!img.IsEmpty()) Contrast(img, img, d.Get("alpha"));
}

AugCoarseDropout::AugCoarseDropout(Range p, Range drop_size, double per_channel)
    : p_(p), drop_size_(drop_size), per_channel_(per_channel) {
    Check();
}
void AugCoarseDropout::Describe(detail::ParamVisitor& v) {
    v.RangeParam("p", p_, {.lo = 0, .hi = 1, .required = true});
    v.RangeParam("drop_size", drop_size_, {.lo = 0, .hi = 1, .lo_open = true, .required = true});
    v.NumberParam("per_channel", per_channel_, kProb);
}
AugmentationDraw AugCoarseDropout::Draw(const Image&, std::mt19937_64& rng) const {
    const double p = draw(rng, p_), s = draw(rng, drop_size_), pc = bernoulli(rng, per_channel_) ? 1.0 : 0.0;
    AugmentationDraw d{name, {{"p", p}, {"drop_size", s}, {"per_channel", pc}}};
    d.seed = rng();
    return d;
}
void AugCoarseDropout::Run(const AugmentationDraw& d, Image& img, Image&) const {
    if (img.IsEmpty()) return;  // a replay onto a mask alone: nothing photometric
    CoarseDropout(img, img, d.Get("p"), d.Get("drop_size"), d.Get("per_channel") != 0, d.seed);
}

#define ECVL_SALT_AUG(Class, call)                                                                  \
    Class::Class(Range p, double per_channel) : p_(p), per_channel_(per_channel) { Check(); }       \
    void Class::Describe(detail::ParamVisitor& v) {                                                 \
        v.RangeParam("p", p_, {.lo = 0, .hi = 1, .required = true});                                \
        v.NumberParam("per_channel", per_channel_, kProb);                                          \
    }                                                                                               \
    AugmentationDraw Class::Draw(const Image&, std::mt19937_64& rng) const {                        \
        const double p = draw(rng, p_), pc = bernoulli(rng, per_channel_) ? 1.0 : 0.0;              \
        AugmentationDraw d{name, {{"p", p}, {"per_channel", pc}}};                                  \
        d.seed = rng();                                                                             \
        return d;                                                                                   \
    }                                                                                               \
    void Class::Run(const AugmentationDraw& d, Image& img, Image&) const {                          \
        if (!img.IsEmpty()) call(img, img, d.Get("p"), d.Get("per_channel") != 0, d.seed);          \
    }
ECVL_SALT_AUG(AugSalt, Salt)
ECVL_SALT_AUG(AugPepper, Pepper)
ECVL_SALT_AUG(AugSaltAndPepper, SaltAndPepper)
#undef ECVL_SALT_AUG

AugNormalize::AugNormalize(std::vector<double> mean, std::vector<double> std) : mean_(std::move(mean)), std_(std::move(std)) {
    Check();
}
void AugNormalize::Describe(detail::ParamVisitor& v) {
    v.VectorParam("mean", mean_, {.each = {}, .number_ok = true, .required = true});
    v.VectorParam("std", std_, {.each = {.lo = 0, .lo_open = true}, .number_ok = true, .required = true});
}
AugmentationDraw AugNormalize::Draw(const Image&, std::mt19937_64&) const { return {name, {}}; }
void AugNormalize::Run(const AugmentationDraw&, Image& img, Image&) const {
    if (img.IsEmpty()) return;  // a replay onto a mask alone: nothing photometric
    const size_t ci = img.channels_.find('c');
    const size_t n = ci == std::string::npos ? 1 : size_t(img.dims_[ci]);
    ECVL_CHECK((mean_.size() == 1 || mean_.size() == n) && (std_.size() == 1 || std_.size() == n),
               name << ": mean and std need 1 or " << n << " values (the image has " << n << " channels), got "
                    << mean_.size() << " and " << std_.size());
    const std::vector<double>& m = mean_;
    const std::vector<double>& s = std_;
    to_float32(img, [&](double v, size_t c) {
        return float((v - m[m.size() == 1 ? 0 : c]) / s[s.size() == 1 ? 0 : c]);
    });
}

AugScaleTo::AugScaleTo(double new_min, double new_max) : new_min_(new_min), new_max_(new_max) { Check(); }
void AugScaleTo::Describe(detail::ParamVisitor& v) {
    v.NumberParam("new_min", new_min_, {.required = true});
    // the bound follows new_min, already read when this line runs
    v.NumberParam("new_max", new_max_, {.lo = new_min_, .lo_open = true, .required = true});
}
AugmentationDraw AugScaleTo::Draw(const Image&, std::mt19937_64&) const { return {name, {}}; }
void AugScaleTo::Run(const AugmentationDraw&, Image& img, Image&) const {
    if (!img.IsEmpty()) ScaleTo(img, img, new_min_, new_max_);
}

AugCLAHE::AugCLAHE(Range clip_limit, std::vector<double> tile_grid_size)
    : clip_limit_(clip_limit), tile_grid_size_(std::move(tile_grid_size)) {
    Check();
}
void AugCLAHE::Describe(detail::ParamVisitor& v) {
    v.RangeParam("clip_limit", clip_limit_, {.lo = 0, .lo_open = true});
    v.VectorParam("tile_grid_size", tile_grid_size_,
                  {.each = {.lo = 1, .hi = 1024, .integer = true}, .min_size = 2, .max_size = 2});
}
AugmentationDraw AugCLAHE::Draw(const Image&, std::mt19937_64& rng) const {
    return {name, {{"clip_limit", draw(rng, clip_limit_)}}};
}
void AugCLAHE::Run(const AugmentationDraw& d, Image& img, Image&) const {
    if (img.IsEmpty()) return;  // a replay onto a mask alone: nothing photometric
    need_layout(name, img, false);
    ECVL_CHECK(img.elemtype_ == DataType::uint8 || img.elemtype_ == DataType::uint16,
               name << ": needs uint8 or uint16 pixels, got " << DataTypeName(img.elemtype_));
    cv::Ptr<cv::CLAHE> clahe =
        cv::createCLAHE(d.Get("clip_limit"), cv::Size(int(tile_grid_size_[0]), int(tile_grid_size_[1])));
    const bool colour = img.elemtype_ == DataType::uint8 && img.Channels() == 3 &&
                        (img.colortype_ == ColorType::RGB || img.colortype_ == ColorType::BGR);
    if (!colour) {  // channel by channel
        if (is_inter(img) && img.dims_[0] > 1) {
            const std::string ch = img.channels_;
            Image planar;
            RearrangeChannels(img, planar, "xyc");
            per_plane(name, planar, W(planar), H(planar), [&](const cv::Mat& in, cv::Mat& out) { clahe->apply(in, out); });
            RearrangeChannels(planar, img, ch);
        } else {
            per_plane(name, img, W(img), H(img), [&](const cv::Mat& in, cv::Mat& out) { clahe->apply(in, out); });
        }
        return;
    }
    // colour: equalize the lightness of CIE Lab, keep a and b
    const std::string ch = img.channels_;
    const ColorType ct = img.colortype_;
    cv::Mat bgr = detail::ImageToMat(img), lab;
    try {
        cv::cvtColor(bgr, lab, ct == ColorType::RGB ? cv::COLOR_RGB2Lab : cv::COLOR_BGR2Lab);
        std::vector<cv::Mat> parts;
        cv::split(lab, parts);
        clahe->apply(parts[0], parts[0]);
        cv::merge(parts, lab);
        cv::cvtColor(lab, bgr, ct == ColorType::RGB ? cv::COLOR_Lab2RGB : cv::COLOR_Lab2BGR);
    } catch (const cv::Exception& e) {
        ECVL_FAIL(name << ": OpenCV: " << e.err);
    }
    Image inter = detail::MatToImage(bgr, ct);
    inter.spacings_ = std::vector<float>{1.0f, img.spacings_[xaxis(img)], img.spacings_[xaxis(img) + 1]};
    inter.meta_ = img.meta_;
    if (ch == "cxy") img = inter.Clone();
    else RearrangeChannels(inter, img, ch);
}

// ---- containers ----

namespace {
void check_children(const char* who, const std::vector<AugmentationPtr>& augs) {
    for (size_t i = 0; i < augs.size(); ++i) ECVL_CHECK(augs[i] != nullptr, who << ": child " << i << " is null");
}
std::vector<AugmentationPtr> clone_all(const std::vector<AugmentationPtr>& augs) {
    std::vector<AugmentationPtr> c;
    c.reserve(augs.size());
    for (const auto& a : augs) c.push_back(a->Clone());
    return c;
}
std::string indent(const std::string& text) {
    std::string out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out += "    " + line + "\n";
    return out;
}
std::string children_text(const std::string& head, const std::vector<AugmentationPtr>& augs) {
    std::string s = head + "\n";
    for (const auto& a : augs) s += indent(a->ToText());
    return s + "End";
}
const AugmentationDraw& container_draw(const char* who, const AugmentationRecord& r, size_t& next) {
    ECVL_CHECK(next < r.draws.size() && r.draws[next].augmentation == who,
               "Replay: " << who << " expects its choice at position " << next << " of the record, which holds "
                          << (next < r.draws.size() ? r.draws[next].augmentation : std::string("nothing")));
    return r.draws[next++];
}
}  // namespace

SequentialAugmentationContainer::SequentialAugmentationContainer(std::vector<AugmentationPtr> augs)
    : augs_(std::move(augs)) {
    check_children("SequentialAugmentationContainer", augs_);
}
void SequentialAugmentationContainer::Apply(Image& img, Image& gt, std::mt19937_64& rng) const {
    for (const auto& a : augs_) a->Apply(img, gt, rng);
}
void SequentialAugmentationContainer::Apply(Image& img, Image& gt, std::mt19937_64& rng, AugmentationRecord& record) const {
    for (const auto& a : augs_) a->Apply(img, gt, rng, record);
}
void SequentialAugmentationContainer::ReplayFrom(const AugmentationRecord& record, size_t& next, Image& img, Image& gt) const {
    for (const auto& a : augs_) a->ReplayFrom(record, next, img, gt);
}
std::shared_ptr<Augmentation> SequentialAugmentationContainer::Clone() const {
    return std::make_shared<SequentialAugmentationContainer>(clone_all(augs_));
}
std::string SequentialAugmentationContainer::ToText() const {
    return children_text("SequentialAugmentationContainer", augs_);
}

OneOfAugmentationContainer::OneOfAugmentationContainer(double p, std::vector<AugmentationPtr> augs)
    : p_(p), augs_(std::move(augs)) {
    ECVL_CHECK(p >= 0 && p <= 1, "OneOfAugmentationContainer: p must be in [0, 1], got " << p);
    check_children("OneOfAugmentationContainer", augs_);
}
int OneOfAugmentationContainer::Choose(std::mt19937_64& rng) const {
    if (!bernoulli(rng, p_) || augs_.empty()) return -1;
    return int(draw_int(rng, 0, int64_t(augs_.size()) - 1));
}
void OneOfAugmentationContainer::Apply(Image& img, Image& gt, std::mt19937_64& rng) const {
    const int c = Choose(rng);
    if (c >= 0) augs_[size_t(c)]->Apply(img, gt, rng);
}
void OneOfAugmentationContainer::Apply(Image& img, Image& gt, std::mt19937_64& rng, AugmentationRecord& record) const {
    const int c = Choose(rng);
    record.draws.push_back({"OneOfAugmentationContainer", {{"chosen", double(c)}}});
    if (c >= 0) augs_[size_t(c)]->Apply(img, gt, rng, record);
}
void OneOfAugmentationContainer::ReplayFrom(const AugmentationRecord& record, size_t& next, Image& img, Image& gt) const {
    const int c = int(container_draw("OneOfAugmentationContainer", record, next).Get("chosen"));
    ECVL_CHECK(c < int(augs_.size()), "Replay: OneOfAugmentationContainer has " << augs_.size() << " children, the record chose " << c);
    if (c >= 0) augs_[size_t(c)]->ReplayFrom(record, next, img, gt);
}
std::shared_ptr<Augmentation> OneOfAugmentationContainer::Clone() const {
    return std::make_shared<OneOfAugmentationContainer>(p_, clone_all(augs_));
}
std::string OneOfAugmentationContainer::ToText() const {
    return children_text("OneOfAugmentationContainer p=" + detail::FormatNumber(p_), augs_);
}

SomeOfAugmentationContainer::SomeOfAugmentationContainer(int n, double p, std::vector<AugmentationPtr> augs)
    : n_(n), p_(p), augs_(std::move(augs)) {
    ECVL_CHECK(p >= 0 && p <= 1, "SomeOfAugmentationContainer: p must be in [0, 1], got " << p);
    ECVL_CHECK(n >= 1 && size_t(n) <= augs_.size(),
               "SomeOfAugmentationContainer: n must be in [1, " << augs_.size() << "] (the number of children), got " << n);
    check_children("SomeOfAugmentationContainer", augs_);
}
std::vector<int> SomeOfAugmentationContainer::Choose(std::mt19937_64& rng) const {
    if (!bernoulli(rng, p_)) return {};
    std::vector<int> idx(augs_.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = int(i);
    for (int i = 0; i < n_; ++i)  // partial Fisher-Yates: the first n are a uniform choice
        std::swap(idx[size_t(i)], idx[size_t(draw_int(rng, i, int64_t(idx.size()) - 1))]);
    idx.resize(size_t(n_));
    std::sort(idx.begin(), idx.end());  // applied in the listed order
    return idx;
}
void SomeOfAugmentationContainer::Apply(Image& img, Image& gt, std::mt19937_64& rng) const {
    for (int c : Choose(rng)) augs_[size_t(c)]->Apply(img, gt, rng);
}
void SomeOfAugmentationContainer::Apply(Image& img, Image& gt, std::mt19937_64& rng, AugmentationRecord& record) const {
    const std::vector<int> chosen = Choose(rng);
    AugmentationDraw d{"SomeOfAugmentationContainer", {}};
    for (int c : chosen) d.values.emplace_back("chosen", double(c));
    record.draws.push_back(std::move(d));
    for (int c : chosen) augs_[size_t(c)]->Apply(img, gt, rng, record);
}
void SomeOfAugmentationContainer::ReplayFrom(const AugmentationRecord& record, size_t& next, Image& img, Image& gt) const {
    const AugmentationDraw d = container_draw("SomeOfAugmentationContainer", record, next);
    for (const auto& [k, v] : d.values) {
        ECVL_CHECK(k == "chosen" && v >= 0 && v < double(augs_.size()),
                   "Replay: SomeOfAugmentationContainer has " << augs_.size() << " children, the record chose " << v);
        augs_[size_t(v)]->ReplayFrom(record, next, img, gt);
    }
}
std::shared_ptr<Augmentation> SomeOfAugmentationContainer::Clone() const {
    return std::make_shared<SomeOfAugmentationContainer>(n_, p_, clone_all(augs_));
}
std::string SomeOfAugmentationContainer::ToText() const {
    return children_text("SomeOfAugmentationContainer n=" + std::to_string(n_) + " p=" + detail::FormatNumber(p_), augs_);
}

// ---- per split ----

DatasetAugmentations::DatasetAugmentations(std::vector<AugmentationPtr> per_split) : augs_(std::move(per_split)) {}
bool DatasetAugmentations::IsEmpty(size_t split) const { return split >= augs_.size() || !augs_[split]; }
AugmentationPtr DatasetAugmentations::Get(size_t split) const { return IsEmpty(split) ? nullptr : augs_[split]; }
void DatasetAugmentations::Apply(size_t split, Image& img, Image& gt, std::mt19937_64& rng) const {
    if (!IsEmpty(split)) augs_[split]->Apply(img, gt, rng);
}
void DatasetAugmentations::Apply(size_t split, Image& img, std::mt19937_64& rng) const {
    Image gt;
    Apply(split, img, gt, rng);
}

}  // namespace ecvl
