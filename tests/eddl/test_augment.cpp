// Data-augmentation layers: exact results of the deterministic ones against index arithmetic
// (and UpSampling2D), border rules, the random ones' draws (seeded, per sample, pass-through in
// inference), finite-difference gradients, checkpoints and errors.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "expect_error.h"
#include "gradcheck.h"
#include "layers/layers.h"

using namespace eddl;

namespace {

// Runs `l` (built on `in`) on x in the given mode; returns its output.
tensor run(layer in, layer l, const tensor& x, int mode = TSMODE, int threads = 1, uint64_t seed = 1234) {
    model net = Model({in}, {l});
    net->seed = seed;
    build(net, sgd(), {"mse"}, {}, CS_CPU(threads));
    set_mode(net, mode);
    forward(net, {x});
    return l->output->clone();
}

tensor ramp(const Shape& s) {  // distinct values, so every misplaced pixel shows
    auto t = Tensor::zeros(s);
    for (int64_t i = 0; i < t->size; ++i) t->ptr[i] = float(i % 97) * 0.5f - 7.0f;
    return t;
}

}  // namespace

TEST(Augment, DeterministicTransformsAreExact) {
    const int H = 5, W = 6;
    auto x = ramp({2, 3, H, W});
    layer in = Input({3, H, W});
    auto v = run(in, Flip(in, 0), x), h = run(in, HorizontalFlip(in), x);
    auto sh = run(in, Shift(in, {1, -2}, "constant", 9.0f), x);
    auto cut = run(in, Cutout(in, {1, 2}, {3, 4}, -1.0f), x);
    for (int n = 0; n < 2; ++n)
        for (int c = 0; c < 3; ++c)
            for (int y = 0; y < H; ++y)
                for (int xx = 0; xx < W; ++xx) {
                    const float px = x->get({n, c, y, xx});
                    EXPECT_EQ(v->get({n, c, H - 1 - y, xx}), px);
                    EXPECT_EQ(h->get({n, c, y, W - 1 - xx}), px);
                    const int sy = y - 1, sx = xx + 2;
                    EXPECT_EQ(sh->get({n, c, y, xx}), sy >= 0 && sx < W ? x->get({n, c, sy, sx}) : 9.0f);
                    const bool inside = y >= 1 && y <= 3 && xx >= 2 && xx <= 4;
                    EXPECT_EQ(cut->get({n, c, y, xx}), inside ? -1.0f : px);
                }
    // quarter turns of a square image: counter-clockwise as displayed
    auto sq = ramp({1, 2, 5, 5});
    layer in2 = Input({2, 5, 5});
    auto r90 = run(in2, Rotate(in2, 90.0f), sq), r180 = run(in2, Rotate(in2, 180.0f), sq);
    for (int c = 0; c < 2; ++c)
        for (int y = 0; y < 5; ++y)
            for (int xx = 0; xx < 5; ++xx) {
                EXPECT_NEAR(r90->get({0, c, y, xx}), sq->get({0, c, xx, 4 - y}), 1e-4f);
                EXPECT_NEAR(r180->get({0, c, y, xx}), sq->get({0, c, 4 - y, 4 - xx}), 1e-4f);
            }
    // Scale to twice the size is bilinear upsampling (same half-pixel rule); to the same size, a copy
    auto up = run(in, UpSampling2D(in, {2, 2}, "bilinear"), x), sc = run(in, Scale(in, {2 * H, 2 * W}), x);
    for (int64_t i = 0; i < up->size; ++i) EXPECT_NEAR(sc->ptr[i], up->ptr[i], 1e-5f);
    EXPECT_EQ(run(in, Scale(in, {H, W}), x)->to_std(), x->to_std());
}

TEST(Augment, BorderRules) {
    auto x = ramp({1, 1, 1, 5});  // one row: a b c d e
    layer in = Input({1, 1, 5});
    auto row = [&](const std::string& mode) { return run(in, Shift(in, {0, 2}, mode, 7.0f), x)->to_std(); };
    const float a = x->ptr[0], b = x->ptr[1], c = x->ptr[2], d = x->ptr[3], e = x->ptr[4];
    EXPECT_EQ(row("constant"), (std::vector<float>{7, 7, a, b, c}));
    EXPECT_EQ(row("nearest"), (std::vector<float>{a, a, a, b, c}));
    EXPECT_EQ(row("reflect"), (std::vector<float>{c, b, a, b, c}));
    EXPECT_EQ(row("wrap"), (std::vector<float>{d, e, a, b, c}));
    EXPECT_EQ(row("original"), (std::vector<float>{a, b, a, b, c}));
}

