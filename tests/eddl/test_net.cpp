// Models end to end: the Listing 1 API, fit/evaluate/predict, determinism, checkpoints, callbacks,
// computing services and the errors users hit.
#include <gtest/gtest.h>

#include "expect_error.h"

#include <filesystem>
#include <fstream>

#include "eddl/eddl.h"

using namespace eddl;
namespace fs = std::filesystem;

namespace {

std::string tmp(const std::string& n) { return (fs::temp_directory_path() / ("eddl_net_" + n)).string(); }


// 3 classes, label = argmax of a fixed linear map: learnable by a small MLP.
void make_data(int n, uint64_t seed, tensor& x, tensor& y) {
    x = Tensor::randn({n, 8}, seed);
    auto w = Tensor::randn({8, 3}, 99);
    auto logits = Tensor::matmul(*x, *w);
    y = Tensor::onehot(*logits->argmax(1), 3);
}

model mlp(uint64_t seed = 1234, optimizer o = nullptr, bool dropout = false) {
    layer in = Input({8});
    layer l = ReLu(Dense(in, 32));
    if (dropout) l = Dropout(l, 0.2f);
    layer out = Softmax(Dense(l, 3));
    model net = Model({in}, {out});
    set_seed(net, seed);
    build(net, o ? o : sgd(0.05f, 0.9f), {"soft_cross_entropy"}, {"categorical_accuracy"}, CS_CPU(2));
    return net;
}

std::vector<float> all_weights(model net) {
    std::vector<float> w;
    for (const auto& l : net->layers)
        for (const auto& p : l->params) {
            const auto v = p->to_std();
            w.insert(w.end(), v.begin(), v.end());
        }
    return w;
}

// Listing 1 of the paper, verbatim apart from the data files, inside a function.
void listing1(const std::string& dir) {
    int num_classes = 10, batch_size = 100, epochs = 1;
    layer in = Input({784});

    in = LeakyReLu(Dense(in, 1024));
    in = LeakyReLu(Dense(in, 1024));
    in = LeakyReLu(Dense(in, 1024));

    layer out = Softmax(Dense(in, num_classes));
    model net = Model({in}, {out});

    // Build model
    build(net,
          sgd(0.01f, 0.9),
          {"soft_cross_entropy"},
          {"categorical_accuracy"},
          CS_GPU({1}, "low_mem")
    );

    // Load training and test data
    tensor x_tr = eddlT::load(dir + "mnist_trX.bin");
    tensor y_tr = eddlT::load(dir + "mnist_trY.bin");
    tensor x_ts = eddlT::load(dir + "mnist_tsX.bin");
    tensor y_ts = eddlT::load(dir + "mnist_tsY.bin");

    // Preprocessing
    x_tr->div_(255.0);
    x_ts->div_(255.0);

    // Train model
    fit(net, {x_tr}, {y_tr}, batch_size, epochs);

    // Evaluate
    evaluate(net, {x_ts}, {y_ts});
}

}  // namespace

TEST(Net, Listing1CompilesAndFailsClearlyOnThisBuild) {
    // As printed, `in` is reassigned, so Model gets a LeakyReLu as input: a clear error.
    expect_error([] { listing1(tmp("")); }, "is a LeakyReLu layer, not an Input");
    // With the input kept, asking for a GPU in a CPU-only build throws instead of falling back.
    expect_error([] { CS_GPU({1}, "low_mem"); }, "without a CUDA backend");
}

TEST(Net, FitLearnsAndEvaluates) {
    tensor x, y, xv, yv;
    make_data(600, 1, x, y);
    make_data(200, 2, xv, yv);
    model net = mlp();
    FitOptions o;
    o.validation_x = {xv};
    o.validation_y = {yv};
    o.verbose = 0;
    fit(net, {x}, {y}, 32, 15, o);  // 600/32: the last batch is partial
    const Logs res = evaluate(net, {xv}, {yv}, 64, 0);
    EXPECT_GT(res.at("categorical_accuracy"), 0.9);
    EXPECT_EQ(net->epochs_done, 15);
    auto pred = predict(net, {xv});
    ASSERT_EQ(pred[0]->shape, (Shape{200, 3}));
    EXPECT_NEAR(pred[0]->sum(), 200.0f, 1e-3f);  // softmax rows sum to one
}

