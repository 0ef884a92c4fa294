// The layers only ONNX import creates (onnx/onnx_common.h): every element-wise function,
// reduction, Gather and LogSoftmax/Hardmax against finite differences and plain references;
// OnnxBatch::none (each ONNX tensor one sample); export -> import of these layers.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <functional>
#include <limits>

#include "expect_error.h"
#include "gradcheck.h"
#include "layers/layers.h"
#include "onnx/onnx_common.h"

using namespace eddl;
using namespace eddl::onnxio;
using gradcheck::away_from;

namespace {

model single(const Shape& in_shape, const std::function<layer(layer)>& f) {
    layer in = Input(in_shape);
    model net = Model({in}, {f(in)});
    build(net, sgd(0.1f), {"mse"}, {}, CS_CPU(1));
    return net;
}

// distinct: values at least 0.1 apart (max/min choices do not flip under the differences)
void check_grad(const Shape& in_shape, const std::function<layer(layer)>& f, const std::vector<float>& kinks = {},
                float lo = -2, float hi = 2, bool distinct = false) {
    model net = single(in_shape, f);
    Shape xs{3};
    xs.insert(xs.end(), in_shape.begin(), in_shape.end());
    auto x = away_from(xs, 11, kinks, 0.05f, lo, hi);
    if (distinct) {
        std::vector<int64_t> order(size_t(x->size));
        for (int64_t i = 0; i < x->size; ++i) order[size_t(i)] = (i * 37) % x->size;  // 37 is coprime to the sizes used
        for (int64_t i = 0; i < x->size; ++i) x->ptr[i] = -3.0f + 0.1f * float(order[size_t(i)]);
    }
    Shape ys{3};
    ys.insert(ys.end(), net->outputs[0]->out_shape.begin(), net->outputs[0]->out_shape.end());
    gradcheck::check(net, {x}, {Tensor::randn(ys, 12)});
}

layer ew(layer x, EwFn fn, float a = 0, float b = 0, std::vector<int64_t> cd = {}, std::vector<float> c = {}) {
    return std::make_shared<LElementwise>(x, fn, "Op", a, b, cd, c, "ew");
}

tensor from_std(const Shape& s, const std::vector<float>& v) {
    auto t = Tensor::empty(s);
    std::copy(v.begin(), v.end(), t->ptr);
    return t;
}

std::string ser(const onnx::ModelProto& m) {
    std::string s;
    m.SerializeToString(&s);
    return s;
}

// A one-node ONNX model with fixed-shape float input "x" and output "y".
struct OneNode {
    onnx::ModelProto m;
    onnx::NodeProto* n;
    OneNode(const std::string& op, const std::vector<int64_t>& shape, int opset = 17) {
        m.set_ir_version(8);
        m.add_opset_import()->set_version(opset);
        auto* g = m.mutable_graph();
        auto* in = g->add_input();
        in->set_name("x");
        auto* tt = in->mutable_type()->mutable_tensor_type();
        tt->set_elem_type(onnx::TensorProto::FLOAT);
        for (int64_t d : shape) tt->mutable_shape()->add_dim()->set_dim_value(d);
        n = g->add_node();
        n->set_op_type(op);
        n->set_name("y");
        n->add_input("x");
        n->add_output("y");
        g->add_output()->set_name("y");
    }
    void ints(const char* k, const std::vector<int64_t>& v) {
        auto* a = n->add_attribute();
        a->set_name(k);
        a->set_type(onnx::AttributeProto::INTS);
        for (auto x : v) a->add_ints(x);
    }
    void i(const char* k, int64_t v) {
        auto* a = n->add_attribute();
        a->set_name(k);
        a->set_type(onnx::AttributeProto::INT);
        a->set_i(v);
    }
    void const_input(const std::string& name, const std::vector<int64_t>& dims, const std::vector<float>& v) {
        to_proto(*m.mutable_graph()->add_initializer(), name, dims, v.data());
        n->add_input(name);
    }
    void const_ints(const std::string& name, const std::vector<int64_t>& v) {
        to_proto_i64(*m.mutable_graph()->add_initializer(), name, {int64_t(v.size())}, v);
        n->add_input(name);
    }
};

// reference reduction of a [d0, d1, d2] sample over `axes` (keepdims layout)
std::vector<double> ref_reduce(const std::vector<float>& x, const std::vector<int>& d, const std::vector<int>& axes,
                               ReduceFn fn) {
    std::vector<int> od = d;
    for (int a : axes) od[size_t(a)] = 1;
    const int on = od[0] * od[1] * od[2];
    std::vector<std::vector<double>> groups(static_cast<size_t>(on));
    for (int i = 0; i < d[0]; ++i)
        for (int j = 0; j < d[1]; ++j)
            for (int k = 0; k < d[2]; ++k) {
                const int oi = od[0] == 1 ? 0 : i, oj = od[1] == 1 ? 0 : j, ok = od[2] == 1 ? 0 : k;
                groups[size_t((oi * od[1] + oj) * od[2] + ok)].push_back(x[size_t((i * d[1] + j) * d[2] + k)]);
            }
    std::vector<double> r;
    for (const auto& g : groups) {
        double s = 0, p = 1, mx = -1e300, mn = 1e300, l1 = 0, sq = 0, se = 0;
        for (double v : g) {
            s += v;
            p *= v;
            mx = std::max(mx, v);
            mn = std::min(mn, v);
            l1 += std::fabs(v);
            sq += v * v;
        }
        for (double v : g) se += std::exp(v - mx);
        switch (fn) {
            case ReduceFn::Sum: r.push_back(s); break;
            case ReduceFn::Mean: r.push_back(s / double(g.size())); break;
            case ReduceFn::Max: r.push_back(mx); break;
            case ReduceFn::Min: r.push_back(mn); break;
            case ReduceFn::Prod: r.push_back(p); break;
            case ReduceFn::L1: r.push_back(l1); break;
            case ReduceFn::L2: r.push_back(std::sqrt(sq)); break;
            case ReduceFn::LogSum: r.push_back(std::log(s)); break;
            case ReduceFn::LogSumExp: r.push_back(mx + std::log(se)); break;
            case ReduceFn::SumSquare: r.push_back(sq); break;
        }
    }
    return r;
}

const std::vector<ReduceFn> kReduceFns = {ReduceFn::Sum,  ReduceFn::Mean, ReduceFn::Max,    ReduceFn::Min,
                                          ReduceFn::Prod, ReduceFn::L1,   ReduceFn::L2,     ReduceFn::LogSum,
                                          ReduceFn::LogSumExp, ReduceFn::SumSquare};

}  // namespace

