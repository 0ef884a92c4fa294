// The op dispatch table: one slot per op family and device, filled by each backend's own
// register function. Op code calls kernels(dev).<op>(...) and never tests the device itself.
#pragma once
#include <compare>
#include <cstdint>
#include <memory>

#include "eddl/tensor.h"

namespace eddl {

/// Element-wise unary ops; `a`, `b` are the op's scalar parameters where it has them.
enum class UnaryOp {
    Copy, Abs, Neg, Exp, Log, Log2, Log10, Sqrt, Rsqrt, Sqr, Inv, Sin, Cos, Tan, Asin, Acos, Atan,
    Sinh, Cosh, Tanh, Sigmoid, Relu, Ceil, Floor, Round, Trunc, Sign,
    Clamp,          // clamp(x, a, b)
    Pow,            // x^a
    AddScalar,      // x + a
    MulScalar,      // x * a
    Affine,         // a*x + b
    // activations (also differentiable through unary_backward)
    LeakyRelu,      // alpha = a
    Elu,            // alpha = a
    Selu,
    Softplus,
    Softsign,
    HardSigmoid,    // clip(0.2x + 0.5, 0, 1), as EDDL and Keras
    ThresholdedRelu,// x > a ? x : 0
    Exponential,    // e^x
    Linear,         // a * x
    Gelu,           // exact, x * Phi(x)
    Swish,          // x * sigmoid(x)
};

enum class BinaryOp { Add, Sub, Mul, Div, Max, Min };
enum class ReduceOp { Sum, Mean, Max, Min, Var, ArgMax };

/// Broadcast geometry: output dims and the element strides of A and B (0 where broadcast).
struct BroadcastPlan {
    int ndim = 0;
    int64_t dims[8];
    int64_t sa[8];
    int64_t sb[8];
    int64_t n = 0;
};

/// Per-element update rules of the optimizers; hyper-parameters travel in OptimStep.
enum class OptimRule { SGD, Adam, AdamW, RMSProp, Adagrad, Adadelta, Adamax, Nadam };
struct OptimStep {
    OptimRule rule;
    float lr, momentum, beta1, beta2, eps, rho, weight_decay;
    bool nesterov, amsgrad;
    int64_t t;           // step count, 1-based, for bias corrections
    double mu_t, mu_t1, mu_prod, mu_prod1;  // Nadam momentum schedule terms
};

/// Losses computed over a [rows, cols] batch. Each returns the summed loss over the batch and
/// writes (or adds, when accumulate) d(loss/scale)/dy into delta.
enum class LossKind {
    MSE, MAE, CCE, BCE, SCE,
    BCELogits,  // binary cross entropy on logits, stable
    Dice,       // 1 - (2 sum(y t) + 1) / (sum y + sum t + 1), per sample
    Focal,      // binary focal loss on probabilities, gamma 2, alpha 0.25
};

/// Activations are NCHW (NCDHW), or "blocked": stored as [N][C/B][H][W][B] (2-D, channels a
/// whole number of blocks of B = KernelTable::block: oneDNN's nChw16c with AVX-512, nChw8c with
/// AVX2), the layout its fastest f32 convolution, pooling and normalization kernels run in, so
/// that chains of such layers skip conversions.
/// A geometry's blocked flags say which of its tensors are blocked (a tensor's gradient is in
/// the same layout as the tensor).

/// Convolution geometry, NCHW (or NCDHW); weights [oc, ic/groups, (kd,) kh, kw]. Dilation 1 =
/// dense kernel. The depth fields keep their defaults for 2-D (and 1-D, which is 2-D with H = 1);
/// a geometry with any of them set is a 3-D convolution.
struct ConvGeom {
    int n, ic, ih, iw, oc, oh, ow, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, groups;
    int id = 1, od = 1, kd = 1, sd = 1, pf = 0, pk = 0, dd = 1;  // depth: size, kernel, stride, pads front/back, dilation
    bool src_blocked = false, dst_blocked = false;               // 2-D only
    // training: 3x3 stride-1 layers may run forward and backward-data as Winograd transforms where
    // oneDNN has no Winograd kernel (rounding differences of about 1e-6 relative per layer)
    bool winograd = false;
    bool volumetric() const { return id != 1 || od != 1 || kd != 1 || pf != 0 || pk != 0; }
    auto operator<=>(const ConvGeom&) const = default;
};

/// A layer's weights converted once into the layout an inference kernel reads, kept by the layer
/// between calls while its weights do not change (it drops the pack when they may have).
struct PackedWeights {
    std::shared_ptr<float> data;
    const void* key = nullptr;  // which layout it holds (the backend's identity for it)
    uint64_t epoch = 0;         // the layer's bookkeeping: when the pack was made
};

/// What an inference convolution applies to its output, per output channel, before writing it:
/// y * scale + shift (a folded batch normalization; both null = none), then ReLU. winograd: 3x3 stride-1
/// convolutions may run as Winograd transforms (fewer multiplications, rounding differences of
/// about 1e-6 relative per layer). packed: where to keep the converted weights (null: convert per call).
struct ConvEpilogue {
    const float* scale = nullptr;
    const float* shift = nullptr;
    bool relu = false;
    bool winograd = false;
    PackedWeights* packed = nullptr;
};

/// Pooling geometry, NCHW or NCDHW (depth fields at their defaults for 2-D and 1-D); padding is
/// never part of an average (exclude-padding).
enum class PoolKind { Max, Avg };
struct PoolGeom {
    PoolKind kind;
    int n, c, ih, iw, oh, ow, kh, kw, sh, sw, pt, pl, pb, pr;
    int id = 1, od = 1, kd = 1, sd = 1, pf = 0, pk = 0;
    int dd = 1, dh = 1, dw = 1;  // max pooling: window dilation
    // average pooling divides by the window clipped to the padded input (the end pads that count:
    // ceil_mode may extend pk/pb/pr past them) instead of to the input
    bool count_pad = false;
    int cpk = 0, cpb = 0, cpr = 0;
    bool blocked = false;  // input, output and their gradients (2-D; not count_pad or dilated)
    bool plain() const { return dd == 1 && dh == 1 && dw == 1 && !count_pad; }
    auto operator<=>(const PoolGeom&) const = default;
};

/// Resampling of `planes` volumes id x ih x iw to od x oh x ow (2-D: id = od = 1): nearest
/// (floor(o * in / out)) or (bi/tri)linear with half-pixel centres (PyTorch align_corners=False).
struct ResampleGeom {
    int64_t planes;
    int id, ih, iw, od, oh, ow;
    bool linear;
};

/// Per-sample affine resampling of n x c planes ih x iw into oh x ow (the data-augmentation
/// layers). Output (y, x) of sample s reads the input at sy = m0 y + m1 x + m2, sx = m3 y + m4 x + m5
/// (m = 6 floats per sample), bilinearly; positions outside follow `border`; the box
/// [y0, y1) x [x0, x1) (4 ints per sample, empty when y0 >= y1) is set to `constant`.
enum class WarpBorder { Constant, Nearest, Reflect, Wrap, Original };
struct WarpGeom {
    int64_t n, c;
    int ih, iw, oh, ow;
    WarpBorder border;
    float constant;
};

/// Batch normalization over x viewed as [n, c, s]: statistics per channel c over n and s.
struct NormGeom {
    int64_t n, c, s;
    float eps;
    bool blocked = false;  // x, y and their gradients ({C, H, W} inputs)
};

/// Per-sample normalization over groups: x viewed as [n, c, s], channels split into `groups`,
/// statistics per (sample, group) over (c / groups) * s values, affine per channel.
/// LayerNormalization is groups = 1 with every element its own channel (s = 1).
struct GroupNormGeom {
    int64_t n, groups, c, s;
    float eps;
};

struct KernelTable {
    // channels per block of the device's blocked activation layout; 0: it has none
    int block = 0;
    // dst[i] = f(src[i])
    void (*unary)(UnaryOp op, const float* src, float* dst, int64_t n, float a, float b) = nullptr;
    // dx[i] (+)= f'(x[i], y[i]) * dy[i]; y = f(x) as computed by unary
    void (*unary_backward)(UnaryOp op, const float* x, const float* y, const float* dy, float* dx,
                           int64_t n, float a, float b, bool accumulate) = nullptr;
    void (*binary)(BinaryOp op, const float* A, const float* B, float* C, const BroadcastPlan& p) = nullptr;
    // src viewed as [outer, r, inner]; dst is [outer, inner]
    void (*reduce)(ReduceOp op, const float* src, float* dst, int64_t outer, int64_t r, int64_t inner) = nullptr;
    // row-major C = alpha*op(A)*op(B) + beta*C, A is m x k after op, B is k x n after op
    void (*gemm)(bool ta, bool tb, int m, int n, int k, float alpha, const float* A, int lda,
                 const float* B, int ldb, float beta, float* C, int ldc) = nullptr;
    // dst = permutation of src: dst dims are src dims[perm[i]]
    void (*permute)(const float* src, float* dst, int ndim, const int64_t* src_dims, const int* perm) = nullptr;
    // dst = src[starts[d] : starts[d] + out_dims[d]] along every dimension d
    void (*slice)(const float* src, float* dst, int ndim, const int64_t* src_dims, const int64_t* starts,
                  const int64_t* out_dims) = nullptr;
    // nearest-neighbour upsampling of `planes` planes ih x iw by integer factors; backward sums blocks
    void (*upsample_nearest)(const float* src, float* dst, int64_t planes, int ih, int iw, int sh, int sw) = nullptr;
    void (*upsample_nearest_backward)(const float* ddst, float* dsrc, int64_t planes, int ih, int iw, int sh, int sw,
                                      bool accumulate) = nullptr;
    // dst's region starts[d] .. starts[d] + src_dims[d] (=)+= src: the reverse of slice
    void (*slice_backward)(const float* src, float* dst, int ndim, const int64_t* dst_dims, const int64_t* starts,
                           const int64_t* src_dims, bool accumulate) = nullptr;
    void (*resample)(const ResampleGeom& g, const float* src, float* dst) = nullptr;
    void (*resample_backward)(const ResampleGeom& g, const float* ddst, float* dsrc, bool accumulate) = nullptr;
    void (*warp)(const WarpGeom& g, const float* mats, const int* boxes, const float* src, float* dst) = nullptr;
    void (*warp_backward)(const WarpGeom& g, const float* mats, const int* boxes, const float* ddst, float* dsrc,
                          bool accumulate) = nullptr;
    // dst[idx[r]] += src[r], row_len floats each; rows with idx < 0 are skipped
    void (*scatter_add_rows)(const float* src, float* dst, const int* idx, int64_t nidx, int64_t row_len) = nullptr;
    // copies rows: dst[r + dst_off] = src[idx[r]], row_len floats each
    void (*gather_rows)(const float* src, float* dst, const int* idx, int64_t nidx, int64_t row_len) = nullptr;
    // C[i, :] += bias ; rows x cols
    void (*add_rowwise)(float* C, const float* bias, int64_t rows, int64_t cols) = nullptr;
    // dst[c] (+)= sum_r src[r, c]
    void (*sum_rows)(const float* src, float* dst, int64_t rows, int64_t cols, bool accumulate) = nullptr;
    void (*fill)(float* dst, int64_t n, float v) = nullptr;
    void (*axpby)(float a, const float* x, float b, float* y, int64_t n) = nullptr;  // y = a*x + b*y
    void (*copy)(const float* src, float* dst, int64_t n) = nullptr;
    void (*softmax)(const float* src, float* dst, int64_t rows, int64_t cols) = nullptr;
    void (*softmax_backward)(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols,
                             bool accumulate) = nullptr;
    // w -= update(g) with per-parameter state s1, s2, s3 (zero-initialized, same size as w)
    void (*optim_update)(const OptimStep& st, float* w, const float* g, float* s1, float* s2, float* s3,
                         int64_t n) = nullptr;
    // convolution: dst = conv(src, w) + b (b may be null). Backward: the weight (and bias, db may be
    // null) gradients unless dw is null, the input's gradient unless dsrc is null; acc_grads /
    // acc_dsrc add into them instead of overwriting
    void (*conv_inference)(const ConvGeom& g, const float* src, const float* w, const float* b, const ConvEpilogue& e,
                           float* dst) = nullptr;
    void (*conv)(const ConvGeom& g, const float* src, const float* w, const float* b, float* dst) = nullptr;
    void (*conv_backward)(const ConvGeom& g, const float* src, const float* w, const float* ddst, float* dw,
                          float* db, bool acc_grads, float* dsrc, bool acc_dsrc) = nullptr;
    // transposed convolution: same geometry struct read the other way (ih/iw = its input, oh/ow =
    // its output, ic/oc its input/output channels); weights [ic, oc, kh, kw] as PyTorch
    void (*conv_transpose)(const ConvGeom& g, const float* src, const float* w, const float* b, float* dst) = nullptr;
    void (*conv_transpose_backward)(const ConvGeom& g, const float* src, const float* w, const float* ddst,
                                    float* dw, float* db, bool acc_grads, float* dsrc, bool acc_dsrc) = nullptr;
    // pooling; max pooling keeps in `ws` (pool_workspace floats) where each maximum came from
    int64_t (*pool_workspace)(const PoolGeom& g) = nullptr;
    void (*pool)(const PoolGeom& g, const float* src, float* dst, float* ws) = nullptr;
    void (*pool_backward)(const PoolGeom& g, const float* ddst, const float* ws, float* dsrc, bool accumulate) = nullptr;
    // batch norm. training: batch statistics into mean/invstd, running stats updated as
    // r = momentum * r + (1 - momentum) * batch (variance unbiased); inference: running stats.
    // gamma/beta may be null (no affine); gradients may be null (frozen)
    void (*batchnorm)(const NormGeom& g, const float* x, const float* gamma, const float* beta, float* y, float* mean,
                      float* invstd, float* rmean, float* rvar, float momentum, bool training) = nullptr;
    void (*batchnorm_backward)(const NormGeom& g, const float* x, const float* dy, const float* gamma,
                               const float* mean, const float* invstd, float* dx, float* dgamma, float* dbeta,
                               bool training, bool accumulate_dx, bool accumulate_grads) = nullptr;
    // group norm: mean/invstd hold n * groups values; gamma/beta may be null
    void (*groupnorm)(const GroupNormGeom& g, const float* x, const float* gamma, const float* beta, float* y,
                      float* mean, float* invstd) = nullptr;
    void (*groupnorm_backward)(const GroupNormGeom& g, const float* x, const float* dy, const float* gamma,
                               const float* mean, const float* invstd, float* dx, float* dgamma, float* dbeta,
                               bool accumulate_dx, bool accumulate_grads) = nullptr;
    // returns sum of per-element losses; delta = dloss/dy / scale (accumulate: delta +=)
    double (*loss)(LossKind k, const float* y, const float* t, float* delta, int64_t rows, int64_t cols,
                   float scale, bool accumulate) = nullptr;
};

/// The table of `dev`; throws eddl::Error if this build has no backend for that device.
const KernelTable& kernels(Device dev);

namespace cpu {
void register_kernels(KernelTable& t);
}

}  // namespace eddl
