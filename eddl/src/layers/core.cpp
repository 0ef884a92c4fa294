// Layer plumbing, Input, Dense, Dropout, Reshape, and rebuilding layers from their config.
#include <atomic>
#include <map>
#include <mutex>
#include <sstream>

#include "init/init.h"
#include "layers/layers.h"
#include "tensor/random.h"

namespace eddl {

std::string auto_name(const std::string& type) {
    static std::mutex m;
    static std::map<std::string, int> counts;
    std::lock_guard<std::mutex> lock(m);
    std::string base;
    for (char c : type) base += char(std::tolower(static_cast<unsigned char>(c)));
    return base + std::to_string(++counts[base]);
}

namespace {
std::atomic<uint64_t> g_weights_epoch{1};
}
uint64_t weights_epoch() { return g_weights_epoch.load(std::memory_order_acquire); }
void weights_changed() { g_weights_epoch.fetch_add(1, std::memory_order_acq_rel); }

tensor unblocked(const Tensor& t) {
    const int b = kernels(t.device).block;
    EDDL_CHECK(b && t.ndim == 4 && t.shape[1] % b == 0, "blocked tensor of shape " << shape_str(t.shape));
    const int64_t dims[5] = {t.shape[0], t.shape[1] / b, t.shape[2], t.shape[3], b};  // as stored
    const int perm[5] = {0, 1, 4, 2, 3};
    auto out = Tensor::empty(t.shape, t.device);
    kernels(t.device).permute(t.ptr, out->ptr, 5, dims, perm);
    return out;
}

void Layer::resize(int batch) {
    Shape s{batch};
    s.insert(s.end(), out_shape.begin(), out_shape.end());
    if (!output || output->shape != s) {
        output = Tensor::empty(s);
        delta.reset();  // deltas are allocated by Net::backward, only when training needs them
    }
}

void Layer::init_params(uint64_t) {}

int64_t Layer::num_params() const {
    int64_t n = 0;
    for (const auto& p : params) n += p->size;
    return n;
}

bool Layer::take_parent_delta(int p) {
    const bool acc = parents[p]->delta_written;
    parents[p]->delta_written = true;
    return acc;
}

bool Layer::take_grads() {
    const bool acc = !grads_fresh;
    grads_fresh = false;
    return acc;
}

static int64_t numel(const Shape& s) {
    int64_t n = 1;
    for (int d : s) n *= d;
    return n;
}

// ---- Input ----

LInput::LInput(const Shape& shape, const std::string& n) {
    EDDL_CHECK(!shape.empty(), "Input: shape must have at least one dimension (batch excluded)");
    for (int d : shape) EDDL_CHECK(d > 0, "Input: invalid shape " << shape_str(shape));
    out_shape = shape;
    name = n.empty() ? auto_name("input") : n;
}

// "2,3,4": shapes in layer configurations
static std::string join_shape(const Shape& s) {
    std::ostringstream os;
    for (size_t i = 0; i < s.size(); ++i) os << (i ? "," : "") << s[i];
    return os.str();
}

LayerConfig LInput::config() const { return {{"shape", join_shape(out_shape)}}; }

// ---- Dense ----

LDense::LDense(layer parent, int u, bool bias, const std::string& n) : units(u), use_bias(bias) {
    name = n.empty() ? auto_name("dense") : n;
    EDDL_CHECK(parent, "Dense '" << name << "': parent layer is null");
    EDDL_CHECK(units > 0, "Dense '" << name << "': units must be > 0, got " << units);
    EDDL_CHECK(!parent->out_shape.empty(), "Dense '" << name << "': input from '" << parent->name << "' has no shape");
    parents = {parent};
    // acts on the last axis (as Keras' Dense): [batch, ..., in] -> [batch, ..., units]
    out_shape = parent->out_shape;
    out_shape.back() = units;
    const int in = parent->out_shape.back();
    params = {Tensor::zeros({in, units})};
    gradients = {Tensor::zeros({in, units})};
    if (use_bias) {
        params.push_back(Tensor::zeros({units}));
        gradients.push_back(Tensor::zeros({units}));
    }
}

void LDense::init_params(uint64_t s) {
    const Initializer def;
    const Initializer& init = initializer ? *initializer : def;
    const uint64_t ws = init.seed >= 0 ? uint64_t(init.seed) : s;
    init.apply(*params[0], params[0]->shape[0], units, ws);
    if (use_bias) params[1]->fill_(0.0f);  // biases start at zero, as in Keras and EDDL
}

void LDense::forward() {
    const Tensor& x = *parents[0]->output;
    const int in = x.shape.back(), b = int(x.size / in);
    const auto& k = kernels(x.device);
    k.gemm(false, false, b, units, in, 1.0f, x.ptr, in, params[0]->ptr, units, 0.0f, output->ptr, units);
    if (use_bias) k.add_rowwise(output->ptr, params[1]->ptr, b, units);
}

void LDense::backward() {
    const Tensor& x = *parents[0]->output;
    const int in = x.shape.back(), b = int(x.size / in);
    const auto& k = kernels(x.device);
    if (trainable) {
        const bool acc = take_grads();
        k.gemm(true, false, in, units, b, 1.0f, x.ptr, in, delta->ptr, units, acc ? 1.0f : 0.0f, gradients[0]->ptr,
               units);
        if (use_bias) k.sum_rows(delta->ptr, gradients[1]->ptr, b, units, acc);
    }
    if (parents[0]->needs_delta) {
        const bool acc = take_parent_delta(0);
        k.gemm(false, true, b, in, units, 1.0f, delta->ptr, units, params[0]->ptr, units, acc ? 1.0f : 0.0f,
               parents[0]->delta->ptr, in);
    }
}

LayerConfig LDense::config() const { return {{"units", std::to_string(units)}, {"use_bias", use_bias ? "1" : "0"}}; }

// ---- Dropout ----

LDropout::LDropout(layer parent, float r, bool i, const std::string& n) : rate(r), iw(i) {
    name = n.empty() ? auto_name("dropout") : n;
    EDDL_CHECK(parent, "Dropout '" << name << "': parent layer is null");
    EDDL_CHECK(rate >= 0.0f && rate < 1.0f, "Dropout '" << name << "': rate must be in [0, 1), got " << rate);
    parents = {parent};
    out_shape = parent->out_shape;
}

void LDropout::resize(int batch) {
    Layer::resize(batch);
    if (!mask || mask->shape != output->shape) mask = Tensor::empty(output->shape);
}

void LDropout::forward() {
    const Tensor& x = *parents[0]->output;
    const auto& k = kernels(x.device);
    if (mode == TRMODE) {
        // The mask's stream depends on (net seed, layer, step) only: repeatable at any thread count.
        Rng rng(derive_seed(seed, step));
        const float keep = iw ? 1.0f : 1.0f / (1.0f - rate);
        for (int64_t i = 0; i < mask->size; ++i) mask->ptr[i] = rng.uniform() < rate ? 0.0f : keep;
        BroadcastPlan p;
        p.ndim = 1; p.dims[0] = x.size; p.sa[0] = 1; p.sb[0] = 1; p.n = x.size;
        k.binary(BinaryOp::Mul, x.ptr, mask->ptr, output->ptr, p);
    } else {
        k.unary(UnaryOp::MulScalar, x.ptr, output->ptr, x.size, iw ? 1.0f - rate : 1.0f, 0);
    }
}

void LDropout::backward() {
    if (!parents[0]->needs_delta) return;
    const bool acc = take_parent_delta(0);
    const auto& k = kernels(delta->device);
    Tensor& dx = *parents[0]->delta;
    if (mode == TRMODE) {
        // dx (+)= delta * mask; the mask as the "x" of the Linear-free product rule
        if (acc) {
            for (int64_t i = 0; i < dx.size; ++i) dx.ptr[i] += delta->ptr[i] * mask->ptr[i];
        } else {
            BroadcastPlan p;
            p.ndim = 1; p.dims[0] = dx.size; p.sa[0] = 1; p.sb[0] = 1; p.n = dx.size;
            k.binary(BinaryOp::Mul, delta->ptr, mask->ptr, dx.ptr, p);
        }
    } else {
        k.unary_backward(UnaryOp::MulScalar, nullptr, nullptr, delta->ptr, dx.ptr, dx.size, iw ? 1.0f - rate : 1.0f,
                         0, acc);
    }
}

LayerConfig LDropout::config() const { return {{"rate", std::to_string(rate)}, {"iw", iw ? "1" : "0"}}; }

// ---- Reshape / Flatten ----

LReshape::LReshape(layer parent, const Shape& shape, const std::string& n, const std::string& tn)
    : target(shape), type_name(tn) {
    name = n.empty() ? auto_name(tn) : n;
    EDDL_CHECK(parent, type_name << " '" << name << "': parent layer is null");
    parents = {parent};
    const int64_t in = numel(parent->out_shape);
    Shape s = shape;
    int64_t known = 1;
    int infer = -1;
    for (int i = 0; i < int(s.size()); ++i) {
        if (s[i] == -1 && infer < 0) infer = i;
        else {
            EDDL_CHECK(s[i] > 0, type_name << " '" << name << "': invalid target shape " << shape_str(shape));
            known *= s[i];
        }
    }
    if (infer >= 0) {
        EDDL_CHECK(in % known == 0, type_name << " '" << name << "': cannot reshape " << shape_str(parent->out_shape)
                                              << " to " << shape_str(shape));
        s[infer] = int(in / known);
        known *= s[infer];
    }
    EDDL_CHECK(known == in, type_name << " '" << name << "': cannot reshape " << shape_str(parent->out_shape) << " ("
                                      << in << " values) to " << shape_str(shape) << " (" << known << " values)");
    out_shape = s;
}

void LReshape::resize(int batch) {
    Shape s{batch};
    s.insert(s.end(), out_shape.begin(), out_shape.end());
    output = parents[0]->output->reshape(s);  // a view: no copy in forward
    if (delta && delta->shape != s) delta.reset();
}

void LReshape::forward() {
    if (output->ptr != parents[0]->output->ptr) resize(parents[0]->output->shape[0]);
}

void LReshape::backward() {
    if (!parents[0]->needs_delta) return;
    const bool acc = take_parent_delta(0);
    kernels(delta->device).axpby(1.0f, delta->ptr, acc ? 1.0f : 0.0f, parents[0]->delta->ptr, delta->size);
}

LayerConfig LReshape::config() const { return {{"shape", join_shape(target)}}; }

// ---- rebuilding from config ----

namespace {
const std::string& need(const LayerConfig& c, const std::string& k, const std::string& type) {
    auto it = c.find(k);
    EDDL_CHECK(it != c.end(), "layer of type " << type << ": configuration lacks '" << k << "'");
    return it->second;
}
Shape shape_of(const std::string& s) {
    Shape r;
    size_t p = 0;
    while (p < s.size()) {
        size_t e = s.find(',', p);
        if (e == std::string::npos) e = s.size();
        r.push_back(std::stoi(s.substr(p, e - p)));
        p = e + 1;
    }
    return r;
}
}  // namespace

layer make_layer(const std::string& type, const std::string& name, const vlayer& parents, const LayerConfig& cfg) {
    auto one = [&]() -> layer {
        EDDL_CHECK(parents.size() == 1, "layer '" << name << "' of type " << type << " needs one parent, has "
                                                  << parents.size());
        return parents[0];
    };
    if (type == "Input") return std::make_shared<LInput>(shape_of(need(cfg, "shape", type)), name);
    if (type == "Dense")
        return std::make_shared<LDense>(one(), std::stoi(need(cfg, "units", type)), need(cfg, "use_bias", type) == "1",
                                        name);
    if (type == "Dropout")
        return std::make_shared<LDropout>(one(), std::stof(need(cfg, "rate", type)), need(cfg, "iw", type) == "1", name);
    if (type == "Reshape" || type == "Flatten")
        return std::make_shared<LReshape>(one(), shape_of(need(cfg, "shape", type)), name, type);
    if (type == "Conv1D" || type == "Conv2D" || type == "Conv3D") {
        const Shape k = shape_of(need(cfg, "kernel", type)), st = shape_of(need(cfg, "strides", type));
        const Shape pads = shape_of(need(cfg, "pads", type)), dil = shape_of(need(cfg, "dilation", type));
        return std::make_shared<LConv2D>(one(), std::stoi(need(cfg, "filters", type)), k, st, "", pads,
                                         need(cfg, "use_bias", type) == "1", std::stoi(need(cfg, "groups", type)), dil,
                                         name, type[4] - '0');
    }
    if (type == "ConvT1D" || type == "ConvT2D" || type == "ConvT3D")
        return std::make_shared<LConvT2D>(one(), std::stoi(need(cfg, "filters", type)), shape_of(need(cfg, "kernel", type)),
                                          shape_of(need(cfg, "strides", type)), "", shape_of(need(cfg, "pads", type)),
                                          Shape{}, need(cfg, "use_bias", type) == "1",
                                          shape_of(need(cfg, "dilation", type)), name, type[5] - '0');
    if (cfg.count("pool_kind")) {
        const bool expl = need(cfg, "padding", type) == "explicit";
        Shape pads = expl ? shape_of(need(cfg, "pads", type)) : Shape{};
        if (expl && cfg.count("end_pads")) {
            const Shape e = shape_of(cfg.at("end_pads"));
            pads.insert(pads.end(), e.begin(), e.end());
        }
        PoolOptions opt;
        if (cfg.count("dilations")) opt.dilations = shape_of(cfg.at("dilations"));
        opt.ceil_mode = cfg.count("ceil_mode") && cfg.at("ceil_mode") == "1";
        opt.count_include_pad = cfg.count("count_include_pad") && cfg.at("count_include_pad") == "1";
        return std::make_shared<LPool2D>(one(), cfg.at("pool_kind") == "max" ? PoolKind::Max : PoolKind::Avg,
                                         shape_of(need(cfg, "pool", type)), shape_of(need(cfg, "strides", type)),
                                         expl ? "" : need(cfg, "padding", type), need(cfg, "global", type) == "1", name,
                                         pads, cfg.count("rank") ? std::stoi(cfg.at("rank")) : 2, opt);
    }
    if (type == "LSTM" || type == "GRU" || type == "RNN") {
        LRecurrent::Options o;
        o.bidirectional = need(cfg, "bidirectional", type) == "1";
        o.reverse = cfg.count("reverse") && cfg.at("reverse") == "1";
        o.layout = std::stoi(need(cfg, "layout", type));
        o.nseq = std::stoi(need(cfg, "nseq", type));
        o.output = LRecurrent::Output(std::stoi(need(cfg, "output", type)));
        o.activation = need(cfg, "activation", type);
        o.linear_before_reset = need(cfg, "linear_before_reset", type) == "1";
        o.peepholes = need(cfg, "peepholes", type) == "1";
        o.use_bias = !cfg.count("use_bias") || cfg.at("use_bias") == "1";
        o.mask_zeros = need(cfg, "mask_zeros", type) == "1";
        if (cfg.count("seq_lens")) o.seq_lens = shape_of(cfg.at("seq_lens"));
        const auto kind = type == "LSTM" ? LRecurrent::Kind::LSTM : type == "GRU" ? LRecurrent::Kind::GRU : LRecurrent::Kind::RNN;
        return std::make_shared<LRecurrent>(one(), kind, std::stoi(need(cfg, "units", type)), o, name);
    }
    if (type == "RecurrentOutput") {
        auto r = std::dynamic_pointer_cast<LRecurrent>(one());
        EDDL_CHECK(r, "layer '" << name << "' (RecurrentOutput): its parent is not a recurrent layer");
        return std::make_shared<LRecurrentOutput>(r, LRecurrent::Output(std::stoi(need(cfg, "output", type))), name);
    }
    if (type == "BatchNormalization")
        return std::make_shared<LBatchNorm>(one(), std::stof(need(cfg, "momentum", type)), std::stof(need(cfg, "eps", type)),
                                            need(cfg, "affine", type) == "1", name);
    if (type == "UpSampling2D" || type == "UpSampling3D")
        return std::make_shared<LUpSampling2D>(one(), shape_of(need(cfg, "size", type)),
                                               cfg.count("interpolation") ? cfg.at("interpolation") : "nearest", name,
                                               type[10] - '0');
    if (type == "Pad")
        return std::make_shared<LPad>(one(), shape_of(need(cfg, "pads", type)), std::stof(need(cfg, "constant", type)), name);
    if (type == "Crop" || type == "CenteredCrop")
        return std::make_shared<LCrop>(one(), shape_of(need(cfg, "from", type)), shape_of(need(cfg, "to", type)),
                                       need(cfg, "reshape", type) == "1", std::stof(need(cfg, "constant", type)), name,
                                       type);
    if (cfg.count("kind") && cfg.count("da_mode")) {  // the data-augmentation layers
        auto fl = [](const std::string& t) {
            std::vector<float> v;
            std::stringstream ss(t);
            std::string item;
            while (std::getline(ss, item, ',')) v.push_back(std::stof(item));
            return v;
        };
        const auto ns = fl(cfg.at("new_shape"));
        return std::make_shared<LTransform>(one(), LTransform::Kind(std::stoi(cfg.at("kind"))), fl(need(cfg, "a", type)),
                                            fl(need(cfg, "b", type)), Shape(ns.begin(), ns.end()), cfg.at("da_mode"),
                                            std::stof(need(cfg, "constant", type)), name);
    }
    if (type == "Embedding")
        return std::make_shared<LEmbedding>(one(), std::stoi(need(cfg, "vocsize", type)), std::stoi(need(cfg, "length", type)),
                                            std::stoi(need(cfg, "output_dim", type)), need(cfg, "mask_zeros", type) == "1",
                                            name);
    if (type == "GaussianNoise") return std::make_shared<LGaussianNoise>(one(), std::stof(need(cfg, "stddev", type)), name);
    if (type == "Permute") return std::make_shared<LPermute>(one(), shape_of(need(cfg, "dims", type)), name);
    if (type == "LayerNormalization" || type == "GroupNormalization")
        return std::make_shared<LGroupNorm>(one(), std::stoi(need(cfg, "groups", type)), std::stof(need(cfg, "eps", type)),
                                            need(cfg, "affine", type) == "1", name,
                                            cfg.count("axis") ? std::stoi(cfg.at("axis")) : 0);
    if (type == "Softmax") return std::make_shared<LSoftmax>(one(), std::stoi(need(cfg, "axis", type)), name);
    if (type == "Concat") return std::make_shared<LConcat>(parents, std::stoi(need(cfg, "axis", type)), name);
    if (cfg.count("merge")) return std::make_shared<LMerge>(parents, MergeOp(std::stoi(cfg.at("merge"))), name);
    if (cfg.count("act"))
        return std::make_shared<LActivation>(one(), cfg.at("act"), std::stof(need(cfg, "alpha", type)), name);
    EDDL_FAIL("cannot rebuild layer '" << name << "': unknown layer type '" << type << "'");
}

}  // namespace eddl
