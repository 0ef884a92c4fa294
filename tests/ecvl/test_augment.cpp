// Augmentations: geometry on known pixels, masks that stay label-valued and move with the image,
// photometric results against the imgproc functions with the drawn parameters, record and replay,
// determinism, and the text language (the paper's Listing 3, round trips, every error's position).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "ecvl/ecvl.h"
#include "ecvl_test_util.h"

using namespace ecvl;
using ecvl_test::expect_ecvl_error;

namespace {

// w x h uint8 picture with `c` channels, every pixel distinct enough: "xyc" planar, or another layout.
Image picture(int w, int h, int c = 3, const std::string& layout = "xyc") {
    Image img({w, h, c}, DataType::uint8, "xyc", c == 3 ? ColorType::RGB : ColorType::GRAY);
    for (int k = 0; k < c; ++k)
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) img.At<uint8_t>({x, y, k}) = uint8_t((x * 7 + y * 13 + k * 50 + x * y) % 251);
    if (layout == "xyc") return img;
    Image out;
    RearrangeChannels(img, out, layout);
    return out;
}

// A label mask "xyc" with one channel: regions of labels 0, 1, 2 and 5.
Image mask(int w, int h) {
    Image m({w, h, 1}, DataType::uint8, "xyc", ColorType::GRAY);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const int dx = x - w / 2, dy = y - h / 2;
            m.At<uint8_t>({x, y, 0}) = uint8_t(dx * dx + dy * dy < (w * w) / 16 ? 5 : x < w / 3 ? 1 : y < h / 3 ? 2 : 0);
        }
    return m;
}

// A volume "xyz" whose slice z is picture-like.
Image volume(int w, int h, int d) {
    Image v({w, h, d}, DataType::uint8, "xyz", ColorType::none);
    for (int z = 0; z < d; ++z)
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) v.At<uint8_t>({x, y, z}) = uint8_t((x * 3 + y * 11 + z * 40) % 256);
    return v;
}

std::set<double> values_of(const Image& img) {
    std::set<double> s;
    Image c = img.Clone();
    std::vector<int> idx(c.dims_.size(), 0);
    for (size_t i = 0; i < c.Elements(); ++i) {
        s.insert(c.Get(idx));
        for (size_t a = 0; a < idx.size(); ++a) {
            if (++idx[a] < c.dims_[a]) break;
            idx[a] = 0;
        }
    }
    return s;
}

bool same_pixels(const Image& a, const Image& b) {
    if (a.dims_ != b.dims_ || a.elemtype_ != b.elemtype_ || a.channels_ != b.channels_) return false;
    const Image ca = a.Clone(), cb = b.Clone();
    return std::memcmp(ca.data_, cb.data_, ca.datasize_) == 0;
}

// max |a - b| over the elements (same sizes and layout), infinity if they differ in shape or type
double max_diff(const Image& a, const Image& b) {
    if (a.dims_ != b.dims_ || a.elemtype_ != b.elemtype_ || a.channels_ != b.channels_) return 1e300;
    Image da, db;
    ConvertTo(a, da, DataType::float64);
    ConvertTo(b, db, DataType::float64);
    const double* x = reinterpret_cast<const double*>(da.data_);
    const double* y = reinterpret_cast<const double*>(db.data_);
    double m = 0;
    for (size_t i = 0; i < da.Elements(); ++i) m = std::max(m, std::fabs(x[i] - y[i]));
    return m;
}

// a * k, as uint8 (masks scaled into an image)
Image scaled(const Image& m, double k) {
    Image out;
    Mul(m, k, out);
    return out;
}

int W(const Image& i) { return i.dims_[i.channels_ == "cxy" ? 1 : 0]; }

AugmentationPtr parse(const std::string& text) { return AugmentationFactory::FromText(text, "augs.txt"); }

const char* kListing3 =
    "SequentialAugmentationContainer\n"
    "AugResizeDim dims=(100,100)\n"
    "AugMirror p=0.5\n"
    "OneOfAugmentationContainer p=0.7\n"
    "AugGammaContrast gamma=[0,3]\n"
    "AugBrightness beta=[0,30]\n"
    "End\n"
    "OneOfAugmentationContainer p=0.4\n"
    "AugElasticTransform alpha=[30,120]\n"
    "sigma=[3,6]\n"
    "AugGridDistortion num_steps=[2,5]\n"
    "distort_limit=[-0.3,0.3]\n"
    "End\n"
    "AugRotate angle=[-30,30]\n"
    "End\n";

}  // namespace

// ---- seeds ----

TEST(AugmentSeed, DeterministicAndDistinct) {
    EXPECT_EQ(AugmentationSeed(1, 2, 3), AugmentationSeed(1, 2, 3));
    std::set<uint64_t> seen;
    for (uint64_t s = 0; s < 3; ++s)
        for (uint64_t e = 0; e < 3; ++e)
            for (uint64_t i = 0; i < 50; ++i) seen.insert(AugmentationSeed(s, e, i));
    EXPECT_EQ(seen.size(), 3u * 3u * 50u);
    EXPECT_NE(AugmentationSeed(1, 0, 2), AugmentationSeed(1, 2, 0));  // the arguments are not symmetric
}

// ---- geometry on known pixels ----

TEST(AugmentGeometry, FlipMirrorTransposeMovePixels) {
    for (const std::string layout : {"xyc", "cxy"}) {
        const Image src = picture(7, 5, 3, layout);
        const Image m = mask(7, 5);
        std::mt19937_64 rng(1);
        Image f = src, fg = m;
        AugFlip(1).Apply(f, fg, rng);
        Image mi = src, mg = m;
        AugMirror(1).Apply(mi, mg, rng);
        Image t = src, tg = m;
        AugTranspose(1).Apply(t, tg, rng);
        ASSERT_EQ(t.channels_, layout);
        EXPECT_EQ(W(t), 5);
        for (int y = 0; y < 5; ++y)
            for (int x = 0; x < 7; ++x)
                for (int c = 0; c < 3; ++c) {
                    auto at = [&](const Image& i, int xx, int yy) {
                        return layout == "xyc" ? i.Get({xx, yy, c}) : i.Get({c, xx, yy});
                    };
                    EXPECT_EQ(at(f, x, 4 - y), at(src, x, y));
                    EXPECT_EQ(at(mi, 6 - x, y), at(src, x, y));
                    EXPECT_EQ(at(t, y, x), at(src, x, y));
                }
        for (int y = 0; y < 5; ++y)
            for (int x = 0; x < 7; ++x) {
                EXPECT_EQ(fg.Get({x, 4 - y, 0}), m.Get({x, y, 0}));
                EXPECT_EQ(mg.Get({6 - x, y, 0}), m.Get({x, y, 0}));
                EXPECT_EQ(tg.Get({y, x, 0}), m.Get({x, y, 0}));
            }
        Image same = src;
        AugFlip(0).Apply(same, rng);
        AugMirror(0).Apply(same, rng);
        AugTranspose(0).Apply(same, rng);
        EXPECT_TRUE(same_pixels(same, src));
    }
}

