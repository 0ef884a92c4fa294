// Whole-slide images: a pyramidal tiled TIFF made by libvips (vips tiffsave --tile --pyramid) from
// an image this test draws, opened through OpenSlide: levels, downsamples, properties, regions at
// level 0 (exact) and level 1 (vips' 2x2 averages), and bad input; and an Aperio slide with its
// label, macro and thumbnail, assembled by vips and libtiff's tiffcp/tiffset.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "ecvl/ecvl.h"
#include "ecvl_test_util.h"

using namespace ecvl;
using ecvl_test::expect_ecvl_error;
namespace fs = std::filesystem;

namespace {

std::string path(const std::string& name) {
    static const std::string d = ecvl_test::scratch_dir("ecvl_slide");
    return d + "/" + name;
}

constexpr int W = 1200, H = 900;

// A slide-like picture: smooth colour ramps plus a grid, BGR
const Image& picture() {
    static const Image img = [] {
        Image p({W, H, 3}, DataType::uint8, "xyc", ColorType::BGR);
        for (int y = 0; y < H; ++y)
            for (int x = 0; x < W; ++x) {
                const bool line = x % 100 == 0 || y % 100 == 0;
                p.At<uint8_t>({x, y, 0}) = uint8_t(line ? 20 : (x * 255) / W);
                p.At<uint8_t>({x, y, 1}) = uint8_t(line ? 20 : (y * 255) / H);
                p.At<uint8_t>({x, y, 2}) = uint8_t(line ? 20 : ((x + y) * 127) / (W + H) + 64);
            }
        return p;
    }();
    return img;
}

bool have_vips() { return std::system("command -v vips > /dev/null 2>&1") == 0; }

std::string make_slide() {
    const std::string tif = path("slide.tif");
    if (fs::exists(tif)) return tif;
    ImWrite(path("picture.png"), picture());
    const std::string cmd = "vips tiffsave " + path("picture.png") + " " + tif +
                            " --tile --pyramid --tile-width 256 --tile-height 256 --compression none";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return tif;
}

}  // namespace

TEST(OpenSlide, PyramidMadeByVips) {
    if (!have_vips()) GTEST_SKIP() << "vips (Debian package libvips-tools) is not installed";
    OpenSlideImage slide(make_slide());
    const int levels = slide.GetLevelCount();
    ASSERT_GE(levels, 3);
    const auto dims = slide.GetLevelsDimensions();
    const auto ds = slide.GetLevelDownsamples();
    EXPECT_EQ(dims[0], (std::array<int, 2>{W, H}));
    EXPECT_EQ(dims[1], (std::array<int, 2>{W / 2, H / 2}));
    EXPECT_DOUBLE_EQ(ds[0], 1.0);
    EXPECT_NEAR(ds[1], 2.0, 1e-9);
    EXPECT_EQ(slide.GetBestLevelForDownsample(1.0), 0);
    EXPECT_EQ(slide.GetBestLevelForDownsample(3.0), 1);
    EXPECT_EQ(slide.GetBestLevelForDownsample(1000.0), levels - 1);
    const auto props = slide.GetProperties();
    EXPECT_EQ(props.at("openslide.vendor"), "generic-tiff");
    Image meta;
    slide.GetProperties(meta);
    EXPECT_EQ(std::get<std::string>(meta.GetMeta("openslide.level-count")), std::to_string(levels));

    // level 0: the drawn pixels exactly
    Image region;
    slide.ReadRegion(region, 0, {317, 211, 150, 120});
    EXPECT_EQ(region.channels_, "xyc");
    EXPECT_EQ(region.colortype_, ColorType::BGR);
    ASSERT_EQ(region.dims_, (std::vector<int>{150, 120, 3}));
    for (int c = 0; c < 3; ++c)
        for (int y = 0; y < 120; y += 7)
            for (int x = 0; x < 150; x += 7)
                ASSERT_EQ(region.Get({x, y, c}), picture().Get({317 + x, 211 + y, c})) << x << "," << y << "," << c;
    // level 1 (x, y still in level-0 pixels): each pixel close to the mean of its 2x2 block
    slide.ReadRegion(region, 1, {400, 300, 60, 40});
    double worst = 0;
    for (int c = 0; c < 3; ++c)
        for (int y = 0; y < 40; ++y)
            for (int x = 0; x < 60; ++x) {
                double mean = 0;
                for (int dy = 0; dy < 2; ++dy)
                    for (int dx = 0; dx < 2; ++dx) mean += picture().Get({400 + 2 * x + dx, 300 + 2 * y + dy, c}) / 4;
                if ((400 + 2 * x) % 100 > 2 && (300 + 2 * y) % 100 > 2)  // away from the grid lines
                    worst = std::max(worst, std::fabs(region.Get({x, y, c}) - mean));
            }
    EXPECT_LE(worst, 2.0);
    // beyond the slide: white
    slide.ReadRegion(region, 0, {W - 5, H - 5, 10, 10});
    EXPECT_EQ(region.Get({9, 9, 0}), 255.0);
    EXPECT_EQ(region.Get({2, 2, 1}), picture().Get({W - 3, H - 3, 1}));
    // a generic TIFF has no associated images
    EXPECT_TRUE(slide.GetAssociatedImageNames().empty());
    expect_ecvl_error([&] { slide.GetAssociatedImage(AssociatedImages::LABEL, region); }, "has no label image");
    expect_ecvl_error([&] { slide.ReadRegion(region, levels, {0, 0, 10, 10}); }, "level " + std::to_string(levels));
    expect_ecvl_error([&] { slide.ReadRegion(region, 0, {0, 0, 0, 10}); }, "positive size");
}

