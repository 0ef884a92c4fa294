// Whole-slide support left out at configure time (ECVL_WITH_OPENSLIDE=OFF): opening says so.
#include "ecvl/openslide.h"

namespace ecvl {
struct OpenSlideImage::Impl {};
OpenSlideImage::OpenSlideImage(const std::string& filename) : filename_(filename) {
    ECVL_FAIL("OpenSlideImage: '" << filename << "': this ECVL was built without OpenSlide (ECVL_WITH_OPENSLIDE=OFF)");
}
OpenSlideImage::~OpenSlideImage() = default;
int OpenSlideImage::GetLevelCount() const { return 0; }
std::vector<std::array<int, 2>> OpenSlideImage::GetLevelsDimensions() const { return {}; }
std::vector<double> OpenSlideImage::GetLevelDownsamples() const { return {}; }
int OpenSlideImage::GetBestLevelForDownsample(double) const { return 0; }
std::map<std::string, std::string> OpenSlideImage::GetProperties() const { return {}; }
void OpenSlideImage::GetProperties(Image&) const {}
void OpenSlideImage::ReadRegion(Image&, int, const std::vector<int>&) const {}
std::vector<std::string> OpenSlideImage::GetAssociatedImageNames() const { return {}; }
void OpenSlideImage::GetAssociatedImage(AssociatedImages, Image&) const {}
}  // namespace ecvl
