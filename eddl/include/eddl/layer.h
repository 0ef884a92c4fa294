// eddl::Layer: a node of the functional graph. Users hold layers through `layer` handles
// returned by the facade (Dense, ReLu, ...); subclasses live inside the library.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "eddl/tensor.h"

namespace eddl {

constexpr int TSMODE = 0;  ///< inference: Dropout passes through
constexpr int TRMODE = 1;  ///< training

class Layer;
using layer = std::shared_ptr<Layer>;
using vlayer = std::vector<layer>;

/// Key/value description of a layer's configuration, used by checkpoints to rebuild graphs.
using LayerConfig = std::map<std::string, std::string>;

struct Initializer;  // defined in src/init
struct Regularizer;  // defined in src/init

class Layer {
public:
    virtual ~Layer() = default;

    std::string name;        ///< unique inside a Model; generated ("dense1") when not given
    vlayer parents;          ///< inputs, in order; a layer may feed several children
    Shape out_shape;         ///< output shape without the batch dimension
    tensor output;           ///< [batch, out_shape...]: forward result
    tensor delta;            ///< d(loss)/d(output), same shape; allocated by backward (null before;
                             ///< released after use at mid_mem and low_mem)
    vtensor params;          ///< learnable tensors (Dense: W [in, units], b [units])
    vtensor gradients;       ///< d(loss)/d(params), same shapes
    vtensor states;          ///< kept in weight files but not learned (BatchNormalization's running stats)
    bool trainable = true;   ///< false freezes params (setTrainable)
    /// The params hold imported values (ONNX import sets it): build() does not initialize this
    /// layer even with init_weights=true. Set it false to have build() initialize the layer anew.
    bool keep_params = false;
    int mode = TRMODE;

    virtual std::string type() const = 0;  ///< class name users know: "Dense", "ReLu", ...
    virtual void forward() = 0;            ///< output from parents' outputs
    /// Adds this layer's contribution to its parents' deltas and fills gradients.
    virtual void backward() = 0;
    /// Allocates the output for `batch` rows; called when the batch size changes.
    virtual void resize(int batch);
    /// Fills params from the layer's initializer (GlorotUniform by default) with `seed`.
    virtual void init_params(uint64_t seed);
    /// Configuration needed to rebuild this layer (not the weights).
    virtual LayerConfig config() const { return {}; }
    int64_t num_params() const;

    // ---- plumbing used by Net (not meant for user code) ----
    std::shared_ptr<Initializer> initializer;
    std::shared_ptr<Regularizer> regularizer;
    bool needs_delta = false;      // some ancestor has trainable params: propagate deltas
    bool delta_written = false;    // this backward pass wrote delta (else it is all zeros)
    bool grads_fresh = true;       // gradients hold nothing yet: next backward overwrites
    uint64_t seed = 0;             // per-layer random stream (Dropout)
    uint64_t step = 0;             // training step, mixed into random draws
    bool output_borrowed = false;  // output is a view into a network's shared inference buffers
    bool output_stale = false;     // the last forward (fused inference) did not keep this output
    bool blocked = false;          // output and delta in oneDNN's channel-blocked layout (Net decides; getOutput converts)
    int batch() const { return output ? output->shape[0] : 0; }
    /// Marks parent p's delta as written and tells whether to accumulate into it.
    bool take_parent_delta(int p);
    /// Tells whether gradients must accumulate, and marks them written.
    bool take_grads();
};

}  // namespace eddl