TEST(AugmentGeometry, MirrorAnyWidthAndType) {
    // the in-place byte reversal of uint8 planes (8 bytes at a time) at every width around its
    // block size, and OpenCV's flip for other types
    std::mt19937_64 rng(0);
    for (int w : {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 16, 17, 23, 24, 25, 37, 64, 65}) {
        for (DataType t : {DataType::uint8, DataType::uint16, DataType::float32}) {
            Image src = picture(w, 3);
            src.ConvertTo(t);
            Image img = src;
            AugMirror(1).Apply(img, rng);
            for (int c = 0; c < 3; ++c)
                for (int y = 0; y < 3; ++y)
                    for (int x = 0; x < w; ++x)
                        ASSERT_EQ(img.Get({w - 1 - x, y, c}), src.Get({x, y, c})) << w << " " << DataTypeName(t);
            // interleaved: 3-byte pixels reversed four at a time, the rest one by one
            Image inter;
            RearrangeChannels(src, inter, "cxy");
            const Image before = inter;
            AugMirror(1).Apply(inter, rng);
            for (int c = 0; c < 3; ++c)
                for (int y = 0; y < 3; ++y)
                    for (int x = 0; x < w; ++x)
                        ASSERT_EQ(inter.Get({c, w - 1 - x, y}), before.Get({c, x, y})) << w << " cxy " << DataTypeName(t);
        }
    }
}

TEST(AugmentGeometry, FlipAView) {
    // a view is left as it was: the result is a new image
    const Image big = picture(9, 9);
    Image v = View(big, {1, 1, 0}, {5, 5, -1});
    std::mt19937_64 rng(0);
    AugFlip(1).Apply(v, rng);
    EXPECT_EQ(v.Get({0, 0, 0}), big.Get({1, 5, 0}));
    EXPECT_EQ(big.Get({1, 1, 0}), picture(9, 9).Get({1, 1, 0}));
}

TEST(AugmentGeometry, RotateNinetyMovesAMarkedPixel) {
    Image img({5, 5, 1}, DataType::uint8, "xyc", ColorType::GRAY);
    img.At<uint8_t>({4, 2, 0}) = 200;  // right of the centre
    Image gt = img;
    std::mt19937_64 rng(0);
    AugRotate({90, 90}, {}, 1.0, InterpolationType::nearest).Apply(img, gt, rng);
    // counter-clockwise as displayed (y down): right of the centre goes to above it
    EXPECT_EQ(img.Get({2, 0, 0}), 200);
    EXPECT_EQ(gt.Get({2, 0, 0}), 200);
    EXPECT_EQ(values_of(img), (std::set<double>{0, 200}));
    // a volume: every slice turns by the same drawn angle
    Image v({5, 5, 3}, DataType::uint8, "xyz", ColorType::none);
    for (int z = 0; z < 3; ++z) v.At<uint8_t>({4, 2, z}) = uint8_t(100 + z);
    AugRotate({90, 90}, {}, 1.0, InterpolationType::nearest).Apply(v, rng);
    for (int z = 0; z < 3; ++z) EXPECT_EQ(v.Get({2, 0, z}), 100 + z);
}

TEST(AugmentGeometry, ResizeSizes) {
    std::mt19937_64 rng(0);
    Image img = picture(40, 30), gt = mask(40, 30);
    AugResizeDim({20, 10}).Apply(img, gt, rng);
    EXPECT_EQ(img.dims_, (std::vector<int>{20, 10, 3}));
    EXPECT_EQ(gt.dims_, (std::vector<int>{20, 10, 1}));
    AugResizeScale({2, 3}).Apply(img, gt, rng);
    EXPECT_EQ(img.dims_, (std::vector<int>{40, 30, 3}));
    EXPECT_EQ(gt.dims_, (std::vector<int>{40, 30, 1}));
    Image v = volume(8, 6, 4), vg = volume(8, 6, 4);
    AugResizeDim({4, 3, 2}).Apply(v, vg, rng);
    EXPECT_EQ(v.dims_, (std::vector<int>{4, 3, 2}));
    EXPECT_EQ(vg.dims_, (std::vector<int>{4, 3, 2}));
    AugResizeScale({2, 2}).Apply(v, rng);
    EXPECT_EQ(v.dims_, (std::vector<int>{8, 6, 2}));
}

TEST(AugmentGeometry, CropsTakeTheirBox) {
    std::mt19937_64 rng(0);
    const Image src = picture(10, 9);
    Image img = src, gt = mask(10, 9);
    AugCenterCrop({4, 3}).Apply(img, gt, rng);
    ASSERT_EQ(img.dims_, (std::vector<int>{4, 3, 3}));
    EXPECT_EQ(gt.dims_, (std::vector<int>{4, 3, 1}));
    EXPECT_EQ(img.Get({0, 0, 1}), src.Get({3, 3, 1}));
    EXPECT_EQ(gt.Get({0, 0, 0}), mask(10, 9).Get({3, 3, 0}));
    Image sq = src;
    AugCenterCrop().Apply(sq, rng);  // no size: the centred square
    EXPECT_EQ(sq.dims_, (std::vector<int>{9, 9, 3}));
    EXPECT_EQ(sq.Get({0, 0, 0}), src.Get({0, 0, 0}));

    // RandomCrop: the box recorded is the box taken; every position occurs
    std::set<std::pair<int, int>> corners;
    for (int i = 0; i < 200; ++i) {
        Image r = src, rg = mask(10, 9);
        AugmentationRecord rec;
        AugRandomCrop({8, 8}).Apply(r, rg, rng, rec);
        const int x = int(rec.draws[0].Get("x")), y = int(rec.draws[0].Get("y"));
        corners.insert({x, y});
        ASSERT_EQ(r.dims_, (std::vector<int>{8, 8, 3}));
        EXPECT_EQ(r.Get({0, 0, 2}), src.Get({x, y, 2}));
        EXPECT_EQ(rg.Get({7, 7, 0}), mask(10, 9).Get({x + 7, y + 7, 0}));
    }
    EXPECT_EQ(corners.size(), 3u * 2u);
    // smaller than the box: padded with border_value (gt with 0)
    Image small = picture(4, 4), sg = mask(4, 4);
    AugRandomCrop({6, 6}, BorderType::constant, 77).Apply(small, sg, rng);
    EXPECT_EQ(small.dims_, (std::vector<int>{6, 6, 3}));
    EXPECT_EQ(small.Get({0, 0, 0}), 77);
    EXPECT_EQ(sg.Get({0, 0, 0}), 0);
    // volumes: every slice cropped alike
    Image v = volume(10, 9, 3);
    AugCenterCrop({4, 3}).Apply(v, rng);
    EXPECT_EQ(v.dims_, (std::vector<int>{4, 3, 3}));
    EXPECT_EQ(v.Get({0, 0, 2}), volume(10, 9, 3).Get({3, 3, 2}));
    Image v2 = volume(10, 9, 3);
    AugRandomCrop({5, 5}).Apply(v2, rng);
    EXPECT_EQ(v2.dims_, (std::vector<int>{5, 5, 3}));
}