TEST(OpenSlide, BadFiles) {
    expect_ecvl_error([] { OpenSlideImage s(path("none.svs")); }, "none.svs': no such file");
    ImWrite(path("plain.png"), picture());
    expect_ecvl_error([] { OpenSlideImage s(path("plain.png")); }, "plain.png': not a slide format OpenSlide reads");
    if (!have_vips()) GTEST_SKIP() << "vips is not installed";
    const std::string whole = make_slide();
    fs::copy_file(whole, path("cut.tif"), fs::copy_options::overwrite_existing);
    fs::resize_file(path("cut.tif"), fs::file_size(whole) / 3);
    // a truncated slide fails on opening or, at the latest, when the missing tiles are read
    try {
        OpenSlideImage s(path("cut.tif"));
        Image r;
        s.ReadRegion(r, 0, {0, 0, W, H});
        ADD_FAILURE() << "a truncated slide was read whole";
    } catch (const ecvl::Error& e) {
        EXPECT_NE(std::string(e.what()).find("cut.tif"), std::string::npos) << e.what();
    }
}

namespace {

// A small picture of its own pattern per associated image, BGR.
Image pattern(int w, int h, int seed) {
    Image p({w, h, 3}, DataType::uint8, "xyc", ColorType::BGR);
    for (int c = 0; c < 3; ++c)
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) p.At<uint8_t>({x, y, c}) = uint8_t((x * (seed + 3) + y * 7 + c * 50 + seed * 31) % 256);
    return p;
}

int run(const std::string& cmd) { return std::system((cmd + " > " + path("tools.log") + " 2>&1").c_str()); }

}  // namespace

// An Aperio slide as the vendor lays it out (tiled level 0 with an "Aperio" description, then a
// stripped thumbnail, label and macro named in their descriptions), assembled from the pictures by
// outside tools: vips writes the TIFFs, libtiff's tiffcp joins them and tiffset writes the
// descriptions. OpenSlide must see the vendor, the associated images and their pixels.
TEST(OpenSlide, AperioSlideWithAssociatedImages) {
    ASSERT_TRUE(have_vips() && run("command -v tiffcp && command -v tiffset") == 0)
        << "vips (libvips-tools) and tiffcp/tiffset (libtiff-tools) come with scripts/install_deps.sh";
    const Image label = pattern(120, 90, 1), macro = pattern(200, 80, 2);
    ImWrite(path("level0.png"), picture());
    ImWrite(path("label.png"), label);
    ImWrite(path("macro.png"), macro);
    const std::string svs = path("aperio.svs");
    fs::remove(svs);
    for (const std::string& cmd : {
             "vips tiffsave " + path("level0.png") + " " + path("level0.tif") + " --tile --tile-width 256 --tile-height 256 --compression none",
             "vips resize " + path("level0.png") + " " + path("thumb.png") + " 0.1",
             "vips tiffsave " + path("thumb.png") + " " + path("thumb.tif") + " --compression none",
             "vips tiffsave " + path("label.png") + " " + path("label.tif") + " --compression none",
             "vips tiffsave " + path("macro.png") + " " + path("macro.tif") + " --compression none",
             "tiffcp -c none " + path("level0.tif") + " " + svs,
             "tiffcp -a -s -c none " + path("thumb.tif") + " " + path("label.tif") + " " + path("macro.tif") + " " + svs,
             "tiffset -d 0 -s 270 'Aperio Image Library v11.2.1 |AppMag = 20|MPP = 0.4990' " + svs,
             "tiffset -d 2 -s 270 \"$(printf 'Aperio Image Library v11.2.1\\nlabel 120x90')\" " + svs,
             "tiffset -d 3 -s 270 \"$(printf 'Aperio Image Library v11.2.1\\nmacro 200x80')\" " + svs})
        ASSERT_EQ(run(cmd), 0) << cmd;

    OpenSlideImage slide(svs);
    const auto props = slide.GetProperties();
    EXPECT_EQ(props.at("openslide.vendor"), "aperio");
    EXPECT_EQ(props.at("aperio.AppMag"), "20");
    EXPECT_EQ(std::stod(props.at("openslide.mpp-x")), 0.499);
    EXPECT_EQ(slide.GetAssociatedImageNames(), (std::vector<std::string>{"label", "macro", "thumbnail"}));
    Image got;
    slide.GetAssociatedImage(AssociatedImages::LABEL, got);
    ASSERT_EQ(got.dims_, (std::vector<int>{120, 90, 3}));
    EXPECT_EQ(got.colortype_, ColorType::BGR);
    EXPECT_EQ(std::memcmp(got.data_, label.data_, label.datasize_), 0);
    slide.GetAssociatedImage(AssociatedImages::MACRO, got);
    ASSERT_EQ(got.dims_, (std::vector<int>{200, 80, 3}));
    EXPECT_EQ(std::memcmp(got.data_, macro.data_, macro.datasize_), 0);
    slide.GetAssociatedImage(AssociatedImages::THUMBNAIL, got);
    EXPECT_EQ(got.dims_, (std::vector<int>{W / 10, H / 10, 3}));
    Image region;
    slide.ReadRegion(region, 0, {500, 400, 50, 30});
    for (int c = 0; c < 3; ++c) ASSERT_EQ(region.Get({17, 11, c}), picture().Get({517, 411, c}));
}
