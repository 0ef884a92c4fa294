// Every layer's backward against finite differences, and shape errors that name the layer.
#include <gtest/gtest.h>

#include "expect_error.h"

#include "gradcheck.h"

using namespace eddl;
using gradcheck::away_from;

namespace {

const int B = 3;  // batch

model single(const Shape& in_shape, std::function<layer(layer)> f, const std::string& loss = "mse") {
    layer in = Input(in_shape);
    layer out = f(in);
    model net = Model({in}, {out});
    build(net, sgd(0.1f), {loss}, {}, CS_CPU(1));
    return net;
}

void check_single(const Shape& in_shape, std::function<layer(layer)> f, std::vector<float> kinks = {}) {
    model net = single(in_shape, f);
    Shape xs{B};
    xs.insert(xs.end(), in_shape.begin(), in_shape.end());
    auto x = away_from(xs, 11, kinks);
    Shape ys{B};
    ys.insert(ys.end(), net->outputs[0]->out_shape.begin(), net->outputs[0]->out_shape.end());
    auto y = Tensor::randn(ys, 12);
    gradcheck::check(net, {x}, {y});
}


}  // namespace

TEST(LayerGrad, Dense) {
    check_single({5}, [](layer l) { return Dense(l, 4); });
    check_single({5}, [](layer l) { return Dense(l, 3, false); });
    check_single({2, 3, 5}, [](layer l) { return Dense(l, 4); });  // on the last axis of an N-d sample
}

TEST(LayerGrad, Activations) {
    check_single({6}, [](layer l) { return ReLu(l); }, {0});
    check_single({6}, [](layer l) { return LeakyReLu(l, 0.1f); }, {0});
    check_single({6}, [](layer l) { return Sigmoid(l); });
    check_single({6}, [](layer l) { return HardSigmoid(l); }, {-2.5f, 2.5f});
    check_single({6}, [](layer l) { return Tanh(l); });
    check_single({6}, [](layer l) { return Elu(l, 0.7f); }, {0});
    check_single({6}, [](layer l) { return Selu(l); }, {0});
    check_single({6}, [](layer l) { return Softplus(l); });
    check_single({6}, [](layer l) { return Softsign(l); }, {0});
    check_single({6}, [](layer l) { return ThresholdedReLu(l, 0.5f); }, {0.5f});
    check_single({6}, [](layer l) { return Exponential(l); });
    check_single({6}, [](layer l) { return Linear(l, 1.7f); });
    check_single({6}, [](layer l) { return GELU(l); });
    check_single({6}, [](layer l) { return Swish(l); });
    check_single({6}, [](layer l) { return Activation(l, "leaky_relu", {0.2f}); }, {0});
    check_single({6}, [](layer l) { return Softmax(l); });
    check_single({2, 4}, [](layer l) { return Softmax(l, -1); });
}

TEST(LayerGrad, ShapeLayers) {
    check_single({12}, [](layer l) { return Dense(Flatten(Reshape(Dense(l, 12), {3, -1})), 2); });
    check_single({2, 3}, [](layer l) { return Flatten(l); });
    check_single({2, 3}, [](layer l) { return Reshape(l, {3, 2}); });
}

TEST(LayerGrad, DropoutInTrainingAndInference) {
    for (bool iw : {true, false}) {
        model net = single({20}, [&](layer l) { return Dropout(Dense(l, 20), 0.4f, iw); });
        auto x = Tensor::randn({B, 20}, 1), y = Tensor::randn({B, 20}, 2);
        gradcheck::check(net, {x}, {y});  // training: a fixed mask per step
        net->set_mode(TSMODE);
        gradcheck::check(net, {x}, {y});
    }
    // the mask drops about `rate` of the values, and inference scales as documented
    layer in = Input({1000});
    layer d = Dropout(in, 0.3f);
    model net = Model({in}, {d});
    build(net);
    auto x = Tensor::ones({1, 1000});
    forward(net, {x});
    const float kept = getOutput(d)->sum() / 1000.0f;
    EXPECT_NEAR(kept, 0.7f, 0.05f);
    set_mode(net, TSMODE);
    forward(net, {x});
    EXPECT_NEAR(getOutput(d)->mean(), 0.7f, 1e-6f);
}