TEST(AugmentGeometry, RandomResizedCrop) {
    std::mt19937_64 rng(3);
    for (int i = 0; i < 50; ++i) {
        Image img = picture(60, 40), gt = mask(60, 40);
        AugmentationRecord rec;
        AugRandomResizedCrop({32, 24}).Apply(img, gt, rng, rec);
        EXPECT_EQ(img.dims_, (std::vector<int>{32, 24, 3}));
        EXPECT_EQ(gt.dims_, (std::vector<int>{32, 24, 1}));
        const AugmentationDraw& d = rec.draws[0];
        EXPECT_LE(d.Get("x") + d.Get("width"), 60);
        EXPECT_LE(d.Get("y") + d.Get("height"), 40);
        const double area = d.Get("width") * d.Get("height") / (60.0 * 40.0), ratio = d.Get("width") / d.Get("height");
        EXPECT_GE(area, 0.05);
        EXPECT_LE(ratio, 4.0 / 3.0 * 1.1);
        EXPECT_GE(ratio, 0.75 / 1.1);
    }
}

// ---- masks: label-valued, and moved exactly as the image ----

namespace {
std::vector<AugmentationPtr> warps(InterpolationType interp) {
    return {
        std::make_shared<AugRotate>(Range{-40, 40}, std::vector<double>{}, 1.0, interp),
        std::make_shared<AugElasticTransform>(Range{30, 60}, Range{3, 5}, interp, BorderType::reflect101),
        std::make_shared<AugGridDistortion>(Range{2, 6}, Range{-0.4, 0.4}, interp, BorderType::reflect101),
        std::make_shared<AugOpticalDistortion>(Range{-0.5, 0.5}, Range{-0.1, 0.1}, interp, BorderType::constant),
        std::make_shared<AugAffine>(Range{-30, 30}, Range{0.7, 1.3}, Range{-15, 15}, Range{-0.1, 0.1}, Range{-0.1, 0.1},
                                    interp),
        std::make_shared<AugResizeDim>(std::vector<double>{37, 23}, interp),
        std::make_shared<AugResizeScale>(std::vector<double>{1.7, 0.6}, interp),
        std::make_shared<AugRandomResizedCrop>(std::vector<double>{30, 30}, Range{0.3, 1}, Range{0.75, 1.33}, interp),
        std::make_shared<AugTranspose>(1.0),
    };
}
}  // namespace

TEST(AugmentMasks, StayLabelValued) {
    const std::set<double> labels = values_of(mask(48, 40));
    for (const auto& aug : warps(InterpolationType::linear)) {
        for (uint64_t seed = 0; seed < 4; ++seed) {
            std::mt19937_64 rng(seed);
            Image img = picture(48, 40), gt = mask(48, 40);
            aug->Apply(img, gt, rng);
            for (double v : values_of(gt)) EXPECT_TRUE(labels.count(v)) << aug->ToText() << " made label " << v;
            EXPECT_GT(values_of(gt).size(), 1u) << aug->ToText();
        }
    }
}

namespace {
// Channel k = mask * (40 + 10 k), in the layout.
Image from_mask(const Image& m, const std::string& layout) {
    std::vector<Image> planes;
    const int w = m.dims_[0], h = m.dims_[1];
    Image img({w, h, 3}, DataType::uint8, "xyc", ColorType::RGB);
    for (int k = 0; k < 3; ++k)
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) img.At<uint8_t>({x, y, k}) = uint8_t(m.Get({x, y, 0}) * (20 + 10 * k));
    if (layout == "xyc") return img;
    Image out;
    RearrangeChannels(img, out, layout);
    return out;
}
void expect_image_is_mask(const Image& img, const Image& gt, const std::string& what) {
    Image planar;
    RearrangeChannels(img, planar, "xyc");
    ASSERT_EQ(planar.dims_[0], gt.dims_[0]) << what;
    ASSERT_EQ(planar.dims_[1], gt.dims_[1]) << what;
    int bad = 0;
    for (int k = 0; k < 3; ++k)
        for (int y = 0; y < gt.dims_[1]; ++y)
            for (int x = 0; x < gt.dims_[0]; ++x)
                bad += planar.Get({x, y, k}) != gt.Get({x, y, 0}) * (20 + 10 * k);
    EXPECT_EQ(bad, 0) << what;
}
}  // namespace

TEST(AugmentMasks, ImageAndMaskGetTheSameWarp) {
    // With nearest interpolation on both, an image made of the mask (scaled per channel) must come
    // out as the warped mask scaled alike, pixel for pixel, planar and interleaved.
    const Image m = mask(48, 40);
    for (const std::string layout : {"xyc", "cxy"})
        for (const auto& aug : warps(InterpolationType::nearest))
            for (uint64_t seed = 0; seed < 3; ++seed) {
                Image img = from_mask(m, layout), gt = m;
                std::mt19937_64 rng(seed);
                aug->Apply(img, gt, rng);
                EXPECT_EQ(img.channels_, layout);
                expect_image_is_mask(img, gt, aug->ToText() + " " + layout);
            }
}

TEST(AugmentMasks, WarpsMoveThePixels) {
    // a check that can fail: the warps above really move pixels (a no-op would pass the test above)
    const Image m = mask(48, 40);
    for (const auto& aug : warps(InterpolationType::nearest)) {
        Image gt = m, img = from_mask(m, "xyc");
        std::mt19937_64 rng(11);
        aug->Apply(img, gt, rng);
        EXPECT_FALSE(same_pixels(gt, m)) << aug->ToText();
    }
}

TEST(AugmentMasks, GroundTruthOfAnotherSizeIsAnError) {
    Image img = picture(10, 10), gt = mask(12, 10);
    std::mt19937_64 rng(0);
    expect_ecvl_error([&] { AugMirror(1).Apply(img, gt, rng); }, "AugMirror: the ground truth is 12x10, the image 10x10");
}

// ---- record and replay ----

