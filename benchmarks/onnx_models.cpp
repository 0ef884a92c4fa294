// ONNX round trips with the Python peers (driven by benchmarks/onnx_roundtrip.py):
//   onnx_models export DIR        writes DIR/<name>.onnx, <name>_x.npy and <name>_y.npy (our outputs)
//                                 for an MLP, a small CNN, ResNet-18, a U-Net and "layers" (flips, cutout,
//                                 Dense on the last axis, LayerNormalization, grouped convolution) with
//                                 fixed weights (a few training steps: BatchNormalization statistics are not trivial)
//   onnx_models run MODEL X Y [OUT]  imports MODEL, runs it on the .npy X and writes the output to Y
//                                 (and, with OUT, our export of the imported network)
#include <cstdio>
#include <iostream>

#include "eddl/eddl.h"

using namespace eddl;

namespace {

model mlp() {
    layer in = Input({64}, "x");
    layer l = ReLu(Dense(in, 128));
    l = Dropout(l, 0.2f);
    l = Sigmoid(Dense(l, 64));
    return Model({in}, {Softmax(Dense(l, 10))});
}

model cnn() {
    layer in = Input({3, 32, 32}, "x");
    layer l = ReLu(BatchNormalization(Conv2D(in, 16, {3, 3}), 0.9f, 1e-5f));
    l = MaxPool2D(l, {2, 2}, {2, 2});
    l = LeakyReLu(Conv2D(l, 32, {3, 3}, {2, 2}, "same", true, 2));
    l = AveragePool2D(l, {2, 2}, {2, 2});
    l = Flatten(l);
    return Model({in}, {Softmax(Dense(l, 10))});
}

// the layers whose export is not one operator each (Flip: a reversing Slice; Cutout: Mul + Add;
// Rotate/Shift/Scale: Gathers of their bilinear taps; Dense on a 3-D sample: MatMul + Add)
model layers() {
    layer in = Input({4, 16, 16}, "x");
    layer l = Cutout(VerticalFlip(in), {2, 3}, {6, 9}, 0.25f);
    l = Shift(Rotate(l, 20.0f, {1, 0}, "reflect"), {1, -2}, "constant", 0.1f);
    l = Scale(Scale(l, {20, 12}, true, "nearest"), {16, 16}, true, "original");
    l = HorizontalFlip(ReLu(Conv2D(l, 8, {3, 3}, {1, 1}, "same", true, 2)));
    l = LayerNormalization(Dense(MaxPool2D(l, {2, 2}, {2, 2}), 5));
    return Model({in}, {Softmax(Dense(Flatten(l), 10))});
}

void train_a_little(model net, const Shape& xs, const Shape& ys) {
    set_seed(net, 42);
    build(net, sgd(0.01f, 0.9f), {"mse"}, {}, CS_CPU());
    Shape xb{8}, yb{8};
    xb.insert(xb.end(), xs.begin(), xs.end());
    yb.insert(yb.end(), ys.begin(), ys.end());
    auto x = Tensor::randn(xb, 1), y = Tensor::randu(yb, 2);
    for (int s = 0; s < 3; ++s) train_batch(net, {x}, {y});
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::string mode = argc > 1 ? argv[1] : "";
        if (mode == "export" && argc == 3) {
            const std::string dir = argv[2];
            struct M {
                std::string name;
                model net;
                Shape in, out;
            };
            std::vector<M> ms = {{"mlp", mlp(), {64}, {10}},
                                 {"cnn", cnn(), {3, 32, 32}, {10}},
                                 {"resnet18", ResNet18({3, 64, 64}, 10), {3, 64, 64}, {10}},
                                 {"unet", UNet({1, 64, 64}, 1, 3, 8), {1, 64, 64}, {1, 64, 64}},
                                 {"layers", layers(), {4, 16, 16}, {10}}};
            for (auto& m : ms) {
                train_a_little(m.net, m.in, m.out);
                Shape xs{4};
                xs.insert(xs.end(), m.in.begin(), m.in.end());
                auto x = Tensor::randn(xs, 7);
                auto y = predict(m.net, {x})[0];
                save_net_to_onnx_file(m.net, dir + "/" + m.name + ".onnx");
                x->save(dir + "/" + m.name + "_x.npy");
                y->save(dir + "/" + m.name + "_y.npy");
                std::cout << "wrote " << m.name << "\n";
            }
            return 0;
        }
        if (mode == "run" && (argc == 5 || argc == 6)) {
            model net = import_net_from_onnx_file(argv[2]);
            build(net);
            auto x = Tensor::load(argv[3]);
            predict(net, {x})[0]->save(argv[4]);
            if (argc == 6) save_net_to_onnx_file(net, argv[5]);  // our export of the imported network
            return 0;
        }
        std::cerr << "usage: onnx_models export DIR | onnx_models run MODEL.onnx X.npy Y.npy [REEXPORT.onnx]\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
}
