// ecvl::Image: construction rules, element access, views that share memory, deep copies and
// moves, conversions with saturation against hand-computed values, channel rearrangement.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ecvl/ecvl.h"
#include "ecvl_test_util.h"

using namespace ecvl;
using ecvl_test::expect_ecvl_error;

namespace {

// 4x3 RGB, planar "xyc", value = 100 c + 10 y + x
Image rgb() {
    Image img({4, 3, 3}, DataType::uint8, "xyc", ColorType::RGB, {0.5f, 0.25f, 1.0f});
    for (int c = 0; c < 3; ++c)
        for (int y = 0; y < 3; ++y)
            for (int x = 0; x < 4; ++x) img.At<uint8_t>({x, y, c}) = uint8_t(100 * c + 10 * y + x);
    return img;
}

}  // namespace

TEST(Image, ConstructionAndAccess) {
    Image img = rgb();
    EXPECT_EQ(img.Width(), 4);
    EXPECT_EQ(img.Height(), 3);
    EXPECT_EQ(img.Channels(), 3);
    EXPECT_EQ(img.Elements(), 36u);
    EXPECT_EQ(img.strides_, (std::vector<int64_t>{1, 4, 12}));
    EXPECT_TRUE(img.contiguous_);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(img.data_) % 64, 0u);
    EXPECT_EQ(img.Get({3, 2, 1}), 123.0);
    EXPECT_EQ(img.data_[1 * 12 + 2 * 4 + 3], 123);  // axis 0 fastest: planar layout
    for (DataType t : {DataType::int8, DataType::int16, DataType::int32, DataType::int64, DataType::float32,
                       DataType::float64, DataType::uint8, DataType::uint16}) {
        Image v({2, 3, 4}, t, "xyz", ColorType::none);
        EXPECT_EQ(v.datasize_, 24 * DataTypeSize(t)) << DataTypeName(t);
        EXPECT_EQ(v.Get({1, 2, 3}), 0.0) << "new images are zero-filled";
    }
    expect_ecvl_error([] { Image({4, 3}, DataType::uint8, "xyc", ColorType::none); }, "2 dimensions {4, 3}");
    expect_ecvl_error([] { Image({4, 3, 2}, DataType::uint8, "xyc", ColorType::RGB); }, "RGB has 3 channels, the c axis has 2");
    expect_ecvl_error([] { Image({4, 3}, DataType::uint8, "xy", ColorType::GRAY); }, "needs a 'c' axis");
    expect_ecvl_error([] { Image({4, 0}, DataType::uint8, "xy", ColorType::none); }, "must be positive");
    expect_ecvl_error([] { Image({4, 3}, DataType::uint8, "xq", ColorType::none); }, "unknown axis 'q'");
    expect_ecvl_error([] { Image({4, 3}, DataType::uint8, "xx", ColorType::none); }, "appears twice");
    expect_ecvl_error([] { Image({4, 3}, DataType::uint8, "xy", ColorType::none, {}, Device::GPU); }, "no GPU");
    expect_ecvl_error([&] { img.At<float>({0, 0, 0}); }, "holds uint8, not float32");
    expect_ecvl_error([&] { img.Ptr({4, 0, 0}); }, "outside the image {4, 3, 3}");
    expect_ecvl_error([] { Image().Width(); }, "no 'x' axis");
}

TEST(Image, ViewsShareMemoryAndOutliveTheirSource) {
    Image img = rgb();
    Image v = View(img, {1, 1, 0}, {2, -1, -1});  // x 1..2, y 1..2, all colours
    EXPECT_FALSE(v.IsOwner());
    EXPECT_FALSE(v.contiguous_);
    EXPECT_EQ(v.dims_, (std::vector<int>{2, 2, 3}));
    EXPECT_EQ(v.Get({0, 0, 2}), 211.0);
    v.At<uint8_t>({1, 1, 0}) = 7;  // writes the source
    EXPECT_EQ(img.Get({2, 2, 0}), 7.0);
    // a single colour plane is GRAY; two planes no colour type
    EXPECT_EQ(View(img, {0, 0, 1}, {-1, -1, 1}).colortype_, ColorType::GRAY);
    EXPECT_EQ(View(img, {0, 0, 1}, {-1, -1, 2}).colortype_, ColorType::none);
    // the view keeps the memory alive after the source goes
    img = Image();
    EXPECT_EQ(v.Get({1, 1, 0}), 7.0);
    // a deep copy of a view is contiguous and independent
    Image c = v;
    EXPECT_TRUE(c.IsOwner());
    EXPECT_TRUE(c.contiguous_);
    c.At<uint8_t>({0, 0, 0}) = 1;
    EXPECT_EQ(v.Get({0, 0, 0}), 11.0);
    for (int ch = 0; ch < 3; ++ch)
        for (int y = 0; y < 2; ++y)
            for (int x = 0; x < 2; ++x)
                if (x || y || ch) EXPECT_EQ(c.Get({x, y, ch}), v.Get({x, y, ch}));
    expect_ecvl_error([&] { View(v, {1, 0, 0}, {2, 1, 1}); }, "does not fit {2, 2, 3} (axis 'x')");
}

