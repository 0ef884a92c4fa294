// Convolution (1-D, 2-D, 3-D) and pooling: oneDNN results against plain reference loops kept here, gradients by
// finite differences in every padding / stride / dilation / group combination, and shape errors.
#include <gtest/gtest.h>

#include <array>
#include <filesystem>

#include <cmath>
#include <limits>
#include <set>

#include "expect_error.h"
#include "gradcheck.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/onednn.h"
#include "layers/layers.h"

using namespace eddl;

namespace {

struct Cfg {
    int c, h, w, filters, kh, kw, sh, sw, dh, dw, groups;
    std::string padding;          // used when pads is empty
    std::vector<int> pads;        // {t, b, l, r}
};

// Plain reference: every output element as a sum over its window.
std::vector<float> ref_conv(const Tensor& x, const Tensor& wt, const Tensor* b, int oh, int ow, int pt, int pl,
                            const Cfg& c) {
    const int n = x.shape[0], cpg = c.c / c.groups, fpg = c.filters / c.groups;
    std::vector<float> y(size_t(n) * c.filters * oh * ow);
    for (int i = 0; i < n; ++i)
        for (int f = 0; f < c.filters; ++f)
            for (int oy = 0; oy < oh; ++oy)
                for (int ox = 0; ox < ow; ++ox) {
                    double s = b ? b->ptr[f] : 0.0;
                    const int g = f / fpg;
                    for (int ci = 0; ci < cpg; ++ci)
                        for (int ky = 0; ky < c.kh; ++ky)
                            for (int kx = 0; kx < c.kw; ++kx) {
                                const int iy = oy * c.sh - pt + ky * c.dh, ix = ox * c.sw - pl + kx * c.dw;
                                if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
                                s += double(x.get({i, g * cpg + ci, iy, ix})) * wt.get({f, ci, ky, kx});
                            }
                    y[((size_t(i) * c.filters + f) * oh + oy) * ow + ox] = float(s);
                }
    return y;
}

layer conv_of(layer in, const Cfg& c, bool bias = true) {
    if (!c.pads.empty()) return Conv2D(in, c.filters, {c.kh, c.kw}, {c.sh, c.sw}, c.pads, bias, c.groups, {c.dh, c.dw});
    return Conv2D(in, c.filters, {c.kh, c.kw}, {c.sh, c.sw}, c.padding, bias, c.groups, {c.dh, c.dw});
}

const std::vector<Cfg> kConfigs = {
    {3, 7, 6, 4, 3, 3, 1, 1, 1, 1, 1, "same", {}},
    {3, 7, 6, 4, 3, 3, 1, 1, 1, 1, 1, "valid", {}},
    {2, 8, 7, 3, 3, 2, 2, 2, 1, 1, 1, "same", {}},
    {2, 8, 8, 3, 3, 3, 2, 1, 1, 1, 1, "none", {}},
    {2, 9, 9, 2, 3, 3, 1, 1, 2, 2, 1, "same", {}},      // dilation
    {2, 9, 8, 2, 2, 3, 2, 1, 2, 1, 1, "valid", {}},     // dilation + stride
    {4, 6, 6, 6, 3, 3, 1, 1, 1, 1, 2, "same", {}},      // groups
    {4, 6, 6, 4, 3, 3, 1, 1, 1, 1, 4, "same", {}},      // depthwise
    {2, 5, 6, 3, 1, 1, 1, 1, 1, 1, 1, "same", {}},      // pointwise
    {2, 6, 6, 3, 3, 3, 1, 1, 1, 1, 1, "", {1, 2, 0, 1}},  // explicit asymmetric
    {2, 6, 5, 3, 3, 3, 2, 2, 1, 1, 1, "", {1, 1}},      // explicit symmetric
};

}  // namespace

TEST(Conv2D, MatchesReference) {
    for (const Cfg& c : kConfigs) {
        for (bool bias : {true, false}) {
            layer in = Input({c.c, c.h, c.w});
            layer cl = conv_of(in, c, bias);
            auto* conv = dynamic_cast<LConv2D*>(cl.get());
            ASSERT_NE(conv, nullptr);
            model net = Model({in}, {cl});
            build(net, sgd(), {"mse"}, {}, CS_CPU(2));
            if (bias) conv->params[1]->fill_rand_normal_(0, 1, 3);
            auto x = Tensor::randn({2, c.c, c.h, c.w}, 5);
            forward(net, {x});
            const auto want = ref_conv(*x, *conv->params[0], bias ? conv->params[1].get() : nullptr, conv->out_shape[1],
                                       conv->out_shape[2], conv->pt, conv->pl, c);
            const Tensor& y = *conv->output;
            ASSERT_EQ(y.size, int64_t(want.size()));
            for (int64_t i = 0; i < y.size; ++i) ASSERT_NEAR(y.ptr[i], want[i], 1e-4f) << "config " << &c - &kConfigs[0];
        }
    }
}

TEST(Conv2D, SamePaddingShapesAsKeras) {
    layer in = Input({3, 7, 6});
    EXPECT_EQ(Conv2D(in, 5, {3, 3})->out_shape, (Shape{5, 7, 6}));
    EXPECT_EQ(Conv2D(in, 5, {3, 3}, {2, 2})->out_shape, (Shape{5, 4, 3}));
    EXPECT_EQ(Conv2D(in, 5, {3, 3}, {1, 1}, "valid")->out_shape, (Shape{5, 5, 4}));
    EXPECT_EQ(Conv2D(in, 5, {3, 3}, {1, 1}, "same", true, 1, {2, 2})->out_shape, (Shape{5, 7, 6}));
}

TEST(Conv2D, DepthwiseAndPointwise) {
    layer in = Input({4, 6, 6});
    layer d = DepthwiseConv2D(in, {3, 3}, {1, 1}, "same", true, 2);
    EXPECT_EQ(d->out_shape, (Shape{8, 6, 6}));
    EXPECT_EQ(getParams(d)[0]->shape, (Shape{8, 1, 3, 3}));
    layer p = PointwiseConv2D(d, 5, {2, 2});
    EXPECT_EQ(p->out_shape, (Shape{5, 3, 3}));
    EXPECT_EQ(getParams(p)[0]->shape, (Shape{5, 8, 1, 1}));
    model net = Model({in}, {p});
    build(net, sgd(), {"mse"}, {}, CS_CPU(1));
    gradcheck::check(net, {Tensor::randn({2, 4, 6, 6}, 1)}, {Tensor::randn({2, 5, 3, 3}, 2)});
}

TEST(Conv2D, GradientsEveryCombination) {
    for (const Cfg& c : kConfigs) {
        SCOPED_TRACE("config " + std::to_string(&c - &kConfigs[0]));
        layer in = Input({c.c, c.h, c.w});
        layer out = conv_of(in, c);
        model net = Model({in}, {out});
        build(net, sgd(), {"mse"}, {}, CS_CPU(1));
        Shape ys{2};
        ys.insert(ys.end(), out->out_shape.begin(), out->out_shape.end());
        gradcheck::check(net, {Tensor::randn({2, c.c, c.h, c.w}, 7)}, {Tensor::randn(ys, 8)});
    }
}

// The ONNX/PyTorch options (import): asymmetric pads, ceil_mode, count_include_pad, dilated max
// pooling, against a reference computed here from the definitions.
TEST(Pool2D, OnnxOptionsMatchReferenceAndGradients) {
    struct P {
        bool max;
        int k, s, d, pt, pl, pb, pr;
        bool ceil, count_pad;
    } cases[] = {{true, 3, 2, 1, 0, 1, 1, 0, false, false}, {false, 3, 2, 1, 1, 0, 0, 1, false, true},
                 {true, 3, 2, 1, 0, 0, 0, 0, true, false},  {false, 3, 2, 1, 1, 1, 1, 1, true, true},
                 {false, 2, 2, 1, 0, 0, 0, 0, true, false}, {true, 2, 1, 2, 0, 0, 0, 0, false, false},
                 {true, 3, 2, 2, 1, 2, 2, 1, true, false}};
    const int ih = 7, iw = 6;
    for (const P& p : cases) {
        SCOPED_TRACE(::testing::Message() << (p.max ? "max" : "avg") << " k" << p.k << " s" << p.s << " d" << p.d << " pads "
                                          << p.pt << p.pl << p.pb << p.pr << " ceil " << p.ceil << " count_pad " << p.count_pad);
        PoolOptions opt;
        opt.dilations = {p.d, p.d};
        opt.ceil_mode = p.ceil;
        opt.count_include_pad = p.count_pad;
        layer in = Input({2, ih, iw});
        auto out = std::make_shared<LPool2D>(in, p.max ? PoolKind::Max : PoolKind::Avg, std::vector<int>{p.k, p.k},
                                             std::vector<int>{p.s, p.s}, "", false, "pool",
                                             std::vector<int>{p.pt, p.pl, p.pb, p.pr}, 2, opt);
        const int span = (p.k - 1) * p.d + 1;
        auto size = [&](int n, int b, int e) {
            const int num = n + b + e - span;
            if (!p.ceil) return num / p.s + 1;
            int o = (num + p.s - 1) / p.s + 1;
            if ((o - 1) * p.s >= n + b) --o;  // the last window must start inside input or begin padding
            return o;
        };
        const int oh = size(ih, p.pt, p.pb), ow = size(iw, p.pl, p.pr);
        ASSERT_EQ(out->out_shape, (Shape{2, oh, ow}));
        model net = Model({in}, {out});
        build(net, sgd(), {"mse"}, {}, CS_CPU(1));
        auto x = Tensor::randn({2, 2, ih, iw}, 9);
        for (int64_t i = 0; i < x->size; ++i) x->ptr[i] += 0.05f * float(i % 37);
        forward(net, {x});
        for (int n = 0; n < 2; ++n)
            for (int c = 0; c < 2; ++c)
                for (int oy = 0; oy < oh; ++oy)
                    for (int ox = 0; ox < ow; ++ox) {
                        double best = -std::numeric_limits<double>::infinity(), sum = 0;
                        int cnt = 0, padded = 0;
                        for (int ky = 0; ky < p.k; ++ky)
                            for (int kx = 0; kx < p.k; ++kx) {
                                const int iy = oy * p.s - p.pt + ky * p.d, ix = ox * p.s - p.pl + kx * p.d;
                                if (iy < ih + p.pb && ix < iw + p.pr) ++padded;  // inside the padded input
                                if (iy < 0 || iy >= ih || ix < 0 || ix >= iw) continue;
                                const double v = x->get({n, c, iy, ix});
                                best = std::max(best, v);
                                sum += v;
                                ++cnt;
                            }
                        ASSERT_NEAR(out->output->get({n, c, oy, ox}), p.max ? best : sum / (p.count_pad ? padded : cnt), 1e-5)
                            << oy << "," << ox;
                    }
        gradcheck::check(net, {x}, {Tensor::randn({2, 2, oh, ow}, 10)}, 1e-3);
        // the options survive a checkpoint (the layer is rebuilt from its config)
        const std::string ck = (std::filesystem::temp_directory_path() / "eddl_pool_options.ckpt").string();
        save_checkpoint(net, ck);
        model copy = load_checkpoint(ck);
        std::filesystem::remove(ck);
        EXPECT_EQ(predict(copy, {x})[0]->to_std(), predict(net, {x})[0]->to_std());
    }
}

