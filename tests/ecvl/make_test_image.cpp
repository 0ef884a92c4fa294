// Test helper: writes a 320x240 colour PNG (gradients and a disc) for the read_process_write example.
#include <iostream>

#include "ecvl/ecvl.h"

int main(int argc, char** argv) try {
    using namespace ecvl;
    if (argc != 2) return 2;
    Image img({320, 240, 3}, DataType::uint8, "xyc", ColorType::BGR);
    for (int y = 0; y < 240; ++y)
        for (int x = 0; x < 320; ++x) {
            const bool disc = (x - 160) * (x - 160) + (y - 120) * (y - 120) < 60 * 60;
            img.At<uint8_t>({x, y, 0}) = uint8_t(disc ? 230 : (x * 255) / 320);
            img.At<uint8_t>({x, y, 1}) = uint8_t(disc ? 40 : (y * 255) / 240);
            img.At<uint8_t>({x, y, 2}) = uint8_t(disc ? 40 : 128);
        }
    ImWrite(argv[1], img);
    return 0;
} catch (const std::exception& e) {
    std::cerr << "make_test_image: " << e.what() << "\n";
    return 2;
}