TEST(OnnxLayers, ElementwiseFunctionsPassGradientChecks) {
    struct Case {
        EwFn fn;
        float a, b, lo, hi;
        std::vector<float> kinks;
    };
    const std::vector<Case> unary = {
        {EwFn::Abs, 0, 0, -2, 2, {0}},       {EwFn::Neg, 0, 0, -2, 2, {}},        {EwFn::Sqrt, 0, 0, 0.3f, 2, {}},
        {EwFn::Reciprocal, 0, 0, 0.3f, 2, {}}, {EwFn::Log, 0, 0, 0.3f, 2, {}},    {EwFn::Exp, 0, 0, -2, 1, {}},
        {EwFn::Sin, 0, 0, -2, 2, {}},        {EwFn::Cos, 0, 0, -2, 2, {}},        {EwFn::Tan, 0, 0, -1, 1, {}},
        {EwFn::Asin, 0, 0, -0.8f, 0.8f, {}}, {EwFn::Acos, 0, 0, -0.8f, 0.8f, {}}, {EwFn::Atan, 0, 0, -2, 2, {}},
        {EwFn::Sinh, 0, 0, -2, 2, {}},       {EwFn::Cosh, 0, 0, -2, 2, {}},       {EwFn::Asinh, 0, 0, -2, 2, {}},
        {EwFn::Acosh, 0, 0, 1.3f, 3, {}},    {EwFn::Atanh, 0, 0, -0.8f, 0.8f, {}}, {EwFn::Erf, 0, 0, -2, 2, {}},
        {EwFn::Clip, -0.5f, 0.7f, -2, 2, {-0.5f, 0.7f}},
        {EwFn::HardSigmoid, 0.3f, 0.4f, -2, 2, {-0.4f / 0.3f, 0.6f / 0.3f}},
        {EwFn::Selu, 1.5f, 1.1f, -2, 2, {0}}, {EwFn::Celu, 0.8f, 0, -2, 2, {0}},
        {EwFn::HardSwish, 0, 0, -4, 4, {-3, 3}}, {EwFn::Softplus, 0, 0, -2, 2, {}}, {EwFn::Mish, 0, 0, -2, 2, {}},
        {EwFn::Shrink, 0.2f, 0.6f, -2, 2, {-0.6f, 0.6f}},
        // piecewise constant: both gradients are zero
        {EwFn::Floor, 0, 0, -2, 2, {-1, 0, 1}}, {EwFn::Ceil, 0, 0, -2, 2, {-1, 0, 1}},
        {EwFn::Round, 0, 0, -2, 2, {-1.5f, -0.5f, 0.5f, 1.5f}}, {EwFn::Sign, 0, 0, -2, 2, {0}}};
    for (const auto& c : unary) {
        SCOPED_TRACE(int(c.fn));
        check_grad({2, 5}, [&](layer x) { return ew(x, c.fn, c.a, c.b); }, c.kinks, c.lo, c.hi);
    }
    // with a constant operand broadcast over the sample ({5} onto {2, 5})
    const std::vector<float> cv = {0.7f, -1.3f, 1.9f, 0.4f, -0.6f}, pos = {0.7f, 1.3f, 1.9f, 0.4f, 0.6f};
    for (EwFn fn : {EwFn::Add, EwFn::Sub, EwFn::RSub, EwFn::Mul, EwFn::Div, EwFn::Max, EwFn::Min, EwFn::PRelu}) {
        SCOPED_TRACE(int(fn));
        check_grad({2, 5}, [&](layer x) { return ew(x, fn, 0, 0, {5}, cv); }, {0});
    }
    check_grad({2, 5}, [&](layer x) { return ew(x, EwFn::RDiv, 0, 0, {5}, cv); }, {}, 0.4f, 2);
    check_grad({2, 5}, [&](layer x) { return ew(x, EwFn::Pow, 0, 0, {5}, cv); }, {}, 0.4f, 2);
    check_grad({2, 5}, [&](layer x) { return ew(x, EwFn::Fmod, 0, 0, {2, 1}, {2.5f, 3.0f}); }, {}, 0.1f, 2.4f);
}