TEST(LayerGrad, Merges) {
    auto two = [](std::function<layer(layer, layer)> f, const Shape& sa, const Shape& sb, bool distinct = false) {
        layer a = Input(sa), b = Input(sb);
        layer out = f(a, b);
        model net = Model({a, b}, {out});
        build(net, sgd(0.1f), {"mse"}, {}, CS_CPU(1));
        Shape xa{B}, xb{B}, ys{B};
        xa.insert(xa.end(), sa.begin(), sa.end());
        xb.insert(xb.end(), sb.begin(), sb.end());
        ys.insert(ys.end(), out->out_shape.begin(), out->out_shape.end());
        auto x0 = Tensor::randn(xa, 1), x1 = Tensor::randn(xb, 2);
        if (distinct)  // keep max/min away from ties
            for (int64_t i = 0; i < x1->size; ++i) x1->ptr[i] = x0->ptr[i] + (i % 2 ? 0.5f : -0.5f);
        gradcheck::check(net, {x0, x1}, {Tensor::randn(ys, 3)});
    };
    two([](layer a, layer b) { return Add({a, b}); }, {4}, {4});
    two([](layer a, layer b) { return Subtract({a, b}); }, {4}, {4});
    two([](layer a, layer b) { return Multiply({a, b, a}); }, {4}, {4});
    two([](layer a, layer b) { return Mult(a, b); }, {4}, {4});
    two([](layer a, layer b) { return Average({a, b}); }, {4}, {4});
    two([](layer a, layer b) { return Maximum({a, b}); }, {4}, {4}, true);
    two([](layer a, layer b) { return Minimum({a, b}); }, {4}, {4}, true);
    two([](layer a, layer b) { return Concat({a, b}); }, {3}, {5});
    two([](layer a, layer b) { return Concat({a, b, a}, 1); }, {2, 3}, {2, 4});
    two([](layer a, layer b) { return Concat({a, b}, 0); }, {2, 3}, {1, 3});
}

TEST(LayerGrad, SharedParentAndMultipleOutputs) {
    // one layer feeding three: deltas from every child add up
    layer in = Input({5});
    layer h = Tanh(Dense(in, 6));
    layer o1 = Dense(h, 2), o2 = Sigmoid(Dense(Add({h, ReLu(h)}), 3));
    model net = Model({in}, {o1, o2});
    build(net, sgd(0.1f), {"mse", "bce"}, {"mse", "binary_accuracy"}, CS_CPU(1));
    auto y2 = Tensor::randu({B, 3}, 4);
    gradcheck::check(net, {away_from({B, 5}, 1, {})}, {Tensor::randn({B, 2}, 2), y2});
}

TEST(LayerErrors, ShapesNameTheLayer) {
    layer in = Input({4, 4});
    EXPECT_EQ(Dense(in, 3, true, "fc")->out_shape, (Shape{4, 3}));  // on the last axis, as Keras
    expect_error([&] { Reshape(in, {5, 3}, "rs4"); }, "Reshape 'rs4': cannot reshape (4, 4)");
    layer a = Input({3}), b = Input({4});
    expect_error([&] { Add({a, b}, "sum"); }, "Add 'sum': input");
    expect_error([&] { Concat({Input({2, 3}), Input({3, 3})}, 1, "cat"); }, "Concat 'cat'");
    expect_error([&] { Reshape(a, {2, 2}, "rs"); }, "Reshape 'rs': cannot reshape (3)");
    expect_error([&] { Activation(a, "relux"); }, "unknown activation 'relux'");
    expect_error([&] { Dropout(a, 1.5f); }, "rate must be in [0, 1)");
    expect_error([&] { Softmax(Input({2, 3}), 0); }, "only the last axis");
    expect_error([&] { Input({0}); }, "Input: invalid shape");
}