TEST(Net, SameSeedSameWeightsBitForBit) {
    tensor x, y;
    make_data(256, 3, x, y);
    FitOptions o;
    o.verbose = 0;
    auto train = [&](uint64_t seed) {
        model net = mlp(seed, adam(0.01f), true);
        fit(net, {x}, {y}, 32, 3, o);
        return all_weights(net);
    };
    const auto a = train(7), b = train(7), c = train(8);
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
}

TEST(Net, CheckpointResumesToTheSameResult) {
    tensor x, y;
    make_data(300, 4, x, y);
    FitOptions o;
    o.verbose = 0;
    model straight = mlp(5, adam(0.01f), true);
    fit(straight, {x}, {y}, 32, 4, o);

    model first = mlp(5, adam(0.01f), true);
    fit(first, {x}, {y}, 32, 2, o);
    const auto path = tmp("resume.ckpt");
    save_checkpoint(first, path);
    model resumed = load_checkpoint(path);
    EXPECT_EQ(resumed->epochs_done, 2);
    EXPECT_EQ(all_weights(resumed), all_weights(first));
    fit(resumed, {x}, {y}, 32, 2, o);
    EXPECT_EQ(all_weights(resumed), all_weights(straight));
    EXPECT_EQ(resumed->layers.size(), straight->layers.size());
}

TEST(Net, CheckpointBadInput) {
    model net = mlp();
    const auto path = tmp("bad.ckpt");
    save_checkpoint(net, path);
    std::ifstream f(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(f)), {});
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() / 2);
    expect_error([&] { load_checkpoint(path); }, "truncated or corrupt");
    std::ofstream(path, std::ios::binary | std::ios::trunc) << "NOTACKPT" << bytes.substr(8);
    expect_error([&] { load_checkpoint(path); }, "not an EDDL checkpoint");
    expect_error([&] { load_checkpoint(tmp("missing.ckpt")); }, "cannot open");
    // a failed save leaves the previous checkpoint intact and no temporary file
    save_checkpoint(net, path);
    const auto size = fs::file_size(path);
    expect_error([&] { save_checkpoint(net, tmp("no_dir") + "/x.ckpt"); }, "cannot write");
    EXPECT_EQ(fs::file_size(path), size);
    EXPECT_NO_THROW(load_checkpoint(path));
}

TEST(Net, WeightsSaveLoad) {
    model a = mlp(1), b = mlp(2);
    EXPECT_NE(all_weights(a), all_weights(b));
    save(a, tmp("w.bin"));
    load(b, tmp("w.bin"));
    EXPECT_EQ(all_weights(a), all_weights(b));
    // a different architecture is refused before anything is overwritten
    layer in = Input({8});
    model c = Model({in}, {Softmax(Dense(in, 3))});
    build(c, sgd(), {"sce"}, {}, CS_CPU(1));
    const auto before = all_weights(c);
    expect_error([&] { load(c, tmp("w.bin")); }, "has shape (8, 32) in the file but (8, 3) in the model");
    EXPECT_EQ(all_weights(c), before);
}