TEST(OnnxLayers, ReductionsMatchAReferenceAndPassGradientChecks) {
    const std::vector<int> d = {2, 3, 4};
    auto x = Tensor::randu({2, 2, 3, 4}, 5);
    x->mult_(1.5f);
    x->add_(0.25f);  // positive: LogSum is defined
    for (int i = 0; i < x->size; i += 3) x->ptr[i] = -x->ptr[i];
    const std::vector<std::vector<int>> axes_sets = {{0}, {1}, {2}, {0, 2}, {1, 2}, {0, 1, 2}};
    for (ReduceFn fn : kReduceFns)
        for (const auto& axes : axes_sets)
            for (bool keep : {true, false}) {
                SCOPED_TRACE(::testing::Message() << "fn " << int(fn) << " axes " << axes.size() << " keep " << keep);
                layer in = Input({2, 3, 4});
                auto r = std::make_shared<LReduce>(in, fn, "ReduceX", axes, keep, "r");
                if (!keep && axes.size() == 3) EXPECT_EQ(r->out_shape, (Shape{1}));
                model net = Model({in}, {r});
                build(net);
                // LogSum needs a positive sum: take |x| for it
                auto xin = x->clone();
                if (fn == ReduceFn::LogSum)
                    for (int64_t i = 0; i < xin->size; ++i) xin->ptr[i] = std::fabs(xin->ptr[i]);
                const auto y = predict(net, {xin})[0];
                const auto xv = xin->to_std();
                for (int b = 0; b < 2; ++b) {
                    const std::vector<float> xs(xv.begin() + b * 24, xv.begin() + (b + 1) * 24);
                    const auto want = ref_reduce(xs, d, axes, fn);
                    ASSERT_EQ(int64_t(want.size()) * 2, y->size);
                    for (size_t i = 0; i < want.size(); ++i)
                        EXPECT_NEAR(y->ptr[b * int64_t(want.size()) + int64_t(i)], want[i], 1e-5 * std::max(1.0, std::fabs(want[i])));
                }
            }
    for (ReduceFn fn : kReduceFns)
        for (const auto& axes : std::vector<std::vector<int>>{{1}, {0, 2}, {0, 1, 2}}) {
            SCOPED_TRACE(::testing::Message() << "grad fn " << int(fn) << " axes " << axes.size());
            const bool positive = fn == ReduceFn::LogSum;
            check_grad({2, 3, 4}, [&](layer l) { return std::make_shared<LReduce>(l, fn, "ReduceX", axes, false, "r"); },
                       {0}, positive ? 0.2f : -2.0f, 2.0f, fn == ReduceFn::Max || fn == ReduceFn::Min);
        }
}

TEST(OnnxLayers, ReduceProdGradientWithZeros) {
    // one zero in a group: its gradient is the product of the others; two zeros: all zero
    layer in = Input({4});
    model net = Model({in}, {std::make_shared<LReduce>(in, ReduceFn::Prod, "ReduceProd", std::vector<int>{0}, true, "p")});
    build(net, sgd(0.1f), {"mse"}, {}, CS_CPU(1));
    for (const auto& v : std::vector<std::vector<float>>{{2, 0, 3, -1}, {0, 0, 3, 2}, {1.5f, 2, -0.5f, 3}}) {
        auto x = from_std({1, 4}, v);
        gradcheck::check(net, {x}, {from_std({1, 1}, {0.5f})});
    }
}

TEST(OnnxLayers, GatherAndAxisOperators) {
    // Gather along each axis, with repeated and 2-D indices (gradients accumulate)
    auto x = Tensor::randn({2, 3, 4, 2}, 3);
    for (int axis = 0; axis < 3; ++axis) {
        SCOPED_TRACE(axis);
        const int len = std::vector<int>{3, 4, 2}[size_t(axis)];
        const std::vector<int64_t> idx = {int64_t(len - 1), 0, int64_t(len - 1), 1};
        layer in = Input({3, 4, 2});
        auto g = std::make_shared<LGather>(in, axis, std::vector<int64_t>{2, 2}, idx, "g");
        Shape want{3, 4, 2};
        want.erase(want.begin() + axis);
        want.insert(want.begin() + axis, {2, 2});
        EXPECT_EQ(g->out_shape, want);
        model net = Model({in}, {g});
        build(net);
        const auto y = predict(net, {x})[0];
        // reference: y[b, pre, k, post] = x[b, pre, idx[k], post]
        int64_t pre = 1, post = 1;
        for (int i = 0; i < axis; ++i) pre *= Shape{3, 4, 2}[size_t(i)];
        for (int i = axis + 1; i < 3; ++i) post *= Shape{3, 4, 2}[size_t(i)];
        for (int64_t b = 0; b < 2 * pre; ++b)
            for (size_t k = 0; k < idx.size(); ++k)
                for (int64_t q = 0; q < post; ++q)
                    EXPECT_EQ(y->ptr[(b * 4 + int64_t(k)) * post + q], x->ptr[(b * len + idx[k]) * post + q]);
        check_grad({3, 4, 2}, [&](layer l) { return std::make_shared<LGather>(l, axis, std::vector<int64_t>{2, 2}, idx, "g"); });
    }
    expect_error([&] { LGather(Input({3}), 0, {1}, {3}, "g"); }, "index 3 out of range");
    // LogSoftmax on each axis: exp sums to 1 along it; gradients
    for (int axis = 0; axis < 3; ++axis) {
        SCOPED_TRACE(axis);
        layer in = Input({3, 4, 2});
        model net = Model({in}, {std::make_shared<LAxisOp>(in, "LogSoftmax", axis, "ls")});
        build(net);
        auto big = x->clone();
        big->mult_(1000.0f);  // stable for large values
        const auto y = predict(net, {big})[0];
        const Shape s{2, 3, 4, 2};
        int64_t inner = 1;
        for (int i = axis + 2; i < 4; ++i) inner *= s[size_t(i)];
        const int64_t len = s[size_t(axis) + 1], outer = y->size / (len * inner);
        for (int64_t o = 0; o < outer; ++o)
            for (int64_t q = 0; q < inner; ++q) {
                double sum = 0;
                for (int64_t j = 0; j < len; ++j) {
                    const float v = y->ptr[(o * len + j) * inner + q];
                    ASSERT_TRUE(std::isfinite(v));
                    sum += std::exp(double(v));
                }
                EXPECT_NEAR(sum, 1.0, 1e-5);
            }
        check_grad({3, 4, 2}, [&](layer l) { return std::make_shared<LAxisOp>(l, "LogSoftmax", axis, "ls"); });
        check_grad({3, 4, 2}, [&](layer l) { return std::make_shared<LAxisOp>(l, "Hardmax", axis, "hm"); });
    }
    // Hardmax: one-hot of the first maximum
    layer in = Input({4});
    model net = Model({in}, {std::make_shared<LAxisOp>(in, "Hardmax", 0, "hm")});
    build(net);
    EXPECT_EQ(predict(net, {from_std({2, 4}, {1, 3, 3, 0, -1, -2, -3, -4})})[0]->to_std(),
              (std::vector<float>{0, 1, 0, 0, 1, 0, 0, 0}));
}

