// Layers that move values around: UpSampling2D/3D, Pad, Crop, Permute, Embedding; and GaussianNoise.
#include <algorithm>
#include <numeric>
#include <sstream>

#include "init/init.h"
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
                             const std::string& n, int r)
    : rank(r), interpolation(interp) {
    name = n.empty() ? auto_name("upsampling" + std::to_string(rank) + "d") : n;
    const std::string who = type() + " '" + name + "'";
    EDDL_CHECK(parent && int(parent->out_shape.size()) == rank + 1,
               who << ": needs a " << (rank == 2 ? "{channels, height, width}" : "{channels, depth, height, width}")
                   << " input" << (parent ? ", got " + shape_str(parent->out_shape) : ""));
    EDDL_CHECK(int(size.size()) == rank, who << ": size needs " << rank << " factors");
    for (int f : size) EDDL_CHECK(f >= 1, who << ": factors must be >= 1, got " << f);
    EDDL_CHECK(interp == "nearest" || interp == "bilinear" || interp == "trilinear" || interp == "linear",
               who << ": unknown interpolation '" << interp << "' (use \"nearest\" or \"bilinear\" / \"trilinear\")");
    if (interp != "nearest") interpolation = "linear";
    parents = {parent};
    out_shape = {parent->out_shape[0]};
    for (int a = 0; a < rank; ++a) {
        factors.push_back(size[size_t(a)]);
        out_shape.push_back(parent->out_shape[size_t(a) + 1] * size[size_t(a)]);
    }
}

ResampleGeom LUpSampling2D::geom(int batch) const {
    const Shape& in = parents[0]->out_shape;
    const int id = rank == 3 ? in[1] : 1, od = rank == 3 ? out_shape[1] : 1;
    return {int64_t(batch) * in[0], id, in[rank - 1], in[rank], od, out_shape[rank - 1], out_shape[rank],
            interpolation == "linear"};
}

void LUpSampling2D::forward() {
    const Tensor& x = *parents[0]->output;
    const ResampleGeom g = geom(x.shape[0]);
    const auto& k = kernels(x.device);
    if (!g.linear && rank == 2)  // the common case has a faster dedicated kernel
        k.upsample_nearest(x.ptr, output->ptr, g.planes, g.ih, g.iw, factors[0], factors[1]);
    else
        k.resample(g, x.ptr, output->ptr);
}

void LUpSampling2D::backward() {
    if (!parents[0]->needs_delta) return;
    const bool acc = take_parent_delta(0);
    const ResampleGeom g = geom(delta->shape[0]);
    const auto& k = kernels(delta->device);
    if (!g.linear && rank == 2)
        k.upsample_nearest_backward(delta->ptr, parents[0]->delta->ptr, g.planes, g.ih, g.iw, factors[0], factors[1], acc);
    else
        k.resample_backward(g, delta->ptr, parents[0]->delta->ptr, acc);
}

LayerConfig LUpSampling2D::config() const {
    return {{"size", join(factors)}, {"interpolation", interpolation}, {"rank", std::to_string(rank)}};
}

// ---- Pad and Crop: a constant border added, or a box cut out ----

namespace {
// [batch, C, spatial...] dims, and where the inner box starts in the bigger tensor
void pad_box(const Shape& inner_no_batch, const std::vector<int>& begin, int batch, std::vector<int64_t>& dims,
         std::vector<int64_t>& starts) {
    dims.assign({int64_t(batch)});
    for (int d : inner_no_batch) dims.push_back(d);
    starts.assign(dims.size(), 0);
    for (size_t a = 0; a < begin.size(); ++a) starts[a + 2] = begin[a];
}
}  // namespace

LPad::LPad(layer parent, const std::vector<int>& pads, float c, const std::string& n) : constant(c) {
    name = n.empty() ? auto_name("pad") : n;
    const std::string who = "Pad '" + name + "'";
    EDDL_CHECK(parent && parent->out_shape.size() >= 2,
               who << ": needs {channels, spatial...} input" << (parent ? ", got " + shape_str(parent->out_shape) : ""));
    const size_t rank = parent->out_shape.size() - 1;
    EDDL_CHECK(pads.size() == rank || pads.size() == 2 * rank,
               who << ": padding needs " << rank << " values (both sides) or " << 2 * rank
                   << " (begin, end per dimension: {top, bottom, left, right} in 2-D), got " << pads.size());
    parents = {parent};
    out_shape = {parent->out_shape[0]};
    for (size_t a = 0; a < rank; ++a) {
        const int b = pads.size() == rank ? pads[a] : pads[2 * a], e = pads.size() == rank ? pads[a] : pads[2 * a + 1];
        EDDL_CHECK(b >= 0 && e >= 0, who << ": negative padding (use Crop to cut)");
        begin.push_back(b);
        end.push_back(e);
        out_shape.push_back(parent->out_shape[a + 1] + b + e);
    }
}

