// Tensor ops checked against plain reference loops kept here (the oracle for the fast kernels).
#include <gtest/gtest.h>

#include "expect_error.h"

#include <cmath>
#include <numeric>
#include <tuple>

#include "eddl/tensor.h"
#include "tensor/dispatch.h"

using namespace eddl;

namespace {


// Reference broadcasting: index each operand by the output's multi-index.
std::vector<float> ref_broadcast(const Tensor& a, const Tensor& b, const Shape& out, float (*f)(float, float)) {
    const int nd = int(out.size());
    int64_t n = 1;
    for (int d : out) n *= d;
    std::vector<float> r(n);
    std::vector<int> idx(nd);
    for (int64_t i = 0; i < n; ++i) {
        int64_t rem = i;
        for (int d = nd - 1; d >= 0; --d) {
            idx[d] = int(rem % out[d]);
            rem /= out[d];
        }
        auto at = [&](const Tensor& t) {
            int64_t off = 0;
            for (int d = 0; d < t.ndim; ++d) {
                const int od = d + nd - t.ndim;
                off = off * t.shape[d] + (t.shape[d] == 1 ? 0 : idx[od]);
            }
            return t.ptr[off];
        };
        r[i] = f(at(a), at(b));
    }
    return r;
}

}  // namespace

TEST(Tensor, CreationAndAlignment) {
    auto z = Tensor::zeros({2, 3});
    EXPECT_EQ(z->size, 6);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(z->ptr) % 64, 0u);
    EXPECT_EQ(z->sum(), 0.0f);
    EXPECT_EQ(Tensor::ones({4})->sum(), 4.0f);
    EXPECT_EQ(Tensor::full({2, 2}, 3.5f)->get({1, 1}), 3.5f);
    EXPECT_EQ(Tensor::arange(0, 5)->to_std(), (std::vector<float>{0, 1, 2, 3, 4}));
    EXPECT_EQ(Tensor::range(1, 3)->to_std(), (std::vector<float>{1, 2, 3}));
    EXPECT_EQ(Tensor::linspace(0, 1, 5)->to_std(), (std::vector<float>{0, 0.25f, 0.5f, 0.75f, 1}));
    auto e = Tensor::eye(3);
    EXPECT_EQ(e->sum(), 3.0f);
    EXPECT_EQ(e->get({1, 1}), 1.0f);
    EXPECT_EQ(Tensor::eye(3, 1)->get({0, 1}), 1.0f);
    auto r1 = Tensor::randn({1000}, 42), r2 = Tensor::randn({1000}, 42), r3 = Tensor::randn({1000}, 43);
    EXPECT_EQ(r1->to_std(), r2->to_std());
    EXPECT_NE(r1->to_std(), r3->to_std());
    EXPECT_NEAR(r1->mean(), 0.0f, 0.1f);
    EXPECT_NEAR(r1->std(), 1.0f, 0.1f);
    auto u = Tensor::randu({1000}, 1);
    EXPECT_GE(u->min(), 0.0f);
    EXPECT_LT(u->max(), 1.0f);
    expect_error([] { Tensor::arange(0, 5, -1); }, "arange");
    expect_error([] { Tensor({1, 2, 3}, {2, 2}); }, "3 values given for shape (2, 2)");
}

TEST(Tensor, OneHot) {
    Tensor labels({2, 0, 1}, {3});
    auto t = Tensor::onehot(labels, 3);
    EXPECT_EQ(t->shape, (Shape{3, 3}));
    EXPECT_EQ(t->to_std(), (std::vector<float>{0, 0, 1, 1, 0, 0, 0, 1, 0}));
    Tensor bad({5}, {1});
    expect_error([&] { Tensor::onehot(bad, 3); }, "label 5");
}