TEST(Image, CopyMoveAndCopyIntoAView) {
    Image a = rgb();
    a.SetMeta("PatientID", std::string("anon-7"));
    a.SetMeta("SeriesNumber", int64_t(3));
    a.SetMeta("WindowCenter", 40.5);
    Image b = a;
    b.At<uint8_t>({0, 0, 0}) = 99;
    EXPECT_EQ(a.Get({0, 0, 0}), 0.0);
    EXPECT_EQ(std::get<std::string>(b.GetMeta("PatientID")), "anon-7");
    EXPECT_EQ(std::get<int64_t>(b.GetMeta("SeriesNumber")), 3);
    EXPECT_EQ(std::get<double>(b.GetMeta("WindowCenter")), 40.5);
    expect_ecvl_error([&] { b.GetMeta("Modality"); }, "no metadata 'Modality' (the image has: PatientID, SeriesNumber, WindowCenter)");
    EXPECT_EQ(b.spacings_, (std::vector<float>{0.5f, 0.25f, 1.0f}));
    Image m = std::move(b);
    EXPECT_TRUE(b.IsEmpty());
    EXPECT_EQ(m.Get({0, 0, 0}), 99.0);
    // copy a 2x2x3 patch into a view of a bigger image, converting uint8 -> float32
    Image big({6, 5, 3}, DataType::float32, "xyc", ColorType::RGB);
    Image patch = View(a, {0, 0, 0}, {2, 2, 3});
    Image target = View(big, {3, 2, 0}, {2, 2, 3});
    CopyImage(patch, target);
    EXPECT_EQ(big.Get({4, 3, 2}), a.Get({1, 1, 2}));
    EXPECT_EQ(big.Get({2, 2, 0}), 0.0);
    Image wrong = View(big, {0, 0, 0}, {3, 2, 3});
    expect_ecvl_error([&] { CopyImage(patch, wrong); }, "sizes differ");
}

TEST(Image, ConvertToSaturatesAndRounds) {
    Image f({6}, DataType::float64, "x", ColorType::none);
    const double vals[] = {-3.7, 2.5, 300.2, 65535.9, std::numeric_limits<double>::quiet_NaN(), -0.4};
    for (int i = 0; i < 6; ++i) f.At<double>({i}) = vals[i];
    Image u8, i16, wrap;
    ConvertTo(f, u8, DataType::uint8);
    ConvertTo(f, i16, DataType::int16);
    ConvertTo(f, wrap, DataType::uint8, false);
    const double want_u8[] = {0, 2, 255, 255, 0, 0};  // round half to even, clamp, NaN -> 0
    const double want_i16[] = {-4, 2, 300, 32767, 0, 0};
    const double want_wrap[] = {253, 2, 44, 255, 0, 0};  // truncate toward zero, wrap modulo 256
    for (int i = 0; i < 6; ++i) {
        EXPECT_EQ(u8.Get({i}), want_u8[i]) << "element " << i;
        EXPECT_EQ(i16.Get({i}), want_i16[i]) << "element " << i;
        EXPECT_EQ(wrap.Get({i}), want_wrap[i]) << "element " << i;
    }
    // int64 survives a same-type conversion exactly; in place on an owner; not on a view
    Image big({2}, DataType::int64, "x", ColorType::none);
    big.At<int64_t>({0}) = (int64_t(1) << 62) + 1;
    big.ConvertTo(DataType::int64);
    EXPECT_EQ(big.At<int64_t>({0}), (int64_t(1) << 62) + 1);
    Image img = rgb();
    img.ConvertTo(DataType::float32);
    EXPECT_EQ(img.elemtype_, DataType::float32);
    EXPECT_EQ(img.At<float>({3, 2, 1}), 123.0f);
    EXPECT_EQ(img.colortype_, ColorType::RGB);
    Image v = View(img, {0, 0, 0}, {2, 2, 3});
    expect_ecvl_error([&] { v.ConvertTo(DataType::uint8); }, "a view cannot change its element type");
    img.SetTo(-5.0);
    EXPECT_EQ(img.Get({1, 1, 1}), -5.0);
    Image g({2, 2}, DataType::uint16, "xy", ColorType::none);
    g.SetTo(1e9);
    EXPECT_EQ(g.Get({1, 1}), 65535.0);
}

