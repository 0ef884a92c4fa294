// Model zoo: parameter counts equal torchvision's, shapes flow, heads can be replaced.
#include <gtest/gtest.h>

#include "eddl/eddl.h"
#include "expect_error.h"

using namespace eddl;

namespace {
int64_t count(model net) {
    int64_t n = 0;
    for (const auto& l : net->layers) n += l->num_params();
    return n;
}
}  // namespace

TEST(Zoo, ParameterCountsMatchTorchvision) {
    // torchvision.models.*(num_classes=1000): sum(p.numel() for p in m.parameters())
    EXPECT_EQ(count(ResNet18()), 11689512);
    EXPECT_EQ(count(ResNet34()), 21797672);
    EXPECT_EQ(count(ResNet50()), 25557032);
    EXPECT_EQ(count(ResNet101()), 44549160);
    EXPECT_EQ(count(VGG16()), 138357544);
    EXPECT_EQ(count(VGG16({3, 224, 224}, 1000, true)), 138365992);
    EXPECT_EQ(count(LeNet()), 61706);  // the same layers in PyTorch: 156 + 2416 + 48120 + 10164 + 850
}

TEST(Zoo, ForwardShapesAndSummary) {
    model net = ResNet18({3, 64, 64}, 7);
    build(net, sgd(0.01f, 0.9f), {"soft_cross_entropy"}, {"accuracy"}, CS_CPU(2));
    auto out = predict(net, {Tensor::randn({2, 3, 64, 64}, 1)});
    EXPECT_EQ(out[0]->shape, (Shape{2, 7}));
    EXPECT_NEAR(out[0]->sum(), 2.0f, 1e-4f);
    EXPECT_EQ(getLayer(net, "top")->out_shape, (Shape{512}));
    const std::string s = net->summary();
    EXPECT_NE(s.find("classifier (Dense)"), std::string::npos);
    model r50 = ResNet50({3, 64, 64}, 5);
    EXPECT_EQ(r50->get_layer("top")->out_shape, (Shape{2048}));
}

TEST(Zoo, ReplaceHeadAndFreezeBackbone) {
    model net = LeNet({1, 28, 28}, 10);
    build(net, sgd(0.05f, 0.9f), {"soft_cross_entropy"}, {"accuracy"}, CS_CPU(2));
    removeLayer(net, "softmax");
    removeLayer(net, "classifier");
    ASSERT_EQ(getOut(net).size(), 1u);
    EXPECT_EQ(getOut(net)[0]->out_shape, (Shape{84}));
    expect_error([&] { removeLayer(net, "top"); }, "feeds");
    // a new 3-class head on the 84-unit features; the backbone frozen
    layer head = Softmax(Dense(getOut(net)[0], 3, true, "new_head"));
    model tl = Model({getLayer(net, "input")}, {head});
    build(tl, sgd(0.05f, 0.9f), {"soft_cross_entropy"}, {"accuracy"}, CS_CPU(2), false);
    for (const auto& l : tl->layers)
        if (l->name != "new_head") setTrainable(tl, l->name, false);
    const auto conv_before = getParams(tl->layers[1])[0]->to_std();
    auto x = Tensor::randn({32, 1, 28, 28}, 2);
    auto labels = Tensor::zeros({32});
    for (int i = 0; i < 32; ++i) labels->ptr[i] = float(i % 3);
    auto y = Tensor::onehot(*labels, 3);
    fit(tl, {x}, {y}, 8, 1, FitOptions{.verbose = 0});
    EXPECT_EQ(getParams(tl->layers[1])[0]->to_std(), conv_before);
    EXPECT_EQ(getLayer(tl, "new_head")->out_shape, (Shape{3}));
}

