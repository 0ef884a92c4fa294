// Numerical parity with PyTorch: the same small MLPs, weights and batch give the same outputs,
// losses and weights after three optimizer steps. Reference files come from
// scripts/make_pytorch_reference.py (run once with torch; CI only reads them).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <iostream>
#include <map>

#include "eddl/eddl.h"

using namespace eddl;

namespace {

const std::string kDir = std::string(EDDL_TEST_DATA_DIR) + "/pytorch/";

tensor ref(const std::string& c, const std::string& f) { return Tensor::load(kDir + c + "/" + f + ".npy"); }

optimizer make_opt(const std::string& o) {
    if (o == "sgd") return sgd(0.1f);
    if (o == "sgd_momentum") return sgd(0.05f, 0.9f, 0.01f);
    if (o == "sgd_nesterov") return sgd(0.05f, 0.9f, 0.0f, true);
    if (o == "adam") return adam(0.01f, 0.9f, 0.999f, 1e-8f, 0.01f);
    if (o == "adam_amsgrad") return adam(0.01f, 0.9f, 0.999f, 1e-8f, 0.0f, true);
    if (o == "adamw") return adamw(0.01f, 0.9f, 0.999f, 1e-8f, 0.1f);
    if (o == "rmsprop") return rmsprop(0.01f, 0.9f, 1e-5f);
    if (o == "adagrad") return adagrad(0.1f, 1e-10f);
    if (o == "adadelta") return adadelta(1.0f, 0.9f, 1e-6f);
    if (o == "adamax") return adamax(0.002f, 0.9f, 0.999f, 1e-8f);
    if (o == "nadam") return nadam(0.002f, 0.9f, 0.999f, 1e-8f, 0.004f);
    throw std::invalid_argument(o);
}

void expect_close(const Tensor& got, const Tensor& want, const std::string& what, float atol = 1e-5f,
                  float rtol = 1e-4f) {
    ASSERT_EQ(got.size, want.size) << what;
    for (int64_t i = 0; i < got.size; ++i)
        ASSERT_NEAR(got.ptr[i], want.ptr[i], atol + rtol * std::fabs(want.ptr[i])) << what << " element " << i;
}

// Three optimizer steps on the case's batch; each step's loss must equal PyTorch's.
void train_three_steps(model net, const tensor& x, const tensor& y, const std::string& c) {
    auto losses = ref(c, "losses");
    for (int step = 0; step < 3; ++step) {
        reset_loss(net);
        train_batch(net, {x}, {y});
        EXPECT_NEAR(get_losses(net)[0], losses->ptr[step], 1e-5f + 1e-5f * std::fabs(losses->ptr[step]))
            << "loss of step " << step;
    }
}

void run_case(const std::string& name, const std::string& act, const std::string& opt, const std::string& loss) {
    SCOPED_TRACE(name);
    layer in = Input({6});
    layer l = in;
    vlayer dense;
    for (int i = 0; i < 3; ++i) {
        dense.push_back(Dense(l, i < 2 ? 16 : 4));
        l = i < 2 ? Activation(dense.back(), act) : dense.back();
    }
    if (loss == "sce" || loss == "sce_clip") l = Softmax(l);
    if (loss == "bce") l = Sigmoid(l);
    model net = Model({in}, {l});
    optimizer o = make_opt(opt);
    if (loss == "sce_clip") o->set_clip_norm(0.5f);
    const std::string lname = loss == "sce_clip" ? "soft_cross_entropy" : loss;
    build(net, o, {lname == "sce" ? "soft_cross_entropy" : lname}, {}, CS_CPU(1));
    for (int i = 0; i < 3; ++i)
        setParams(dense[i], {ref(name, "w" + std::to_string(i)), ref(name, "b" + std::to_string(i))});
    auto x = ref(name, "x"), y = ref(name, "y");
    forward(net, {x});
    expect_close(*net->outputs[0]->output, *ref(name, "out0"), "first forward output");
    train_three_steps(net, x, y, name);
    for (int i = 0; i < 3; ++i) {
        expect_close(*getParams(dense[i])[0], *ref(name, "w" + std::to_string(i) + "_final"), "final W" + std::to_string(i));
        expect_close(*getParams(dense[i])[1], *ref(name, "b" + std::to_string(i) + "_final"), "final b" + std::to_string(i));
    }
}

}  // namespace