TEST(Augment, RandomLayersDrawPerSampleAndRepeat) {
    const int N = 32;
    auto one = ramp({1, 2, 6, 8});
    auto x = Tensor::zeros({N, 2, 6, 8});
    for (int i = 0; i < N; ++i) std::copy(one->ptr, one->ptr + one->size, x->ptr + i * one->size);
    layer in = Input({2, 6, 8});
    // inference: pass through (RandomCrop: the centred crop)
    for (layer l : {RandomFlip(in, 1), RandomRotation(in, {-30, 30}), RandomScale(in, {0.8f, 1.2f}),
                    RandomShift(in, {-0.2f, 0.2f}, {-0.2f, 0.2f}), RandomCutout(in, {0.1f, 0.3f}, {0.1f, 0.3f}),
                    RandomCropScale(in, {0.5f, 0.9f})})
        EXPECT_EQ(run(in, l, x)->to_std(), x->to_std()) << l->type();
    EXPECT_EQ(run(in, RandomCrop(in, {4, 6}), x)->to_std(), run(in, Crop(in, {1, 1}, {4, 6}), x)->to_std());

    // training: each sample its own draw; same seed, same result at any thread count
    auto flips = run(in, RandomHorizontalFlip(in), x, TRMODE);
    int flipped = 0;
    for (int i = 0; i < N; ++i) flipped += flips->get({i, 0, 0, 0}) != one->get({0, 0, 0, 0});
    EXPECT_GT(flipped, 4);
    EXPECT_LT(flipped, N - 4);
    for (auto make : std::vector<std::function<layer(layer)>>{
             [](layer l) { return RandomRotation(l, {-30, 30}); },
             [](layer l) { return RandomCropScale(l, {0.5f, 0.9f}); },
             [](layer l) { return RandomCutout(l, {0.1f, 0.5f}, {0.1f, 0.5f}, 3.0f); }}) {
        layer i1 = Input({2, 6, 8}), i2 = Input({2, 6, 8}), i3 = Input({2, 6, 8});
        const auto a = run(i1, make(i1), x, TRMODE, 1, 7), b = run(i2, make(i2), x, TRMODE, 2, 7),
                   c = run(i3, make(i3), x, TRMODE, 2, 8);
        EXPECT_EQ(a->to_std(), b->to_std()) << "thread count changed the draws";
        EXPECT_NE(a->to_std(), c->to_std()) << "another seed gave the same draws";
        EXPECT_NE(std::vector<float>(a->ptr, a->ptr + one->size), std::vector<float>(a->ptr + one->size, a->ptr + 2 * one->size))
            << "two samples got the same draw";
    }
    // RandomCrop: every output is some 4x6 box of the input
    auto crops = run(in, RandomCrop(in, {4, 6}), x, TRMODE);
    for (int i = 0; i < N; ++i) {
        bool found = false;
        for (int oy = 0; oy <= 2 && !found; ++oy)
            for (int ox = 0; ox <= 2 && !found; ++ox) {
                bool same = true;
                for (int c = 0; c < 2; ++c)
                    for (int y = 0; y < 4; ++y)
                        for (int xx = 0; xx < 6; ++xx) same = same && crops->get({i, c, y, xx}) == one->get({0, c, y + oy, xx + ox});
                found = same;
            }
        EXPECT_TRUE(found) << "sample " << i;
    }
    // fixed ranges reduce the random layers to their deterministic twins
    EXPECT_EQ(run(in, RandomShift(in, {0.25f, 0.25f}, {0.5f, 0.5f}, "constant"), x, TRMODE)->to_std(),
              run(in, Shift(in, {3, 2}, "constant"), x)->to_std());
    const auto r1 = run(in, RandomRotation(in, {20, 20}), x, TRMODE), r2 = run(in, Rotate(in, 20), x);
    for (int64_t i = 0; i < r1->size; ++i) EXPECT_NEAR(r1->ptr[i], r2->ptr[i], 1e-5f);
}

TEST(Augment, GradientsAndCheckpoint) {
    layer in = Input({2, 6, 7});
    layer a = RandomRotation(Conv2D(in, 2, {3, 3}), {-40, 40}, {1, 0}, "reflect");
    layer b = Cutout(RandomScale(a, {0.7f, 1.4f}, "nearest"), {1, 1}, {2, 3}, 0.5f);
    layer c = RandomCrop(RandomShift(b, {-0.3f, 0.3f}, {-0.3f, 0.3f}, "wrap"), {5, 5});
    layer d = Scale(RandomCropScale(c, {0.6f, 0.9f}), {7, 6});
    layer e = Rotate(RandomCutout(Flip(d, 1), {0.2f, 0.4f}, {0.2f, 0.4f}), 33.0f, {0, 0}, "constant", 1.0f);
    model net = Model({in}, {e});
    build(net, sgd(), {"mse"}, {}, CS_CPU(2));
    auto x = Tensor::randn({3, 2, 6, 7}, 1);
    gradcheck::check(net, {x}, {Tensor::randn({3, 2, 7, 6}, 2)});  // training mode: the random paths
    train_batch(net, {x}, {Tensor::randn({3, 2, 7, 6}, 2)});
    const std::string path = testing::TempDir() + "augment.ckpt";
    save_checkpoint(net, path);
    model back = load_checkpoint(path);
    EXPECT_EQ(back->summary(), net->summary());
    EXPECT_EQ(predict(net, {x})[0]->to_std(), predict(back, {x})[0]->to_std());
}

TEST(Augment, Errors) {
    layer flat = Input({10}), img = Input({1, 8, 8});
    expect_error([&] { RandomFlip(flat, 0, "f"); }, "RandomFlip 'f': needs a {channels, height, width} input");
    expect_error([&] { RandomRotation(img, {30, -30}); }, "factor (degrees) must be a range {min, max}");
    expect_error([&] { RandomCrop(img, {9, 4}); }, "must fit the input");
    expect_error([&] { Shift(img, {1, 1}, "bounce"); }, "unknown da_mode 'bounce'");
    expect_error([&] { Flip(img, 2); }, "axis must be 0 (vertical) or 1 (horizontal)");
    expect_error([&] { Cutout(img, {2, 2}, {9, 3}); }, "must lie in");
}
