// The graph: construction, build, forward/backward order, update, summary.
#include <omp.h>

#include <algorithm>
#include <functional>
#include <iomanip>
#include <set>
#include <sstream>

#include "eddl/net.h"
#include "init/init.h"
#include "layers/layers.h"
#include "losses/loss.h"
#include "metrics/metric.h"
#include "tensor/random.h"

namespace eddl {

Net::Net(const vlayer& in, const vlayer& out) : inputs(in), outputs(out) {
    EDDL_CHECK(!in.empty() && !out.empty(), "Model: needs at least one input and one output layer");
    for (const auto& l : in) {
        EDDL_CHECK(l, "Model: an input layer is null");
        EDDL_CHECK(dynamic_cast<LInput*>(l.get()),
                   "Model: input '" << l->name << "' is a " << l->type()
                                    << " layer, not an Input (was the variable holding Input(...) reassigned?)");
    }
    // Depth-first from the outputs gives a topological order in which parents come first.
    std::set<Layer*> done, active;
    std::function<void(const layer&)> visit = [&](const layer& l) {
        EDDL_CHECK(l, "Model: an output layer is null");
        if (done.count(l.get())) return;
        EDDL_CHECK(!active.count(l.get()), "Model: cycle through layer '" << l->name << "'");
        active.insert(l.get());
        for (const auto& p : l->parents) visit(p);
        active.erase(l.get());
        done.insert(l.get());
        layers.push_back(l);
    };
    for (const auto& o : out) visit(o);
    std::set<std::string> names;
    for (const auto& l : layers) {
        EDDL_CHECK(names.insert(l->name).second, "Model: two layers are named '" << l->name << "'");
        if (dynamic_cast<LInput*>(l.get()))
            EDDL_CHECK(std::find(in.begin(), in.end(), l) != in.end(),
                       "Model: the outputs depend on Input '" << l->name << "', which is not among the model's inputs");
    }
    for (const auto& l : in)
        EDDL_CHECK(done.count(l.get()), "Model: input '" << l->name << "' does not reach any output");
}

Net::~Net() = default;

MemLevel parse_mem_level(const std::string& s) {
    if (s == "full_mem") return MemLevel::full_mem;
    if (s == "mid_mem") return MemLevel::mid_mem;
    if (s == "low_mem") return MemLevel::low_mem;
    EDDL_FAIL("unknown memory level '" << s << "' (use full_mem, mid_mem or low_mem)");
}

std::string CompServ::str() const {
    static const char* mems[] = {"full_mem", "mid_mem", "low_mem"};
    std::ostringstream os;
    if (type == DeviceType::CPU) os << "CPU, " << threads << " threads, " << mems[int(mem)];
    else os << "GPU mask " << shape_str(gpus) << ", lsb " << lsb << ", " << mems[int(mem)];
    return os.str();
}

namespace {
void mark_needs_delta(const vlayer& layers) {
    for (const auto& l : layers) {  // topological order: parents already decided
        l->needs_delta = false;
        if (l->trainable && !l->params.empty()) l->needs_delta = true;
        for (const auto& p : l->parents) l->needs_delta = l->needs_delta || p->needs_delta;
    }
}
}  // namespace

void Net::build(optimizer o, const std::vector<std::string>& loss_names, const std::vector<std::string>& metric_names,
                compserv c, bool init_weights) {
    EDDL_CHECK(loss_names.empty() || loss_names.size() == outputs.size(),
               "build: " << loss_names.size() << " losses given for " << outputs.size() << " outputs");
    EDDL_CHECK(metric_names.empty() || metric_names.size() == outputs.size(),
               "build: " << metric_names.size() << " metrics given for " << outputs.size() << " outputs");
    opt = o;
    cs = c ? c : std::make_shared<CompServ>();
    EDDL_CHECK(cs->type == DeviceType::CPU, "build: computing service " << cs->str()
                                                                        << " needs CUDA, which this build lacks");
    if (cs->threads > 0) omp_set_num_threads(cs->threads);
    losses.clear();
    metrics.clear();
    fused_softmax_.assign(outputs.size(), nullptr);
    for (size_t i = 0; i < loss_names.size(); ++i) {
        losses.push_back(std::make_shared<LossFn>(make_loss(loss_names[i])));
        if (losses.back()->kind == LossKind::SCE && dynamic_cast<LSoftmax*>(outputs[i].get()))
            fused_softmax_[i] = outputs[i];
    }
    for (const auto& m : metric_names) metrics.push_back(std::make_shared<MetricFn>(make_metric(m)));
    mark_needs_delta(layers);
    plan_fusions();
    plan_layouts();
    for (size_t i = 0; i < layers.size(); ++i) {
        layers[i]->seed = derive_seed(seed, 2, i);
        if (init_weights && !layers[i]->keep_params) layers[i]->init_params(derive_seed(seed, 1, i));
        layers[i]->grads_fresh = true;
    }
    built = true;
    weights_changed();
    reset_loss();
}

void Net::resize(int b) {
    EDDL_CHECK(b > 0, "batch size must be > 0, got " << b);
    if (b == batch_) return;
    act_pool_.clear();
    for (const auto& l : layers) l->resize(b);
    batch_ = b;
}

// Gives every layer its own output again after a fused inference lent it a shared buffer
// (training needs every activation, and backward reads them). Per layer, not per network: a
// layer may also belong to another network that ran inference.
void Net::own_outputs() {
    for (const auto& l : layers)
        if (l->output_borrowed) {
            l->output.reset();
            l->resize(batch_);
            l->output_borrowed = false;
        }
    act_pool_.clear();  // training does not keep inference's buffers
}

void Net::set_mode(int m) {
    for (const auto& l : layers) l->mode = m;
}

void Net::forward(const vtensor& in) {
    EDDL_CHECK(built, "model '" << name << "' is not built; call build() first");
    EDDL_CHECK(in.size() == inputs.size(), "forward: " << in.size() << " tensors for " << inputs.size() << " inputs");
    for (size_t i = 0; i < in.size(); ++i) {
        EDDL_CHECK(in[i] && in[i]->ndim >= 1, "forward: input " << i << " is empty");
        Shape want{in[0]->shape[0]};
        want.insert(want.end(), inputs[i]->out_shape.begin(), inputs[i]->out_shape.end());
        EDDL_CHECK(in[i]->shape == want, "forward: tensor of shape " << shape_str(in[i]->shape) << " given to Input '"
                                                                     << inputs[i]->name << "', which expects "
                                                                     << shape_str(want));
    }
    resize(in[0]->shape[0]);
    for (size_t i = 0; i < in.size(); ++i) inputs[i]->output->copy_from(*in[i]);
    bool inference = fuse_inference;
    for (const auto& l : layers) inference = inference && l->mode == TSMODE;
    outputs_fused_ = inference;
    forward_modes_.clear();
    for (const auto& l : layers) forward_modes_.push_back(l->mode);
    if (inference) {
        forward_inference();
        return;
    }
    forward_layers();
}

void Net::forward_layers() {
    own_outputs();
    for (const auto& l : layers) l->output_stale = false;
    for (const auto& l : layers) {
        l->blocked = blocked_training && blocked_plan_.count(l.get());
        if (auto* conv = dynamic_cast<LConv2D*>(l.get())) conv->winograd = winograd;
    }
    weights_changed();  // a training-mode forward moves running statistics
    for (const auto& [conv, fusion] : fusions_) static_cast<LConv2D*>(fusion.conv)->release_packed();
    for (const auto& l : layers) {
        l->step = uint64_t(steps_done);
        l->forward();
    }
}

namespace {
// `shape` on the first elements of `buf`'s storage (a view sharing it; buf holds enough).
tensor leading_view(const tensor& buf, const Shape& shape) {
    auto t = std::make_shared<Tensor>(*buf);
    int64_t n = 1;
    for (int d : shape) n *= d;
    t->shape = {int(n)};
    t->stride = {1};
    t->ndim = 1;
    t->size = n;
    t->reshape_(shape);
    return t;
}
}  // namespace

namespace {
// How a layer treats activation layouts. Follows: computes in its inputs' layout (element-wise
// layers, 2-D batch normalization and pooling, concatenation of channels: with whole blocks
// each input is one run per image in both layouts); Free: reads either and writes NCHW or blocked
// as it is told (convolutions, transposed too; pooling to a 1x1 output, the same bytes in both);
// Other: NCHW only.
enum class LayoutKind { Other, Free, Follows };
bool conv_2d(const Layer* l) {
    auto* c = dynamic_cast<const LConv2D*>(l);
    auto* t = dynamic_cast<const LConvT2D*>(l);
    return (c && c->rank == 2) || (t && t->rank == 2);
}
LayoutKind layout_kind(const Layer* l) {
    if (conv_2d(l)) return LayoutKind::Free;
    if (auto* c = dynamic_cast<const LConcat*>(l); c && c->axis == 0 && l->out_shape.size() == 3)
        return LayoutKind::Follows;
    if (auto* p = dynamic_cast<const LPool2D*>(l)) {
        if (p->rank != 2 || !p->geom(1).plain()) return LayoutKind::Other;
        return p->out_shape[1] == 1 && p->out_shape[2] == 1 ? LayoutKind::Free : LayoutKind::Follows;
    }
    const bool bn2d = dynamic_cast<const LBatchNorm*>(l) && l->out_shape.size() == 3;
    return bn2d || dynamic_cast<const LActivation*>(l) || dynamic_cast<const LMerge*>(l) ? LayoutKind::Follows
                                                                                         : LayoutKind::Other;
}
}  // namespace

// Inference with fusion and blocked activations: every convolution runs as one oneDNN primitive
// with its BatchNorm and ReLu applied as it writes, and writes 2-D activations whose channels come
// in whole blocks in the blocked layout ([N][C/B][H][W][B], see dispatch.h), the one oneDNN
// computes in.
// Element-wise layers, 2-D batch normalization and pooling take that layout as it is (layout_kind);
// any other layer gets its inputs converted back to NCHW first, and so do the model's outputs.
// Activations share buffers by lifetime: each computed output takes the smallest free buffer that
// holds it and gives it back once its last reader has run, so memory holds the widest set of live
// activations instead of all of them. Inputs, outputs and the logits the loss reads keep their own.
void Net::forward_inference() {
    const size_t n_layers = layers.size();
    // where each layer is computed and what it reads: a fused chain runs at its convolution
    std::map<const Layer*, const Fusion*> chain_of;  // every link of a chain
    for (const auto& [conv, f] : fusions_)
        for (Layer* x : {f.conv, f.bn, f.relu})
            if (x) chain_of[x] = &f;
    auto target = [](const Fusion& f) { return f.relu ? f.relu : f.bn ? f.bn : f.conv; };
    auto owner = [](const Layer* l) {  // whose buffer a layer's output is (reshapes are views)
        while (dynamic_cast<const LReshape*>(l)) l = l->parents[0].get();
        return l;
    };
    constexpr size_t kKeep = SIZE_MAX;
    std::map<const Layer*, size_t> last_read;  // by owner: the last step that reads it
    std::set<const Layer*> own;                // keep their own outputs
    for (const auto& l : layers)
        if (dynamic_cast<LInput*>(l.get())) own.insert(l.get());
    for (const auto& o : outputs) {
        own.insert(o.get());
        last_read[owner(o.get())] = kKeep;
    }
    for (const auto& sm : fused_softmax_)
        if (sm) last_read[owner(sm->parents[0].get())] = kKeep;
    for (size_t i = 0; i < n_layers; ++i) {
        const Layer* l = layers[i].get();
        auto c = chain_of.find(l);
        if (c != chain_of.end() && c->second->conv != l) continue;  // runs with its convolution
        for (const auto& p : l->parents) {
            size_t& r = last_read[owner(p.get())];
            if (r != kKeep) r = std::max(r, i);
        }
    }
    std::vector<char> busy(act_pool_.size(), 0);
    std::map<const Layer*, size_t> holds;  // owner -> its pool buffer
    auto take = [&](Layer* l) {
        if (own.count(l) || dynamic_cast<LReshape*>(l)) return;
        const Tensor& cur = *l->output;
        size_t best = act_pool_.size();
        for (size_t b = 0; b < act_pool_.size(); ++b)
            if (!busy[b] && act_pool_[b]->size >= cur.size &&
                (best == act_pool_.size() || act_pool_[b]->size < act_pool_[best]->size))
                best = b;
        if (best == act_pool_.size()) {
            act_pool_.push_back(Tensor::empty({int(cur.size)}, cur.device));
            busy.push_back(0);
        }
        busy[best] = 1;
        holds[l] = best;
        if (l->output->ptr != act_pool_[best]->ptr)
            l->output = leading_view(act_pool_[best], cur.shape);
        l->output_borrowed = true;
    };
    auto release_after = [&](size_t step) {
        for (auto it = holds.begin(); it != holds.end();) {
            auto r = last_read.find(it->first);
            if (r == last_read.end() || (r->second != kKeep && r->second <= step)) {
                busy[it->second] = 0;
                it = holds.erase(it);
            } else {
                ++it;
            }
        }
    };

    for (const auto& l : layers) l->blocked = false;
    const int block = kernels(Device{cs->type}).block;
    auto blockable = [&](int channels) { return block && channels % block == 0; };
    auto to_nchw = [&](Layer* l) {
        if (!l->blocked) return;
        l->blocked = false;
        Tensor& t = *l->output;
        kernels(t.device).copy(unblocked(t)->ptr, t.ptr, t.size);
    };
    for (size_t i = 0; i < n_layers; ++i) {
        Layer* l = layers[i].get();
        l->step = uint64_t(steps_done);
        if (auto c = chain_of.find(l); c != chain_of.end()) {
            if (c->second->conv != l) continue;  // computed with its convolution
            const Fusion& fu = *c->second;
            auto* conv = static_cast<LConv2D*>(l);
            Layer* last = target(fu);
            take(last);
            const bool out_blocked = conv->rank == 2 && blockable(conv->filters);
            conv->forward_inference(static_cast<LBatchNorm*>(fu.bn), fu.relu != nullptr, out_blocked, winograd,
                                    *last->output);
            last->blocked = out_blocked;
            release_after(i);
            continue;
        }
        take(l);
        const LayoutKind kind = layout_kind(l);
        size_t n = 0;
        for (const auto& p : l->parents) n += p->blocked;
        const bool follows = kind == LayoutKind::Follows && n != 0 && n == l->parents.size();
        if (kind == LayoutKind::Other || (kind == LayoutKind::Follows && !follows))
            for (const auto& p : l->parents) to_nchw(p.get());
        // (a transposed convolution writes whole blocks of channels blocked, as convolutions do)
        l->blocked = follows || (conv_2d(l) && blockable(l->out_shape[0]));
        l->forward();
        release_after(i);
    }
    for (const auto& o : outputs) to_nchw(o.get());
    // what getOutput may read now: inputs, outputs and what stays held; the rest was computed
    // inside a fused chain or its buffer was given to a later layer
    for (const auto& l : layers) l->output_stale = !own.count(owner(l.get())) && !holds.count(owner(l.get()));
}

// Every convolution, with the BatchNormalization and ReLu that follow it when the inner links feed
// nothing else and are not model outputs: in inference each runs as one oneDNN primitive.
void Net::plan_fusions() {
    fusions_.clear();
    std::map<const Layer*, std::vector<Layer*>> children;
    for (const auto& l : layers)
        for (const auto& p : l->parents) children[p.get()].push_back(l.get());
    std::set<const Layer*> outs;
    for (const auto& o : outputs) outs.insert(o.get());
    auto sole_child = [&](const Layer* l) -> Layer* {
        auto it = children.find(l);
        return !outs.count(l) && it != children.end() && it->second.size() == 1 ? it->second[0] : nullptr;
    };
    auto is_relu = [](const Layer* l) {
        auto* a = dynamic_cast<const LActivation*>(l);
        return a && a->act == "relu";
    };
    for (const auto& l : layers) {
        if (!dynamic_cast<LConv2D*>(l.get())) continue;
        Fusion f{l.get(), nullptr, nullptr};
        Layer* next = sole_child(l.get());
        if (next && dynamic_cast<LBatchNorm*>(next) && next->out_shape.size() >= 2) {
            f.bn = next;
            next = sole_child(next);
        }
        if (next && is_relu(next)) f.relu = next;
        fusions_[l.get()] = f;
    }
}

// Training layouts (see blocked_training). Layers that follow their inputs' layout (layout_kind)
// join them into groups that share one; convolutions read either and write either. A group is
// blocked when each member is 2-D with whole blocks of channels, none is an input or a model
// output, and no layer of kind Other reads one of them.
void Net::plan_layouts() {
    blocked_plan_.clear();
    const size_t n = layers.size();
    std::map<const Layer*, size_t> at;
    for (size_t i = 0; i < n; ++i) at[layers[i].get()] = i;
    std::vector<size_t> up(n);
    for (size_t i = 0; i < n; ++i) up[i] = i;
    std::function<size_t(size_t)> root = [&](size_t i) { return up[i] == i ? i : up[i] = root(up[i]); };
    std::vector<char> ok(n, 1);
    const int block = kernels(Device{cs->type}).block;
    for (size_t i = 0; i < n; ++i) {
        const Layer* l = layers[i].get();
        const LayoutKind k = layout_kind(l);
        const bool writes_blocked = k == LayoutKind::Follows || conv_2d(l);
        if (!writes_blocked || l->out_shape.size() != 3 || !block || l->out_shape[0] % block) ok[i] = 0;
        for (const auto& p : l->parents) {
            const size_t j = at.at(p.get());
            if (k == LayoutKind::Follows) up[root(i)] = root(j);
            else if (k == LayoutKind::Other) ok[j] = 0;
        }
    }
    for (const auto& o : outputs) ok[at.at(o.get())] = 0;
    std::vector<char> group_ok(n, 1);
    for (size_t i = 0; i < n; ++i) group_ok[root(i)] &= ok[i];
    for (size_t i = 0; i < n; ++i)
        if (group_ok[root(i)]) blocked_plan_.insert(layers[i].get());
}

namespace {
void check_target(const Tensor& t, const Layer& out, size_t i) {
    const Shape& y = out.output->shape;
    const bool labels = t.ndim == 1 && y.size() == 2 && t.shape[0] == y[0];
    EDDL_CHECK(t.shape == y, "target " << i << " has shape " << shape_str(t.shape) << " but output '" << out.name
                                       << "' has " << shape_str(y)
                                       << (labels ? "; class ids need one-hot encoding: Tensor::onehot(labels, "
                                                    + std::to_string(y[1]) + ")" : ""));
}
}  // namespace

void Net::compute_loss(const vtensor& targets) {
    EDDL_CHECK(targets.size() == outputs.size(), "loss: " << targets.size() << " targets for " << outputs.size()
                                                          << " outputs");
    for (size_t i = 0; i < outputs.size(); ++i) {
        const Tensor& y = *outputs[i]->output;
        check_target(*targets[i], *outputs[i], i);
        if (i < losses.size()) {
            const Tensor& z = fused_softmax_[i] ? *fused_softmax_[i]->parents[0]->output : y;
            Tensor scratch(z.shape, z.device);
            loss_sum[i] += losses[i]->compute(z, *targets[i], scratch, false) * y.shape[0];
        }
        if (i < metrics.size()) metric_sum[i] += metrics[i]->batch_sum(y, *targets[i]);
    }
    samples_seen += outputs[0]->output->shape[0];
}

void Net::backward(const vtensor& targets) {
    EDDL_CHECK(!losses.empty(), "backward: model '" << name << "' was built without losses");
    EDDL_CHECK(forward_modes_.size() == layers.size(),
               "backward: model '" << name << "' has no forward to differentiate; call forward(net, inputs) first");
    EDDL_CHECK(targets.size() == outputs.size(), "backward: " << targets.size() << " targets for " << outputs.size()
                                                              << " outputs");
    for (size_t i = 0; i < outputs.size(); ++i) check_target(*targets[i], *outputs[i], i);
    // Backward differentiates the last forward: each layer runs in the mode its forward ran in
    // (batch normalization and dropout differ), whatever set_mode did in between.
    struct Modes {
        const std::vector<layer>& ls;
        std::vector<int> now;
        ~Modes() {
            for (size_t i = 0; i < now.size(); ++i) ls[i]->mode = now[i];
        }
    } restore{layers, {}};
    for (size_t i = 0; i < layers.size(); ++i) {
        restore.now.push_back(layers[i]->mode);
        layers[i]->mode = forward_modes_[i];
    }
    // A fused inference forward keeps no inner activations, and backward reads them all (backward
    // in inference mode: frozen statistics, gradients for saliency maps): the same inputs, still
    // in the Input layers, go through again layer by layer.
    if (outputs_fused_) {
        forward_layers();
        outputs_fused_ = false;
    }
    for (const auto& l : layers) l->delta_written = false;
    for (size_t i = 0; i < outputs.size(); ++i) {
        const layer& out = outputs[i];
        // SCE fused with Softmax: the gradient (p - t)/batch goes straight to the logits.
        Layer& dst = fused_softmax_[i] ? *fused_softmax_[i]->parents[0] : *out;
        if (!dst.delta_written) acquire_delta(dst);
        const bool acc = dst.delta_written;
        dst.delta_written = true;
        const double l = losses[i]->compute(*dst.output, *targets[i], *dst.delta, acc);
        loss_sum[i] += l * out->output->shape[0];
        if (i < metrics.size()) metric_sum[i] += metrics[i]->batch_sum(*out->output, *targets[i]);
    }
    samples_seen += outputs[0]->output->shape[0];
    const bool pooled = cs && cs->mem != MemLevel::full_mem;
    for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
        Layer& l = **it;
        if (!l.delta_written) continue;
        // a parent's delta is first written by its last child in forward order, which runs first here
        for (const auto& p : l.parents)
            if (p->needs_delta && !p->delta_written) acquire_delta(*p);
        l.backward();
        if (pooled) release_delta(l);
    }
    if (cs && cs->mem == MemLevel::low_mem) delta_pool_.clear();
    for (const auto& l : layers)
        if (l->regularizer && l->trainable && !l->grads_fresh) l->regularizer->add_gradient(*l->params[0], *l->gradients[0]);
}