TEST(PyTorchParity, Activations) {
    for (std::string a : {"relu", "leaky_relu", "sigmoid", "tanh", "elu", "selu", "softplus", "softsign", "gelu", "swish"})
        run_case("act_" + a, a, "sgd_momentum", "sce");
}

TEST(PyTorchParity, Optimizers) {
    for (std::string o : {"sgd", "sgd_momentum", "sgd_nesterov", "adam", "adam_amsgrad", "adamw", "rmsprop", "adagrad",
                          "adadelta", "adamax", "nadam"})
        run_case("opt_" + o, "leaky_relu", o, "sce");
}

TEST(PyTorchParity, LossesAndClipping) {
    run_case("loss_mse", "tanh", "sgd", "mse");
    run_case("loss_bce", "relu", "adam", "bce");
    run_case("loss_bce_logits", "relu", "adam", "binary_cross_entropy_with_logits");
    run_case("clip_norm", "relu", "sgd_momentum", "sce_clip");
}

TEST(PyTorchParity, ConvBatchNormPoolNetwork) {
    const std::string c = "cnn_conv_bn_pool";
    layer in = Input({2, 8, 8});
    layer c1 = Conv2D(in, 4, {3, 3});
    layer bn = BatchNormalization(c1, 0.9f, 1e-3f);
    layer l = MaxPool2D(ReLu(bn), {2, 2}, {2, 2});
    layer c2 = Conv2D(l, 4, {3, 3}, {1, 1}, "same", true, 2, {2, 2});
    l = AveragePool2D(ReLu(c2), {2, 2}, {2, 2});
    layer fc = Dense(Flatten(l), 3);
    model net = Model({in}, {Softmax(fc)});
    build(net, sgd(0.05f, 0.9f), {"soft_cross_entropy"}, {}, CS_CPU(2));
    setParams(c1, {ref(c, "c1w"), ref(c, "c1b")});
    setParams(bn, {ref(c, "bnw"), ref(c, "bnb")});
    setParams(c2, {ref(c, "c2w"), ref(c, "c2b")});
    setParams(fc, {ref(c, "fcw"), ref(c, "fcb")});
    auto x = ref(c, "x"), y = ref(c, "y");
    forward(net, {x});
    expect_close(*net->outputs[0]->output, *ref(c, "out0"), "first forward output");
    bn->states[0]->fill_(0.0f);  // that forward (training mode) moved the running statistics once
    bn->states[1]->fill_(1.0f);
    train_three_steps(net, x, y, c);
    expect_close(*getParams(c1)[0], *ref(c, "c1w_final"), "conv1 weights");
    expect_close(*getParams(c2)[0], *ref(c, "c2w_final"), "grouped dilated conv weights");
    expect_close(*getParams(fc)[0], *ref(c, "fcw_final"), "dense weights");
    expect_close(*getParams(bn)[0], *ref(c, "bnw_final"), "batch norm scale");
    expect_close(*bn->states[0], *ref(c, "bn_mean_final"), "running mean");
    expect_close(*bn->states[1], *ref(c, "bn_var_final"), "running variance");
    auto p = predict(net, {x});  // inference mode: running statistics
    expect_close(*p[0], *ref(c, "out_eval"), "inference output");
}

TEST(PyTorchParity, GroupAndLayerNormalization) {
    const std::string c = "group_layer_norm";
    layer in = Input({4, 3, 3});
    layer gn = GroupNormalization(in, 2);
    layer ln = LayerNormalization(Flatten(ReLu(gn)));
    layer fc = Dense(ln, 3);
    model net = Model({in}, {Softmax(fc)});
    build(net, sgd(0.1f), {"soft_cross_entropy"}, {}, CS_CPU(1));
    setParams(gn, {ref(c, "gnw"), ref(c, "gnb")});
    setParams(ln, {ref(c, "lnw"), ref(c, "lnb")});
    setParams(fc, {ref(c, "fcw"), ref(c, "fcb")});
    auto x = ref(c, "x"), y = ref(c, "y");
    forward(net, {x});
    expect_close(*net->outputs[0]->output, *ref(c, "out0"), "first forward output");
    train_three_steps(net, x, y, c);
    expect_close(*getParams(gn)[0], *ref(c, "gnw_final"), "group norm scale");
    expect_close(*getParams(gn)[1], *ref(c, "gnb_final"), "group norm shift");
    expect_close(*getParams(ln)[0], *ref(c, "lnw_final"), "layer norm scale");
    expect_close(*getParams(fc)[0], *ref(c, "fcw_final"), "dense weights");
}