TEST(Tensor, UnaryMatchesStd) {
    auto x = Tensor::randu({5000}, 3);
    x->mult_(4.0f).add_(0.1f);  // (0.1, 4.1): valid for log, sqrt
    struct Case {
        std::function<Tensor&(Tensor&)> op;
        float (*ref)(float);
    } cases[] = {
        {[](Tensor& t) -> Tensor& { return t.exp_(); }, [](float v) { return std::exp(v); }},
        {[](Tensor& t) -> Tensor& { return t.log_(); }, [](float v) { return std::log(v); }},
        {[](Tensor& t) -> Tensor& { return t.log2_(); }, [](float v) { return std::log2(v); }},
        {[](Tensor& t) -> Tensor& { return t.log10_(); }, [](float v) { return std::log10(v); }},
        {[](Tensor& t) -> Tensor& { return t.sqrt_(); }, [](float v) { return std::sqrt(v); }},
        {[](Tensor& t) -> Tensor& { return t.rsqrt_(); }, [](float v) { return 1.0f / std::sqrt(v); }},
        {[](Tensor& t) -> Tensor& { return t.sin_(); }, [](float v) { return std::sin(v); }},
        {[](Tensor& t) -> Tensor& { return t.cos_(); }, [](float v) { return std::cos(v); }},
        {[](Tensor& t) -> Tensor& { return t.tanh_(); }, [](float v) { return std::tanh(v); }},
        {[](Tensor& t) -> Tensor& { return t.sigmoid_(); }, [](float v) { return 1.0f / (1.0f + std::exp(-v)); }},
        {[](Tensor& t) -> Tensor& { return t.sqr_(); }, [](float v) { return v * v; }},
        {[](Tensor& t) -> Tensor& { return t.inv_(); }, [](float v) { return 1.0f / v; }},
        {[](Tensor& t) -> Tensor& { return t.floor_(); }, [](float v) { return std::floor(v); }},
        {[](Tensor& t) -> Tensor& { return t.neg_(); }, [](float v) { return -v; }},
        {[](Tensor& t) -> Tensor& { return t.pow_(1.5f); }, [](float v) { return std::pow(v, 1.5f); }},
        {[](Tensor& t) -> Tensor& { return t.clamp_(1.0f, 2.0f); }, [](float v) { return std::clamp(v, 1.0f, 2.0f); }},
        {[](Tensor& t) -> Tensor& { return t.div_(255.0f); }, [](float v) { return v / 255.0f; }},
    };
    for (const auto& c : cases) {
        auto y = x->clone();
        c.op(*y);
        for (int64_t i = 0; i < x->size; ++i)
            ASSERT_NEAR(y->ptr[i], c.ref(x->ptr[i]), 1e-5f * (1 + std::fabs(c.ref(x->ptr[i])))) << "element " << i;
    }
}

TEST(Tensor, BroadcastingMatchesReference) {
    struct Case { Shape a, b; } cases[] = {
        {{4, 5}, {4, 5}}, {{4, 5}, {5}}, {{4, 1}, {1, 5}}, {{2, 3, 4}, {3, 1}}, {{1}, {3, 7}}, {{6, 1, 5}, {1, 4, 1}},
        {{70000}, {1}},
    };
    for (const auto& c : cases) {
        auto a = Tensor::randn(c.a, 1), b = Tensor::randn(c.b, 2);
        b->abs_().add_(0.5f);
        auto check = [&](tensor r, float (*f)(float, float)) {
            const auto ref = ref_broadcast(*a, *b, r->shape, f);
            for (int64_t i = 0; i < r->size; ++i) ASSERT_FLOAT_EQ(r->ptr[i], ref[i]) << shape_str(c.a) << shape_str(c.b);
        };
        check(Tensor::add(*a, *b), [](float x, float y) { return x + y; });
        check(Tensor::sub(*a, *b), [](float x, float y) { return x - y; });
        check(Tensor::mult(*a, *b), [](float x, float y) { return x * y; });
        check(Tensor::div(*a, *b), [](float x, float y) { return x / y; });
        check(Tensor::maximum(*a, *b), [](float x, float y) { return std::max(x, y); });
        check(Tensor::minimum(*a, *b), [](float x, float y) { return std::min(x, y); });
    }
    auto a = Tensor::ones({2, 3}), b = Tensor::ones({4});
    expect_error([&] { Tensor::add(*a, *b); }, "shapes (2, 3) and (4) do not broadcast");
    auto small = Tensor::ones({3});
    expect_error([&] { small->add_(*a); }, "output has (3)");
}