TEST(AugmentRecord, ReplayOnTheMaskEqualsTheJointApply) {
    auto chain = parse(
        "SequentialAugmentationContainer\n"
        "  AugRotate angle=[-30,30]\n"
        "  OneOfAugmentationContainer p=0.9\n"
        "    AugElasticTransform alpha=[30,60] sigma=[3,5]\n"
        "    AugGridDistortion num_steps=[3,6]\n"
        "    AugOpticalDistortion distort_limit=[-0.4,0.4]\n"
        "  End\n"
        "  SomeOfAugmentationContainer n=2 p=1\n"
        "    AugMirror p=1\n    AugRandomCrop size=(40,32)\n    AugBrightness beta=[10,20]\n"
        "  End\n"
        "End\n");
    for (uint64_t seed = 0; seed < 8; ++seed) {
        // jointly
        Image img = picture(48, 40), gt = mask(48, 40);
        std::mt19937_64 rng(seed);
        chain->Apply(img, gt, rng);
        // the image alone, recording, then the mask replayed
        Image img2 = picture(48, 40), gt2 = mask(48, 40);
        AugmentationRecord rec;
        std::mt19937_64 rng2(seed);
        Image none;
        chain->Apply(img2, none, rng2, rec);
        EXPECT_TRUE(same_pixels(img, img2)) << "a record must not change the result, seed " << seed;
        Image no_image;  // the mask alone, as ground truth: moved as in the joint Apply, nothing photometric
        chain->Replay(rec, no_image, gt2);
        EXPECT_TRUE(no_image.IsEmpty());
        EXPECT_TRUE(same_pixels(gt, gt2)) << rec.ToString();
        // the image replayed from its record is the image again
        Image img3 = picture(48, 40);
        chain->Replay(rec, img3);
        EXPECT_TRUE(same_pixels(img, img3)) << rec.ToString();
        EXPECT_EQ(rec.draws[0].augmentation, "AugRotate");
    }
}

TEST(AugmentRecord, ValuesAreReadableAndChecked) {
    std::mt19937_64 rng(5);
    Image img = picture(20, 20);
    AugmentationRecord rec;
    AugRotate({10, 20}).Apply(img, img, rng, rec);
    ASSERT_EQ(rec.draws.size(), 1u);
    const double a = rec.draws[0].Get("angle");
    EXPECT_GE(a, 10);
    EXPECT_LE(a, 20);
    EXPECT_NE(rec.ToString().find("AugRotate angle="), std::string::npos);
    expect_ecvl_error([&] { (void)rec.draws[0].Get("sigma"); }, "AugRotate: no drawn value 'sigma' (there are: angle)");
    // a record of another chain
    Image other = picture(20, 20);
    expect_ecvl_error([&] { AugMirror().Replay(rec, other); }, "Replay: AugMirror expects its draw at position 0");
    expect_ecvl_error([&] { SequentialAugmentationContainer(AugRotate({1, 2})).Replay({}, other); }, "which holds nothing");
    AugmentationRecord two = rec;
    two.draws.push_back(rec.draws[0]);
    expect_ecvl_error([&] { AugRotate({10, 20}).Replay(two, other); }, "the record holds 2 draws, this augmentation used 1");
}

namespace {
// An augmentation written outside ECVL: the default record keeps a seed.
class AddNoiseOnce final : public Augmentation {
public:
    void Apply(Image& img, Image&, std::mt19937_64& rng) const override {
        Image out;
        Add(img, double(rng() % 50), out);
        img = std::move(out);
    }
    using Augmentation::Apply;
    std::shared_ptr<Augmentation> Clone() const override { return std::make_shared<AddNoiseOnce>(); }
    std::string ToText() const override { return "AddNoiseOnce"; }
};
}  // namespace

TEST(AugmentRecord, CustomAugmentationsRecordASeed) {
    AddNoiseOnce aug;
    Image a = picture(8, 8), b = picture(8, 8), gt;
    std::mt19937_64 rng(9);
    AugmentationRecord rec;
    aug.Apply(a, gt, rng, rec);
    ASSERT_EQ(rec.draws.size(), 1u);
    EXPECT_EQ(rec.draws[0].augmentation, "AddNoiseOnce");
    aug.Replay(rec, b);
    EXPECT_TRUE(same_pixels(a, b));
}

// ---- photometric: the imgproc functions with the drawn parameters, gt untouched ----

TEST(AugmentPhotometric, EqualTheImgprocFunctions) {
    const Image src = picture(33, 21);
    const Image m = mask(33, 21);
    struct Case {
        AugmentationPtr aug;
        std::function<void(const AugmentationDraw&, const Image&, Image&)> expect;
    };
    const std::vector<Case> cases = {
        {std::make_shared<AugGaussianBlur>(Range{0.5, 2}), [](auto& d, auto& s, auto& o) { GaussianBlur(s, o, d.Get("sigma")); }},
        {std::make_shared<AugAdditiveLaplaceNoise>(Range{5, 10}),
         [](auto& d, auto& s, auto& o) { AdditiveLaplaceNoise(s, o, d.Get("std_dev"), d.seed); }},
        {std::make_shared<AugAdditivePoissonNoise>(Range{2, 8}),
         [](auto& d, auto& s, auto& o) { AdditivePoissonNoise(s, o, d.Get("lambda"), d.seed); }},
        {std::make_shared<AugGaussianNoise>(Range{5, 10}),
         [](auto& d, auto& s, auto& o) { AdditiveGaussianNoise(s, o, d.Get("std_dev"), d.seed); }},
        {std::make_shared<AugGammaContrast>(Range{0.5, 2}), [](auto& d, auto& s, auto& o) { GammaContrast(s, o, d.Get("gamma")); }},
        {std::make_shared<AugBrightness>(Range{-40, 40}), [](auto& d, auto& s, auto& o) { Brightness(s, o, d.Get("beta")); }},
        {std::make_shared<AugContrast>(Range{0.5, 1.5}), [](auto& d, auto& s, auto& o) { Contrast(s, o, d.Get("alpha")); }},
        {std::make_shared<AugCoarseDropout>(Range{0.1, 0.5}, Range{0.1, 0.3}, 0.5),
         [](auto& d, auto& s, auto& o) { CoarseDropout(s, o, d.Get("p"), d.Get("drop_size"), d.Get("per_channel") != 0, d.seed); }},
        {std::make_shared<AugSalt>(Range{0.1, 0.2}), [](auto& d, auto& s, auto& o) { Salt(s, o, d.Get("p"), false, d.seed); }},
        {std::make_shared<AugPepper>(Range{0.1, 0.2}, 1.0), [](auto& d, auto& s, auto& o) { Pepper(s, o, d.Get("p"), true, d.seed); }},
        {std::make_shared<AugSaltAndPepper>(Range{0.1, 0.2}),
         [](auto& d, auto& s, auto& o) { SaltAndPepper(s, o, d.Get("p"), false, d.seed); }},
        {std::make_shared<AugNormalize>(std::vector<double>{100, 110, 120}, std::vector<double>{50, 60, 70}),
         [](auto&, auto& s, auto& o) { Normalize(s, o, {100, 110, 120}, {50, 60, 70}); }},
        {std::make_shared<AugNormalize>(120, 60), [](auto&, auto& s, auto& o) { Normalize(s, o, {120}, {60}); }},
        {std::make_shared<AugScaleTo>(10, 100), [](auto&, auto& s, auto& o) { ScaleTo(s, o, 10, 100); }},
        {std::make_shared<AugToFloat32>(255, 1), [](auto&, auto& s, auto& o) {
             Image f;
             ConvertTo(s, f, DataType::float32);
             Div(f, 255.0, o);
         }},
        {std::make_shared<AugDivBy255>(), [](auto&, auto& s, auto& o) {
             Image f;
             ConvertTo(s, f, DataType::float32);
             Div(f, 255.0, o);
         }},
    };
    for (const std::string layout : {"xyc", "cxy"})
        for (const Case& c : cases)
            for (uint64_t seed = 0; seed < 3; ++seed) {
                Image s;
                RearrangeChannels(src, s, layout);
                Image img = s, gt = m;
                std::mt19937_64 rng(seed);
                AugmentationRecord rec;
                c.aug->Apply(img, gt, rng, rec);
                Image want;
                c.expect(rec.draws[0], s, want);
                // the blur goes through a float kernel: within 1 of OpenCV's bit-exact uint8 blur
                const double tol = c.aug->ToText().starts_with("AugGaussianBlur") ? 1.0 : 0.0;
                EXPECT_LE(max_diff(img, want), tol) << c.aug->ToText() << " " << layout << " seed " << seed;
                const bool to_float = c.aug->ToText().starts_with("AugToFloat32") || c.aug->ToText().starts_with("AugDivBy255");
                if (!to_float) EXPECT_TRUE(same_pixels(gt, m)) << c.aug->ToText() << " changed the ground truth";
            }
}

