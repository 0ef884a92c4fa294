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
                    groups, i.d, o.d, kd, sd, pf, pk, dd};
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

void LConv2D::forward_inference(const LBatchNorm* bn, bool relu, bool src_nhwc, bool dst_nhwc, Tensor& out) {
    const Tensor& x = *parents[0]->output;
    ConvEpilogue e;
    e.relu = relu;
    e.src_nhwc = src_nhwc;
    e.dst_nhwc = dst_nhwc;
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
    kernels(x.device).conv_inference(geom(x.shape[0]), x.ptr, params[0]->ptr, use_bias ? params[1]->ptr : nullptr, e,
                                     out.ptr);
}

void LConv2D::backward() {
    const Tensor& x = *parents[0]->output;
    const auto& k = kernels(x.device);
    const ConvGeom g = geom(x.shape[0]);
    if (trainable) {
        const bool acc = take_grads();
        k.conv_backward_weights(g, x.ptr, delta->ptr, gradients[0]->ptr, use_bias ? gradients[1]->ptr : nullptr, acc);
    }
    if (parents[0]->needs_delta) {
        const bool acc = take_parent_delta(0);
        k.conv_backward_data(g, params[0]->ptr, delta->ptr, parents[0]->delta->ptr, acc);
    }
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
                   const std::vector<int>& dilation, const std::string& n)
    : filters(f), use_bias(bias) {
    name = n.empty() ? auto_name("convt2d") : n;
    const std::string who = "ConvT2D '" + name + "'";
    EDDL_CHECK(parent, who << ": parent layer is null");
    EDDL_CHECK(parent->out_shape.size() == 3, who << ": input from '" << parent->name << "' has shape "
                                                  << shape_str(parent->out_shape)
                                                  << " (batch excluded); ConvT2D needs {channels, height, width}");
    EDDL_CHECK(kernel.size() == 2 && strides.size() == 2 && dilation.size() == 2,
               who << ": kernel, strides and dilation need 2 values each");
    EDDL_CHECK(filters >= 1, who << ": filters must be >= 1, got " << filters);
    kh = kernel[0]; kw = kernel[1]; sh = strides[0]; sw = strides[1]; dh = dilation[0]; dw = dilation[1];
    EDDL_CHECK(kh >= 1 && kw >= 1 && sh >= 1 && sw >= 1 && dh >= 1 && dw >= 1, who << ": sizes must be >= 1");
    const int ih = parent->out_shape[1], iw = parent->out_shape[2];
    const int span_h = (kh - 1) * dh + 1, span_w = (kw - 1) * dw + 1;
    if (pads.size() == 4) {  // {top, bottom, left, right} as stored by config()
        pt = pads[0]; pb = pads[1]; pl = pads[2]; pr = pads[3];
    } else if (!pads.empty()) {  // PyTorch: padding p, output_padding op -> begin p, end p - op
        EDDL_CHECK(pads.size() == 2 && opad.size() == 2, who << ": explicit padding needs {ph, pw} and output_padding {oph, opw}");
        EDDL_CHECK(opad[0] >= 0 && opad[1] >= 0 && opad[0] < std::max(sh, dh) && opad[1] < std::max(sw, dw),
                   who << ": output_padding must be smaller than the stride or the dilation");
        pt = pads[0]; pb = pads[0] - opad[0]; pl = pads[1]; pr = pads[1] - opad[1];
    } else if (padding == "same") {  // Keras: output = input * stride
        const int th = span_h - sh, tw = span_w - sw;
        EDDL_CHECK(th >= 0 && tw >= 0, who << ": \"same\" padding needs the kernel span to be at least the stride");
        pt = th / 2; pb = th - pt; pl = tw / 2; pr = tw - pl;
    } else if (padding == "valid" || padding == "none") {
        pt = pb = pl = pr = 0;
    } else {
        EDDL_FAIL(who << ": unknown padding '" << padding << "' (use \"same\", \"valid\" or explicit sizes)");
    }
    const int oh = (ih - 1) * sh + span_h - pt - pb, ow = (iw - 1) * sw + span_w - pl - pr;
    EDDL_CHECK(oh >= 1 && ow >= 1, who << ": output would be empty for input " << shape_str(parent->out_shape));
    parents = {parent};
    out_shape = {filters, oh, ow};
    const int ic = parent->out_shape[0];
    params = {Tensor::zeros({ic, filters, kh, kw})};
    gradients = {Tensor::zeros({ic, filters, kh, kw})};
    if (use_bias) {
        params.push_back(Tensor::zeros({filters}));
        gradients.push_back(Tensor::zeros({filters}));
    }
}

ConvGeom LConvT2D::geom(int batch) const {
    const Shape& in = parents[0]->out_shape;
    return ConvGeom{batch, in[0], in[1], in[2], filters, out_shape[1], out_shape[2], kh, kw, sh, sw,
                    pt, pl, pb, pr, dh, dw, 1};
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
    const ConvGeom g = geom(x.shape[0]);
    if (trainable) {
        const bool acc = take_grads();
        k.conv_transpose_backward_weights(g, x.ptr, delta->ptr, gradients[0]->ptr,
                                            use_bias ? gradients[1]->ptr : nullptr, acc);
    }
    if (parents[0]->needs_delta) {
        const bool acc = take_parent_delta(0);
        k.conv_transpose_backward_data(g, params[0]->ptr, delta->ptr, parents[0]->delta->ptr, acc);
    }
}

LayerConfig LConvT2D::config() const {
    return {{"filters", std::to_string(filters)}, {"kernel", join({kh, kw})},   {"strides", join({sh, sw})},
            {"pads", join({pt, pb, pl, pr})},     {"dilation", join({dh, dw})}, {"use_bias", use_bias ? "1" : "0"}};
}

}  // namespace eddl
