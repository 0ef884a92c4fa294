// Layers that move values around: UpSampling2D, Permute; and GaussianNoise.
#include <algorithm>
#include <numeric>
#include <sstream>

#include "layers/layers.h"
#include "tensor/random.h"

namespace eddl {
namespace {
std::string join(const std::vector<int>& v) {
    std::ostringstream os;
    for (size_t i = 0; i < v.size(); ++i) os << (i ? "," : "") << v[i];
    return os.str();
}
BroadcastPlan flat(int64_t n) {
    BroadcastPlan p;
    p.ndim = 1; p.dims[0] = n; p.sa[0] = 1; p.sb[0] = 1; p.n = n;
    return p;
}
}  // namespace

LUpSampling2D::LUpSampling2D(layer parent, const std::vector<int>& size, const std::string& interp,
                             const std::string& n) {
    name = n.empty() ? auto_name("upsampling2d") : n;
    const std::string who = "UpSampling2D '" + name + "'";
    EDDL_CHECK(parent && parent->out_shape.size() == 3,
               who << ": needs a {channels, height, width} input" << (parent ? ", got " + shape_str(parent->out_shape) : ""));
    EDDL_CHECK(size.size() == 2 && size[0] >= 1 && size[1] >= 1, who << ": size needs 2 factors >= 1");
    EDDL_CHECK(interp == "nearest", who << ": interpolation '" << interp << "' is not available (only \"nearest\" so far)");
    sh = size[0];
    sw = size[1];
    parents = {parent};
    out_shape = {parent->out_shape[0], parent->out_shape[1] * sh, parent->out_shape[2] * sw};
}

void LUpSampling2D::forward() {
    const Tensor& x = *parents[0]->output;
    const Shape& in = parents[0]->out_shape;
    kernels(x.device).upsample_nearest(x.ptr, output->ptr, int64_t(x.shape[0]) * in[0], in[1], in[2], sh, sw);
}

void LUpSampling2D::backward() {
    if (!parents[0]->needs_delta) return;
    const bool acc = take_parent_delta(0);
    const Shape& in = parents[0]->out_shape;
    kernels(delta->device).upsample_nearest_backward(delta->ptr, parents[0]->delta->ptr,
                                                     int64_t(delta->shape[0]) * in[0], in[1], in[2], sh, sw, acc);
}

LayerConfig LUpSampling2D::config() const { return {{"size", join({sh, sw})}}; }

LGaussianNoise::LGaussianNoise(layer parent, float sd, const std::string& n) : stddev(sd) {
    name = n.empty() ? auto_name("gaussiannoise") : n;
    EDDL_CHECK(parent, "GaussianNoise '" << name << "': parent layer is null");
    EDDL_CHECK(stddev >= 0, "GaussianNoise '" << name << "': stddev must be >= 0, got " << stddev);
    parents = {parent};
    out_shape = parent->out_shape;
}

void LGaussianNoise::forward() {
    const Tensor& x = *parents[0]->output;
    const auto& k = kernels(x.device);
    if (mode != TRMODE || stddev == 0) {
        k.copy(x.ptr, output->ptr, x.size);
        return;
    }
    // Same stream rule as Dropout: (net seed, layer, step), whatever the thread count.
    Tensor noise(x.shape, x.device);
    noise.fill_rand_normal_(0.0f, stddev, derive_seed(seed, step));
    k.binary(BinaryOp::Add, x.ptr, noise.ptr, output->ptr, flat(x.size));
}

void LGaussianNoise::backward() {
    if (!parents[0]->needs_delta) return;
    const bool acc = take_parent_delta(0);
    kernels(delta->device).axpby(1.0f, delta->ptr, acc ? 1.0f : 0.0f, parents[0]->delta->ptr, delta->size);
}

LayerConfig LGaussianNoise::config() const { return {{"stddev", std::to_string(stddev)}}; }

LPermute::LPermute(layer parent, const std::vector<int>& d, const std::string& n) : dims(d) {
    name = n.empty() ? auto_name("permute") : n;
    const std::string who = "Permute '" + name + "'";
    EDDL_CHECK(parent, who << ": parent layer is null");
    const int nd = int(parent->out_shape.size());
    std::vector<int> sorted = dims;
    std::sort(sorted.begin(), sorted.end());
    std::vector<int> want(nd);
    std::iota(want.begin(), want.end(), 0);
    EDDL_CHECK(sorted == want, who << ": dims " << shape_str(dims) << " are not a permutation of the " << nd
                                   << " non-batch axes of " << shape_str(parent->out_shape));
    parents = {parent};
    for (int a : dims) out_shape.push_back(parent->out_shape[a]);
}

void LPermute::forward() {
    const Tensor& x = *parents[0]->output;
    std::vector<int64_t> sd(x.shape.begin(), x.shape.end());
    std::vector<int> perm{0};
    for (int a : dims) perm.push_back(a + 1);
    kernels(x.device).permute(x.ptr, output->ptr, x.ndim, sd.data(), perm.data());
}

void LPermute::backward() {
    if (!parents[0]->needs_delta) return;
    const bool acc = take_parent_delta(0);
    std::vector<int64_t> sd(delta->shape.begin(), delta->shape.end());
    std::vector<int> inv(delta->ndim);
    inv[0] = 0;
    for (size_t i = 0; i < dims.size(); ++i) inv[dims[i] + 1] = int(i) + 1;
    const auto& k = kernels(delta->device);
    if (!acc) {
        k.permute(delta->ptr, parents[0]->delta->ptr, delta->ndim, sd.data(), inv.data());
        return;
    }
    Tensor tmp(parents[0]->delta->shape, delta->device);
    k.permute(delta->ptr, tmp.ptr, delta->ndim, sd.data(), inv.data());
    k.axpby(1.0f, tmp.ptr, 1.0f, parents[0]->delta->ptr, tmp.size);
}

LayerConfig LPermute::config() const { return {{"dims", join(dims)}}; }

}  // namespace eddl
