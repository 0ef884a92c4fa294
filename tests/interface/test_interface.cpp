// The ECVL-EDDL interface: Image <-> Tensor in every layout and type, and DLDataset on datasets
// the tests write (PNG files + YAML): batch contents and labels, bit-identical batches for 1, 2
// and 4 workers, early stops that never hang, bad files mid-epoch, masks, and fit() on a loader.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "ecvl/ecvl.h"
#include "ecvl/support_eddl.h"
#include "ecvl_test_util.h"

using namespace ecvl;
using ecvl_test::expect_ecvl_error;
namespace fs = std::filesystem;

namespace {

// A 3-channel picture whose pixels encode (sample, x, y, c), so any mix-up shows.
Image picture(int sample, int w = 24, int h = 20) {
    Image img({w, h, 3}, DataType::uint8, "xyc", ColorType::RGB);
    for (int c = 0; c < 3; ++c)
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) img.At<uint8_t>({x, y, c}) = uint8_t((sample * 37 + x * 5 + y * 11 + c * 70) % 256);
    return img;
}

// A dataset of n pictures in `classes` classes (sample i has class i % classes), split into
// training (the first n_train) and validation; segmentation: masks instead of labels.
std::string write_dataset(const std::string& tag, int n, int n_train, int classes, bool segmentation = false) {
    const std::string dir = ecvl_test::scratch_dir("iface_" + tag);
    std::ofstream yml(dir + "/data.yml");
    yml << "name: " << tag << "\n";
    if (!segmentation) {
        yml << "classes: [";
        for (int c = 0; c < classes; ++c) yml << (c ? ", " : "") << "c" << c;
        yml << "]\n";
    }
    yml << "images:\n";
    for (int i = 0; i < n; ++i) {
        const std::string name = "img" + std::to_string(i) + ".png";
        ImWrite(dir + "/" + name, picture(i));
        yml << "  - location: " << name << "\n";
        if (segmentation) {
            Image mask({24, 20, 1}, DataType::uint8, "xyc", ColorType::GRAY);
            for (int y = 0; y < 20; ++y)
                for (int x = 0; x < 24; ++x) mask.At<uint8_t>({x, y, 0}) = x < 4 + i % 10 ? 255 : 0;  // a left band
            ImWrite(dir + "/mask" + std::to_string(i) + ".png", mask);
            yml << "    label: mask" << i << ".png\n";
        } else {
            yml << "    label: " << i % classes << "\n";
        }
    }
    yml << "split:\n  training: [";
    for (int i = 0; i < n_train; ++i) yml << (i ? ", " : "") << i;
    yml << "]\n  validation: [";
    for (int i = n_train; i < n; ++i) yml << (i > n_train ? ", " : "") << i;
    yml << "]\n";
    return dir + "/data.yml";
}

AugmentationPtr augs_from(const std::string& text) {
    std::istringstream is(text);
    return AugmentationFactory::create(is);
}

// Random geometry and intensity, to tell batches from different draws apart.
const char* kRandomAugs = R"(SequentialAugmentationContainer
AugMirror p=0.5
AugRotate angle=[-30,30]
AugBrightness beta=[0,30]
End
)";

std::vector<std::vector<float>> all_batches(DLDataset& d, int epochs) {
    std::vector<std::vector<float>> out;
    for (int e = 0; e < epochs; ++e) {
        d.ResetBatch(-1, true);
        d.Start();
        for (int b = 0; b < d.GetNumBatches(); ++b) {
            auto [samples, x, y] = d.GetBatch();
            out.push_back(x->to_std());
            out.push_back(y->to_std());
        }
        d.Stop();
    }
    return out;
}

}  // namespace

