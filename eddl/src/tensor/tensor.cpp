#include "eddl/tensor.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <numeric>

#include "tensor/dispatch.h"
#include "tensor/random.h"

namespace eddl {

std::string shape_str(const Shape& s) {
    std::ostringstream os;
    os << "(";
    for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
    os << ")";
    return os.str();
}

namespace {

int64_t numel_of(const Shape& s) {
    int64_t n = 1;
    for (int d : s) n *= d;
    return n;
}

void check_shape(const Shape& s) {
    EDDL_CHECK(s.size() <= 8, "tensor shape " << shape_str(s) << " has more than 8 dimensions");
    for (int d : s) EDDL_CHECK(d >= 0, "tensor shape " << shape_str(s) << " has a negative dimension");
}

int norm_axis(int axis, int ndim, const char* what) {
    const int a = axis < 0 ? axis + ndim : axis;
    EDDL_CHECK(a >= 0 && a < ndim, what << ": axis " << axis << " out of range for " << ndim << "-d tensor");
    return a;
}

BroadcastPlan make_plan(const Shape& a, const Shape& b, Shape& out, const char* what) {
    const int nd = int(std::max(a.size(), b.size()));
    EDDL_CHECK(nd <= 8, what << ": more than 8 dimensions");
    BroadcastPlan p;
    p.ndim = nd;
    out.assign(nd, 1);
    for (int i = 0; i < nd; ++i) {
        const int ia = i - (nd - int(a.size())), ib = i - (nd - int(b.size()));
        const int da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
        EDDL_CHECK(da == db || da == 1 || db == 1,
                   what << ": shapes " << shape_str(a) << " and " << shape_str(b) << " do not broadcast");
        out[i] = std::max(da, db);
        if (da == 0 || db == 0) out[i] = 0;
        p.dims[i] = out[i];
    }
    int64_t sa = 1, sb = 1;
    for (int i = nd - 1; i >= 0; --i) {
        const int ia = i - (nd - int(a.size())), ib = i - (nd - int(b.size()));
        const int da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
        p.sa[i] = (da == 1 && out[i] != 1) ? 0 : sa;
        p.sb[i] = (db == 1 && out[i] != 1) ? 0 : sb;
        sa *= da;
        sb *= db;
    }
    p.n = numel_of(out);
    return p;
}

void binary_into(BinaryOp op, const Tensor& A, const Tensor& B, Tensor& C, const char* what) {
    EDDL_CHECK(A.device == B.device && A.device == C.device,
               what << ": tensors on different devices " << A.device.str() << ", " << B.device.str());
    Shape out;
    const BroadcastPlan p = make_plan(A.shape, B.shape, out, what);
    EDDL_CHECK(out == C.shape, what << ": result of " << shape_str(A.shape) << " and " << shape_str(B.shape)
                                    << " has shape " << shape_str(out) << ", output has " << shape_str(C.shape));
    if (p.n) kernels(A.device).binary(op, A.ptr, B.ptr, C.ptr, p);
}

tensor binary_new(BinaryOp op, const Tensor& A, const Tensor& B, const char* what) {
    Shape out;
    make_plan(A.shape, B.shape, out, what);
    auto C = Tensor::empty(out, A.device);
    binary_into(op, A, B, *C, what);
    return C;
}

Tensor& unary_inplace(Tensor& t, UnaryOp op, float a = 0, float b = 0) {
    if (t.size) kernels(t.device).unary(op, t.ptr, t.ptr, t.size, a, b);
    return t;
}

tensor unary_new(const Tensor& t, UnaryOp op, float a = 0, float b = 0) {
    auto r = Tensor::empty(t.shape, t.device);
    if (t.size) kernels(t.device).unary(op, t.ptr, r->ptr, t.size, a, b);
    return r;
}

}  // namespace

// ---- construction ------------------------------------------------------------------------

Tensor::Tensor() { stride.clear(); }

Tensor::Tensor(const Shape& s, Device dev) : shape(s), device(dev) {
    check_shape(s);
    kernels(dev);  // throws if the build has no backend for dev
    alloc_();
}

Tensor::Tensor(const std::vector<float>& values, const Shape& s, Device dev) : Tensor(s, dev) {
    EDDL_CHECK(int64_t(values.size()) == size,
               "Tensor: " << values.size() << " values given for shape " << shape_str(s) << " (" << size << ")");
    if (size) std::memcpy(ptr, values.data(), size * sizeof(float));
}

void Tensor::alloc_() {
    ndim = int(shape.size());
    size = ndim ? numel_of(shape) : 0;
    stride.assign(ndim, 1);
    for (int i = ndim - 2; i >= 0; --i) stride[i] = stride[i + 1] * shape[i + 1];
    if (size == 0) {
        storage_.reset();
        ptr = nullptr;
        return;
    }
    const size_t bytes = ((size_t(size) * sizeof(float) + 63) / 64) * 64;
    float* p = static_cast<float*>(std::aligned_alloc(64, bytes));
    EDDL_CHECK(p, "Tensor: cannot allocate " << bytes << " bytes for shape " << shape_str(shape));
    storage_ = std::shared_ptr<float>(p, [](float* q) { std::free(q); });
    ptr = p;
}

tensor Tensor::empty(const Shape& s, Device dev) { return std::make_shared<Tensor>(s, dev); }
tensor Tensor::zeros(const Shape& s, Device dev) { return full(s, 0.0f, dev); }
tensor Tensor::ones(const Shape& s, Device dev) { return full(s, 1.0f, dev); }
tensor Tensor::full(const Shape& s, float v, Device dev) {
    auto t = empty(s, dev);
    t->fill_(v);
    return t;
}

tensor Tensor::arange(float start, float end, float step, Device dev) {
    EDDL_CHECK(step != 0.0f && (end - start) / step >= 0,
               "arange(" << start << ", " << end << ", " << step << "): empty or infinite range");
    const int n = int(std::ceil((end - start) / step));
    std::vector<float> v(n);
    for (int i = 0; i < n; ++i) v[i] = start + float(i) * step;
    return std::make_shared<Tensor>(v, Shape{n}, dev);
}

tensor Tensor::range(float start, float end, float step, Device dev) {
    EDDL_CHECK(step != 0.0f && (end - start) / step >= 0,
               "range(" << start << ", " << end << ", " << step << "): empty or infinite range");
    const int n = int(std::floor((end - start) / step + 1e-6f)) + 1;
    std::vector<float> v(n);
    for (int i = 0; i < n; ++i) v[i] = start + float(i) * step;
    return std::make_shared<Tensor>(v, Shape{n}, dev);
}

tensor Tensor::linspace(float start, float end, int steps, Device dev) {
    EDDL_CHECK(steps >= 1, "linspace: steps must be >= 1, got " << steps);
    std::vector<float> v(steps);
    for (int i = 0; i < steps; ++i)
        v[i] = steps == 1 ? start : float(start + (double(end) - start) * i / (steps - 1));
    return std::make_shared<Tensor>(v, Shape{steps}, dev);
}

tensor Tensor::eye(int rows, int offset, Device dev) {
    EDDL_CHECK(rows >= 1, "eye: rows must be >= 1, got " << rows);
    auto t = zeros({rows, rows}, dev);
    for (int i = 0; i < rows; ++i)
        if (i + offset >= 0 && i + offset < rows) t->ptr[int64_t(i) * rows + i + offset] = 1.0f;
    return t;
}

tensor Tensor::randn(const Shape& s, uint64_t seed, Device dev) {
    auto t = empty(s, dev);
    t->fill_rand_normal_(0.0f, 1.0f, seed);
    return t;
}

tensor Tensor::randu(const Shape& s, uint64_t seed, Device dev) {
    auto t = empty(s, dev);
    t->fill_rand_uniform_(0.0f, 1.0f, seed);
    return t;
}

tensor Tensor::onehot(const Tensor& labels, int num_classes) {
    EDDL_CHECK(num_classes >= 1, "onehot: num_classes must be >= 1, got " << num_classes);
    Shape s = labels.shape;
    s.push_back(num_classes);
    auto t = zeros(s, labels.device);
    for (int64_t i = 0; i < labels.size; ++i) {
        const float v = labels.ptr[i];
        EDDL_CHECK(v >= 0 && v < num_classes && v == std::floor(v),
                   "onehot: label " << v << " at position " << i << " is not a class id in [0, " << num_classes << ")");
        t->ptr[i * num_classes + int64_t(v)] = 1.0f;
    }
    return t;
}

tensor Tensor::clone() const {
    auto t = empty(shape, device);
    if (size) kernels(device).copy(ptr, t->ptr, size);
    return t;
}

// ---- information ---------------------------------------------------------------------------

std::vector<float> Tensor::to_std() const { return std::vector<float>(ptr, ptr + size); }

float Tensor::item() const {
    EDDL_CHECK(size == 1, "item(): tensor of shape " << shape_str(shape) << " has " << size << " elements, not 1");
    return ptr[0];
}

static int64_t flat_index(const Tensor& t, const std::vector<int>& idx) {
    EDDL_CHECK(int(idx.size()) == t.ndim, "index of " << idx.size() << " values for shape " << shape_str(t.shape));
    int64_t off = 0;
    for (int i = 0; i < t.ndim; ++i) {
        EDDL_CHECK(idx[i] >= 0 && idx[i] < t.shape[i],
                   "index " << idx[i] << " out of range for dimension " << i << " of shape " << shape_str(t.shape));
        off += idx[i] * t.stride[i];
    }
    return off;
}

float Tensor::get(const std::vector<int>& idx) const { return ptr[flat_index(*this, idx)]; }
void Tensor::set(const std::vector<int>& idx, float v) { ptr[flat_index(*this, idx)] = v; }

std::string Tensor::info() const {
    std::ostringstream os;
    os << "Tensor shape=" << shape_str(shape) << " size=" << size << " device=" << device.str();
    return os.str();
}

void Tensor::print(int precision) const {
    std::cout << info() << "\n" << std::fixed << std::setprecision(precision);
    const int64_t cols = ndim ? shape.back() : 1;
    for (int64_t i = 0; i < size; ++i) std::cout << ptr[i] << ((i + 1) % cols == 0 ? "\n" : " ");
    std::cout << std::defaultfloat;
}

bool Tensor::equivalent(const Tensor& a, const Tensor& b, float atol, float rtol) {
    if (a.shape != b.shape) return false;
    for (int64_t i = 0; i < a.size; ++i) {
        const float x = a.ptr[i], y = b.ptr[i];
        if (std::isnan(x) != std::isnan(y)) return false;
        if (!std::isnan(x) && std::fabs(x - y) > atol + rtol * std::fabs(y)) return false;
    }
    return true;
}

// ---- fill --------------------------------------------------------------------------------

Tensor& Tensor::fill_(float v) {
    if (size) kernels(device).fill(ptr, size, v);
    return *this;
}

Tensor& Tensor::fill_rand_uniform_(float low, float high, uint64_t seed) {
    Rng rng(seed);
    for (int64_t i = 0; i < size; ++i) ptr[i] = rng.uniform(low, high);
    return *this;
}

Tensor& Tensor::fill_rand_normal_(float mean, float stdev, uint64_t seed) {
    Rng rng(seed);
    for (int64_t i = 0; i < size; ++i) ptr[i] = mean + stdev * float(rng.normal());
    return *this;
}

void Tensor::copy_from(const Tensor& src) {
    EDDL_CHECK(src.size == size, "copy_from: source " << shape_str(src.shape) << " has " << src.size
                                                      << " elements, destination " << shape_str(shape) << " has "
                                                      << size);
    if (size && src.ptr != ptr) kernels(device).copy(src.ptr, ptr, size);
}

// ---- element-wise -------------------------------------------------------------------------

#define EDDL_UNARY(name, OP)                                        \
    Tensor& Tensor::name##_() { return unary_inplace(*this, UnaryOp::OP); }
EDDL_UNARY(abs, Abs) EDDL_UNARY(neg, Neg) EDDL_UNARY(exp, Exp) EDDL_UNARY(log, Log) EDDL_UNARY(log2, Log2)
EDDL_UNARY(log10, Log10) EDDL_UNARY(sqrt, Sqrt) EDDL_UNARY(rsqrt, Rsqrt) EDDL_UNARY(sqr, Sqr) EDDL_UNARY(inv, Inv)
EDDL_UNARY(sin, Sin) EDDL_UNARY(cos, Cos) EDDL_UNARY(tan, Tan) EDDL_UNARY(asin, Asin) EDDL_UNARY(acos, Acos)
EDDL_UNARY(atan, Atan) EDDL_UNARY(sinh, Sinh) EDDL_UNARY(cosh, Cosh) EDDL_UNARY(tanh, Tanh)
EDDL_UNARY(sigmoid, Sigmoid) EDDL_UNARY(relu, Relu) EDDL_UNARY(ceil, Ceil) EDDL_UNARY(floor, Floor)
EDDL_UNARY(round, Round) EDDL_UNARY(trunc, Trunc) EDDL_UNARY(sign, Sign)
#undef EDDL_UNARY

Tensor& Tensor::clamp_(float lo, float hi) {
    EDDL_CHECK(lo <= hi, "clamp: lower bound " << lo << " above upper bound " << hi);
    return unary_inplace(*this, UnaryOp::Clamp, lo, hi);
}
Tensor& Tensor::pow_(float e) { return unary_inplace(*this, UnaryOp::Pow, e); }
Tensor& Tensor::add_(float v) { return unary_inplace(*this, UnaryOp::AddScalar, v); }
Tensor& Tensor::sub_(float v) { return unary_inplace(*this, UnaryOp::AddScalar, -v); }
Tensor& Tensor::mult_(float v) { return unary_inplace(*this, UnaryOp::MulScalar, v); }
Tensor& Tensor::div_(float v) { return unary_inplace(*this, UnaryOp::MulScalar, 1.0f / v); }
Tensor& Tensor::add_(const Tensor& B) { binary_into(BinaryOp::Add, *this, B, *this, "add_"); return *this; }
Tensor& Tensor::sub_(const Tensor& B) { binary_into(BinaryOp::Sub, *this, B, *this, "sub_"); return *this; }
Tensor& Tensor::mult_(const Tensor& B) { binary_into(BinaryOp::Mul, *this, B, *this, "mult_"); return *this; }
Tensor& Tensor::div_(const Tensor& B) { binary_into(BinaryOp::Div, *this, B, *this, "div_"); return *this; }

tensor Tensor::abs() const { return unary_new(*this, UnaryOp::Abs); }
tensor Tensor::neg() const { return unary_new(*this, UnaryOp::Neg); }
tensor Tensor::exp() const { return unary_new(*this, UnaryOp::Exp); }
tensor Tensor::log() const { return unary_new(*this, UnaryOp::Log); }
tensor Tensor::sqrt() const { return unary_new(*this, UnaryOp::Sqrt); }
tensor Tensor::sqr() const { return unary_new(*this, UnaryOp::Sqr); }
tensor Tensor::tanh() const { return unary_new(*this, UnaryOp::Tanh); }
tensor Tensor::sigmoid() const { return unary_new(*this, UnaryOp::Sigmoid); }
tensor Tensor::relu() const { return unary_new(*this, UnaryOp::Relu); }
tensor Tensor::clamp(float lo, float hi) const {
    EDDL_CHECK(lo <= hi, "clamp: lower bound " << lo << " above upper bound " << hi);
    return unary_new(*this, UnaryOp::Clamp, lo, hi);
}
tensor Tensor::pow(float e) const { return unary_new(*this, UnaryOp::Pow, e); }

tensor Tensor::add(const Tensor& A, const Tensor& B) { return binary_new(BinaryOp::Add, A, B, "add"); }
tensor Tensor::sub(const Tensor& A, const Tensor& B) { return binary_new(BinaryOp::Sub, A, B, "sub"); }
tensor Tensor::mult(const Tensor& A, const Tensor& B) { return binary_new(BinaryOp::Mul, A, B, "mult"); }
tensor Tensor::div(const Tensor& A, const Tensor& B) { return binary_new(BinaryOp::Div, A, B, "div"); }
tensor Tensor::maximum(const Tensor& A, const Tensor& B) { return binary_new(BinaryOp::Max, A, B, "maximum"); }
tensor Tensor::minimum(const Tensor& A, const Tensor& B) { return binary_new(BinaryOp::Min, A, B, "minimum"); }
void Tensor::add(const Tensor& A, const Tensor& B, Tensor& C) { binary_into(BinaryOp::Add, A, B, C, "add"); }
void Tensor::sub(const Tensor& A, const Tensor& B, Tensor& C) { binary_into(BinaryOp::Sub, A, B, C, "sub"); }
void Tensor::mult(const Tensor& A, const Tensor& B, Tensor& C) { binary_into(BinaryOp::Mul, A, B, C, "mult"); }
void Tensor::div(const Tensor& A, const Tensor& B, Tensor& C) { binary_into(BinaryOp::Div, A, B, C, "div"); }

// ---- reductions -----------------------------------------------------------------------------

namespace {

tensor reduce_axes(const Tensor& t, ReduceOp op, std::vector<int> axes, bool keepdims, const char* what) {
    EDDL_CHECK(t.size > 0, what << ": empty tensor " << shape_str(t.shape));
    for (int& a : axes) a = norm_axis(a, t.ndim, what);
    std::sort(axes.begin(), axes.end());
    EDDL_CHECK(std::adjacent_find(axes.begin(), axes.end()) == axes.end(), what << ": repeated axis");
    EDDL_CHECK(!axes.empty(), what << ": no axes given");
    Shape out;
    std::vector<int> kept;
    for (int i = 0; i < t.ndim; ++i) {
        const bool red = std::binary_search(axes.begin(), axes.end(), i);
        if (!red) kept.push_back(i);
        if (!red) out.push_back(t.shape[i]);
        else if (keepdims) out.push_back(1);
    }
    if (out.empty()) out = {1};
    auto r = Tensor::empty(out, t.device);
    const bool contiguous_block = axes.back() - axes.front() + 1 == int(axes.size());
    int64_t outer = 1, mid = 1, inner = 1;
    if (contiguous_block) {
        for (int i = 0; i < t.ndim; ++i)
            (i < axes.front() ? outer : i > axes.back() ? inner : mid) *= t.shape[i];
        kernels(t.device).reduce(op, t.ptr, r->ptr, outer, mid, inner);
        return r;
    }
    // Scattered axes: move kept axes first, reduced axes last, then reduce contiguous rows.
    std::vector<int> perm = kept;
    perm.insert(perm.end(), axes.begin(), axes.end());
    auto p = t.permute(perm);
    for (int a : kept) outer *= t.shape[a];
    for (int a : axes) mid *= t.shape[a];
    kernels(t.device).reduce(op, p->ptr, r->ptr, outer, mid, 1);
    return r;
}

float reduce_all(const Tensor& t, ReduceOp op, const char* what) {
    EDDL_CHECK(t.size > 0, what << ": empty tensor");
    float v;
    kernels(t.device).reduce(op, t.ptr, &v, 1, t.size, 1);
    return v;
}

}  // namespace

float Tensor::sum() const { return reduce_all(*this, ReduceOp::Sum, "sum"); }
float Tensor::mean() const { return reduce_all(*this, ReduceOp::Mean, "mean"); }
float Tensor::max() const { return reduce_all(*this, ReduceOp::Max, "max"); }
float Tensor::min() const { return reduce_all(*this, ReduceOp::Min, "min"); }
float Tensor::var() const { return reduce_all(*this, ReduceOp::Var, "var"); }
float Tensor::std() const { return std::sqrt(var()); }
int Tensor::argmax() const { return int(reduce_all(*this, ReduceOp::ArgMax, "argmax")); }
tensor Tensor::sum(const std::vector<int>& a, bool k) const { return reduce_axes(*this, ReduceOp::Sum, a, k, "sum"); }
tensor Tensor::mean(const std::vector<int>& a, bool k) const { return reduce_axes(*this, ReduceOp::Mean, a, k, "mean"); }
tensor Tensor::max(const std::vector<int>& a, bool k) const { return reduce_axes(*this, ReduceOp::Max, a, k, "max"); }
tensor Tensor::min(const std::vector<int>& a, bool k) const { return reduce_axes(*this, ReduceOp::Min, a, k, "min"); }
tensor Tensor::var(const std::vector<int>& a, bool k) const { return reduce_axes(*this, ReduceOp::Var, a, k, "var"); }
tensor Tensor::argmax(int axis, bool k) const { return reduce_axes(*this, ReduceOp::ArgMax, {axis}, k, "argmax"); }

// ---- shape -------------------------------------------------------------------------------

tensor Tensor::reshape(const Shape& new_shape) const {
    auto t = std::make_shared<Tensor>(*this);
    t->reshape_(new_shape);
    return t;
}

Tensor& Tensor::reshape_(const Shape& new_shape) {
    Shape s = new_shape;
    int infer = -1;
    int64_t known = 1;
    for (int i = 0; i < int(s.size()); ++i) {
        if (s[i] == -1) {
            EDDL_CHECK(infer < 0, "reshape " << shape_str(shape) << " -> " << shape_str(new_shape) << ": two -1");
            infer = i;
        } else {
            EDDL_CHECK(s[i] >= 0, "reshape " << shape_str(shape) << " -> " << shape_str(new_shape) << ": bad dim");
            known *= s[i];
        }
    }
    if (infer >= 0) {
        EDDL_CHECK(known > 0 && size % known == 0,
                   "reshape " << shape_str(shape) << " -> " << shape_str(new_shape) << ": sizes do not divide");
        s[infer] = int(size / known);
        known *= s[infer];
    }
    EDDL_CHECK(known == size, "reshape " << shape_str(shape) << " (" << size << " elements) -> "
                                         << shape_str(new_shape) << " (" << known << " elements)");
    check_shape(s);
    shape = s;
    ndim = int(s.size());
    stride.assign(ndim, 1);
    for (int i = ndim - 2; i >= 0; --i) stride[i] = stride[i + 1] * shape[i + 1];
    return *this;
}

tensor Tensor::flatten() const { return reshape({int(size)}); }

tensor Tensor::permute(const std::vector<int>& dims) const {
    EDDL_CHECK(int(dims.size()) == ndim, "permute: " << dims.size() << " axes for shape " << shape_str(shape));
    std::vector<int> seen(ndim, 0), perm(ndim);
    Shape out(ndim);
    for (int i = 0; i < ndim; ++i) {
        perm[i] = norm_axis(dims[i], ndim, "permute");
        EDDL_CHECK(!seen[perm[i]]++, "permute: axis " << dims[i] << " repeated");
        out[i] = shape[perm[i]];
    }
    auto t = empty(out, device);
    std::vector<int64_t> sd(shape.begin(), shape.end());
    if (size) kernels(device).permute(ptr, t->ptr, ndim, sd.data(), perm.data());
    return t;
}

tensor Tensor::transpose() const {
    EDDL_CHECK(ndim >= 2, "transpose: needs at least 2 dimensions, shape is " << shape_str(shape));
    std::vector<int> p(ndim);
    std::iota(p.begin(), p.end(), 0);
    std::swap(p[ndim - 1], p[ndim - 2]);
    return permute(p);
}

tensor Tensor::select(const std::vector<std::string>& ranges) const {
    EDDL_CHECK(int(ranges.size()) <= ndim, "select: " << ranges.size() << " ranges for shape " << shape_str(shape));
    std::vector<int64_t> starts(ndim, 0), outd(ndim), srcd(shape.begin(), shape.end());
    Shape out(ndim);
    for (int d = 0; d < ndim; ++d) {
        int64_t lo = 0, hi = shape[d];
        const std::string r = d < int(ranges.size()) ? ranges[d] : ":";
        auto parse = [&](const std::string& s, int64_t dflt) -> int64_t {
            if (s.empty()) return dflt;
            size_t used = 0;
            long v = 0;
            try {
                v = std::stol(s, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            EDDL_CHECK(used == s.size(), "select: cannot read '" << r << "' for dimension " << d);
            return v < 0 ? v + shape[d] : v;
        };
        const auto colon = r.find(':');
        if (colon == std::string::npos) {
            lo = parse(r, 0);
            hi = lo + 1;
        } else {
            lo = parse(r.substr(0, colon), 0);
            hi = parse(r.substr(colon + 1), shape[d]);
        }
        EDDL_CHECK(lo >= 0 && hi <= shape[d] && lo < hi,
                   "select: range '" << r << "' is empty or outside dimension " << d << " of " << shape_str(shape));
        starts[d] = lo;
        outd[d] = hi - lo;
        out[d] = int(hi - lo);
    }
    auto t = empty(out, device);
    if (t->size) kernels(device).slice(ptr, t->ptr, ndim, srcd.data(), starts.data(), outd.data());
    return t;
}

void Tensor::select_rows(const Tensor& src, const std::vector<int>& idx, Tensor& dst, int64_t dst_row_offset) {
    EDDL_CHECK(src.ndim >= 1 && dst.ndim == src.ndim, "select_rows: source " << shape_str(src.shape)
                                                                            << " and destination " << shape_str(dst.shape));
    for (int i = 1; i < src.ndim; ++i)
        EDDL_CHECK(src.shape[i] == dst.shape[i], "select_rows: rows of " << shape_str(src.shape)
                                                                         << " do not fit " << shape_str(dst.shape));
    EDDL_CHECK(dst_row_offset + int64_t(idx.size()) <= dst.shape[0],
               "select_rows: " << idx.size() << " rows do not fit destination " << shape_str(dst.shape));
    for (int i : idx)
        EDDL_CHECK(i >= 0 && i < src.shape[0], "select_rows: row " << i << " outside " << shape_str(src.shape));
    const int64_t row = src.shape[0] ? src.size / src.shape[0] : 0;
    kernels(src.device).gather_rows(src.ptr, dst.ptr + dst_row_offset * row, idx.data(), int64_t(idx.size()), row);
}

tensor Tensor::concat(const vtensor& ts, int axis) {
    EDDL_CHECK(!ts.empty(), "concat: no tensors");
    const Tensor& f = *ts[0];
    const int a = norm_axis(axis, f.ndim, "concat");
    Shape out = f.shape;
    out[a] = 0;
    for (const auto& t : ts) {
        bool ok = t->ndim == f.ndim && t->device == f.device;
        for (int i = 0; ok && i < f.ndim; ++i) ok = i == a || t->shape[i] == f.shape[i];
        EDDL_CHECK(ok, "concat on axis " << axis << ": shape " << shape_str(t->shape) << " does not match "
                                         << shape_str(f.shape));
        out[a] += t->shape[a];
    }
    auto r = empty(out, f.device);
    int64_t outer = 1;
    for (int i = 0; i < a; ++i) outer *= out[i];
    const int64_t out_row = outer ? r->size / outer : 0;
    int64_t off = 0;
    for (const auto& t : ts) {
        const int64_t row = outer ? t->size / outer : 0;
        for (int64_t o = 0; o < outer && row; ++o) kernels(f.device).copy(t->ptr + o * row, r->ptr + o * out_row + off, row);
        off += row;
    }
    return r;
}

tensor Tensor::matmul(const Tensor& A, const Tensor& B, bool ta, bool tb) {
    EDDL_CHECK(A.ndim >= 2 && A.ndim == B.ndim, "matmul: shapes " << shape_str(A.shape) << " and " << shape_str(B.shape)
                                                                  << " (need equal rank >= 2)");
    const int nd = A.ndim;
    const int m = ta ? A.shape[nd - 1] : A.shape[nd - 2], k = ta ? A.shape[nd - 2] : A.shape[nd - 1];
    const int kb = tb ? B.shape[nd - 1] : B.shape[nd - 2], n = tb ? B.shape[nd - 2] : B.shape[nd - 1];
    Shape out(A.shape.begin(), A.shape.end() - 2);
    for (int i = 0; i < nd - 2; ++i)
        EDDL_CHECK(A.shape[i] == B.shape[i], "matmul: batch dimensions of " << shape_str(A.shape) << " and "
                                                                            << shape_str(B.shape) << " differ");
    EDDL_CHECK(k == kb, "matmul" << (ta ? " (A transposed)" : "") << (tb ? " (B transposed)" : "") << ": inner sizes of "
                                 << shape_str(A.shape) << " and " << shape_str(B.shape) << " differ (" << k << " vs "
                                 << kb << ")");
    out.push_back(m);
    out.push_back(n);
    auto C = empty(out, A.device);
    const int64_t mn = int64_t(m) * n;
    const int64_t batch = mn != 0 ? C->size / mn : 0;
    const int lda = A.shape[nd - 1], ldb = B.shape[nd - 1];
    for (int64_t b = 0; b < batch && m && n; ++b)
        kernels(A.device).gemm(ta, tb, m, n, k, 1.0f, A.ptr + b * int64_t(m) * k, lda, B.ptr + b * int64_t(k) * n, ldb,
                               0.0f, C->ptr + b * int64_t(m) * n, n);
    return C;
}

}  // namespace eddl
