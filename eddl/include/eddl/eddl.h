// EDDL: the Keras-like facade. This umbrella header is all a user includes.
//
//   #include <eddl/eddl.h>
//   using namespace eddl;
//   layer in = Input({784});
//   layer l = LeakyReLu(Dense(in, 1024));
//   layer out = Softmax(Dense(l, 10));
//   model net = Model({in}, {out});
//   build(net, sgd(0.01f, 0.9f), {"soft_cross_entropy"}, {"categorical_accuracy"}, CS_CPU());
//   fit(net, {x_train}, {y_train}, 100, 5);
//
// Handles (layer, model, tensor, optimizer, compserv) are shared pointers: nothing to delete.
// Every error is an eddl::Error whose message names the layer, shape or file involved.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "eddl/error.h"
#include "eddl/layer.h"
#include "eddl/net.h"
#include "eddl/onnx.h"
#include "eddl/tensor.h"
#include "eddl/zoo.h"

namespace eddl {

// ============================== layers =======================================================

/// Network input; `shape` excludes the batch dimension ({784}, {3, 32, 32}).
layer Input(const Shape& shape, const std::string& name = "");
/// Fully connected: y = x W + b, W of shape {in, ndim}, on the last axis (as Keras' Dense): a
/// sample {in} gives {ndim}, a sample {..., in} gives {..., ndim} (each row by the same W).
layer Dense(layer parent, int ndim, bool use_bias = true, const std::string& name = "");
/// Randomly zeroes a fraction `rate` of values in training. With iw=true (EDDL's default) the
/// kept values are not rescaled in training and outputs are scaled by (1-rate) in inference;
/// with iw=false it is inverted dropout (PyTorch/Keras): kept values scaled by 1/(1-rate).
layer Dropout(layer parent, float rate, bool iw = true, const std::string& name = "");
layer Reshape(layer parent, const Shape& shape, const std::string& name = "");  ///< one dim may be -1
layer Flatten(layer parent, const std::string& name = "");

/// Activation by name: relu, leaky_relu, sigmoid, hard_sigmoid, tanh, elu, selu, softplus,
/// softsign, thresholded_relu, exponential, linear, gelu, swish, softmax. params[0] is alpha
/// where the activation has one (leaky_relu 0.01, elu 1, thresholded_relu 1, linear 1).
layer Activation(layer parent, const std::string& activation, const std::vector<float>& params = {},
                 const std::string& name = "");
layer ReLu(layer parent, const std::string& name = "");
layer LeakyReLu(layer parent, float alpha = 0.01f, const std::string& name = "");
layer Sigmoid(layer parent, const std::string& name = "");
layer HardSigmoid(layer parent, const std::string& name = "");  ///< clip(0.2x + 0.5, 0, 1)
layer Tanh(layer parent, const std::string& name = "");
layer Softmax(layer parent, int axis = -1, const std::string& name = "");
layer Elu(layer parent, float alpha = 1.0f, const std::string& name = "");
layer Selu(layer parent, const std::string& name = "");
layer Softplus(layer parent, const std::string& name = "");
layer Softsign(layer parent, const std::string& name = "");
layer ThresholdedReLu(layer parent, float alpha = 1.0f, const std::string& name = "");
layer Exponential(layer parent, const std::string& name = "");
layer Linear(layer parent, float alpha = 1.0f, const std::string& name = "");
layer GELU(layer parent, const std::string& name = "");   ///< exact: x * Phi(x)
layer Swish(layer parent, const std::string& name = "");  ///< x * sigmoid(x)

// ---- convolution and pooling: inputs {channels, length} (1D), {channels, height, width} (2D),
// {channels, depth, height, width} (3D); the batch dimension first, as everywhere ----
/// 1-D convolution, weights {filters, channels/groups, k}; arguments as Conv2D with one value each.
layer Conv1D(layer parent, int filters, const std::vector<int>& kernel_size, const std::vector<int>& strides = {1},
             const std::string& padding = "same", bool use_bias = true, int groups = 1,
             const std::vector<int>& dilation_rate = {1}, const std::string& name = "");
/// Conv1D with explicit padding: {p} on both sides, or {begin, end}.
layer Conv1D(layer parent, int filters, const std::vector<int>& kernel_size, const std::vector<int>& strides,
             const std::vector<int>& padding, bool use_bias = true, int groups = 1,
             const std::vector<int>& dilation_rate = {1}, const std::string& name = "");
/// 2-D convolution, weights {filters, channels/groups, kh, kw}. padding "same" (output size
/// ceil(in/stride); odd padding goes to the bottom/right, as Keras), "valid" or "none".
layer Conv2D(layer parent, int filters, const std::vector<int>& kernel_size, const std::vector<int>& strides = {1, 1},
             const std::string& padding = "same", bool use_bias = true, int groups = 1,
             const std::vector<int>& dilation_rate = {1, 1}, const std::string& name = "");
/// Conv2D with explicit padding: {ph, pw} on both sides, or {top, bottom, left, right}.
layer Conv2D(layer parent, int filters, const std::vector<int>& kernel_size, const std::vector<int>& strides,
             const std::vector<int>& padding, bool use_bias = true, int groups = 1,
             const std::vector<int>& dilation_rate = {1, 1}, const std::string& name = "");
/// 3-D convolution (volumes: CT, MRI), weights {filters, channels/groups, kd, kh, kw}.
layer Conv3D(layer parent, int filters, const std::vector<int>& kernel_size, const std::vector<int>& strides = {1, 1, 1},
             const std::string& padding = "same", bool use_bias = true, int groups = 1,
             const std::vector<int>& dilation_rate = {1, 1, 1}, const std::string& name = "");
/// Conv3D with explicit padding: {pd, ph, pw} on both sides, or {front, back, top, bottom, left, right}.
layer Conv3D(layer parent, int filters, const std::vector<int>& kernel_size, const std::vector<int>& strides,
             const std::vector<int>& padding, bool use_bias = true, int groups = 1,
             const std::vector<int>& dilation_rate = {1, 1, 1}, const std::string& name = "");
/// Transposed convolution (learned upsampling), weights {in_channels, filters, kh, kw} as PyTorch's
/// ConvTranspose2d. padding "same": output = input * stride (Keras); "valid": (in - 1) * stride + span.
layer ConvT2D(layer parent, int filters, const std::vector<int>& kernel_size, const std::vector<int>& strides = {1, 1},
              const std::string& padding = "same", bool use_bias = true, const std::vector<int>& dilation_rate = {1, 1},
              const std::string& name = "");
/// ConvT2D with PyTorch's padding {ph, pw} and output_padding {oph, opw}:
/// output = (in - 1) * stride - 2 * p + dilation * (k - 1) + output_padding + 1.
layer ConvT2D(layer parent, int filters, const std::vector<int>& kernel_size, const std::vector<int>& strides,
              const std::vector<int>& padding, const std::vector<int>& output_padding = {0, 0}, bool use_bias = true,
              const std::vector<int>& dilation_rate = {1, 1}, const std::string& name = "");
/// ConvT2D for {channels, length} and {channels, depth, height, width} inputs (one or three values
/// per list).
layer ConvT1D(layer parent, int filters, const std::vector<int>& kernel_size, const std::vector<int>& strides = {1},
              const std::string& padding = "same", bool use_bias = true, const std::vector<int>& dilation_rate = {1},
              const std::string& name = "");
layer ConvT3D(layer parent, int filters, const std::vector<int>& kernel_size, const std::vector<int>& strides = {1, 1, 1},
              const std::string& padding = "same", bool use_bias = true, const std::vector<int>& dilation_rate = {1, 1, 1},
              const std::string& name = "");
/// One filter per input channel (groups = channels), `depth_multiplier` outputs per channel.
layer DepthwiseConv2D(layer parent, const std::vector<int>& kernel_size, const std::vector<int>& strides = {1, 1},
                      const std::string& padding = "same", bool use_bias = true, int depth_multiplier = 1,
                      const std::vector<int>& dilation_rate = {1, 1}, const std::string& name = "");
/// 1x1 convolution.
layer PointwiseConv2D(layer parent, int filters, const std::vector<int>& strides = {1, 1}, bool use_bias = true,
                      const std::string& name = "");
/// Pooling windows; padding "none"/"valid" or "same". Averages exclude padded positions.
layer MaxPool2D(layer parent, const std::vector<int>& pool_size = {2, 2}, const std::vector<int>& strides = {2, 2},
                const std::string& padding = "none", const std::string& name = "");
layer AveragePool2D(layer parent, const std::vector<int>& pool_size = {2, 2}, const std::vector<int>& strides = {2, 2},
                    const std::string& padding = "none", const std::string& name = "");
/// Max pooling with explicit padding {ph, pw} on both sides (PyTorch's MaxPool2d(k, s, padding)).
layer MaxPool2D(layer parent, const std::vector<int>& pool_size, const std::vector<int>& strides,
                const std::vector<int>& padding, const std::string& name = "");
layer AvgPool2D(layer parent, const std::vector<int>& pool_size = {2, 2}, const std::vector<int>& strides = {2, 2},
                const std::string& padding = "none", const std::string& name = "");
layer MaxPool1D(layer parent, const std::vector<int>& pool_size = {2}, const std::vector<int>& strides = {2},
                const std::string& padding = "none", const std::string& name = "");
layer AveragePool1D(layer parent, const std::vector<int>& pool_size = {2}, const std::vector<int>& strides = {2},
                    const std::string& padding = "none", const std::string& name = "");
layer AvgPool1D(layer parent, const std::vector<int>& pool_size = {2}, const std::vector<int>& strides = {2},
                const std::string& padding = "none", const std::string& name = "");
layer MaxPool3D(layer parent, const std::vector<int>& pool_size = {2, 2, 2}, const std::vector<int>& strides = {2, 2, 2},
                const std::string& padding = "none", const std::string& name = "");
layer AveragePool3D(layer parent, const std::vector<int>& pool_size = {2, 2, 2},
                    const std::vector<int>& strides = {2, 2, 2}, const std::string& padding = "none",
                    const std::string& name = "");
layer AvgPool3D(layer parent, const std::vector<int>& pool_size = {2, 2, 2}, const std::vector<int>& strides = {2, 2, 2},
                const std::string& padding = "none", const std::string& name = "");
layer GlobalMaxPool1D(layer parent, const std::string& name = "");      ///< {C, L} -> {C, 1}
layer GlobalAveragePool1D(layer parent, const std::string& name = "");  ///< {C, L} -> {C, 1}
layer GlobalMaxPool2D(layer parent, const std::string& name = "");      ///< {C, H, W} -> {C, 1, 1}
layer GlobalAveragePool2D(layer parent, const std::string& name = "");  ///< {C, H, W} -> {C, 1, 1}
layer GlobalMaxPool3D(layer parent, const std::string& name = "");      ///< {C, D, H, W} -> {C, 1, 1, 1}
layer GlobalAveragePool3D(layer parent, const std::string& name = "");  ///< {C, D, H, W} -> {C, 1, 1, 1}
/// Global pooling of 1-D, 2-D or 3-D inputs, whichever the parent gives.
layer GlobalMaxPool(layer parent, const std::string& name = "");
layer GlobalAveragePool(layer parent, const std::string& name = "");
layer GlobalAvgPool(layer parent, const std::string& name = "");

/// Normalizes each channel ({C, H, W} inputs) or feature ({F}) with batch statistics in training
/// and running statistics in inference (set_mode / evaluate / predict). Running statistics follow
/// r = momentum * r + (1 - momentum) * batch, the variance unbiased (PyTorch's momentum = 1 -
/// ours). With affine, a learned scale (init 1) and shift (init 0) follow.
layer BatchNormalization(layer parent, float momentum = 0.99f, float epsilon = 0.001f, bool affine = true,
                         const std::string& name = "");

/// Normalizes each sample over all its values (PyTorch's LayerNorm over the sample shape); with
/// affine, a learned scale and shift per element.
layer LayerNormalization(layer parent, float epsilon = 1e-5f, bool affine = true, const std::string& name = "");
/// Normalizes each sample over groups of channels; with affine, a scale and shift per channel.
layer GroupNormalization(layer parent, int groups, float epsilon = 1e-5f, bool affine = true,
                         const std::string& name = "");
/// Repeats each pixel size[0] x size[1] times ({C, H, W} -> {C, H*sh, W*sw}); "nearest" only so far.
layer UpSampling2D(layer parent, const std::vector<int>& size = {2, 2}, const std::string& interpolation = "nearest",
                   const std::string& name = "");
/// Volumes {C, D, H, W} by integer factors; "nearest" or "trilinear".
layer UpSampling3D(layer parent, const std::vector<int>& size = {2, 2, 2}, const std::string& interpolation = "nearest",
                   const std::string& name = "");
/// A constant border: padding {top, bottom, left, right} for {C, H, W} (in general (begin, end) per
/// spatial dimension), or one value per spatial dimension for both sides.
layer Pad(layer parent, const std::vector<int>& padding, float constant = 0.0f, const std::string& name = "");
/// The box from_coords..to_coords (inclusive, one coordinate per spatial dimension, as EDDL). With
/// reshape the output is the box; otherwise the input size with `constant` outside the box.
layer Crop(layer parent, const std::vector<int>& from_coords, const std::vector<int>& to_coords, bool reshape = true,
           float constant = 0.0f, const std::string& name = "");
/// Crop of `size` (one value per spatial dimension) at the centre.
layer CenteredCrop(layer parent, const std::vector<int>& size, bool reshape = true, float constant = 0.0f,
                   const std::string& name = "");
/// {length} word indices (whole numbers in [0, vocsize)) -> {length, output_dim} learned vectors.
/// mask_zeros: index 0 is padding, outputs zeros and learns nothing.
layer Embedding(layer parent, int vocsize, int length, int output_dim, bool mask_zeros = false,
                const std::string& name = "");
// ---- recurrent layers, on {steps, features} inputs (the batch first, as everywhere) ----
// ONNX's equations and gate order (exported and imported as ONNX RNN / LSTM / GRU). They give the
// final hidden state {units} ({2 * units} bidirectional: forward then backward), or with
// return_sequences every step's {steps, units} ({steps, 2 * units}). mask_zeros: trailing all-zero
// steps of a sample are padding (its sequence ends before them). Weights and biases start
// U(-1/sqrt(units), 1/sqrt(units)), as in PyTorch.
/// Elman RNN: h = activation(W x + R h + b); activation "tanh", "relu" or "sigmoid".
layer RNN(layer parent, int units, const std::string& activation = "tanh", bool use_bias = true,
          bool bidirectional = false, const std::string& name = "", bool return_sequences = false);
layer LSTM(layer parent, int units, bool mask_zeros = false, bool bidirectional = false, const std::string& name = "",
           bool return_sequences = false);
/// GRU in the form of PyTorch and Keras (reset gate applied after the recurrent product: ONNX
/// linear_before_reset = 1).
layer GRU(layer parent, int units, bool mask_zeros = false, bool bidirectional = false, const std::string& name = "",
          bool return_sequences = false);
// ---- data augmentation inside the network, on {C, H, W} inputs ----
// Random* layers transform each sample differently in training (draws from the net's seed, the
// step and the sample: runs repeat) and pass the input through in inference (RandomCrop takes the
// centred crop there). The others always apply. da_mode: what positions outside the image read:
// "constant" (the constant), "nearest" (the edge), "reflect", "wrap", or "original" (the input
// pixel at the same position). Gradients flow through all of them (bilinear resampling).
layer RandomCrop(layer parent, const std::vector<int>& new_shape, const std::string& name = "");
/// A random box of a `factor` {min, max} fraction of the size, resized back to the input size.
layer RandomCropScale(layer parent, const std::vector<float>& factor, const std::string& da_mode = "nearest",
                      const std::string& name = "");
/// A box of random size (fractions factor_x, factor_y of the width, height) set to `constant`.
layer RandomCutout(layer parent, const std::vector<float>& factor_x, const std::vector<float>& factor_y,
                   float constant = 0.0f, const std::string& name = "");
/// Flips with probability 0.5: axis 0 upside down, axis 1 left-right.
layer RandomFlip(layer parent, int axis, const std::string& name = "");
layer RandomHorizontalFlip(layer parent, const std::string& name = "");
layer RandomVerticalFlip(layer parent, const std::string& name = "");
/// Rotation by a random angle in factor {min, max} degrees (counter-clockwise as displayed)
/// about the centre plus offset_center {dy, dx}.
layer RandomRotation(layer parent, const std::vector<float>& factor, const std::vector<int>& offset_center = {0, 0},
                     const std::string& da_mode = "original", float constant = 0.0f, const std::string& name = "");
/// Zoom about the centre by a random factor in {min, max} (> 1 enlarges), same output size.
layer RandomScale(layer parent, const std::vector<float>& factor, const std::string& da_mode = "nearest",
                  float constant = 0.0f, const std::string& name = "");
/// Translation by random fractions of the width (factor_x) and height (factor_y), {min, max} each.
layer RandomShift(layer parent, const std::vector<float>& factor_x, const std::vector<float>& factor_y,
                  const std::string& da_mode = "nearest", float constant = 0.0f, const std::string& name = "");
/// The box from_coords..to_coords ({y, x}, inclusive) set to `constant`.
layer Cutout(layer parent, const std::vector<int>& from_coords, const std::vector<int>& to_coords, float constant = 0.0f,
             const std::string& name = "");
layer Flip(layer parent, int axis = 0, const std::string& name = "");  ///< 0 upside down, 1 left-right
layer HorizontalFlip(layer parent, const std::string& name = "");
layer VerticalFlip(layer parent, const std::string& name = "");
layer Rotate(layer parent, float angle, const std::vector<int>& offset_center = {0, 0},
             const std::string& da_mode = "original", float constant = 0.0f, const std::string& name = "");
/// reshape: resize to new_shape {h, w}; otherwise zoom by new_shape / input size keeping the size.
layer Scale(layer parent, const std::vector<int>& new_shape, bool reshape = true, const std::string& da_mode = "nearest",
            float constant = 0.0f, const std::string& name = "");
/// Moves the content by shift {dy, dx} pixels.
layer Shift(layer parent, const std::vector<int>& shift, const std::string& da_mode = "nearest", float constant = 0.0f,
            const std::string& name = "");
/// Adds Gaussian noise N(0, stddev) in training (seeded like Dropout); identity in inference.
layer GaussianNoise(layer parent, float stddev, const std::string& name = "");
/// Reorders the axes after the batch: Permute(l, {2, 0, 1}) turns {C, H, W} into {W, C, H}.
layer Permute(layer parent, const std::vector<int>& dims, const std::string& name = "");
/// Swaps the last two axes (EDDL's Transpose): {C, H, W} -> {C, W, H}; a Permute layer.
layer Transpose(layer parent, const std::string& name = "");

// merges: all inputs have the same shape (Concat: all but `axis`, which excludes the batch)
layer Add(const vlayer& layers, const std::string& name = "");
layer Subtract(const vlayer& layers, const std::string& name = "");  ///< exactly two: a - b
layer Multiply(const vlayer& layers, const std::string& name = "");  ///< element-wise product
layer Mult(layer a, layer b, const std::string& name = "");          ///< EDDL's operator form
layer Average(const vlayer& layers, const std::string& name = "");
layer Maximum(const vlayer& layers, const std::string& name = "");
layer Minimum(const vlayer& layers, const std::string& name = "");
layer Concat(const vlayer& layers, int axis = 0, const std::string& name = "");

// initializers wrap a layer and return it; seed -1 derives the seed from the network's
layer GlorotUniform(layer l, int seed = -1);  ///< the default for Dense
layer GlorotNormal(layer l, int seed = -1);
layer HeUniform(layer l, int seed = -1);
layer HeNormal(layer l, int seed = -1);
layer RandomNormal(layer l, float m = 0.0f, float s = 0.1f, int seed = -1);
layer RandomUniform(layer l, float min = 0.0f, float max = 0.1f, int seed = -1);
layer Constant(layer l, float v = 0.1f);
layer Orthogonal(layer l, float gain = 1.0f, int seed = -1);

// regularizers wrap a layer: its weights' gradient gets d/dw of l1*|w|_1 + l2*|w|_2^2
layer L1(layer l, float l1);
layer L2(layer l, float l2);
layer L1L2(layer l, float l1, float l2);

// ============================== models ========================================================

/// A network from its input and output layers. Throws if an output depends on an Input that
/// is not listed, or if a listed input is not an Input layer.
model Model(const vlayer& in, const vlayer& out);

/// Prepares `net` to run: one loss per output (names: mse, mae, categorical_cross_entropy/cce,
/// binary_cross_entropy/bce, soft_cross_entropy/sce), one metric per output (categorical_accuracy
/// /accuracy, binary_accuracy, mse, mae), the computing service (CS_CPU() when null), and weight
/// initialization unless init_weights is false (keeps loaded weights). Layers whose weights were
/// imported (ONNX; Layer::keep_params) are never re-initialized, so a new head added to an
/// imported backbone is initialized while the backbone keeps its weights.
/// soft_cross_entropy on a Softmax output is fused with it: the gradient (y - t)/batch goes to
/// the logits, computed stably; on any other output, that output is taken as logits.
void build(model net, optimizer o, const std::vector<std::string>& losses, const std::vector<std::string>& metrics,
           compserv cs = nullptr, bool init_weights = true);
void build(model net, optimizer o = nullptr, compserv cs = nullptr, bool init_weights = true);

/// Seed of every random draw of `net` (initialization, shuffling, dropout); default 1234.
/// Call before build. Same seed, machine and thread count give bit-identical training.
void set_seed(model net, uint64_t seed);

// ---- computing services ----
/// CPU with `th` threads (-1: all cores). mem: "full_mem", "mid_mem" or "low_mem".
compserv CS_CPU(int th = -1, const std::string& mem = "full_mem");
/// GPUs by mask ({1} = GPU0). Throws in a build without CUDA: it never falls back to the CPU.
compserv CS_GPU(const std::vector<int>& g, const std::string& mem = "full_mem");
compserv CS_GPU(const std::vector<int>& g, int lsb, const std::string& mem = "full_mem");
/// A computing service from a YAML file, e.g.
///   device: cpu        # or gpu
///   threads: 4         # cpu only; -1 = all cores
///   gpus: [1]          # gpu only, EDDL mask
///   lsb: 1
///   mem: full_mem
/// Unknown keys, bad values and asking for hardware the build lacks throw, naming file and line.
compserv CS_from_file(const std::string& path);

// ---- optimizers (PyTorch's update formulas) ----
optimizer sgd(float lr = 0.01f, float momentum = 0.0f, float weight_decay = 0.0f, bool nesterov = false);
optimizer adam(float lr = 0.01f, float beta_1 = 0.9f, float beta_2 = 0.999f, float epsilon = 1e-6f,
               float weight_decay = 0.0f, bool amsgrad = false);
optimizer adamw(float lr = 0.001f, float beta_1 = 0.9f, float beta_2 = 0.999f, float epsilon = 1e-8f,
                float weight_decay = 0.01f, bool amsgrad = false);  ///< decoupled weight decay
optimizer rmsprop(float lr = 0.01f, float rho = 0.9f, float epsilon = 1e-5f, float weight_decay = 0.0f);
optimizer adagrad(float lr = 0.01f, float epsilon = 1e-10f, float weight_decay = 0.0f);
optimizer adadelta(float lr = 1.0f, float rho = 0.9f, float epsilon = 1e-6f, float weight_decay = 0.0f);
optimizer adamax(float lr = 0.002f, float beta_1 = 0.9f, float beta_2 = 0.999f, float epsilon = 1e-8f,
                 float weight_decay = 0.0f);
optimizer nadam(float lr = 0.002f, float beta_1 = 0.9f, float beta_2 = 0.999f, float epsilon = 1e-8f,
                float schedule_decay = 0.004f);

// ---- learning-rate schedules: (epoch, current lr) -> new lr, for LearningRateScheduler ----
using Schedule = std::function<float(int epoch, float lr)>;
Schedule StepDecay(float initial_lr, float drop, int every_epochs);    ///< lr0 * drop^floor(e/every)
Schedule ExponentialDecay(float initial_lr, float gamma);             ///< lr0 * gamma^e
Schedule CosineDecay(float initial_lr, int total_epochs, float min_lr = 0.0f);

// ---- callbacks for fit ----
/// Stops when `monitor` ("val_loss", "loss", "val_categorical_accuracy"...) has not improved by
/// min_delta for `patience` epochs; mode "auto" minimizes losses and maximizes accuracies.
callback EarlyStopping(const std::string& monitor = "val_loss", int patience = 0, float min_delta = 0.0f,
                       const std::string& mode = "auto", bool restore_best_weights = false);
/// Writes a whole-model checkpoint (see save_checkpoint) after each epoch, or only when
/// `monitor` improves with save_best_only. "{epoch}" in the path is replaced by the epoch.
callback ModelCheckpoint(const std::string& path, const std::string& monitor = "val_loss", bool save_best_only = false);
callback LearningRateScheduler(Schedule schedule, bool verbose = false);
callback ReduceLROnPlateau(const std::string& monitor = "val_loss", float factor = 0.1f, int patience = 10,
                           float min_delta = 1e-4f, float min_lr = 0.0f);
callback CSVLogger(const std::string& path, bool append = false);  ///< one row per epoch
callback TerminateOnNaN();

// ---- training and inference ----

/// Training batches that do not sit in memory as whole tensors: ECVL's DLDataset loads, augments
/// and converts images on worker threads behind this interface. Per epoch, fit() calls
/// start_epoch once, then next_batch until it returns false, then end_epoch (also when training
/// leaves the epoch early: a callback stops it, or an exception), so the source can stop its
/// workers.
class BatchSource {
public:
    virtual ~BatchSource() = default;
    virtual int num_batches() const = 0;                  ///< batches in one epoch (for the progress bar)
    virtual void start_epoch(int64_t epoch) = 0;          ///< epochs counted from 0, as net->epochs_done
    virtual bool next_batch(vtensor& x, vtensor& y) = 0;  ///< one tensor per network input / output
    virtual void end_epoch() {}
};

struct FitOptions {
    vtensor validation_x, validation_y;  ///< evaluated after each epoch into val_* logs
    BatchSource* validation_source = nullptr;  ///< or validation batches from a source (used when validation_x is empty)
    std::vector<callback> callbacks;
    bool shuffle = true;                 ///< reshuffle every epoch (seeded by net seed and epoch)
    int verbose = 1;                     ///< 0 silent, 1 one progress line per epoch
};
/// Trains `epochs` more epochs with mini-batches of `batch_size` (the last may be smaller).
/// Epochs are numbered from net->epochs_done, so a resumed checkpoint continues its sequence.
void fit(model net, const vtensor& in, const vtensor& out, int batch_size, int epochs, const FitOptions& opts = {});
/// Trains `epochs` more epochs on the batches of `train` (shuffling, if any, is the source's).
void fit(model net, BatchSource& train, int epochs, const FitOptions& opts = {});
/// Loss and metrics over a dataset (inference mode); prints them unless verbose is 0.
Logs evaluate(model net, const vtensor& in, const vtensor& out, int bs = -1, int verbose = 1);
/// The same over one epoch of a source's batches.
Logs evaluate(model net, BatchSource& source, int verbose = 1);
/// Outputs for a dataset, one tensor per network output.
vtensor predict(model net, const vtensor& in, int bs = -1);

// fine-grained API
std::vector<int> random_indices(int batch_size, int num_samples, uint64_t seed = 1234);
/// One optimization step on rows `indices` of in/out (all rows when indices is empty).
void train_batch(model net, const vtensor& in, const vtensor& out, const std::vector<int>& indices = {});
/// Adds rows `indices` (all when empty) to the running loss/metrics in inference mode.
void eval_batch(model net, const vtensor& in, const vtensor& out, const std::vector<int>& indices = {});
/// Fills each dst[i] with the same random rows of src[i] (a random mini-batch).
void next_batch(const vtensor& src, const vtensor& dst);
void forward(model net, const vtensor& in);
void backward(model net, const vtensor& targets);  ///< loss deltas then layer gradients
void update(model net);                            ///< one optimizer step with current gradients
void zeroGrads(model net);
void reset_loss(model net);
/// TRMODE or TSMODE. Also tells the network that weights may have changed: call it after writing
/// into a weight tensor's memory yourself (inference keeps converted copies of weights).
void set_mode(model net, int mode);
void print_loss(model net, int batch);
std::vector<float> get_losses(model net);   ///< running mean loss per output
std::vector<float> get_metrics(model net);  ///< running mean metric per output
void setlr(model net, const std::vector<float>& p);  ///< p[0] = new learning rate

// ---- inspection ----
std::string summary(model net);  ///< printed too: layer, output shape, parameters
layer getLayer(model net, const std::string& name);
tensor getOutput(layer l);       ///< a copy of the layer's last output
vlayer getOut(model net);        ///< the output layers
vtensor getParams(layer l);      ///< the layer's parameter tensors (shared, not copies)
vtensor getGradients(layer l);
void setParams(layer l, const vtensor& params);  ///< copies values; shapes must match
void setTrainable(model net, const std::string& layer_name, bool trainable);

// ---- files (all written atomically: a crash mid-save keeps the previous file) ----
/// Weights only, EDDL layout: for each parameter, int32 ndim, int32 shape[ndim], float32 data.
void save(model net, const std::string& path, const std::string& format = "bin");
void load(model net, const std::string& path, const std::string& format = "bin");
/// Whole model: graph, weights, optimizer and its state, losses, metrics, seed, epoch count.
void save_checkpoint(model net, const std::string& path);
/// Rebuilds and builds the saved network (on `cs`, CS_CPU() when null), ready to resume fit.
model load_checkpoint(const std::string& path, compserv cs = nullptr);

}  // namespace eddl