// OnnxBatch::none: a fixed-shape graph acting across its first dimension imports; each ONNX
// tensor is one sample and several run as a batch. first_dim names the node that cannot.
TEST(OnnxLayers, WholeTensorImportActsAcrossTheFirstDimension) {
    OneNode t("Transpose", {3, 4});
    t.ints("perm", {1, 0});
    OneNode s("Softmax", {3, 4});
    s.i("axis", 0);
    OneNode r("ReduceSum", {3, 4});
    r.const_ints("axes", {0});
    r.i("keepdims", 0);
    // with the first dimension as the batch: Softmax and ReduceSum name the node; the transposed
    // tensor would leave the batch second at the graph output
    for (auto* o : {&s, &r}) expect_error([&] { import_net_from_onnx_string(ser(o->m)); }, "node 'y' (");
    expect_error([&] { import_net_from_onnx_string(ser(t.m)); }, "graph output 'y' has the batch at axis 1");
    auto x = Tensor::randn({2, 3, 4}, 9);  // two samples
    const auto xv = x->to_std();
    {
        model net = import_net_from_onnx_string(ser(t.m), {}, OnnxBatch::none);
        build(net);
        const auto y = predict(net, {x})[0];
        EXPECT_EQ(y->shape, (Shape{2, 4, 3}));
        for (int b = 0; b < 2; ++b)
            for (int i = 0; i < 3; ++i)
                for (int j = 0; j < 4; ++j) EXPECT_EQ(y->ptr[b * 12 + j * 3 + i], xv[size_t(b * 12 + i * 4 + j)]);
    }
    {
        model net = import_net_from_onnx_string(ser(s.m), {}, OnnxBatch::none);
        build(net);
        const auto y = predict(net, {x})[0];
        for (int b = 0; b < 2; ++b)
            for (int j = 0; j < 4; ++j) {
                double den = 0;
                for (int i = 0; i < 3; ++i) den += std::exp(double(xv[size_t(b * 12 + i * 4 + j)]));
                for (int i = 0; i < 3; ++i)
                    EXPECT_NEAR(y->ptr[b * 12 + i * 4 + j], std::exp(double(xv[size_t(b * 12 + i * 4 + j)])) / den, 1e-6);
            }
    }
    {
        model net = import_net_from_onnx_string(ser(r.m), {}, OnnxBatch::none);
        build(net);
        const auto y = predict(net, {x})[0];
        EXPECT_EQ(y->shape, (Shape{2, 4}));
        for (int b = 0; b < 2; ++b)
            for (int j = 0; j < 4; ++j)
                EXPECT_NEAR(y->ptr[b * 4 + j], xv[size_t(b * 12 + j)] + xv[size_t(b * 12 + 4 + j)] + xv[size_t(b * 12 + 8 + j)], 1e-5);
    }
    // N-C-spatial operators need N = 1 in this mode, and say so
    OneNode g1("GlobalAveragePool", {1, 2, 3, 3}), g2("GlobalAveragePool", {2, 2, 3, 3});
    model net = import_net_from_onnx_string(ser(g1.m), {}, OnnxBatch::none);
    build(net);
    auto img = Tensor::randn({3, 1, 2, 3, 3}, 4);
    const auto y = predict(net, {img})[0];
    EXPECT_EQ(y->shape, (Shape{3, 1, 2, 1, 1}));
    double s0 = 0;
    for (int i = 0; i < 9; ++i) s0 += img->ptr[i];
    EXPECT_NEAR(y->ptr[0], s0 / 9, 1e-6);
    expect_error([&] { import_net_from_onnx_string(ser(g2.m), {}, OnnxBatch::none); }, "OnnxBatch::none needs N = 1");
    expect_error([&] { import_net_from_onnx_string(ser(g2.m), {4, 2, 3, 3}, OnnxBatch::none); }, "N = 1");
}

