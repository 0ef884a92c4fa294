// Constants, TensorProto conversion, model parsing, and the element-wise layer of imported graphs.
#include "onnx/onnx_common.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "eddl/error.h"
#include "layers/layers.h"

namespace eddl::onnxio {

int64_t Const::numel() const {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
}

std::vector<int64_t> Const::ints(const std::string& what) const {
    std::vector<int64_t> r;
    r.reserve(v.size());
    for (double x : v) {
        EDDL_CHECK(std::isfinite(x) && x == std::floor(x), what << ": expected whole numbers, got " << x);
        // INT64_MAX/MIN (Slice's "to the end") are 2^63 as doubles: converting back would overflow
        constexpr double lim = 9223372036854775807.0;
        r.push_back(x >= lim ? std::numeric_limits<int64_t>::max() : x <= -lim ? std::numeric_limits<int64_t>::min() : int64_t(x));
    }
    return r;
}

std::vector<float> Const::floats() const { return std::vector<float>(v.begin(), v.end()); }

namespace {

float half_to_float(uint16_t h) {
    const uint32_t sign = uint32_t(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    uint32_t bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else {  // subnormal: renormalize
            int e = -1;
            uint32_t m = man;
            do {
                ++e;
                m <<= 1;
            } while (!(m & 0x400));
            bits = sign | uint32_t(127 - 15 - e) << 23 | (m & 0x3ff) << 13;
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | man << 13;
    } else {
        bits = sign | (exp + 127 - 15) << 23 | man << 13;
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

float bf16_to_float(uint16_t h) {
    const uint32_t bits = uint32_t(h) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

template <class T>
void read_raw(const std::string& raw, int64_t n, std::vector<double>& out, const std::string& what) {
    EDDL_CHECK(raw.size() == size_t(n) * sizeof(T), what << ": raw data holds " << raw.size() << " bytes, the shape needs "
                                                         << size_t(n) * sizeof(T) << " (truncated or corrupt tensor)");
    out.resize(size_t(n));
    for (int64_t i = 0; i < n; ++i) {
        T x;
        std::memcpy(&x, raw.data() + size_t(i) * sizeof(T), sizeof(T));
        out[size_t(i)] = double(x);
    }
}

}  // namespace

Const from_proto(const onnx::TensorProto& t, const std::string& what) {
    EDDL_CHECK(t.data_location() != onnx::TensorProto::EXTERNAL,
               what << ": stored in an external file, which import does not read (save the model with its data inside)");
    Const c;
    int64_t n = 1;
    for (int64_t d : t.dims()) {
        EDDL_CHECK(d >= 0 && d <= (int64_t(1) << 31), what << ": invalid dimension " << d);
        n *= d;
        EDDL_CHECK(n <= (int64_t(1) << 31), what << ": more than 2^31 elements");
        c.dims.push_back(d);
    }
    using TP = onnx::TensorProto;
    const int type = t.data_type();
    const bool raw = t.has_raw_data();
    auto count_check = [&](int64_t have) {
        EDDL_CHECK(have == n, what << ": holds " << have << " values, its shape " << "needs " << n
                                   << " (truncated or corrupt tensor)");
    };
    switch (type) {
        case TP::FLOAT:
            if (raw) read_raw<float>(t.raw_data(), n, c.v, what);
            else {
                count_check(t.float_data_size());
                c.v.assign(t.float_data().begin(), t.float_data().end());
            }
            break;
        case TP::DOUBLE:
            if (raw) read_raw<double>(t.raw_data(), n, c.v, what);
            else {
                count_check(t.double_data_size());
                c.v.assign(t.double_data().begin(), t.double_data().end());
            }
            break;
        case TP::FLOAT16: case TP::BFLOAT16: {
            std::vector<uint16_t> bits;
            if (raw) {
                EDDL_CHECK(t.raw_data().size() == size_t(n) * 2, what << ": truncated or corrupt 16-bit float data");
                bits.resize(size_t(n));
                std::memcpy(bits.data(), t.raw_data().data(), size_t(n) * 2);
            } else {
                count_check(t.int32_data_size());
                for (int32_t x : t.int32_data()) bits.push_back(uint16_t(x));
            }
            for (uint16_t b : bits) c.v.push_back(type == TP::FLOAT16 ? half_to_float(b) : bf16_to_float(b));
            break;
        }
        case TP::INT64:
            c.integer = true;
            if (raw) read_raw<int64_t>(t.raw_data(), n, c.v, what);
            else {
                count_check(t.int64_data_size());
                c.v.assign(t.int64_data().begin(), t.int64_data().end());
            }
            break;
        case TP::INT32: case TP::INT16: case TP::INT8: case TP::UINT16: case TP::UINT8: case TP::BOOL:
            c.integer = true;
            if (raw) {
                switch (type) {
                    case TP::INT32: read_raw<int32_t>(t.raw_data(), n, c.v, what); break;
                    case TP::INT16: read_raw<int16_t>(t.raw_data(), n, c.v, what); break;
                    case TP::INT8: read_raw<int8_t>(t.raw_data(), n, c.v, what); break;
                    case TP::UINT16: read_raw<uint16_t>(t.raw_data(), n, c.v, what); break;
                    default: read_raw<uint8_t>(t.raw_data(), n, c.v, what); break;
                }
            } else {
                count_check(t.int32_data_size());
                c.v.assign(t.int32_data().begin(), t.int32_data().end());
            }
            break;
        case TP::UINT32: case TP::UINT64:
            c.integer = true;
            if (raw) {
                if (type == TP::UINT32) read_raw<uint32_t>(t.raw_data(), n, c.v, what);
                else read_raw<uint64_t>(t.raw_data(), n, c.v, what);
            } else {
                count_check(t.uint64_data_size());
                c.v.assign(t.uint64_data().begin(), t.uint64_data().end());
            }
            break;
        default:
            EDDL_FAIL(what << ": element type " << onnx::TensorProto::DataType_Name(onnx::TensorProto::DataType(type))
                           << " (" << type << ") is not supported");
    }
    return c;
}

void to_proto(onnx::TensorProto& t, const std::string& name, const std::vector<int64_t>& dims, const float* data) {
    t.set_name(name);
    t.set_data_type(onnx::TensorProto::FLOAT);
    int64_t n = 1;
    for (int64_t d : dims) {
        t.add_dims(d);
        n *= d;
    }
    t.set_raw_data(std::string(reinterpret_cast<const char*>(data), size_t(n) * sizeof(float)));
}

void to_proto_i64(onnx::TensorProto& t, const std::string& name, const std::vector<int64_t>& dims,
                  const std::vector<int64_t>& data) {
    t.set_name(name);
    t.set_data_type(onnx::TensorProto::INT64);
    for (int64_t d : dims) t.add_dims(d);
    t.set_raw_data(std::string(reinterpret_cast<const char*>(data.data()), data.size() * sizeof(int64_t)));
}

onnx::ModelProto parse_model(std::string_view bytes, const std::string& what) {
    EDDL_CHECK(!bytes.empty(), what << ": empty, not an ONNX model");
    EDDL_CHECK(bytes.size() < size_t(std::numeric_limits<int>::max()), what << ": larger than 2 GiB");
    onnx::ModelProto m;
    EDDL_CHECK(m.ParseFromArray(bytes.data(), int(bytes.size())),
               what << ": not an ONNX model (the bytes are not a valid ModelProto protobuf: truncated or another format)");
    EDDL_CHECK(m.ir_version() > 0 && m.has_graph(),
               what << ": not an ONNX model (no IR version or no graph; truncated or another protobuf)");
    return m;
}

std::string_view buffer_bytes(const void* buffer, size_t size, const std::string& what) {
    EDDL_CHECK(buffer || size == 0, what << ": null buffer with size " << size);
    return size ? std::string_view(static_cast<const char*>(buffer), size) : std::string_view();
}

std::vector<std::string> param_roles(const Layer& l) {
    std::vector<std::string> r;
    if (const auto* rec = dynamic_cast<const LRecurrent*>(&l)) {  // ONNX's names for the inputs
        r = {"W", "R"};
        if (rec->opt.use_bias) r.push_back("B");
        if (rec->opt.peepholes) r.push_back("P");
        return r;
    }
    const bool norm = dynamic_cast<const LBatchNorm*>(&l) || dynamic_cast<const LGroupNorm*>(&l) ||
                      dynamic_cast<const LBatchStats*>(&l);
    for (size_t i = 0; i < l.params.size(); ++i) r.push_back(i == 0 ? (norm ? "scale" : "weight") : i == 1 ? "bias" : "param" + std::to_string(i));
    return r;
}

std::vector<std::string> state_roles(const Layer& l) {
    std::vector<std::string> r;
    if (const auto* rec = dynamic_cast<const LRecurrent*>(&l)) {
        if (rec->has_initial_h) r.push_back("initial_h");
        if (rec->has_initial_c) r.push_back("initial_c");
        return r;
    }
    for (size_t i = 0; i < l.states.size(); ++i) r.push_back(i == 0 ? "running_mean" : i == 1 ? "running_var" : "state" + std::to_string(i));
    return r;
}

// ---- LElementwise ----

bool ew_binary(EwFn fn) { return fn >= EwFn::Add; }

LElementwise::LElementwise(layer parent, EwFn f, const std::string& o, float a_, float b_,
                           const std::vector<int64_t>& cd, const std::vector<float>& cv, const std::string& n)
    : fn(f), op(o), a(a_), b(b_), c_dims(cd), c_raw(cv) {
    name = n;
    const std::string who = "ONNX " + op + " '" + name + "'";
    EDDL_CHECK(parent, who << ": parent layer is null");
    parents = {parent};
    out_shape = parent->out_shape;
    if (!ew_binary(fn)) return;
    // Broadcast the constant (aligned right against [batch, sample...]) to the sample shape.
    const int R = int(out_shape.size()) + 1, cr = int(c_dims.size());
    int64_t cn = 1;
    for (int64_t d : c_dims) cn *= d;
    EDDL_CHECK(cn == int64_t(c_raw.size()), who << ": constant holds " << c_raw.size() << " values for shape "
                                                << shape_str(Shape(c_dims.begin(), c_dims.end())));
    EDDL_CHECK(cr <= R && (cr < R || c_dims[0] == 1),
               who << ": constant of shape " << shape_str(Shape(c_dims.begin(), c_dims.end()))
                   << " does not broadcast onto a sample of shape " << shape_str(out_shape) << " (batch first)");
    std::vector<int64_t> cs(size_t(R), 1);  // constant dims aligned to [batch, sample...]
    for (int i = 0; i < cr; ++i) cs[size_t(R - cr + i)] = c_dims[size_t(i)];
    for (int i = 1; i < R; ++i)
        EDDL_CHECK(cs[size_t(i)] == 1 || cs[size_t(i)] == out_shape[size_t(i - 1)],
                   who << ": constant of shape " << shape_str(Shape(c_dims.begin(), c_dims.end()))
                       << " does not broadcast onto a sample of shape " << shape_str(out_shape)
                       << " (the result would be larger than the input)");
    int64_t size = 1;
    for (int d : out_shape) size *= d;
    c.resize(size_t(size));
    std::vector<int64_t> idx(size_t(R - 1), 0);
    for (int64_t e = 0; e < size; ++e) {
        int64_t off = 0;
        for (int i = 1; i < R; ++i) off = off * cs[size_t(i)] + (cs[size_t(i)] == 1 ? 0 : idx[size_t(i - 1)]);
        c[size_t(e)] = c_raw[size_t(off)];
        for (int i = R - 2; i >= 0; --i) {
            if (++idx[size_t(i)] < out_shape[size_t(i)]) break;
            idx[size_t(i)] = 0;
        }
    }
}

namespace {

inline float softplus(float x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
inline float sigm(float x) { return 1.0f / (1.0f + std::exp(-x)); }

inline float ew_f(EwFn fn, float x, float a, float b, float c) {
    switch (fn) {
        case EwFn::Abs: return std::fabs(x);
        case EwFn::Neg: return -x;
        case EwFn::Sqrt: return std::sqrt(x);
        case EwFn::Reciprocal: return 1.0f / x;
        case EwFn::Log: return std::log(x);
        case EwFn::Exp: return std::exp(x);
        case EwFn::Sin: return std::sin(x);
        case EwFn::Cos: return std::cos(x);
        case EwFn::Tan: return std::tan(x);
        case EwFn::Asin: return std::asin(x);
        case EwFn::Acos: return std::acos(x);
        case EwFn::Atan: return std::atan(x);
        case EwFn::Sinh: return std::sinh(x);
        case EwFn::Cosh: return std::cosh(x);
        case EwFn::Asinh: return std::asinh(x);
        case EwFn::Acosh: return std::acosh(x);
        case EwFn::Atanh: return std::atanh(x);
        case EwFn::Floor: return std::floor(x);
        case EwFn::Ceil: return std::ceil(x);
        case EwFn::Round: return std::nearbyint(x);  // halves to even, as ONNX
        case EwFn::Sign: return float((x > 0) - (x < 0));
        case EwFn::Erf: return std::erf(x);
        case EwFn::Clip: return std::isnan(x) ? x : std::min(std::max(x, a), b);
        case EwFn::HardSigmoid: return std::max(0.0f, std::min(1.0f, a * x + b));
        case EwFn::Selu: return x > 0 ? b * x : b * (a * std::exp(x) - a);
        case EwFn::Celu: return std::max(0.0f, x) + std::min(0.0f, a * std::expm1(x / a));
        case EwFn::HardSwish: return x * std::max(0.0f, std::min(1.0f, x / 6.0f + 0.5f));
        case EwFn::Softplus: return softplus(x);
        case EwFn::Mish: return x * std::tanh(softplus(x));
        case EwFn::Shrink: return x < -b ? x + a : x > b ? x - a : 0.0f;
        case EwFn::PRelu: return x < 0 ? c * x : x;
        case EwFn::Fmod: return std::fmod(x, c);
        case EwFn::IsNaN: return std::isnan(x) ? 1.0f : 0.0f;
        case EwFn::IsInf: return std::isinf(x) && ((x < 0 && a != 0) || (x > 0 && b != 0)) ? 1.0f : 0.0f;
        case EwFn::Greater: return x > c ? 1.0f : 0.0f;
        case EwFn::Less: return x < c ? 1.0f : 0.0f;
        case EwFn::GreaterOrEqual: return x >= c ? 1.0f : 0.0f;
        case EwFn::LessOrEqual: return x <= c ? 1.0f : 0.0f;
        case EwFn::Equal: return x == c ? 1.0f : 0.0f;
        case EwFn::Add: return x + c;
        case EwFn::Sub: return x - c;
        case EwFn::RSub: return c - x;
        case EwFn::Mul: return x * c;
        case EwFn::Div: return x / c;
        case EwFn::RDiv: return c / x;
        case EwFn::Pow: return std::pow(x, c);
        case EwFn::Max: return std::isnan(x) ? x : std::max(x, c);
        case EwFn::Min: return std::isnan(x) ? x : std::min(x, c);
    }
    return x;
}

// dy/dx at x (y = f(x))
inline float ew_df(EwFn fn, float x, float y, float a, float b, float c) {
    switch (fn) {
        case EwFn::Abs: return float((x > 0) - (x < 0));
        case EwFn::Neg: return -1;
        case EwFn::Sqrt: return 0.5f / y;
        case EwFn::Reciprocal: return -y * y;
        case EwFn::Log: return 1.0f / x;
        case EwFn::Exp: return y;
        case EwFn::Sin: return std::cos(x);
        case EwFn::Cos: return -std::sin(x);
        case EwFn::Tan: return 1 + y * y;
        case EwFn::Asin: return 1.0f / std::sqrt(1 - x * x);
        case EwFn::Acos: return -1.0f / std::sqrt(1 - x * x);
        case EwFn::Atan: return 1.0f / (1 + x * x);
        case EwFn::Sinh: return std::cosh(x);
        case EwFn::Cosh: return std::sinh(x);
        case EwFn::Asinh: return 1.0f / std::sqrt(x * x + 1);
        case EwFn::Acosh: return 1.0f / std::sqrt(x * x - 1);
        case EwFn::Atanh: return 1.0f / (1 - x * x);
        case EwFn::Floor: case EwFn::Ceil: case EwFn::Round: case EwFn::Sign: return 0;
        case EwFn::Erf: return 1.1283791670955126f * std::exp(-x * x);
        case EwFn::Clip: return x >= a && x <= b ? 1.0f : 0.0f;
        case EwFn::HardSigmoid: {
            const float t = a * x + b;
            return t > 0 && t < 1 ? a : 0.0f;
        }
        case EwFn::Selu: return x > 0 ? b : b * a * std::exp(x);
        case EwFn::Celu: return x > 0 ? 1.0f : std::exp(x / a);
        case EwFn::HardSwish: return x < -3 ? 0.0f : x > 3 ? 1.0f : x / 3.0f + 0.5f;
        case EwFn::Softplus: return sigm(x);
        case EwFn::Mish: {
            const float t = std::tanh(softplus(x));
            return t + x * sigm(x) * (1 - t * t);
        }
        case EwFn::Shrink: return x < -b || x > b ? 1.0f : 0.0f;
        case EwFn::PRelu: return x < 0 ? c : 1.0f;
        case EwFn::Fmod: return 1;
        case EwFn::IsNaN: case EwFn::IsInf: case EwFn::Greater: case EwFn::Less: case EwFn::GreaterOrEqual:
        case EwFn::LessOrEqual: case EwFn::Equal: return 0;
        case EwFn::Add: case EwFn::Sub: return 1;
        case EwFn::RSub: return -1;
        case EwFn::Mul: return c;
        case EwFn::Div: return 1.0f / c;
        case EwFn::RDiv: return -c / (x * x);
        case EwFn::Pow: return c * std::pow(x, c - 1);
        case EwFn::Max: return x >= c ? 1.0f : 0.0f;
        case EwFn::Min: return x <= c ? 1.0f : 0.0f;
    }
    return 1;
}

}  // namespace

void LElementwise::forward() {
    const Tensor& x = *parents[0]->output;
    const int64_t per = c.empty() ? x.size : int64_t(c.size());
    for (int64_t i = 0; i < x.size; ++i)
        output->ptr[i] = ew_f(fn, x.ptr[i], a, b, c.empty() ? 0.0f : c[size_t(i % per)]);
}

void LElementwise::backward() {
    if (!parents[0]->needs_delta) return;
    const bool acc = take_parent_delta(0);
    const Tensor& x = *parents[0]->output;
    float* dx = parents[0]->delta->ptr;
    const int64_t per = c.empty() ? x.size : int64_t(c.size());
    for (int64_t i = 0; i < x.size; ++i) {
        const float g = delta->ptr[i] * ew_df(fn, x.ptr[i], output->ptr[i], a, b, c.empty() ? 0.0f : c[size_t(i % per)]);
        dx[i] = acc ? dx[i] + g : g;
    }
}

}  // namespace eddl::onnxio
