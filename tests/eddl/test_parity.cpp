// Numerical parity with PyTorch: the same small MLPs, weights and batch give the same outputs,
// losses and weights after three optimizer steps. Reference files come from
// scripts/make_pytorch_reference.py (run once with torch; CI only reads them).
#include <gtest/gtest.h>

#include <cmath>

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