// The import-only layers export as their ONNX operators and come back identical.
TEST(OnnxLayers, ImportOnlyLayersExportAndReimport) {
    layer in = Input({3, 4, 5}, "x");
    layer a = std::make_shared<LReduce>(in, ReduceFn::LogSumExp, "ReduceLogSumExp", std::vector<int>{0, 2}, true, "lse");
    layer b = std::make_shared<LReduce>(in, ReduceFn::Sum, "ReduceSum", std::vector<int>{0, 1, 2}, false, "sum_all");
    layer c = std::make_shared<LGather>(in, 1, std::vector<int64_t>{3}, std::vector<int64_t>{3, 0, 3}, "gather");
    layer d = std::make_shared<LAxisOp>(c, "LogSoftmax", 0, "logsoftmax");
    layer e = std::make_shared<LAxisOp>(in, "Hardmax", 2, "hardmax");
    layer f = ew(in, EwFn::Shrink, 0.1f, 0.3f);
    f->name = "shrink";
    layer g = std::make_shared<LElementwise>(in, EwFn::PRelu, "PRelu", 0.0f, 0.0f, std::vector<int64_t>{5},
                                             std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f, 0.5f}, "prelu");
    layer h = std::make_shared<LElementwise>(in, EwFn::Fmod, "Mod", 0.0f, 0.0f, std::vector<int64_t>{1},
                                             std::vector<float>{0.7f}, "mod");
    model net = Model({in}, {a, b, d, e, f, g, h});
    build(net);
    model again = import_net_from_onnx_string(serialize_net_to_onnx_string(net));
    build(again);
    auto x = Tensor::randn({2, 3, 4, 5}, 17);
    const auto p = predict(net, {x}), q = predict(again, {x});
    ASSERT_EQ(p.size(), q.size());
    for (size_t i = 0; i < p.size(); ++i) {
        EXPECT_EQ(p[i]->shape, q[i]->shape) << i;
        EXPECT_EQ(p[i]->to_std(), q[i]->to_std()) << i;
    }
}

// LayerNormalization over the last axes (PyTorch's nn.LayerNorm(d) on [N, T, d] exports axis=-1)
// with its Mean and InvStdDev outputs; MatMul of two computed tensors (attention).
TEST(OnnxLayers, LayerNormOverLastAxesStatisticsAndMatMul) {
    for (int axis : {0, 1, 2}) {
        SCOPED_TRACE(axis);
        check_grad({2, 3, 4}, [&](layer l) {
            auto ln = std::make_shared<LGroupNorm>(l, 0, 1e-5f, true, "ln", axis);
            ln->params[0]->fill_(1.3f);  // not the identity affine
            ln->params[1]->fill_(-0.2f);
            return ln;
        });
        check_grad({2, 3, 4}, [&](layer l) { return std::make_shared<LNormStat>(l, axis, 1e-5f, false, "mean"); });
        check_grad({2, 3, 4}, [&](layer l) { return std::make_shared<LNormStat>(l, axis, 1e-5f, true, "invstd"); });
    }
    OneNode t("LayerNormalization", {0, 5, 6});  // [N, T, D], N symbolic below
    t.m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(0)->set_dim_param("N");
    t.i("axis", -1);
    std::vector<float> scale(6), bias(6);
    for (int i = 0; i < 6; ++i) {
        scale[size_t(i)] = 0.5f + 0.1f * float(i);
        bias[size_t(i)] = 0.05f * float(i) - 0.1f;
    }
    t.const_input("scale", {6}, scale);
    t.const_input("bias", {6}, bias);
    for (const char* o : {"mean", "invstd"}) {
        t.n->add_output(o);
        t.m.mutable_graph()->add_output()->set_name(o);
    }
    model net = import_net_from_onnx_string(ser(t.m));
    build(net);
    auto x = Tensor::randn({2, 5, 6}, 21);
    const auto ys = predict(net, {x});
    ASSERT_EQ(ys.size(), 3u);
    EXPECT_EQ(ys[1]->shape, (Shape{2, 5, 1}));
    for (int r = 0; r < 10; ++r) {  // each row of 6 normalized on its own
        double mu = 0, var = 0;
        for (int i = 0; i < 6; ++i) mu += x->ptr[r * 6 + i];
        mu /= 6;
        for (int i = 0; i < 6; ++i) var += (x->ptr[r * 6 + i] - mu) * (x->ptr[r * 6 + i] - mu);
        var /= 6;
        const double inv = 1 / std::sqrt(var + 1e-5);
        EXPECT_NEAR(ys[1]->ptr[r], mu, 1e-6);
        EXPECT_NEAR(ys[2]->ptr[r], inv, 1e-4 * inv);
        for (int i = 0; i < 6; ++i)
            EXPECT_NEAR(ys[0]->ptr[r * 6 + i], (x->ptr[r * 6 + i] - mu) * inv * scale[size_t(i)] + bias[size_t(i)], 1e-5);
    }
    // export -> import: the same three outputs
    model again = import_net_from_onnx_string(serialize_net_to_onnx_string(net));
    build(again);
    const auto zs = predict(again, {x});
    for (size_t i = 0; i < 3; ++i) EXPECT_EQ(zs[i]->to_std(), ys[i]->to_std()) << i;

    // MatMul of two computed tensors, per sample and leading index
    layer a = Input({2, 3, 4}), b = Input({2, 4, 5});
    auto mm = std::make_shared<LMatMul>(a, b, "mm");
    EXPECT_EQ(mm->out_shape, (Shape{2, 3, 5}));
    model m2 = Model({a, b}, {mm});
    build(m2, sgd(0.1f), {"mse"}, {}, CS_CPU(1));
    auto xa = Tensor::randn({3, 2, 3, 4}, 1), xb = Tensor::randn({3, 2, 4, 5}, 2);
    const auto y = predict(m2, {xa, xb})[0];
    for (int q = 0; q < 6; ++q)
        for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 5; ++j) {
                double s = 0;
                for (int k = 0; k < 4; ++k) s += double(xa->ptr[(q * 3 + i) * 4 + k]) * xb->ptr[(q * 4 + k) * 5 + j];
                EXPECT_NEAR(y->ptr[(q * 3 + i) * 5 + j], s, 1e-5);
            }
    gradcheck::check(m2, {xa, xb}, {Tensor::randn({3, 2, 3, 5}, 3)});
    expect_error([] { LMatMul(Input({3, 4}), Input({3, 5}), "bad"); }, "do not multiply");
}

