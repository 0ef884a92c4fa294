// ONNX export and import: our export -> our import is bit-identical and trains identically
// (MLP, CNN, ResNet-18, U-Net); every exportable layer round-trips; bad files and unsupported
// graphs give errors naming the problem; weights and gradients travel as ONNX.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "eddl/eddl.h"
#include "expect_error.h"

using namespace eddl;
namespace fs = std::filesystem;

namespace {

std::string tmp(const std::string& n) { return (fs::temp_directory_path() / ("eddl_onnx_" + n)).string(); }

std::vector<float> all_params(model net) {
    std::vector<float> w;
    for (const auto& l : net->layers) {
        for (const auto& p : l->params) {
            const auto v = p->to_std();
            w.insert(w.end(), v.begin(), v.end());
        }
        for (const auto& s : l->states) {
            const auto v = s->to_std();
            w.insert(w.end(), v.begin(), v.end());
        }
    }
    return w;
}

// Exports `a` (built), imports it, builds the copy the same way (default init_weights: the
// imported weights must survive), and checks bit-identical predictions and, when `train`,
// identical weights after `steps` optimizer steps on the same batches.
void round_trip(model a, const tensor& x, const tensor& y, const std::string& loss, int steps, float tol = 0.0f) {
    const std::string bytes = serialize_net_to_onnx_string(a);
    model b = import_net_from_onnx_string(bytes);
    set_seed(b, a->seed);
    build(b, sgd(0.01f, 0.9f), {loss}, {}, CS_CPU(2));
    ASSERT_EQ(a->layers.size(), b->layers.size());
    for (size_t i = 0; i < a->layers.size(); ++i) {
        EXPECT_EQ(a->layers[i]->name, b->layers[i]->name);
        EXPECT_EQ(a->layers[i]->out_shape, b->layers[i]->out_shape) << a->layers[i]->name;
    }
    EXPECT_EQ(all_params(a), all_params(b));
    const auto pa = predict(a, {x})[0]->to_std(), pb = predict(b, {x})[0]->to_std();
    ASSERT_EQ(pa.size(), pb.size());
    if (tol == 0.0f) {
        EXPECT_EQ(pa, pb);
    } else {
        for (size_t i = 0; i < pa.size(); ++i) EXPECT_NEAR(pa[i], pb[i], tol) << i;
    }
    for (int s = 0; s < steps; ++s) {
        const auto idx = random_indices(4, x->shape[0], uint64_t(s));
        train_batch(a, {x}, {y}, idx);
        train_batch(b, {x}, {y}, idx);
    }
    if (steps) EXPECT_EQ(all_params(a), all_params(b));
    if (steps) EXPECT_EQ(predict(a, {x})[0]->to_std(), predict(b, {x})[0]->to_std());
}

void build_for(model net, const std::string& loss) {
    set_seed(net, 7);
    build(net, sgd(0.01f, 0.9f), {loss}, {}, CS_CPU(2));
}

tensor labels(int n, int classes, uint64_t seed) {
    auto r = Tensor::randu({n}, seed);
    r->mult_(float(classes));
    r->floor_();
    return Tensor::onehot(*r, classes);
}

}  // namespace

TEST(Onnx, MlpRoundTripIsBitIdenticalAndTrainsIdentically) {
    layer in = Input({12}, "x");
    layer l = ReLu(Dense(in, 32), "relu_a");
    l = Dropout(l, 0.25f, true, "drop_eddl");          // EDDL's dropout (scaled at inference)
    l = LeakyReLu(Dense(l, 16), 0.1f);
    l = Dropout(l, 0.1f, false);                       // inverted dropout
    l = Dense(l, 8, false);                            // no bias: MatMul
    model net = Model({in}, {Softmax(Dense(Tanh(l), 5), -1, "probs")});
    build_for(net, "soft_cross_entropy");
    round_trip(net, Tensor::randn({16, 12}, 3), labels(16, 5, 4), "soft_cross_entropy", 4);
}

TEST(Onnx, CnnRoundTripIsBitIdenticalAndTrainsIdentically) {
    layer in = Input({3, 16, 16});
    layer a = ReLu(BatchNormalization(Conv2D(in, 8, {3, 3}, {1, 1}, "same"), 0.9f, 1e-5f));
    layer b = Conv2D(in, 8, {5, 5}, {1, 1}, std::vector<int>{2, 2}, true, 1, {1, 1});
    layer l = Add({a, b});
    l = MaxPool2D(l, {2, 2}, {2, 2});
    l = Conv2D(l, 8, {3, 3}, {2, 2}, "same", true, 2, {1, 1});  // grouped, strided, asymmetric "same"
    l = Conv2D(l, 8, {3, 3}, {1, 1}, std::vector<int>{2, 2}, false, 1, {2, 2});  // dilated
    layer up = ConvT2D(l, 4, {2, 2}, {2, 2});
    layer up2 = UpSampling2D(l, {2, 2});
    l = Concat({up, up2}, 0);
    l = AveragePool2D(Pad(l, {1, 1}), {3, 3}, {2, 2}, "same");
    l = Flatten(GlobalAveragePool(Sigmoid(l)));
    model net = Model({in}, {Softmax(Dense(l, 4))});
    build_for(net, "soft_cross_entropy");
    round_trip(net, Tensor::randn({8, 3, 16, 16}, 5), labels(8, 4, 6), "soft_cross_entropy", 3);
}

