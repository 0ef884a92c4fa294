// Whole-slide images (Aperio SVS, Hamamatsu, MIRAX, generic tiled TIFF...) through OpenSlide.
#pragma once
#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ecvl/image.h"

namespace ecvl {

/// The images a slide file may carry besides its pyramid.
enum class AssociatedImages { LABEL, MACRO, THUMBNAIL };

/// An open slide. Levels are the pyramid's resolutions, 0 the full one. Every failure throws an
/// ecvl::Error naming the file: not found, not a format OpenSlide reads, a read error (truncated
/// or corrupt tiles), a level or region out of range.
class OpenSlideImage {
public:
    explicit OpenSlideImage(const std::string& filename);
    ~OpenSlideImage();
    OpenSlideImage(const OpenSlideImage&) = delete;
    OpenSlideImage& operator=(const OpenSlideImage&) = delete;

    int GetLevelCount() const;
    /// {width, height} of every level.
    std::vector<std::array<int, 2>> GetLevelsDimensions() const;
    /// Downsample factor of every level (1 for level 0).
    std::vector<double> GetLevelDownsamples() const;
    /// The level to read for a wanted downsample: the largest whose downsample does not exceed it.
    int GetBestLevelForDownsample(double downsample) const;
    /// All properties (vendor, objective power, microns per pixel, ...), name -> text.
    std::map<std::string, std::string> GetProperties() const;
    /// Copies the properties into dst's metadata (ECVL's spelling).
    void GetProperties(Image& dst) const;
    /// The region {x, y, width, height} of `level`: x and y in level-0 pixels, width and height
    /// in pixels of that level. Returns planar "xyc" BGR uint8 (OpenSlide's premultiplied ARGB
    /// un-premultiplied; fully transparent pixels, outside the scanned area, come back white).
    void ReadRegion(Image& dst, int level, const std::vector<int>& dims) const;
    /// The names of the associated images the file has ("label", "macro", "thumbnail", ...).
    std::vector<std::string> GetAssociatedImageNames() const;
    /// An associated image as "xyc" BGR uint8; throws if the file has none of that kind.
    void GetAssociatedImage(AssociatedImages type, Image& dst) const;
    const std::string& filename() const { return filename_; }

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::string filename_;
};

}  // namespace ecvl