TEST(Tensor, ReductionsMatchReference) {
    auto t = Tensor::randn({3, 4, 5}, 9);
    // reference: reduce axis set by looping over all elements
    auto ref = [&](std::vector<int> axes, int kind) {
        Shape out;
        for (int d = 0; d < 3; ++d)
            if (std::find(axes.begin(), axes.end(), d) == axes.end()) out.push_back(t->shape[d]);
        if (out.empty()) out = {1};
        std::vector<std::vector<double>> groups;
        int64_t nout = 1;
        for (int d : out) nout *= d;
        groups.resize(nout);
        for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 4; ++j)
                for (int k = 0; k < 5; ++k) {
                    const int idx[3] = {i, j, k};
                    int64_t o = 0;
                    for (int d = 0; d < 3; ++d)
                        if (std::find(axes.begin(), axes.end(), d) == axes.end()) o = o * t->shape[d] + idx[d];
                    groups[o].push_back(t->get({i, j, k}));
                }
        std::vector<float> r;
        for (auto& g : groups) {
            const double s = std::accumulate(g.begin(), g.end(), 0.0), m = s / g.size();
            double v = 0;
            for (double x : g) v += (x - m) * (x - m);
            if (kind == 0) r.push_back(float(s));
            if (kind == 1) r.push_back(float(m));
            if (kind == 2) r.push_back(float(*std::max_element(g.begin(), g.end())));
            if (kind == 3) r.push_back(float(*std::min_element(g.begin(), g.end())));
            if (kind == 4) r.push_back(float(v / g.size()));
            if (kind == 5) r.push_back(float(std::max_element(g.begin(), g.end()) - g.begin()));
        }
        return r;
    };
    for (std::vector<int> axes : {std::vector<int>{0}, {1}, {2}, {0, 1}, {1, 2}, {0, 2}, {0, 1, 2}, {-1}}) {
        std::vector<int> pos = axes;
        for (int& a : pos) a = a < 0 ? a + 3 : a;
        const std::vector<tensor> got = {t->sum(axes), t->mean(axes), t->max(axes), t->min(axes), t->var(axes)};
        for (int kind = 0; kind < 5; ++kind) {
            const auto want = ref(pos, kind);
            ASSERT_EQ(got[kind]->size, int64_t(want.size()));
            for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[kind]->ptr[i], want[i], 1e-4f) << kind;
        }
    }
    for (int ax = 0; ax < 3; ++ax) {
        const auto want = ref({ax}, 5);
        auto got = t->argmax(ax);
        for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got->ptr[i], want[i]);
    }
    EXPECT_EQ(t->sum({1}, true)->shape, (Shape{3, 1, 5}));
    EXPECT_EQ(t->sum({0, 2})->shape, (Shape{4}));
    expect_error([&] { t->sum({3}); }, "axis 3 out of range");
    EXPECT_NEAR(t->sum(), ref({0, 1, 2}, 0)[0], 1e-4f);
}

