// The facade: thin functions that fill options and create layers, optimizers and services.
#include <omp.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <iostream>

#include "eddl/eddl.h"
#include "init/init.h"
#include "layers/layers.h"
#include "tensor/dispatch.h"

namespace eddl {

void set_trainable_marks(Net& net);  // net.cpp

// ---- layers ----

layer Input(const Shape& shape, const std::string& name) { return std::make_shared<LInput>(shape, name); }
layer Dense(layer p, int ndim, bool use_bias, const std::string& name) {
    return std::make_shared<LDense>(p, ndim, use_bias, name);
}
layer Dropout(layer p, float rate, bool iw, const std::string& name) { return std::make_shared<LDropout>(p, rate, iw, name); }
layer Reshape(layer p, const Shape& shape, const std::string& name) { return std::make_shared<LReshape>(p, shape, name); }
layer Flatten(layer p, const std::string& name) { return std::make_shared<LReshape>(p, Shape{-1}, name, "Flatten"); }

layer Activation(layer p, const std::string& act, const std::vector<float>& params, const std::string& name) {
    if (act == "softmax") return Softmax(p, params.empty() ? -1 : int(params[0]), name);
    float alpha = 0;
    if (act == "leaky_relu") alpha = 0.01f;
    else if (act == "elu" || act == "thresholded_relu" || act == "linear") alpha = 1.0f;
    if (!params.empty()) alpha = params[0];
    return std::make_shared<LActivation>(p, act, alpha, name);
}
layer ReLu(layer p, const std::string& n) { return Activation(p, "relu", {}, n); }
layer LeakyReLu(layer p, float a, const std::string& n) { return Activation(p, "leaky_relu", {a}, n); }
layer Sigmoid(layer p, const std::string& n) { return Activation(p, "sigmoid", {}, n); }
layer HardSigmoid(layer p, const std::string& n) { return Activation(p, "hard_sigmoid", {}, n); }
layer Tanh(layer p, const std::string& n) { return Activation(p, "tanh", {}, n); }
layer Softmax(layer p, int axis, const std::string& n) { return std::make_shared<LSoftmax>(p, axis, n); }
layer Elu(layer p, float a, const std::string& n) { return Activation(p, "elu", {a}, n); }
layer Selu(layer p, const std::string& n) { return Activation(p, "selu", {}, n); }
layer Softplus(layer p, const std::string& n) { return Activation(p, "softplus", {}, n); }
layer Softsign(layer p, const std::string& n) { return Activation(p, "softsign", {}, n); }
layer ThresholdedReLu(layer p, float a, const std::string& n) { return Activation(p, "thresholded_relu", {a}, n); }
layer Exponential(layer p, const std::string& n) { return Activation(p, "exponential", {}, n); }
layer Linear(layer p, float a, const std::string& n) { return Activation(p, "linear", {a}, n); }
layer GELU(layer p, const std::string& n) { return Activation(p, "gelu", {}, n); }
layer Swish(layer p, const std::string& n) { return Activation(p, "swish", {}, n); }

layer Add(const vlayer& ls, const std::string& n) { return std::make_shared<LMerge>(ls, MergeOp::Add, n); }
layer Subtract(const vlayer& ls, const std::string& n) { return std::make_shared<LMerge>(ls, MergeOp::Subtract, n); }
layer Multiply(const vlayer& ls, const std::string& n) { return std::make_shared<LMerge>(ls, MergeOp::Multiply, n); }
layer Mult(layer a, layer b, const std::string& n) { return Multiply({a, b}, n); }
layer Average(const vlayer& ls, const std::string& n) { return std::make_shared<LMerge>(ls, MergeOp::Average, n); }
layer Maximum(const vlayer& ls, const std::string& n) { return std::make_shared<LMerge>(ls, MergeOp::Maximum, n); }
layer Minimum(const vlayer& ls, const std::string& n) { return std::make_shared<LMerge>(ls, MergeOp::Minimum, n); }
layer Concat(const vlayer& ls, int axis, const std::string& n) { return std::make_shared<LConcat>(ls, axis, n); }

layer Conv1D(layer p, int filters, const std::vector<int>& k, const std::vector<int>& s, const std::string& padding,
             bool use_bias, int groups, const std::vector<int>& d, const std::string& n) {
    return std::make_shared<LConv2D>(p, filters, k, s, padding, std::vector<int>{}, use_bias, groups, d, n, 1);
}
layer Conv1D(layer p, int filters, const std::vector<int>& k, const std::vector<int>& s, const std::vector<int>& pads,
             bool use_bias, int groups, const std::vector<int>& d, const std::string& n) {
    EDDL_CHECK(!pads.empty(), "Conv1D: explicit padding is empty");
    for (int v : pads) EDDL_CHECK(v >= 0, "Conv1D: negative padding " << v);
    return std::make_shared<LConv2D>(p, filters, k, s, "", pads, use_bias, groups, d, n, 1);
}
layer Conv3D(layer p, int filters, const std::vector<int>& k, const std::vector<int>& s, const std::string& padding,
             bool use_bias, int groups, const std::vector<int>& d, const std::string& n) {
    return std::make_shared<LConv2D>(p, filters, k, s, padding, std::vector<int>{}, use_bias, groups, d, n, 3);
}
layer Conv3D(layer p, int filters, const std::vector<int>& k, const std::vector<int>& s, const std::vector<int>& pads,
             bool use_bias, int groups, const std::vector<int>& d, const std::string& n) {
    EDDL_CHECK(!pads.empty(), "Conv3D: explicit padding is empty");
    for (int v : pads) EDDL_CHECK(v >= 0, "Conv3D: negative padding " << v);
    return std::make_shared<LConv2D>(p, filters, k, s, "", pads, use_bias, groups, d, n, 3);
}
layer Conv2D(layer p, int filters, const std::vector<int>& k, const std::vector<int>& s, const std::string& padding,
             bool use_bias, int groups, const std::vector<int>& d, const std::string& n) {
    return std::make_shared<LConv2D>(p, filters, k, s, padding, std::vector<int>{}, use_bias, groups, d, n);
}
layer Conv2D(layer p, int filters, const std::vector<int>& k, const std::vector<int>& s, const std::vector<int>& pads,
             bool use_bias, int groups, const std::vector<int>& d, const std::string& n) {
    EDDL_CHECK(!pads.empty(), "Conv2D: explicit padding is empty");
    for (int v : pads) EDDL_CHECK(v >= 0, "Conv2D: negative padding " << v);
    return std::make_shared<LConv2D>(p, filters, k, s, "", pads, use_bias, groups, d, n);
}
layer ConvT2D(layer p, int filters, const std::vector<int>& k, const std::vector<int>& s, const std::string& padding,
              bool use_bias, const std::vector<int>& d, const std::string& n) {
    return std::make_shared<LConvT2D>(p, filters, k, s, padding, std::vector<int>{}, std::vector<int>{}, use_bias, d, n);
}
layer ConvT1D(layer p, int filters, const std::vector<int>& k, const std::vector<int>& s, const std::string& padding,
              bool use_bias, const std::vector<int>& d, const std::string& n) {
    return std::make_shared<LConvT2D>(p, filters, k, s, padding, std::vector<int>{}, std::vector<int>{}, use_bias, d, n, 1);
}
layer ConvT3D(layer p, int filters, const std::vector<int>& k, const std::vector<int>& s, const std::string& padding,
              bool use_bias, const std::vector<int>& d, const std::string& n) {
    return std::make_shared<LConvT2D>(p, filters, k, s, padding, std::vector<int>{}, std::vector<int>{}, use_bias, d, n, 3);
}
layer ConvT2D(layer p, int filters, const std::vector<int>& k, const std::vector<int>& s, const std::vector<int>& pads,
              const std::vector<int>& opad, bool use_bias, const std::vector<int>& d, const std::string& n) {
    EDDL_CHECK(pads.size() == 2 && pads[0] >= 0 && pads[1] >= 0, "ConvT2D: explicit padding needs {ph, pw} >= 0");
    return std::make_shared<LConvT2D>(p, filters, k, s, "", pads, opad, use_bias, d, n);
}
layer DepthwiseConv2D(layer p, const std::vector<int>& k, const std::vector<int>& s, const std::string& padding,
                      bool use_bias, int multiplier, const std::vector<int>& d, const std::string& n) {
    EDDL_CHECK(p && p->out_shape.size() == 3, "DepthwiseConv2D: needs a {channels, height, width} input");
    EDDL_CHECK(multiplier >= 1, "DepthwiseConv2D: depth_multiplier must be >= 1, got " << multiplier);
    const int c = p->out_shape[0];
    return Conv2D(p, c * multiplier, k, s, padding, use_bias, c, d, n);
}
layer PointwiseConv2D(layer p, int filters, const std::vector<int>& s, bool use_bias, const std::string& n) {
    return Conv2D(p, filters, {1, 1}, s, "valid", use_bias, 1, {1, 1}, n);
}
layer MaxPool2D(layer p, const std::vector<int>& k, const std::vector<int>& s, const std::string& pad, const std::string& n) {
    return std::make_shared<LPool2D>(p, PoolKind::Max, k, s, pad, false, n);
}
layer MaxPool2D(layer p, const std::vector<int>& k, const std::vector<int>& s, const std::vector<int>& pads,
                const std::string& n) {
    return std::make_shared<LPool2D>(p, PoolKind::Max, k, s, "", false, n, pads);
}
layer AveragePool2D(layer p, const std::vector<int>& k, const std::vector<int>& s, const std::string& pad,
                    const std::string& n) {
    return std::make_shared<LPool2D>(p, PoolKind::Avg, k, s, pad, false, n);
}
layer AvgPool2D(layer p, const std::vector<int>& k, const std::vector<int>& s, const std::string& pad, const std::string& n) {
    return AveragePool2D(p, k, s, pad, n);
}
layer MaxPool1D(layer p, const std::vector<int>& k, const std::vector<int>& s, const std::string& pad, const std::string& n) {
    return std::make_shared<LPool2D>(p, PoolKind::Max, k, s, pad, false, n, std::vector<int>{}, 1);
}
layer AveragePool1D(layer p, const std::vector<int>& k, const std::vector<int>& s, const std::string& pad,
                    const std::string& n) {
    return std::make_shared<LPool2D>(p, PoolKind::Avg, k, s, pad, false, n, std::vector<int>{}, 1);
}
layer AvgPool1D(layer p, const std::vector<int>& k, const std::vector<int>& s, const std::string& pad, const std::string& n) {
    return AveragePool1D(p, k, s, pad, n);
}
layer MaxPool3D(layer p, const std::vector<int>& k, const std::vector<int>& s, const std::string& pad, const std::string& n) {
    return std::make_shared<LPool2D>(p, PoolKind::Max, k, s, pad, false, n, std::vector<int>{}, 3);
}
layer AveragePool3D(layer p, const std::vector<int>& k, const std::vector<int>& s, const std::string& pad,
                    const std::string& n) {
    return std::make_shared<LPool2D>(p, PoolKind::Avg, k, s, pad, false, n, std::vector<int>{}, 3);
}
layer AvgPool3D(layer p, const std::vector<int>& k, const std::vector<int>& s, const std::string& pad, const std::string& n) {
    return AveragePool3D(p, k, s, pad, n);
}
namespace {
layer global_pool(layer p, PoolKind kind, int rank, const std::string& n) {
    return std::make_shared<LPool2D>(p, kind, std::vector<int>{}, std::vector<int>{}, "valid", true, n,
                                     std::vector<int>{}, rank);
}
}  // namespace
layer GlobalMaxPool1D(layer p, const std::string& n) { return global_pool(p, PoolKind::Max, 1, n); }
layer GlobalAveragePool1D(layer p, const std::string& n) { return global_pool(p, PoolKind::Avg, 1, n); }
layer GlobalMaxPool2D(layer p, const std::string& n) { return global_pool(p, PoolKind::Max, 2, n); }
layer GlobalAveragePool2D(layer p, const std::string& n) { return global_pool(p, PoolKind::Avg, 2, n); }
layer GlobalMaxPool3D(layer p, const std::string& n) { return global_pool(p, PoolKind::Max, 3, n); }
layer GlobalAveragePool3D(layer p, const std::string& n) { return global_pool(p, PoolKind::Avg, 3, n); }
layer GlobalMaxPool(layer p, const std::string& n) { return global_pool(p, PoolKind::Max, 0, n); }
layer GlobalAveragePool(layer p, const std::string& n) { return global_pool(p, PoolKind::Avg, 0, n); }
layer GlobalAvgPool(layer p, const std::string& n) { return global_pool(p, PoolKind::Avg, 0, n); }

layer BatchNormalization(layer p, float momentum, float eps, bool affine, const std::string& n) {
    return std::make_shared<LBatchNorm>(p, momentum, eps, affine, n);
}

layer LayerNormalization(layer p, float eps, bool affine, const std::string& n) {
    return std::make_shared<LGroupNorm>(p, 0, eps, affine, n);
}
layer GroupNormalization(layer p, int groups, float eps, bool affine, const std::string& n) {
    EDDL_CHECK(groups >= 1, "GroupNormalization: groups must be >= 1, got " << groups);
    return std::make_shared<LGroupNorm>(p, groups, eps, affine, n);
}
layer UpSampling2D(layer p, const std::vector<int>& size, const std::string& interp, const std::string& n) {
    return std::make_shared<LUpSampling2D>(p, size, interp, n, 2);
}
layer UpSampling3D(layer p, const std::vector<int>& size, const std::string& interp, const std::string& n) {
    return std::make_shared<LUpSampling2D>(p, size, interp, n, 3);
}
layer Pad(layer p, const std::vector<int>& padding, float constant, const std::string& n) {
    return std::make_shared<LPad>(p, padding, constant, n);
}
layer Crop(layer p, const std::vector<int>& from, const std::vector<int>& to, bool reshape, float constant,
           const std::string& n) {
    return std::make_shared<LCrop>(p, from, to, reshape, constant, n);
}
layer CenteredCrop(layer p, const std::vector<int>& size, bool reshape, float constant, const std::string& n) {
    EDDL_CHECK(p && p->out_shape.size() == size.size() + 1,
               "CenteredCrop: size needs one value per spatial dimension of " << (p ? shape_str(p->out_shape) : "null"));
    std::vector<int> from, to;
    for (size_t a = 0; a < size.size(); ++a) {
        EDDL_CHECK(size[a] >= 1 && size[a] <= p->out_shape[a + 1],
                   "CenteredCrop: size " << size[a] << " does not fit dimension " << a << " of " << shape_str(p->out_shape));
        from.push_back((p->out_shape[a + 1] - size[a]) / 2);
        to.push_back(from.back() + size[a] - 1);
    }
    return std::make_shared<LCrop>(p, from, to, reshape, constant, n, "CenteredCrop");
}
namespace {
using TK = LTransform::Kind;
layer transform(layer p, TK k, const std::vector<float>& a, const std::vector<float>& b, const Shape& shape,
                const std::string& mode, float c, const std::string& n) {
    return std::make_shared<LTransform>(p, k, a, b, shape, mode, c, n);
}
std::vector<float> fl(const std::vector<int>& v) { return {v.begin(), v.end()}; }
}  // namespace
layer RandomCrop(layer p, const std::vector<int>& s, const std::string& n) {
    return transform(p, TK::RandomCrop, {}, {}, Shape(s.begin(), s.end()), "constant", 0, n);
}
layer RandomCropScale(layer p, const std::vector<float>& f, const std::string& m, const std::string& n) {
    return transform(p, TK::RandomCropScale, f, {}, {}, m, 0, n);
}
layer RandomCutout(layer p, const std::vector<float>& fx, const std::vector<float>& fy, float c, const std::string& n) {
    return transform(p, TK::RandomCutout, fx, fy, {}, "constant", c, n);
}
layer RandomFlip(layer p, int axis, const std::string& n) { return transform(p, TK::RandomFlip, {float(axis)}, {}, {}, "constant", 0, n); }
layer RandomHorizontalFlip(layer p, const std::string& n) { return transform(p, TK::RandomFlip, {1}, {1}, {}, "constant", 0, n); }
layer RandomVerticalFlip(layer p, const std::string& n) { return transform(p, TK::RandomFlip, {0}, {1}, {}, "constant", 0, n); }
layer RandomRotation(layer p, const std::vector<float>& f, const std::vector<int>& oc, const std::string& m, float c,
                     const std::string& n) {
    EDDL_CHECK(oc.size() == 2, "RandomRotation: offset_center needs {dy, dx}");
    return transform(p, TK::RandomRotation, f, fl(oc), {}, m, c, n);
}
layer RandomScale(layer p, const std::vector<float>& f, const std::string& m, float c, const std::string& n) {
    return transform(p, TK::RandomScale, f, {}, {}, m, c, n);
}
layer RandomShift(layer p, const std::vector<float>& fx, const std::vector<float>& fy, const std::string& m, float c,
                  const std::string& n) {
    return transform(p, TK::RandomShift, fx, fy, {}, m, c, n);
}
layer Cutout(layer p, const std::vector<int>& from, const std::vector<int>& to, float c, const std::string& n) {
    return transform(p, TK::Cutout, fl(from), fl(to), {}, "constant", c, n);
}
layer Flip(layer p, int axis, const std::string& n) { return transform(p, TK::Flip, {float(axis)}, {}, {}, "constant", 0, n); }
layer HorizontalFlip(layer p, const std::string& n) { return transform(p, TK::Flip, {1}, {1}, {}, "constant", 0, n); }
layer VerticalFlip(layer p, const std::string& n) { return transform(p, TK::Flip, {0}, {1}, {}, "constant", 0, n); }
layer Rotate(layer p, float angle, const std::vector<int>& oc, const std::string& m, float c, const std::string& n) {
    EDDL_CHECK(oc.size() == 2, "Rotate: offset_center needs {dy, dx}");
    return transform(p, TK::Rotate, {angle}, fl(oc), {}, m, c, n);
}
layer Scale(layer p, const std::vector<int>& s, bool reshape, const std::string& m, float c, const std::string& n) {
    return transform(p, TK::Scale, {reshape ? 1.0f : 0.0f}, {}, Shape(s.begin(), s.end()), m, c, n);
}
layer Shift(layer p, const std::vector<int>& s, const std::string& m, float c, const std::string& n) {
    return transform(p, TK::Shift, fl(s), {}, {}, m, c, n);
}
layer Embedding(layer p, int vocsize, int length, int output_dim, bool mask_zeros, const std::string& n) {
    return std::make_shared<LEmbedding>(p, vocsize, length, output_dim, mask_zeros, n);
}

namespace {
layer recurrent(layer p, LRecurrent::Kind kind, int units, bool mask_zeros, bool bidirectional, bool seq,
                const std::string& n, const std::string& activation = "tanh", bool use_bias = true) {
    LRecurrent::Options o;
    o.use_bias = use_bias;
    o.bidirectional = bidirectional;
    o.mask_zeros = mask_zeros;
    o.output = seq ? LRecurrent::Output::Y : LRecurrent::Output::Y_h;
    o.activation = activation;
    return std::make_shared<LRecurrent>(p, kind, units, o, n);
}
}  // namespace

layer RNN(layer p, int units, const std::string& activation, bool use_bias, bool bidirectional, const std::string& n,
          bool seq) {
    return recurrent(p, LRecurrent::Kind::RNN, units, false, bidirectional, seq, n, activation, use_bias);
}
layer LSTM(layer p, int units, bool mask_zeros, bool bidirectional, const std::string& n, bool seq) {
    return recurrent(p, LRecurrent::Kind::LSTM, units, mask_zeros, bidirectional, seq, n);
}
layer GRU(layer p, int units, bool mask_zeros, bool bidirectional, const std::string& n, bool seq) {
    return recurrent(p, LRecurrent::Kind::GRU, units, mask_zeros, bidirectional, seq, n);
}
layer GaussianNoise(layer p, float stddev, const std::string& n) { return std::make_shared<LGaussianNoise>(p, stddev, n); }
layer Permute(layer p, const std::vector<int>& dims, const std::string& n) { return std::make_shared<LPermute>(p, dims, n); }
layer Transpose(layer p, const std::string& n) {
    EDDL_CHECK(p && p->out_shape.size() >= 2,
               "Transpose: needs at least two axes after the batch" << (p ? ", got " + shape_str(p->out_shape) : ""));
    std::vector<int> dims(p->out_shape.size());
    for (size_t i = 0; i < dims.size(); ++i) dims[i] = int(i);
    std::swap(dims[dims.size() - 1], dims[dims.size() - 2]);
    return std::make_shared<LPermute>(p, dims, n);
}

// ---- initializers and regularizers ----

static layer with_init(layer l, InitKind k, float a, float b, int seed) {
    EDDL_CHECK(l, "initializer applied to a null layer");
    auto init = std::make_shared<Initializer>();
    init->kind = k;
    init->a = a;
    init->b = b;
    init->seed = seed;
    l->initializer = init;
    return l;
}
layer GlorotUniform(layer l, int s) { return with_init(l, InitKind::GlorotUniform, 0, 0, s); }
layer GlorotNormal(layer l, int s) { return with_init(l, InitKind::GlorotNormal, 0, 0, s); }
layer HeUniform(layer l, int s) { return with_init(l, InitKind::HeUniform, 0, 0, s); }
layer HeNormal(layer l, int s) { return with_init(l, InitKind::HeNormal, 0, 0, s); }
layer RandomNormal(layer l, float m, float sd, int s) { return with_init(l, InitKind::RandomNormal, m, sd, s); }
layer RandomUniform(layer l, float lo, float hi, int s) {
    EDDL_CHECK(lo < hi, "RandomUniform: min " << lo << " must be below max " << hi);
    return with_init(l, InitKind::RandomUniform, lo, hi, s);
}
layer Constant(layer l, float v) { return with_init(l, InitKind::Constant, v, 0, -1); }
layer Orthogonal(layer l, float gain, int s) { return with_init(l, InitKind::Orthogonal, gain, 0, s); }

static layer with_reg(layer l, RegKind k, float l1, float l2) {
    EDDL_CHECK(l, "regularizer applied to a null layer");
    EDDL_CHECK(l1 >= 0 && l2 >= 0, "regularizer on '" << l->name << "': factors must be >= 0");
    EDDL_CHECK(!l->params.empty(), "regularizer on '" << l->name << "': a " << l->type() << " layer has no weights");
    auto r = std::make_shared<Regularizer>();
    r->kind = k;
    r->l1 = l1;
    r->l2 = l2;
    l->regularizer = r;
    return l;
}
layer L1(layer l, float l1) { return with_reg(l, RegKind::L1, l1, 0); }
layer L2(layer l, float l2) { return with_reg(l, RegKind::L2, 0, l2); }
layer L1L2(layer l, float l1, float l2) { return with_reg(l, RegKind::L1L2, l1, l2); }

// ---- models ----

model Model(const vlayer& in, const vlayer& out) { return std::make_shared<Net>(in, out); }

void build(model net, optimizer o, const std::vector<std::string>& losses, const std::vector<std::string>& metrics,
           compserv cs, bool init_weights) {
    EDDL_CHECK(net, "build: model is null");
    net->build(o, losses, metrics, cs, init_weights);
}
void build(model net, optimizer o, compserv cs, bool init_weights) { build(net, o, {}, {}, cs, init_weights); }
void set_seed(model net, uint64_t seed) { net->seed = seed; }

// ---- computing services ----

compserv CS_CPU(int th, const std::string& mem) {
    EDDL_CHECK(th == -1 || th >= 1, "CS_CPU: threads must be -1 (all cores) or >= 1, got " << th);
    auto cs = std::make_shared<CompServ>();
    cs->threads = th == -1 ? omp_get_num_procs() : th;
    cs->mem = parse_mem_level(mem);
    return cs;
}

compserv CS_GPU(const std::vector<int>& g, int lsb, const std::string& mem) {
    EDDL_CHECK(!g.empty(), "CS_GPU: empty GPU mask");
    EDDL_CHECK(lsb >= 1, "CS_GPU: lsb must be >= 1, got " << lsb);
    auto cs = std::make_shared<CompServ>();
    cs->type = DeviceType::CUDA;
    cs->gpus = g;
    cs->lsb = lsb;
    cs->mem = parse_mem_level(mem);
    // Never fall back to the CPU silently: ask the dispatch table for the device now.
    int first = 0;
    while (first < int(g.size()) && !g[first]) ++first;
    EDDL_CHECK(first < int(g.size()), "CS_GPU: mask " << shape_str(g) << " selects no GPU");
    (void)kernels(Device{DeviceType::CUDA, first});
    return cs;
}
compserv CS_GPU(const std::vector<int>& g, const std::string& mem) { return CS_GPU(g, 1, mem); }

compserv CS_from_file(const std::string& path) {
    YAML::Node root;
    try {
        root = YAML::LoadFile(path);
    } catch (const YAML::BadFile&) {
        EDDL_FAIL("computing service file '" << path << "': cannot open");
    } catch (const YAML::Exception& e) {
        EDDL_FAIL("computing service file '" << path << "': line " << e.mark.line + 1 << ", column "
                                             << e.mark.column + 1 << ": " << e.msg);
    }
    EDDL_CHECK(root.IsMap(), "computing service file '" << path << "': expected a mapping of keys (device, threads, ...)");
    auto where = [&](const YAML::Node& n) {
        return "computing service file '" + path + "', line " + std::to_string(n.Mark().line + 1);
    };
    std::string device = "cpu", mem = "full_mem";
    int threads = -1, lsb = 1;
    std::vector<int> gpus{1};
    for (const auto& kv : root) {
        const std::string key = kv.first.as<std::string>();
        try {
            if (key == "device") device = kv.second.as<std::string>();
            else if (key == "threads") threads = kv.second.as<int>();
            else if (key == "gpus") gpus = kv.second.as<std::vector<int>>();
            else if (key == "lsb") lsb = kv.second.as<int>();
            else if (key == "mem") mem = kv.second.as<std::string>();
            else EDDL_FAIL(where(kv.first) << ": unknown key '" << key << "' (known: device, threads, gpus, lsb, mem)");
        } catch (const YAML::Exception&) {
            EDDL_FAIL(where(kv.second) << ": bad value for '" << key << "'");
        }
    }
    try {
        if (device == "cpu") return CS_CPU(threads, mem);
        if (device == "gpu" || device == "cuda") return CS_GPU(gpus, lsb, mem);
    } catch (const Error& e) {
        EDDL_FAIL("computing service file '" << path << "': " << e.what());
    }
    EDDL_FAIL("computing service file '" << path << "': unknown device '" << device << "' (use cpu or gpu)");
}

// ---- optimizers ----

static optimizer make_opt(int rule, float lr) {
    EDDL_CHECK(lr >= 0 && std::isfinite(lr), "optimizer: learning rate must be finite and >= 0, got " << lr);
    auto o = std::make_shared<Optimizer>();
    o->hp.rule = rule;
    o->hp.lr = lr;
    return o;
}
optimizer sgd(float lr, float momentum, float wd, bool nesterov) {
    EDDL_CHECK(momentum >= 0, "sgd: momentum must be >= 0, got " << momentum);
    EDDL_CHECK(!nesterov || momentum > 0, "sgd: nesterov needs momentum > 0");
    auto o = make_opt(0, lr);
    o->hp.momentum = momentum;
    o->hp.weight_decay = wd;
    o->hp.nesterov = nesterov;
    return o;
}
static optimizer adam_like(int rule, float lr, float b1, float b2, float eps, float wd, bool ams) {
    EDDL_CHECK(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1, "optimizer: betas must be in [0, 1), got " << b1 << ", " << b2);
    auto o = make_opt(rule, lr);
    o->hp.beta1 = b1;
    o->hp.beta2 = b2;
    o->hp.eps = eps;
    o->hp.weight_decay = wd;
    o->hp.amsgrad = ams;
    return o;
}
optimizer adam(float lr, float b1, float b2, float eps, float wd, bool ams) { return adam_like(1, lr, b1, b2, eps, wd, ams); }
optimizer adamw(float lr, float b1, float b2, float eps, float wd, bool ams) { return adam_like(2, lr, b1, b2, eps, wd, ams); }
optimizer rmsprop(float lr, float rho, float eps, float wd) {
    auto o = make_opt(3, lr);
    o->hp.rho = rho;
    o->hp.eps = eps;
    o->hp.weight_decay = wd;
    return o;
}
optimizer adagrad(float lr, float eps, float wd) {
    auto o = make_opt(4, lr);
    o->hp.eps = eps;
    o->hp.weight_decay = wd;
    return o;
}
optimizer adadelta(float lr, float rho, float eps, float wd) {
    auto o = make_opt(5, lr);
    o->hp.rho = rho;
    o->hp.eps = eps;
    o->hp.weight_decay = wd;
    return o;
}
optimizer adamax(float lr, float b1, float b2, float eps, float wd) { return adam_like(6, lr, b1, b2, eps, wd, false); }
optimizer nadam(float lr, float b1, float b2, float eps, float schedule_decay) {
    auto o = adam_like(7, lr, b1, b2, eps, 0, false);
    o->hp.schedule_decay = schedule_decay;
    return o;
}

Schedule StepDecay(float lr0, float drop, int every) {
    EDDL_CHECK(every >= 1, "StepDecay: every_epochs must be >= 1");
    return [=](int e, float) { return lr0 * std::pow(drop, float(e / every)); };
}
Schedule ExponentialDecay(float lr0, float gamma) {
    return [=](int e, float) { return lr0 * std::pow(gamma, float(e)); };
}
Schedule CosineDecay(float lr0, int total, float min_lr) {
    EDDL_CHECK(total >= 1, "CosineDecay: total_epochs must be >= 1");
    return [=](int e, float) {
        const float f = float(std::min(e, total)) / float(total);
        return min_lr + 0.5f * (lr0 - min_lr) * (1.0f + std::cos(float(M_PI) * f));
    };
}

// ---- inspection ----

std::string summary(model net) {
    const std::string s = net->summary();
    std::cout << s << std::flush;
    return s;
}
layer getLayer(model net, const std::string& name) { return net->get_layer(name); }
tensor getOutput(layer l) {
    EDDL_CHECK(l->output, "getOutput: layer '" << l->name << "' has not run forward yet");
    EDDL_CHECK(!l->output_stale, "getOutput: layer '" << l->name << "' is not kept by the last forward, which ran in "
                                 "inference mode with fused kernels and shared buffers; set fuse_inference = false "
                                 "on the model to read inner layers after predict");
    return l->blocked ? unblocked(*l->output) : l->output->clone();
}
vlayer getOut(model net) { return net->outputs; }
vtensor getParams(layer l) {
    weights_changed();  // the caller may write through the handles
    return l->params;
}
vtensor getGradients(layer l) { return l->gradients; }
void setParams(layer l, const vtensor& ps) {
    EDDL_CHECK(ps.size() == l->params.size(), "setParams: layer '" << l->name << "' has " << l->params.size()
                                                                   << " parameters, " << ps.size() << " given");
    for (size_t i = 0; i < ps.size(); ++i) {
        EDDL_CHECK(ps[i]->shape == l->params[i]->shape, "setParams: layer '" << l->name << "' parameter " << i
                                                                             << " has shape " << shape_str(l->params[i]->shape)
                                                                             << ", given " << shape_str(ps[i]->shape));
        l->params[i]->copy_from(*ps[i]);
    }
    weights_changed();
}
void setTrainable(model net, const std::string& name, bool t) {
    net->get_layer(name)->trainable = t;
    set_trainable_marks(*net);
}
void setlr(model net, const std::vector<float>& p) {
    EDDL_CHECK(net->opt, "setlr: model has no optimizer");
    EDDL_CHECK(!p.empty(), "setlr: no learning rate given");
    net->opt->setlr(p[0]);
}

}  // namespace eddl