TEST(Onnx, ResNet18RoundTrip) {
    model net = ResNet18({3, 32, 32}, 10);
    build_for(net, "soft_cross_entropy");
    round_trip(net, Tensor::randn({4, 3, 32, 32}, 8), labels(4, 10, 9), "soft_cross_entropy", 2);
}

TEST(Onnx, UNetRoundTrip) {
    model net = UNet({1, 32, 32}, 1, 2, 4);
    build_for(net, "bce");
    auto y = Tensor::randu({4, 1, 32, 32}, 11);
    y->round_();
    round_trip(net, Tensor::randn({4, 1, 32, 32}, 10), y, "bce", 2);
}

TEST(Onnx, EveryExportableLayerRoundTrips) {
    // activations and shape layers on {C, H, W}
    layer in = Input({4, 6, 6});
    vlayer outs;
    for (const char* act : {"relu", "sigmoid", "hard_sigmoid", "tanh", "elu", "selu", "softplus", "softsign",
                            "thresholded_relu", "exponential", "linear", "gelu", "swish", "leaky_relu"})
        outs.push_back(Activation(in, act, {0.5f}));
    outs.push_back(LayerNormalization(in));
    outs.push_back(GroupNormalization(in, 2));
    outs.push_back(Permute(in, {2, 0, 1}));
    outs.push_back(Reshape(in, {2, 72}));
    outs.push_back(Crop(in, {1, 1}, {4, 3}));
    outs.push_back(Crop(in, {1, 1}, {4, 3}, false, 2.0f));
    outs.push_back(Subtract({in, Sigmoid(in)}));
    outs.push_back(Multiply({in, in, Tanh(in)}));
    outs.push_back(Average({in, Sigmoid(in)}));
    outs.push_back(Maximum({in, Tanh(in)}));
    outs.push_back(Minimum({in, Tanh(in)}));
    outs.push_back(Add({in, in, in}));
    outs.push_back(GaussianNoise(in, 0.3f));
    outs.push_back(RandomCrop(in, {4, 4}));
    outs.push_back(VerticalFlip(in));
    outs.push_back(HorizontalFlip(Tanh(in)));
    outs.push_back(Cutout(in, {1, 2}, {3, 4}, 0.5f));
    // the warps, in every border mode (exported as their bilinear taps)
    outs.push_back(Rotate(in, 30.0f, {0, 1}, "original", 0.0f));
    outs.push_back(Rotate(in, -75.0f, {1, 0}, "constant", 0.7f));
    outs.push_back(Rotate(Tanh(in), 45.0f, {0, 0}, "reflect"));
    outs.push_back(Scale(in, {9, 4}, true));
    outs.push_back(Scale(in, {8, 8}, false, "wrap"));
    outs.push_back(Shift(in, {2, -1}, "nearest"));
    outs.push_back(Shift(in, {-1, 3}, "constant", -0.5f));
    outs.push_back(Dense(in, 3));  // on the last axis: MatMul + Add
    outs.push_back(MaxPool2D(in, {3, 3}, {1, 1}, std::vector<int>{1, 1}));
    outs.push_back(GlobalMaxPool(in));
    outs.push_back(Softmax(in));
    outs.push_back(BatchNormalization(in, 0.9f, 1e-3f, false));
    // 1-D and 3-D
    layer s1 = Input({3, 20});
    outs.push_back(AveragePool1D(MaxPool1D(Conv1D(s1, 4, {3}, {2}, "same"), {2}, {2}), {2}, {1}));
    outs.push_back(GlobalAveragePool1D(s1));
    layer v3 = Input({2, 4, 8, 8});
    outs.push_back(MaxPool3D(Conv3D(v3, 3, {3, 3, 3}, {1, 2, 2}, "same"), {2, 2, 2}, {2, 2, 2}));
    outs.push_back(ConvT3D(v3, 2, {2, 3, 2}, {2, 1, 2}, "valid"));
    outs.push_back(ConvT1D(s1, 3, {4}, {2}, "same"));
    outs.push_back(UpSampling3D(v3, {1, 2, 2}, "trilinear"));
    outs.push_back(UpSampling2D(in, {2, 3}, "bilinear"));
    layer words = Input({5});
    outs.push_back(Embedding(words, 10, 5, 3));
    model net = Model({in, s1, v3, words}, outs);
    set_seed(net, 3);
    std::vector<std::string> losses(outs.size(), "mse");
    build(net, sgd(0.01f), losses, {}, CS_CPU(2));

    model b = import_net_from_onnx_string(serialize_net_to_onnx_string(net));
    build(b, sgd(0.01f), losses, {}, CS_CPU(2));
    auto idx = Tensor::randu({3, 5}, 4);
    idx->mult_(10.0f).floor_();
    const vtensor xs{Tensor::randn({3, 4, 6, 6}, 1), Tensor::randn({3, 3, 20}, 2), Tensor::randn({3, 2, 4, 8, 8}, 3), idx};
    const auto pa = predict(net, xs), pb = predict(b, xs);
    ASSERT_EQ(pa.size(), pb.size());
    for (size_t o = 0; o < pa.size(); ++o) {
        ASSERT_EQ(pa[o]->shape, pb[o]->shape) << net->outputs[o]->name;
        const auto va = pa[o]->to_std(), vb = pb[o]->to_std();
        for (size_t i = 0; i < va.size(); ++i)
            ASSERT_NEAR(va[i], vb[i], 1e-5f * (1 + std::fabs(va[i]))) << net->outputs[o]->name << " at " << i;
    }
}