// PyTorch's x[:, 1::2] exports Slice with ends = INT64_MAX, which a double holds as 2^63: it must
// mean "to the end", not overflow into an empty slice (found by benchmarks/onnx_roundtrip.py).
TEST(OnnxLayers, SliceToTheEndWithSteps) {
    OneNode t("Slice", {1, 6, 4});
    t.m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(0)->set_dim_param("N");
    t.const_ints("starts", {1});
    t.const_ints("ends", {std::numeric_limits<int64_t>::max()});
    t.const_ints("axes", {1});
    t.const_ints("steps", {2});
    model net = import_net_from_onnx_string(ser(t.m));
    build(net);
    auto x = Tensor::randn({2, 6, 4}, 3);
    const auto y = predict(net, {x})[0];
    ASSERT_EQ(y->shape, (Shape{2, 3, 4}));
    for (int b = 0; b < 2; ++b)
        for (int r = 0; r < 3; ++r)
            for (int c = 0; c < 4; ++c) EXPECT_EQ(y->ptr[(b * 3 + r) * 4 + c], x->ptr[(b * 6 + 1 + 2 * r) * 4 + c]);
    // negative steps from the end down to the start (ends = INT64_MIN)
    OneNode u("Slice", {1, 6, 4});
    u.const_ints("starts", {-1});
    u.const_ints("ends", {std::numeric_limits<int64_t>::min()});
    u.const_ints("axes", {2});
    u.const_ints("steps", {-1});
    model rev = import_net_from_onnx_string(ser(u.m));
    build(rev);
    const auto z = predict(rev, {x})[0];
    ASSERT_EQ(z->shape, (Shape{2, 6, 4}));
    for (int i = 0; i < 12; ++i)
        for (int c = 0; c < 4; ++c) EXPECT_EQ(z->ptr[i * 4 + c], x->ptr[i * 4 + 3 - c]);
}

// ArgMax/ArgMin, comparisons, IsNaN/IsInf and MaxPool's Indices: values as floats, no gradient,
// and export (with a Cast back to float) -> import identical.
TEST(OnnxLayers, IndicesAndComparisons) {
    layer in = Input({3, 4}, "x");
    layer am = std::make_shared<LAxisOp>(in, "ArgMax", 1, "argmax", false, false);
    layer al = std::make_shared<LAxisOp>(in, "ArgMin", 0, "argmin_last", true, true);
    layer gt = std::make_shared<LElementwise>(in, EwFn::Greater, "Greater", 0.0f, 0.0f, std::vector<int64_t>{4},
                                              std::vector<float>{0, 0.5f, -0.5f, 1}, "gt");
    layer le = std::make_shared<LElementwise>(in, EwFn::LessOrEqual, "LessOrEqual", 0.0f, 0.0f, std::vector<int64_t>{},
                                              std::vector<float>{0.25f}, "le");
    layer nan = std::make_shared<LElementwise>(in, EwFn::IsNaN, "IsNaN", 0.0f, 0.0f, std::vector<int64_t>{},
                                               std::vector<float>{}, "isnan");
    layer inf = std::make_shared<LElementwise>(in, EwFn::IsInf, "IsInf", 0.0f, 1.0f, std::vector<int64_t>{},
                                               std::vector<float>{}, "isposinf");
    EXPECT_EQ(am->out_shape, (Shape{3}));
    EXPECT_EQ(al->out_shape, (Shape{1, 4}));
    model net = Model({in}, {am, al, gt, le, nan, inf});
    build(net);
    const float q = std::numeric_limits<float>::quiet_NaN(), i = std::numeric_limits<float>::infinity();
    auto x = from_std({1, 3, 4}, {1, 5, 5, -1, /**/ 0.25f, -i, 2, 2, /**/ 3, i, q, 1});
    const auto y = predict(net, {x});
    EXPECT_EQ(y[0]->to_std(), (std::vector<float>{1, 2, 1}));   // first maximum per row (NaN never wins)
    EXPECT_EQ(y[1]->to_std(), (std::vector<float>{1, 1, 1, 0}));  // last minimum per column
    EXPECT_EQ(y[2]->to_std(), (std::vector<float>{1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 0}));
    EXPECT_EQ(y[3]->to_std(), (std::vector<float>{0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0}));
    EXPECT_EQ(y[4]->to_std(), (std::vector<float>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0}));
    EXPECT_EQ(y[5]->to_std(), (std::vector<float>{0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0}));
    model again = import_net_from_onnx_string(serialize_net_to_onnx_string(net));
    build(again);
    const auto z = predict(again, {x});
    for (size_t k = 0; k < y.size(); ++k) {
        const auto a = y[k]->to_std(), b = z[k]->to_std();
        ASSERT_EQ(a.size(), b.size()) << k;
        for (size_t j = 0; j < a.size(); ++j) EXPECT_TRUE(a[j] == b[j] || (std::isnan(a[j]) && std::isnan(b[j]))) << k;
    }
    // no gradient through any of them
    for (auto fn : {EwFn::Greater, EwFn::Equal, EwFn::IsNaN}) {
        SCOPED_TRACE(int(fn));
        check_grad({2, 5}, [&](layer l) { return ew(l, fn, 0, 1, {1}, {0.3f}); }, {0.3f});
    }
    check_grad({2, 5}, [&](layer l) { return std::make_shared<LAxisOp>(l, "ArgMax", 1, "am"); }, {}, -2, 2, true);

    // MaxPool's Indices: flat positions in [N, C, H, W], row- or column-major over H, W
    for (bool col : {false, true}) {
        layer im = Input({2, 5, 5});
        auto pool = std::make_shared<LPool2D>(im, PoolKind::Max, std::vector<int>{2, 2}, std::vector<int>{2, 2}, "valid",
                                              false, "pool");
        model pn = Model({im}, {pool, std::make_shared<LPoolIndices>(im, pool, "idx", false, col)});
        build(pn);
        auto v = Tensor::randn({2, 2, 5, 5}, 8);
        const auto r = predict(pn, {v});
        for (int p = 0; p < 4; ++p)  // (n, c) planes
            for (int oy = 0; oy < 2; ++oy)
                for (int ox = 0; ox < 2; ++ox) {
                    const int64_t idx = int64_t(r[1]->ptr[p * 4 + oy * 2 + ox]), rel = idx - p * 25;
                    ASSERT_TRUE(rel >= 0 && rel < 25) << idx;
                    const int64_t yy = col ? rel % 5 : rel / 5, xx = col ? rel / 5 : rel % 5;
                    EXPECT_EQ(v->ptr[p * 25 + yy * 5 + xx], r[0]->ptr[p * 4 + oy * 2 + ox]);
                    EXPECT_TRUE(yy / 2 == oy && xx / 2 == ox);
                }
        model pa = import_net_from_onnx_string(serialize_net_to_onnx_string(pn));
        build(pa);
        EXPECT_EQ(predict(pa, {v})[1]->to_std(), r[1]->to_std());
    }
}