TEST(Pool2D, MatchesReferenceAndGradients) {
    struct P {
        bool max;
        int k, s;
        std::string pad;
    } cases[] = {{true, 2, 2, "none"}, {true, 3, 2, "same"}, {true, 3, 1, "valid"}, {false, 2, 2, "none"},
                 {false, 3, 2, "same"}, {false, 2, 1, "valid"}};
    for (const P& p : cases) {
        SCOPED_TRACE(std::string(p.max ? "max " : "avg ") + std::to_string(p.k) + "/" + std::to_string(p.s) + " " + p.pad);
        layer in = Input({2, 7, 6});
        layer out = p.max ? MaxPool2D(in, {p.k, p.k}, {p.s, p.s}, p.pad) : AveragePool2D(in, {p.k, p.k}, {p.s, p.s}, p.pad);
        auto* pl = dynamic_cast<LPool2D*>(out.get());
        model net = Model({in}, {out});
        build(net, sgd(), {"mse"}, {}, CS_CPU(1));
        // distinct values, so max pooling has no ties for the finite differences
        auto x = Tensor::randn({2, 2, 7, 6}, 9);
        for (int64_t i = 0; i < x->size; ++i) x->ptr[i] += 0.05f * float(i % 37);
        forward(net, {x});
        const int oh = out->out_shape[1], ow = out->out_shape[2];
        for (int n = 0; n < 2; ++n)
            for (int c = 0; c < 2; ++c)
                for (int oy = 0; oy < oh; ++oy)
                    for (int ox = 0; ox < ow; ++ox) {
                        double best = -std::numeric_limits<double>::infinity(), sum = 0;
                        int cnt = 0;
                        for (int ky = 0; ky < p.k; ++ky)
                            for (int kx = 0; kx < p.k; ++kx) {
                                const int iy = oy * p.s - pl->pt + ky, ix = ox * p.s - pl->pl + kx;
                                if (iy < 0 || iy >= 7 || ix < 0 || ix >= 6) continue;
                                const double v = x->get({n, c, iy, ix});
                                best = std::max(best, v);
                                sum += v;
                                ++cnt;
                            }
                        ASSERT_NEAR(out->output->get({n, c, oy, ox}), p.max ? best : sum / cnt, 1e-5);
                    }
        Shape ys{2};
        ys.insert(ys.end(), out->out_shape.begin(), out->out_shape.end());
        gradcheck::check(net, {x}, {Tensor::randn(ys, 10)}, 1e-3);
    }
    for (bool mx : {true, false}) {
        layer in = Input({3, 5, 4});
        layer out = mx ? GlobalMaxPool(in) : GlobalAveragePool(in);
        EXPECT_EQ(out->out_shape, (Shape{3, 1, 1}));
        model net = Model({in}, {out});
        build(net, sgd(), {"mse"}, {}, CS_CPU(1));
        auto x = Tensor::randn({2, 3, 5, 4}, 11);
        forward(net, {x});
        auto want = mx ? x->max({2, 3}) : x->mean({2, 3});
        for (int i = 0; i < 6; ++i) EXPECT_NEAR(out->output->ptr[i], want->ptr[i], 1e-5f);
        gradcheck::check(net, {x}, {Tensor::randn({2, 3, 1, 1}, 12)}, 1e-3);
    }
}

TEST(Conv2D, SmallCnnLearnsAndCheckpoints) {
    // a bright square in one of four quadrants: the class is the quadrant
    const int n = 256;
    auto x = Tensor::randn({n, 1, 12, 12}, 1);
    x->mult_(0.3f);
    auto y = Tensor::zeros({n, 4});
    for (int i = 0; i < n; ++i) {
        const int q = i % 4, oy = (q / 2) * 6 + 1, ox = (q % 2) * 6 + 1;
        for (int a = 0; a < 4; ++a)
            for (int b = 0; b < 4; ++b) x->set({i, 0, oy + a, ox + b}, x->get({i, 0, oy + a, ox + b}) + 1.0f);
        y->set({i, q}, 1.0f);
    }
    layer in = Input({1, 12, 12});
    layer l = MaxPool2D(ReLu(Conv2D(in, 8, {3, 3})), {2, 2}, {2, 2});
    l = GlobalAveragePool(ReLu(Conv2D(l, 8, {3, 3}, {1, 1}, "same", true, 2)));
    layer out = Softmax(Dense(Flatten(Conv2D(l, 8, {1, 1})), 4));
    model net = Model({in}, {out});
    build(net, adam(0.01f), {"soft_cross_entropy"}, {"accuracy"}, CS_CPU(2));
    fit(net, {x}, {y}, 32, 15, FitOptions{.verbose = 0});
    EXPECT_GT(evaluate(net, {x}, {y}, 64, 0).at("accuracy"), 0.95);
    const std::string path = testing::TempDir() + "cnn.ckpt";
    save_checkpoint(net, path);
    model back = load_checkpoint(path);
    // the same batch size on both sides: how a product's sum is split may depend on its rows
    auto p1 = predict(net, {x}, 64), p2 = predict(back, {x}, 64);
    EXPECT_EQ(p1[0]->to_std(), p2[0]->to_std());
}

TEST(Conv2D, ErrorsNameTheLayer) {
    layer flat = Input({10});
    expect_error([&] { Conv2D(flat, 4, {3, 3}, {1, 1}, "same", true, 1, {1, 1}, "c1"); }, "Conv2D 'c1': input from");
    layer img = Input({3, 5, 5});
    expect_error([&] { Conv2D(img, 4, {3, 3}, {1, 1}, "same", true, 2, {1, 1}, "c2"); }, "groups 2 must divide input channels 3");
    expect_error([&] { Conv2D(img, 4, {7, 7}, {1, 1}, "valid", true, 1, {1, 1}, "c3"); }, "does not fit input size 5");
    expect_error([&] { Conv2D(img, 4, {3, 3}, {1, 1}, "full"); }, "unknown padding 'full'");
    expect_error([&] { MaxPool2D(flat, {2, 2}, {2, 2}, "none", "p1"); }, "MaxPool2D 'p1': input from");
}

TEST(BatchNormalization, MatchesReferenceInBothModes) {
    layer in = Input({3, 4, 5});
    layer bn = BatchNormalization(in, 0.9f, 1e-3f);
    model net = Model({in}, {bn});
    build(net, sgd(), {"mse"}, {}, CS_CPU(2));
    getParams(bn)[0]->fill_rand_normal_(1, 0.2f, 1);
    getParams(bn)[1]->fill_rand_normal_(0, 0.2f, 2);
    auto x = Tensor::randn({4, 3, 4, 5}, 3);
    x->mult_(2.0f).add_(1.0f);
    forward(net, {x});  // training mode
    const float* gamma = getParams(bn)[0]->ptr;
    const float* beta = getParams(bn)[1]->ptr;
    for (int c = 0; c < 3; ++c) {
        double s = 0, sq = 0;
        for (int n = 0; n < 4; ++n)
            for (int i = 0; i < 20; ++i) s += x->ptr[(n * 3 + c) * 20 + i];
        const double mu = s / 80;
        for (int n = 0; n < 4; ++n)
            for (int i = 0; i < 20; ++i) sq += std::pow(x->ptr[(n * 3 + c) * 20 + i] - mu, 2);
        const double var = sq / 80;
        for (int n = 0; n < 4; ++n)
            for (int i = 0; i < 20; ++i) {
                const int at = (n * 3 + c) * 20 + i;
                ASSERT_NEAR(bn->output->ptr[at], gamma[c] * (x->ptr[at] - mu) / std::sqrt(var + 1e-3) + beta[c], 1e-4);
            }
        EXPECT_NEAR(bn->states[0]->ptr[c], 0.1 * mu, 1e-5);                  // 0.9 * 0 + 0.1 * mean
        EXPECT_NEAR(bn->states[1]->ptr[c], 0.9 + 0.1 * sq / 79, 1e-4);      // unbiased variance
    }
    set_mode(net, TSMODE);
    forward(net, {x});
    for (int c = 0; c < 3; ++c) {
        const float rm = bn->states[0]->ptr[c], rv = bn->states[1]->ptr[c];
        const int at = c * 20 + 7;
        EXPECT_NEAR(bn->output->ptr[at], gamma[c] * (x->ptr[at] - rm) / std::sqrt(rv + 1e-3f) + beta[c], 1e-4);
    }
}

TEST(BatchNormalization, GradientsInBothModes) {
    for (bool affine : {true, false})
        for (Shape s : {Shape{3, 4, 5}, Shape{6}}) {
            for (int mode : {TRMODE, TSMODE}) {
                SCOPED_TRACE(std::string(affine ? "affine " : "plain ") + shape_str(s) + (mode == TRMODE ? " train" : " infer"));
                layer in = Input(s);
                layer out = BatchNormalization(in, 0.9f, 1e-3f, affine);
                model net = Model({in}, {out});
                build(net, sgd(), {"mse"}, {}, CS_CPU(1));
                if (affine) getParams(out)[0]->fill_rand_normal_(1, 0.3f, 4);
                out->states[1]->fill_(1.5f);
                Shape xs{4};
                xs.insert(xs.end(), s.begin(), s.end());
                set_mode(net, mode);
                gradcheck::check(net, {Tensor::randn(xs, 5)}, {Tensor::randn(xs, 6)}, 1e-2, 3e-3, 3e-2);
            }
        }
    expect_error([] { BatchNormalization(Input({3}), 1.5f); }, "momentum must be in [0, 1)");
}

TEST(BatchNormalization, TrainsAndCheckpointsRunningStats) {
    auto x = Tensor::randn({128, 2, 6, 6}, 1);
    auto y = Tensor::zeros({128, 2});
    for (int i = 0; i < 128; ++i) {
        const int cls = i % 2;
        for (int j = 0; j < 36; ++j) x->ptr[(i * 2 + cls) * 36 + j] += 3.0f;
        y->set({i, cls}, 1.0f);
    }
    layer in = Input({2, 6, 6});
    layer l = ReLu(BatchNormalization(Conv2D(in, 4, {3, 3}, {1, 1}, "same", false)));
    layer out = Softmax(Dense(Flatten(GlobalAveragePool(l)), 2));
    model net = Model({in}, {out});
    build(net, adam(0.01f), {"sce"}, {"accuracy"}, CS_CPU(2));
    fit(net, {x}, {y}, 32, 5, FitOptions{.verbose = 0});
    EXPECT_GT(evaluate(net, {x}, {y}, 32, 0).at("accuracy"), 0.95);
    const std::string path = testing::TempDir() + "bn.ckpt";
    save_checkpoint(net, path);
    model back = load_checkpoint(path);
    EXPECT_EQ(predict(net, {x}, 32)[0]->to_std(), predict(back, {x}, 32)[0]->to_std());
    save(net, testing::TempDir() + "bn.bin");
    model other = load_checkpoint(path);
    getLayer(other, net->layers[2]->name)->states[0]->fill_(0.0f);
    load(other, testing::TempDir() + "bn.bin");
    EXPECT_EQ(predict(net, {x}, 32)[0]->to_std(), predict(other, {x}, 32)[0]->to_std());
}

TEST(ShapeLayers, UpSamplingPermuteNoise) {
    layer in = Input({2, 3, 4});
    layer up = UpSampling2D(in, {2, 3});
    EXPECT_EQ(up->out_shape, (Shape{2, 6, 12}));
    layer pm = Permute(in, {2, 0, 1});
    EXPECT_EQ(pm->out_shape, (Shape{4, 2, 3}));
    model net = Model({in}, {up, pm});
    build(net, sgd(), {"mse", "mse"}, {}, CS_CPU(1));
    auto x = Tensor::randn({2, 2, 3, 4}, 1);
    forward(net, {x});
    for (int n = 0; n < 2; ++n)
        for (int c = 0; c < 2; ++c)
            for (int y = 0; y < 6; ++y)
                for (int z = 0; z < 12; ++z) ASSERT_EQ(up->output->get({n, c, y, z}), x->get({n, c, y / 2, z / 3}));
    EXPECT_EQ(pm->output->to_std(), x->permute({0, 3, 1, 2})->to_std());
    gradcheck::check(net, {x}, {Tensor::randn({2, 2, 6, 12}, 2), Tensor::randn({2, 4, 2, 3}, 3)});

    layer i2 = Input({50});
    layer gn = GaussianNoise(i2, 0.5f);
    model m2 = Model({i2}, {gn});
    build(m2, sgd(), {"mse"}, {}, CS_CPU(1));
    auto z = Tensor::zeros({40, 50});
    forward(m2, {z});
    EXPECT_NEAR(getOutput(gn)->std(), 0.5f, 0.05f);
    gradcheck::check(m2, {Tensor::randn({2, 50}, 4)}, {Tensor::randn({2, 50}, 5)});  // fixed noise per step
    set_mode(m2, TSMODE);
    forward(m2, {z});
    EXPECT_EQ(getOutput(gn)->abs()->max(), 0.0f);
    expect_error([&] { Permute(in, {0, 0, 1}); }, "not a permutation");
    layer tr = Transpose(in);
    EXPECT_EQ(tr->out_shape, (Shape{2, 4, 3}));
    model m3 = Model({in}, {tr});
    build(m3, sgd(), {"mse"}, {}, CS_CPU(1));
    forward(m3, {x});
    EXPECT_EQ(tr->output->to_std(), x->permute({0, 1, 3, 2})->to_std());
    expect_error([&] { Transpose(i2); }, "needs at least two axes");
}

