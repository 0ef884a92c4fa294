// FindContours: Suzuki & Abe's border following (1985), native.
//
// The binary image is copied into a byte image with a one-pixel frame of background, so a border
// never runs off the image: 0 background, 1 foreground not yet on a border, kOn a border pixel,
// kRight a border pixel whose right neighbour is background (the paper's -NBD). The number of the
// border that marked a pixel goes to a side array, written and read only at border pixels, so
// every border has its own number however many there are (OpenCV's 7-bit markers run out at 127
// and it retraces borders to tell them apart). The raster scan stops only where the value changes
// along a row: there an outer border (0 then an unvisited 1) or a hole border (a foreground pixel
// then 0) starts, or a marked border is passed, which is all the parent bookkeeping needs (the
// last border met, LNBD in the paper).
#include <emmintrin.h>

#include <cstring>
#include <memory>

#include "ecvl/imgproc.h"
#include "core/visit.h"
#include "imgproc/binary.h"

namespace ecvl {
namespace {

// The 8 neighbour directions, counter-clockwise on screen (y grows downwards): 0 right, 1 up-right,
// 2 up, 3 up-left, 4 left, 5 down-left, 6 down, 7 down-right.
constexpr int kDx[8] = {1, 1, 0, -1, -1, -1, 0, 1};
constexpr int kDy[8] = {0, -1, -1, -1, 0, 1, 1, 1};
constexpr uint8_t kOn = 2, kRight = 3;

struct Marks {
    uint8_t* f;        // the framed byte image
    int32_t* number;   // border number of each marked pixel (same indexing as f)
    void set(uint8_t* p, uint8_t v, int32_t nbd) {
        *p = v;
        number[p - f] = nbd;
    }
};

// Follows the border through the pixel at p0 ((x, y) in the caller's coordinates), starting
// beside the 0-pixel on its left (outer border) or right (hole border), marking its pixels with
// nbd, or -nbd where the pixel to the right is background (the border's right edge: the raster
// scan must not start a new border there). Appends the border's pixels in order.
void follow(Marks& mk, uint8_t* p0, const ptrdiff_t* d, bool hole, int32_t nbd, int x, int y, std::vector<Point2i>& pts) {
    // Clockwise from the starting 0-pixel, the first foreground neighbour.
    const int start = hole ? 0 : 4;
    int s = start;
    uint8_t* p1;
    do {
        s = (s - 1) & 7;
        p1 = p0 + d[s];
    } while (*p1 == 0 && s != start);
    if (s == start) {  // an isolated pixel
        mk.set(p0, kRight, nbd);
        pts.push_back({x, y});
        return;
    }
    uint8_t* p3 = p0;
    for (;;) {
        // Counter-clockwise from the pixel we came from, the next foreground neighbour: it is
        // found within 8 steps (at worst the pixel we came from). d has 16 entries for the wrap.
        const int came_from = s;
        uint8_t* p4;
        do p4 = p3 + d[++s];
        while (*p4 == 0);
        s &= 7;
        if (unsigned(s - 1) < unsigned(came_from)) mk.set(p3, kRight, nbd);  // passed direction 0: right is background
        else if (*p3 == 1) mk.set(p3, kOn, nbd);
        pts.push_back({x, y});
        x += kDx[s];
        y += kDy[s];
        if (p4 == p0 && p3 == p1) return;  // back at the start, about to repeat the first step
        p3 = p4;
        s = (s + 4) & 7;  // the direction back to where we came from
    }
}

// The first x in [from, end) where r[x] != v, else end; sixteen bytes at a time.
inline int skip_run(const uint8_t* r, int x, int end, uint8_t v) {
    const __m128i pattern = _mm_set1_epi8(char(v));
    for (; x + 16 <= end; x += 16) {
        const int same = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r + x)), pattern));
        if (same != 0xFFFF) return x + __builtin_ctz(~unsigned(same));
    }
    while (x < end && r[x] == v) ++x;
    return x;
}

// The framed 0/1 byte image of the non-zero pixels.
template <class T>
void fill_framed(const detail::Plane2D& p, uint8_t* f, ptrdiff_t step) {
    for (int y = 0; y < p.h; ++y) {
        const uint8_t* src = p.data + y * p.ystride;
        uint8_t* r = f + (y + 1) * step + 1;
        if (p.xstride == sizeof(T)) {
            const T* s = reinterpret_cast<const T*>(src);
            for (int x = 0; x < p.w; ++x) r[x] = s[x] != T(0);
        } else {
            for (int x = 0; x < p.w; ++x) {
                T v;
                std::memcpy(&v, src + x * p.xstride, sizeof(T));
                r[x] = v != T(0);
            }
        }
    }
}

