// Transfer learning from PyTorch through ONNX (issue 6, item 5): imports a CNN that
// make_pytorch_cnn.py exported with torch.onnx.export, replaces its 5-class head with a new
// Dense + Softmax for the 10 Fashion-MNIST classes, freezes the imported backbone (its
// parameters and its BatchNormalization statistics), fine-tunes the head, reports the test
// accuracy and exports the result as ONNX (for ONNX Runtime: onnx_compare_ort.py).
//
//   python3 make_pytorch_cnn.py cnn.onnx
//   onnx_finetune cnn.onnx [--epochs 2] [--limit N] [--threads N] [--min-accuracy A]
//                 [--out finetuned.onnx] [--npy DIR]
//   python3 onnx_compare_ort.py finetuned.onnx DIR/x.npy DIR/y.npy
//
// --limit N trains on the first N training images only; --npy DIR writes 256 test images
// (DIR/x.npy, [256, 1, 28, 28]) and our predictions for them (DIR/y.npy) for the comparison.
#include <eddl/eddl.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <random>
#include <set>

#include "fashion_mnist.h"

using namespace eddl;

namespace {

struct Options {
    std::string model, out = "onnx_finetune.onnx", npy;
    int epochs = 2, limit = 0, threads = -1;
    float min_accuracy = 0;
};

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a.rfind("--", 0) != 0) {
            EDDL_CHECK(o.model.empty(), "onnx_finetune: more than one model path (" << o.model << ", " << a << ")");
            o.model = a;
            continue;
        }
        EDDL_CHECK(i + 1 < argc, "onnx_finetune: option " << a << " needs a value");
        const std::string v = argv[++i];
        if (a == "--epochs") o.epochs = std::stoi(v);
        else if (a == "--limit") o.limit = std::stoi(v);
        else if (a == "--threads") o.threads = std::stoi(v);
        else if (a == "--min-accuracy") o.min_accuracy = std::stof(v);
        else if (a == "--out") o.out = v;
        else if (a == "--npy") o.npy = v;
        else EDDL_CHECK(false, "onnx_finetune: unknown option " << a);
    }
    EDDL_CHECK(!o.model.empty(), "usage: onnx_finetune MODEL.onnx [--epochs N] [--limit N] [--threads N] "
                                 "[--min-accuracy A] [--out OUT.onnx] [--npy DIR]");
    return o;
}

}  // namespace

int main(int argc, char** argv) try {
    const Options opt = parse(argc, argv);

    // 1. import: the PyTorch network, weights and BatchNorm statistics included
    model backbone = import_net_from_onnx_file(opt.model);
    EDDL_CHECK(backbone->outputs.size() == 1, "onnx_finetune: expected one output, the model has " << backbone->outputs.size());
    const layer old_head = backbone->outputs[0];
    std::cout << "imported " << opt.model << ": " << backbone->layers.size() << " layers, head '" << old_head->name
              << "' (" << old_head->type() << ", " << shape_str(old_head->out_shape) << ")\n";

    // 2. replace the head: drop the last layer, put a 10-class Dense + Softmax on what fed it
    removeLayer(backbone, old_head->name);
    std::set<std::string> imported;
    for (const auto& l : backbone->layers) imported.insert(l->name);
    layer features = backbone->outputs[0];
    layer out = Softmax(Dense(features, 10, true, "head"), -1, "probs");
    model net = Model(backbone->inputs, {out});
    build(net, adam(0.001f), {"soft_cross_entropy"}, {"categorical_accuracy"}, CS_CPU(opt.threads));

    // 3. freeze the backbone: no parameter updates, and BatchNormalization kept in inference
    //    mode below so its running statistics stay PyTorch's
    for (const auto& name : imported) setTrainable(net, name, false);
    summary(net);

    tensor x_tr, y_tr, x_ts, y_ts;
    example::load_fashion_mnist("train", x_tr, y_tr);
    example::load_fashion_mnist("test", x_ts, y_ts);
    x_tr->div_(255.0f);
    x_ts->div_(255.0f);
    x_tr->reshape_({x_tr->shape[0], 1, 28, 28});
    x_ts->reshape_({x_ts->shape[0], 1, 28, 28});
    const int n = opt.limit > 0 ? std::min(opt.limit, x_tr->shape[0]) : x_tr->shape[0];

    const double before = evaluate(net, {x_ts}, {y_ts}, 256, 0).at("categorical_accuracy");
    std::cout << "test accuracy with the new (untrained) head: " << before << "\n";

    // 4. fine-tune the head (the loop of train_batch, with the frozen layers in TSMODE)
    const int bs = 64;
    tensor xb = Tensor::zeros({bs, 1, 28, 28}), yb = Tensor::zeros({bs, 10});
    std::vector<int> order(size_t(n), 0);
    std::iota(order.begin(), order.end(), 0);
    std::mt19937 rng(1234);
    for (int epoch = 0; epoch < opt.epochs; ++epoch) {
        std::shuffle(order.begin(), order.end(), rng);
        net->reset_loss();  // get_losses / get_metrics: running means over this epoch
        int batches = 0;
        for (int b = 0; b + bs <= n; b += bs) {
            const std::vector<int> idx(order.begin() + b, order.begin() + b + bs);
            Tensor::select_rows(*x_tr, idx, *xb);
            Tensor::select_rows(*y_tr, idx, *yb);
            net->set_mode(TRMODE);
            for (const auto& l : net->layers)
                if (imported.count(l->name)) l->mode = TSMODE;
            zeroGrads(net);
            forward(net, {xb});
            backward(net, {yb});
            update(net);
            ++batches;
        }
        std::cout << "epoch " << epoch + 1 << "/" << opt.epochs << ": loss " << get_losses(net)[0]
                  << ", accuracy " << get_metrics(net)[0] << " (" << batches << " batches of " << bs << ")\n";
    }
    const double accuracy = evaluate(net, {x_ts}, {y_ts}, 256, 0).at("categorical_accuracy");

    // 5. export for ONNX Runtime (and our outputs to compare with)
    save_net_to_onnx_file(net, opt.out);
    std::cout << "wrote " << opt.out << "\n";
    if (!opt.npy.empty()) {
        std::filesystem::create_directories(opt.npy);
        tensor x = x_ts->select({"0:256"});
        x->save(opt.npy + "/x.npy");
        predict(net, {x})[0]->save(opt.npy + "/y.npy");
        std::cout << "wrote " << opt.npy << "/x.npy and y.npy (256 test images, our predictions)\n";
    }
    return example::report_score("accuracy", accuracy, opt.min_accuracy);
} catch (const std::exception& e) {
    std::cerr << "onnx_finetune: " << e.what() << "\n";
    return 2;
}
