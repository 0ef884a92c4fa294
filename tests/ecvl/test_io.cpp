// ImRead / ImWrite: round trips in every format and type the formats hold, colour orders, memory
// buffers, multi-page TIFF as pages and as a volume, and every kind of bad file as an error that
// names the file and the reason (including truncations the decoders themselves let through).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "ecvl/ecvl.h"
#include "ecvl_test_util.h"

using namespace ecvl;
using ecvl_test::expect_ecvl_error;
namespace fs = std::filesystem;

namespace {

std::string dir() {
    static const std::string d = ecvl_test::scratch_dir("ecvl_io");
    return d;
}

std::string path(const std::string& name) { return dir() + "/" + name; }

// w x h with c channels, a pattern that differs per pixel and channel
Image pattern(int w, int h, int c, DataType t, ColorType ct, double scale = 1.0) {
    Image img({w, h, c}, t, "xyc", ct);
    for (int k = 0; k < c; ++k)
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) {
                const double v = std::fmod((x * 7 + y * 13 + k * 61) * scale, 250.0 * scale);
                if (t == DataType::uint8) img.At<uint8_t>({x, y, k}) = uint8_t(v);
                else if (t == DataType::uint16) img.At<uint16_t>({x, y, k}) = uint16_t(v);
                else img.At<float>({x, y, k}) = float(v);
            }
    return img;
}

double max_abs_diff(const Image& a, const Image& b) {
    EXPECT_EQ(a.dims_, b.dims_);
    double m = 0;
    for (int k = 0; k < a.dims_[2]; ++k)
        for (int y = 0; y < a.dims_[1]; ++y)
            for (int x = 0; x < a.dims_[0]; ++x) m = std::max(m, std::fabs(a.Get({x, y, k}) - b.Get({x, y, k})));
    return m;
}

std::vector<uint8_t> bytes_of(const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& p, const std::vector<uint8_t>& b) {
    std::ofstream f(p, std::ios::binary);
    f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

}  // namespace

TEST(ImReadWrite, LosslessRoundTrips) {
    const Image bgr = pattern(37, 23, 3, DataType::uint8, ColorType::BGR);
    const Image gray = pattern(37, 23, 1, DataType::uint8, ColorType::GRAY);
    for (std::string ext : {".png", ".bmp", ".ppm", ".tiff", ".tif"}) {
        SCOPED_TRACE(ext);
        Image back;
        ImWrite(path("bgr" + ext), bgr);
        ASSERT_TRUE(ImRead(path("bgr" + ext), back));
        EXPECT_EQ(back.channels_, "xyc");
        EXPECT_EQ(back.colortype_, ColorType::BGR);
        EXPECT_EQ(back.elemtype_, DataType::uint8);
        EXPECT_EQ(max_abs_diff(back, bgr), 0.0);
    }
    for (std::string ext : {".png", ".bmp", ".pgm", ".tiff"}) {
        SCOPED_TRACE(ext);
        Image back;
        ImWrite(path("gray" + ext), gray);
        ImRead(path("gray" + ext), back);
        EXPECT_EQ(back.colortype_, ColorType::GRAY);
        EXPECT_EQ(back.dims_, (std::vector<int>{37, 23, 1}));
        EXPECT_EQ(max_abs_diff(back, gray), 0.0);
    }
    // 16-bit PNG, PGM and TIFF; float TIFF
    const Image deep = pattern(19, 11, 1, DataType::uint16, ColorType::GRAY, 250.0);
    for (std::string ext : {".png", ".pgm", ".tiff"}) {
        Image back;
        ImWrite(path("deep" + ext), deep);
        ImRead(path("deep" + ext), back);
        EXPECT_EQ(back.elemtype_, DataType::uint16) << ext;
        EXPECT_EQ(max_abs_diff(back, deep), 0.0) << ext;
    }
    const Image real = pattern(19, 11, 3, DataType::float32, ColorType::BGR, 0.01);
    Image back;
    ImWrite(path("real.tiff"), real);
    ImRead(path("real.tiff"), back);
    EXPECT_EQ(back.elemtype_, DataType::float32);
    EXPECT_EQ(max_abs_diff(back, real), 0.0);
    // JPEG is lossy: close on a smooth image, not equal
    Image smooth({32, 32, 3}, DataType::uint8, "xyc", ColorType::BGR);
    for (int k = 0; k < 3; ++k)
        for (int y = 0; y < 32; ++y)
            for (int x = 0; x < 32; ++x) smooth.At<uint8_t>({x, y, k}) = uint8_t(60 + 3 * x + 2 * y + 20 * k);
    ImWrite(path("smooth.jpg"), smooth);
    ImRead(path("smooth.jpg"), back);
    EXPECT_LT(max_abs_diff(back, smooth), 12.0);
}