TEST(GroupNormalization, MatchesReferenceAndGradients) {
    struct Case {
        Shape shape;
        int groups;  // 0: LayerNormalization
    } cases[] = {{{6}, 0}, {{3, 4, 5}, 0}, {{4, 3, 3}, 2}, {{4, 3, 3}, 1}, {{4, 3, 3}, 4}};
    for (const auto& c : cases)
        for (bool affine : {true, false}) {
            SCOPED_TRACE(shape_str(c.shape) + " groups " + std::to_string(c.groups) + (affine ? " affine" : ""));
            layer in = Input(c.shape);
            layer out = c.groups == 0 ? LayerNormalization(in, 1e-5f, affine) : GroupNormalization(in, c.groups, 1e-5f, affine);
            model net = Model({in}, {out});
            build(net, sgd(), {"mse"}, {}, CS_CPU(1));
            if (affine) {
                getParams(out)[0]->fill_rand_normal_(1, 0.3f, 1);
                getParams(out)[1]->fill_rand_normal_(0, 0.3f, 2);
            }
            Shape xs{3};
            xs.insert(xs.end(), c.shape.begin(), c.shape.end());
            auto x = Tensor::randn(xs, 3);
            forward(net, {x});
            // reference: per sample and group, (x - mean) / sqrt(var + eps), then the affine
            const int64_t per = x->size / 3, ch = c.shape[0], s = per / ch;
            const int64_t groups = c.groups == 0 ? 1 : c.groups, gsize = per / groups;
            for (int64_t n = 0; n < 3; ++n)
                for (int64_t g = 0; g < groups; ++g) {
                    const float* p = x->ptr + n * per + g * gsize;
                    double mu = 0, var = 0;
                    for (int64_t i = 0; i < gsize; ++i) mu += p[i];
                    mu /= double(gsize);
                    for (int64_t i = 0; i < gsize; ++i) var += (p[i] - mu) * (p[i] - mu);
                    var /= double(gsize);
                    for (int64_t i = 0; i < gsize; ++i) {
                        const int64_t e = g * gsize + i;  // element within the sample
                        const int64_t k = c.groups == 0 ? e : e / s;  // affine index
                        const double gm = affine ? getParams(out)[0]->ptr[k] : 1.0, bt = affine ? getParams(out)[1]->ptr[k] : 0.0;
                        ASSERT_NEAR(out->output->ptr[n * per + e], gm * (p[i] - mu) / std::sqrt(var + 1e-5) + bt, 1e-4);
                    }
                }
            gradcheck::check(net, {x}, {Tensor::randn(xs, 4)}, 1e-2, 3e-3, 3e-2);
        }
    expect_error([] { GroupNormalization(Input({6, 2, 2}), 4); }, "groups 4 must divide the 6 channels");
}

