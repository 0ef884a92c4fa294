// Conv2D: NCHW convolution with padding, strides, dilation and groups; kernels via the dispatch table.
#include <cmath>
#include <sstream>

#include "init/init.h"
#include "layers/layers.h"

namespace eddl {

Pad1D pad_1d(const std::string& who, int in, int k, int stride, int dilation, const std::string& padding,
             int explicit_pad) {
    EDDL_CHECK(k >= 1 && stride >= 1 && dilation >= 1,
               who << ": kernel " << k << ", stride " << stride << " and dilation " << dilation << " must be >= 1");
    const int span = (k - 1) * dilation + 1;
    Pad1D p{};
    if (explicit_pad >= 0) {
        p.begin = p.end = explicit_pad;
    } else if (padding == "same") {
        p.out = (in + stride - 1) / stride;
        const int total = std::max((p.out - 1) * stride + span - in, 0);
        p.begin = total / 2;
        p.end = total - p.begin;
        return p;
    } else if (padding == "valid" || padding == "none") {
        p.begin = p.end = 0;
    } else {
        EDDL_FAIL(who << ": unknown padding '" << padding << "' (use \"same\", \"valid\" or \"none\", or explicit sizes)");
    }
    const int padded = in + p.begin + p.end;
    EDDL_CHECK(padded >= span, who << ": window of " << span << " (kernel " << k << ", dilation " << dilation
                                   << ") does not fit input size " << in << " with padding " << p.begin << "+" << p.end);
    p.out = (padded - span) / stride + 1;
    return p;
}

namespace {
std::string join(const std::vector<int>& v) {
    std::ostringstream os;
    bool first = true;
    for (int x : v) {
        os << (first ? "" : ",") << x;
        first = false;
    }
    return os.str();
}
}  // namespace

namespace {
const char* kSpatialNames[] = {"", "{channels, length}", "{channels, height, width}", "{channels, depth, height, width}"};
}

LConv2D::LConv2D(layer parent, int f, const std::vector<int>& kernel, const std::vector<int>& strides,
                 const std::string& padding, const std::vector<int>& pads, bool bias, int g,
                 const std::vector<int>& dilation, const std::string& n, int r)
    : filters(f), groups(g), rank(r), use_bias(bias) {
    const std::string base = "conv" + std::to_string(rank) + "d";
    name = n.empty() ? auto_name(base) : n;
    const std::string who = type() + " '" + name + "'";
    EDDL_CHECK(rank >= 1 && rank <= 3, who << ": rank must be 1, 2 or 3");
    EDDL_CHECK(parent, who << ": parent layer is null");
    EDDL_CHECK(int(parent->out_shape.size()) == rank + 1,
               who << ": input from '" << parent->name << "' has shape " << shape_str(parent->out_shape)
                   << " (batch excluded); " << type() << " needs " << kSpatialNames[rank]);
    const size_t nr = size_t(rank);
    EDDL_CHECK(kernel.size() == nr && strides.size() == nr && dilation.size() == nr,
               who << ": kernel, strides and dilation need " << rank << " value(s) each");
    EDDL_CHECK(pads.empty() || pads.size() == nr || pads.size() == 2 * nr,
               who << ": explicit padding needs " << rank << " values (both sides) or " << 2 * rank
                   << " (begin, end per dimension), got " << pads.size());
    const int ic = parent->out_shape[0];
    EDDL_CHECK(filters >= 1, who << ": filters must be >= 1, got " << filters);
    EDDL_CHECK(groups >= 1 && ic % groups == 0 && filters % groups == 0,
               who << ": groups " << groups << " must divide input channels " << ic << " and filters " << filters);
    // every rank is stored as depth, height, width; missing leading dimensions have size 1
    int in[3] = {1, 1, 1}, k[3] = {1, 1, 1}, st[3] = {1, 1, 1}, dl[3] = {1, 1, 1}, b[3] = {0, 0, 0}, e[3] = {0, 0, 0},
        out[3] = {1, 1, 1};
    for (int a = 0; a < rank; ++a) {
        const int d = 3 - rank + a;
        in[d] = parent->out_shape[1 + a];
        k[d] = kernel[a];
        st[d] = strides[a];
        dl[d] = dilation[a];
        const int expl = pads.empty() ? -1 : pads.size() == nr ? pads[a] : pads[2 * a];
        const auto p = pad_1d(who, in[d], k[d], st[d], dl[d], padding, expl);
        b[d] = p.begin;
        e[d] = pads.size() == 2 * nr ? pads[2 * a + 1] : p.end;
        out[d] = (in[d] + b[d] + e[d] - ((k[d] - 1) * dl[d] + 1)) / st[d] + 1;
        EDDL_CHECK(out[d] >= 1, who << ": output would be empty for input " << shape_str(parent->out_shape));
    }
    kd = k[0]; kh = k[1]; kw = k[2]; sd = st[0]; sh = st[1]; sw = st[2]; dd = dl[0]; dh = dl[1]; dw = dl[2];
    pf = b[0]; pk = e[0]; pt = b[1]; pb = e[1]; pl = b[2]; pr = e[2];
    parents = {parent};
    out_shape = {filters};
    Shape wshape = {filters, ic / groups};
    for (int a = 0; a < rank; ++a) {
        out_shape.push_back(out[3 - rank + a]);
        wshape.push_back(k[3 - rank + a]);
    }
    params = {Tensor::zeros(wshape)};
    gradients = {Tensor::zeros(wshape)};
    if (use_bias) {
        params.push_back(Tensor::zeros({filters}));
        gradients.push_back(Tensor::zeros({filters}));
    }
}

Dhw dhw(const Shape& s, int rank) {
    return {rank == 3 ? s[1] : 1, rank >= 2 ? s[size_t(rank) - 1] : 1, s[size_t(rank)]};
}

ConvGeom LConv2D::geom(int batch) const {
    const Dhw i = dhw(parents[0]->out_shape, rank), o = dhw(out_shape, rank);
    return ConvGeom{batch, parents[0]->out_shape[0], i.h, i.w, filters, o.h, o.w, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw,
                    groups, i.d, o.d, kd, sd, pf, pk, dd, parents[0]->blocked, blocked, winograd};
}

void LConv2D::init_params(uint64_t s) {
    const Initializer def;
    const Initializer& init = initializer ? *initializer : def;
    const int ic = parents[0]->out_shape[0];
    const int window = kd * kh * kw;
    init.apply(*params[0], ic / groups * window, filters / groups * window, init.seed >= 0 ? uint64_t(init.seed) : s);
    if (use_bias) params[1]->fill_(0.0f);
}

void LConv2D::forward() {
    const Tensor& x = *parents[0]->output;
    kernels(x.device).conv(geom(x.shape[0]), x.ptr, params[0]->ptr, use_bias ? params[1]->ptr : nullptr, output->ptr);
}

void LConv2D::forward_inference(const LBatchNorm* bn, bool relu, bool dst_blocked, bool winograd, Tensor& out) {
    const Tensor& x = *parents[0]->output;
    ConvEpilogue e;
    e.relu = relu;
    e.winograd = winograd;
    if (packed_.epoch != weights_epoch()) packed_ = PackedWeights{{}, nullptr, weights_epoch()};
    e.packed = &packed_;
    std::vector<float> scale, shift;
    if (bn) {  // y * gamma / sqrt(var + eps) + (beta - mean * gamma / sqrt(var + eps))
        scale.resize(size_t(filters));
        shift.resize(size_t(filters));
        for (int c = 0; c < filters; ++c) {
            const float g = bn->affine ? bn->params[0]->ptr[c] : 1.0f, b = bn->affine ? bn->params[1]->ptr[c] : 0.0f;
            scale[size_t(c)] = g / std::sqrt(bn->states[1]->ptr[c] + bn->eps);
            shift[size_t(c)] = b - bn->states[0]->ptr[c] * scale[size_t(c)];
        }
        e.scale = scale.data();
        e.shift = shift.data();
    }
    ConvGeom g = geom(x.shape[0]);
    g.dst_blocked = dst_blocked;
    kernels(x.device).conv_inference(g, x.ptr, params[0]->ptr, use_bias ? params[1]->ptr : nullptr, e, out.ptr);
}

void LConv2D::backward() {
    const Tensor& x = *parents[0]->output;
    const auto& k = kernels(x.device);
    const bool acc_grads = trainable && take_grads(), to_parent = parents[0]->needs_delta;
    const bool acc_dsrc = to_parent && take_parent_delta(0);
    k.conv_backward(geom(x.shape[0]), x.ptr, params[0]->ptr, delta->ptr, trainable ? gradients[0]->ptr : nullptr,
                    trainable && use_bias ? gradients[1]->ptr : nullptr, acc_grads,
                    to_parent ? parents[0]->delta->ptr : nullptr, acc_dsrc);
}

LayerConfig LConv2D::config() const {
    auto last = [&](std::initializer_list<int> v) {  // the rank's dimensions of (depth, height, width) lists
        std::vector<int> all(v);
        const size_t per = all.size() / 3;
        return join(std::vector<int>(all.end() - long(per) * rank, all.end()));
    };
    return {{"filters", std::to_string(filters)}, {"kernel", last({kd, kh, kw})}, {"strides", last({sd, sh, sw})},
            {"pads", last({pf, pk, pt, pb, pl, pr})}, {"dilation", last({dd, dh, dw})},
            {"groups", std::to_string(groups)},     {"use_bias", use_bias ? "1" : "0"},
            {"rank", std::to_string(rank)}};
}

// ---- ConvT2D ----

LConvT2D::LConvT2D(layer parent, int f, const std::vector<int>& kernel, const std::vector<int>& strides,
                   const std::string& padding, const std::vector<int>& pads, const std::vector<int>& opad, bool bias,
                   const std::vector<int>& dilation, const std::string& n, int r)
    : filters(f), rank(r), use_bias(bias) {
    const std::string base = "ConvT" + std::to_string(rank) + "D";
    name = n.empty() ? auto_name("convt" + std::to_string(rank) + "d") : n;
    const std::string who = base + " '" + name + "'";
    EDDL_CHECK(rank >= 1 && rank <= 3, who << ": rank " << rank << " (1, 2 or 3)");
    EDDL_CHECK(parent, who << ": parent layer is null");
    const size_t nr = size_t(rank);
    static const char* forms[] = {"", "{channels, length}", "{channels, height, width}", "{channels, depth, height, width}"};
    EDDL_CHECK(parent->out_shape.size() == nr + 1, who << ": input from '" << parent->name << "' has shape "
                                                      << shape_str(parent->out_shape) << " (batch excluded); " << base
                                                      << " needs " << forms[rank]);
    EDDL_CHECK(kernel.size() == nr && strides.size() == nr && dilation.size() == nr,
               who << ": kernel, strides and dilation need " << rank << " value(s) each");
    EDDL_CHECK(filters >= 1, who << ": filters must be >= 1, got " << filters);
    // per dimension in d, h, w order (1-D: w; 2-D: h, w), missing ones of size 1
    int k[3] = {1, 1, 1}, st[3] = {1, 1, 1}, dl[3] = {1, 1, 1}, in[3] = {1, 1, 1}, b[3] = {0, 0, 0}, e[3] = {0, 0, 0},
        out[3] = {1, 1, 1};
    for (size_t a = 0; a < nr; ++a) {
        const size_t q = 3 - nr + a;
        k[q] = kernel[a];
        st[q] = strides[a];
        dl[q] = dilation[a];
        in[q] = parent->out_shape[a + 1];
        EDDL_CHECK(k[q] >= 1 && st[q] >= 1 && dl[q] >= 1, who << ": sizes must be >= 1");
    }
    if (pads.size() == 2 * nr) {  // (begin, end) per dimension, as stored by config()
        for (size_t a = 0; a < nr; ++a) {
            b[3 - nr + a] = pads[2 * a];
            e[3 - nr + a] = pads[2 * a + 1];
        }
    } else if (!pads.empty()) {  // PyTorch: padding p, output_padding op -> begin p, end p - op
        EDDL_CHECK(pads.size() == nr && opad.size() == nr,
                   who << ": explicit padding needs " << rank << " value(s) and output_padding as many");
        for (size_t a = 0; a < nr; ++a) {
            const size_t q = 3 - nr + a;
            EDDL_CHECK(opad[a] >= 0 && opad[a] < std::max(st[q], dl[q]),
                       who << ": output_padding must be smaller than the stride or the dilation");
            b[q] = pads[a];
            e[q] = pads[a] - opad[a];
        }
    } else if (padding == "same") {  // Keras: output = input * stride
        for (size_t q = 3 - nr; q < 3; ++q) {
            const int t = (k[q] - 1) * dl[q] + 1 - st[q];
            EDDL_CHECK(t >= 0, who << ": \"same\" padding needs the kernel span to be at least the stride");
            b[q] = t / 2;
            e[q] = t - b[q];
        }
    } else if (padding != "valid" && padding != "none") {
        EDDL_FAIL(who << ": unknown padding '" << padding << "' (use \"same\", \"valid\" or explicit sizes)");
    }
    for (size_t q = 3 - nr; q < 3; ++q) {
        out[q] = (in[q] - 1) * st[q] + (k[q] - 1) * dl[q] + 1 - b[q] - e[q];
        EDDL_CHECK(out[q] >= 1, who << ": output would be empty for input " << shape_str(parent->out_shape));
    }
    kd = k[0]; kh = k[1]; kw = k[2]; sd = st[0]; sh = st[1]; sw = st[2]; dd = dl[0]; dh = dl[1]; dw = dl[2];
    pf = b[0]; pk = e[0]; pt = b[1]; pb = e[1]; pl = b[2]; pr = e[2];
    parents = {parent};
    out_shape = {filters};
    for (size_t a = 0; a < nr; ++a) out_shape.push_back(out[3 - nr + a]);
    const int ic = parent->out_shape[0];
    Shape ws{ic, filters};
    for (size_t a = 0; a < nr; ++a) ws.push_back(kernel[a]);
    params = {Tensor::zeros(ws)};
    gradients = {Tensor::zeros(ws)};
    if (use_bias) {
        params.push_back(Tensor::zeros({filters}));
        gradients.push_back(Tensor::zeros({filters}));
    }
}

ConvGeom LConvT2D::geom(int batch) const {
    const Dhw i = dhw(parents[0]->out_shape, rank), o = dhw(out_shape, rank);
    return ConvGeom{batch, parents[0]->out_shape[0], i.h, i.w, filters, o.h, o.w, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw,
                    1, i.d, o.d, kd, sd, pf, pk, dd, parents[0]->blocked, blocked};
}

void LConvT2D::init_params(uint64_t s) {
    const Initializer def;
    const Initializer& init = initializer ? *initializer : def;
    const int ic = parents[0]->out_shape[0];
    init.apply(*params[0], filters * kh * kw, ic * kh * kw, init.seed >= 0 ? uint64_t(init.seed) : s);
    if (use_bias) params[1]->fill_(0.0f);
}

void LConvT2D::forward() {
    const Tensor& x = *parents[0]->output;
    kernels(x.device).conv_transpose(geom(x.shape[0]), x.ptr, params[0]->ptr, use_bias ? params[1]->ptr : nullptr,
                                       output->ptr);
}

void LConvT2D::backward() {
    const Tensor& x = *parents[0]->output;
    const auto& k = kernels(x.device);
    const bool acc_grads = trainable && take_grads(), to_parent = parents[0]->needs_delta;
    const bool acc_dsrc = to_parent && take_parent_delta(0);
    k.conv_transpose_backward(geom(x.shape[0]), x.ptr, params[0]->ptr, delta->ptr,
                              trainable ? gradients[0]->ptr : nullptr, trainable && use_bias ? gradients[1]->ptr : nullptr,
                              acc_grads, to_parent ? parents[0]->delta->ptr : nullptr, acc_dsrc);
}

LayerConfig LConvT2D::config() const {
    const std::vector<int> k{kd, kh, kw}, st{sd, sh, sw}, dl{dd, dh, dw}, be{pf, pk, pt, pb, pl, pr};
    const size_t off = size_t(3 - rank);
    return {{"filters", std::to_string(filters)},
            {"kernel", join(std::vector<int>(k.begin() + long(off), k.end()))},
            {"strides", join(std::vector<int>(st.begin() + long(off), st.end()))},
            {"pads", join(std::vector<int>(be.begin() + long(2 * off), be.end()))},
            {"dilation", join(std::vector<int>(dl.begin() + long(off), dl.end()))},
            {"use_bias", use_bias ? "1" : "0"},
            {"rank", std::to_string(rank)}};
}

}  // namespace eddl
