// RNN, LSTM and GRU: backward through time against finite differences in every form the layer
// takes (directions, outputs, peepholes, GRU's two reset forms, padding, ONNX layouts), shapes
// and errors, a checkpoint round trip, and learning a sequence task. Their values against ONNX's
// reference outputs are checked by test_eddl_onnx_conformance (LSTM, GRU, RNN node tests) and
// against PyTorch by benchmarks/onnx_roundtrip.py.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "expect_error.h"
#include "gradcheck.h"
#include "layers/layers.h"

using namespace eddl;
using Kind = LRecurrent::Kind;
using Out = LRecurrent::Output;

namespace {

void check(const Shape& in_shape, const std::function<layer(layer)>& f, const std::function<void(tensor&)>& edit = {},
           double eps = 1e-2) {
    layer in = Input(in_shape);
    layer out = f(in);
    model net = Model({in}, {out});
    build(net, sgd(0.1f), {"mse"}, {}, CS_CPU(1));
    Shape xs{2};
    xs.insert(xs.end(), in_shape.begin(), in_shape.end());
    auto x = Tensor::randn(xs, 5);
    if (edit) edit(x);
    Shape ys{2};
    ys.insert(ys.end(), out->out_shape.begin(), out->out_shape.end());
    gradcheck::check(net, {x}, {Tensor::randn(ys, 6)}, eps, 2e-3, 3e-2);
}

layer rec(layer x, Kind k, int units, LRecurrent::Options o) { return std::make_shared<LRecurrent>(x, k, units, o, "rec"); }

}  // namespace

TEST(Recurrent, GradientsInEveryForm) {
    for (Kind k : {Kind::RNN, Kind::LSTM, Kind::GRU})
        for (bool bi : {false, true})
            for (Out o : {Out::Y, Out::Y_h}) {
                SCOPED_TRACE(::testing::Message() << "kind " << int(k) << " bi " << bi << " out " << int(o));
                LRecurrent::Options opt;
                opt.bidirectional = bi;
                opt.output = o;
                check({4, 3}, [&](layer x) { return rec(x, k, 3, opt); });
            }
    LRecurrent::Options opt;
    opt.output = Out::Y_c;
    check({4, 3}, [&](layer x) { return rec(x, Kind::LSTM, 3, opt); });
    opt.output = Out::Y;
    opt.peepholes = true;
    check({4, 3}, [&](layer x) {  // non-zero peepholes (they start at zero)
        auto l = std::make_shared<LRecurrent>(x, Kind::LSTM, 3, opt, "peep");
        l->params[3]->fill_rand_uniform_(-0.5f, 0.5f, 3);
        return l;
    });
    opt.peepholes = false;
    opt.linear_before_reset = false;
    check({4, 3}, [&](layer x) { return rec(x, Kind::GRU, 3, opt); });
    opt.linear_before_reset = true;
    opt.reverse = true;
    check({4, 3}, [&](layer x) { return rec(x, Kind::GRU, 3, opt); });
    opt.reverse = false;
    for (const char* act : {"relu", "sigmoid"}) {
        SCOPED_TRACE(act);
        opt.activation = act;
        // relu has a kink at 0: small differences (no pre-activation of these fixed inputs is that close)
        check({4, 3}, [&](layer x) { return rec(x, Kind::RNN, 3, opt); }, {}, 1e-3);
    }
    opt.activation = "tanh";
    opt.use_bias = false;
    check({4, 3}, [&](layer x) { return rec(x, Kind::RNN, 3, opt); });
    opt.use_bias = true;
    // ONNX layout 0 ({steps, sequences, features}), two sequences per sample, lengths 3 and 1
    opt.layout = 0;
    opt.nseq = 2;
    opt.seq_lens = {3, 1};
    opt.bidirectional = true;
    check({4, 2, 3}, [&](layer x) { return rec(x, Kind::LSTM, 2, opt); });
    opt.output = Out::Y_h;
    check({4, 2, 3}, [&](layer x) { return rec(x, Kind::GRU, 2, opt); });
}