TEST(Net, Callbacks) {
    tensor x, y;
    make_data(128, 5, x, y);
    // lr 0: the loss never improves, so patience 1 stops after 2 epochs
    model net = mlp(1, sgd(0.0f));
    FitOptions o;
    o.verbose = 0;
    o.callbacks = {EarlyStopping("loss", 1, 1e-3f), CSVLogger(tmp("log.csv")), ModelCheckpoint(tmp("ck_{epoch}.ckpt"), "loss")};
    fit(net, {x}, {y}, 32, 10, o);
    EXPECT_EQ(net->epochs_done, 3);
    std::ifstream csv(tmp("log.csv"));
    std::string header, line;
    std::getline(csv, header);
    EXPECT_EQ(header, "epoch,categorical_accuracy,loss,lr");
    int rows = 0;
    while (std::getline(csv, line)) ++rows;
    EXPECT_EQ(rows, 3);
    EXPECT_TRUE(fs::exists(tmp("ck_3.ckpt")));

    model s = mlp(1, sgd(0.1f));
    o.callbacks = {LearningRateScheduler(StepDecay(0.1f, 0.5f, 1))};
    fit(s, {x}, {y}, 32, 3, o);
    EXPECT_NEAR(s->opt->getlr(), 0.025f, 1e-7f);

    model p = mlp(1, sgd(1e-9f));  // too small to improve the loss by min_delta
    o.callbacks = {ReduceLROnPlateau("loss", 0.5f, 0)};
    fit(p, {x}, {y}, 32, 2, o);
    EXPECT_FLOAT_EQ(p->opt->getlr(), 5e-10f);

    model nan = mlp(1, sgd(1e30f));
    o.callbacks = {TerminateOnNaN()};
    fit(nan, {x}, {y}, 32, 5, o);
    EXPECT_LT(nan->epochs_done, 5);

    model v = mlp();
    o.callbacks = {EarlyStopping("val_loss")};
    expect_error([&] { fit(v, {x}, {y}, 32, 1, o); }, "val_* needs validation data");
}

TEST(Net, FineGrainedApi) {
    tensor x, y;
    make_data(200, 6, x, y);
    model net = mlp();
    for (int i = 0; i < 100; ++i) train_batch(net, {x}, {y}, random_indices(20, 200));
    reset_loss(net);
    eval_batch(net, {x}, {y});
    EXPECT_GT(get_metrics(net)[0], 0.8f);
    // forward / backward / update by hand equals train_batch
    model a = mlp(3), b = mlp(3);
    train_batch(a, {x}, {y});
    set_mode(b, TRMODE);
    zeroGrads(b);
    forward(b, {x});
    backward(b, {y});
    update(b);
    EXPECT_EQ(all_weights(a), all_weights(b));
    setlr(b, {0.5f});
    EXPECT_EQ(b->opt->getlr(), 0.5f);
    Tensor xb({5, 8}), yb({5, 3});
    next_batch({x, y}, {std::shared_ptr<Tensor>(&xb, [](Tensor*) {}), std::shared_ptr<Tensor>(&yb, [](Tensor*) {})});
    EXPECT_NEAR(yb.sum(), 5.0f, 1e-6f);
}

TEST(Net, FreezeAndParams) {
    tensor x, y;
    make_data(100, 7, x, y);
    model net = mlp();
    layer first = net->layers[1];
    const auto before = getParams(first)[0]->to_std();
    setTrainable(net, first->name, false);
    fit(net, {x}, {y}, 20, 2, FitOptions{.verbose = 0});
    EXPECT_EQ(getParams(first)[0]->to_std(), before);
    EXPECT_NE(getLayer(net, first->name), nullptr);
    expect_error([&] { getLayer(net, "nope"); }, "no layer named 'nope'");
    setParams(first, {Tensor::ones({8, 32}), Tensor::zeros({32})});
    EXPECT_EQ(getParams(first)[0]->sum(), 256.0f);
    expect_error([&] { setParams(first, {Tensor::ones({2, 2})}); }, "has 2 parameters, 1 given");
    EXPECT_EQ(getOut(net).size(), 1u);
    const std::string s = summary(net);
    EXPECT_NE(s.find("Total params: 387"), std::string::npos) << s;  // 8*32+32 + 32*3+3 = 288 + 99
}