TEST(Zoo, UNetCountsShapesAndLearning) {
    // The same architecture in PyTorch (DoubleConv without bias + BatchNorm2d, ConvTranspose2d(2, 2),
    // 1x1 Conv2d head) has these counts; (3 channels, 2 classes) is the common 31,037,698.
    EXPECT_EQ(count(UNet({3, 64, 64}, 2, 4, 64)), 31037698);
    EXPECT_EQ(count(UNet({1, 64, 64}, 1, 4, 64)), 31036481);
    EXPECT_EQ(count(UNet({1, 32, 32}, 1, 3, 16)), 482449);
    expect_error([] { UNet({1, 30, 30}, 1, 3, 16); }, "divisible by 2^depth");

    // a bright square on noise; the mask is the square
    const int n = 32;
    auto x = Tensor::randn({n, 1, 16, 16}, 1);
    x->mult_(0.3f);
    auto y = Tensor::zeros({n, 1, 16, 16});
    for (int i = 0; i < n; ++i) {
        const int oy = 2 + (i * 5) % 8, ox = 2 + (i * 3) % 8;
        for (int a = 0; a < 6; ++a)
            for (int b = 0; b < 6; ++b) {
                x->set({i, 0, oy + a, ox + b}, x->get({i, 0, oy + a, ox + b}) + 1.0f);
                y->set({i, 0, oy + a, ox + b}, 1.0f);
            }
    }
    model net = UNet({1, 16, 16}, 1, 2, 8);
    build(net, adam(0.01f), {"dice"}, {"dice"}, CS_CPU(2));
    EXPECT_EQ(net->outputs[0]->out_shape, (Shape{1, 16, 16}));
    fit(net, {x}, {y}, 8, 15, FitOptions{.verbose = 0});
    EXPECT_GT(evaluate(net, {x}, {y}, 8, 0).at("dice"), 0.9);
}

TEST(Zoo, SegNetCountsAndShapes) {
    // the same layers in PyTorch (Conv2d(3x3, bias=False) + BatchNorm2d + ReLU, MaxPool2d(2),
    // Upsample(scale_factor=2), a 3x3 Conv2d head) have these counts
    EXPECT_EQ(count(SegNet({3, 224, 224}, 2)), 29436226);
    EXPECT_EQ(count(SegNet({1, 64, 64}, 1)), 29434497);
    EXPECT_EQ(count(SegNet({3, 32, 32}, 12)), 29441996);
    expect_error([] { SegNet({3, 100, 100}, 2); }, "divisible by 32");
    model net = SegNet({3, 64, 96}, 5);
    EXPECT_EQ(net->outputs[0]->out_shape, (Shape{5, 64, 96}));
    build(net, sgd(0.01f), {"mse"}, {}, CS_CPU(2));
    auto y = predict(net, {Tensor::randn({1, 3, 64, 96}, 1)});
    EXPECT_EQ(y[0]->shape, (Shape{1, 5, 64, 96}));
}

// The reference networks train with every batch normalization, pooling, transposed convolution
// and skip Concat on blocked activations, so on oneDNN's blocked kernels (only the input, the
// outputs and the classifier's single channel stay NCHW).
TEST(Zoo, ReferenceNetsTrainOnBlockedKernels) {
    auto check = [](model net, const tensor& x, const tensor& y) {
        train_batch(net, {x}, {y});
        size_t checked = 0;
        for (const auto& l : net->layers) {
            const std::string t = l->type();
            const bool kernel = t == "BatchNormalization" || t.find("Pool") != std::string::npos ||
                                t == "ConvT2D" || t == "Concat";
            if (!kernel) continue;
            ++checked;
            EXPECT_TRUE(l->parents[0]->blocked) << net->name << ": " << l->name << " (" << t << ") read NCHW";
        }
        EXPECT_GT(checked, 10u);
        net->blocked_training = false;  // and the switch works
        train_batch(net, {x}, {y});
        for (const auto& l : net->layers) EXPECT_FALSE(l->blocked) << l->name;
    };
    model resnet = ResNet18({3, 64, 64}, 7);
    build(resnet, sgd(0.01f, 0.9f), {"soft_cross_entropy"}, {}, CS_CPU(2));
    auto y = Tensor::zeros({2, 7});
    y->set({0, 1}, 1.0f);
    y->set({1, 4}, 1.0f);
    check(resnet, Tensor::randn({2, 3, 64, 64}, 1), y);
    model unet = UNet({1, 32, 32}, 1, 3, 16);
    build(unet, sgd(0.01f, 0.9f), {"dice"}, {}, CS_CPU(2));
    check(unet, Tensor::randn({2, 1, 32, 32}, 2), Tensor::randu({2, 1, 32, 32}, 3));
}