TEST(Recurrent, MaskZerosAndASecondOutput) {
    // trailing all-zero steps are padding: outputs and weight gradients are those of the real
    // steps alone (finite differences do not apply: a padding step stops being one when changed)
    layer in = Input({5, 2});
    model net = Model({in}, {LSTM(in, 4, true, true)});
    build(net, sgd(0.1f), {"mse"}, {}, CS_CPU(1));
    layer in3 = Input({3, 2});
    model n3 = Model({in3}, {LSTM(in3, 4, false, true)});
    build(n3, sgd(0.1f), {"mse"}, {}, CS_CPU(1));
    for (size_t i = 0; i < net->layers[1]->params.size(); ++i)
        n3->layers[1]->params[i]->copy_from(*net->layers[1]->params[i]);
    auto real = Tensor::randn({1, 3, 2}, 3), padded = Tensor::zeros({1, 5, 2});
    for (int i = 0; i < 6; ++i) padded->ptr[i] = real->ptr[i];
    auto target = Tensor::randn({1, 8}, 4);
    const auto ya = predict(net, {padded})[0]->to_std(), yb = predict(n3, {real})[0]->to_std();
    EXPECT_EQ(ya, yb);
    for (model m : {net, n3}) {
        m->zero_grads();
        m->forward({m == net ? padded : real});
        m->backward({target});
    }
    // equal up to rounding: the weight gradients sum over 5 steps (2 of zeros) against 3, and the
    // matrix product may split its sums by their length
    for (size_t i = 0; i < net->layers[1]->gradients.size(); ++i) {
        const Tensor &ga = *net->layers[1]->gradients[i], &gb = *n3->layers[1]->gradients[i];
        ASSERT_EQ(ga.shape, gb.shape) << i;
        for (int64_t j = 0; j < ga.size; ++j) EXPECT_NEAR(ga.ptr[j], gb.ptr[j], 1e-6f + 1e-6f * std::fabs(gb.ptr[j])) << i;
    }

    // Y and Y_h (and Y_c) of one computation, with the losses of both
    layer a = Input({4, 3});
    LRecurrent::Options o;
    o.output = Out::Y;
    auto r = std::make_shared<LRecurrent>(a, Kind::LSTM, 3, o, "lstm");
    auto h = std::make_shared<LRecurrentOutput>(r, Out::Y_h, "h");
    auto c = std::make_shared<LRecurrentOutput>(r, Out::Y_c, "c");
    model m = Model({a}, {r, h, c});
    build(m, sgd(0.1f), {"mse", "mse", "mse"}, {}, CS_CPU(1));
    auto xa = Tensor::randn({2, 4, 3}, 4);
    gradcheck::check(m, {xa}, {Tensor::randn({2, 4, 3}, 1), Tensor::randn({2, 3}, 2), Tensor::randn({2, 3}, 3)}, 1e-2, 2e-3,
                     3e-2);
    const auto ys = predict(m, {xa});
    for (int b = 0; b < 2; ++b)
        for (int u = 0; u < 3; ++u) EXPECT_EQ(ys[1]->ptr[b * 3 + u], ys[0]->ptr[b * 12 + 9 + u]);  // Y_h = Y's last step
    expect_error([&] { LRecurrentOutput(r, Out::Y, "y"); }, "needs a recurrent layer giving another output");
}

TEST(Recurrent, ShapesErrorsAndCheckpoints) {
    layer in = Input({7, 5});
    EXPECT_EQ(LSTM(in, 8)->out_shape, (Shape{8}));
    EXPECT_EQ(GRU(in, 8, false, true)->out_shape, (Shape{16}));
    EXPECT_EQ(RNN(in, 8, "tanh", true, false, "", true)->out_shape, (Shape{7, 8}));
    EXPECT_EQ(LSTM(in, 8, false, true, "", true)->out_shape, (Shape{7, 16}));
    EXPECT_EQ(LSTM(in, 8)->params.size(), 3u);
    EXPECT_EQ(RNN(in, 8, "relu", false)->params.size(), 2u);
    expect_error([] { LSTM(Input({5}), 4, false, false, "l1"); }, "LSTM 'l1': input from");
    expect_error([] { RNN(Input({3, 4}), 4, "gelu"); }, "activation 'gelu'");
    expect_error([] { GRU(Input({3, 4}), 0); }, "units must be >= 1");
    // parameter counts as PyTorch's nn.LSTM(5, 8) (two bias vectors per gate, as ONNX)
    EXPECT_EQ(LSTM(in, 8)->num_params(), 4 * 8 * (5 + 8 + 2));
    // a checkpoint rebuilds every option
    layer x = Input({6, 3});
    layer l = GRU(LSTM(x, 4, true, true, "lstm", true), 5, false, false, "gru");
    model net = Model({x}, {Dense(l, 2)});
    build(net, adam(0.01f), {"mse"}, {}, CS_CPU(1));
    auto xs = Tensor::randn({3, 6, 3}, 2);
    const std::string ck = (std::filesystem::temp_directory_path() / "eddl_recurrent.ckpt").string();
    save_checkpoint(net, ck);
    model back = load_checkpoint(ck);
    std::filesystem::remove(ck);
    EXPECT_EQ(predict(back, {xs})[0]->to_std(), predict(net, {xs})[0]->to_std());
}