// ---- Reference networks: ResNet-18 and U-Net against their PyTorch twins ----
namespace {

// The script's hash_uniform: element i of a stream from a 32-bit integer hash of (seed, i).
double hash_uniform(uint64_t seed, uint64_t i) {
    uint32_t h = uint32_t(i * 0x9E3779B1ull + seed * 0x85EBCA77ull);
    h ^= h >> 15;
    h *= 0x2C1B3C6Du;
    h ^= h >> 12;
    h *= 0x297A2D39u;
    h ^= h >> 15;
    return double(h >> 8) / double(1 << 24);
}

enum class Fill { Weight, Bias, Gamma, Input };

void hash_fill(Tensor& t, uint64_t seed, Fill kind) {
    const double bound = std::sqrt(6.0 / double(t.size / t.shape[0]));
    for (int64_t i = 0; i < t.size; ++i) {
        const double u = 2.0 * hash_uniform(seed, uint64_t(i)) - 1.0;
        t.ptr[i] = float(kind == Fill::Weight  ? u * bound
                         : kind == Fill::Bias  ? u * 0.1
                         : kind == Fill::Gamma ? 1.0 + u * 0.2
                                               : u);
    }
}

// Layers of one type in creation order: auto names end in a global counter ("conv2d17"); a
// named layer ("classifier") is the builders' last of its type.
vlayer by_creation(model net, const std::string& type) {
    std::vector<std::pair<long, layer>> found;
    for (const auto& l : net->layers) {
        if (l->type() != type) continue;
        const size_t digits = l->name.find_last_not_of("0123456789") + 1;
        found.push_back({digits < l->name.size() ? std::stol(l->name.substr(digits)) : LONG_MAX, l});
    }
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    vlayer out;
    for (const auto& f : found) out.push_back(f.second);
    return out;
}

// The script's hash_init: Conv2D, ConvT2D, BatchNormalization, Dense; parameter k gets seed k + 1.
void hash_init(model net) {
    uint64_t k = 0;
    for (std::string type : {"Conv2D", "ConvT2D", "BatchNormalization", "Dense"})
        for (const auto& l : by_creation(net, type))
            for (size_t j = 0; j < l->params.size(); ++j)
                hash_fill(*l->params[j], ++k,
                          j == 1 ? Fill::Bias : type == "BatchNormalization" ? Fill::Gamma : Fill::Weight);
}

// ||got - want|| / ||want|| in double.
double rel_error(const std::vector<double>& got, const Tensor& want) {
    double num = 0, den = 0;
    for (int64_t i = 0; i < want.size; ++i) {
        num += (got[i] - want.ptr[i]) * (got[i] - want.ptr[i]);
        den += double(want.ptr[i]) * want.ptr[i];
    }
    return std::sqrt(num / std::max(den, 1e-300));
}

std::vector<double> as_double(const Tensor& t) { return {t.ptr, t.ptr + t.size}; }

// A unit next to a kink of the network's gradient: {0, ReLU call, element, -1} for a ReLU input
// near 0, {1, max-pool call, element of the max, of the runner-up} for a window whose two largest
// values nearly tie. Crossing one (the input on the other side of 0, the two swapped) switches
// that unit's gradient path: a different, equally valid one-sided gradient, 1e-3..1e-2 away.
using Unit = std::array<float, 4>;

// The units the reference recorded near a kink (within 3e-4) that our last forward put on the
// other side from float64's.
std::vector<Unit> crossed_kinks(model net, const std::string& c) {
    vtensor relus, pool_ins;  // in NCHW (getOutput converts channel-blocked activations)
    for (const auto& l : by_creation(net, "ReLu")) relus.push_back(getOutput(l));
    for (const auto& l : by_creation(net, "MaxPool2D")) pool_ins.push_back(getOutput(l->parents[0]));
    const auto relu = ref(c, "kinks"), pool = ref(c, "pool_kinks");
    std::vector<Unit> crossed;
    for (int64_t r = 0; r < relu->shape[0]; ++r) {
        const float* row = relu->ptr + 3 * r;  // call, flat index, float64 input value
        const float out = relus.at(size_t(row[0]))->ptr[int64_t(row[1])];
        if ((out > 0) != (row[2] > 0)) crossed.push_back({0, row[0], row[1], -1});  // output > 0 iff input > 0
    }
    for (int64_t r = 0; r < pool->shape[0]; ++r) {
        const float* row = pool->ptr + 4 * r;  // call, index of the max, of the runner-up, gap
        const Tensor& in = *pool_ins.at(size_t(row[0]));
        if (!(in.ptr[int64_t(row[1])] > in.ptr[int64_t(row[2])])) crossed.push_back({1, row[0], row[1], row[2]});
    }
    std::cout << c << ": " << relu->shape[0] << " ReLU inputs and " << pool->shape[0]
              << " max-pool windows lie within 3e-4 of a kink; our forward crossed " << crossed.size() << "\n";
    for (const auto& u : crossed)
        std::cout << "  crossed " << (u[0] == 0 ? "ReLU " : "max-pool ") << u[1] << " element " << int64_t(u[2]) << "\n";
    return crossed;
}

// Up to 256 evenly spaced elements of each parameter's gradient, in hash_init's order (the
// script's grad_sample over canonical_grads).
std::vector<double> grad_samples(model net) {
    std::vector<double> out;
    for (std::string type : {"Conv2D", "ConvT2D", "BatchNormalization", "Dense"})
        for (const auto& l : by_creation(net, type))
            for (const auto& g : l->gradients) {
                const int64_t m = std::min<int64_t>(g->size, 256);
                for (int64_t j = 0; j < m; ++j) out.push_back(g->ptr[j * g->size / m]);
            }
    return out;
}

// One SGD step from hash weights against PyTorch's float64 run of the same network: outputs, the
// loss and running statistics within 1e-4 relative per element; gradients (three whole tensors
// and a sample of every parameter's), the step and the inference output after it within 1e-4
// relative (L2) of float64's. Where our forward crossed kinks, the reference is float64's on the
// same side of them: the script stores the effect of crossing each of the few closest units. A
// crossing outside those leaves no exact reference, and only a coarse 5e-2 applies (a wrong
// gradient is off by O(1)). The step, read back from float32 weights, gets their rounding on
// top (alone 1.5e-4 for U-Net's last layer).
void reference_net_step(model net, const std::string& c, const tensor& x, const tensor& y) {
    hash_init(net);
    forward(net, {x});
    expect_close(*net->outputs[0]->output, *ref(c, "out0"), "first forward output", 1e-6f);
    // train_batch's forward repeats this one bit for bit: find the stored effects of its crossings
    const auto units = ref(c, "kink_units");
    std::vector<int64_t> rows;
    bool exact = true;
    for (const Unit& u : crossed_kinks(net, c)) {
        int64_t r = 0;
        while (r < units->shape[0] && !std::equal(u.begin(), u.end(), units->ptr + 4 * r)) ++r;
        if (r < units->shape[0]) rows.push_back(r);
        else exact = false;
    }
    std::cout << c << ": " << (exact ? "reference on our side of every kink, 1e-4 applies"
                                     : "crossed a kink whose effect is not stored, only 5e-2 applies") << "\n";
    // the float64 reference for tensor k, moved by the crossings; a step is -0.1 times the gradient
    auto want = [&](const std::string& k) {
        tensor w = ref(c, k)->clone();
        const bool step = k.size() > 5 && k.substr(k.size() - 5) == "_step";
        if (rows.empty()) return w;
        const auto d = ref(c, (step ? k.substr(0, k.size() - 5) + "_grad" : k) + "_kink_deltas");
        for (int64_t r : rows)
            for (int64_t i = 0; i < w->size; ++i) w->ptr[i] += (step ? -0.1f : 1.0f) * d->ptr[r * w->size + i];
        return w;
    };
    for (const auto& bn : by_creation(net, "BatchNormalization")) {  // undo that forward's statistics update
        bn->states[0]->fill_(0.0f);
        bn->states[1]->fill_(1.0f);
    }
    const vlayer convs = by_creation(net, "Conv2D"), bns = by_creation(net, "BatchNormalization");
    const bool resnet = c.rfind("resnet18", 0) == 0;
    std::map<std::string, layer> watched{{"conv_first", convs.front()}, {"conv_k", resnet ? convs[7] : convs.back()}};
    if (resnet) watched["fc"] = getLayer(net, "classifier");
    else watched["convt_last"] = by_creation(net, "ConvT2D").back();
    std::map<std::string, std::vector<double>> before;
    for (const auto& [k, l] : watched) before[k] = as_double(*l->params[0]);

    reset_loss(net);
    train_batch(net, {x}, {y});
    const float loss = ref(c, "losses")->ptr[0];
    EXPECT_NEAR(get_losses(net)[0], loss, 1e-4f * std::fabs(loss));
    auto check = [&](const std::string& k, const std::vector<double>& got, double allowance = 0) {
        const double err = rel_error(got, *want(k)), torch_err = ref(c, k + "_f32err")->ptr[0];
        EXPECT_LE(err, (exact ? 1e-4 : 5e-2) + allowance) << k << ": PyTorch's float32 error is " << torch_err;
        std::cout << c << " " << k << ": relative error " << err << " (PyTorch float32, against float64 "
                  << "without crossings: " << torch_err << ")\n";
    };
    for (const auto& [k, l] : watched) check(k + "_grad", as_double(*l->gradients[0]));
    check("grad_samples", grad_samples(net));
    for (const auto& [k, l] : watched) {
        std::vector<double> step = as_double(*l->params[0]);
        double rounding = 0, norm = 0;  // half an ulp of each updated weight, against the step's size
        for (size_t i = 0; i < step.size(); ++i) {
            const float w = l->params[0]->ptr[i];
            const double ulp = std::nextafter(std::fabs(w), INFINITY) - std::fabs(w);
            rounding += ulp * ulp / 4;
            step[i] -= before[k][i];
            norm += step[i] * step[i];
        }
        check(k + "_step", step, std::sqrt(rounding / std::max(norm, 1e-300)));
    }
    expect_close(*bns.back()->states[0], *ref(c, "bn_last_mean_final"), "last running mean", 1e-6f);
    expect_close(*bns.back()->states[1], *ref(c, "bn_last_var_final"), "last running variance", 1e-6f);
    predict(net, {x});
    // after the step the output depends on every weight step, so it carries their error
    check("out_eval", as_double(*(resnet ? getLayer(net, "classifier") : net->outputs[0])->output));
}

}  // namespace