TEST(ImageToTensor, EveryLayoutAndTypeAndBack) {
    const Image rgb = picture(3);
    const eddl::tensor t = ImageToTensor(rgb);
    ASSERT_EQ(t->getShape(), (eddl::Shape{3, 20, 24}));
    for (int c = 0; c < 3; ++c)
        for (int y = 0; y < 20; y += 7)
            for (int x = 0; x < 24; x += 5) ASSERT_EQ(t->get({c, y, x}), rgb.Get({x, y, c}));
    // Interleaved, another type, a view: the same tensor.
    Image inter, u16;
    RearrangeChannels(rgb, inter, "cxy");
    ConvertTo(rgb, u16, DataType::uint16);
    for (const Image* img : {&inter, &u16}) EXPECT_TRUE(eddl::Tensor::equivalent(*ImageToTensor(*img), *t, 0, 0)) << img->channels_;
    const Image crop = View(inter, {0, 4, 2}, {-1, 10, 8});
    const eddl::tensor tc = ImageToTensor(crop);
    ASSERT_EQ(tc->getShape(), (eddl::Shape{3, 8, 10}));
    EXPECT_EQ(tc->get({2, 3, 5}), rgb.Get({9, 5, 2}));
    // Into a batch, and back to an image.
    eddl::Tensor batch({2, 3, 20, 24});
    ImageToTensor(rgb, batch, 1);
    Image back;
    TensorToImage(*t, back, ColorType::RGB);
    EXPECT_EQ(back.channels_, "xyc");
    EXPECT_EQ(back.colortype_, ColorType::RGB);
    back.ConvertTo(DataType::uint8);
    EXPECT_EQ(std::memcmp(back.data_, rgb.data_, rgb.datasize_), 0);
    Image gray({24, 20}, DataType::float32, "xy", ColorType::none);
    EXPECT_EQ(ImageToTensor(gray)->getShape(), (eddl::Shape{1, 20, 24}));
    // Errors name the shapes.
    expect_ecvl_error([&] { ImageToTensor(rgb, batch, 2); }, "sample 2 outside a batch of 2");
    eddl::Tensor wrong({2, 1, 20, 24});
    expect_ecvl_error([&] { ImageToTensor(rgb, wrong, 0); }, "{3, 20, 24} does not fit a batch tensor {2, 1, 20, 24}");
    expect_ecvl_error([&] { ImageToTensor(Image({4, 4, 2, 3}, DataType::uint8, "xyzc", ColorType::RGB)); }, "does not fit {C, H, W}");
}

TEST(DLDataset, BatchesHoldTheSamplesAndTheirLabels) {
    const std::string yml = write_dataset("cls", 23, 17, 4);
    DLDataset d(yml, 5, {}, ColorType::RGB, ColorType::GRAY, 2, 1.0, {{"validation", true}});
    EXPECT_EQ(d.GetNumBatches(), 4);                                  // training: 17 -> 5 5 5 2
    EXPECT_EQ(d.GetNumBatches(1), 1);                                 // validation: 6, last dropped
    EXPECT_EQ(d.GetTensorShape(), (std::vector<int>{3, 20, 24}));
    d.Start();
    int seen = 0;
    for (int b = 0; b < 4; ++b) {
        auto [samples, x, y] = d.GetBatch();
        const int n = b < 3 ? 5 : 2;
        ASSERT_EQ(samples.size(), size_t(n));
        ASSERT_EQ(x->getShape(), (eddl::Shape{n, 3, 20, 24}));
        ASSERT_EQ(y->getShape(), (eddl::Shape{n, 4}));
        for (int k = 0; k < n; ++k, ++seen) {
            const int i = seen;  // not shuffled: file order
            EXPECT_EQ(x->get({k, 1, 7, 9}), picture(i).Get({9, 7, 1})) << "sample " << i;
            for (int c = 0; c < 4; ++c) EXPECT_EQ(y->get({k, c}), c == i % 4 ? 1.f : 0.f);
        }
    }
    expect_ecvl_error([&] { d.GetBatch(); }, "split 'training' has no more batches (4 per epoch)");
    d.Stop();
    expect_ecvl_error([&] { d.GetBatch(); }, "not started; call Start()");
    expect_ecvl_error([&] { DLDataset(yml, 5, {}, ColorType::RGB, ColorType::GRAY, 1, 1.0, {{"test", true}}); },
                      "drop_last names split 'test'");
    expect_ecvl_error([&] { DLDataset(yml, 0); }, "batch size must be positive, got 0");
}

TEST(DLDataset, SameBatchesWhateverTheNumberOfWorkers) {
    const std::string yml = write_dataset("workers", 30, 30, 3);
    const DatasetAugmentations augs({augs_from(kRandomAugs), nullptr});
    std::vector<std::vector<float>> reference;
    for (int workers : {1, 2, 4}) {
        DLDataset d(yml, 4, augs, ColorType::RGB, ColorType::GRAY, workers);
        d.SetSeed(77);
        const auto got = all_batches(d, 2);
        if (reference.empty()) reference = got;
        else EXPECT_TRUE(got == reference) << workers << " workers";
    }
    // A different seed gives other batches (other draws and another order).
    DLDataset d(yml, 4, augs, ColorType::RGB, ColorType::GRAY, 2);
    d.SetSeed(78);
    EXPECT_FALSE(all_batches(d, 2) == reference);
}