namespace {
tensor init_weights(std::function<layer(layer)> wrap, int in = 200, int out = 300) {
    layer i = Input({in});
    layer d = wrap(Dense(i, out));
    model net = Model({i}, {d});
    build(net, sgd(), {"mse"}, {}, CS_CPU(1));
    return getParams(d)[0];
}
}  // namespace

TEST(Initializers, Distributions) {
    const float glorot = std::sqrt(6.0f / 500.0f);
    auto gu = init_weights([](layer l) { return GlorotUniform(l); });
    EXPECT_LE(gu->max(), glorot);
    EXPECT_GE(gu->min(), -glorot);
    EXPECT_NEAR(gu->std(), glorot / std::sqrt(3.0f), 0.01f);
    EXPECT_NEAR(init_weights([](layer l) { return GlorotNormal(l); })->std(), std::sqrt(2.0f / 500.0f), 0.005f);
    EXPECT_NEAR(init_weights([](layer l) { return HeNormal(l); })->std(), std::sqrt(2.0f / 200.0f), 0.005f);
    auto hu = init_weights([](layer l) { return HeUniform(l); });
    EXPECT_LE(hu->max(), std::sqrt(6.0f / 200.0f));
    auto rn = init_weights([](layer l) { return RandomNormal(l, 1.0f, 0.5f); });
    EXPECT_NEAR(rn->mean(), 1.0f, 0.01f);
    EXPECT_NEAR(rn->std(), 0.5f, 0.01f);
    auto ru = init_weights([](layer l) { return RandomUniform(l, -0.2f, 0.1f); });
    EXPECT_GE(ru->min(), -0.2f);
    EXPECT_LT(ru->max(), 0.1f);
    auto c = init_weights([](layer l) { return Constant(l, 0.3f); });
    EXPECT_EQ(c->min(), 0.3f);
    EXPECT_EQ(c->max(), 0.3f);
    // Orthogonal: the 200 rows of a 200x300 weight are orthonormal
    auto o = init_weights([](layer l) { return Orthogonal(l); });
    auto g = Tensor::matmul(*o, *o, false, true);
    EXPECT_TRUE(Tensor::equivalent(*g, *Tensor::eye(200), 1e-4f, 0));
    auto o2 = init_weights([](layer l) { return Orthogonal(l, 2.0f); }, 300, 200);  // columns when taller
    auto g2 = Tensor::matmul(*o2, *o2, true, false);
    g2->div_(4.0f);  // gain 2 scales the Gram matrix by 4
    EXPECT_TRUE(Tensor::equivalent(*g2, *Tensor::eye(200), 1e-4f, 0));
    // an explicit seed repeats; the default derives from the network seed and layer
    EXPECT_EQ(init_weights([](layer l) { return HeNormal(l, 5); })->to_std(),
              init_weights([](layer l) { return HeNormal(l, 5); })->to_std());
}

TEST(Regularizers, AddTheirGradient) {
    auto grads = [](std::function<layer(layer)> wrap) {
        layer in = Input({3});
        layer d = wrap(Constant(Dense(in, 2, false), 0.5f));
        model net = Model({in}, {d});
        build(net, sgd(), {"mse"}, {}, CS_CPU(1));
        forward(net, {Tensor::zeros({1, 3})});  // zero input: the data gradient of W is zero
        backward(net, {Tensor::zeros({1, 2})});
        return getGradients(d)[0]->to_std();
    };
    for (float g : grads([](layer l) { return L2(l, 0.1f); })) EXPECT_FLOAT_EQ(g, 2 * 0.1f * 0.5f);
    for (float g : grads([](layer l) { return L1(l, 0.1f); })) EXPECT_FLOAT_EQ(g, 0.1f);
    for (float g : grads([](layer l) { return L1L2(l, 0.1f, 0.2f); })) EXPECT_FLOAT_EQ(g, 0.1f + 2 * 0.2f * 0.5f);
    EXPECT_THROW(L2(Input({3}), 0.1f), Error);
}