void Net::acquire_delta(Layer& l) {
    if (l.delta && l.delta->shape == l.output->shape) return;
    auto it = delta_pool_.find(l.output->shape);
    if (it == delta_pool_.end()) {
        l.delta = Tensor::empty(l.output->shape, l.output->device);  // written before read: delta_written
    } else {
        l.delta = it->second;
        delta_pool_.erase(it);
    }
}

void Net::release_delta(Layer& l) {
    if (!l.delta) return;
    delta_pool_.emplace(l.delta->shape, std::move(l.delta));
    l.delta.reset();
}

void Net::update() {
    EDDL_CHECK(opt, "update: model '" << name << "' was built without an optimizer");
    vtensor ps, gs;
    for (const auto& l : layers)
        if (l->trainable && !l->grads_fresh)
            for (size_t j = 0; j < l->params.size(); ++j) {
                ps.push_back(l->params[j]);
                gs.push_back(l->gradients[j]);
            }
    opt->step(ps, gs);
    ++steps_done;
}

void Net::zero_grads() {
    for (const auto& l : layers) l->grads_fresh = true;  // the next backward overwrites instead of adding
}

void Net::reset_loss() {
    loss_sum.assign(outputs.size(), 0.0);
    metric_sum.assign(outputs.size(), 0.0);
    samples_seen = 0;
}

