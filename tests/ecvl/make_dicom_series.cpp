// Test helper: writes a synthetic CT-like DICOM series (int16, rescale -1024, oblique-free axial
// slices 2.5 mm apart, files in shuffled order) into a folder, for the dicom_to_nifti example.
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "ecvl/ecvl.h"

int main(int argc, char** argv) try {
    using namespace ecvl;
    if (argc != 2) return 2;
    std::filesystem::create_directories(argv[1]);
    const int order[] = {4, 1, 7, 0, 3, 6, 2, 5};
    for (int i = 0; i < 8; ++i) {
        const int k = order[i];
        Image s({24, 20, 1}, DataType::int16, "xyc", ColorType::GRAY, {0.8f, 0.8f, 1.0f});
        for (int y = 0; y < 20; ++y)
            for (int x = 0; x < 24; ++x) {
                const int dx = x - 12, dy = y - 10;
                s.At<int16_t>({x, y, 0}) = int16_t(dx * dx + dy * dy < 60 - 5 * std::abs(k - 4) ? 1064 : 24);  // a ball
            }
        s.SetMeta("SeriesInstanceUID", std::string("1.2.826.0.1.3680043.2.1125.7.1"));
        s.SetMeta("ImagePositionPatient", "-9.6\\-8\\" + std::to_string(-20.0 + 2.5 * k));
        s.SetMeta("ImageOrientationPatient", std::string("1\\0\\0\\0\\1\\0"));
        s.SetMeta("RescaleSlope", 1.0);
        s.SetMeta("RescaleIntercept", -1024.0);
        s.SetMeta("Modality", std::string("CT"));
        DicomWrite(std::string(argv[1]) + "/slice_" + std::to_string(i) + ".dcm", s);
    }
    return 0;
} catch (const std::exception& e) {
    std::cerr << "make_dicom_series: " << e.what() << "\n";
    return 2;
}