// ConvT1D and ConvT3D (the same oneDNN primitive with other dimensions): a scatter reference over
// any number of spatial dimensions, gradients, checkpoints, and output sizes.
TEST(ConvT1D3D, MatchReferenceAndGradients) {
    struct C {
        Shape in;  // {C, spatial...}
        int f, k, s, d;
        std::string padding;
        Shape want;
    } cases[] = {{{3, 7}, 2, 3, 2, 1, "same", {2, 14}},         {{2, 5}, 3, 3, 1, 2, "valid", {3, 9}},
                 {{2, 3, 4, 3}, 2, 2, 2, 1, "same", {2, 6, 8, 6}}, {{2, 2, 3, 2}, 2, 3, 1, 1, "valid", {2, 4, 5, 4}}};
    for (const auto& c : cases) {
        SCOPED_TRACE(std::to_string(&c - cases));
        const int r = int(c.in.size()) - 1;
        layer in = Input(c.in);
        const std::vector<int> k(size_t(r), c.k), st(size_t(r), c.s), dl(size_t(r), c.d);
        layer out = r == 1 ? ConvT1D(in, c.f, k, st, c.padding, true, dl) : ConvT3D(in, c.f, k, st, c.padding, true, dl);
        ASSERT_EQ(out->out_shape, c.want);
        EXPECT_EQ(out->type(), r == 1 ? "ConvT1D" : "ConvT3D");
        auto* t = dynamic_cast<LConvT2D*>(out.get());
        model net = Model({in}, {out});
        build(net, sgd(), {"mse"}, {}, CS_CPU(2));
        getParams(out)[1]->fill_rand_normal_(0, 1, 1);
        Shape xs{2};
        xs.insert(xs.end(), c.in.begin(), c.in.end());
        auto x = Tensor::randn(xs, 2);
        forward(net, {x});
        const Tensor& w = *getParams(out)[0];
        const int begin[3] = {t->pf, t->pt, t->pl};  // d, h, w
        Shape isp(c.in.begin() + 1, c.in.end()), osp(c.want.begin() + 1, c.want.end());
        int64_t ip = 1, opn = 1, kp = 1;
        for (int v : isp) ip *= v;
        for (int v : osp) opn *= v;
        for (int i = 0; i < r; ++i) kp *= c.k;
        std::vector<double> y(size_t(out->output->size));
        for (int n = 0; n < 2; ++n)
            for (int o = 0; o < c.f; ++o)
                for (int64_t i = 0; i < opn; ++i) y[size_t((n * c.f + o) * opn + i)] = getParams(out)[1]->ptr[o];
        for (int n = 0; n < 2; ++n)
            for (int ci = 0; ci < c.in[0]; ++ci)
                for (int64_t ii = 0; ii < ip; ++ii)
                    for (int o = 0; o < c.f; ++o)
                        for (int64_t kk = 0; kk < kp; ++kk) {
                            int64_t rem_i = ii, rem_k = kk, oidx = 0;
                            bool inside = true;
                            std::vector<int> iv(static_cast<size_t>(r)), kv(iv), ov(iv);
                            for (int a = r - 1; a >= 0; --a) {
                                iv[size_t(a)] = int(rem_i % isp[size_t(a)]);
                                rem_i /= isp[size_t(a)];
                                kv[size_t(a)] = int(rem_k % c.k);
                                rem_k /= c.k;
                            }
                            for (int a = 0; a < r; ++a) {
                                ov[size_t(a)] = iv[size_t(a)] * c.s - begin[3 - r + a] + kv[size_t(a)] * c.d;
                                inside = inside && ov[size_t(a)] >= 0 && ov[size_t(a)] < osp[size_t(a)];
                                oidx = oidx * (inside ? osp[size_t(a)] : 1) + (inside ? ov[size_t(a)] : 0);
                            }
                            if (!inside) continue;
                            const double wv = w.ptr[((int64_t(ci) * c.f + o) * kp) + kk];
                            y[size_t((n * c.f + o) * opn + oidx)] += double(x->ptr[(int64_t(n) * c.in[0] + ci) * ip + ii]) * wv;
                        }
        for (size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(out->output->ptr[i], y[i], 1e-4) << "element " << i;
        Shape ys{2};
        ys.insert(ys.end(), c.want.begin(), c.want.end());
        gradcheck::check(net, {x}, {Tensor::randn(ys, 3)});
        const std::string path = testing::TempDir() + "convt13.ckpt";
        save_checkpoint(net, path);
        EXPECT_EQ(predict(load_checkpoint(path), {x})[0]->to_std(), predict(net, {x})[0]->to_std());
    }
    expect_error([] { ConvT3D(Input({2, 3, 3}), 2, {2, 2, 2}); }, "ConvT3D");
}

TEST(ConvT2D, MatchesReferenceAndGradients) {
    struct C {
        int c, h, w, f, k, s, d;
        std::string padding;
        std::vector<int> pads, opad;
        Shape want;  // output shape
    } cases[] = {
        {3, 4, 5, 2, 3, 2, 1, "same", {}, {}, {2, 8, 10}},
        {3, 4, 5, 2, 2, 2, 1, "same", {}, {}, {2, 8, 10}},     // the U-Net upsampling step
        {2, 3, 3, 3, 3, 1, 1, "valid", {}, {}, {3, 5, 5}},
        {2, 3, 4, 2, 3, 2, 2, "valid", {}, {}, {2, 9, 11}},    // dilation
        {2, 4, 4, 2, 3, 2, 1, "", {1, 1}, {1, 1}, {2, 8, 8}},  // PyTorch padding 1, output_padding 1
        {2, 4, 4, 2, 4, 2, 1, "", {1, 0}, {0, 0}, {2, 8, 10}},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(std::to_string(&c - cases));
        layer in = Input({c.c, c.h, c.w});
        layer out = c.pads.empty() ? ConvT2D(in, c.f, {c.k, c.k}, {c.s, c.s}, c.padding, true, {c.d, c.d})
                                   : ConvT2D(in, c.f, {c.k, c.k}, {c.s, c.s}, c.pads, c.opad, true, {c.d, c.d});
        ASSERT_EQ(out->out_shape, c.want);
        auto* t = dynamic_cast<LConvT2D*>(out.get());
        model net = Model({in}, {out});
        build(net, sgd(), {"mse"}, {}, CS_CPU(2));
        getParams(out)[1]->fill_rand_normal_(0, 1, 1);
        auto x = Tensor::randn({2, c.c, c.h, c.w}, 2);
        forward(net, {x});
        // reference: every input pixel scatters its kernel-weighted value into the output
        const Tensor& w = *getParams(out)[0];
        std::vector<double> y(size_t(out->output->size), 0.0);
        const int oh = c.want[1], ow = c.want[2];
        for (int n = 0; n < 2; ++n)
            for (int o = 0; o < c.f; ++o)
                for (int i = 0; i < oh * ow; ++i) y[(size_t(n) * c.f + o) * oh * ow + i] = getParams(out)[1]->ptr[o];
        for (int n = 0; n < 2; ++n)
            for (int ci = 0; ci < c.c; ++ci)
                for (int iy = 0; iy < c.h; ++iy)
                    for (int ix = 0; ix < c.w; ++ix)
                        for (int o = 0; o < c.f; ++o)
                            for (int ky = 0; ky < c.k; ++ky)
                                for (int kx = 0; kx < c.k; ++kx) {
                                    const int oy = iy * c.s - t->pt + ky * c.d, ox = ix * c.s - t->pl + kx * c.d;
                                    if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
                                    y[((size_t(n) * c.f + o) * oh + oy) * ow + ox] +=
                                        double(x->get({n, ci, iy, ix})) * w.get({ci, o, ky, kx});
                                }
        for (size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(out->output->ptr[i], y[i], 1e-4) << "element " << i;
        Shape ys{2};
        ys.insert(ys.end(), c.want.begin(), c.want.end());
        gradcheck::check(net, {x}, {Tensor::randn(ys, 3)});
        const std::string path = testing::TempDir() + "convt.ckpt";
        save_checkpoint(net, path);
        EXPECT_EQ(predict(load_checkpoint(path), {x})[0]->to_std(), predict(net, {x})[0]->to_std());
    }
    expect_error([] { ConvT2D(Input({2, 3, 3}), 2, {1, 1}, {2, 2}); }, "at least the stride");
}

// Memory levels change what is kept, never the numbers: the same steps give the same weights
// bit for bit; low_mem leaves no delta allocated after a step; inference never allocates deltas.
TEST(MemoryLevels, SameResultsFewerLiveDeltas) {
    auto make = [](const std::string& mem) {
        model net = ResNet18({3, 32, 32}, 4);
        build(net, sgd(0.05f, 0.9f), {"soft_cross_entropy"}, {}, CS_CPU(2, mem));
        return net;
    };
    auto x = Tensor::randn({4, 3, 32, 32}, 5);
    auto y = Tensor::onehot(*Tensor::arange(0, 4), 4);
    std::vector<std::vector<float>> weights;
    for (std::string mem : {"full_mem", "mid_mem", "low_mem"}) {
        SCOPED_TRACE(mem);
        model net = make(mem);
        predict(net, {x});
        for (const auto& l : net->layers) EXPECT_FALSE(l->delta) << l->name << ": inference allocated a delta";
        for (int s = 0; s < 3; ++s) train_batch(net, {x}, {y});
        int live = 0;
        for (const auto& l : net->layers) live += l->delta != nullptr;
        if (mem == "full_mem") EXPECT_GT(live, 50);
        else if (mem == "low_mem") EXPECT_EQ(live, 0);
        weights.push_back(getParams(net->layers[1])[0]->to_std());
        EXPECT_EQ(weights.back(), weights.front()) << "first convolution after 3 steps differs from full_mem";
    }
}

// ---- Conv1D / Conv3D, 1-D / 3-D pooling ----
namespace {

// Plain 3-D reference over {N, C, D, H, W} (1-D runs through it with D = H = 1).
struct Geo3 {
    int c, d, h, w, filters, groups;
    int k[3], s[3], dil[3], pb[3];  // kernel, stride, dilation, begin padding per (d, h, w)
};

std::vector<float> ref_conv3(const Tensor& x, const Tensor& wt, const Tensor* b, const Geo3& g, const int out[3]) {
    const int n = x.shape[0], cpg = g.c / g.groups, fpg = g.filters / g.groups;
    const int in[3] = {g.d, g.h, g.w};
    std::vector<float> y;
    for (int i = 0; i < n; ++i)
        for (int f = 0; f < g.filters; ++f)
            for (int oz = 0; oz < out[0]; ++oz)
                for (int oy = 0; oy < out[1]; ++oy)
                    for (int ox = 0; ox < out[2]; ++ox) {
                        double acc = b ? b->ptr[f] : 0.0;
                        for (int ci = 0; ci < cpg; ++ci)
                            for (int kz = 0; kz < g.k[0]; ++kz)
                                for (int ky = 0; ky < g.k[1]; ++ky)
                                    for (int kx = 0; kx < g.k[2]; ++kx) {
                                        const int o[3] = {oz, oy, ox}, kk[3] = {kz, ky, kx};
                                        int p[3];
                                        bool inside = true;
                                        for (int a = 0; a < 3; ++a) {
                                            p[a] = o[a] * g.s[a] - g.pb[a] + kk[a] * g.dil[a];
                                            inside = inside && p[a] >= 0 && p[a] < in[a];
                                        }
                                        if (!inside) continue;
                                        const int64_t xi =
                                            (((int64_t(i) * g.c + (f / fpg) * cpg + ci) * g.d + p[0]) * g.h + p[1]) * g.w + p[2];
                                        const int64_t wi = (((int64_t(f) * cpg + ci) * g.k[0] + kz) * g.k[1] + ky) * g.k[2] + kx;
                                        acc += double(x.ptr[xi]) * wt.ptr[wi];
                                    }
                        y.push_back(float(acc));
                    }
    return y;
}

}  // namespace

TEST(Conv3D, MatchesReferenceAndGradients) {
    struct C {
        int c, d, h, w, filters, groups, k[3], s[3], dil[3];
        std::string padding;
        std::vector<int> pads;
    } cases[] = {
        {2, 5, 6, 4, 3, 1, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, "same", {}},
        {2, 6, 5, 5, 4, 2, {3, 2, 3}, {2, 1, 2}, {1, 1, 1}, "valid", {}},
        {4, 6, 6, 6, 4, 4, {3, 3, 3}, {1, 2, 1}, {2, 1, 1}, "same", {}},          // depthwise, dilated
        {1, 4, 5, 6, 2, 1, {2, 3, 3}, {1, 1, 2}, {1, 1, 1}, "", {1, 0, 1, 1, 0, 2}},  // asymmetric explicit
    };
    for (const C& c : cases) {
        SCOPED_TRACE("case " + std::to_string(&c - cases));
        layer in = Input({c.c, c.d, c.h, c.w});
        const std::vector<int> k(c.k, c.k + 3), s(c.s, c.s + 3), dil(c.dil, c.dil + 3);
        layer out = c.pads.empty() ? Conv3D(in, c.filters, k, s, c.padding, true, c.groups, dil)
                                   : Conv3D(in, c.filters, k, s, c.pads, true, c.groups, dil);
        auto* conv = dynamic_cast<LConv2D*>(out.get());
        EXPECT_EQ(out->type(), "Conv3D");
        EXPECT_EQ(getParams(out)[0]->shape, (Shape{c.filters, c.c / c.groups, c.k[0], c.k[1], c.k[2]}));
        model net = Model({in}, {out});
        build(net, sgd(), {"mse"}, {}, CS_CPU(2));
        getParams(out)[1]->fill_rand_normal_(0, 1, 3);
        auto x = Tensor::randn({2, c.c, c.d, c.h, c.w}, 4);
        forward(net, {x});
        Geo3 g{c.c, c.d, c.h, c.w, c.filters, c.groups, {c.k[0], c.k[1], c.k[2]}, {c.s[0], c.s[1], c.s[2]},
               {c.dil[0], c.dil[1], c.dil[2]}, {conv->pf, conv->pt, conv->pl}};
        const int o[3] = {out->out_shape[1], out->out_shape[2], out->out_shape[3]};
        const auto want = ref_conv3(*x, *getParams(out)[0], getParams(out)[1].get(), g, o);
        ASSERT_EQ(out->output->size, int64_t(want.size()));
        for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(out->output->ptr[i], want[i], 1e-4f) << "element " << i;
        Shape ys{2};
        ys.insert(ys.end(), out->out_shape.begin(), out->out_shape.end());
        gradcheck::check(net, {x}, {Tensor::randn(ys, 5)});
    }
    // Keras "same": output = ceil(in / stride) per dimension
    layer in = Input({1, 7, 6, 5});
    EXPECT_EQ(Conv3D(in, 2, {3, 3, 3}, {2, 2, 2})->out_shape, (Shape{2, 4, 3, 3}));
    expect_error([&] { Conv3D(Input({1, 6, 6}), 2, {3, 3, 3}); }, "{channels, depth, height, width}");
    expect_error([&] { Conv3D(in, 2, {3, 3}); }, "need 3 value(s) each");
}

TEST(Conv1D, MatchesReferenceAndGradients) {
    struct C {
        int c, l, filters, groups, k, s, dil;
        std::string padding;
        std::vector<int> pads;
    } cases[] = {{3, 11, 4, 1, 3, 1, 1, "same", {}}, {2, 12, 4, 2, 5, 2, 1, "valid", {}},
                 {2, 10, 2, 1, 3, 1, 3, "same", {}}, {1, 9, 3, 1, 4, 2, 1, "", {2, 1}}};
    for (const C& c : cases) {
        SCOPED_TRACE("case " + std::to_string(&c - cases));
        layer in = Input({c.c, c.l});
        layer out = c.pads.empty() ? Conv1D(in, c.filters, {c.k}, {c.s}, c.padding, true, c.groups, {c.dil})
                                   : Conv1D(in, c.filters, {c.k}, {c.s}, c.pads, true, c.groups, {c.dil});
        auto* conv = dynamic_cast<LConv2D*>(out.get());
        EXPECT_EQ(out->type(), "Conv1D");
        EXPECT_EQ(out->out_shape.size(), 2u);
        model net = Model({in}, {out});
        build(net, sgd(), {"mse"}, {}, CS_CPU(2));
        getParams(out)[1]->fill_rand_normal_(0, 1, 3);
        auto x = Tensor::randn({2, c.c, c.l}, 6);
        forward(net, {x});
        Geo3 g{c.c, 1, 1, c.l, c.filters, c.groups, {1, 1, c.k}, {1, 1, c.s}, {1, 1, c.dil}, {0, 0, conv->pl}};
        const int o[3] = {1, 1, out->out_shape[1]};
        const auto want = ref_conv3(*x, *getParams(out)[0], getParams(out)[1].get(), g, o);
        ASSERT_EQ(out->output->size, int64_t(want.size()));
        for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(out->output->ptr[i], want[i], 1e-4f) << "element " << i;
        gradcheck::check(net, {x}, {Tensor::randn({2, out->out_shape[0], out->out_shape[1]}, 7)});
    }
    EXPECT_EQ(Conv1D(Input({2, 10}), 3, {3}, {2})->out_shape, (Shape{3, 5}));
}

TEST(Pool1D3D, MatchReferenceAndGradients) {
    // 3-D: brute force over the window, both kinds, with "same" padding and stride 1 / 2
    for (bool mx : {true, false})
        for (std::string pad : {"none", "same"}) {
            SCOPED_TRACE(std::string(mx ? "max " : "avg ") + pad);
            layer in = Input({2, 5, 6, 5});
            layer out = mx ? MaxPool3D(in, {2, 3, 2}, {2, 2, 1}, pad) : AveragePool3D(in, {2, 3, 2}, {2, 2, 1}, pad);
            auto* pl = dynamic_cast<LPool2D*>(out.get());
            EXPECT_EQ(out->type(), mx ? "MaxPool3D" : "AveragePool3D");
            model net = Model({in}, {out});
            build(net, sgd(), {"mse"}, {}, CS_CPU(2));
            auto x = Tensor::randn({2, 2, 5, 6, 5}, 9);
            for (int64_t i = 0; i < x->size; ++i) x->ptr[i] += 0.05f * float(i % 37);  // no ties
            forward(net, {x});
            const Shape& os = out->out_shape;
            for (int n = 0; n < 2; ++n)
                for (int c = 0; c < 2; ++c)
                    for (int oz = 0; oz < os[1]; ++oz)
                        for (int oy = 0; oy < os[2]; ++oy)
                            for (int ox = 0; ox < os[3]; ++ox) {
                                double best = -1e30, sum = 0;
                                int cnt = 0;
                                for (int kz = 0; kz < 2; ++kz)
                                    for (int ky = 0; ky < 3; ++ky)
                                        for (int kx = 0; kx < 2; ++kx) {
                                            const int z = oz * 2 - pl->pf + kz, y = oy * 2 - pl->pt + ky,
                                                      xx = ox - pl->pl + kx;
                                            if (z < 0 || z >= 5 || y < 0 || y >= 6 || xx < 0 || xx >= 5) continue;
                                            const double v = x->get({n, c, z, y, xx});
                                            best = std::max(best, v);
                                            sum += v;
                                            ++cnt;
                                        }
                                ASSERT_NEAR(out->output->get({n, c, oz, oy, ox}), mx ? best : sum / cnt, 1e-5);
                            }
            Shape ys{2};
            ys.insert(ys.end(), os.begin(), os.end());
            gradcheck::check(net, {x}, {Tensor::randn(ys, 10)}, 1e-3);
        }
    // 1-D and the global forms of both ranks
    for (bool mx : {true, false}) {
        layer in = Input({3, 9});
        layer p = mx ? MaxPool1D(in, {3}, {2}, "same") : AvgPool1D(in, {3}, {2}, "same");
        EXPECT_EQ(p->out_shape, (Shape{3, 5}));
        layer g1 = mx ? GlobalMaxPool(in) : GlobalAveragePool1D(in);
        EXPECT_EQ(g1->out_shape, (Shape{3, 1}));
        layer in3 = Input({2, 3, 4, 5});
        layer g3 = mx ? GlobalMaxPool3D(in3) : GlobalAveragePool(in3);
        EXPECT_EQ(g3->out_shape, (Shape{2, 1, 1, 1}));
        model net = Model({in, in3}, {p, g1, g3});
        build(net, sgd(), {"mse", "mse", "mse"}, {}, CS_CPU(1));
        auto x1 = Tensor::randn({2, 3, 9}, 13), x3 = Tensor::randn({2, 2, 3, 4, 5}, 14);
        for (int64_t i = 0; i < x1->size; ++i) x1->ptr[i] += 0.05f * float(i % 37);
        for (int64_t i = 0; i < x3->size; ++i) x3->ptr[i] += 0.05f * float(i % 37);
        forward(net, {x1, x3});
        auto want1 = mx ? x1->max({2}) : x1->mean({2});
        auto want3 = mx ? x3->max({2, 3, 4}) : x3->mean({2, 3, 4});
        for (int i = 0; i < 6; ++i) EXPECT_NEAR(g1->output->ptr[i], want1->ptr[i], 1e-5f);
        for (int i = 0; i < 4; ++i) EXPECT_NEAR(g3->output->ptr[i], want3->ptr[i], 1e-5f);
        gradcheck::check(net, {x1, x3},
                         {Tensor::randn({2, 3, 5}, 15), Tensor::randn({2, 3, 1}, 16), Tensor::randn({2, 2, 1, 1, 1}, 17)},
                         1e-3);
    }
    expect_error([] { MaxPool3D(Input({2, 5, 5}), {2, 2, 2}); }, "3-D pooling needs");
}

TEST(Conv3D, VolumeAndSignalNetsCheckpoint) {
    // a 3-D branch for a small volume and a 1-D branch for a signal, merged: every new layer type
    // must survive a checkpoint
    layer vol = Input({1, 6, 8, 8}), sig = Input({2, 16});
    layer a = GlobalAveragePool(ReLu(Conv3D(MaxPool3D(Conv3D(vol, 4, {3, 3, 3}), {2, 2, 2}, {2, 2, 2}), 4, {1, 3, 3},
                                            {1, 1, 1}, std::vector<int>{0, 1, 1})));
    layer b = GlobalMaxPool1D(ReLu(Conv1D(AvgPool1D(Conv1D(sig, 4, {5}, {1}, "same", true, 2), {2}, {2}), 4, {3})));
    layer out = Softmax(Dense(Concat({Flatten(a), Flatten(b)}), 3));
    model net = Model({vol, sig}, {out});
    build(net, adam(0.01f), {"soft_cross_entropy"}, {}, CS_CPU(2));
    auto xv = Tensor::randn({4, 1, 6, 8, 8}, 1), xs = Tensor::randn({4, 2, 16}, 2);
    auto labels = Tensor::zeros({4});
    for (int i = 0; i < 4; ++i) labels->ptr[i] = float(i % 3);
    auto y = Tensor::onehot(*labels, 3);
    train_batch(net, {xv, xs}, {y});
    const std::string path = testing::TempDir() + "vol.ckpt";
    save_checkpoint(net, path);
    model back = load_checkpoint(path);
    EXPECT_EQ(back->summary(), net->summary());
    EXPECT_EQ(predict(net, {xv, xs})[0]->to_std(), predict(back, {xv, xs})[0]->to_std());
}

// ---- UpSampling (nearest, bilinear, 3-D), Pad, Crop, Embedding ----

TEST(UpSampling, BilinearMatchesPyTorchAndReference) {
    // torch.nn.Upsample(scale_factor=2, mode="bilinear")(torch.tensor([[[[1., 2.], [3., 5.]]]]))
    layer in = Input({1, 2, 2});
    layer up = UpSampling2D(in, {2, 2}, "bilinear");
    model net = Model({in}, {up});
    build(net, sgd(), {"mse"}, {}, CS_CPU(1));
    auto x = Tensor::zeros({1, 1, 2, 2});
    x->ptr[0] = 1; x->ptr[1] = 2; x->ptr[2] = 3; x->ptr[3] = 5;
    forward(net, {x});
    const std::vector<float> want = {1.0f, 1.25f, 1.75f, 2.0f,    1.5f, 1.8125f, 2.4375f, 2.75f,
                                     2.5f, 2.9375f, 3.8125f, 4.25f, 3.0f, 3.5f, 4.5f, 5.0f};
    EXPECT_EQ(up->output->to_std(), want);
    // gradients of every mode and rank, and non-square factors
    for (std::string mode : {"nearest", "bilinear"}) {
        SCOPED_TRACE(mode);
        layer i2 = Input({2, 3, 4}), i3 = Input({2, 2, 3, 2});
        layer u2 = UpSampling2D(i2, {2, 3}, mode);
        layer u3 = UpSampling3D(i3, {2, 1, 3}, mode == "bilinear" ? "trilinear" : mode);
        EXPECT_EQ(u2->out_shape, (Shape{2, 6, 12}));
        EXPECT_EQ(u3->out_shape, (Shape{2, 4, 3, 6}));
        model m = Model({i2, i3}, {u2, u3});
        build(m, sgd(), {"mse", "mse"}, {}, CS_CPU(2));
        auto a = Tensor::randn({2, 2, 3, 4}, 1), b = Tensor::randn({2, 2, 2, 3, 2}, 2);
        forward(m, {a, b});
        // nearest 3-D: every output reads its source voxel
        if (mode == "nearest")
            for (int z = 0; z < 4; ++z)
                for (int x3 = 0; x3 < 6; ++x3) EXPECT_EQ(u3->output->get({1, 1, z, 2, x3}), b->get({1, 1, z / 2, 2, x3 / 3}));
        gradcheck::check(m, {a, b}, {Tensor::randn({2, 2, 6, 12}, 3), Tensor::randn({2, 2, 4, 3, 6}, 4)});
    }
    expect_error([&] { UpSampling2D(in, {2, 2}, "bicubic"); }, "unknown interpolation 'bicubic'");
    expect_error([&] { UpSampling3D(in); }, "{channels, depth, height, width}");
}

TEST(PadAndCrop, ValuesGradientsAndErrors) {
    layer in = Input({2, 4, 5});
    layer pad = Pad(in, {1, 0, 2, 3}, -1.0f);  // top 1, bottom 0, left 2, right 3
    EXPECT_EQ(pad->out_shape, (Shape{2, 5, 10}));
    layer crop = Crop(in, {1, 1}, {2, 3});  // rows 1..2, cols 1..3
    EXPECT_EQ(crop->out_shape, (Shape{2, 2, 3}));
    layer same = Crop(in, {1, 1}, {2, 3}, false, 7.0f);
    EXPECT_EQ(same->out_shape, (Shape{2, 4, 5}));
    layer centre = CenteredCrop(in, {2, 3});
    EXPECT_EQ(centre->type(), "CenteredCrop");
    model net = Model({in}, {pad, crop, same, centre});
    build(net, sgd(), {"mse", "mse", "mse", "mse"}, {}, CS_CPU(2));
    auto x = Tensor::randn({2, 2, 4, 5}, 1);
    forward(net, {x});
    for (int c = 0; c < 2; ++c)
        for (int y = 0; y < 5; ++y)
            for (int xx = 0; xx < 10; ++xx) {
                const bool inside = y >= 1 && xx >= 2 && xx < 7;
                EXPECT_EQ(pad->output->get({1, c, y, xx}), inside ? x->get({1, c, y - 1, xx - 2}) : -1.0f);
            }
    for (int y = 0; y < 4; ++y)
        for (int xx = 0; xx < 5; ++xx) {
            const bool inside = y >= 1 && y <= 2 && xx >= 1 && xx <= 3;
            if (inside) EXPECT_EQ(crop->output->get({0, 1, y - 1, xx - 1}), x->get({0, 1, y, xx}));
            EXPECT_EQ(same->output->get({0, 1, y, xx}), inside ? x->get({0, 1, y, xx}) : 7.0f);
        }
    EXPECT_EQ(centre->output->get({1, 0, 0, 0}), x->get({1, 0, 1, 1}));
    gradcheck::check(net, {x}, {Tensor::randn({2, 2, 5, 10}, 2), Tensor::randn({2, 2, 2, 3}, 3),
                                Tensor::randn({2, 2, 4, 5}, 4), Tensor::randn({2, 2, 2, 3}, 5)});
    expect_error([&] { Crop(in, {0, 3}, {3, 5}); }, "does not fit dimension 1");
    expect_error([&] { Pad(in, {1, 1, 1}); }, "padding needs 2 values");
    expect_error([&] { CenteredCrop(in, {5, 1}); }, "does not fit dimension 0");
}

TEST(Embedding, LooksUpAndLearnsRows) {
    layer in = Input({4});
    layer emb = Embedding(in, 6, 4, 3, true);
    EXPECT_EQ(emb->out_shape, (Shape{4, 3}));
    model net = Model({in}, {emb});
    build(net, sgd(0.1f), {"mse"}, {}, CS_CPU(1));
    const Tensor& table = *getParams(emb)[0];
    auto x = Tensor::zeros({2, 4});
    const float ids[] = {1, 5, 1, 0, 2, 2, 3, 4};  // repeats, and a padding index 0
    for (int i = 0; i < 8; ++i) x->ptr[i] = ids[i];
    forward(net, {x});
    for (int i = 0; i < 8; ++i)
        for (int d = 0; d < 3; ++d)
            EXPECT_EQ(emb->output->ptr[i * 3 + d], ids[i] == 0 ? 0.0f : table.get({int(ids[i]), d}));
    // d(mse)/d(row v) = sum over positions holding v of 2 (y - t) / numel
    auto t = Tensor::randn({2, 4, 3}, 7);
    net->zero_grads();
    net->backward({t});
    std::vector<double> want(18, 0.0);
    for (int i = 0; i < 8; ++i)
        for (int d = 0; d < 3; ++d)
            if (ids[i] != 0)
                want[size_t(ids[i]) * 3 + d] += 2.0 * (emb->output->ptr[i * 3 + d] - t->ptr[i * 3 + d]) / 24.0;
    for (int i = 0; i < 18; ++i) EXPECT_NEAR(emb->gradients[0]->ptr[i], want[size_t(i)], 1e-6) << "table element " << i;
    x->ptr[3] = 6;
    expect_error([&] { forward(net, {x}); }, "index 6 at position 3 is not a whole number in [0, 6)");
    x->ptr[3] = 1.5f;
    expect_error([&] { forward(net, {x}); }, "index 1.5");
}

TEST(PadAndCrop, EveryNewLayerSurvivesACheckpoint) {
    layer img = Input({2, 6, 6}), vol = Input({1, 2, 3, 3}), words = Input({5});
    layer a = CenteredCrop(Crop(Pad(UpSampling2D(img, {2, 2}, "bilinear"), {1, 2}, 0.5f), {0, 1}, {9, 12}, false), {8, 8});
    layer b = UpSampling3D(vol, {2, 2, 2}, "trilinear");
    layer c = Embedding(words, 10, 5, 4, true);
    layer out = Softmax(Dense(Concat({Flatten(a), Flatten(b), Flatten(c)}), 3));
    model net = Model({img, vol, words}, {out});
    build(net, adam(0.01f), {"soft_cross_entropy"}, {}, CS_CPU(2));
    auto xi = Tensor::randn({2, 2, 6, 6}, 1), xv = Tensor::randn({2, 1, 2, 3, 3}, 2), xw = Tensor::zeros({2, 5});
    for (int i = 0; i < 10; ++i) xw->ptr[i] = float(i);
    auto y = Tensor::zeros({2, 3});
    y->set({0, 1}, 1.0f);
    y->set({1, 2}, 1.0f);
    train_batch(net, {xi, xv, xw}, {y});
    const std::string path = testing::TempDir() + "spatial.ckpt";
    save_checkpoint(net, path);
    model back = load_checkpoint(path);
    EXPECT_EQ(back->summary(), net->summary());
    EXPECT_EQ(predict(net, {xi, xv, xw})[0]->to_std(), predict(back, {xi, xv, xw})[0]->to_std());
}

// Inference fusion: Conv -> BatchNorm -> ReLu chains computed as one convolution give the
// unfused results; chains whose inner outputs are used elsewhere are left alone.
TEST(InferenceFusion, EqualsTheUnfusedLayers) {
    layer in = Input({3, 10, 10}), vol = Input({2, 4, 6, 6});
    layer a = ReLu(BatchNormalization(Conv2D(in, 8, {3, 3}), 0.9f, 1e-3f));            // conv-bn-relu
    layer b = ReLu(Conv2D(a, 8, {3, 3}, {2, 2}, "same", true, 2));                      // conv-relu, grouped
    layer bn = BatchNormalization(Conv2D(b, 4, {1, 1}, {1, 1}, "valid", false));        // conv-bn, no bias
    layer c = Add({ReLu(bn), bn});                                                     // bn feeds two: no relu fusion
    layer d = ReLu(BatchNormalization(Conv3D(vol, 4, {3, 3, 3}, {1, 2, 2})));          // 3-D
    model net = Model({in, vol}, {Flatten(c), Flatten(d)});
    build(net, sgd(0.1f), {"mse", "mse"}, {}, CS_CPU(2));
    auto x = Tensor::randn({3, 3, 10, 10}, 1), xv = Tensor::randn({3, 2, 4, 6, 6}, 2);
    // a few training steps so the running statistics and affine parameters are not the defaults
    auto t1 = Tensor::randn({3, 4 * 5 * 5}, 3), t2 = Tensor::randn({3, 4 * 4 * 3 * 3}, 4);
    for (int i = 0; i < 3; ++i) train_batch(net, {x, xv}, {t1, t2});
    net->fuse_inference = false;
    const auto plain = predict(net, {x, xv});
    net->fuse_inference = true;
    const auto fused = predict(net, {x, xv});
    for (int o = 0; o < 2; ++o) {
        ASSERT_EQ(plain[o]->shape, fused[o]->shape);
        for (int64_t i = 0; i < plain[o]->size; ++i)
            ASSERT_NEAR(fused[o]->ptr[i], plain[o]->ptr[i], 1e-4f + 1e-4f * std::fabs(plain[o]->ptr[i]))
                << "output " << o << " element " << i;
    }
    // training mode never fuses: the batch statistics are used
    train_batch(net, {x, xv}, {t1, t2});
}

// Fused inference through pooling, merges of a reshaped and a computed input, and layers that
// need NCHW (Concat, Flatten, a second output read mid-network) gives the plain path's results.
TEST(InferenceFusion, PoolingAndMixedInputs) {
    layer in = Input({3, 12, 12});
    layer a = ReLu(BatchNormalization(Conv2D(in, 8, {3, 3}), 0.9f, 1e-3f));
    layer p1 = MaxPool2D(a, {3, 3}, {2, 2}, "same");                                 // 6x6
    layer b = Conv2D(p1, 8, {3, 3});                                                 // conv alone
    layer p2 = AveragePool2D(ReLu(b), {2, 2}, {2, 2}, "same");                       // 3x3
    layer mixed = Add({p2, AveragePool2D(Reshape(Flatten(p1), {8, 6, 6}), {2, 2}, {2, 2})});
    layer g = GlobalAveragePool(mixed);
    layer cat = Concat({UpSampling2D(mixed, {2, 2}), p1}, 0);                        // needs NCHW
    layer side = Sigmoid(b);                                                         // an output mid-network
    model net = Model({in}, {Flatten(g), Flatten(cat), side});
    build(net, adam(0.01f), {"mse", "mse", "mse"}, {}, CS_CPU(2));
    auto x = Tensor::randn({2, 3, 12, 12}, 1);
    auto t0 = Tensor::randn({2, 8}, 2), t1 = Tensor::randn({2, 16 * 36}, 3), t2 = Tensor::randn({2, 8, 6, 6}, 4);
    for (int i = 0; i < 2; ++i) train_batch(net, {x}, {t0, t1, t2});
    net->fuse_inference = false;
    const auto plain = predict(net, {x});
    net->fuse_inference = true;
    const auto fused = predict(net, {x});
    for (size_t o = 0; o < plain.size(); ++o)
        for (int64_t i = 0; i < plain[o]->size; ++i)
            ASSERT_NEAR(fused[o]->ptr[i], plain[o]->ptr[i], 1e-4f + 1e-4f * std::fabs(plain[o]->ptr[i]))
                << "output " << o << " element " << i;
}

namespace {
void expect_outputs_near(const vtensor& got, const vtensor& want, const std::string& what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    for (size_t o = 0; o < want.size(); ++o) {
        ASSERT_EQ(got[o]->shape, want[o]->shape) << what;
        for (int64_t i = 0; i < want[o]->size; ++i)
            ASSERT_NEAR(got[o]->ptr[i], want[o]->ptr[i], 1e-4f + 1e-4f * std::fabs(want[o]->ptr[i]))
                << what << ": output " << o << " element " << i;
    }
}

// bit for bit: the same training on the same data
void expect_same_weights(const model& a, const model& b) {
    ASSERT_EQ(a->layers.size(), b->layers.size());
    for (size_t i = 0; i < a->layers.size(); ++i)
        for (size_t j = 0; j < a->layers[i]->params.size(); ++j)
            for (int64_t e = 0; e < a->layers[i]->params[j]->size; ++e)
                ASSERT_EQ(a->layers[i]->params[j]->ptr[e], b->layers[i]->params[j]->ptr[e])
                    << "layer " << a->layers[i]->name << " parameter " << j << " element " << e;
}

vtensor predict_plain(model net, const vtensor& x) {
    net->fuse_inference = false;
    auto r = predict(net, x);
    net->fuse_inference = true;
    return r;
}
}  // namespace

// Channel counts in whole blocks (16 with AVX-512, 8 with AVX2) run in oneDNN's blocked layout from convolution to
// convolution through ReLu, Add, batch normalization, pooling and a global pool, with 3x3 stride-1 convolutions as
// Winograd transforms and batch normalization folded into the weights: the same results as the
// plain layers, with and without Winograd, next to channels that are not whole blocks (20).
TEST(InferenceFusion, BlockedLayoutAndWinogradEqualThePlainLayers) {
    layer in = Input({3, 20, 20});
    layer a = ReLu(BatchNormalization(Conv2D(in, 16, {3, 3}), 0.9f, 1e-3f));        // NCHW in, blocked out
    layer b = ReLu(BatchNormalization(Conv2D(a, 32, {3, 3}), 0.9f, 1e-3f));         // Winograd-shaped
    layer p1 = MaxPool2D(b, {2, 2}, {2, 2});                                          // blocked pooling, 10x10
    layer c = BatchNormalization(Conv2D(p1, 32, {3, 3}, {1, 1}, "same", false));      // no bias: folded shift
    layer skip = Conv2D(p1, 32, {1, 1});
    layer r = ReLu(BatchNormalization(Add({c, skip}), 0.9f, 1e-3f));                 // blocked, not folded
    layer p2 = AveragePool2D(r, {3, 3}, {2, 2}, "same");                             // 5x5
    layer odd = ReLu(Conv2D(p2, 20, {3, 3}));                                         // 20: back to NCHW
    layer d = Conv2D(odd, 16, {3, 3}, {1, 1}, "same", true, 1, {2, 2});               // dilated: direct
    layer dw = ReLu(BatchNormalization(DepthwiseConv2D(p2, {3, 3}), 0.9f, 1e-3f));   // grouped, blocked in
    layer g = GlobalAveragePool(Add({d, PointwiseConv2D(dw, 16, {1, 1})}));
    model net = Model({in}, {Flatten(g), Flatten(p1), r});
    build(net, adam(0.01f), {"mse", "mse", "mse"}, {}, CS_CPU(2));
    auto x = Tensor::randn({2, 3, 20, 20}, 1);
    auto t0 = Tensor::randn({2, 16}, 2), t1 = Tensor::randn({2, 32 * 100}, 3), t2 = Tensor::randn({2, 32, 10, 10}, 4);
    for (int i = 0; i < 3; ++i) train_batch(net, {x}, {t0, t1, t2});
    const auto plain = predict_plain(net, {x});
    expect_outputs_near(predict(net, {x}), plain, "Winograd");
    expect_outputs_near(predict(net, {x}), plain, "Winograd, packed weights reused");
    net->winograd = false;
    expect_outputs_near(predict(net, {x}), plain, "direct");
    net->winograd = true;
    // a batch of another size gets its own primitives and packs
    auto x3 = Tensor::randn({3, 3, 20, 20}, 5);
    expect_outputs_near(predict(net, {x3}), predict_plain(net, {x3}), "batch 3");
    expect_outputs_near(predict(net, {x}), plain, "batch 2 again");
}

// Inference keeps each convolution's weights converted (and its batch normalization folded in)
// between calls: every way the library changes weights or statistics is seen by the next call.
TEST(InferenceFusion, PackedWeightsFollowEveryWeightChange) {
    layer in = Input({16, 8, 8});
    layer cv = Conv2D(in, 16, {3, 3});
    layer bn = BatchNormalization(cv, 0.9f, 1e-3f);
    model net = Model({in}, {Flatten(ReLu(bn))});
    build(net, sgd(0.1f), {"mse"}, {}, CS_CPU(1));
    auto x = Tensor::randn({2, 16, 8, 8}, 1), t = Tensor::randn({2, 16 * 64}, 2);
    auto check = [&](const std::string& what) {
        const auto fused = predict(net, {x});
        expect_outputs_near(fused, predict_plain(net, {x}), what);
        return fused[0];
    };
    auto changed = [&](const tensor& before, const tensor& after, const std::string& what) {
        double diff = 0;
        for (int64_t i = 0; i < before->size; ++i) diff += std::fabs(before->ptr[i] - after->ptr[i]);
        EXPECT_GT(diff, 1e-3) << what << " did not change the output";
    };
    tensor y = check("first call");
    train_batch(net, {x}, {t});
    tensor y2 = check("after a training step");
    changed(y, y2, "a training step");
    setParams(cv, {Tensor::randn({16, 16, 3, 3}, 7), Tensor::randn({16}, 8)});
    tensor y3 = check("after setParams");
    changed(y2, y3, "setParams");
    const std::string f = (std::filesystem::temp_directory_path() / "packed_weights_test.bin").string();
    save(net, f);
    getParams(cv)[0]->fill_(0.5f);
    tensor y4 = check("after writing through getParams");
    changed(y3, y4, "writing through getParams");
    load(net, f);
    tensor y5 = check("after load");
    changed(y4, y5, "load");
    std::filesystem::remove(f);
    tensor w = cv->params[0];  // a handle kept from before: set_mode says it was written
    predict(net, {x});
    w->fill_(-0.25f);
    set_mode(net, TSMODE);
    tensor y6 = check("after a direct write and set_mode");
    changed(y5, y6, "a direct write");
    set_mode(net, TRMODE);
    forward(net, {x});  // training mode: moves the running statistics
    tensor y7 = check("after a training-mode forward");
    changed(y6, y7, "a training-mode forward");
}

// Fused inference shares activation buffers by lifetime: outputs equal the plain path through
// reshapes (views), a skip connection read many layers later, an output taken mid-network and
// changing batch sizes; fewer buffers than layers are used; and training afterwards gets every
// layer's own activations back (the same weights as a run that never predicted).
TEST(InferenceFusion, SharedActivationBuffers) {
    auto make = [] {
        layer in = Input({16, 12, 12});
        layer a = ReLu(Conv2D(in, 16, {3, 3}));
        layer b = ReLu(BatchNormalization(Conv2D(a, 16, {3, 3}), 0.9f, 1e-3f));
        layer c = ReLu(Conv2D(b, 16, {3, 3}));
        layer r = Reshape(Flatten(c), {16, 12, 12});                                 // views of c
        layer d = Add({Conv2D(r, 16, {1, 1}), a});                                    // a read late
        layer mid = Sigmoid(b);                                                       // output mid-network
        layer p = MaxPool2D(d, {2, 2}, {2, 2});
        layer head = Dense(Flatten(p), 5);
        model net = Model({in}, {Softmax(head), mid});
        build(net, sgd(0.05f, 0.9f), {"soft_cross_entropy", "mse"}, {}, CS_CPU(2));
        return net;
    };
    model net = make(), twin = make();
    auto x = Tensor::randn({4, 16, 12, 12}, 1), x3 = Tensor::randn({3, 16, 12, 12}, 2);
    auto y = Tensor::zeros({4, 5}), t = Tensor::randn({4, 16, 12, 12}, 3);
    for (int i = 0; i < 4; ++i) y->ptr[i * 5 + i % 5] = 1.0f;
    train_batch(net, {x}, {y, t});
    train_batch(twin, {x}, {y, t});
    for (const auto& xs : {x, x3, x}) expect_outputs_near(predict(net, {xs}), predict_plain(net, {xs}), "shared buffers");
    predict(net, {x}, 4);  // the training batch size: training must not find the buffers shared
    std::set<const float*> buffers;
    size_t computed = 0;
    for (const auto& l : net->layers) {
        if (l->type() == "Input" || l->type() == "Reshape" || l->type() == "Flatten") continue;
        ++computed;
        buffers.insert(l->output->ptr);
    }
    EXPECT_LT(buffers.size(), computed) << "no activation buffer was shared";
    train_batch(net, {x}, {y, t});
    train_batch(twin, {x}, {y, t});
    expect_same_weights(net, twin);
}

// Layers shared by two networks (transfer learning builds a new Model on an old one's layers):
// inference on one, then training the other, trains on the layers' own activations.
TEST(InferenceFusion, SharedLayersTrainAfterTheOtherNetworkPredicts) {
    auto make = [](model& first, model& second) {
        layer in = Input({16, 8, 8});
        layer a = ReLu(Conv2D(in, 16, {3, 3}));
        layer b = ReLu(Conv2D(a, 16, {3, 3}));
        layer c = Add({ReLu(Conv2D(b, 16, {3, 3})), a});
        layer out = Softmax(Dense(Flatten(c), 4));
        first = Model({in}, {out});
        build(first, sgd(0.05f), {"soft_cross_entropy"}, {}, CS_CPU(1));
        second = Model({in}, {out});
        build(second, sgd(0.05f), {"soft_cross_entropy"}, {}, CS_CPU(1), false);
    };
    model a, b, ta, tb;
    make(a, b);
    make(ta, tb);
    auto x = Tensor::randn({2, 16, 8, 8}, 1), y = Tensor::zeros({2, 4});
    y->ptr[1] = y->ptr[6] = 1.0f;
    predict(a, {x}, 2);
    train_batch(b, {x}, {y});
    train_batch(tb, {x}, {y});
    expect_same_weights(b, tb);
}

// Backward after an inference-mode forward (frozen statistics, gradients for a saliency map):
// the fused forward keeps no inner activations, so backward must not read them (it did, and
// returned wrong gradients); it gives what the unfused network gives, and predict fuses again.
// Backward runs each layer in the mode of the forward it differentiates, not the current one.
TEST(InferenceFusion, BackwardDifferentiatesTheLastForward) {
    std::vector<float> grads[2];
    tensor out_before;
    for (int fuse = 0; fuse < 2; ++fuse) {
        layer in = Input({3, 16, 16});
        layer l = ReLu(BatchNormalization(Conv2D(in, 16, {3, 3})));
        l = MaxPool2D(ReLu(BatchNormalization(Conv2D(l, 16, {3, 3}))), {2, 2});
        model net = Model({in}, {Softmax(Dense(Flatten(l), 4))});
        set_seed(net, 7);
        net->fuse_inference = fuse;
        build(net, sgd(0.01f), {"soft_cross_entropy"}, {}, CS_CPU(2));
        auto x = Tensor::randn({2, 3, 16, 16}, 3), y = Tensor::zeros({2, 4});
        y->set({0, 1}, 1.0f);
        y->set({1, 2}, 1.0f);
        set_mode(net, TSMODE);
        zeroGrads(net);
        forward(net, {x});
        if (fuse) EXPECT_TRUE(Tensor::equivalent(*net->outputs[0]->output, *out_before, 1e-5f));
        else out_before = net->outputs[0]->output->clone();
        set_mode(net, TRMODE);  // backward still differentiates that inference-mode forward
        backward(net, {y});
        EXPECT_EQ(net->layers[2]->mode, TRMODE);
        grads[fuse] = getGradients(net->layers[1])[0]->to_std();
        if (fuse) {
            const auto again = predict(net, {x}, 2)[0];
            EXPECT_TRUE(Tensor::equivalent(*again, *out_before, 1e-5f));
        }
    }
    EXPECT_EQ(grads[1], grads[0]);
    // and the other way round: a training-mode forward, then set_mode(TSMODE) before backward
    std::vector<float> train_grads[2];
    for (int switched = 0; switched < 2; ++switched) {
        layer in = Input({3, 8, 8});
        layer l = Dropout(ReLu(BatchNormalization(Conv2D(in, 8, {3, 3}))), 0.5f);
        model net = Model({in}, {Softmax(Dense(Flatten(l), 4))});
        set_seed(net, 9);
        build(net, sgd(0.01f), {"soft_cross_entropy"}, {}, CS_CPU(2));
        auto x = Tensor::randn({4, 3, 8, 8}, 4), y = Tensor::zeros({4, 4});
        for (int i = 0; i < 4; ++i) y->set({i, i}, 1.0f);
        set_mode(net, TRMODE);
        zeroGrads(net);
        forward(net, {x});
        if (switched) set_mode(net, TSMODE);
        backward(net, {y});
        train_grads[switched] = getGradients(net->layers[1])[0]->to_std();
    }
    EXPECT_EQ(train_grads[1], train_grads[0]);
}

// After a fused inference forward, inner layers' outputs were fused away or their buffers reused:
// getOutput says so instead of returning another layer's activation; the model's inputs and
// outputs stay readable, and everything is again after a plain forward.
TEST(InferenceFusion, GetOutputOfALayerFusedAwayThrows) {
    layer in = Input({3, 12, 12});
    layer conv = Conv2D(in, 8, {3, 3});
    layer relu = ReLu(BatchNormalization(conv));
    layer out = Softmax(Dense(Flatten(MaxPool2D(ReLu(Conv2D(relu, 8, {3, 3})), {2, 2})), 3));
    model net = Model({in}, {out});
    build(net, sgd(0.01f), {"soft_cross_entropy"}, {}, CS_CPU(1));
    auto x = Tensor::randn({2, 3, 12, 12}, 5);
    predict(net, {x}, 2);
    for (const layer& l : {conv, relu})
        expect_error([&] { getOutput(l); }, "'" + l->name + "' is not kept by the last forward");
    EXPECT_EQ(getOutput(in)->shape, (Shape{2, 3, 12, 12}));
    EXPECT_EQ(getOutput(out)->shape, (Shape{2, 3}));
    set_mode(net, TRMODE);
    forward(net, {x});
    EXPECT_EQ(getOutput(conv)->shape, (Shape{2, 8, 12, 12}));
    net->fuse_inference = false;
    predict(net, {x}, 2);
    EXPECT_EQ(getOutput(relu)->shape, (Shape{2, 8, 12, 12}));
}

// The blocked layout is the one oneDNN's fast kernels use on this CPU (nChw16c with AVX-512,
// nChw8c with AVX2): on it, its convolution, batch normalization and pooling are JIT kernels, not
// its reference loops (nChw16c on an AVX2 CPU got reference batch normalization and pooling and
// trained ResNet-18 at a quarter of PyTorch's speed). ctest runs this suite again with oneDNN
// held to AVX2 (DNNL_MAX_CPU_ISA), so an AVX-512 machine checks both block sizes.
TEST(BlockedLayout, IsWhatOneDnnComputesInOnThisCpu) {
    using namespace eddl::cpu;
    const int b = kernels(Device{}).block;
    ASSERT_TRUE(b == 8 || b == 16) << b;
    EXPECT_EQ(b, block_channels());
    const memory::desc data({4, 32, 10, 10}, f32, blocked_tag()), small({4, 32, 5, 5}, f32, blocked_tag());
    auto& eng = onednn_engine();
    const auto flags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
    const std::string bn = dnnl::batch_normalization_forward::primitive_desc(
                               dnnl::batch_normalization_forward::desc(dnnl::prop_kind::forward_training, data, 1e-5f, flags),
                               eng)
                               .impl_info_str();
    const std::string pool = dnnl::pooling_forward::primitive_desc(
                                 dnnl::pooling_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::pooling_max,
                                                             data, small, {2, 2}, {2, 2}, {0, 0}, {0, 0}),
                                 eng)
                                 .impl_info_str();
    const std::string conv =
        dnnl::convolution_forward::primitive_desc(
            dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, data,
                                            memory::desc({32, 32, 3, 3}, f32, tag::any), data, {1, 1}, {1, 1}, {1, 1}),
            eng)
            .impl_info_str();
    for (const auto& [what, impl] : {std::pair{"batch normalization", bn}, std::pair{"pooling", pool}, std::pair{"convolution", conv}})
        EXPECT_TRUE(impl.find("jit") != std::string::npos) << what << " on the blocked layout runs " << impl;
    // and the kernel table's (B = 8 or 16) is the layout unblocked() reads
    layer in = Input({3, 6, 6});
    layer c = Conv2D(in, 16, {3, 3});
    model net = Model({in}, {Flatten(GlobalAveragePool(ReLu(c)))});
    build(net, sgd(), {"mse"}, {}, CS_CPU(1));
    auto x = Tensor::randn({2, 3, 6, 6}, 1);
    train_batch(net, {x}, {Tensor::zeros({2, 16})});
    ASSERT_TRUE(c->blocked);
    const Tensor& raw = *c->output;
    auto nchw = getOutput(c);
    for (int n = 0; n < 2; ++n)
        for (int ch = 0; ch < 16; ++ch)
            for (int hw = 0; hw < 36; ++hw)
                ASSERT_EQ(nchw->ptr[(n * 16 + ch) * 36 + hw], raw.ptr[((n * (16 / b) + ch / b) * 36 + hw) * b + ch % b]);
}