TEST(Onnx, LayersWithoutOnnxFormNameTheLayer) {
    layer w = Input({4});
    model e = Model({w}, {Embedding(w, 10, 4, 2, true, "emb")});
    build(e);
    expect_error([&] { serialize_net_to_onnx_string(e); }, "'emb' of type Embedding");
}

TEST(Onnx, FileSaveIsAtomicAndReimports) {
    model net = LeNet({1, 28, 28}, 10);
    build_for(net, "soft_cross_entropy");
    const std::string path = tmp("lenet.onnx");
    save_net_to_onnx_file(net, path);
    model b = import_net_from_onnx_file(path);
    build(b);
    auto x = Tensor::randn({2, 1, 28, 28}, 1);
    EXPECT_EQ(predict(net, {x})[0]->to_std(), predict(b, {x})[0]->to_std());
    for (const auto& e : fs::directory_iterator(fs::temp_directory_path()))  // no temporary left behind
        EXPECT_EQ(e.path().filename().string().find("eddl_onnx_lenet.onnx."), std::string::npos) << e.path();
    // new input size for a fully convolutional import
    model seg = UNet({1, 16, 16}, 2, 1, 2);
    build(seg);
    model big = import_net_from_onnx_string(serialize_net_to_onnx_string(seg), {1, 32, 24});
    build(big);
    EXPECT_EQ(big->outputs[0]->out_shape, (Shape{2, 32, 24}));
    fs::remove(path);
}

TEST(Onnx, ImportedBackboneKeepsWeightsNewHeadIsInitialized) {
    model net = LeNet({1, 28, 28}, 10);
    build_for(net, "soft_cross_entropy");
    model b = import_net_from_onnx_string(serialize_net_to_onnx_string(net));
    removeLayer(b, "softmax");
    removeLayer(b, "classifier");
    layer head = Softmax(Dense(b->outputs[0], 3, true, "new_head"));
    model t = Model(b->inputs, {head});
    build(t, sgd(0.01f), {"soft_cross_entropy"}, {}, CS_CPU(2));  // init_weights = true (default)
    std::string conv;
    for (const auto& l : net->layers)
        if (conv.empty() && l->type() == "Conv2D") conv = l->name;
    EXPECT_EQ(getParams(t->get_layer(conv))[0]->to_std(), getParams(net->get_layer(conv))[0]->to_std());
    EXPECT_GT(getParams(t->get_layer("new_head"))[0]->abs()->sum(), 0.0f);
}

// ---- bad input ----

TEST(Onnx, BadFilesNameTheProblem) {
    expect_error([] { import_net_from_onnx_file(tmp("does_not_exist.onnx")); }, "does_not_exist.onnx");
    expect_error([] { import_net_from_onnx_string("this is plain text, not a protobuf at all"); }, "not an ONNX model");
    expect_error([] { import_net_from_onnx_string(""); }, "empty");
    model net = LeNet({1, 28, 28}, 10);
    build(net);
    const std::string good = serialize_net_to_onnx_string(net);
    // truncation anywhere is an error, never a crash or a partial network
    for (size_t cut : {size_t(1), size_t(7), good.size() / 3, good.size() / 2, good.size() - 100, good.size() - 1})
        EXPECT_THROW(import_net_from_onnx_string(good.substr(0, cut)), eddl::Error) << "cut at " << cut;
    expect_error([&] { import_net_from_onnx_string(good.substr(0, good.size() / 2)); }, "ONNX model");
    const std::string path = tmp("trunc.onnx");
    std::ofstream(path, std::ios::binary) << good.substr(0, good.size() - 1);
    expect_error([&] { import_net_from_onnx_file(path); }, "trunc.onnx");
    fs::remove(path);
}

namespace {
onnx::ModelProto parse(const std::string& s) {
    onnx::ModelProto m;
    EXPECT_TRUE(m.ParseFromString(s));
    return m;
}
std::string ser(const onnx::ModelProto& m) {
    std::string s;
    m.SerializeToString(&s);
    return s;
}
model small_mlp() {
    layer in = Input({6}, "x");
    model net = Model({in}, {Softmax(Dense(ReLu(Dense(in, 5, true, "d1"), "r1"), 3, true, "d2"), -1, "sm")});
    build_for(net, "soft_cross_entropy");
    return net;
}
}  // namespace