void LPad::forward() {
    const Tensor& x = *parents[0]->output;
    const auto& k = kernels(x.device);
    std::vector<int64_t> dims, starts, inner(x.shape.begin(), x.shape.end());
    pad_box(out_shape, begin, x.shape[0], dims, starts);
    k.fill(output->ptr, output->size, constant);
    k.slice_backward(x.ptr, output->ptr, x.ndim, dims.data(), starts.data(), inner.data(), false);
}

void LPad::backward() {
    if (!parents[0]->needs_delta) return;
    const bool acc = take_parent_delta(0);
    Tensor& dx = *parents[0]->delta;
    const auto& k = kernels(dx.device);
    std::vector<int64_t> dims, starts, inner(dx.shape.begin(), dx.shape.end());
    pad_box(out_shape, begin, dx.shape[0], dims, starts);
    if (!acc) {
        k.slice(delta->ptr, dx.ptr, dx.ndim, dims.data(), starts.data(), inner.data());
        return;
    }
    Tensor tmp(dx.shape, dx.device);
    k.slice(delta->ptr, tmp.ptr, dx.ndim, dims.data(), starts.data(), inner.data());
    k.axpby(1.0f, tmp.ptr, 1.0f, dx.ptr, tmp.size);
}

LayerConfig LPad::config() const {
    std::vector<int> both;
    for (size_t a = 0; a < begin.size(); ++a) {
        both.push_back(begin[a]);
        both.push_back(end[a]);
    }
    std::ostringstream c;
    c << constant;
    return {{"pads", join(both)}, {"constant", c.str()}};
}

LCrop::LCrop(layer parent, const std::vector<int>& from, const std::vector<int>& to, bool reshape, float c,
             const std::string& n, const std::string& tn)
    : keep_size(!reshape), constant(c), type_name(tn) {
    name = n.empty() ? auto_name(tn) : n;
    const std::string who = tn + " '" + name + "'";
    EDDL_CHECK(parent && parent->out_shape.size() >= 2,
               who << ": needs {channels, spatial...} input" << (parent ? ", got " + shape_str(parent->out_shape) : ""));
    const size_t rank = parent->out_shape.size() - 1;
    EDDL_CHECK(from.size() == rank && to.size() == rank,
               who << ": from and to need " << rank << " coordinates each (one per spatial dimension)");
    parents = {parent};
    out_shape = {parent->out_shape[0]};
    for (size_t a = 0; a < rank; ++a) {
        const int size = parent->out_shape[a + 1];
        EDDL_CHECK(0 <= from[a] && from[a] <= to[a] && to[a] < size,
                   who << ": box " << from[a] << ".." << to[a] << " does not fit dimension " << a << " of input "
                       << shape_str(parent->out_shape) << " (coordinates are inclusive)");
        begin.push_back(from[a]);
        extent.push_back(to[a] - from[a] + 1);
        out_shape.push_back(keep_size ? size : extent.back());
    }
}

void LCrop::box(const Shape& full, std::vector<int64_t>& dims, std::vector<int64_t>& starts,
                std::vector<int64_t>& box_dims) const {
    dims.assign(full.begin(), full.end());
    starts.assign(dims.size(), 0);
    box_dims = dims;
    for (size_t a = 0; a < begin.size(); ++a) {
        starts[a + 2] = begin[a];
        box_dims[a + 2] = extent[a];
    }
}

void LCrop::forward() {
    const Tensor& x = *parents[0]->output;
    const auto& k = kernels(x.device);
    std::vector<int64_t> dims, starts, box_dims;
    box(x.shape, dims, starts, box_dims);
    if (!keep_size) {
        k.slice(x.ptr, output->ptr, x.ndim, dims.data(), starts.data(), box_dims.data());
        return;
    }
    // same size: the box stays where it was, the rest becomes the constant
    Tensor tmp(Shape(box_dims.begin(), box_dims.end()), x.device);
    k.slice(x.ptr, tmp.ptr, x.ndim, dims.data(), starts.data(), box_dims.data());
    k.fill(output->ptr, output->size, constant);
    k.slice_backward(tmp.ptr, output->ptr, x.ndim, dims.data(), starts.data(), box_dims.data(), false);
}