// Expand, Tile, LRN and TopK: references, gradients, export -> import.
TEST(OnnxLayers, BroadcastLrnAndTopK) {
    // Expand {3, 1} to {3, 4}; Tile {3, 1} by {2, 3}
    layer in = Input({3, 1}, "x");
    auto ex = std::make_shared<LBroadcast>(in, Shape{3, 4}, false, "expand");
    auto ti = std::make_shared<LBroadcast>(in, Shape{6, 3}, true, "tile");
    model net = Model({in}, {ex, ti});
    build(net);
    auto x = from_std({1, 3, 1}, {1, 2, 3});
    const auto y = predict(net, {x});
    EXPECT_EQ(y[0]->to_std(), (std::vector<float>{1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3}));
    EXPECT_EQ(y[1]->to_std(), (std::vector<float>{1, 1, 1, 2, 2, 2, 3, 3, 3, 1, 1, 1, 2, 2, 2, 3, 3, 3}));
    expect_error([&] { LBroadcast(in, Shape{4, 1}, true, "t"); }, "does not tile");
    check_grad({3, 1, 2}, [&](layer l) { return std::make_shared<LBroadcast>(l, Shape{3, 4, 2}, false, "e"); });
    check_grad({3, 1, 2}, [&](layer l) { return std::make_shared<LBroadcast>(l, Shape{6, 2, 4}, true, "t"); });

    // LRN against the definition, then gradients (a large alpha so the normalization matters)
    layer li = Input({5, 2, 3});
    auto lrn = std::make_shared<LLRN>(li, 0.5f, 0.75f, 2.0f, 3, "lrn");
    model ln = Model({li}, {lrn});
    build(ln);
    auto v = Tensor::randn({2, 5, 2, 3}, 6);
    const auto lo = predict(ln, {v})[0];
    for (int b = 0; b < 2; ++b)
        for (int c = 0; c < 5; ++c)
            for (int s = 0; s < 6; ++s) {
                double sq = 0;
                for (int j = std::max(0, c - 1); j <= std::min(4, c + 1); ++j) sq += std::pow(v->ptr[(b * 5 + j) * 6 + s], 2);
                const double want = v->ptr[(b * 5 + c) * 6 + s] / std::pow(2.0 + 0.5 / 3 * sq, 0.75);
                EXPECT_NEAR(lo->ptr[(b * 5 + c) * 6 + s], want, 1e-5);
            }
    for (int size : {1, 2, 3, 4})
        check_grad({5, 2, 3}, [&](layer l) { return std::make_shared<LLRN>(l, 0.5f, 0.75f, 2.0f, size, "lrn"); });

    // TopK: values in order (ties: the lower index first) and indices
    layer tk = Input({5}, "v");
    model tn = Model({tk}, {std::make_shared<LTopK>(tk, 0, 3, true, false, "top"),
                            std::make_shared<LTopK>(tk, 0, 3, true, true, "top_idx"),
                            std::make_shared<LTopK>(tk, 0, 2, false, true, "bottom_idx")});
    build(tn);
    auto t = from_std({1, 5}, {2, 7, 2, 9, -1});
    const auto r = predict(tn, {t});
    EXPECT_EQ(r[0]->to_std(), (std::vector<float>{9, 7, 2}));
    EXPECT_EQ(r[1]->to_std(), (std::vector<float>{3, 1, 0}));
    EXPECT_EQ(r[2]->to_std(), (std::vector<float>{4, 0}));
    check_grad({4, 6}, [&](layer l) { return std::make_shared<LTopK>(l, 1, 3, true, false, "top"); }, {}, -2, 2, true);
    check_grad({4, 6}, [&](layer l) { return std::make_shared<LTopK>(l, 0, 2, false, false, "bottom"); }, {}, -2, 2, true);

    // export -> import of all of them
    for (model m : {net, ln, tn}) {
        model again = import_net_from_onnx_string(serialize_net_to_onnx_string(m));
        build(again);
        const vtensor xs{m == net ? x : m == ln ? v : t};
        const auto p = predict(m, xs), q = predict(again, xs);
        ASSERT_EQ(p.size(), q.size());
        for (size_t i = 0; i < p.size(); ++i) EXPECT_EQ(p[i]->to_std(), q[i]->to_std()) << m->name << " " << i;
    }
}