TEST(Onnx, MissingInitializerCycleAndShapeMismatch) {
    const onnx::ModelProto base = parse(serialize_net_to_onnx_string(small_mlp()));
    {  // drop d2's weight
        onnx::ModelProto m = base;
        auto* inits = m.mutable_graph()->mutable_initializer();
        for (int i = 0; i < inits->size(); ++i)
            if (inits->Get(i).name() == "d2.weight") {
                inits->DeleteSubrange(i, 1);
                break;
            }
        expect_error([&] { import_net_from_onnx_string(ser(m)); }, "reads 'd2.weight'");
        expect_error([&] { import_net_from_onnx_string(ser(m)); }, "missing initializer");
    }
    {  // d1 reads r1's output: a cycle
        onnx::ModelProto m = base;
        for (auto& n : *m.mutable_graph()->mutable_node())
            if (n.name() == "d1") n.set_input(0, "r1");
        expect_error([&] { import_net_from_onnx_string(ser(m)); }, "cycle");
    }
    {  // a weight with the wrong shape
        onnx::ModelProto m = base;
        for (auto& t : *m.mutable_graph()->mutable_initializer())
            if (t.name() == "d2.weight") {
                t.set_dims(0, 4);
                t.set_raw_data(t.raw_data().substr(0, 4 * 3 * 4));
            }
        expect_error([&] { import_net_from_onnx_string(ser(m)); }, "shape mismatch");
    }
    {  // raw data shorter than the shape
        onnx::ModelProto m = base;
        for (auto& t : *m.mutable_graph()->mutable_initializer())
            if (t.name() == "d1.bias") t.set_raw_data(t.raw_data().substr(0, 8));
        expect_error([&] { import_net_from_onnx_string(ser(m)); }, "initializer 'd1.bias'");
    }
    {  // the declared output shape disagrees
        onnx::ModelProto m = base;
        m.mutable_graph()->mutable_output(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(1)->set_dim_value(7);
        expect_error([&] { import_net_from_onnx_string(ser(m)); }, "shape mismatch: graph output 'sm'");
    }
    {  // an input with a symbolic feature dimension needs input_shape
        onnx::ModelProto m = base;
        m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(1)->set_dim_param("f");
        expect_error([&] { import_net_from_onnx_string(ser(m)); }, "symbolic ('f')");
        model ok = import_net_from_onnx_string(ser(m), {6});
        EXPECT_EQ(ok->inputs[0]->out_shape, Shape{6});
    }
}

TEST(Onnx, UnsupportedOperatorsAreAllListed) {
    onnx::ModelProto m = parse(serialize_net_to_onnx_string(small_mlp()));
    auto* g = m.mutable_graph();
    auto add = [&](const std::string& op, const std::string& name, const std::string& in, const std::string& out) {
        auto* n = g->add_node();
        n->set_op_type(op);
        n->set_name(name);
        n->add_input(in);
        n->add_output(out);
        return n;
    };
    add("Unique", "my_unique", "r1", "t1");
    add("Einsum", "my_einsum", "t1", "t2");
    add("NonZero", "", "sm", "t3");
    g->add_output()->set_name("t2");
    g->add_output()->set_name("t3");
    try {
        import_net_from_onnx_string(ser(m));
        ADD_FAILURE() << "expected an error";
    } catch (const eddl::Error& e) {
        const std::string w = e.what();
        EXPECT_NE(w.find("3 unsupported node(s)"), std::string::npos) << w;
        EXPECT_NE(w.find("'my_unique' (Unique)"), std::string::npos) << w;
        EXPECT_NE(w.find("'my_einsum' (Einsum)"), std::string::npos) << w;
        EXPECT_NE(w.find("'t3' (NonZero)"), std::string::npos) << w;
    }
    // attributes: every offending node is listed, downstream nodes are not blamed
    layer x = Input({6}, "x");
    model two = Model({x}, {Softmax(Add({Dense(x, 4, true, "da"), Dense(x, 4, true, "db")}), -1, "sm")});
    build(two);
    onnx::ModelProto a = parse(serialize_net_to_onnx_string(two));
    for (auto& n : *a.mutable_graph()->mutable_node()) {
        if (n.name() == "da") {
            auto* at = n.add_attribute();
            at->set_name("transA");
            at->set_type(onnx::AttributeProto::INT);
            at->set_i(1);
        }
        if (n.name() == "db") {
            auto* at = n.add_attribute();
            at->set_name("weird");
            at->set_type(onnx::AttributeProto::INT);
        }
    }
    try {
        import_net_from_onnx_string(ser(a));
        ADD_FAILURE() << "expected an error";
    } catch (const eddl::Error& e) {
        const std::string w = e.what();
        EXPECT_NE(w.find("2 unsupported node(s)"), std::string::npos) << w;
        EXPECT_NE(w.find("'da' (Gemm): transA=1"), std::string::npos) << w;
        EXPECT_NE(w.find("'db' (Gemm): attribute 'weird'"), std::string::npos) << w;
        EXPECT_EQ(w.find("'sm'"), std::string::npos) << w;
    }
}

// PyTorch-style plumbing: x.view(x.size(0), -1) as Shape -> Gather -> Unsqueeze -> Concat ->
// Reshape, Constant nodes, Cast, Identity, Gemm with transB, Clip, ReduceMean, Softmax(axis 1).
TEST(Onnx, PlumbingIsFolded) {
    onnx::ModelProto m;
    m.set_ir_version(7);
    m.add_opset_import()->set_version(13);
    auto* g = m.mutable_graph();
    auto* in = g->add_input();
    in->set_name("x");
    auto* sh = in->mutable_type()->mutable_tensor_type();
    sh->set_elem_type(onnx::TensorProto::FLOAT);
    sh->mutable_shape()->add_dim()->set_dim_param("N");
    for (int d : {2, 3, 3}) sh->mutable_shape()->add_dim()->set_dim_value(d);
    auto node = [&](const std::string& op, std::vector<std::string> ins, const std::string& out) {
        auto* n = g->add_node();
        n->set_op_type(op);
        n->set_name(out);
        for (auto& i : ins) n->add_input(i);
        n->add_output(out);
        return n;
    };
    auto ints = [](onnx::NodeProto* n, const char* k, std::vector<int64_t> v) {
        auto* a = n->add_attribute();
        a->set_name(k);
        a->set_type(onnx::AttributeProto::INTS);
        for (auto x : v) a->add_ints(x);
    };
    auto const_i64 = [&](const std::string& name, std::vector<int64_t> v, bool scalar) {
        auto* n = node("Constant", {}, name);
        auto* a = n->add_attribute();
        a->set_name("value");
        a->set_type(onnx::AttributeProto::TENSOR);
        auto* t = a->mutable_t();
        t->set_data_type(onnx::TensorProto::INT64);
        if (!scalar) t->add_dims(int64_t(v.size()));
        for (auto x : v) t->add_int64_data(x);
    };
    auto init = [&](const std::string& name, std::vector<int64_t> dims, std::vector<float> v) {
        auto* t = g->add_initializer();
        t->set_name(name);
        t->set_data_type(onnx::TensorProto::FLOAT);
        for (auto d : dims) t->add_dims(d);
        for (float x : v) t->add_float_data(x);
    };
    node("Clip", {"x", "lo", "hi"}, "clipped");
    init("lo", {}, {-0.5f});
    init("hi", {}, {0.5f});
    node("Identity", {"clipped"}, "ident");
    node("Shape", {"ident"}, "shape");
    const_i64("zero", {0}, true);
    auto* gat = node("Gather", {"shape", "zero"}, "batch");
    (void)gat;
    const_i64("axes0", {0}, false);
    node("Unsqueeze", {"batch", "axes0"}, "batch1");
    const_i64("minus1", {-1}, false);
    auto* cc = node("Concat", {"batch1", "minus1"}, "target");
    auto* ax = cc->add_attribute();
    ax->set_name("axis");
    ax->set_type(onnx::AttributeProto::INT);
    ax->set_i(0);
    node("Reshape", {"ident", "target"}, "flat");
    auto* cast = node("Cast", {"flat"}, "flatf");
    auto* to = cast->add_attribute();
    to->set_name("to");
    to->set_type(onnx::AttributeProto::INT);
    to->set_i(onnx::TensorProto::FLOAT);
    std::vector<float> W(4 * 18), B{0.1f, -0.2f, 0.3f, 0.0f};
    for (size_t i = 0; i < W.size(); ++i) W[i] = float(int(i % 7) - 3) / 10.0f;
    init("W", {4, 18}, W);  // [out, in]: transB = 1, as torch.nn.Linear
    init("B", {4}, B);
    auto* gemm = node("Gemm", {"flatf", "W", "B"}, "fc");
    auto* tb = gemm->add_attribute();
    tb->set_name("transB");
    tb->set_type(onnx::AttributeProto::INT);
    tb->set_i(1);
    node("Softmax", {"fc"}, "probs");
    auto* rm = node("ReduceMean", {"x"}, "mean");
    ints(rm, "axes", {2, 3});
    g->add_output()->set_name("probs");
    g->add_output()->set_name("mean");

    model net = import_net_from_onnx_string(ser(m));
    build(net);
    auto x = Tensor::randn({3, 2, 3, 3}, 5);
    const auto out = predict(net, {x});
    ASSERT_EQ(out[0]->shape, (Shape{3, 4}));
    ASSERT_EQ(out[1]->shape, (Shape{3, 2, 1, 1}));
    for (int n = 0; n < 3; ++n) {
        std::vector<double> logits(4);
        for (int o = 0; o < 4; ++o) {
            double s = B[size_t(o)];
            for (int i = 0; i < 18; ++i) s += W[size_t(o * 18 + i)] * std::clamp(x->ptr[n * 18 + i], -0.5f, 0.5f);
            logits[size_t(o)] = s;
        }
        double z = 0;
        for (double v : logits) z += std::exp(v);
        for (int o = 0; o < 4; ++o) EXPECT_NEAR(out[0]->ptr[n * 4 + o], std::exp(logits[size_t(o)]) / z, 1e-5);
        for (int c = 0; c < 2; ++c) {
            double s = 0;
            for (int i = 0; i < 9; ++i) s += x->ptr[n * 18 + c * 9 + i];
            EXPECT_NEAR(out[1]->ptr[n * 2 + c], s / 9, 1e-5);
        }
    }
}

// ---- weights and gradients ----

TEST(Onnx, SetWeightsFromOnnx) {
    model a = small_mlp();
    layer in = Input({6}, "x");
    model b = Model({in}, {Softmax(Dense(ReLu(Dense(in, 5, true, "d1"), "r1"), 3, true, "d2"), -1, "sm")});
    set_seed(b, 99);
    build(b);
    EXPECT_NE(all_params(a), all_params(b));
    set_weights_from_onnx(b, serialize_net_to_onnx_string(a));
    EXPECT_EQ(all_params(a), all_params(b));
    // a different model: nothing is written
    layer in2 = Input({6}, "x");
    model c = Model({in2}, {Dense(in2, 4, true, "d1")});
    build(c);
    const auto before = all_params(c);
    expect_error([&] { set_weights_from_onnx(c, serialize_net_to_onnx_string(a)); }, "shape mismatch: initializer 'd1.weight'");
    EXPECT_EQ(before, all_params(c));
    layer in3 = Input({6}, "x");
    model d = Model({in3}, {Dense(in3, 5, true, "other")});
    build(d);
    expect_error([&] { set_weights_from_onnx(d, serialize_net_to_onnx_string(a)); }, "missing initializer 'other.weight'");
    expect_error([&] { set_weights_from_onnx(b, serialize_net_to_onnx_string(a, true)); }, "carries gradients");
}

TEST(Onnx, ApplyGradsFromOnnxMatchesALocalStep) {
    model a = small_mlp(), b = small_mlp();
    ASSERT_EQ(all_params(a), all_params(b));
    auto x = Tensor::randn({8, 6}, 1);
    auto y = labels(8, 3, 2);
    a->set_mode(TRMODE);
    zeroGrads(a);
    forward(a, {x});
    backward(a, {y});
    const std::string grads = serialize_net_to_onnx_string(a, true);
    update(a);
    apply_grads_from_onnx(b, grads);
    EXPECT_EQ(all_params(a), all_params(b));
    expect_error([&] { apply_grads_from_onnx(b, serialize_net_to_onnx_string(a)); }, "carries weights");
}

// Corrupted bytes (a poor man's fuzzer; the libFuzzer target is not written yet): every import
// either succeeds or throws eddl::Error, never anything else.
TEST(Onnx, RandomCorruptionGivesErrorsNotCrashes) {
    layer in = Input({1, 12, 12}, "x");
    layer l = MaxPool2D(ReLu(BatchNormalization(Conv2D(in, 4, {3, 3}))), {2, 2}, {2, 2});
    model net = Model({in}, {Softmax(Dense(Flatten(l), 3))});
    build(net);
    const std::string good = serialize_net_to_onnx_string(net);
    uint64_t state = 12345;
    auto next = [&] {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return state >> 33;
    };
    int errors = 0;
    for (int trial = 0; trial < 300; ++trial) {
        std::string bad = good;
        const int flips = 1 + int(next() % 4);
        for (int f = 0; f < flips; ++f) bad[size_t(next() % bad.size())] = char(next() & 0xff);
        try {
            model m = import_net_from_onnx_string(bad);
            build(m);
            predict(m, {Tensor::randn({2, 1, 12, 12}, 1)});
        } catch (const eddl::Error&) {
            ++errors;
        } catch (const std::exception& e) {
            ADD_FAILURE() << "trial " << trial << ": not an eddl::Error: " << e.what();
        }
    }
    EXPECT_GT(errors, 0);
}

// The buffer forms (the original EDDL's *_pointer functions) hold exactly the string forms'
// bytes, import to the same network, and exchange weights and gradients the same way.
TEST(Onnx, PointerFormsMatchStringForms) {
    model a = small_mlp();
    const std::string bytes = serialize_net_to_onnx_string(a);
    void* buf = nullptr;
    size_t size = 0;
    serialize_net_to_onnx_pointer(a, buf, size);
    ASSERT_NE(buf, nullptr);
    const std::string copy(static_cast<const char*>(buf), size);
    delete[] static_cast<char*>(buf);
    EXPECT_EQ(copy, bytes);

    // import: same layers, bit-identical predictions
    std::vector<char> owned(copy.begin(), copy.end());  // not a std::string's storage
    model b = import_net_from_onnx_pointer(owned.data(), owned.size());
    owned.assign(owned.size(), 0);  // the import keeps nothing pointing into the buffer
    model c = import_net_from_onnx_string(bytes);
    build(b);
    build(c);
    EXPECT_EQ(all_params(b), all_params(a));
    const auto x = Tensor::randn({4, 6}, 3);
    EXPECT_EQ(predict(b, {x})[0]->to_std(), predict(c, {x})[0]->to_std());
    EXPECT_EQ(predict(b, {x})[0]->to_std(), predict(a, {x})[0]->to_std());
    // input_shape is honoured as in the string form
    layer in = Input({1, 8, 8}, "img");
    model fcn = Model({in}, {Conv2D(in, 2, {3, 3}, {1, 1}, "same")});
    build(fcn);
    const std::string fb = serialize_net_to_onnx_string(fcn);
    model f2 = import_net_from_onnx_pointer(fb.data(), fb.size(), {1, 12, 10});
    build(f2);
    EXPECT_EQ(f2->outputs[0]->out_shape, (Shape{2, 12, 10}));

    // gradients: bit-identical bytes, and the buffer form of apply_grads equals the string form
    auto y = labels(8, 3, 2);
    auto xb = Tensor::randn({8, 6}, 1);
    a->set_mode(TRMODE);
    zeroGrads(a);
    forward(a, {xb});
    backward(a, {y});
    const std::string gs = serialize_net_to_onnx_string(a, true);
    serialize_net_to_onnx_pointer(a, buf, size, true);
    const std::string gcopy(static_cast<const char*>(buf), size);
    EXPECT_EQ(gcopy, gs);
    model g1 = small_mlp(), g2 = small_mlp();
    apply_grads_from_onnx(g1, gs);
    apply_grads_from_onnx(g2, buf, size);
    delete[] static_cast<char*>(buf);
    EXPECT_EQ(all_params(g1), all_params(g2));
    EXPECT_NE(all_params(g1), all_params(small_mlp()));

    // weights: the buffer form writes what the string form writes
    layer in2 = Input({6}, "x");
    model w = Model({in2}, {Softmax(Dense(ReLu(Dense(in2, 5, true, "d1"), "r1"), 3, true, "d2"), -1, "sm")});
    set_seed(w, 99);
    build(w);
    EXPECT_NE(all_params(w), all_params(g1));
    const std::string wb = serialize_net_to_onnx_string(g1);
    set_weights_from_onnx(w, wb.data(), wb.size());
    EXPECT_EQ(all_params(w), all_params(g1));

    // errors name the buffer form
    expect_error([&] { import_net_from_onnx_pointer(nullptr, 10); }, "null buffer with size 10");
    expect_error([&] { import_net_from_onnx_pointer(nullptr, 0); }, "ONNX model (buffer): empty");
    expect_error([&] { import_net_from_onnx_pointer(bytes.data(), bytes.size() / 2); }, "ONNX model (buffer)");
    expect_error([&] { set_weights_from_onnx(w, gs.data(), gs.size()); }, "set_weights_from_onnx (buffer): the model carries gradients");
    expect_error([&] { apply_grads_from_onnx(g1, nullptr, 3); }, "apply_grads_from_onnx (buffer): null buffer");
}

// Found by fuzz_onnx_import (libFuzzer, docs/onnx.md): a MaxPool whose strides hold fewer values
// than its kernel read past the end of the strides (ASan heap-buffer-overflow); zero or huge
// strides, dilations and pads would divide by zero or overflow. All are eddl::Errors now.
TEST(Onnx, PoolAndConvAttributesOfTheWrongLengthOrRange) {
    layer in = Input({1, 8, 8}, "x");
    layer l = MaxPool2D(Conv2D(in, 2, {3, 3}, {1, 1}, "same", true, 1, {1, 1}, "conv"), {2, 2}, {2, 2}, "same", "pool");
    model net = Model({in}, {l});
    build(net);
    const onnx::ModelProto base = parse(serialize_net_to_onnx_string(net));
    auto with = [&](const std::string& node, const std::string& attr, std::vector<int64_t> v, const std::string& auto_pad = "") {
        onnx::ModelProto m = base;
        for (auto& n : *m.mutable_graph()->mutable_node()) {
            if (n.name() != node) continue;
            bool found = false;
            for (auto& at : *n.mutable_attribute())
                if (at.name() == attr) {
                    at.clear_ints();
                    for (auto x : v) at.add_ints(x);
                    found = true;
                }
            if (!found) {
                auto* at = n.add_attribute();
                at->set_name(attr);
                at->set_type(onnx::AttributeProto::INTS);
                for (auto x : v) at->add_ints(x);
            }
            if (!auto_pad.empty()) {
                for (int i = 0; i < n.attribute_size(); ++i)
                    if (n.attribute(i).name() == "pads") n.mutable_attribute()->DeleteSubrange(i, 1);
                auto* at = n.add_attribute();
                at->set_name("auto_pad");
                at->set_type(onnx::AttributeProto::STRING);
                at->set_s(auto_pad);
            }
        }
        return ser(m);
    };
    EXPECT_NO_THROW(import_net_from_onnx_string(ser(base)));
    expect_error([&] { import_net_from_onnx_string(with("pool", "strides", {2})); }, "strides [2] and dilations [1, 1] need 2 values");
    expect_error([&] { import_net_from_onnx_string(with("pool", "strides", {2}, "SAME_UPPER")); }, "need 2 values");
    expect_error([&] { import_net_from_onnx_string(with("pool", "strides", {0, 2}, "SAME_UPPER")); }, "must be in [1, ");
    expect_error([&] { import_net_from_onnx_string(with("conv", "dilations", {1, -3})); }, "node 'conv'");
    expect_error([&] { import_net_from_onnx_string(with("conv", "strides", {1LL << 40, 1})); }, "must be in [1, ");
    expect_error([&] { import_net_from_onnx_string(with("conv", "pads", {1, 1, 1LL << 40, 1})); }, "must be in [0, ");
}

// Found by fuzz_onnx_import (UBSan): a constant-folded Flatten whose axis exceeds the rank read
// past the dimensions. The same family: Slice with starts/ends/axes of different lengths,
// Transpose with a perm that is not a permutation. Each is an eddl::Error naming the node.
TEST(Onnx, FoldedShapeOperatorsCheckTheirAttributes) {
    auto model_with = [](const std::string& op, const std::function<void(onnx::NodeProto*)>& attrs, int opset = 9) {
        onnx::ModelProto m;
        m.set_ir_version(7);
        m.add_opset_import()->set_version(opset);
        auto* g = m.mutable_graph();
        auto* in = g->add_input();
        in->set_name("x");
        auto* tt = in->mutable_type()->mutable_tensor_type();
        tt->set_elem_type(onnx::TensorProto::FLOAT);
        tt->mutable_shape()->add_dim()->set_dim_param("N");
        tt->mutable_shape()->add_dim()->set_dim_value(6);
        auto* c = g->add_initializer();  // a constant [2, 3]
        c->set_name("c");
        c->set_data_type(onnx::TensorProto::FLOAT);
        c->add_dims(2);
        c->add_dims(3);
        for (int i = 0; i < 6; ++i) c->add_float_data(float(i));
        auto* n = g->add_node();
        n->set_op_type(op);
        n->set_name("bad_" + op);
        n->add_input("c");
        n->add_output("f");
        attrs(n);
        auto* r = g->add_node();  // x + reshape(f, [1, 6]) uses the folded value
        r->set_op_type("Add");
        r->set_name("add");
        r->add_input("x");
        r->add_input("f");
        r->add_output("y");
        g->add_output()->set_name("y");
        std::string s;
        m.SerializeToString(&s);
        return s;
    };
    auto ints = [](onnx::NodeProto* n, const char* k, std::vector<int64_t> v) {
        auto* a = n->add_attribute();
        a->set_name(k);
        a->set_type(onnx::AttributeProto::INTS);
        for (auto x : v) a->add_ints(x);
    };
    auto axis = [](int64_t v) {
        return [v](onnx::NodeProto* n) {
            auto* a = n->add_attribute();
            a->set_name("axis");
            a->set_type(onnx::AttributeProto::INT);
            a->set_i(v);
        };
    };
    EXPECT_NO_THROW(import_net_from_onnx_string(model_with("Flatten", axis(0))));  // [1, 6]
    expect_error([&] { import_net_from_onnx_string(model_with("Flatten", axis(5))); }, "node 'bad_Flatten' (Flatten): axis 5 out of range for rank 2");
    expect_error([&] { import_net_from_onnx_string(model_with("Flatten", axis(-7))); }, "out of range");
    expect_error([&] {
        import_net_from_onnx_string(model_with("Slice", [&](onnx::NodeProto* n) {
            ints(n, "starts", {0, 0});
            ints(n, "ends", {1});
            ints(n, "axes", {0, 1});
        }));
    }, "of different lengths");
    expect_error([&] { import_net_from_onnx_string(model_with("Transpose", [&](onnx::NodeProto* n) { ints(n, "perm", {0}); })); },
                 "perm [0] is not a permutation of the 2 axes");
    expect_error([&] { import_net_from_onnx_string(model_with("Transpose", [&](onnx::NodeProto* n) { ints(n, "perm", {1, 1}); })); },
                 "is not a permutation");
}

// Div and Pow of two computed tensors: a * Reciprocal(b) and Exp(b * Log(a)) layers.
TEST(Onnx, DivAndPowOfTwoComputedTensors) {
    for (const std::string op : {"Div", "Pow"}) {
        onnx::ModelProto m;
        m.set_ir_version(8);
        m.add_opset_import()->set_version(17);
        auto* g = m.mutable_graph();
        for (const char* name : {"a", "b"}) {
            auto* in = g->add_input();
            in->set_name(name);
            auto* tt = in->mutable_type()->mutable_tensor_type();
            tt->set_elem_type(onnx::TensorProto::FLOAT);
            tt->mutable_shape()->add_dim()->set_dim_param("N");
            tt->mutable_shape()->add_dim()->set_dim_value(5);
        }
        auto* n = g->add_node();
        n->set_op_type(op);
        n->set_name("z");
        n->add_input("a");
        n->add_input("b");
        n->add_output("z");
        g->add_output()->set_name("z");
        model net = import_net_from_onnx_string(ser(m));
        build(net);
        auto a = Tensor::randu({3, 5}, 1), b = Tensor::randn({3, 5}, 2);
        a->add_(0.5f);  // positive bases
        const auto z = predict(net, {a, b})[0]->to_std();
        const auto av = a->to_std(), bv = b->to_std();
        ASSERT_EQ(z.size(), av.size());
        for (size_t i = 0; i < z.size(); ++i) {
            const float want = op == "Div" ? av[i] / bv[i] : std::pow(av[i], bv[i]);
            EXPECT_NEAR(z[i], want, 1e-5f * std::max(1.0f, std::fabs(want))) << op << " " << i;
        }
        // and it exports again (Reciprocal/Mul, Log/Mul/Exp; the inputs in their order) with the
        // same results (Exp re-imports as the Exponential activation: rounding may differ)
        model again = import_net_from_onnx_string(serialize_net_to_onnx_string(net));
        build(again);
        ASSERT_EQ(again->inputs.size(), 2u);
        EXPECT_EQ(again->inputs[0]->name, "a");
        const auto z2 = predict(again, {a, b})[0]->to_std();
        for (size_t i = 0; i < z.size(); ++i) EXPECT_NEAR(z2[i], z[i], 1e-6f * std::max(1.0f, std::fabs(z[i]))) << op << " " << i;
    }
}

// Found by fuzz_onnx_import (UBSan): a Resize scale of 1.7e28 overflowed the int upsampling
// factor. Scales and sizes that make a dimension larger than 2^26 are eddl::Errors.
TEST(Onnx, ResizeWithAHugeScaleIsAnError) {
    layer in = Input({2, 4, 4}, "x");
    model net = Model({in}, {UpSampling2D(in, {2, 2}, "nearest", "up")});
    build(net);
    const onnx::ModelProto base = parse(serialize_net_to_onnx_string(net));
    EXPECT_NO_THROW(import_net_from_onnx_string(ser(base)));
    onnx::ModelProto m = base;
    bool found = false;
    for (auto& t : *m.mutable_graph()->mutable_initializer()) {
        if (t.data_type() != onnx::TensorProto::FLOAT || t.dims_size() != 1 || t.dims(0) != 4) continue;
        std::vector<float> v{1.0f, 1.0f, 2.0f, 1.7e28f};
        t.clear_float_data();
        t.set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)));
        found = true;
    }
    ASSERT_TRUE(found) << "no scales initializer in the exported Resize";
    expect_error([&] { import_net_from_onnx_string(ser(m)); }, "makes dimension 3 larger than");
}