void LCrop::backward() {
    if (!parents[0]->needs_delta) return;
    const bool acc = take_parent_delta(0);
    Tensor& dx = *parents[0]->delta;
    const auto& k = kernels(dx.device);
    std::vector<int64_t> dims, starts, box_dims;
    box(dx.shape, dims, starts, box_dims);
    if (!acc) k.fill(dx.ptr, dx.size, 0.0f);
    if (!keep_size) {
        k.slice_backward(delta->ptr, dx.ptr, dx.ndim, dims.data(), starts.data(), box_dims.data(), true);
        return;
    }
    Tensor tmp(Shape(box_dims.begin(), box_dims.end()), dx.device);
    k.slice(delta->ptr, tmp.ptr, dx.ndim, dims.data(), starts.data(), box_dims.data());
    k.slice_backward(tmp.ptr, dx.ptr, dx.ndim, dims.data(), starts.data(), box_dims.data(), true);
}

LayerConfig LCrop::config() const {
    std::vector<int> to;
    for (size_t a = 0; a < begin.size(); ++a) to.push_back(begin[a] + extent[a] - 1);
    std::ostringstream c;
    c << constant;
    return {{"from", join(begin)}, {"to", join(to)}, {"reshape", keep_size ? "0" : "1"}, {"constant", c.str()}};
}

// ---- Embedding ----

LEmbedding::LEmbedding(layer parent, int voc, int len, int dim, bool mz, const std::string& n)
    : vocsize(voc), length(len), output_dim(dim), mask_zeros(mz) {
    name = n.empty() ? auto_name("embedding") : n;
    const std::string who = "Embedding '" + name + "'";
    EDDL_CHECK(parent, who << ": parent layer is null");
    EDDL_CHECK(vocsize >= 1 && output_dim >= 1, who << ": vocsize and output_dim must be >= 1");
    EDDL_CHECK(parent->out_shape == Shape{length} || (length == 1 && parent->out_shape == Shape{}),
               who << ": input from '" << parent->name << "' has shape " << shape_str(parent->out_shape)
                   << "; Embedding needs {length} = {" << length << "} word indices");
    parents = {parent};
    out_shape = {length, output_dim};
    params = {Tensor::zeros({vocsize, output_dim})};
    gradients = {Tensor::zeros({vocsize, output_dim})};
}

void LEmbedding::init_params(uint64_t s) {
    // N(0, 1) rows, as PyTorch's nn.Embedding (an explicit initializer takes precedence)
    if (initializer) initializer->apply(*params[0], output_dim, vocsize, initializer->seed >= 0 ? uint64_t(initializer->seed) : s);
    else params[0]->fill_rand_normal_(0.0f, 1.0f, s);
}

void LEmbedding::forward() {
    const Tensor& x = *parents[0]->output;
    indices.resize(size_t(x.size));
    for (int64_t i = 0; i < x.size; ++i) {
        const float v = x.ptr[i];
        EDDL_CHECK(v >= 0 && v < float(vocsize) && v == float(int64_t(v)),
                   "Embedding '" << name << "': index " << v << " at position " << i
                                 << " is not a whole number in [0, " << vocsize << ")");
        indices[size_t(i)] = mask_zeros && v == 0 ? -1 : int(v);
    }
    const auto& k = kernels(x.device);
    if (mask_zeros) k.fill(output->ptr, output->size, 0.0f);
    // gather every row; masked positions read row 0 and are zeroed again
    std::vector<int> rows(indices);
    for (int& r : rows) r = std::max(r, 0);
    k.gather_rows(params[0]->ptr, output->ptr, rows.data(), int64_t(rows.size()), output_dim);
    if (mask_zeros)
        for (size_t i = 0; i < indices.size(); ++i)
            if (indices[i] < 0) k.fill(output->ptr + int64_t(i) * output_dim, output_dim, 0.0f);
}

void LEmbedding::backward() {
    if (!trainable) return;  // indices have no gradient
    const auto& k = kernels(delta->device);
    if (!take_grads()) k.fill(gradients[0]->ptr, gradients[0]->size, 0.0f);
    k.scatter_add_rows(delta->ptr, gradients[0]->ptr, indices.data(), int64_t(indices.size()), output_dim);
}

LayerConfig LEmbedding::config() const {
    return {{"vocsize", std::to_string(vocsize)}, {"length", std::to_string(length)},
            {"output_dim", std::to_string(output_dim)}, {"mask_zeros", mask_zeros ? "1" : "0"}};
}

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