TEST(Net, MultipleInputsAndOutputs) {
    layer a = Input({4}, "a"), b = Input({3}, "b");
    layer h = ReLu(Dense(Concat({a, b}), 16));
    layer o1 = Softmax(Dense(h, 2), -1, "cls"), o2 = Dense(h, 1, true, "reg");
    model net = Model({a, b}, {o1, o2});
    build(net, adam(0.01f), {"sce", "mse"}, {"accuracy", "mae"}, CS_CPU(1));
    auto xa = Tensor::randn({64, 4}, 1), xb = Tensor::randn({64, 3}, 2);
    auto y1i = Tensor::zeros({64, 2});
    for (int i = 0; i < 64; ++i) y1i->set({i, xa->get({i, 0}) > 0 ? 1 : 0}, 1.0f);
    auto y2 = xb->select({":", "0"});
    fit(net, {xa, xb}, {y1i, y2}, 16, 30, FitOptions{.verbose = 0});
    const Logs lg = evaluate(net, {xa, xb}, {y1i, y2}, 16, 0);
    EXPECT_GT(lg.at("cls_accuracy"), 0.9);
    EXPECT_LT(lg.at("reg_mae"), 0.3);
    EXPECT_TRUE(lg.count("cls_loss") && lg.count("reg_loss"));
}

TEST(Net, ModelAndBuildErrors) {
    layer in = Input({8});
    layer out = Dense(in, 3);
    layer other = Input({2});
    expect_error([&] { Model({other}, {out}); }, "depend on Input");
    model net = Model({in}, {out});
    expect_error([&] { build(net, sgd(), {"mse", "mse"}, {}); }, "2 losses given for 1 outputs");
    expect_error([&] { build(net, sgd(), {"msx"}, {}); }, "unknown loss 'msx'");
    expect_error([&] { forward(net, {Tensor::ones({2, 8})}); }, "not built");
    build(net, sgd(), {"mse"}, {"mse"}, CS_CPU(1));
    expect_error([&] { backward(net, {Tensor::ones({2, 3})}); }, "has no forward to differentiate");
    expect_error([&] { forward(net, {Tensor::ones({2, 7})}); }, "shape (2, 7) given to Input");
    expect_error([&] { fit(net, {Tensor::ones({4, 8})}, {Tensor::ones({5, 3})}, 2, 1); }, "inputs have 4 samples");
    expect_error([&] { fit(net, {Tensor::ones({4, 8})}, {Tensor::ones({4, 2})}, 2, 1); }, "target 0 has shape (2, 2)");
    expect_error([&] { fit(net, {Tensor::ones({4, 8})}, {Tensor::ones({4})}, 2, 1); }, "Tensor::onehot(labels, 3)");
}

TEST(ComputingService, FromYamlAndErrors) {
    const auto p = tmp("cs.yml");
    std::ofstream(p) << "device: cpu\nthreads: 2\nmem: low_mem\n";
    auto cs = CS_from_file(p);
    EXPECT_EQ(cs->threads, 2);
    EXPECT_EQ(cs->mem, MemLevel::low_mem);
    std::ofstream(p) << "device: cpu\nthreds: 2\n";
    expect_error([&] { CS_from_file(p); }, "line 2: unknown key 'threds'");
    std::ofstream(p) << "device: cpu\nthreads: [1\n";
    expect_error([&] { CS_from_file(p); }, "cs.yml': line");
    std::ofstream(p) << "device: gpu\ngpus: [1]\n";
    expect_error([&] { CS_from_file(p); }, "without a CUDA backend");
    std::ofstream(p) << "device: cpu\nmem: huge_mem\n";
    expect_error([&] { CS_from_file(p); }, "unknown memory level 'huge_mem'");
    expect_error([&] { CS_from_file(tmp("missing.yml")); }, "cannot open");
    expect_error([] { CS_CPU(0); }, "threads must be");
}

