// Read an image, process it and write the results: ECVL's read -> process -> write round
// (the paper's Section III). Usage: read_process_write <input image> <output folder>
// Writes resized.png, rotated.png, blurred.png, gray.png and hsv.tiff into the folder.
#include <filesystem>
#include <iostream>

#include <ecvl/ecvl.h>

using namespace ecvl;

int main(int argc, char** argv) try {
    if (argc != 3) {
        std::cerr << "usage: read_process_write <input image> <output folder>\n";
        return 2;
    }
    const std::filesystem::path out = argv[2];
    std::filesystem::create_directories(out);

    Image img;
    ImRead(argv[1], img);  // planar "xyc", BGR
    std::cout << argv[1] << ": " << img.Width() << "x" << img.Height() << ", " << img.Channels() << " channel(s), "
              << DataTypeName(img.elemtype_) << ", " << ColorTypeName(img.colortype_) << "\n";

    Image resized, rotated, blurred, gray, hsv;
    ResizeScale(img, resized, {0.5, 0.5});
    Rotate2D(resized, rotated, 30.0);
    GaussianBlur(rotated, blurred, 2.0);
    ChangeColorSpace(img, gray, ColorType::GRAY);
    Threshold(gray, gray, 128, 255);
    Image f;  // HSV in floating point: H in degrees, S and V in [0, 1]
    ConvertTo(img, f, DataType::float32);
    for (size_t i = 0; i < f.Elements(); ++i) reinterpret_cast<float*>(f.data_)[i] /= 255.0f;
    ChangeColorSpace(f, hsv, ColorType::HSV);

    ImWrite((out / "resized.png").string(), resized);
    ImWrite((out / "rotated.png").string(), rotated);
    ImWrite((out / "blurred.png").string(), blurred);
    ImWrite((out / "gray.png").string(), gray);
    Image hsv_view = hsv;  // HSV cannot go into an image file as colour: write its planes as grey float TIFF
    hsv_view.colortype_ = ColorType::none;
    ImWrite((out / "hsv.tiff").string(), View(hsv_view, {0, 0, 0}, {-1, -1, 1}));

    Image check;
    ImRead((out / "resized.png").string(), check);
    std::cout << "wrote 5 files to " << out.string() << "; resized.png reads back " << check.Width() << "x"
              << check.Height() << "\n";
    return check.Width() == resized.Width() && check.Height() == resized.Height() ? 0 : 1;
} catch (const std::exception& e) {
    std::cerr << "read_process_write: " << e.what() << "\n";
    return 2;
}
