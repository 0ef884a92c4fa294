// Internal: one-channel 2-D planes of any element type seen as binary images, for the native shape
// analysis (labelling, contours, thinning).
#pragma once
#include <cstdint>
#include <vector>

#include "ecvl/image.h"

namespace ecvl::detail {

/// The x-y plane of a one-channel image: "xy", or "xyc"/"cxy"/"xyz"... with every other axis of size 1.
struct Plane2D {
    const uint8_t* data = nullptr;
    int w = 0, h = 0;
    int64_t xstride = 0, ystride = 0;  // bytes
    DataType type = DataType::none;
};
Plane2D one_channel_plane(const Image& img, const char* who);

/// Foreground as bits: bit x of word x / 64 of row y. Rows -1, h and h + 1 exist and are empty, as
/// does the word after each row's last, so neighbour reads need no bounds checks.
struct BitRows {
    int w = 0, h = 0, words = 0;  // words per row, including the empty one at the end
    std::vector<uint64_t> bits;
    const uint64_t* row(int y) const { return bits.data() + size_t(y + 1) * size_t(words); }
};
/// Pixels != 0 (min_value 0) or >= min_value are foreground.
void pack_rows(const Plane2D& p, BitRows& out, double min_value = 0);

/// dst ready to hold an image of src's dims and channels in type t: reused when it already owns
/// contiguous memory of that shape and type that is not src's, else newly allocated.
void prepare_like(const Image& src, Image& dst, DataType t);

}  // namespace ecvl::detail