// Found by fuzz_onnx_import (UBSan): a Reshape target of 4.7e21 (a float tensor given as the
// shape) was converted to int64 for the error message. Huge or fractional shape values in
// Reshape (also with the batch elsewhere), Expand and Tile are errors that name the node.
TEST(OnnxLayers, HugeShapeValuesAreErrors) {
    OneNode r("Reshape", {1, 6});
    r.m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(0)->set_dim_param("N");
    r.const_input("shape", {2}, {4.7e21f, 6.0f});
    expect_error([&] { import_net_from_onnx_string(ser(r.m)); }, "fixes the first dimension to 4.7");
    OneNode e("Expand", {1, 1, 3});
    e.m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(0)->set_dim_param("N");
    e.const_input("shape", {3}, {1.0f, 3e20f, 3.0f});
    expect_error([&] { import_net_from_onnx_string(ser(e.m)); }, "node 'y' (Expand): shape value 3");
}

// The general Resize (values against ONNX's reference outputs in test_eddl_onnx_conformance):
// gradients for each mode, up and down, with tf_crop_and_resize's extrapolation; export -> import.
TEST(OnnxLayers, ResizeGradientsAndRoundTrip) {
    struct Case {
        const char *mode, *ctm;
        Shape out;
        bool exclude;
    } cases[] = {{"nearest", "asymmetric", {2, 7, 3}, false},     {"linear", "align_corners", {2, 3, 7}, false},
                 {"linear", "half_pixel", {2, 9, 2}, false},       {"cubic", "half_pixel", {2, 7, 9}, true},
                 {"cubic", "pytorch_half_pixel", {2, 3, 3}, false}, {"linear", "tf_crop_and_resize", {2, 4, 6}, false}};
    for (const Case& c : cases) {
        SCOPED_TRACE(std::string(c.mode) + " " + c.ctm);
        LResize::Params p;
        p.mode = c.mode;
        p.ctm = c.ctm;
        p.exclude_outside = c.exclude;
        p.nearest_mode = "floor";
        p.extrapolation = 0.5f;
        const Shape in{2, 5, 4};
        for (size_t i = 0; i < in.size(); ++i) p.scales.push_back(double(c.out[i]) / in[i]);
        if (std::string(c.ctm) == "tf_crop_and_resize") {
            p.roi_start = {0, -0.2, 0.1};  // outside the input at the top: extrapolated
            p.roi_end = {1, 0.8, 1.3};
        }
        check_grad(in, [&](layer l) { return std::make_shared<LResize>(l, c.out, p, "resize"); });
        layer x = Input(in, "x");
        model net = Model({x}, {std::make_shared<LResize>(x, c.out, p, "resize")});
        build(net);
        model again = import_net_from_onnx_string(serialize_net_to_onnx_string(net));
        build(again);
        auto v = Tensor::randn({2, 2, 5, 4}, 7);
        const auto a = predict(net, {v})[0]->to_std(), b = predict(again, {v})[0]->to_std();
        ASSERT_EQ(a.size(), b.size());
        for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5f * (1 + std::fabs(a[i]))) << i;
    }
}

// BatchNormalization with training_mode=1 (values against ONNX's in the conformance tests):
// gradients of Y (statistics over the batch, or per whole sample) and of the running statistics;
// the batch form exports as itself and re-imports.
TEST(OnnxLayers, BatchStatisticsGradientsAndRoundTrip) {
    const std::vector<float> sc{1.2f, 0.7f, -0.4f}, bi{0.1f, -0.2f, 0.3f}, mu{0.5f, 0.0f, -1.0f}, va{1.0f, 2.0f, 0.5f};
    using BS = LBatchStats;
    for (bool ob : {true, false})
        for (BS::Out w : {BS::Out::Y, BS::Out::RunningMean, BS::Out::RunningVar}) {
            SCOPED_TRACE(::testing::Message() << "over_batch " << ob << " output " << int(w));
            const Shape in = ob ? Shape{3, 4} : Shape{2, 3, 4};
            check_grad(in, [&](layer l) { return std::make_shared<BS>(l, ob ? 0 : 1, ob, 1e-5f, 0.9f, w, sc, bi, mu, va, "bn"); });
        }
    layer x = Input({3, 4, 2}, "x");
    auto y = std::make_shared<BS>(x, 0, true, 1e-5f, 0.9f, BS::Out::Y, sc, bi, mu, va, "bn");
    model net = Model({x}, {y});
    build(net);
    model again = import_net_from_onnx_string(serialize_net_to_onnx_string(net));
    build(again);
    auto v = Tensor::randn({5, 3, 4, 2}, 3);
    const auto a = predict(net, {v})[0]->to_std(), b = predict(again, {v})[0]->to_std();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6f) << i;
    // statistics over the batch: each channel of Y has mean bias and standard deviation |scale|
    for (int c = 0; c < 3; ++c) {
        double s = 0, q = 0;
        for (int n = 0; n < 5; ++n)
            for (int i = 0; i < 8; ++i) s += a[size_t((n * 3 + c) * 8 + i)];
        const double m = s / 40;
        for (int n = 0; n < 5; ++n)
            for (int i = 0; i < 8; ++i) q += std::pow(a[size_t((n * 3 + c) * 8 + i)] - m, 2);
        EXPECT_NEAR(m, bi[size_t(c)], 1e-5);
        EXPECT_NEAR(std::sqrt(q / 40), std::fabs(sc[size_t(c)]), 1e-3);
    }
}
