#include "imgproc/binary.h"

#include "core/visit.h"

#include <emmintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ecvl::detail {

Plane2D one_channel_plane(const Image& img, const char* who) {
    ECVL_CHECK(!img.IsEmpty(), who << ": the image is empty");
    const size_t xi = img.channels_.find('x'), yi = img.channels_.find('y');
    ECVL_CHECK(xi != std::string::npos && yi != std::string::npos,
               who << ": needs x and y axes, got channels \"" << img.channels_ << "\"");
    for (size_t a = 0; a < img.dims_.size(); ++a)
        ECVL_CHECK(a == xi || a == yi || img.dims_[a] == 1,
                   who << ": needs a one-channel 2-D image, but axis '" << img.channels_[a] << "' of \"" << img.channels_
                       << "\" has size " << img.dims_[a]);
    return {img.data_, img.dims_[xi], img.dims_[yi], img.strides_[xi], img.strides_[yi], img.elemtype_};
}

namespace {

template <class T>
void pack_typed(const Plane2D& p, BitRows& out, double min_value) {
    const bool nonzero = min_value == 0;
    const T thr = T(min_value);
    for (int y = 0; y < p.h; ++y) {
        const uint8_t* src = p.data + y * p.ystride;
        uint64_t* dst = const_cast<uint64_t*>(out.row(y));
        int x = 0;
        if constexpr (std::is_same_v<T, uint8_t>) {
            if (p.xstride == 1) {  // 64 pixels per word: four SSE2 compares and movemasks
                const __m128i zero = _mm_setzero_si128();
                const __m128i bias = _mm_set1_epi8(char(0x80));
                const int tv = std::clamp(int(std::ceil(min_value)), 1, 255);  // v >= tv  <=>  v > tv - 1, signed after the bias
                const __m128i t = _mm_set1_epi8(char((tv - 1) ^ 0x80));
                for (; x + 64 <= p.w; x += 64) {
                    uint64_t word = 0;
                    for (int k = 0; k < 4; ++k) {
                        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + x + 16 * k));
                        const int m = nonzero ? ~_mm_movemask_epi8(_mm_cmpeq_epi8(v, zero)) & 0xFFFF
                                              : _mm_movemask_epi8(_mm_cmpgt_epi8(_mm_xor_si128(v, bias), t));
                        word |= uint64_t(m) << (16 * k);
                    }
                    dst[x / 64] = word;
                }
            }
        }
        for (; x < p.w; ++x) {
            T v;
            std::memcpy(&v, src + x * p.xstride, sizeof(T));
            if (nonzero ? v != T(0) : v >= thr) dst[x / 64] |= uint64_t(1) << (x % 64);
        }
    }
}

}  // namespace

void pack_rows(const Plane2D& p, BitRows& out, double min_value) {
    out.w = p.w;
    out.h = p.h;
    out.words = (p.w + 63) / 64 + 1;
    out.bits.assign(size_t(p.h + 3) * size_t(out.words), 0);
    detail::visit(p.type, [&](auto t) { pack_typed<decltype(t)>(p, out, min_value); });
}

void prepare_like(const Image& src, Image& dst, DataType t) {
    const bool overlaps = dst.data_ && dst.data_ < src.data_ + src.datasize_ && src.data_ < dst.data_ + dst.datasize_;
    if (dst.IsOwner() && !dst.IsEmpty() && dst.contiguous_ && dst.dims_ == src.dims_ && dst.elemtype_ == t &&
        dst.channels_ == src.channels_ && !overlaps) {
        dst.colortype_ = ColorType::none;
        dst.spacings_ = src.spacings_;
        dst.meta_ = src.meta_;
        return;
    }
    dst = Image(src.dims_, t, src.channels_, ColorType::none, src.spacings_, src.dev_, src.meta_);
}

}  // namespace ecvl::detail