TEST(PyTorchParity, ResNet18OneSgdStep) {
    model net = ResNet18({3, 224, 224}, 10);
    build(net, sgd(0.1f, 0.9f), {"soft_cross_entropy"}, {}, CS_CPU(2));
    auto x = Tensor::zeros({2, 3, 224, 224});
    hash_fill(*x, 1000001, Fill::Input);
    auto y = Tensor::zeros({2, 10});
    y->set({0, 3}, 1.0f);
    y->set({1, 7}, 1.0f);
    reference_net_step(net, "resnet18", x, y);
}

// The same on 3x64x64, with an input whose float64 forward keeps >= 1e-5 from every kink (chosen
// by the script), so that float32 runs seldom cross one and the 1e-4 bound applies.
TEST(PyTorchParity, ResNet18At64OneSgdStep) {
    model net = ResNet18({3, 64, 64}, 10);
    build(net, sgd(0.1f, 0.9f), {"soft_cross_entropy"}, {}, CS_CPU(2));
    auto x = Tensor::zeros({2, 3, 64, 64});
    hash_fill(*x, uint64_t(ref("resnet18_64", "input_seed")->ptr[0]), Fill::Input);
    auto y = Tensor::zeros({2, 10});
    y->set({0, 3}, 1.0f);
    y->set({1, 7}, 1.0f);
    reference_net_step(net, "resnet18_64", x, y);
}

TEST(PyTorchParity, UNetOneSgdStep) {
    model net = UNet({1, 64, 64}, 1, 4, 16);
    build(net, sgd(0.1f, 0.9f), {"dice"}, {}, CS_CPU(2));
    auto x = Tensor::zeros({2, 1, 64, 64}), y = Tensor::zeros({2, 1, 64, 64});
    hash_fill(*x, 1000001, Fill::Input);
    hash_fill(*y, 1000002, Fill::Input);
    for (int64_t i = 0; i < y->size; ++i) y->ptr[i] = y->ptr[i] > 0.3f ? 1.0f : 0.0f;
    reference_net_step(net, "unet", x, y);
}
