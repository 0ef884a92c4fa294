// The model zoo, written with the public facade like any user model.
#include <algorithm>

#include "eddl/eddl.h"

namespace eddl {
namespace {

layer conv_bn(layer l, int filters, int k, int stride, int pad, bool relu) {
    l = BatchNormalization(Conv2D(l, filters, {k, k}, {stride, stride}, std::vector<int>{pad, pad}, false), 0.9f, 1e-5f);
    return relu ? ReLu(l) : l;
}

layer basic_block(layer in, int filters, int stride) {
    layer l = conv_bn(in, filters, 3, stride, 1, true);
    l = conv_bn(l, filters, 3, 1, 1, false);
    layer shortcut = in;
    if (stride != 1 || in->out_shape[0] != filters) shortcut = conv_bn(in, filters, 1, stride, 0, false);
    return ReLu(Add({l, shortcut}));
}

layer bottleneck(layer in, int width, int stride) {
    layer l = conv_bn(in, width, 1, 1, 0, true);
    l = conv_bn(l, width, 3, stride, 1, true);
    l = conv_bn(l, width * 4, 1, 1, 0, false);
    layer shortcut = in;
    if (stride != 1 || in->out_shape[0] != width * 4) shortcut = conv_bn(in, width * 4, 1, stride, 0, false);
    return ReLu(Add({l, shortcut}));
}

model resnet(const Shape& input, int classes, const std::vector<int>& blocks, bool bottle) {
    layer in = Input(input, "input");
    layer l = conv_bn(in, 64, 7, 2, 3, true);
    l = MaxPool2D(l, {3, 3}, {2, 2}, std::vector<int>{1, 1});
    for (int stage = 0; stage < 4; ++stage)
        for (int b = 0; b < blocks[stage]; ++b) {
            const int width = 64 << stage, stride = (b == 0 && stage > 0) ? 2 : 1;
            l = bottle ? bottleneck(l, width, stride) : basic_block(l, width, stride);
        }
    l = Flatten(GlobalAveragePool(l), "top");
    return Model({in}, {Softmax(Dense(l, classes, true, "classifier"), -1, "softmax")});
}

}  // namespace

model LeNet(const Shape& input, int classes) {
    layer in = Input(input, "input");
    layer l = MaxPool2D(ReLu(Conv2D(in, 6, {5, 5})), {2, 2}, {2, 2});
    l = MaxPool2D(ReLu(Conv2D(l, 16, {5, 5}, {1, 1}, "valid")), {2, 2}, {2, 2});
    l = ReLu(Dense(ReLu(Dense(Flatten(l, "top"), 120)), 84));
    return Model({in}, {Softmax(Dense(l, classes, true, "classifier"), -1, "softmax")});
}

model VGG16(const Shape& input, int classes, bool bn) {
    layer in = Input(input, "input");
    layer l = in;
    const int cfg[] = {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0};
    for (int c : cfg) {
        if (c == 0) {
            l = MaxPool2D(l, {2, 2}, {2, 2});
            continue;
        }
        l = Conv2D(l, c, {3, 3}, {1, 1}, std::vector<int>{1, 1});
        if (bn) l = BatchNormalization(l, 0.9f, 1e-5f);
        l = ReLu(l);
    }
    l = Flatten(l, "top");
    l = Dropout(ReLu(Dense(l, 4096)), 0.5f, false);
    l = Dropout(ReLu(Dense(l, 4096)), 0.5f, false);
    return Model({in}, {Softmax(Dense(l, classes, true, "classifier"), -1, "softmax")});
}

model UNet(const Shape& input, int classes, int depth, int base) {
    EDDL_CHECK(input.size() == 3, "UNet: input shape must be {channels, height, width}, got " << shape_str(input));
    EDDL_CHECK(depth >= 1 && base >= 1 && classes >= 1, "UNet: depth, base_filters and num_classes must be >= 1");
    EDDL_CHECK(input[1] % (1 << depth) == 0 && input[2] % (1 << depth) == 0,
               "UNet: height and width " << input[1] << "x" << input[2] << " must be divisible by 2^depth = " << (1 << depth));
    auto double_conv = [](layer l, int f) { return conv_bn(conv_bn(l, f, 3, 1, 1, true), f, 3, 1, 1, true); };
    layer in = Input(input, "input");
    layer l = in;
    vlayer skips;
    for (int i = 0; i < depth; ++i) {
        l = double_conv(l, base << i);
        skips.push_back(l);
        l = MaxPool2D(l, {2, 2}, {2, 2});
    }
    l = double_conv(l, base << depth);
    for (int i = depth - 1; i >= 0; --i) {
        l = ConvT2D(l, base << i, {2, 2}, {2, 2});
        l = double_conv(Concat({skips[i], l}, 0), base << i);
    }
    l = Conv2D(l, classes, {1, 1}, {1, 1}, "valid", true, 1, {1, 1}, "classifier");
    return Model({in}, {classes == 1 ? Sigmoid(l, "sigmoid") : l});
}

model SegNet(const Shape& input, int classes) {
    EDDL_CHECK(input.size() == 3, "SegNet: input shape must be {channels, height, width}, got " << shape_str(input));
    EDDL_CHECK(classes >= 1, "SegNet: num_classes must be >= 1");
    EDDL_CHECK(input[1] % 32 == 0 && input[2] % 32 == 0,
               "SegNet: height and width " << input[1] << "x" << input[2] << " must be divisible by 32");
    layer in = Input(input, "input");
    layer l = in;
    const std::vector<std::vector<int>> enc = {{64, 64}, {128, 128}, {256, 256, 256}, {512, 512, 512}, {512, 512, 512}};
    const std::vector<std::vector<int>> dec = {{512, 512, 512}, {512, 512, 256}, {256, 256, 128}, {128, 64}, {64}};
    for (const auto& stage : enc) {
        for (int f : stage) l = conv_bn(l, f, 3, 1, 1, true);
        l = MaxPool2D(l, {2, 2}, {2, 2});
    }
    for (const auto& stage : dec) {
        l = UpSampling2D(l, {2, 2});
        for (int f : stage) l = conv_bn(l, f, 3, 1, 1, true);
    }
    l = Conv2D(l, classes, {3, 3}, {1, 1}, std::vector<int>{1, 1}, true, 1, {1, 1}, "classifier");
    return Model({in}, {classes == 1 ? Sigmoid(l, "sigmoid") : l});
}

model ResNet18(const Shape& input, int classes) { return resnet(input, classes, {2, 2, 2, 2}, false); }
model ResNet34(const Shape& input, int classes) { return resnet(input, classes, {3, 4, 6, 3}, false); }
model ResNet50(const Shape& input, int classes) { return resnet(input, classes, {3, 4, 6, 3}, true); }
model ResNet101(const Shape& input, int classes) { return resnet(input, classes, {3, 4, 23, 3}, true); }

void removeLayer(model net, const std::string& name) {
    layer l = net->get_layer(name);
    for (const auto& other : net->layers)
        for (const auto& p : other->parents)
            EDDL_CHECK(p != l, "removeLayer: '" << name << "' feeds '" << other->name
                                                << "'; only layers at the end of the model can be removed");
    auto& outs = net->outputs;
    EDDL_CHECK(std::find(outs.begin(), outs.end(), l) != outs.end(), "removeLayer: '" << name << "' is not an output");
    EDDL_CHECK(!l->parents.empty(), "removeLayer: '" << name << "' is an input");
    outs.erase(std::find(outs.begin(), outs.end(), l));
    for (const auto& p : l->parents)
        if (std::find(outs.begin(), outs.end(), p) == outs.end()) outs.push_back(p);
    net->layers.erase(std::find(net->layers.begin(), net->layers.end(), l));
    net->built = false;
}

}  // namespace eddl