TEST(ImReadWrite, ColourOrdersModesAndLayouts) {
    // RGB is reordered on the way out: it reads back as the same colours in BGR order
    Image rgb = pattern(8, 6, 3, DataType::uint8, ColorType::RGB);
    Image back;
    ImWrite(path("rgb.png"), rgb);
    ImRead(path("rgb.png"), back);
    EXPECT_EQ(back.colortype_, ColorType::BGR);
    EXPECT_EQ(back.Get({3, 2, 0}), rgb.Get({3, 2, 2}));  // blue
    EXPECT_EQ(back.Get({3, 2, 2}), rgb.Get({3, 2, 0}));  // red
    // alpha: kept with UNCHANGED (RGBA), dropped by the default mode
    Image rgba = pattern(8, 6, 4, DataType::uint8, ColorType::RGBA);
    ImWrite(path("rgba.png"), rgba);
    ImRead(path("rgba.png"), back, ImReadMode::UNCHANGED);
    EXPECT_EQ(back.colortype_, ColorType::RGBA);
    EXPECT_EQ(max_abs_diff(back, rgba), 0.0);
    ImRead(path("rgba.png"), back);
    EXPECT_EQ(back.colortype_, ColorType::BGR);
    EXPECT_EQ(back.Get({1, 1, 2}), rgba.Get({1, 1, 0}));
    // GRAYSCALE and COLOR modes
    ImRead(path("rgb.png"), back, ImReadMode::GRAYSCALE);
    EXPECT_EQ(back.colortype_, ColorType::GRAY);
    Image gray = pattern(8, 6, 1, DataType::uint8, ColorType::GRAY);
    ImWrite(path("g.png"), gray);
    ImRead(path("g.png"), back, ImReadMode::COLOR);
    EXPECT_EQ(back.colortype_, ColorType::BGR);
    EXPECT_EQ(back.Get({5, 4, 1}), gray.Get({5, 4, 0}));
    // interleaved "cxy", a strided view, and a plain "xy" image all write
    Image inter, v = View(rgb, {2, 1, 0}, {4, 3, -1});
    RearrangeChannels(rgb, inter, "cxy");
    ImWrite(path("inter.png"), inter);
    ImRead(path("inter.png"), back);
    EXPECT_EQ(back.Get({3, 2, 0}), rgb.Get({3, 2, 2}));
    ImWrite(path("view.png"), v);
    ImRead(path("view.png"), back);
    EXPECT_EQ(back.dims_, (std::vector<int>{4, 3, 3}));
    EXPECT_EQ(back.Get({0, 0, 0}), rgb.Get({2, 1, 2}));
    Image xy({5, 4}, DataType::uint8, "xy", ColorType::none);
    xy.At<uint8_t>({4, 3}) = 77;
    ImWrite(path("xy.png"), xy);
    ImRead(path("xy.png"), back);
    EXPECT_EQ(back.Get({4, 3, 0}), 77.0);
    // from memory: the same pixels as from the file
    Image mem;
    ImRead(bytes_of(path("rgb.png")), mem);
    ImRead(path("rgb.png"), back);
    EXPECT_EQ(max_abs_diff(mem, back), 0.0);
}

TEST(ImReadWrite, MultiPageTiffAsPagesAndVolume) {
    std::vector<cv::Mat> pages;
    for (int z = 0; z < 3; ++z) pages.push_back(cv::Mat(5, 7, CV_16UC1, cv::Scalar(1000 * (z + 1))));
    pages[1].at<uint16_t>(2, 3) = 9;  // row 2, column 3
    ASSERT_TRUE(cv::imwrite(path("stack.tiff"), pages));
    std::vector<Image> imgs;
    ImReadMulti(path("stack.tiff"), imgs);
    ASSERT_EQ(imgs.size(), 3u);
    EXPECT_EQ(imgs[2].Get({0, 0, 0}), 3000.0);
    Image vol;
    ImReadStack(path("stack.tiff"), vol);
    EXPECT_EQ(vol.channels_, "xyzc");
    EXPECT_EQ(vol.dims_, (std::vector<int>{7, 5, 3, 1}));
    EXPECT_EQ(vol.Get({3, 2, 1, 0}), 9.0);
    EXPECT_EQ(vol.Get({3, 2, 2, 0}), 3000.0);
    pages.push_back(cv::Mat(6, 7, CV_16UC1, cv::Scalar(1)));
    ASSERT_TRUE(cv::imwrite(path("ragged.tiff"), pages));
    expect_ecvl_error([&] { ImReadStack(path("ragged.tiff"), vol); }, "page 3 is 7x6x1 uint16, page 0 is 7x5x1 uint16");
}