TEST(Image, RearrangeChannels) {
    Image img = rgb();
    Image inter;
    RearrangeChannels(img, inter, "cxy");  // interleaved, as OpenCV
    EXPECT_EQ(inter.dims_, (std::vector<int>{3, 4, 3}));
    EXPECT_EQ(inter.spacings_, (std::vector<float>{1.0f, 0.5f, 0.25f}));
    EXPECT_EQ(inter.colortype_, ColorType::RGB);
    for (int c = 0; c < 3; ++c)
        for (int y = 0; y < 3; ++y)
            for (int x = 0; x < 4; ++x) EXPECT_EQ(inter.Get({c, x, y}), img.Get({x, y, c}));
    EXPECT_EQ(inter.data_[(1 * 4 + 2) * 3 + 1], 112);  // channels adjacent per pixel
    Image back;
    RearrangeChannels(View(inter, {0, 1, 0}, {-1, 2, -1}), back, "xyc");  // from a view
    EXPECT_EQ(back.Get({1, 2, 2}), img.Get({2, 2, 2}));
    expect_ecvl_error([&] { RearrangeChannels(img, back, "xyz"); }, "\"xyz\" is not a reordering of \"xyc\"");
}

TEST(Image, ArithmeticSaturatesAndWraps) {
    Image a({4}, DataType::uint8, "x", ColorType::none), b({4}, DataType::uint8, "x", ColorType::none);
    const uint8_t av[] = {250, 10, 100, 7}, bv[] = {10, 20, 0, 2};
    for (int i = 0; i < 4; ++i) {
        a.At<uint8_t>({i}) = av[i];
        b.At<uint8_t>({i}) = bv[i];
    }
    auto vals = [](const Image& img) {
        std::vector<double> v;
        for (int i = 0; i < img.dims_[0]; ++i) v.push_back(img.Get({i}));
        return v;
    };
    EXPECT_EQ(vals(a + b), (std::vector<double>{255, 30, 100, 9}));     // saturated
    EXPECT_EQ(vals(a - b), (std::vector<double>{240, 0, 100, 5}));      // 10 - 20 -> 0
    EXPECT_EQ(vals(a * b), (std::vector<double>{255, 200, 0, 14}));
    EXPECT_EQ(vals(a / b), (std::vector<double>{25, 0, 0, 4}));         // 0.5 rounds to even; x / 0 = 0
    Image wrapped;
    Add(a, b, wrapped, DataType::none, false);
    EXPECT_EQ(vals(wrapped), (std::vector<double>{4, 30, 100, 9}));     // 260 mod 256
    Image wide;
    Sub(a, b, wide, DataType::int16);                                   // another result type
    EXPECT_EQ(vals(wide), (std::vector<double>{240, -10, 100, 5}));
    EXPECT_EQ(vals(a * 0.5), (std::vector<double>{125, 5, 50, 4}));     // 3.5 rounds to even
    Image f({2}, DataType::float32, "x", ColorType::none);
    f.At<float>({0}) = 1.0f;
    EXPECT_TRUE(std::isinf((f / 0.0).Get({0})));
    Image s({1}, DataType::int8, "x", ColorType::none);
    s.At<int8_t>({0}) = -128;
    EXPECT_EQ((-s).Get({0}), 127.0);
    // views as operands, and the destination may be a source
    Image img = rgb();
    Image v = View(img, {1, 1, 0}, {2, 2, -1});
    Image sum = v + v;
    EXPECT_EQ(sum.Get({1, 1, 2}), std::min(255.0, 2 * img.Get({2, 2, 2})));
    Add(img, 1.0, img);
    EXPECT_EQ(img.Get({0, 0, 0}), 1.0);
    expect_ecvl_error([&] { Image x = a + img; }, "images {4} \"x\" and {4, 3, 3} \"xyc\" differ");
}