TEST(AugmentPhotometric, ToFloat32DividesTheMaskByItsOwnDivisor) {
    Image img = picture(6, 5), gt = mask(6, 5);
    std::mt19937_64 rng(0);
    AugToFloat32(255, 5).Apply(img, gt, rng);
    EXPECT_EQ(img.elemtype_, DataType::float32);
    EXPECT_EQ(gt.elemtype_, DataType::float32);
    EXPECT_FLOAT_EQ(float(gt.Get({3, 2, 0})), float(mask(6, 5).Get({3, 2, 0}) / 5));
    EXPECT_FLOAT_EQ(float(img.Get({4, 1, 2})), float(picture(6, 5).Get({4, 1, 2}) / 255));
}

TEST(AugmentPhotometric, ClaheEqualizesAndKeepsTheLayout) {
    // a dull picture: CLAHE spreads its values
    for (const std::string layout : {"xyc", "cxy"}) {
        Image img = picture(64, 48, 3, layout);
        Image dull;
        Mul(img, 0.2, dull);
        Add(dull, 100.0, dull);
        Image out = dull;
        std::mt19937_64 rng(0);
        AugCLAHE({4, 4}, {4, 4}).Apply(out, rng);
        EXPECT_EQ(out.channels_, layout);
        EXPECT_EQ(out.dims_, dull.dims_);
        std::vector<double> m0, s0, m1, s1;
        MeanStdDev(dull, m0, s0);
        MeanStdDev(out, m1, s1);
        EXPECT_GT(s1[0], s0[0] * 1.2) << layout;
        Image gray = picture(64, 48, 1);
        AugCLAHE({2, 2}).Apply(gray, rng);
        EXPECT_EQ(gray.dims_, (std::vector<int>{64, 48, 1}));
    }
    Image f = picture(8, 8);
    f.ConvertTo(DataType::float32);
    std::mt19937_64 rng(0);
    expect_ecvl_error([&] { AugCLAHE().Apply(f, rng); }, "AugCLAHE: needs uint8 or uint16 pixels, got float32");
}

TEST(AugmentPhotometric, GammaZeroIsTheLimit) {
    Image img = picture(5, 5);
    std::mt19937_64 rng(0);
    AugGammaContrast({0, 0}).Apply(img, rng);
    for (double v : values_of(img)) EXPECT_TRUE(v == 0 || v == 255) << v;
}

TEST(AugmentLayouts, UnsupportedLayoutsAreNamed) {
    std::mt19937_64 rng(0);
    for (auto aug : std::vector<AugmentationPtr>{std::make_shared<AugElasticTransform>(),
                                                 std::make_shared<AugGridDistortion>(),
                                                 std::make_shared<AugOpticalDistortion>(), std::make_shared<AugAffine>(),
                                                 std::make_shared<AugGaussianBlur>(Range{1, 1}), std::make_shared<AugCLAHE>()}) {
        Image v = volume(8, 8, 3);
        const std::string name = aug->ToText().substr(0, aug->ToText().find(' '));
        expect_ecvl_error([&] { aug->Apply(v, rng); }, name + ": needs a 2-D image");
        expect_ecvl_error([&] { aug->Apply(v, rng); }, "got \"xyz\"");
    }
    Image v = volume(8, 8, 3);
    for (auto aug : std::vector<AugmentationPtr>{std::make_shared<AugFlip>(1), std::make_shared<AugMirror>(1),
                                                 std::make_shared<AugTranspose>(1), std::make_shared<AugRandomCrop>(std::vector<double>{4, 4}),
                                                 std::make_shared<AugRandomResizedCrop>(std::vector<double>{4, 4})})
        aug->Apply(v, rng);  // volumes accepted
    EXPECT_EQ(v.dims_[2], 3);
    Image empty;
    expect_ecvl_error([&] { AugMirror().Apply(empty, rng); }, "AugMirror: the image is empty");
}

TEST(AugmentVolumes, FlipMirrorEverySlice) {
    const Image src = volume(6, 4, 3);
    Image f = src, m = src;
    std::mt19937_64 rng(0);
    AugFlip(1).Apply(f, rng);
    AugMirror(1).Apply(m, rng);
    for (int z = 0; z < 3; ++z)
        for (int y = 0; y < 4; ++y)
            for (int x = 0; x < 6; ++x) {
                EXPECT_EQ(f.Get({x, 3 - y, z}), src.Get({x, y, z}));
                EXPECT_EQ(m.Get({5 - x, y, z}), src.Get({x, y, z}));
            }
}

// ---- determinism ----

