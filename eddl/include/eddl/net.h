// eddl::Net (a Model), its computing service, optimizers and callbacks.
#pragma once
#include <array>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <vector>

#include "eddl/layer.h"
#include "eddl/tensor.h"

namespace eddl {

// ---- computing service ---------------------------------------------------------------------

/// Memory level: what a network keeps of the gradients of its activations (deltas).
/// full_mem: every layer's delta stays allocated from the first backward on (fastest).
/// mid_mem: a delta is returned to a pool as soon as its layer's backward has used it, and the
///   pool hands it to the next layer that needs that shape: peak memory holds the widest
///   "frontier" of live deltas, not all of them. The pool is kept between steps.
/// low_mem: as mid_mem, and the pool is freed after every backward, so between steps only
///   weights, optimizer state and activations remain (each step allocates its deltas anew).
/// In every level, a network that only runs inference (predict, evaluate) never allocates deltas.
enum class MemLevel { full_mem = 0, mid_mem = 1, low_mem = 2 };
MemLevel parse_mem_level(const std::string& s);  ///< "full_mem", "mid_mem", "low_mem"; else throws

/// Where and how a network runs. Created by CS_CPU, CS_GPU or CS_from_file.
struct CompServ {
    DeviceType type = DeviceType::CPU;
    int threads = -1;            ///< CPU threads; -1 = all cores
    std::vector<int> gpus;       ///< GPU mask as in EDDL: {1} = GPU0, {0,1} = GPU1, {1,1} = GPU0+GPU1
    int lsb = 1;                 ///< local sync batches (multi-GPU)
    MemLevel mem = MemLevel::full_mem;
    std::string str() const;
};
using compserv = std::shared_ptr<CompServ>;

// ---- optimizers ----------------------------------------------------------------------------

/// One optimizer for every rule (sgd, adam, ...). Created by the facade functions in eddl.h.
class Optimizer {
public:
    struct Hyper {
        int rule = 0;  // OptimRule
        float lr = 0.01f, momentum = 0, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, rho = 0.9f, weight_decay = 0;
        float schedule_decay = 0.004f;  // Nadam
        bool nesterov = false, amsgrad = false;
    } hp;
    float clip_value = 0;   ///< > 0: clamp every gradient element to [-v, v]
    float clip_norm = 0;    ///< > 0: rescale all gradients so their global L2 norm is at most this

    std::string name() const;                 ///< "sgd", "adam", ...
    void set_clip_value(float v) { clip_value = v; }
    void set_clip_norm(float n) { clip_norm = n; }
    void setlr(float lr) { hp.lr = lr; }
    float getlr() const { return hp.lr; }

    /// Applies one update to params from gradients (both of Net's trainable layers).
    void step(const vtensor& params, const vtensor& grads);
    int num_slots() const;     ///< state tensors per parameter for this rule (0..3)
    int64_t t = 0;             ///< steps taken
    double mu_prod = 1.0;      ///< Nadam's running momentum product
    /// Per-parameter state (momentum, moments...): 3 tensors each, zero until the first step.
    std::map<const Tensor*, std::array<tensor, 3>> slots;
};
using optimizer = std::shared_ptr<Optimizer>;

// ---- callbacks -------------------------------------------------------------------------------

class Net;
using Logs = std::map<std::string, double>;  ///< "loss", "categorical_accuracy", "val_loss", ...

/// Hooks into fit(). Set net.stop_training to end training after the current epoch.
class Callback {
public:
    virtual ~Callback() = default;
    virtual void on_train_begin(Net&) {}
    virtual void on_epoch_begin(Net&, int /*epoch*/) {}
    virtual void on_batch_end(Net&, int /*batch*/, const Logs&) {}
    virtual void on_epoch_end(Net&, int /*epoch*/, Logs&) {}
    virtual void on_train_end(Net&) {}
};
using callback = std::shared_ptr<Callback>;

// ---- the network ------------------------------------------------------------------------------

struct LossFn;
struct MetricFn;

class Net {
public:
    Net(const vlayer& in, const vlayer& out);
    ~Net();