// NCHW <-> [N][C/B][H][W][B], the channel-blocked layout.
std::vector<float> to_blocked(const Tensor& t, int B) {
    const int n = t.shape[0], c = t.shape[1], hw = t.shape[2] * t.shape[3];
    std::vector<float> out(t.size);
    for (int i = 0; i < n; ++i)
        for (int ch = 0; ch < c; ++ch)
            for (int p = 0; p < hw; ++p) out[((size_t(i) * (c / B) + ch / B) * hw + p) * B + ch % B] = t.ptr[(size_t(i) * c + ch) * hw + p];
    return out;
}
float blocked_at(const std::vector<float>& v, int c, int hw, int B, int i, int ch, int p) {
    return v[((size_t(i) * (c / B) + ch / B) * hw + p) * B + ch % B];
}

// Our Winograd F(2x2, 3x3), which inference uses where oneDNN has no Winograd kernel (AVX2),
// against the plain reference loops, for both block sizes whatever the CPU: odd sizes (tiles
// half outside), no, symmetric and asymmetric padding, two images, bias, a folded scale, ReLU,
// tiles in several chunks, transposed and rotated weights (training's backward data), the weight
// gradient (accumulated); and bit for bit the same results on 1 and 3 threads.
TEST(Winograd, F23MatchesTheReferenceForBothBlockSizes) {
    const int threads = omp_get_max_threads();
    for (int B : {8, 16})
        for (const auto& p : {std::array<int, 4>{1, 1, 1, 1}, std::array<int, 4>{0, 0, 0, 0}, std::array<int, 4>{0, 1, 1, 0}})
            for (bool relu : {false, true}) {
                SCOPED_TRACE("block " + std::to_string(B) + " pads t b l r " + std::to_string(p[0]) + std::to_string(p[1]) +
                             std::to_string(p[2]) + std::to_string(p[3]) + (relu ? " relu" : ""));
                const int ic = B, oc = 2 * B, ih = 7, iw = 9, oh = ih + p[0] + p[1] - 2, ow = iw + p[2] + p[3] - 2;
                const Cfg c{ic, ih, iw, oc, 3, 3, 1, 1, 1, 1, 1, "", {}};
                auto x = Tensor::randn({2, ic, ih, iw}, 1), w = Tensor::randn({oc, ic, 3, 3}, 2);
                auto scale = Tensor::randn({oc}, 3), bias = Tensor::randn({oc}, 4), ws = w->clone();
                for (int64_t i = 0; i < ws->size; ++i) ws->ptr[i] *= scale->ptr[i / (ic * 9)];
                std::vector<float> want = ref_conv(*x, *ws, bias.get(), oh, ow, p[0], p[2], c);
                if (relu)
                    for (auto& v : want) v = std::max(v, 0.0f);

                ConvGeom g{2, ic, ih, iw, oc, oh, ow, 3, 3, 1, 1, p[0], p[2], p[1], p[3], 1, 1, 1};
                g.src_blocked = g.dst_blocked = true;
                ASSERT_TRUE(cpu::winograd_f23_fits(g, B));
                std::vector<float> U(size_t(cpu::winograd_f23_weights_size(g)));
                cpu::winograd_f23_weights(g, w->ptr, scale->ptr, U.data());
                const int chunk = 16;  // 40 or 32 tiles: three or two chunks
                std::vector<float> src = to_blocked(*x, B), V(size_t(16) * chunk * ic), M(size_t(16) * chunk * oc);
                std::vector<std::vector<float>> got;
                for (int t : {1, 3}) {
                    omp_set_num_threads(t);
                    got.emplace_back(size_t(2) * oc * oh * ow, -1.0f);
                    cpu::winograd_f23(g, B, src.data(), U.data(), bias->ptr, relu, got.back().data(), V.data(), M.data(), chunk);
                }
                omp_set_num_threads(threads);
                EXPECT_EQ(got[0], got[1]) << "results depend on the thread count";
                double worst = 0;
                for (int i = 0; i < 2; ++i)
                    for (int f = 0; f < oc; ++f)
                        for (int q = 0; q < oh * ow; ++q) {
                            const float r = want[(size_t(i) * oc + f) * oh * ow + q];
                            const float o = blocked_at(got[0], oc, oh * ow, B, i, f, q);
                            ASSERT_NEAR(o, r, 1e-4f * (1.0f + std::fabs(r))) << "image " << i << " filter " << f << " pixel " << q;
                            worst = std::max(worst, double(std::fabs(o - r)));
                        }
                std::cout << "block " << B << ": largest difference " << worst << "\n";
                if (relu) continue;
                // transposed weights (backward data): filter (o, i) is wl[i][o] rotated by 180 degrees
                auto wl = Tensor::randn({ic, oc, 3, 3}, 5), w2 = Tensor::zeros({oc, ic, 3, 3});
                for (int o = 0; o < oc; ++o)
                    for (int i = 0; i < ic; ++i)
                        for (int t = 0; t < 9; ++t) w2->ptr[(o * ic + i) * 9 + t] = wl->ptr[(i * oc + o) * 9 + 8 - t];
                want = ref_conv(*x, *w2, nullptr, oh, ow, p[0], p[2], c);
                cpu::winograd_f23_weights(g, wl->ptr, nullptr, U.data(), true);
                cpu::winograd_f23(g, B, src.data(), U.data(), nullptr, false, got[0].data(), V.data(), M.data(), chunk);
                for (int i = 0; i < 2; ++i)
                    for (int f = 0; f < oc; ++f)
                        for (int q = 0; q < oh * ow; ++q) {
                            const float r = want[(size_t(i) * oc + f) * oh * ow + q];
                            ASSERT_NEAR(blocked_at(got[0], oc, oh * ow, B, i, f, q), r, 1e-4f * (1.0f + std::fabs(r)))
                                << "transposed weights: image " << i << " filter " << f << " pixel " << q;
                        }
                // weight gradient (the dual F(3x3, 2x2)) from the input and an output gradient dy,
                // added to what dw holds, on 1 and 3 threads
                auto dy = Tensor::randn({2, oc, oh, ow}, 6);
                std::vector<double> dw_want(size_t(oc) * ic * 9, 0.5);
                for (int n = 0; n < 2; ++n)
                    for (int o = 0; o < oc; ++o)
                        for (int i = 0; i < ic; ++i)
                            for (int t = 0; t < 9; ++t)
                                for (int y = 0; y < oh; ++y)
                                    for (int xx = 0; xx < ow; ++xx) {
                                        const int iy = y + t / 3 - p[0], ix = xx + t % 3 - p[2];
                                        if (iy >= 0 && iy < ih && ix >= 0 && ix < iw)
                                            dw_want[(size_t(o) * ic + i) * 9 + t] +=
                                                double(dy->get({n, o, y, xx})) * x->get({n, i, iy, ix});
                                    }
                const std::vector<float> dyb = to_blocked(*dy, B);
                std::vector<float> E(size_t(16) * chunk * oc), S(size_t(16) * oc * ic);
                std::vector<std::vector<float>> dws;
                for (int t : {1, 3}) {
                    omp_set_num_threads(t);
                    dws.emplace_back(size_t(oc) * ic * 9, 0.5f);
                    cpu::winograd_f23_weight_grad(g, B, src.data(), dyb.data(), dws.back().data(), true, V.data(), E.data(),
                                                  S.data(), chunk);
                }
                omp_set_num_threads(threads);
                EXPECT_EQ(dws[0], dws[1]) << "weight gradient depends on the thread count";
                for (size_t k = 0; k < dw_want.size(); ++k)
                    ASSERT_NEAR(dws[0][k], dw_want[k], 1e-4 * (1.0 + std::fabs(dw_want[k]))) << "weight gradient element " << k;
            }
}

