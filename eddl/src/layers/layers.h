// Concrete layer classes. Shape logic runs in constructors, so a mismatch is reported when the
// graph is written, naming the layer and the shapes.
#pragma once
#include "eddl/layer.h"
#include "tensor/dispatch.h"

namespace eddl {

/// "dense3": a fresh default name for a layer of this type.
std::string auto_name(const std::string& type);

/// A process-wide count that every change of weights by the library advances (optimizer steps,
/// setParams, getParams, loading, initialization, training-mode forwards, the set_mode facade):
/// packed copies of weights made at an older count (inference convolutions keep them) are stale.
uint64_t weights_epoch();
void weights_changed();

/// A copy of `t`, an [N, C, H, W] activation stored blocked (see dispatch.h), in NCHW.
tensor unblocked(const Tensor& t);

class LInput : public Layer {
public:
    LInput(const Shape& shape, const std::string& name);
    std::string type() const override { return "Input"; }
    void forward() override {}
    void backward() override {}
    LayerConfig config() const override;
};

class LDense : public Layer {
public:
    LDense(layer parent, int units, bool use_bias, const std::string& name);
    std::string type() const override { return "Dense"; }
    void forward() override;
    void backward() override;
    void init_params(uint64_t seed) override;
    LayerConfig config() const override;
    int units;
    bool use_bias;
};

/// Element-wise activations; `type_name` is the facade name (ReLu, LeakyReLu, ...).
class LActivation : public Layer {
public:
    LActivation(layer parent, const std::string& act, float alpha, const std::string& name);
    std::string type() const override { return type_name; }
    void forward() override;
    void backward() override;
    LayerConfig config() const override;
    std::string act, type_name;
    UnaryOp op;
    float alpha;
};

class LSoftmax : public Layer {
public:
    LSoftmax(layer parent, int axis, const std::string& name);
    std::string type() const override { return "Softmax"; }
    void forward() override;
    void backward() override;
    LayerConfig config() const override;
    int axis;
};

class LDropout : public Layer {
public:
    LDropout(layer parent, float rate, bool iw, const std::string& name);
    std::string type() const override { return "Dropout"; }
    void forward() override;
    void backward() override;
    void resize(int batch) override;
    LayerConfig config() const override;
    float rate;
    bool iw;  // EDDL's inference weighting: train with a plain mask, scale by (1-rate) at inference
    tensor mask;
};

class LReshape : public Layer {
public:
    LReshape(layer parent, const Shape& shape, const std::string& name, const std::string& type_name = "Reshape");
    std::string type() const override { return type_name; }
    void forward() override;
    void backward() override;
    void resize(int batch) override;
    LayerConfig config() const override;
    Shape target;
    std::string type_name;
};

enum class MergeOp { Add, Subtract, Multiply, Average, Maximum, Minimum };

class LMerge : public Layer {
public:
    LMerge(const vlayer& parents, MergeOp op, const std::string& name);
    std::string type() const override;
    void forward() override;
    void backward() override;
    LayerConfig config() const override;
    MergeOp op;
};

class LConcat : public Layer {
public:
    LConcat(const vlayer& parents, int axis, const std::string& name);
    std::string type() const override { return "Concat"; }
    void forward() override;
    void backward() override;
    LayerConfig config() const override;
    int axis;  // excludes the batch dimension, as in EDDL
};

/// Output size and (begin, end) padding of one spatial dimension. padding: "same" (output =
/// ceil(in / stride), extra padding at the end as in Keras), "valid"/"none" (no padding), or
/// explicit when `explicit_pad` >= 0 (that many on both sides).
struct Pad1D {
    int out, begin, end;
};

/// Depth, height and width of a {channels, spatial...} shape of rank 1-3 (missing ones are 1).
struct Dhw {
    int d, h, w;
};
Dhw dhw(const Shape& s, int rank);
Pad1D pad_1d(const std::string& who, int in, int k, int stride, int dilation, const std::string& padding,
             int explicit_pad);

/// Conv1D, Conv2D and Conv3D (rank 1, 2, 3): inputs {C, L}, {C, H, W}, {C, D, H, W}; weights
/// {filters, C / groups, kernel...} as PyTorch. Conv1D runs as a 2-D convolution with H = 1.
class LConv2D : public Layer {
public:
    /// kernel, strides, dilation: `rank` values. pads: {} for the `padding` string, `rank` values
    /// (both sides), or 2 * rank values (begin, end per dimension: {top, bottom, left, right} in 2-D)
    LConv2D(layer parent, int filters, const std::vector<int>& kernel, const std::vector<int>& strides,
            const std::string& padding, const std::vector<int>& pads, bool use_bias, int groups,
            const std::vector<int>& dilation, const std::string& name, int rank = 2);
    std::string type() const override { return "Conv" + std::to_string(rank) + "D"; }
    void forward() override;
    void backward() override;
    void init_params(uint64_t seed) override;
    LayerConfig config() const override;
    ConvGeom geom(int batch) const;
    /// Inference only: this convolution followed by `bn` (running statistics; may be null) and
    /// ReLU (if relu), written into `out` (blocked if dst_blocked; the input as its layer's
    /// `blocked` says), Winograd allowed if winograd. The weights are converted to the kernel's
    /// layout once and reused until weights_epoch() moves.
    void forward_inference(const class LBatchNorm* bn, bool relu, bool dst_blocked, bool winograd, Tensor& out);
    void release_packed() { packed_ = {}; }  ///< frees the inference copy of the weights (training)
    bool winograd = false;  ///< training: Winograd allowed (ConvGeom::winograd; the Net sets it)
    int filters, groups, rank;
    int kd = 1, kh = 1, kw = 1, sd = 1, sh = 1, sw = 1, dd = 1, dh = 1, dw = 1;
    int pf = 0, pk = 0, pt = 0, pb = 0, pl = 0, pr = 0;  // padding: front/back (depth), top/bottom, left/right
    bool use_bias;

private:
    PackedWeights packed_;
};

/// Transposed 2-D convolution (ConvT2D); weights {in_channels, filters, kh, kw} as PyTorch.
/// Transposed convolution in 1-D, 2-D or 3-D (rank): inputs {C, L}, {C, H, W}, {C, D, H, W};
/// weights {in, filters, k...} (PyTorch's layout).
class LConvT2D : public Layer {
public:
    /// pads: {} for the `padding` string, {p...} (one per dimension) with output_padding {op...}
    /// (PyTorch), or 2 * rank values (begin, end) per dimension as config() stores them (an end
    /// below 0 adds output)
    LConvT2D(layer parent, int filters, const std::vector<int>& kernel, const std::vector<int>& strides,
             const std::string& padding, const std::vector<int>& pads, const std::vector<int>& output_padding,
             bool use_bias, const std::vector<int>& dilation, const std::string& name, int rank = 2);
    std::string type() const override { return "ConvT" + std::to_string(rank) + "D"; }
    void forward() override;
    void backward() override;
    void init_params(uint64_t seed) override;
    LayerConfig config() const override;
    ConvGeom geom(int batch) const;
    int filters, kh, kw, sh, sw, dh, dw, pt, pb, pl, pr;
    int kd = 1, sd = 1, dd = 1, pf = 0, pk = 0;  // depth (3-D)
    int rank;
    bool use_bias;
};

/// Pooling options of ONNX and PyTorch beyond EDDL's (import): window dilation (max pooling),
/// ceil_mode (a last partial window is kept when it starts inside the input or the begin
/// padding), count_include_pad (the average divides by the window inside the padded input).
struct PoolOptions {
    std::vector<int> dilations;  // empty: all 1
    bool ceil_mode = false;
    bool count_include_pad = false;
};

/// MaxPool and AveragePool in 1-D, 2-D and 3-D (rank), and the global forms (window = the whole
/// signal, image or volume; rank 0 = the input's).
class LPool2D : public Layer {
public:
    /// pads: {} for the `padding` string, `rank` values applied on both sides, or 2 * rank values
    /// (every begin, then every end, as ONNX)
    LPool2D(layer parent, PoolKind kind, const std::vector<int>& pool, const std::vector<int>& strides,
            const std::string& padding, bool global, const std::string& name, const std::vector<int>& pads = {},
            int rank = 2, const PoolOptions& options = {});
    std::string type() const override;
    void forward() override;
    void backward() override;
    LayerConfig config() const override;
    PoolGeom geom(int batch) const;
    PoolKind kind;
    bool global;
    int rank;
    int kd = 1, kh = 1, kw = 1, sd = 1, sh = 1, sw = 1, pf = 0, pk = 0, pt = 0, pb = 0, pl = 0, pr = 0;
    std::string padding;
    PoolOptions options;
    int dil[3] = {1, 1, 1}, end_pad[3] = {0, 0, 0};  // per d, h, w: dilation; the given end pads (before ceil_mode)
    tensor workspace;
};

/// BatchNormalization over channels ({C, H, W} inputs) or features ({F} inputs).
class LBatchNorm : public Layer {
public:
    LBatchNorm(layer parent, float momentum, float eps, bool affine, const std::string& name);
    std::string type() const override { return "BatchNormalization"; }
    void forward() override;
    void backward() override;
    void init_params(uint64_t seed) override;
    LayerConfig config() const override;
    NormGeom geom(int batch) const;
    float momentum, eps;
    bool affine;
    tensor mean, invstd;  // of the last forward, per channel
};

/// UpSampling2D / UpSampling3D by integer factors: nearest, or (bi/tri)linear with half-pixel
/// centres (PyTorch's align_corners=False, Keras' "bilinear").
class LUpSampling2D : public Layer {
public:
    LUpSampling2D(layer parent, const std::vector<int>& size, const std::string& interpolation, const std::string& name,
                  int rank = 2);
    std::string type() const override { return "UpSampling" + std::to_string(rank) + "D"; }
    void forward() override;
    void backward() override;
    LayerConfig config() const override;
    ResampleGeom geom(int batch) const;
    int rank;
    std::vector<int> factors;
    std::string interpolation;  // "nearest" or "linear"
};

/// A constant border around the spatial dimensions of {C, spatial...} inputs.
class LPad : public Layer {
public:
    /// pads: one value per spatial dimension (both sides) or (begin, end) per dimension
    LPad(layer parent, const std::vector<int>& pads, float constant, const std::string& name);
    std::string type() const override { return "Pad"; }
    void forward() override;
    void backward() override;
    LayerConfig config() const override;
    std::vector<int> begin, end;
    float constant;
};

/// Crop (and CenteredCrop): the box from..to (inclusive, per spatial dimension). reshape: the
/// output is the box; otherwise it keeps the input size with `constant` outside the box.
class LCrop : public Layer {
public:
    LCrop(layer parent, const std::vector<int>& from, const std::vector<int>& to, bool reshape, float constant,
          const std::string& name, const std::string& type_name = "Crop");
    std::string type() const override { return type_name; }
    void forward() override;
    void backward() override;
    LayerConfig config() const override;
    std::vector<int> begin, extent;
    bool keep_size;
    /// For a [batch, C, spatial...] tensor: its dims, where the box starts, and the box's dims.
    void box(const Shape& full, std::vector<int64_t>& dims, std::vector<int64_t>& starts,
             std::vector<int64_t>& box_dims) const;
    float constant;
    std::string type_name;
};

/// Embedding: {length} word indices -> {length, output_dim} rows of a learned [vocsize, output_dim]
/// table. mask_zeros: index 0 is padding, its output is zero and it learns nothing.
class LEmbedding : public Layer {
public:
    LEmbedding(layer parent, int vocsize, int length, int output_dim, bool mask_zeros, const std::string& name);
    std::string type() const override { return "Embedding"; }
    void forward() override;
    void backward() override;
    void init_params(uint64_t seed) override;
    LayerConfig config() const override;
    int vocsize, length, output_dim;
    bool mask_zeros;
    std::vector<int> indices;  // of the last forward; -1 = masked
};

/// Adds N(0, stddev) noise in training; identity in inference.
class LGaussianNoise : public Layer {
public:
    LGaussianNoise(layer parent, float stddev, const std::string& name);
    std::string type() const override { return "GaussianNoise"; }
    void forward() override;
    void backward() override;
    LayerConfig config() const override;
    float stddev;
};

/// Reorders the non-batch axes.
class LPermute : public Layer {
public:
    LPermute(layer parent, const std::vector<int>& dims, const std::string& name);
    std::string type() const override { return "Permute"; }
    void forward() override;
    void backward() override;
    LayerConfig config() const override;
    std::vector<int> dims;  // without the batch axis
};

/// RNN, LSTM and GRU with ONNX's equations and weight layout (gates i, o, f, c for LSTM; z, r, h
/// for GRU): W {dirs, gates * units, in}, R {dirs, gates * units, units}, B {dirs, 2 * gates *
/// units} (input and recurrent biases), P {dirs, 3 * units} (LSTM peepholes, when `peepholes`).
/// A sample holds `nseq` sequences of `steps` steps: layout 1 (batch-first) {nseq, steps, in}, or
/// layout 0 {steps, nseq, in}; the facade layers use layout 1 with nseq 1 (a sample {steps, in}).
/// `output` picks what the layer gives: Y (every step: {nseq, steps, dirs, units} / {steps, dirs,
/// nseq, units}), Y_h or Y_c (the final states: {nseq, dirs, units} / {dirs, nseq, units}); with
/// nseq 1 and layout 1 these are {steps, dirs * units} and {dirs * units}. LRecurrentOutput gives a
/// second output of the same computation.
class LRecurrent : public Layer {
public:
    enum class Kind { RNN, LSTM, GRU };
    enum class Output { Y, Y_h, Y_c };
    struct Options {
        bool bidirectional = false, reverse = false;  // one direction, running backwards (ONNX "reverse")
        int layout = 1, nseq = 1;
        Output output = Output::Y_h;
        std::string activation = "tanh";  // RNN: tanh, relu or sigmoid
        bool linear_before_reset = true;   // GRU: PyTorch's and Keras' form
        bool peepholes = false;
        bool use_bias = true;              // B is a parameter (else the biases are zero)
        bool mask_zeros = false;           // all-zero input steps at the end are padding
        std::vector<int> seq_lens;         // per sequence of a sample (ONNX sequence_lens); empty: all steps
    };
    LRecurrent(layer parent, Kind kind, int units, const Options& opt, const std::string& name);
    std::string type() const override;
    void forward() override;
    void backward() override;
    void init_params(uint64_t seed) override;
    LayerConfig config() const override;
    Shape output_shape(Output o) const;
    Kind kind;
    int units;
    Options opt;
    int steps, in, dirs, gates;
    bool flat;  // layout 1 with one sequence per sample given as {steps, in} (the facade's form)
    // initial states (ONNX initial_h / initial_c), kept in `states` when given: {dirs, nseq, units}
    bool has_initial_h = false, has_initial_c = false;
    // ---- for LRecurrentOutput ----
    std::vector<float> hs, cs;            // per sequence, direction, step: hidden and cell states
    std::vector<int> lens;                // per sequence: steps used
    std::vector<float> side_dh, side_dc;  // gradients of Y_h / Y_c from a second output
    bool side_used = false;
    void copy_output(Output o, float* dst, int batch) const;

private:
    std::vector<float> acts_;  // per sequence, direction, step: gate activations (after their functions)
    int64_t state_at(int64_t seq, int d, int t) const { return ((seq * dirs + d) * (steps + 1) + t + 1) * units; }
    int64_t x_at(int64_t seq, int t) const;
};

class LRecurrentOutput : public Layer {
public:
    LRecurrentOutput(std::shared_ptr<LRecurrent> rnn, LRecurrent::Output which, const std::string& name);
    std::string type() const override { return "RecurrentOutput"; }
    void forward() override;
    void backward() override;
    LayerConfig config() const override;
    std::shared_ptr<LRecurrent> rnn;
    LRecurrent::Output which;
};

/// LayerNormalization (groups = 0: over the sample axes from `axis` on, affine per element of
/// them; axis 0 is PyTorch's LayerNorm over the whole sample shape, axis k its LayerNorm over the
/// last rank - k dimensions) and GroupNormalization (channels split in groups, affine per channel).
class LGroupNorm : public Layer {
public:
    LGroupNorm(layer parent, int groups, float eps, bool affine, const std::string& name, int axis = 0);
    std::string type() const override { return groups == 0 ? "LayerNormalization" : "GroupNormalization"; }
    void forward() override;
    void backward() override;
    void init_params(uint64_t seed) override;
    LayerConfig config() const override;
    GroupNormGeom geom(int batch) const;
    int groups;
    float eps;
    bool affine;
    int axis;  // LayerNormalization: the first normalized sample axis
    tensor mean, invstd;
};

/// The data-augmentation layers on {C, H, W} inputs (src/layers/augment.cpp). Parameters by kind:
/// RandomCrop: new_shape {h, w}. RandomCropScale: pa = factor range. RandomCutout: pa = factor_x,
/// pb = factor_y ranges. RandomFlip / Flip: pa = {axis} (pb = {1} marks the Horizontal/Vertical
/// spelling). RandomRotation: pa = degrees range, pb = offset_center. RandomScale: pa = factor
/// range. RandomShift: pa = factor_x, pb = factor_y ranges. Cutout: pa = from {y, x}, pb = to
/// {y, x} inclusive. Rotate: pa = {angle}, pb = offset_center. Scale: pa = {reshape}, new_shape.
/// Shift: pa = {y, x} pixels.
class LTransform : public Layer {
public:
    enum class Kind {
        RandomCrop, RandomCropScale, RandomCutout, RandomFlip, RandomRotation, RandomScale, RandomShift,
        Cutout, Flip, Rotate, Scale, Shift
    };
    LTransform(layer parent, Kind kind, const std::vector<float>& pa, const std::vector<float>& pb,
               const Shape& new_shape, const std::string& da_mode, float constant, const std::string& name);
    std::string type() const override;
    void forward() override;
    void backward() override;
    LayerConfig config() const override;
    bool random() const;
    WarpGeom geom(int batch) const;
    void plan(int sample, float* m, int* box) const;
    Kind kind;
    std::vector<float> pa, pb;
    Shape new_shape;
    std::string da_mode;
    WarpBorder border;
    float constant;
    std::vector<float> mats;  // of the last forward, 6 per sample
    std::vector<int> boxes;   // 4 per sample
    bool identity = true;
};

/// Rebuilds a layer from type(), name, parents and config() (checkpoint loading).
layer make_layer(const std::string& type, const std::string& name, const vlayer& parents, const LayerConfig& cfg);

}  // namespace eddl
