// Whole-slide images through OpenSlide, errors checked after every call (OpenSlide records them
// in the handle and turns later calls into no-ops).
#include "ecvl/openslide.h"

#include <openslide/openslide.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <limits>

namespace ecvl {

struct OpenSlideImage::Impl {
    openslide_t* osr = nullptr;
};

namespace {

void check(openslide_t* osr, const std::string& who, const std::string& file) {
    const char* err = openslide_get_error(osr);
    ECVL_CHECK(!err, who << ": '" << file << "': " << err);
}

// premultiplied 0xAARRGGBB pixels -> planar BGR; transparent -> white
Image argb_to_bgr(const std::vector<uint32_t>& px, int w, int h) {
    Image img({w, h, 3}, DataType::uint8, "xyc", ColorType::BGR);
    const size_t plane = size_t(w) * h;
    for (size_t i = 0; i < plane; ++i) {
        const uint32_t p = px[i];
        const uint32_t a = p >> 24;
        uint32_t r = (p >> 16) & 0xFF, g = (p >> 8) & 0xFF, b = p & 0xFF;
        if (a == 0) {
            r = g = b = 255;
        } else if (a != 255) {
            r = std::min<uint32_t>(255, (r * 255 + a / 2) / a);
            g = std::min<uint32_t>(255, (g * 255 + a / 2) / a);
            b = std::min<uint32_t>(255, (b * 255 + a / 2) / a);
        }
        img.data_[i] = uint8_t(b);
        img.data_[plane + i] = uint8_t(g);
        img.data_[2 * plane + i] = uint8_t(r);
    }
    return img;
}

}  // namespace

OpenSlideImage::OpenSlideImage(const std::string& filename) : impl_(std::make_unique<Impl>()), filename_(filename) {
    std::error_code ec;
    ECVL_CHECK(std::filesystem::is_regular_file(filename, ec), "OpenSlideImage: '" << filename << "': no such file");
    ECVL_CHECK(openslide_detect_vendor(filename.c_str()) != nullptr,
               "OpenSlideImage: '" << filename << "': not a slide format OpenSlide reads");
    impl_->osr = openslide_open(filename.c_str());
    ECVL_CHECK(impl_->osr, "OpenSlideImage: '" << filename << "': OpenSlide cannot open it");
    const char* err = openslide_get_error(impl_->osr);
    if (err) {
        const std::string msg = err;
        openslide_close(impl_->osr);
        impl_->osr = nullptr;
        ECVL_FAIL("OpenSlideImage: '" << filename << "': " << msg);
    }
}

OpenSlideImage::~OpenSlideImage() {
    if (impl_ && impl_->osr) openslide_close(impl_->osr);
}

int OpenSlideImage::GetLevelCount() const {
    const int n = openslide_get_level_count(impl_->osr);
    check(impl_->osr, "GetLevelCount", filename_);
    return n;
}

std::vector<std::array<int, 2>> OpenSlideImage::GetLevelsDimensions() const {
    std::vector<std::array<int, 2>> d;
    for (int l = 0; l < GetLevelCount(); ++l) {
        int64_t w = 0, h = 0;
        openslide_get_level_dimensions(impl_->osr, l, &w, &h);
        check(impl_->osr, "GetLevelsDimensions", filename_);
        ECVL_CHECK(w <= std::numeric_limits<int>::max() && h <= std::numeric_limits<int>::max(),
                   "GetLevelsDimensions: '" << filename_ << "': level " << l << " is " << w << "x" << h);
        d.push_back({int(w), int(h)});
    }
    return d;
}

std::vector<double> OpenSlideImage::GetLevelDownsamples() const {
    std::vector<double> d;
    for (int l = 0; l < GetLevelCount(); ++l) {
        d.push_back(openslide_get_level_downsample(impl_->osr, l));
        check(impl_->osr, "GetLevelDownsamples", filename_);
    }
    return d;
}

int OpenSlideImage::GetBestLevelForDownsample(double downsample) const {
    ECVL_CHECK(downsample > 0, "GetBestLevelForDownsample: '" << filename_ << "': downsample must be > 0, got " << downsample);
    const int l = openslide_get_best_level_for_downsample(impl_->osr, downsample);
    check(impl_->osr, "GetBestLevelForDownsample", filename_);
    return l;
}

std::map<std::string, std::string> OpenSlideImage::GetProperties() const {
    std::map<std::string, std::string> props;
    const char* const* names = openslide_get_property_names(impl_->osr);
    check(impl_->osr, "GetProperties", filename_);
    for (; names && *names; ++names) {
        const char* v = openslide_get_property_value(impl_->osr, *names);
        props[*names] = v ? v : "";
    }
    return props;
}

void OpenSlideImage::GetProperties(Image& dst) const {
    for (const auto& [k, v] : GetProperties()) dst.SetMeta(k, v);
}

void OpenSlideImage::ReadRegion(Image& dst, int level, const std::vector<int>& dims) const {
    const int levels = GetLevelCount();
    ECVL_CHECK(level >= 0 && level < levels,
               "ReadRegion: '" << filename_ << "': level " << level << " of a slide with " << levels << " levels");
    ECVL_CHECK(dims.size() == 4 && dims[2] > 0 && dims[3] > 0,
               "ReadRegion: '" << filename_ << "': dims must be {x, y, width, height} with a positive size");
    const size_t n = size_t(dims[2]) * size_t(dims[3]);
    ECVL_CHECK(n <= (size_t(1) << 31), "ReadRegion: '" << filename_ << "': a " << dims[2] << "x" << dims[3]
                                                         << " region is too large for one read; read tiles");
    std::vector<uint32_t> px(n);
    openslide_read_region(impl_->osr, px.data(), dims[0], dims[1], level, dims[2], dims[3]);
    check(impl_->osr, "ReadRegion", filename_);
    Image img = argb_to_bgr(px, dims[2], dims[3]);
    const auto ds = GetLevelDownsamples()[size_t(level)];
    const auto props = GetProperties();
    auto mpp = [&](const char* key) {
        auto it = props.find(key);
        return it == props.end() ? 0.0 : std::strtod(it->second.c_str(), nullptr);
    };
    // spacing in mm when the slide states its microns per pixel
    const double mx = mpp("openslide.mpp-x"), my = mpp("openslide.mpp-y");
    if (mx > 0 && my > 0) img.spacings_ = {float(mx * ds / 1000.0), float(my * ds / 1000.0), 1.0f};
    dst = std::move(img);
}

std::vector<std::string> OpenSlideImage::GetAssociatedImageNames() const {
    std::vector<std::string> names;
    const char* const* n = openslide_get_associated_image_names(impl_->osr);
    check(impl_->osr, "GetAssociatedImageNames", filename_);
    for (; n && *n; ++n) names.emplace_back(*n);
    return names;
}

void OpenSlideImage::GetAssociatedImage(AssociatedImages type, Image& dst) const {
    const char* name = type == AssociatedImages::LABEL ? "label" : type == AssociatedImages::MACRO ? "macro" : "thumbnail";
    const auto names = GetAssociatedImageNames();
    ECVL_CHECK(std::find(names.begin(), names.end(), name) != names.end(),
               "GetAssociatedImage: '" << filename_ << "' has no " << name << " image (it has "
                                       << (names.empty() ? std::string("none") : std::to_string(names.size())) << ")");
    int64_t w = 0, h = 0;
    openslide_get_associated_image_dimensions(impl_->osr, name, &w, &h);
    check(impl_->osr, "GetAssociatedImage", filename_);
    ECVL_CHECK(w > 0 && h > 0 && w * h <= (int64_t(1) << 31),
               "GetAssociatedImage: '" << filename_ << "': " << name << " is " << w << "x" << h);
    std::vector<uint32_t> px(size_t(w * h));
    openslide_read_associated_image(impl_->osr, name, px.data());
    check(impl_->osr, "GetAssociatedImage", filename_);
    dst = argb_to_bgr(px, int(w), int(h));
}

}  // namespace ecvl