TEST(ImReadWrite, BadFilesAreErrorsNamingFileAndReason) {
    Image img;
    expect_ecvl_error([&] { ImRead(path("missing.png"), img); }, "missing.png': no such file");
    expect_ecvl_error([&] { ImRead(dir(), img); }, "is not a regular file");
    write_bytes(path("empty.png"), {});
    expect_ecvl_error([&] { ImRead(path("empty.png"), img); }, "empty.png' is empty");
    write_bytes(path("garbage.png"), std::vector<uint8_t>(300, 0x5A));
    expect_ecvl_error([&] { ImRead(path("garbage.png"), img); }, "not a readable image");
    // truncated files, each format: half of a valid file
    const Image bgr = pattern(64, 48, 3, DataType::uint8, ColorType::BGR);
    const Image before = pattern(5, 4, 1, DataType::uint8, ColorType::GRAY);
    img = before;
    for (std::string ext : {".png", ".jpg", ".bmp", ".tiff", ".ppm"}) {
        SCOPED_TRACE(ext);
        ImWrite(path("whole" + ext), bgr);
        auto b = bytes_of(path("whole" + ext));
        b.resize(b.size() / 2);
        write_bytes(path("half" + ext), b);
        try {
            ImRead(path("half" + ext), img);
            ADD_FAILURE() << "a truncated " << ext << " was read";
        } catch (const ecvl::Error& e) {
            EXPECT_NE(std::string(e.what()).find("half" + ext), std::string::npos) << e.what();
        }
        expect_ecvl_error([&] { ImRead(b, img, ImReadMode::ANYCOLOR, "upload 7"); }, "upload 7");
    }
    ASSERT_EQ(img.dims_, before.dims_) << "a failed read changed its destination";
    EXPECT_EQ(max_abs_diff(img, before), 0.0) << "a failed read changed its destination";
    // writing: unknown extension, colour types, layouts and types the formats cannot hold
    expect_ecvl_error([&] { ImWrite(path("x.gif"), bgr); }, "unknown extension '.gif'");
    Image hsv({4, 4, 3}, DataType::uint8, "xyc", ColorType::HSV);
    expect_ecvl_error([&] { ImWrite(path("hsv.png"), hsv); }, "colour type HSV cannot be written");
    Image vol({4, 4, 4}, DataType::uint8, "xyz", ColorType::none);
    expect_ecvl_error([&] { ImWrite(path("vol.png"), vol); }, "needs a 2-D image");
    Image wide({4, 4, 1}, DataType::int64, "xyc", ColorType::GRAY);
    expect_ecvl_error([&] { ImWrite(path("wide.png"), wide); }, ".png cannot hold int64 pixels");
    Image f = pattern(4, 4, 1, DataType::float32, ColorType::GRAY);
    expect_ecvl_error([&] { ImWrite(path("f.jpg"), f); }, ".jpg cannot hold float32 pixels");
    expect_ecvl_error([&] { ImWrite(dir() + "/no/such/dir/a.png", bgr); }, "cannot create");
}

TEST(ImReadWrite, FailedWriteLeavesTheOldFile) {
    const Image first = pattern(9, 9, 3, DataType::uint8, ColorType::BGR);
    ImWrite(path("keep.png"), first);
    const auto before = bytes_of(path("keep.png"));
    Image f = pattern(9, 9, 1, DataType::float32, ColorType::GRAY);
    EXPECT_THROW(ImWrite(path("keep.jpg"), f), ecvl::Error);
    Image hsv({4, 4, 3}, DataType::uint8, "xyc", ColorType::HSV);
    EXPECT_THROW(ImWrite(path("keep.png"), hsv), ecvl::Error);
    EXPECT_EQ(bytes_of(path("keep.png")), before);
    for (const auto& e : fs::directory_iterator(dir()))
        EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << "left behind: " << e.path();
}