namespace {
// every augmentation once, in one chain (the photometric ones on uint8 before the float ones)
const char* kEverything =
    "SequentialAugmentationContainer\n"
    "  AugRotate angle=[-20,20]\n  AugResizeDim dims=(50,50)\n  AugResizeScale scale=(1.1,0.9)\n"
    "  AugFlip\n  AugMirror\n  AugTranspose\n  AugElasticTransform\n  AugGridDistortion\n  AugOpticalDistortion\n"
    "  AugAffine angle=[-10,10] scale=[0.9,1.1] shear=[-5,5] translate_x=[-0.1,0.1] translate_y=[-0.1,0.1]\n"
    "  AugCenterCrop size=(40,38)\n  AugRandomCrop size=(36,36)\n  AugRandomResizedCrop size=(32,30)\n"
    "  AugGaussianBlur sigma=[0.5,1.5]\n  AugAdditiveLaplaceNoise std_dev=[0,5]\n  AugAdditivePoissonNoise lambda=[0,5]\n"
    "  AugGaussianNoise std_dev=[0,5]\n  AugGammaContrast gamma=[0.8,1.2]\n  AugBrightness beta=[-10,10]\n"
    "  AugContrast alpha=[0.8,1.2]\n  AugCoarseDropout p=[0,0.2] drop_size=[0.05,0.1] per_channel=0.5\n"
    "  AugSalt p=[0,0.02]\n  AugPepper p=[0,0.02]\n  AugSaltAndPepper p=[0,0.02] per_channel=1\n  AugCLAHE\n"
    "  AugScaleTo new_min=0 new_max=200\n  AugNormalize mean=(1,2,3) std=(50,50,50)\n  AugToFloat32 divisor=2\n"
    "  AugDivBy255\n"
    "End\n";
}  // namespace

TEST(AugmentDeterminism, SameSeedSameResultOtherSeedOther) {
    auto chain = parse(kEverything);
    auto run = [&](uint64_t seed) {
        Image img = picture(56, 48), gt = mask(56, 48);
        std::mt19937_64 rng(seed);
        chain->Apply(img, gt, rng);
        return std::make_pair(img, gt);
    };
    const auto a = run(42), b = run(42), c = run(43);
    EXPECT_TRUE(same_pixels(a.first, b.first));
    EXPECT_TRUE(same_pixels(a.second, b.second));
    EXPECT_FALSE(same_pixels(a.first, c.first));
    EXPECT_EQ(a.first.elemtype_, DataType::float32);
    // a clone is the same chain
    auto clone = chain->Clone();
    Image img = picture(56, 48), gt = mask(56, 48);
    std::mt19937_64 rng(42);
    clone->Apply(img, gt, rng);
    EXPECT_TRUE(same_pixels(img, a.first));
    EXPECT_EQ(clone->ToText(), chain->ToText());
}

TEST(AugmentDeterminism, ThreadsSharingOneChain) {
    auto chain = parse(kListing3);
    auto one = [&](uint64_t i) {
        Image img = picture(48, 40), gt = mask(48, 40);
        std::mt19937_64 rng(AugmentationSeed(7, 1, i));
        chain->Apply(img, gt, rng);
        return img;
    };
    std::vector<Image> serial, parallel(16);
    for (uint64_t i = 0; i < 16; ++i) serial.push_back(one(i));
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (uint64_t i = uint64_t(t); i < 16; i += 4) parallel[i] = one(i);
        });
    for (auto& t : threads) t.join();
    for (size_t i = 0; i < 16; ++i) EXPECT_TRUE(same_pixels(serial[i], parallel[i])) << i;
}

// ---- containers ----

TEST(AugmentContainers, OneOfAndSomeOfChoose) {
    auto one = std::make_shared<OneOfAugmentationContainer>(1.0, AugMirror(1), AugFlip(1), AugTranspose(1));
    auto never = std::make_shared<OneOfAugmentationContainer>(0.0, AugMirror(1));
    auto some = std::make_shared<SomeOfAugmentationContainer>(2, 1.0, AugMirror(1), AugFlip(1), AugTranspose(1));
    std::set<int> chosen;
    std::mt19937_64 rng(1);
    for (int i = 0; i < 60; ++i) {
        Image img = picture(8, 6);
        AugmentationRecord r1, r2, r3;
        one->Apply(img, img, rng, r1);
        ASSERT_EQ(r1.draws.size(), 2u);
        chosen.insert(int(r1.draws[0].Get("chosen")));
        never->Apply(img, img, rng, r2);
        ASSERT_EQ(r2.draws.size(), 1u);
        EXPECT_EQ(r2.draws[0].Get("chosen"), -1);
        some->Apply(img, img, rng, r3);
        ASSERT_EQ(r3.draws.size(), 3u);  // the choice, then two children in their listed order
        EXPECT_LT(r3.draws[0].values[0].second, r3.draws[0].values[1].second);
    }
    EXPECT_EQ(chosen, (std::set<int>{0, 1, 2}));
    expect_ecvl_error([] { SomeOfAugmentationContainer(3, 1.0, AugMirror(1)); }, "n must be in [1, 1]");
    expect_ecvl_error([] { OneOfAugmentationContainer(1.5, AugMirror(1)); }, "p must be in [0, 1], got 1.5");
    expect_ecvl_error([] { SequentialAugmentationContainer(std::vector<AugmentationPtr>{nullptr}); }, "child 0 is null");
}

TEST(AugmentContainers, DatasetAugmentationsPerSplit) {
    DatasetAugmentations augs({std::make_shared<AugMirror>(1), nullptr});
    EXPECT_FALSE(augs.IsEmpty(0));
    EXPECT_TRUE(augs.IsEmpty(1));
    EXPECT_TRUE(augs.IsEmpty(2));
    EXPECT_EQ(augs.Get(1), nullptr);
    std::mt19937_64 rng(0);
    Image img = picture(5, 4), gt = mask(5, 4);
    augs.Apply(1, img, gt, rng);
    augs.Apply(2, img, rng);
    EXPECT_TRUE(same_pixels(img, picture(5, 4)));
    augs.Apply(0, img, gt, rng);
    EXPECT_EQ(img.Get({4, 0, 0}), picture(5, 4).Get({0, 0, 0}));
    EXPECT_EQ(gt.Get({4, 0, 0}), mask(5, 4).Get({0, 0, 0}));
    EXPECT_TRUE(DatasetAugmentations().IsEmpty(0));
}

