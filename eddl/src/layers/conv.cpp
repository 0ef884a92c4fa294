// Conv2D: NCHW convolution with padding, strides, dilation and groups; kernels via the dispatch table.
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
std::string join(std::initializer_list<int> v) {
    std::ostringstream os;
    bool first = true;
    for (int x : v) {
        os << (first ? "" : ",") << x;
        first = false;
    }
    return os.str();
}
}  // namespace

LConv2D::LConv2D(layer parent, int f, const std::vector<int>& kernel, const std::vector<int>& strides,
                 const std::string& padding, const std::vector<int>& pads, bool bias, int g,
                 const std::vector<int>& dilation, const std::string& n)
    : filters(f), groups(g), use_bias(bias) {
    name = n.empty() ? auto_name("conv2d") : n;
    const std::string who = "Conv2D '" + name + "'";
    EDDL_CHECK(parent, who << ": parent layer is null");
    EDDL_CHECK(parent->out_shape.size() == 3, who << ": input from '" << parent->name << "' has shape "
                                                  << shape_str(parent->out_shape)
                                                  << " (batch excluded); Conv2D needs {channels, height, width}");
    EDDL_CHECK(kernel.size() == 2 && strides.size() == 2 && dilation.size() == 2,
               who << ": kernel, strides and dilation need 2 values each");
    EDDL_CHECK(pads.empty() || pads.size() == 2 || pads.size() == 4,
               who << ": explicit padding needs {ph, pw} or {top, bottom, left, right}, got " << pads.size() << " values");
    const int ic = parent->out_shape[0];
    EDDL_CHECK(filters >= 1, who << ": filters must be >= 1, got " << filters);
    EDDL_CHECK(groups >= 1 && ic % groups == 0 && filters % groups == 0,
               who << ": groups " << groups << " must divide input channels " << ic << " and filters " << filters);
    kh = kernel[0]; kw = kernel[1]; sh = strides[0]; sw = strides[1]; dh = dilation[0]; dw = dilation[1];
    const auto ph = pad_1d(who, parent->out_shape[1], kh, sh, dh, padding,
                           pads.empty() ? -1 : pads[0]);
    const auto pw = pad_1d(who, parent->out_shape[2], kw, sw, dw, padding,
                           pads.empty() ? -1 : pads[pads.size() == 4 ? 2 : 1]);
    pt = ph.begin; pb = ph.end; pl = pw.begin; pr = pw.end;
    if (pads.size() == 4) {  // asymmetric explicit padding
        pb = pads[1];
        pr = pads[3];
    }
    const int oh = (parent->out_shape[1] + pt + pb - ((kh - 1) * dh + 1)) / sh + 1;
    const int ow = (parent->out_shape[2] + pl + pr - ((kw - 1) * dw + 1)) / sw + 1;
    EDDL_CHECK(oh >= 1 && ow >= 1, who << ": output would be empty for input " << shape_str(parent->out_shape));
    parents = {parent};
    out_shape = {filters, oh, ow};
    params = {Tensor::zeros({filters, ic / groups, kh, kw})};
    gradients = {Tensor::zeros({filters, ic / groups, kh, kw})};
    if (use_bias) {
        params.push_back(Tensor::zeros({filters}));
        gradients.push_back(Tensor::zeros({filters}));
    }
}

ConvGeom LConv2D::geom(int batch) const {
    const Shape& in = parents[0]->out_shape;
    return ConvGeom{batch, in[0], in[1], in[2], filters, out_shape[1], out_shape[2], kh, kw, sh, sw,
                    pt, pl, pb, pr, dh, dw, groups};
}

void LConv2D::init_params(uint64_t s) {
    const Initializer def;
    const Initializer& init = initializer ? *initializer : def;
    const int ic = parents[0]->out_shape[0];
    init.apply(*params[0], ic / groups * kh * kw, filters / groups * kh * kw, init.seed >= 0 ? uint64_t(init.seed) : s);
    if (use_bias) params[1]->fill_(0.0f);
}

void LConv2D::forward() {
    const Tensor& x = *parents[0]->output;
    kernels(x.device).conv2d(geom(x.shape[0]), x.ptr, params[0]->ptr, use_bias ? params[1]->ptr : nullptr, output->ptr);
}

void LConv2D::backward() {
    const Tensor& x = *parents[0]->output;
    const auto& k = kernels(x.device);
    const ConvGeom g = geom(x.shape[0]);
    if (trainable) {
        const bool acc = take_grads();
        k.conv2d_backward_weights(g, x.ptr, delta->ptr, gradients[0]->ptr, use_bias ? gradients[1]->ptr : nullptr, acc);
    }
    if (parents[0]->needs_delta) {
        const bool acc = take_parent_delta(0);
        k.conv2d_backward_data(g, params[0]->ptr, delta->ptr, parents[0]->delta->ptr, acc);
    }
}

LayerConfig LConv2D::config() const {
    return {{"filters", std::to_string(filters)}, {"kernel", join({kh, kw})},      {"strides", join({sh, sw})},
            {"pads", join({pt, pb, pl, pr})},     {"dilation", join({dh, dw})},   {"groups", std::to_string(groups)},
            {"use_bias", use_bias ? "1" : "0"}};
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
    kernels(x.device).conv2d_transpose(geom(x.shape[0]), x.ptr, params[0]->ptr, use_bias ? params[1]->ptr : nullptr,
                                       output->ptr);
}

void LConvT2D::backward() {
    const Tensor& x = *parents[0]->output;
    const auto& k = kernels(x.device);
    const ConvGeom g = geom(x.shape[0]);
    if (trainable) {
        const bool acc = take_grads();
        k.conv2d_transpose_backward_weights(g, x.ptr, delta->ptr, gradients[0]->ptr,
                                            use_bias ? gradients[1]->ptr : nullptr, acc);
    }
    if (parents[0]->needs_delta) {
        const bool acc = take_parent_delta(0);
        k.conv2d_transpose_backward_data(g, params[0]->ptr, delta->ptr, parents[0]->delta->ptr, acc);
    }
}

LayerConfig LConvT2D::config() const {
    return {{"filters", std::to_string(filters)}, {"kernel", join({kh, kw})},   {"strides", join({sh, sw})},
            {"pads", join({pt, pb, pl, pr})},     {"dilation", join({dh, dw})}, {"use_bias", use_bias ? "1" : "0"}};
}

}  // namespace eddl
