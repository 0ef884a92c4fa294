// Skeletonization: Zhang-Suen (1984) and Guo-Hall (1989) parallel thinning, native.
//
// Same iterations as the textbook (and OpenCV's cv::ximgproc::thinning): each sub-iteration
// decides on every pixel from the image as it was when the sub-iteration began, then removes the
// chosen ones; two sub-iterations make an iteration, and thinning stops after an iteration that
// removes nothing. What is faster: pixels are bits, and the rules are evaluated as boolean
// formulas on whole 64-pixel words (bit-sliced counting), and a word is decided again only when
// something in or next to it changed since the last sub-iteration of the same parity.
#include <algorithm>

#include "ecvl/imgproc.h"
#include "imgproc/binary.h"

namespace ecvl {
namespace {

using detail::BitRows;

// Bit-sliced rules: bit x of each word is the pixel x of a row, so one evaluation decides 64
// pixels. n2..n9 are the neighbours numbered as in both papers, clockwise from the top: P2 up,
// P3 up-right, P4 right, P5 down-right, P6 down, P7 down-left, P8 left, P9 up-left.
struct Ring {
    uint64_t p2, p3, p4, p5, p6, p7, p8, p9;
};

// Lanes where exactly one of the terms is set.
template <class... T>
inline uint64_t exactly_one(T... t) {
    uint64_t one = 0, more = 0;
    ((more |= one & t, one |= t), ...);
    return one & ~more;
}

// Zhang-Suen: one 0->1 transition round the ring, 2..6 neighbours set, and the sub-iteration's
// two products of 4-neighbours zero.
inline uint64_t zhang_suen(const Ring& r, int it) {
    const uint64_t a1 = exactly_one(~r.p2 & r.p3, ~r.p3 & r.p4, ~r.p4 & r.p5, ~r.p5 & r.p6, ~r.p6 & r.p7, ~r.p7 & r.p8,
                                    ~r.p8 & r.p9, ~r.p9 & r.p2);
    // Count of the 8 neighbours, bit-sliced: pairs, then quads, then all (c3 c2 c1 c0).
    const uint64_t s0a = r.p2 ^ r.p3, s1a = r.p2 & r.p3, s0b = r.p4 ^ r.p5, s1b = r.p4 & r.p5;
    const uint64_t s0c = r.p6 ^ r.p7, s1c = r.p6 & r.p7, s0d = r.p8 ^ r.p9, s1d = r.p8 & r.p9;
    // quads: (q2 q1 q0) = pair a + pair b, pair c + pair d
    const uint64_t qa0 = s0a ^ s0b, qa_c = s0a & s0b, qa1 = s1a ^ s1b ^ qa_c, qa2 = (s1a & s1b) | ((s1a ^ s1b) & qa_c);
    const uint64_t qb0 = s0c ^ s0d, qb_c = s0c & s0d, qb1 = s1c ^ s1d ^ qb_c, qb2 = (s1c & s1d) | ((s1c ^ s1d) & qb_c);
    const uint64_t c0 = qa0 ^ qb0, k0 = qa0 & qb0;
    const uint64_t c1 = qa1 ^ qb1 ^ k0, k1 = (qa1 & qb1) | ((qa1 ^ qb1) & k0);
    const uint64_t c2 = qa2 ^ qb2 ^ k1, c3 = (qa2 & qb2) | ((qa2 ^ qb2) & k1);
    const uint64_t b_ok = (c1 | c2 | c3) & ~c3 & ~(c2 & c1 & c0);  // 2 <= count <= 6 (not 7, not 8)
    const uint64_t m = it == 0 ? (r.p2 & r.p4 & r.p6) | (r.p4 & r.p6 & r.p8) : (r.p2 & r.p4 & r.p8) | (r.p2 & r.p6 & r.p8);
    return a1 & b_ok & ~m;
}

// Lanes where at least two of a, b, c, d are set.
inline uint64_t two_or_more(uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
    return (a & (b | c | d)) | (b & (c | d)) | (c & d);
}

// Guo-Hall: C(P) = 1, N(P) = min(N1, N2) in 2..3, and the sub-iteration's side condition.
inline uint64_t guo_hall(const Ring& r, int it) {
    const uint64_t c1 = exactly_one(~r.p2 & (r.p3 | r.p4), ~r.p4 & (r.p5 | r.p6), ~r.p6 & (r.p7 | r.p8), ~r.p8 & (r.p9 | r.p2));
    const uint64_t a1 = r.p9 | r.p2, b1 = r.p3 | r.p4, e1 = r.p5 | r.p6, d1 = r.p7 | r.p8;  // N1's terms
    const uint64_t a2 = r.p2 | r.p3, b2 = r.p4 | r.p5, e2 = r.p6 | r.p7, d2 = r.p8 | r.p9;  // N2's terms
    const uint64_t n1_ge2 = two_or_more(a1, b1, e1, d1), n2_ge2 = two_or_more(a2, b2, e2, d2);
    const uint64_t n1_le3 = ~(a1 & b1 & e1 & d1), n2_le3 = ~(a2 & b2 & e2 & d2);
    const uint64_t n_ok = n1_ge2 & n2_ge2 & (n1_le3 | n2_le3);
    const uint64_t m = it == 0 ? (r.p6 | r.p7 | ~r.p9) & r.p8 : (r.p2 | r.p3 | ~r.p5) & r.p4;
    return c1 & n_ok & ~m;
}

}  // namespace

void Skeletonization(const Image& src, Image& dst, ThinningType type) {
    const detail::Plane2D p = detail::one_channel_plane(src, "Skeletonization");
    ECVL_CHECK(p.type == DataType::uint8, "Skeletonization: needs a uint8 image, got " << DataTypeName(p.type));
    const int W = p.w, H = p.h;
    BitRows br;
    detail::pack_rows(p, br, 128);  // OpenCV's thinning divides by 255 with rounding: >= 128 is set
    const int words = br.words;     // the last word of each row is always empty
    uint64_t* bits = br.bits.data() + words;  // row 0
    if (W >= 3 && H >= 3) {
        // Edge pixels are never removed (as OpenCV): a mask of the interior columns.
        std::vector<uint64_t> inner(size_t(words), 0);
        for (int x = 1; x < W - 1; ++x) inner[size_t(x / 64)] |= uint64_t(1) << (x % 64);
        // A word needs deciding again in a sub-iteration only when something in or next to it
        // changed since the last sub-iteration of the same parity looked at it.
        std::vector<uint8_t> dirty[2] = {std::vector<uint8_t>(size_t(H) * words, 1), std::vector<uint8_t>(size_t(H) * words, 1)};
        std::vector<uint64_t> removed(size_t(H) * words, 0);
        std::vector<int32_t> touched;  // words with removals this sub-iteration
        const bool gh = type == ThinningType::GUOHALL;
        for (bool changed = true; changed;) {
            changed = false;
            for (int it = 0; it < 2; ++it) {
                uint8_t* dt = dirty[it].data();
                touched.clear();
                for (int y = 1; y < H - 1; ++y) {
                    const uint64_t *up = bits + (y - 1) * words, *row = bits + y * words, *dn = bits + (y + 1) * words;
                    for (int wd = 0; wd + 1 < words; ++wd) {
                        const size_t at = size_t(y) * words + wd;
                        if (!dt[at]) continue;
                        dt[at] = 0;
                        const uint64_t c = row[wd] & inner[size_t(wd)];
                        if (!c) continue;
                        // Neighbour x+1 is bit x of the word shifted right (with the next word's bit 0),
                        // neighbour x-1 the word shifted left (with the previous word's bit 63).
                        const auto right = [wd](const uint64_t* r) { return r[wd] >> 1 | r[wd + 1] << 63; };
                        const auto left = [wd](const uint64_t* r) { return r[wd] << 1 | (wd ? r[wd - 1] >> 63 : 0); };
                        const Ring ring{up[wd], right(up), right(row), right(dn), dn[wd], left(dn), left(row), left(up)};
                        const uint64_t del = c & (gh ? guo_hall(ring, it) : zhang_suen(ring, it));
                        if (del) removed[at] = del, touched.push_back(int32_t(at));
                    }
                }
                if (touched.empty()) continue;
                changed = true;
                for (const int32_t at : touched) {
                    const int y = at / words, wd = at % words;
                    bits[at] &= ~removed[size_t(at)];
                    removed[size_t(at)] = 0;
                    for (int yy = std::max(1, y - 1); yy <= std::min(H - 2, y + 1); ++yy)
                        for (int ww = std::max(0, wd - 1); ww <= std::min(words - 2, wd + 1); ++ww)
                            dirty[0][size_t(yy) * words + ww] = dirty[1][size_t(yy) * words + ww] = 1;
                }
            }
        }
    }
    detail::prepare_like(src, dst, DataType::uint8);
    dst.colortype_ = src.colortype_;
    const detail::Plane2D o = detail::one_channel_plane(dst, "Skeletonization");
    for (int y = 0; y < H; ++y) {
        uint8_t* d = const_cast<uint8_t*>(o.data) + y * o.ystride;
        const uint64_t* r = bits + y * words;
        for (int x = 0; x < W; ++x) d[x * o.xstride] = r[x / 64] >> (x % 64) & 1 ? 255 : 0;
    }
}

}  // namespace ecvl
