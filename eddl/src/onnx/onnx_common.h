// Private to the ONNX module: constants as the importer folds them, tensor <-> TensorProto,
// and the one layer kind that only ONNX graphs create (element-wise ops with fixed operands).
#pragma once
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "eddl/layer.h"

namespace eddl {
class LPool2D;
}

namespace eddl::onnxio {

constexpr int64_t kOpset = 17;     // the opset our export writes (ONNX 1.12's newest)
constexpr int64_t kMinOpset = 1;   // the oldest default-domain opset the importer reads
constexpr int64_t kMaxOpset = 17;  // the newest it knows the operator semantics of

/// The batch dimension inside folded shape computations (Shape of a layer output): a value no
/// real dimension takes, recognized by Reshape, rejected by arithmetic.
constexpr double kBatch = -987654321.0;

/// A tensor known at import time: initializers, Constant nodes and folded shape arithmetic.
/// Values are doubles, which hold every float and every int64 a model's shapes use exactly.
struct Const {
    std::vector<int64_t> dims;
    std::vector<double> v;
    bool integer = false;  // came from an integer or bool tensor
    int64_t numel() const;
    std::vector<int64_t> ints(const std::string& what) const;  ///< checks values are whole
    std::vector<float> floats() const;
};

/// Parses a TensorProto (float, double, int8..int64, uint8..uint64, bool; raw or typed fields).
/// `what` names it in errors (truncated data, unsupported type, external data).
Const from_proto(const onnx::TensorProto& t, const std::string& what);
/// A float TensorProto named `name` with `dims` and `data`.
void to_proto(onnx::TensorProto& t, const std::string& name, const std::vector<int64_t>& dims, const float* data);
void to_proto_i64(onnx::TensorProto& t, const std::string& name, const std::vector<int64_t>& dims,
                  const std::vector<int64_t>& data);

/// Parses serialized ModelProto bytes, throwing eddl::Error for anything that is not an ONNX
/// model (`what` names the source: a path, "string" or "buffer"). Reads the bytes in place.
onnx::ModelProto parse_model(std::string_view bytes, const std::string& what);
/// The bytes of a caller's (buffer, size): an error for a null buffer with a nonzero size.
std::string_view buffer_bytes(const void* buffer, size_t size, const std::string& what);

/// Initializer roles of a layer's params and states in exported models: "<layer>.<role>".
std::vector<std::string> param_roles(const Layer& l);
std::vector<std::string> state_roles(const Layer& l);

/// Element-wise functions ONNX graphs use that no facade layer provides, with scalar
/// parameters a, b and an optional constant operand (broadcast over the sample). Runs on the
/// CPU with plain loops; layers of this kind come only from import.
enum class EwFn {
    Abs, Neg, Sqrt, Reciprocal, Log, Exp, Sin, Cos, Tan, Asin, Acos, Atan, Sinh, Cosh, Asinh, Acosh, Atanh,
    Floor, Ceil, Round, Sign, Erf, Clip, HardSigmoid, Selu, Celu, HardSwish, Softplus, Mish,
    Shrink,  // a = bias, b = lambd
    IsNaN, IsInf,  // 0/1; IsInf: a, b = detect_negative, detect_positive
    // with the constant c (one value per sample element): x op c, or c op x for the R forms
    Add, Sub, RSub, Mul, Div, RDiv, Pow, Max, Min,
    PRelu,  // c = slope
    Fmod,   // C's fmod: the sign of x
    Greater, Less, GreaterOrEqual, LessOrEqual, Equal,  // x op c as 0/1 (no gradient)
};

class LElementwise : public Layer {
public:
    /// op: the ONNX operator name (for type() and export). c_dims/c: the constant operand as
    /// given (full rank, batch dimension 1 or absent); it must broadcast to the sample shape.
    LElementwise(layer parent, EwFn fn, const std::string& op, float a, float b, const std::vector<int64_t>& c_dims,
                 const std::vector<float>& c, const std::string& name);
    std::string type() const override { return "Onnx" + op; }
    void forward() override;
    void backward() override;
    EwFn fn;
    std::string op;
    float a, b;
    std::vector<int64_t> c_dims;  // as in the model
    std::vector<float> c_raw;     // as in the model
    std::vector<float> c;         // expanded to the sample shape (empty: no constant)
};

/// True when `fn` takes a constant operand.
bool ew_binary(EwFn fn);

// The layers below act on the sample (batch excluded) like the ONNX operators they are named
// after; they come only from import and export as those operators.

/// ReduceSum, ReduceMean, ... over `axes` (sample axes, sorted, distinct). keepdims=false drops
/// them; reducing every sample axis without keepdims leaves [batch, 1] (ONNX: [batch] or a scalar).
enum class ReduceFn { Sum, Mean, Max, Min, Prod, L1, L2, LogSum, LogSumExp, SumSquare };
class LReduce : public Layer {
public:
    LReduce(layer parent, ReduceFn fn, const std::string& op, const std::vector<int>& axes, bool keepdims,
            const std::string& name);
    std::string type() const override { return "Onnx" + op; }
    void forward() override;
    void backward() override;
    ReduceFn fn;
    std::string op;
    std::vector<int> axes;
    bool keepdims;

private:
    std::vector<int64_t> to_out_;  // sample element -> output element
    int64_t count_ = 1;            // sample elements per output element
    std::vector<int64_t> arg_;     // Max/Min: the element chosen per output; Prod: zeros per output
    std::vector<float> nz_prod_;   // Prod: product of the non-zero elements per output
};

/// Gather with constant indices along one sample axis (Slice is a chain of these): the output
/// has the indices' dims in place of that axis.
class LGather : public Layer {
public:
    LGather(layer parent, int axis, const std::vector<int64_t>& index_dims, const std::vector<int64_t>& indices,
            const std::string& name);
    std::string type() const override { return "OnnxGather"; }
    void forward() override;
    void backward() override;
    int axis;
    std::vector<int64_t> index_dims, indices;  // indices already in [0, dim)
};

/// LayerNormalization's second and third outputs: the mean (invstd = false) or 1 / sqrt(var + eps)
/// of the sample axes from `axis` on, which become 1s in the output shape.
class LNormStat : public Layer {
public:
    LNormStat(layer parent, int axis, float eps, bool invstd, const std::string& name);
    std::string type() const override { return invstd ? "OnnxInvStdDev" : "OnnxMean"; }
    void forward() override;
    void backward() override;
    int axis;
    float eps;
    bool invstd;

private:
    std::vector<float> mean_;  // per row, for backward
};

/// MatMul of two computed tensors: [..., M, K] x [..., K, N] -> [..., M, N], the leading sample
/// dimensions equal (attention's Q K^T and weights x V).
class LMatMul : public Layer {
public:
    LMatMul(layer a, layer b, const std::string& name);
    std::string type() const override { return "OnnxMatMul"; }
    void forward() override;
    void backward() override;
};

/// LogSoftmax and Hardmax along one sample axis (opset 13 semantics), and ArgMax / ArgMin (the
/// index as a float; keepdims, select_last_index as ONNX; no gradient).
class LAxisOp : public Layer {
public:
    LAxisOp(layer parent, const std::string& op, int axis, const std::string& name, bool keepdims = true,
            bool select_last = false);
    std::string type() const override { return "Onnx" + op; }
    void forward() override;
    void backward() override;
    std::string op;
    int axis;
    bool keepdims, select_last;
};

/// Expand (broadcast to a larger shape) and Tile (repeat): each output element copies one input
/// element; gradients sum back. `target` is the output sample shape.
class LBroadcast : public Layer {
public:
    LBroadcast(layer parent, const Shape& target, bool tile, const std::string& name);
    std::string type() const override { return tile ? "OnnxTile" : "OnnxExpand"; }
    void forward() override;
    void backward() override;
    bool tile;

private:
    std::vector<int64_t> from_;  // output sample element -> input sample element
};

/// LRN across channels (sample axis 0) as ONNX: x / (bias + alpha / size * sum of squares in a
/// window of `size` channels)^beta.
class LLRN : public Layer {
public:
    LLRN(layer parent, float alpha, float beta, float bias, int size, const std::string& name);
    std::string type() const override { return "OnnxLRN"; }
    void forward() override;
    void backward() override;
    float alpha, beta, bias;
    int size;

private:
    std::vector<float> scale_;  // bias + alpha / size * window sum, per element
};

/// TopK along one sample axis: the k largest (or smallest) values in order, or their indices as
/// floats (indices = true; no gradient). Ties: the lower index first, as ONNX.
class LTopK : public Layer {
public:
    LTopK(layer parent, int axis, int k, bool largest, bool indices, const std::string& name);
    std::string type() const override { return indices ? "OnnxTopKIndices" : "OnnxTopK"; }
    void forward() override;
    void backward() override;
    int axis, k;
    bool largest, indices;

private:
    std::vector<int64_t> picked_;  // per output element: the input element (values: for backward)
};

/// Resize in general (ONNX opset 11-17 semantics), on any sample axes: nearest (every
/// nearest_mode), linear or cubic (cubic_coeff_a, exclude_outside), every coordinate
/// transformation (tf_crop_and_resize with its roi and extrapolation_value), any scale up or down.
/// Separable: one interpolation pass per resized axis; backward runs the passes' adjoints.
class LResize : public Layer {
public:
    struct Params {
        std::string mode = "nearest", ctm = "half_pixel", nearest_mode = "round_prefer_floor";
        float cubic_a = -0.75f, extrapolation = 0.0f;
        bool exclude_outside = false;
        std::vector<double> scales;              // per sample axis, as the coordinates use them
        std::vector<double> roi_start, roi_end;  // per sample axis (tf_crop_and_resize)
    };
    LResize(layer parent, const Shape& out, const Params& p, const std::string& name);
    std::string type() const override { return "OnnxResize"; }
    void forward() override;
    void backward() override;
    Params p;

private:
    struct AxisTaps {
        int axis = 0, in = 1, out = 1, taps = 1;
        std::vector<int64_t> idx;  // out * taps input positions
        std::vector<float> w;      // their weights
        std::vector<char> outside; // tf_crop_and_resize: the output position maps outside the input
    };
    std::vector<AxisTaps> axes_;  // the axes that change, in order
    bool extrapolates_ = false;
};

/// BatchNormalization with training_mode=1: normalized with the statistics of the data (per
/// channel, the sample's axis `channel_axis`, over every other axis; over the batch too when
/// over_batch), or the updated running mean / variance (input * momentum + data's * (1 - momentum),
/// variances as populations) instead of Y.
class LBatchStats : public Layer {
public:
    enum class Out { Y, RunningMean, RunningVar };
    LBatchStats(layer parent, int channel_axis, bool over_batch, float eps, float momentum, Out which,
                const std::vector<float>& scale, const std::vector<float>& bias, const std::vector<float>& mean,
                const std::vector<float>& var, const std::string& name);
    std::string type() const override { return "OnnxBatchNormalizationTraining"; }
    void forward() override;
    void backward() override;
    int channel_axis;
    bool over_batch;
    float eps, momentum;
    Out which;
    std::vector<float> in_mean, in_var;  // the running statistics given to the node

private:
    int64_t outer_ = 1, C_ = 1, inner_ = 1;  // the sample as [outer, C, inner]
    std::vector<float> mean_, invstd_;       // per (group, channel) of the last forward
};

/// MaxPool's second output: the flat index of each maximum in [N, C, spatial...] (row-major,
/// batch included, as ONNX), as a float; no gradient. `pool` gives the geometry.
class LPoolIndices : public Layer {
public:
    /// per_sample (OnnxBatch::none): each sample is a whole [1, C, ...] tensor, indices start at 0 in each
    /// column_major: ONNX storage_order 1 (the spatial position as x * H * D + y * D + z)
    LPoolIndices(layer parent, std::shared_ptr<eddl::LPool2D> pool, const std::string& name, bool per_sample = false,
                 bool column_major = false);
    std::string type() const override { return "OnnxMaxPoolIndices"; }
    void forward() override;
    void backward() override;
    std::shared_ptr<eddl::LPool2D> pool;
    bool per_sample, column_major;
};

}  // namespace eddl::onnxio
