// Each optimizer's step against values computed by hand and by a plain scalar reference.
#include <gtest/gtest.h>

#include <cmath>

#include "eddl/eddl.h"

using namespace eddl;

namespace {

// Runs `steps` updates of one 3-element parameter with fixed gradients.
std::vector<float> run(optimizer o, int steps, std::vector<float> w0 = {1.0f, -2.0f, 0.5f},
                       std::vector<float> g0 = {0.5f, -0.1f, 2.0f}) {
    auto w = std::make_shared<Tensor>(w0, Shape{3});
    auto g = std::make_shared<Tensor>(g0, Shape{3});
    for (int i = 0; i < steps; ++i) o->step({w}, {g});
    return w->to_std();
}

// Scalar references (double precision), written from the published update rules.
struct Ref {
    double w, g;
    double s1 = 0, s2 = 0, s3 = 0;
};

}  // namespace

TEST(Optim, SgdByHand) {
    // w=1, g=0.5, lr=0.1, momentum 0.9: v1=0.5, w1=0.95; v2=0.95, w2=0.855
    EXPECT_NEAR(run(sgd(0.1f, 0.9f), 2)[0], 0.855f, 1e-6f);
    EXPECT_NEAR(run(sgd(0.1f), 1)[0], 0.95f, 1e-6f);
    // weight decay 0.1: g' = 0.5 + 0.1*1 = 0.6 -> w = 0.94
    EXPECT_NEAR(run(sgd(0.1f, 0, 0.1f), 1)[0], 0.94f, 1e-6f);
    // nesterov: v1 = 0.5, update g + m v = 0.95 -> w = 0.905
    EXPECT_NEAR(run(sgd(0.1f, 0.9f, 0, true), 1)[0], 0.905f, 1e-6f);
}

TEST(Optim, AdamFirstStepIsLrTimesSign) {
    // bias-corrected first step: m_hat = g, v_hat = g^2 -> w -= lr * g / (|g| + eps)
    const auto w = run(adam(0.01f, 0.9f, 0.999f, 1e-8f), 1);
    EXPECT_NEAR(w[0], 1.0f - 0.01f, 1e-6f);
    EXPECT_NEAR(w[1], -2.0f + 0.01f, 1e-6f);
}

TEST(Optim, AllRulesMatchScalarReference) {
    const std::vector<float> w0 = {1.0f, -2.0f, 0.5f}, g0 = {0.5f, -0.1f, 2.0f};
    const int steps = 4;
    auto ref = [&](const std::string& name) {
        std::vector<double> out;
        for (int i = 0; i < 3; ++i) {
            double w = w0[i], m = 0, v = 0, u = 0, vmax = 0, mu_prod = 1;
            const double g = g0[i];
            for (int t = 1; t <= steps; ++t) {
                if (name == "adam" || name == "amsgrad" || name == "adamw") {
                    double gi = g;
                    const double lr = 0.01, wd = 0.05;
                    if (name == "adamw") w -= lr * wd * w;
                    else gi += wd * w;
                    m = 0.9 * m + 0.1 * gi;
                    v = 0.999 * v + 0.001 * gi * gi;
                    vmax = std::max(vmax, v);
                    const double vv = name == "amsgrad" ? vmax : v;
                    w -= lr * (m / (1 - std::pow(0.9, t))) / (std::sqrt(vv / (1 - std::pow(0.999, t))) + 1e-8);
                } else if (name == "rmsprop") {
                    v = 0.9 * v + 0.1 * g * g;
                    w -= 0.01 * g / (std::sqrt(v) + 1e-5);
                } else if (name == "adagrad") {
                    v += g * g;
                    w -= 0.1 * g / (std::sqrt(v) + 1e-10);
                } else if (name == "adadelta") {
                    v = 0.9 * v + 0.1 * g * g;
                    const double d = std::sqrt(u + 1e-6) / std::sqrt(v + 1e-6) * g;
                    u = 0.9 * u + 0.1 * d * d;
                    w -= 1.0 * d;
                } else if (name == "adamax") {
                    m = 0.9 * m + 0.1 * g;
                    u = std::max(0.999 * u, std::fabs(g) + 1e-8);
                    w -= 0.002 / (1 - std::pow(0.9, t)) * m / u;
                } else if (name == "nadam") {
                    const double mu = 0.9 * (1 - 0.5 * std::pow(0.96, t * 0.004));
                    const double mu1 = 0.9 * (1 - 0.5 * std::pow(0.96, (t + 1) * 0.004));
                    mu_prod *= mu;
                    m = 0.9 * m + 0.1 * g;
                    v = 0.999 * v + 0.001 * g * g;
                    const double denom = std::sqrt(v / (1 - std::pow(0.999, t))) + 1e-8;
                    w -= 0.002 * (1 - mu) / (1 - mu_prod) * g / denom + 0.002 * mu1 / (1 - mu_prod * mu1) * m / denom;
                }
            }
            out.push_back(w);
        }
        return out;
    };
    struct Case {
        std::string name;
        optimizer o;
    } cases[] = {
        {"adam", adam(0.01f, 0.9f, 0.999f, 1e-8f, 0.05f)},
        {"amsgrad", adam(0.01f, 0.9f, 0.999f, 1e-8f, 0.05f, true)},
        {"adamw", adamw(0.01f, 0.9f, 0.999f, 1e-8f, 0.05f)},
        {"rmsprop", rmsprop(0.01f)},
        {"adagrad", adagrad(0.1f)},
        {"adadelta", adadelta()},
        {"adamax", adamax()},
        {"nadam", nadam()},
    };
    for (auto& c : cases) {
        const auto got = run(c.o, steps, w0, g0);
        const auto want = ref(c.name);
        for (int i = 0; i < 3; ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << c.name << " element " << i;
        // every rule must actually move the weights (no empty stubs)
        EXPECT_NE(got[0], w0[0]) << c.name;
    }
}

TEST(Optim, Clipping) {
    auto o = sgd(1.0f);
    o->set_clip_value(0.2f);
    EXPECT_NEAR(run(o, 1)[2], 0.5f - 0.2f, 1e-6f);
    auto n = sgd(1.0f);
    n->set_clip_norm(1.0f);
    const auto w = run(n, 1);
    const double norm = std::sqrt(0.25 + 0.01 + 4.0);
    EXPECT_NEAR(w[2], 0.5 - 2.0 / norm, 1e-5);
    EXPECT_NEAR(w[0], 1.0 - 0.5 / norm, 1e-5);
}

TEST(Optim, Schedules) {
    EXPECT_FLOAT_EQ(StepDecay(0.1f, 0.5f, 2)(3, 0), 0.05f);
    EXPECT_NEAR(ExponentialDecay(0.1f, 0.9f)(2, 0), 0.081f, 1e-7f);
    EXPECT_NEAR(CosineDecay(0.1f, 10)(5, 0), 0.05f, 1e-6f);
    EXPECT_NEAR(CosineDecay(0.1f, 10, 0.01f)(10, 0), 0.01f, 1e-7f);
    EXPECT_THROW(sgd(-1.0f), Error);
    EXPECT_THROW(adam(0.01f, 1.5f), Error);
}