TEST(DLDataset, EarlyStopsAndRestartsNeverHang) {
    const std::string yml = write_dataset("stops", 40, 40, 2);
    const auto t0 = std::chrono::steady_clock::now();
    for (int round = 0; round < 20; ++round) {
        DLDataset d(yml, 3, DatasetAugmentations({augs_from(kRandomAugs), nullptr}), ColorType::RGB, ColorType::GRAY,
                    1 + round % 4, 0.5 + round % 3);
        d.Start();
        for (int b = 0; b < round % 5; ++b) d.GetBatch();  // consume a few, then leave
        if (round % 2) d.Stop();                           // explicit stop, or the destructor's
        if (round % 3 == 0) {                              // restart mid-epoch: continues where it stopped
            d.Start();
            d.GetBatch();
            d.ResetBatch();
            d.Start();
        }
    }
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 60.0);
    // Stopping from another thread wakes a consumer waiting for a batch.
    DLDataset d(yml, 40, DatasetAugmentations({augs_from(kRandomAugs), nullptr}));
    d.Start();
    std::thread stopper([&] { d.Stop(); });
    try {
        d.GetBatch();  // either got the batch before the stop, or is told it was stopped
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("stopped"), std::string::npos) << e.what();
    }
    stopper.join();
}

TEST(DLDataset, AnUnreadableImageIsNamedOrSkipped) {
    const std::string yml = write_dataset("bad", 12, 12, 2);
    const fs::path bad = fs::path(yml).parent_path() / "img7.png";
    { std::ofstream(bad) << "not a png"; }
    {
        DLDataset d(yml, 4, {}, ColorType::RGB, ColorType::GRAY, 2);
        d.Start();
        d.GetBatch();  // samples 0-3
        expect_ecvl_error([&] { d.GetBatch(); }, "img7.png");  // samples 4-7
    }
    DLDataset d(yml, 4, {}, ColorType::RGB, ColorType::GRAY, 2);
    d.SetSampleErrorPolicy(SampleErrorPolicy::Skip);
    d.Start();
    std::vector<size_t> sizes;
    for (int b = 0; b < 3; ++b) sizes.push_back(std::get<0>(d.GetBatch()).size());
    EXPECT_EQ(sizes, (std::vector<size_t>{4, 3, 4}));
    EXPECT_EQ(d.SkippedSamples(), 1);
}

TEST(DLDataset, MasksGetTheImagesGeometry) {
    const std::string yml = write_dataset("seg", 8, 8, 0, true);
    // Mirror always: the left band of the mask must move to the right, as the image's columns do.
    DLDataset d(yml, 4, DatasetAugmentations({augs_from("AugMirror p=1\n"), nullptr}), ColorType::RGB, ColorType::GRAY);
    d.Start();
    auto [samples, x, y] = d.GetBatch();
    ASSERT_EQ(y->getShape(), (eddl::Shape{4, 1, 20, 24}));
    for (int k = 0; k < 4; ++k) {
        const int band = 4 + k % 10;
        for (int xx = 0; xx < 24; ++xx) EXPECT_EQ(y->get({k, 0, 10, xx}), xx >= 24 - band ? 255.f : 0.f) << k << " " << xx;
        EXPECT_EQ(x->get({k, 0, 3, 0}), picture(k).Get({23, 3, 0}));
    }
}

TEST(DLDataset, FitTrainsFromTheLoader) {
    const std::string yml = write_dataset("fit", 40, 30, 2);
    DLDataset d(yml, 10, {}, ColorType::GRAY, ColorType::GRAY, 2);
    using namespace eddl;
    layer in = Input({1, 20, 24});
    layer out = Softmax(Dense(Flatten(in), 2));
    model net = Model({in}, {out});
    build(net, sgd(0.001f), {"soft_cross_entropy"}, {"categorical_accuracy"}, CS_CPU(1));
    auto val = d.Source("validation");
    FitOptions o;
    o.verbose = 0;
    o.validation_source = &val;
    fit(net, d, 2, o);
    EXPECT_EQ(net->epochs_done, 2);
    const Logs lg = evaluate(net, val, 0);
    EXPECT_TRUE(std::isfinite(lg.at("loss")));
    expect_ecvl_error([&] { d.Source("test"); }, "no split 'test' (the dataset has training, validation)");
}