    std::string name = "model";
    vlayer inputs, outputs;
    vlayer layers;            ///< every layer, in forward (topological) order
    optimizer opt;
    compserv cs;
    std::vector<std::shared_ptr<LossFn>> losses;    ///< one per output
    std::vector<std::shared_ptr<MetricFn>> metrics; ///< one per output
    uint64_t seed = 1234;     ///< root of every random draw: init, shuffling, dropout
    bool built = false;
    bool stop_training = false;
    /// In inference mode, run each Conv -> BatchNormalization -> ReLu chain (or Conv -> BatchNorm,
    /// Conv -> ReLu) as one convolution with the normalization and activation applied as it
    /// writes, keep activations in oneDNN's channel-blocked layout between convolutions,
    /// element-wise layers and pooling, and keep each convolution's weights converted to its
    /// kernel's layout between calls, and let activations share buffers by lifetime (results
    /// equal the plain path up to rounding). The model's outputs are always in the documented
    /// layout; inner layers' outputs are then not computed, blocked or reused by later layers:
    /// set false to inspect them after predict() (getOutput() on them throws). backward() after such a forward (inference-mode
    /// gradients: frozen statistics, saliency maps) first runs the forward again layer by layer.
    /// Weights written by the library (fit, update, setParams, load...) are picked up at the next
    /// forward; after writing into a weight tensor's memory yourself, call set_mode(net, TSMODE) again.
    bool fuse_inference = true;
    /// 2-D 3x3 stride-1 convolutions whose channels come in whole blocks run as Winograd
    /// transforms, about twice as fast: in inference (with fuse_inference) oneDNN's kernels on
    /// AVX-512 and our F(2x2, 3x3) on CPUs for which oneDNN has none (AVX2); on those CPUs also in
    /// training (forward, backward-data, and the weight gradient of layers without bias). Results
    /// differ from the direct convolution by rounding, about 1e-6 relative per layer. false:
    /// direct only.
    bool winograd = true;
    /// In training, keep 2-D activations (and their gradients) whose channels come in whole
    /// blocks (of 16 on CPUs with AVX-512, of 8 with AVX2) in oneDNN's channel-blocked layout along chains of convolutions (transposed
    /// too), batch normalizations, pooling, channel Concat and element-wise layers, which then all
    /// run as oneDNN's blocked kernels without conversions in between. Inputs, outputs and what
    /// other layers read stay NCHW; getOutput() converts (a layer's `output` tensor read directly
    /// may be blocked). false: NCHW everywhere (results equal up to rounding).
    bool blocked_training = true;
    int64_t epochs_done = 0;  ///< completed fit epochs (checkpoints resume from here)
    int64_t steps_done = 0;   ///< optimizer steps (dropout streams are derived from it)

    // running sums since reset_loss(), per output
    std::vector<double> loss_sum, metric_sum;
    int64_t samples_seen = 0;

    void build(optimizer o, const std::vector<std::string>& losses, const std::vector<std::string>& metrics,
               compserv cs, bool init_weights);
    void resize(int batch);
    void set_mode(int mode);
    void forward(const vtensor& in);
    void compute_loss(const vtensor& targets);  ///< adds to the running loss and metric sums
    void backward(const vtensor& targets);      ///< loss deltas, then layer backward in reverse
    void update();
    void zero_grads();
    void reset_loss();
    Logs logs(const std::string& prefix = "") const;
    vtensor trainable_params() const;
    vtensor trainable_grads() const;
    layer get_layer(const std::string& name) const;
    std::string summary() const;
    int batch_size() const { return batch_; }

private:
    int batch_ = 0;
    std::vector<layer> fused_softmax_;  // per output: the Softmax whose logits feed SCE, or null
    std::multimap<Shape, tensor> delta_pool_;  // released deltas by shape (mid_mem, low_mem)
    struct Fusion {
        Layer *conv, *bn, *relu;  // bn or relu may be null; the chain writes the last one's output
    };
    std::map<const Layer*, Fusion> fusions_;  // by convolution, planned by build()
    std::vector<tensor> act_pool_;  // fused inference: activation buffers shared by lifetime
    std::set<const Layer*> blocked_plan_;  // training: layers whose outputs are blocked, planned by build()
    void plan_fusions();
    void plan_layouts();
    bool outputs_fused_ = false;  // the last forward ran forward_inference (backward redoes it)
    std::vector<int> forward_modes_;  // per layer, the mode of the last forward (backward uses it)
    void forward_layers();        // the plain forward, layer by layer
    void forward_inference();
    void own_outputs();
    void acquire_delta(Layer& l);
    void release_delta(Layer& l);
};
using model = std::shared_ptr<Net>;

}  // namespace eddl