Logs Net::logs(const std::string& prefix) const {
    Logs lg;
    const double n = double(std::max<int64_t>(samples_seen, 1));
    double total = 0;
    for (size_t i = 0; i < losses.size(); ++i) {
        total += loss_sum[i] / n;
        if (outputs.size() > 1) lg[prefix + outputs[i]->name + "_loss"] = loss_sum[i] / n;
    }
    if (!losses.empty()) lg[prefix + "loss"] = total;
    for (size_t i = 0; i < metrics.size(); ++i) {
        const std::string key = outputs.size() > 1 ? outputs[i]->name + "_" + metrics[i]->name : metrics[i]->name;
        lg[prefix + key] = metric_sum[i] / n;
    }
    return lg;
}

vtensor Net::trainable_params() const {
    vtensor r;
    for (const auto& l : layers)
        if (l->trainable) r.insert(r.end(), l->params.begin(), l->params.end());
    return r;
}

vtensor Net::trainable_grads() const {
    vtensor r;
    for (const auto& l : layers)
        if (l->trainable) r.insert(r.end(), l->gradients.begin(), l->gradients.end());
    return r;
}

layer Net::get_layer(const std::string& n) const {
    for (const auto& l : layers)
        if (l->name == n) return l;
    EDDL_FAIL("model '" << name << "' has no layer named '" << n << "'");
}

void set_trainable_marks(Net& net) { mark_needs_delta(net.layers); }

std::string Net::summary() const {
    std::ostringstream os;
    const int w1 = 34, w2 = 22, w3 = 12;
    const std::string rule(w1 + w2 + w3 + 2, '-');
    os << "Model: " << name << "\n" << rule << "\n"
       << std::left << std::setw(w1) << "Layer (type)" << std::setw(w2) << "Output Shape" << std::right << std::setw(w3)
       << "Param #" << "\n" << rule << "\n";
    int64_t total = 0, trainable_total = 0;
    for (const auto& l : layers) {
        Shape s{-1};
        s.insert(s.end(), l->out_shape.begin(), l->out_shape.end());
        std::string sh = shape_str(s);
        sh.replace(1, 2, "None");
        const int64_t n = l->num_params();
        total += n;
        if (l->trainable) trainable_total += n;
        os << std::left << std::setw(w1) << (l->name + " (" + l->type() + ")") << std::setw(w2) << sh << std::right
           << std::setw(w3) << n << "\n";
    }
    os << rule << "\nTotal params: " << total << "\nTrainable params: " << trainable_total
       << "\nNon-trainable params: " << total - trainable_total << "\n";
    return os.str();
}

}  // namespace eddl