TEST(AugmentConstructors, CheckTheirParameters) {
    expect_ecvl_error([] { AugFlip(1.5); }, "AugFlip: p must be in [0, 1], got 1.5");
    expect_ecvl_error([] { AugRotate({30, -30}); }, "AugRotate: range angle [30, -30] has its minimum above its maximum");
    expect_ecvl_error([] { AugGaussianBlur({-1, 1}); }, "AugGaussianBlur: sigma must be >= 0, got -1");
    expect_ecvl_error([] { AugResizeDim({10}); }, "AugResizeDim: dims needs 2 to 3 values, got 1");
    expect_ecvl_error([] { AugResizeDim({10, 2.5}); }, "AugResizeDim: dims must be a whole number, got 2.5");
    expect_ecvl_error([] { AugNormalize({1, 2}, {1, 0}); }, "AugNormalize: std must be > 0, got 0");
    expect_ecvl_error([] { AugScaleTo(5, 1); }, "AugScaleTo: new_max must be > 5, got 1");
    Image img = picture(4, 4);
    std::mt19937_64 rng(0);
    expect_ecvl_error([&] { AugNormalize({1, 2}, {1, 2}).Apply(img, rng); }, "AugNormalize: mean and std need 1 or 3 values");
    expect_ecvl_error([&] { AugCenterCrop({5, 5}).Apply(img, rng); }, "AugCenterCrop: the box 5x5 at (-1, -1) does not fit");
}

// ---- the text language ----

TEST(AugmentText, PaperListing3Parses) {
    auto a = parse(kListing3);
    auto* seq = dynamic_cast<SequentialAugmentationContainer*>(a.get());
    ASSERT_NE(seq, nullptr);
    ASSERT_EQ(seq->Children().size(), 5u);
    auto* one = dynamic_cast<OneOfAugmentationContainer*>(seq->Children()[3].get());
    ASSERT_NE(one, nullptr);
    EXPECT_EQ(one->P(), 0.4);
    ASSERT_EQ(one->Children().size(), 2u);
    // the wrapped line `sigma=[3,6]` belongs to the elastic transform above it
    EXPECT_EQ(one->Children()[0]->ToText(),
              "AugElasticTransform alpha=[30,120] sigma=[3,6] interp=\"linear\" border_type=\"reflect101\" border_value=0");
    EXPECT_EQ(one->Children()[1]->ToText(),
              "AugGridDistortion num_steps=[2,5] distort_limit=[-0.3,0.3] interp=\"linear\" border_type=\"reflect101\" border_value=0");
    EXPECT_EQ(seq->Children()[0]->ToText(), "AugResizeDim dims=(100,100) interp=\"linear\" gt_interp=\"nearest\"");
    // Listing 4's use: from a stream, applied to an image
    std::istringstream ss(kListing3);
    auto b = AugmentationFactory::create(ss);
    Image img = picture(120, 90), gt = mask(120, 90);
    std::mt19937_64 rng(0);
    b->Apply(img, gt, rng);
    EXPECT_EQ(img.dims_, (std::vector<int>{100, 100, 3}));
    EXPECT_EQ(gt.dims_, (std::vector<int>{100, 100, 1}));
}

TEST(AugmentText, RoundTripThroughText) {
    for (const char* text : {kListing3, kEverything}) {
        auto a = parse(text);
        const std::string t1 = a->ToText();
        auto b = parse(t1);
        const std::string t2 = b->ToText();
        EXPECT_EQ(t1, t2);
        for (uint64_t seed = 0; seed < 4; ++seed) {
            Image i1 = picture(56, 48), g1 = mask(56, 48), i2 = i1, g2 = g1;
            std::mt19937_64 r1(seed), r2(seed);
            a->Apply(i1, g1, r1);
            b->Apply(i2, g2, r2);
            EXPECT_TRUE(same_pixels(i1, i2));
            EXPECT_TRUE(same_pixels(g1, g2));
        }
    }
    // numbers that need every digit survive
    auto r = parse("AugRotate angle=[-0.1,0.30000000000000004] center=(1e-05,3) scale=1.5");
    EXPECT_EQ(r->ToText(), "AugRotate angle=[-0.1,0.30000000000000004] center=(1e-05,3) scale=1.5 interp=\"linear\" gt_interp=\"nearest\"");
    EXPECT_EQ(parse("SomeOfAugmentationContainer n=2 p=0.5\nAugFlip\nAugMirror\nAugTranspose\nEnd")->ToText(),
              "SomeOfAugmentationContainer n=2 p=0.5\n    AugFlip p=0.5\n    AugMirror p=0.5\n    AugTranspose p=0.5\nEnd");
}

TEST(AugmentText, DefaultsCommentsAndSpellings) {
    // an omitted parameter takes its default, never the previous parameter's value (the original's bug)
    EXPECT_EQ(parse("AugElasticTransform alpha=[34,60] sigma=[4,6]")->ToText(),
              "AugElasticTransform alpha=[34,60] sigma=[4,6] interp=\"linear\" border_type=\"reflect101\" border_value=0");
    EXPECT_EQ(parse("AugToFloat32")->ToText(), "AugToFloat32 divisor=1 divisor_gt=1");
    EXPECT_EQ(parse("AugRandomCrop size=(10,10)")->ToText(), "AugRandomCrop size=(10,10) border_type=\"constant\" border_value=0");
    // the C++ defaults are the text defaults
    EXPECT_EQ(parse("AugElasticTransform")->ToText(), AugElasticTransform().ToText());
    EXPECT_EQ(parse("AugRotate angle=[-5,5]")->ToText(), AugRotate({-5, 5}).ToText());
    EXPECT_EQ(parse("AugCLAHE")->ToText(), AugCLAHE().ToText());
    EXPECT_EQ(parse("AugRandomResizedCrop size=(8,8)")->ToText(), AugRandomResizedCrop({8, 8}).ToText());
    // comments, blank lines, lower-case end, a bare number for a range, reflect_101
    auto a = parse("# training\n\nSequentialAugmentationContainer  # start\n   AugRotate angle=15 # fixed\n"
                   "AugGridDistortion border_type=\"reflect_101\"\nend\n\n# done\n");
    EXPECT_EQ(a->ToText(),
              "SequentialAugmentationContainer\n    AugRotate angle=[15,15] scale=1 interp=\"linear\" gt_interp=\"nearest\"\n"
              "    AugGridDistortion num_steps=[5,5] distort_limit=[-0.3,0.3] interp=\"linear\" border_type=\"reflect101\" "
              "border_value=0\nEnd");
    EXPECT_EQ(parse("AugNormalize mean=0.5 std=(0.25)")->ToText(), "AugNormalize mean=0.5 std=0.25");
    EXPECT_EQ(parse("OneOfAugmentationContainer\nAugFlip\nEnd")->ToText(), "OneOfAugmentationContainer p=1\n    AugFlip p=0.5\nEnd");
    EXPECT_EQ(parse("AugCenterCrop size=()")->ToText(), "AugCenterCrop");
}

