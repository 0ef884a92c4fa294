// Model zoo: the classic architectures as C++ builders (no downloads, weights initialized by
// build()). Parameter counts equal PyTorch/torchvision's for the same input and classes.
#pragma once
#include "eddl/layer.h"
#include "eddl/net.h"

namespace eddl {

/// LeNet-5 style: Conv(6, 5x5, same)-ReLU-MaxPool-Conv(16, 5x5)-ReLU-MaxPool-Dense(120)-Dense(84)-Dense(classes).
model LeNet(const Shape& input_shape = {1, 28, 28}, int num_classes = 10);
/// VGG-16 (13 convolutions 3x3 with bias, 5 max pools, 4096-4096-classes head with Dropout 0.5);
/// batch_norm adds BatchNormalization after every convolution (VGG16-BN).
model VGG16(const Shape& input_shape = {3, 224, 224}, int num_classes = 1000, bool batch_norm = false);
/// ResNet v1.5 (torchvision): 7x7/2 stem, 3x3/2 max pool, basic blocks (18, 34) or bottleneck
/// blocks (50, 101) with the stride on the 3x3, global average pool, Dense(classes). Convolutions
/// have no bias; each is followed by BatchNormalization.
model ResNet18(const Shape& input_shape = {3, 224, 224}, int num_classes = 1000);
model ResNet34(const Shape& input_shape = {3, 224, 224}, int num_classes = 1000);
model ResNet50(const Shape& input_shape = {3, 224, 224}, int num_classes = 1000);
model ResNet101(const Shape& input_shape = {3, 224, 224}, int num_classes = 1000);

/// U-Net (Ronneberger et al.): `depth` levels of two 3x3 Conv2D(no bias)-BatchNormalization-ReLu
/// blocks with 2x2 max pooling, ConvT2D(2x2, stride 2) upsampling, skip connections by Concat, and a
/// 1x1 Conv2D head: Sigmoid output for one class, logits {classes, H, W} otherwise. Filters double
/// per level from base_filters. H and W must be divisible by 2^depth.
model UNet(const Shape& input_shape = {1, 128, 128}, int num_classes = 1, int depth = 4, int base_filters = 64);

/// SegNet (Badrinarayanan et al.) as EDDL's examples build it: the VGG-16 encoder (13 Conv2D(3x3,
/// no bias)-BatchNormalization-ReLu, 5 max pools) and a mirrored decoder with UpSampling2D(2)
/// in place of max-unpooling, then a 3x3 Conv2D head: Sigmoid for one class, logits otherwise.
/// H and W must be divisible by 32.
model SegNet(const Shape& input_shape = {3, 224, 224}, int num_classes = 2);

/// Removes output layer `name` (for a new head): its parents become the model's outputs. The
/// model must be built again. Throws if other layers consume it.
void removeLayer(model net, const std::string& name);

}  // namespace eddl