void find_contours(const Image& src, std::vector<std::vector<Point2i>>& contours, std::vector<ContourHierarchy>* hierarchy) {
    const detail::Plane2D p = detail::one_channel_plane(src, "FindContours");
    const int W = p.w, H = p.h;
    const ptrdiff_t step = W + 2;
    const size_t n = size_t(step) * size_t(H + 2);
    // Only the frame is cleared: the fill writes every other byte.
    std::unique_ptr<uint8_t[]> frame(new uint8_t[n]);
    uint8_t* f = frame.get();
    std::memset(f, 0, size_t(step));
    std::memset(f + (H + 1) * step, 0, size_t(step));
    for (int y = 1; y <= H; ++y) f[y * step] = f[y * step + W + 1] = 0;
    detail::visit(p.type, [&](auto t) { fill_framed<decltype(t)>(p, f, step); });
    // Uninitialized on purpose: only marked pixels' entries are ever read, after being written.
    std::unique_ptr<int32_t[]> numbers(new int32_t[n]);
    Marks mk{f, numbers.get()};
    ptrdiff_t d[16];
    for (int i = 0; i < 16; ++i) d[i] = kDx[i & 7] + kDy[i & 7] * step;

    contours.clear();
    // Border number nbd (2, 3, ...) is contour nbd - 2; number 1 is the frame, a hole border.
    std::vector<char> is_hole{0, 1};
    std::vector<int32_t> parent{0, 0};  // by border number; 1 = the frame
    int32_t nbd = 1;
    std::vector<Point2i> scratch;
    for (int y = 1; y <= H; ++y) {
        uint8_t* r = f + y * step;
        int32_t lnbd = 1;
        uint8_t prev = 0;
        for (int x = 1;; ++x) {
            x = skip_run(r, x, W + 2, prev);  // no border starts or is passed inside a run of one value
            if (x > W + 1) break;
            const uint8_t v = r[x];
            int start = 0;
            bool hole = false;
            if (prev == 0 && v == 1) start = x;
            else if (v == 0 && (prev == 1 || prev == kOn)) start = x - 1, hole = true;
            if (start) {
                ++nbd;
                // The new border's parent, from the kind of border it and LNBD are (Suzuki's table 1).
                const bool same_kind = bool(is_hole[size_t(lnbd)]) == hole;
                is_hole.push_back(hole);
                parent.push_back(same_kind ? parent[size_t(lnbd)] : lnbd);
                scratch.clear();  // collected here, then copied once at its final size
                follow(mk, r + start, d, hole, nbd, start - 1, y - 1, scratch);
                contours.emplace_back(scratch.begin(), scratch.end());
                lnbd = nbd;  // the start pixel is now marked by this border
                if (!hole) {
                    prev = r[x];
                    continue;
                }
            } else if (v > 1) {
                lnbd = mk.number[r + x - mk.f];
            }
            prev = v;
        }
    }
    if (hierarchy) {
        const size_t n = contours.size();
        hierarchy->assign(n, {});
        std::vector<int> last_child(n + 1, -1);  // by parent contour + 1 (0: the frame)
        for (size_t k = 0; k < n; ++k) {
            const int par = parent[k + 2] - 2;  // -1: the frame
            ContourHierarchy& h = (*hierarchy)[k];
            h.parent = par;
            int& last = last_child[size_t(par + 1)];
            if (last < 0) {
                if (par >= 0) (*hierarchy)[size_t(par)].first_child = int(k);
            } else {
                (*hierarchy)[size_t(last)].next = int(k);
                h.previous = last;
            }
            last = int(k);
        }
    }
}

}  // namespace

void FindContours(const Image& src, std::vector<std::vector<Point2i>>& contours) {
    find_contours(src, contours, nullptr);
}

void FindContours(const Image& src, std::vector<std::vector<Point2i>>& contours, std::vector<ContourHierarchy>& hierarchy) {
    find_contours(src, contours, &hierarchy);
}

}  // namespace ecvl
