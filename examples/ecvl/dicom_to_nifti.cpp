// A DICOM series (one folder) -> one NIfTI volume, with the orientation carried over: DICOM's
// patient coordinates (LPS) become NIfTI's scanner coordinates (RAS) in the sform.
// Usage: dicom_to_nifti <series folder> <output.nii | output.nii.gz>
#include <cmath>
#include <iostream>
#include <sstream>

#include <ecvl/ecvl.h>

using namespace ecvl;

namespace {
std::vector<double> numbers(const Image& img, const std::string& key) {
    std::vector<double> v;
    auto it = img.meta_.find(key);
    if (it == img.meta_.end()) return v;
    std::stringstream ss(std::get<std::string>(it->second));
    std::string item;
    while (std::getline(ss, item, '\\')) v.push_back(std::stod(item));
    return v;
}
}  // namespace

int main(int argc, char** argv) try {
    if (argc != 3) {
        std::cerr << "usage: dicom_to_nifti <series folder> <output.nii | output.nii.gz>\n";
        return 2;
    }
    Image series;
    DicomReadSeries(argv[1], series);  // "xyzc", slices ordered by position, rescale applied
    ECVL_CHECK(series.dims_[3] == 1, "dicom_to_nifti: colour series are not converted");
    Image vol = View(series, {0, 0, 0, 0}, {-1, -1, -1, 1}).Clone();
    vol.dims_.pop_back();  // drop the c axis of 1: "xyz"
    vol.strides_.pop_back();
    vol.spacings_.pop_back();
    vol.channels_ = "xyz";
    vol.colortype_ = ColorType::none;

    // sform: voxel (i, j, k) -> RAS mm. DICOM gives the first slice's position and the row and
    // column direction cosines in LPS; the slice direction is their cross product.
    const auto o = numbers(series, "ImageOrientationPatient"), p = numbers(series, "ImagePositionPatient");
    if (o.size() == 6 && p.size() == 3) {
        const double r[3] = {o[0], o[1], o[2]}, c[3] = {o[3], o[4], o[5]};
        const double n[3] = {r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0]};
        const double dx = vol.spacings_[0], dy = vol.spacings_[1], dz = vol.spacings_[2];
        const char* rows[] = {"srow_x", "srow_y", "srow_z"};
        for (int a = 0; a < 3; ++a) {
            const double flip = a < 2 ? -1.0 : 1.0;  // LPS -> RAS
            const double m[4] = {flip * r[a] * dx, flip * c[a] * dy, flip * n[a] * dz, flip * p[a]};
            for (int k = 0; k < 4; ++k) vol.SetMeta(rows[a] + std::to_string(k), m[k]);
        }
        vol.SetMeta("sform_code", int64_t(1));  // scanner coordinates
    }
    NiftiWrite(argv[2], vol);

    Image back;  // what a viewer will see
    NiftiRead(argv[2], back);
    double worst = 0;
    for (int z = 0; z < vol.dims_[2]; ++z)
        for (int y = 0; y < vol.dims_[1]; ++y)
            for (int x = 0; x < vol.dims_[0]; ++x) worst = std::max(worst, std::fabs(back.Get({x, y, z}) - vol.Get({x, y, z})));
    std::cout << "series " << argv[1] << ": " << vol.dims_[0] << "x" << vol.dims_[1] << "x" << vol.dims_[2] << " "
              << DataTypeName(vol.elemtype_) << ", spacing " << vol.spacings_[0] << " x " << vol.spacings_[1] << " x "
              << vol.spacings_[2] << " mm -> " << argv[2] << " (read back: max difference " << worst << ")\n";
    return worst == 0 ? 0 : 1;
} catch (const std::exception& e) {
    std::cerr << "dicom_to_nifti: " << e.what() << "\n";
    return 2;
}