// Training keeps activations whose channels come in whole blocks (of 16 or 8) blocked through
// convolution, batch normalization (training and inference statistics; affine, frozen and without
// scale and shift), max and average pooling
// (padded, and global), ReLu, Add, transposed convolution and Concat, computed by oneDNN's blocked
// kernels: the same losses,
// gradients, running statistics and weights as the NCHW layers, next to channels that are not
// whole blocks (20), a layer that needs NCHW (Concat of rows) and an output mid-network.
TEST(BlockedTraining, EqualsTheNchwLayers) {
    auto make = [](bool blocked) {
        layer in = Input({3, 16, 16});
        layer a = ReLu(BatchNormalization(Conv2D(in, 16, {3, 3}), 0.9f, 1e-3f));
        layer p1 = MaxPool2D(a, {3, 3}, {2, 2}, "same");                                 // padded, 8x8
        layer b = ReLu(BatchNormalization(Conv2D(p1, 32, {3, 3}), 0.9f, 1e-3f, true, "frozen_bn"));
        layer c = BatchNormalization(Conv2D(b, 32, {3, 3}, {1, 1}, "same", false), 0.9f, 1e-3f, false, "plain_bn");
        layer r = ReLu(Add({c, Conv2D(p1, 32, {1, 1})}));
        layer p2 = AveragePool2D(r, {2, 2}, {2, 2});                                     // 4x4
        layer odd = ReLu(BatchNormalization(Conv2D(p2, 20, {3, 3})));                    // 20: NCHW
        layer cat = Concat({Conv2D(odd, 16, {1, 1}), ReLu(Conv2D(p2, 16, {3, 3}))}, 1);  // rows: NCHW
        layer up = ConvT2D(p2, 16, {2, 2}, {2, 2});                                        // 8x8, blocked
        layer cat2 = Concat({up, b}, 0);                                                // blocked concat
        layer g = Add({GlobalAveragePool(ReLu(Conv2D(cat, 16, {1, 1}))),                 // 1x1 from blocked
                       GlobalAveragePool(MaxPool2D(Conv2D(cat2, 16, {1, 1}), {2, 2}, {2, 2}))});
        layer side = Sigmoid(Conv2D(p1, 16, {1, 1}));                                    // output mid-network
        model net = Model({in}, {Softmax(Dense(Flatten(g), 4)), side});
        net->blocked_training = blocked;
        build(net, sgd(0.05f, 0.9f), {"soft_cross_entropy", "mse"}, {}, CS_CPU(2));
        setTrainable(net, "frozen_bn", false);  // statistics still move; gamma and beta do not
        return net;
    };
    model net = make(true), plain = make(false);
    auto x = Tensor::randn({4, 3, 16, 16}, 1), t = Tensor::randu({4, 16, 8, 8}, 2);
    auto y = Tensor::zeros({4, 4});
    for (int i = 0; i < 4; ++i) y->ptr[i * 4 + (i * 3) % 4] = 1.0f;
    auto near = [](const Tensor& got, const Tensor& want, const std::string& what) {
        ASSERT_EQ(got.shape, want.shape) << what;
        for (int64_t i = 0; i < want.size; ++i)
            ASSERT_NEAR(got.ptr[i], want.ptr[i], 2e-4f + 2e-4f * std::fabs(want.ptr[i])) << what << " element " << i;
    };
    auto same_state = [&](const std::string& when) {
        for (size_t l = 0; l < net->layers.size(); ++l) {
            const Layer& a = *net->layers[l];
            const Layer& b = *plain->layers[l];
            for (size_t j = 0; j < a.params.size(); ++j)
                near(*a.params[j], *b.params[j], when + ": " + a.name + " parameter " + std::to_string(j));
            for (size_t j = 0; j < a.gradients.size(); ++j)
                near(*a.gradients[j], *b.gradients[j], when + ": " + a.name + " gradient " + std::to_string(j));
            for (size_t j = 0; j < a.states.size(); ++j)
                near(*a.states[j], *b.states[j], when + ": " + a.name + " state " + std::to_string(j));
        }
    };
    for (int step = 0; step < 3; ++step) {
        train_batch(net, {x}, {y, t});
        train_batch(plain, {x}, {y, t});
        same_state("step " + std::to_string(step));
    }
    std::vector<std::string> blocked;
    for (const auto& l : net->layers)
        if (l->blocked) blocked.push_back(l->name);
    // conv, bn, relu, max pool; conv, bn, relu; conv, bn, shortcut conv, add, relu, average pool;
    // transposed conv, channel concat; the convs, relu and pool before the global pools
    EXPECT_EQ(blocked.size(), 19u) << "layers trained blocked";
    for (const auto& l : plain->layers) EXPECT_FALSE(l->blocked) << l->name;
    for (size_t l = 0; l < net->layers.size(); ++l)  // getOutput gives NCHW whatever the layout
        near(*getOutput(net->layers[l]), *getOutput(plain->layers[l]), "output of " + net->layers[l]->name);
    // inference statistics without fusion, forward and backward (a frozen batch normalization)
    expect_outputs_near(predict_plain(net, {x}), predict_plain(plain, {x}), "inference statistics");
    for (const auto& m : {net, plain}) {
        m->set_mode(TSMODE);
        m->fuse_inference = false;
        m->forward({x});
        m->zero_grads();
        m->backward({y, t});
    }
    same_state("backward with inference statistics");
}