TEST(Tensor, ReshapePermuteSelectConcat) {
    auto t = Tensor::arange(0, 24);
    auto r = t->reshape({2, 3, 4});
    EXPECT_EQ(r->ptr, t->ptr);  // a view
    EXPECT_EQ(t->reshape({-1, 4})->shape, (Shape{6, 4}));
    expect_error([&] { t->reshape({5, 5}); }, "(24) (24 elements) -> (5, 5) (25 elements)");
    auto p = r->permute({2, 0, 1});
    EXPECT_EQ(p->shape, (Shape{4, 2, 3}));
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 3; ++j)
            for (int k = 0; k < 4; ++k) EXPECT_EQ(p->get({k, i, j}), r->get({i, j, k}));
    expect_error([&] { r->permute({0, 0, 1}); }, "repeated");
    auto s = r->select({"1", "0:2", "1:"});
    EXPECT_EQ(s->shape, (Shape{1, 2, 3}));
    EXPECT_EQ(s->to_std(), (std::vector<float>{13, 14, 15, 17, 18, 19}));
    EXPECT_EQ(r->select({":", "-1"})->to_std(), (std::vector<float>{8, 9, 10, 11, 20, 21, 22, 23}));
    expect_error([&] { r->select({"5"}); }, "range '5'");
    expect_error([&] { r->select({"a:b"}); }, "cannot read 'a:b'");
    auto a = Tensor::ones({2, 3}), b = Tensor::zeros({2, 2});
    auto c = Tensor::concat({a, b}, 1);
    EXPECT_EQ(c->shape, (Shape{2, 5}));
    EXPECT_EQ(c->to_std(), (std::vector<float>{1, 1, 1, 0, 0, 1, 1, 1, 0, 0}));
    EXPECT_EQ(Tensor::concat({a, a}, 0)->shape, (Shape{4, 3}));
    expect_error([&] { Tensor::concat({a, b}, 0); }, "shape (2, 2) does not match (2, 3)");
    auto tr = Tensor::arange(0, 6)->reshape({2, 3})->transpose();
    EXPECT_EQ(tr->to_std(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
    Tensor dst({2, 3});
    Tensor::select_rows(*Tensor::arange(0, 12)->reshape({4, 3}), {3, 1}, dst);
    EXPECT_EQ(dst.to_std(), (std::vector<float>{9, 10, 11, 3, 4, 5}));
}

TEST(Tensor, MatmulMatchesNaive) {
    // Small, and Dense layers' shapes (on AVX2 gemm splits off B's first 4 columns and computes
    // them with its own loops, see gemm.cpp); through the kernel table too, for C += A B, with
    // C wider than the product (ldc > n) and rows that do not fill the loops' 16 lanes.
    const auto& kt = kernels(Device{});
    for (auto [m, n, k] : {std::tuple{7, 5, 9}, std::tuple{100, 256, 300}, std::tuple{37, 64, 100}})
        for (bool ta : {false, true})
            for (bool tb : {false, true}) {
                auto A = ta ? Tensor::randn({k, m}, 1) : Tensor::randn({m, k}, 1);
                auto B = tb ? Tensor::randn({n, k}, 2) : Tensor::randn({k, n}, 2);
                auto C = Tensor::matmul(*A, *B, ta, tb);
                ASSERT_EQ(C->shape, (Shape{m, n}));
                const int ldc = n + 3;
                auto C0 = Tensor::randn({m, ldc}, 3), Cacc = C0->clone();
                kt.gemm(ta, tb, m, n, k, 1.0f, A->ptr, ta ? m : k, B->ptr, tb ? k : n, 1.0f, Cacc->ptr, ldc);
                for (int i = 0; i < m; ++i)
                    for (int j = 0; j < ldc; ++j) {
                        if (j >= n) {  // past the product: untouched
                            ASSERT_EQ(Cacc->get({i, j}), C0->get({i, j}));
                            continue;
                        }
                        double s = 0;
                        for (int p = 0; p < k; ++p)
                            s += double(ta ? A->get({p, i}) : A->get({i, p})) * (tb ? B->get({j, p}) : B->get({p, j}));
                        ASSERT_NEAR(C->get({i, j}), s, 1e-5 * k) << m << "x" << n << "x" << k << " " << ta << tb;
                        ASSERT_NEAR(Cacc->get({i, j}), s + C0->get({i, j}), 1e-5 * k)
                            << "C += A B " << m << "x" << n << "x" << k << " " << ta << tb;
                    }
            }
    auto A = Tensor::randn({3, 4, 5}, 1), B = Tensor::randn({3, 5, 2}, 2);
    auto C = Tensor::matmul(*A, *B);
    EXPECT_EQ(C->shape, (Shape{3, 4, 2}));
    auto C1 = Tensor::matmul(*A->select({"1"})->reshape({4, 5}), *B->select({"1"})->reshape({5, 2}));
    for (int i = 0; i < 8; ++i) EXPECT_NEAR(C->ptr[8 + i], C1->ptr[i], 1e-5);
    expect_error([] { Tensor::matmul(*Tensor::ones({2, 3}), *Tensor::ones({2, 3})); }, "inner sizes of (2, 3) and (2, 3)");
}

TEST(Tensor, LegacySpellings) {
    tensor t = Tensor::randn({2, 2});
    tensor u = eddlT::randn({2, 2});
    EXPECT_TRUE(Tensor::equivalent(*t, *u));  // same default seed
    eddlT::div_(t, 2.0f);
    EXPECT_FLOAT_EQ(t->ptr[0], u->ptr[0] / 2.0f);
    expect_error([] { Tensor({2}, Device{DeviceType::CUDA, 0}); }, "without a CUDA backend");
}
