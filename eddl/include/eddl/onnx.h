// ONNX import and export: networks, weights and gradients as ONNX protobufs (opset 17).
//
//   save_net_to_onnx_file(net, "net.onnx");              // runs in ONNX Runtime, PyTorch, ...
//   model net2 = import_net_from_onnx_file("net.onnx");  // weights come with it
//   build(net2, sgd(0.01f), {"soft_cross_entropy"}, {"categorical_accuracy"});  // keeps them
//
// Export writes standard ONNX operators only, with the batch as a symbolic first dimension
// ("batch") and every weight (and BatchNormalization's running statistics) as an initializer.
// Import accepts what our export writes and the plumbing other exporters add (Constant, Shape ->
// Gather -> Unsqueeze -> Concat -> Reshape chains, Identity, Cast, ...), folded at import time.
// docs/onnx.md lists the operators and attributes, and their conformance results.
//
// Every problem is an eddl::Error: a file that is not ONNX, truncated, cyclic, missing an
// initializer, with mismatched shapes; a graph with unsupported operators or attributes lists
// every such node by name and type. Nothing is ever returned half-imported.
#pragma once
#include <cstddef>
#include <string>

#include "eddl/net.h"
#include "eddl/tensor.h"

namespace eddl {

/// Writes `net` as an ONNX model (opset 17), atomically (a temporary file renamed into place).
/// gradients=true stores each parameter's current gradient in place of its value (for
/// apply_grads_from_onnx on another worker). A layer without a standard ONNX equivalent
/// throws, naming the layer and its type.
void save_net_to_onnx_file(model net, const std::string& path, bool gradients = false);
/// The same model as serialized protobuf bytes.
std::string serialize_net_to_onnx_string(model net, bool gradients = false);
/// The same bytes in a buffer allocated with new char[size] (the original EDDL's interface):
/// the caller owns it and frees it with `delete[] static_cast<char*>(buffer)`.
void serialize_net_to_onnx_pointer(model net, void*& buffer, size_t& size, bool gradients = false);

/// How an imported model's first dimension is read.
enum class OnnxBatch {
    /// The first dimension of every tensor is the batch (models from PyTorch, Keras, our export):
    /// layers see the other dimensions, and operators acting across the first one are unsupported.
    first_dim,
    /// The model has no batch dimension: every ONNX tensor is one whole sample, and our batch is
    /// a new dimension in front (feed [n, d0, d1, ...]; the n copies run independently). For
    /// fixed-shape graphs that transpose, concatenate or reduce across their first dimension.
    /// Operators of the N-C-spatial kind (Conv, pooling, normalizations, Pad, Resize) then need N = 1.
    none,
};

/// Rebuilds a network from an ONNX file. With OnnxBatch::first_dim (the default) the first
/// dimension of each graph input is the batch and input_shape (batch excluded, e.g. {3, 64, 64})
/// replaces the shape of the model's single input, for fully convolutional networks or inputs
/// with symbolic dimensions; with OnnxBatch::none input_shape is the whole shape. The returned
/// model is not built; its layers keep the imported weights through build() (see Layer::keep_params).
model import_net_from_onnx_file(const std::string& path, const Shape& input_shape = {},
                                OnnxBatch batch = OnnxBatch::first_dim);
/// The same from serialized protobuf bytes.
model import_net_from_onnx_string(const std::string& data, const Shape& input_shape = {},
                                  OnnxBatch batch = OnnxBatch::first_dim);
/// The same from `size` bytes at `buffer` (read in place, not kept: the caller may free it on return).
model import_net_from_onnx_pointer(const void* buffer, size_t size, const Shape& input_shape = {},
                                   OnnxBatch batch = OnnxBatch::first_dim);

/// Copies the weights (and BatchNormalization statistics) of an ONNX model written by
/// serialize_net_to_onnx_string into `net`, matched by layer name; shapes must agree. All
/// tensors are checked before any is written.
void set_weights_from_onnx(model net, const std::string& data);
/// Takes the gradients of a model written by serialize_net_to_onnx_string(..., gradients=true)
/// as `net`'s gradients (matched by layer name) and applies one optimizer step with them, as
/// update() does. `net` must be built with an optimizer.
void apply_grads_from_onnx(model net, const std::string& data);
/// Buffer forms of the two above (`size` bytes at `buffer`, e.g. from serialize_net_to_onnx_pointer).
void set_weights_from_onnx(model net, const void* buffer, size_t size);
void apply_grads_from_onnx(model net, const void* buffer, size_t size);

}  // namespace eddl