// A sequence task a feed-forward layer on one step cannot solve: is the first step's value
// larger than the last one's? LSTM and GRU learn it.
TEST(Recurrent, LearnsToCompareTheFirstAndLastSteps) {
    const int n = 512, T = 8;
    auto x = Tensor::randn({n, T, 1}, 11);
    auto y = Tensor::zeros({n, 2});
    for (int i = 0; i < n; ++i) y->ptr[i * 2 + (x->ptr[i * T] > x->ptr[i * T + T - 1] ? 1 : 0)] = 1;
    for (bool gru : {false, true}) {
        SCOPED_TRACE(gru ? "GRU" : "LSTM");
        layer in = Input({T, 1});
        layer h = gru ? GRU(in, 16) : LSTM(in, 16);
        model net = Model({in}, {Softmax(Dense(h, 2))});
        set_seed(net, 3);
        build(net, adam(0.01f), {"soft_cross_entropy"}, {"categorical_accuracy"}, CS_CPU(2));
        FitOptions fo;
        fo.verbose = 0;
        fit(net, {x}, {y}, 32, 30, fo);
        const auto logs = evaluate(net, {x}, {y}, -1, 0);
        EXPECT_GE(logs.at("categorical_accuracy"), 0.9);
    }
}

// ONNX: export (layout 1, standard RNN / LSTM / GRU nodes) -> import gives the same predictions
// and trains identically; a layout-0 model (PyTorch's form: Transpose, LSTM, Gather of h_n)
// imports with the batch first.
TEST(Recurrent, OnnxRoundTrip) {
    layer x = Input({6, 3}, "x");
    layer a = LSTM(x, 4, false, true, "lstm", true);
    layer b = GRU(a, 5, false, false, "gru", true);
    layer c = RNN(b, 3, "relu", false, true, "rnn");
    auto second = std::make_shared<LRecurrentOutput>(std::dynamic_pointer_cast<LRecurrent>(a), LRecurrent::Output::Y_c, "cell");
    model net = Model({x}, {Dense(c, 2, true, "head"), second});
    set_seed(net, 5);
    build(net, sgd(0.05f), {"mse", "mse"}, {}, CS_CPU(1));
    model again = import_net_from_onnx_string(serialize_net_to_onnx_string(net));
    set_seed(again, 5);
    build(again, sgd(0.05f), {"mse", "mse"}, {}, CS_CPU(1));
    auto xs = Tensor::randn({4, 6, 3}, 1);
    auto y0 = Tensor::randn({4, 2}, 2), y1 = Tensor::randn({4, 8}, 3);
    auto pa = predict(net, {xs}), pb = predict(again, {xs});
    for (size_t i = 0; i < pa.size(); ++i) EXPECT_EQ(pa[i]->to_std(), pb[i]->to_std()) << i;
    for (int s = 0; s < 3; ++s) {
        train_batch(net, {xs}, {y0, y1});
        train_batch(again, {xs}, {y0, y1});
    }
    pa = predict(net, {xs});
    pb = predict(again, {xs});
    for (size_t i = 0; i < pa.size(); ++i) EXPECT_EQ(pa[i]->to_std(), pb[i]->to_std()) << i;
    // mask_zeros has no ONNX form
    layer m = Input({4, 2});
    model masked = Model({m}, {LSTM(m, 3, true, false, "masked")});
    build(masked);
    expect_error([&] { serialize_net_to_onnx_string(masked); }, "'masked' of type LSTM");
}