TEST(AugmentText, FromAFile) {
    const std::string path = ecvl_test::scratch_dir("augment") + "/augs.txt";
    {
        std::ofstream f(path);
        f << kListing3;
    }
    auto a = AugmentationFactory::create(std::filesystem::path(path));
    EXPECT_EQ(a->ToText(), parse(kListing3)->ToText());
    expect_ecvl_error([] { AugmentationFactory::create(std::filesystem::path("/nonexistent/augs.txt")); },
                      "cannot open the augmentation file \"/nonexistent/augs.txt\"");
    {
        std::ofstream f(path);
        f << "AugFlip p=2\n";
    }
    expect_ecvl_error([&] { AugmentationFactory::create(std::filesystem::path(path)); }, path + ":1:11: AugFlip: p is out of bounds");
}

TEST(AugmentText, ErrorsNameLineAndColumn) {
    struct E {
        const char* text;
        const char* message;
    };
    const E errors[] = {
        {"AugFoo p=1", "augs.txt:1:1: unknown augmentation 'AugFoo'"},
        {"SequentialAugmentationContainer\n  augmirror p=1\nEnd", "augs.txt:2:3: unknown augmentation 'augmirror' (did you mean AugMirror?)"},
        {"AugMirror q=1", "augs.txt:1:11: unknown parameter 'q' for AugMirror (its parameters: p)"},
        {"AugRotate angle=[1,2", "augs.txt:1:21: malformed range: expected ']' after [a,b"},
        {"AugRotate angle=[1;2]", "augs.txt:1:19: malformed range: expected ',' between the two ends"},
        {"AugRotate angle=[a,2]", "augs.txt:1:18: malformed range: expected a number, found 'a'"},
        {"AugRotate angle=[3,2]", "augs.txt:1:17: range [3,2] has its minimum above its maximum"},
        {"AugResizeDim dims=(100;100)", "augs.txt:1:23: malformed vector: expected ',' or ')'"},
        {"AugResizeDim dims=(100,)", "augs.txt:1:24: malformed vector: expected a number, found ')'"},
        {"AugRotate angle=[1,2] interp=\"linear", "augs.txt:1:30: malformed string: no closing '\"'"},
        {"AugRotate angle=[1,2] interp=linear", "augs.txt:1:30: malformed value"},
        {"AugRotate angle=[1,2] interp=\"bilinear\"", "augs.txt:1:30: AugRotate: interp \"bilinear\" is not one of"},
        {"AugMirror p=1.5", "augs.txt:1:13: AugMirror: p is out of bounds: it must be in [0, 1], got 1.5"},
        {"AugGaussianBlur sigma=[-1,2]", "augs.txt:1:23: AugGaussianBlur: sigma is out of bounds: it must be >= 0, got -1"},
        {"AugResizeDim dims=(0,10)", "augs.txt:1:19: AugResizeDim: dims is out of bounds: it must be >= 1, got 0"},
        {"AugGridDistortion num_steps=[2.5,4]", "augs.txt:1:29: AugGridDistortion: num_steps is out of bounds: it must be a whole number"},
        {"AugMirror p=[0,1]", "augs.txt:1:13: AugMirror: p must be a number, got a range [a,b]"},
        {"AugRotate angle=(1,2)", "augs.txt:1:17: AugRotate: angle must be a range [a,b] (or a number), got a vector"},
        {"AugResizeDim dims=[1,2]", "augs.txt:1:19: AugResizeDim: dims must be a vector (v1,v2,...), got a range"},
        {"AugResizeDim dims=(1,2,3,4)", "augs.txt:1:19: AugResizeDim: dims needs 2 to 3 values, got 4"},
        {"\n  AugRotate interp=\"nearest\"", "augs.txt:2:3: AugRotate: the required parameter 'angle' is missing"},
        {"SequentialAugmentationContainer\nAugMirror\n", "augs.txt:1:1: SequentialAugmentationContainer is not closed: missing End"},
        {"SequentialAugmentationContainer\n OneOfAugmentationContainer p=0.5\n  AugMirror\n End\n",
         "augs.txt:1:1: SequentialAugmentationContainer is not closed"},
        {"SequentialAugmentationContainer\nAugMirror\nEnd\nAugFlip\n", "augs.txt:4:1: text after the end of the augmentation (\"AugFlip\")"},
        {"AugMirror\nAugFlip", "augs.txt:2:1: text after the end of the augmentation"},
        {"SequentialAugmentationContainer\nAugMirror\nEnd\n  End\n", "augs.txt:4:3: End with no open container"},
        {"End", "augs.txt:1:1: End with no open container"},
        {"p=0.5\nAugMirror", "augs.txt:1:1: parameter 'p' with no augmentation line before it"},
        {"SequentialAugmentationContainer\nAugMirror\nEnd\n  p=0.5", "augs.txt:4:3: parameter 'p' with no augmentation line before it"},
        {"# nothing\n\n", "augs.txt:1:1: no augmentation"},
        {"AugMirror p=0.5 p=0.7", "augs.txt:1:17: parameter 'p' given twice (first at line 1, column 11)"},
        {"AugMirror p", "augs.txt:1:12: expected '=' after the parameter name 'p'"},
        {"AugMirror p=", "augs.txt:1:13: missing value after '='"},
        {"AugMirror p=0.5x", "augs.txt:1:16: expected a space after the value, found 'x'"},
        {"AugMirror p=1..5", "augs.txt:1:13: malformed number: expected a number, found '1..5'"},
        {"3AugMirror", "augs.txt:1:1: expected an augmentation name, found '3'"},
        {"SomeOfAugmentationContainer p=1\nAugFlip\nEnd", "augs.txt:1:1: SomeOfAugmentationContainer: the required parameter 'n' is missing"},
        {"SomeOfAugmentationContainer n=3\nAugFlip\nAugMirror\nEnd",
         "augs.txt:1:31: n=3 is out of bounds: SomeOfAugmentationContainer has 2 children"},
        {"OneOfAugmentationContainer p=1.2\nAugFlip\nEnd", "augs.txt:1:30: OneOfAugmentationContainer: p is out of bounds"},
        {"SequentialAugmentationContainer p=1\nAugFlip\nEnd",
         "augs.txt:1:33: unknown parameter 'p' for SequentialAugmentationContainer (its parameters: none)"},
        {"AugScaleTo new_min=5 new_max=1", "augs.txt:1:30: AugScaleTo: new_max is out of bounds: it must be > 5, got 1"},
        {"AugNormalize mean=(1,2) std=(1,-2)", "augs.txt:1:29: AugNormalize: std is out of bounds: it must be > 0, got -2"},
    };
    for (const E& e : errors) expect_ecvl_error([&] { parse(e.text); }, e.message);
}