TEST(Net, KerasStyleProgressLine) {
    tensor x, y;
    make_data(64, 8, x, y);
    model net = mlp();
    testing::internal::CaptureStdout();
    fit(net, {x}, {y}, 16, 2);
    evaluate(net, {x}, {y});
    const std::string out = testing::internal::GetCapturedStdout();
    EXPECT_NE(out.find("Epoch 1 (1/2)"), std::string::npos) << out;
    EXPECT_NE(out.find("Epoch 2 (2/2)"), std::string::npos) << out;
    EXPECT_NE(out.find("4/4 [==============================]"), std::string::npos) << out;
    EXPECT_NE(out.find(" - loss: "), std::string::npos) << out;
    EXPECT_NE(out.find(" - categorical_accuracy: "), std::string::npos) << out;
    EXPECT_NE(out.find("Evaluate: - loss: "), std::string::npos) << out;
    testing::internal::CaptureStdout();
    fit(net, {x}, {y}, 16, 1, FitOptions{.verbose = 0});
    EXPECT_EQ(testing::internal::GetCapturedStdout(), "");
}

namespace {

// Batches of rows [b * bs, (b + 1) * bs) in order, counting the calls fit makes; optionally
// throws at one batch.
class CountingSource : public BatchSource {
public:
    CountingSource(tensor x, tensor y, int bs, int throw_at = -1) : x_(x), y_(y), bs_(bs), throw_at_(throw_at) {}
    int num_batches() const override { return (x_->getShape()[0] + bs_ - 1) / bs_; }
    void start_epoch(int64_t epoch) override {
        epochs.push_back(epoch);
        b_ = 0;
    }
    bool next_batch(vtensor& x, vtensor& y) override {
        if (b_ == throw_at_) throw std::runtime_error("unreadable sample in batch " + std::to_string(b_));
        const int n = x_->getShape()[0], lo = b_ * bs_, hi = std::min(n, lo + bs_);
        if (lo >= n) return false;
        std::vector<int> idx;
        for (int i = lo; i < hi; ++i) idx.push_back(i);
        x = {Tensor::empty({hi - lo, 8})};
        y = {Tensor::empty({hi - lo, 3})};
        Tensor::select_rows(*x_, idx, *x[0]);
        Tensor::select_rows(*y_, idx, *y[0]);
        ++b_;
        return true;
    }
    void end_epoch() override { ++ended; }
    std::vector<int64_t> epochs;
    int ended = 0;

private:
    tensor x_, y_;
    int bs_, b_ = 0, throw_at_;
};

}  // namespace

TEST(Net, FitFromABatchSourceEqualsFitFromTensors) {
    tensor x, y;
    make_data(250, 5, x, y);
    model a = mlp(), b = mlp();
    FitOptions quiet;
    quiet.shuffle = false;
    quiet.verbose = 0;
    fit(a, {x}, {y}, 32, 3, quiet);
    CountingSource src(x, y, 32);
    fit(b, src, 3, quiet);
    EXPECT_EQ(all_weights(a), all_weights(b));  // same batches in the same order: bit for bit
    EXPECT_EQ(src.epochs, (std::vector<int64_t>{0, 1, 2}));
    EXPECT_EQ(src.ended, 3);
    // Validation from a source, and evaluate on a source, equal the tensor forms.
    CountingSource val(x, y, 50);
    FitOptions with_val = quiet;
    with_val.validation_source = &val;
    model c = mlp();
    fit(c, src, 1, with_val);
    const Logs from_tensors = evaluate(c, {x}, {y}, 50, 0), from_source = evaluate(c, val, 0);
    EXPECT_NEAR(from_tensors.at("loss"), from_source.at("loss"), 1e-6);
    EXPECT_EQ(val.ended, 2);  // once for fit's validation, once for evaluate
}

TEST(Net, FitFromABatchSourceEndsTheEpochOnErrors) {
    tensor x, y;
    make_data(100, 6, x, y);
    model net = mlp();
    FitOptions quiet;
    quiet.verbose = 0;
    CountingSource bad(x, y, 10, 3);
    EXPECT_THROW(fit(net, bad, 2, quiet), std::runtime_error);
    EXPECT_EQ(bad.ended, 1);  // the source could stop its workers
    CountingSource empty(Tensor::zeros({0, 8}), Tensor::zeros({0, 3}), 10);
    expect_error([&] { fit(net, empty, 1, quiet); }, "the batch source gave no batch in epoch");
}
