// Connected components labelling, native (no OpenCV).
//
// 8-connectivity scans 2x2 blocks, as the block-based algorithms of Grana et al. and Bolelli et
// al.'s Spaghetti do: the four pixels of a block are always 8-connected, so a block is labelled as
// a unit and only its neighbour blocks P (up-left), Q (up), R (up-right) and S (left) are looked
// at. Here the condition that joins each neighbour is computed for 32 blocks at once with bit
// operations on packed rows, so empty blocks cost nothing and a foreground block a few branches.
// 4-connectivity joins the runs of each row to the overlapping runs of the row above.
// Equivalences live in a union-find whose roots are the smaller labels, so the final labels follow
// the scan order (of 2x2 blocks for 8-connectivity, of pixels for 4), as OpenCV's do. Statistics are gathered per
// block or per run in the second pass, never per pixel.
#include <algorithm>
#include <cstring>

#include "ecvl/imgproc.h"
#include "imgproc/binary.h"

namespace ecvl {
namespace {

using detail::BitRows;

constexpr uint64_t kEven = 0x5555555555555555ull;

struct UnionFind {
    std::vector<int32_t> parent;
    int32_t n = 1;  // 0 is the background
    explicit UnionFind(size_t capacity) : parent(capacity + 1) {}
    int32_t make() {
        parent[n] = n;
        return n++;
    }
    int32_t find(int32_t x) {
        while (parent[x] != x) x = parent[x] = parent[parent[x]];  // path halving
        return x;
    }
    int32_t merge(int32_t a, int32_t b) {
        a = find(a);
        b = find(b);
        if (a < b) return parent[b] = a;
        return parent[a] = b;
    }
    // Turns parent[] into the final labels 1..k (parents are always smaller than their children,
    // so one ascending sweep resolves every chain). Returns k + 1.
    int32_t flatten() {
        int32_t k = 1;
        for (int32_t i = 1; i < n; ++i) parent[i] = parent[i] < i ? parent[parent[i]] : k++;
        return k;
    }
};

// Pixel count, coordinate sums and bounding box of a set of pixels.
struct Box {
    int64_t area = 0, sx = 0, sy = 0;
    int32_t x0 = INT32_MAX, y0 = INT32_MAX, x1 = -1, y1 = -1;
    void add(int64_t n, int64_t sumx, int64_t sumy, int xa, int ya, int xb, int yb) {
        area += n;
        sx += sumx;
        sy += sumy;
        x0 = std::min(x0, xa);
        y0 = std::min(y0, ya);
        x1 = std::max(x1, xb);
        y1 = std::max(y1, yb);
    }
    void add(const Box& o) { add(o.area, o.sx, o.sy, o.x0, o.y0, o.x1, o.y1); }
};

struct StatsAcc {
    std::vector<Box> box;
    explicit StatsAcc(int n) : box(size_t(n)) {}
    std::vector<ComponentStats> finish(const BitRows& br) const {
        const int w = br.w, h = br.h;
        std::vector<ComponentStats> out(box.size());
        int64_t fg = 0;
        double bsx = 0, bsy = 0;
        for (size_t l = 1; l < out.size(); ++l) {
            const Box& b = box[l];
            out[l] = {b.x0, b.y0, b.x1 - b.x0 + 1, b.y1 - b.y0 + 1, b.area, double(b.sx) / double(b.area), double(b.sy) / double(b.area)};
            fg += b.area;
            bsx += double(b.sx);
            bsy += double(b.sy);
        }
        // The background: everything else. Its box spans the rows that are not all foreground and
        // the columns that are not (the AND of all rows).
        const int64_t bg = int64_t(w) * h - fg;
        const double all_x = double(w - 1) * w / 2 * h, all_y = double(h - 1) * h / 2 * w;
        ComponentStats& b = out[0];
        b = {0, 0, 0, 0, bg, bg ? (all_x - bsx) / double(bg) : 0, bg ? (all_y - bsy) / double(bg) : 0};
        if (!bg) return out;
        const int full = w / 64;
        const uint64_t tail = w % 64 ? (uint64_t(1) << (w % 64)) - 1 : 0;
        std::vector<uint64_t> all_fg(size_t(br.words), ~uint64_t(0));
        int ya = h, yb = -1;
        for (int y = 0; y < h; ++y) {
            const uint64_t* r = br.row(y);
            bool any_bg = tail && (r[full] & tail) != tail;
            for (int i = 0; i < full; ++i) any_bg |= ~r[i] != 0, all_fg[size_t(i)] &= r[i];
            if (tail) all_fg[size_t(full)] &= r[full] | ~tail;
            if (any_bg) ya = std::min(ya, y), yb = y;
        }
        int xa = w, xb = -1;
        for (int x = 0; x < w; ++x)
            if (!(all_fg[size_t(x / 64)] >> (x % 64) & 1)) xa = std::min(xa, x), xb = x;
        b.x = xa;
        b.y = ya;
        b.width = xb - xa + 1;
        b.height = yb - ya + 1;
        return out;
    }
};

// ---- 8-connectivity: 2x2 blocks ----

// Sum of the positions of the set bits of w: bit i of each position, counted.
inline int64_t bit_position_sum(uint64_t w) {
    return __builtin_popcountll(w & 0xAAAAAAAAAAAAAAAAull) + 2 * __builtin_popcountll(w & 0xCCCCCCCCCCCCCCCCull) +
           4 * __builtin_popcountll(w & 0xF0F0F0F0F0F0F0F0ull) + 8 * __builtin_popcountll(w & 0xFF00FF00FF00FF00ull) +
           16 * __builtin_popcountll(w & 0xFFFF0000FFFF0000ull) + 32 * __builtin_popcountll(w & 0xFFFFFFFF00000000ull);
}

// Stats: the statistics of each segment (pixel counts and sums by popcount) are added to its
// provisional label in the first pass, and the provisional labels' to the final ones at the end.
// Built twice, with and without the popcnt instruction, chosen when the library loads.
// (ThreadSanitizer builds take the portable one only: the loader runs the choosing function while
// it relocates the library, before ThreadSanitizer has started, which crashes.)
#if defined(__SANITIZE_THREAD__)
#define ECVL_POPCNT_CLONES
#else
#define ECVL_POPCNT_CLONES __attribute__((target_clones("popcnt", "default")))
#endif
template <bool Stats>
ECVL_POPCNT_CLONES
int label8(const BitRows& br, uint8_t* out, int64_t ostride, std::vector<ComponentStats>* stats) {
    const int W = br.w, H = br.h, nbx = (W + 1) / 2, nby = (H + 1) / 2;
    // Block labels, one row of zeros above the first so the first block row has a "row above".
    std::vector<int32_t> blocks(size_t(nby + 1) * size_t(nbx), 0);
    UnionFind uf(size_t(nbx) * size_t(nby));
    std::vector<Box> prov(Stats ? 1 : 0);  // per provisional label
    if constexpr (Stats) prov.reserve(size_t(nbx) * size_t(nby) + 1);  // address space only; no copies as it grows
    const auto join = [&uf](int32_t l, int32_t other) { return !l || l == other ? other : uf.merge(l, other); };
    for (int i = 0; i < nby; ++i) {
        const uint64_t *u = br.row(2 * i - 1), *a = br.row(2 * i), *c = br.row(2 * i + 1);
        const int32_t* prev = blocks.data() + size_t(i) * nbx;
        int32_t* cur = blocks.data() + size_t(i + 1) * nbx;
        uint64_t carry_u = 0, carry_ac = 0;  // bit 63 of the previous word, for the x - 1 neighbours
        for (int wd = 0; wd + 1 < br.words; ++wd) {
            const uint64_t uw = u[wd], aw = a[wd], cw = c[wd], ac = aw | cw;
            const uint64_t u_left = uw << 1 | carry_u, ac_left = ac << 1 | carry_ac;
            carry_u = uw >> 63;
            carry_ac = ac >> 63;
            // Bit x (even) describes the block whose top-left pixel is x: A = a[x], B = a[x+1], C = c[x], D = c[x+1].
            const uint64_t fg = (ac | ac >> 1) & kEven;
            if (!fg) continue;
            const uint64_t q = (aw | aw >> 1) & (uw | uw >> 1) & kEven;   // (A|B) & (u[x]|u[x+1])
            const uint64_t s = ac & ac_left & kEven;                       // (A|C) & (a[x-1]|c[x-1])
            uint64_t p = aw & u_left & kEven;                              // A & u[x-1]
            uint64_t r = aw >> 1 & (uw >> 2 | u[wd + 1] << 62) & kEven;    // B & u[x+2]
            // P (R) already belongs to Q's component when Q's pixel next to it, u[x] (u[x+1]), is set.
            p &= ~(q & uw);
            r &= ~(q & uw >> 1);
            // Segments: runs of foreground blocks each joined to its left neighbour are one
            // component; a segment is joined once to each distinct label among the blocks above it
            // touches (inside a region, usually one).
            const int j0 = wd * 32;
            const uint64_t breaks = (fg & ~s) | (~fg & kEven);  // a segment starts, or no block
            for (uint64_t rem = fg; rem;) {
                const int k = __builtin_ctzll(rem);
                const uint64_t after = breaks & (~uint64_t(0) << k << 1);
                const int e = after ? __builtin_ctzll(after) : 64;
                const uint64_t seg = (e == 64 ? ~uint64_t(0) : (uint64_t(1) << e) - 1) & (~uint64_t(0) << k);
                rem &= ~seg;
                int32_t l = k == 0 && (s & 1) ? cur[j0 - 1] : 0;  // continues the previous word's segment
                if (p & seg & 1) l = join(l, prev[j0 - 1]);
                if (e == 64 && (r >> 62 & 1)) l = join(l, prev[j0 + 32]);
                const uint64_t above = (q & seg) | (p & seg) >> 2 | (r & seg) << 2;  // bit 2t: block j0 + t above
                int32_t last = 0;
                for (uint64_t m = above; m; m &= m - 1) {
                    const int32_t o = prev[j0 + __builtin_ctzll(m) / 2];
                    if (o != last) l = join(l, last = o);
                }
                if (!l) {
                    l = uf.make();
                    if constexpr (Stats) prov.emplace_back();
                }
                std::fill(cur + j0 + k / 2, cur + j0 + (e + 1) / 2, l);
                if constexpr (Stats) {
                    const uint64_t pa = aw & seg, pc = cw & seg, both = pa | pc;
                    const int na = __builtin_popcountll(pa), nc = __builtin_popcountll(pc), x = 64 * wd;
                    prov[size_t(l)].add(na + nc, int64_t(x) * (na + nc) + bit_position_sum(pa) + bit_position_sum(pc),
                                        int64_t(2 * i) * (na + nc) + nc, x + __builtin_ctzll(both), pa ? 2 * i : 2 * i + 1,
                                        x + 63 - __builtin_clzll(both), pc ? 2 * i + 1 : 2 * i);
                }
            }
        }
    }
    const int32_t n = uf.flatten();
    const int32_t* lut = uf.parent.data();
    // Second pass: each pixel takes its block's final label when it is foreground; one label
    // lookup per block serves its four pixels. A missing last row (odd height) goes to a scratch row.
    std::vector<int32_t> scratch(size_t(W) + 1);
    for (int i = 0; i < nby; ++i) {
        const int32_t* blk = blocks.data() + size_t(i + 1) * nbx;
        const uint64_t *a = br.row(2 * i), *c = br.row(2 * i + 1);
        int32_t* o0 = reinterpret_cast<int32_t*>(out + 2 * i * ostride);
        int32_t* o1 = 2 * i + 1 < H ? reinterpret_cast<int32_t*>(out + (2 * i + 1) * ostride) : scratch.data();
        for (int wd = 0; wd * 64 < W; ++wd) {
            const int x0 = wd * 64, n = std::min(W - x0, 64);
            const uint64_t aw = a[wd], cw = c[wd];
            if (!(aw | cw)) {
                std::memset(o0 + x0, 0, size_t(n) * 4);
                std::memset(o1 + x0, 0, size_t(n) * 4);
                continue;
            }
            const int32_t* bl = blk + x0 / 2;
            if (n == 64 && !~aw && !~cw) {  // 32 full blocks, often all of one component
                int32_t diff = 0;
                for (int j = 1; j < 32; ++j) diff |= bl[j] ^ bl[0];
                if (!diff) {
                    std::fill(o0 + x0, o0 + x0 + 64, lut[bl[0]]);
                    std::fill(o1 + x0, o1 + x0 + 64, lut[bl[0]]);
                    continue;
                }
            }
            int k = 0;
            for (; k + 1 < n; k += 2) {
                const int32_t l = lut[bl[k / 2]];
                o0[x0 + k] = -int32_t(aw >> k & 1) & l;
                o0[x0 + k + 1] = -int32_t(aw >> (k + 1) & 1) & l;
                o1[x0 + k] = -int32_t(cw >> k & 1) & l;
                o1[x0 + k + 1] = -int32_t(cw >> (k + 1) & 1) & l;
            }
            if (k < n) {  // odd width: the last block's left column
                const int32_t l = lut[bl[k / 2]];
                o0[x0 + k] = -int32_t(aw >> k & 1) & l;
                o1[x0 + k] = -int32_t(cw >> k & 1) & l;
            }
        }
    }
    if constexpr (Stats) {
        StatsAcc acc(n);
        for (int32_t t = 1; t < uf.n; ++t) acc.box[size_t(lut[t])].add(prov[size_t(t)]);
        *stats = acc.finish(br);
    }
    return n;
}

// ---- 4-connectivity: runs ----

struct Run {
    int start, end;  // [start, end)
    int32_t label;
};

// Appends the runs of foreground of one packed row.
void row_runs(const uint64_t* bits, int words, std::vector<Run>& runs) {
    int wd = 0;
    uint64_t w = bits[0];
    while (true) {
        while (!w) {
            if (++wd >= words) return;
            w = bits[wd];
        }
        const int start = wd * 64 + __builtin_ctzll(w);
        // The run ends at the first clear bit at or after start (the last word is always clear).
        w = ~w & (~uint64_t(0) << (start & 63));
        while (!w) w = ~bits[++wd];
        const int end = wd * 64 + __builtin_ctzll(w);
        runs.push_back({start, end, 0});
        w = ~w & (~uint64_t(0) << (end & 63));
    }
}

int label4(const BitRows& br, uint8_t* out, int64_t ostride, std::vector<ComponentStats>* stats) {
    const int W = br.w, H = br.h;
    std::vector<Run> runs;
    std::vector<size_t> first(size_t(H) + 1);
    for (int y = 0; y < H; ++y) {
        first[y] = runs.size();
        row_runs(br.row(y), br.words, runs);
    }
    first[H] = runs.size();
    UnionFind uf(runs.size());
    for (int y = 0; y < H; ++y) {
        size_t k = y ? first[y - 1] : 0;
        const size_t kend = y ? first[y] : 0;
        for (size_t i = first[y]; i < first[y + 1]; ++i) {
            Run& r = runs[i];
            while (k < kend && runs[k].end <= r.start) ++k;  // above runs entirely to the left
            int32_t l = 0;
            for (size_t m = k; m < kend && runs[m].start < r.end; ++m) l = l ? uf.merge(l, runs[m].label) : runs[m].label;
            r.label = l ? l : uf.make();
        }
    }
    const int32_t n = uf.flatten();
    for (int y = 0; y < H; ++y) {
        int32_t* o = reinterpret_cast<int32_t*>(out + y * ostride);
        std::memset(o, 0, size_t(W) * 4);
        for (size_t i = first[y]; i < first[y + 1]; ++i) std::fill(o + runs[i].start, o + runs[i].end, uf.parent[runs[i].label]);
    }
    if (stats) {
        StatsAcc acc(n);
        for (int y = 0; y < H; ++y)
            for (size_t i = first[y]; i < first[y + 1]; ++i) {
                const Run& r = runs[i];
                const int64_t len = r.end - r.start;
                acc.box[size_t(uf.parent[r.label])].add(len, (int64_t(r.start) + r.end - 1) * len / 2, int64_t(y) * len, r.start, y, r.end - 1, y);
            }
        *stats = acc.finish(br);
    }
    return n;
}

int ccl(const Image& src, Image& dst, std::vector<ComponentStats>* stats, int connectivity) {
    ECVL_CHECK(connectivity == 4 || connectivity == 8,
               "ConnectedComponentsLabeling: connectivity must be 4 or 8, got " << connectivity);
    const detail::Plane2D p = detail::one_channel_plane(src, "ConnectedComponentsLabeling");
    BitRows br;
    detail::pack_rows(p, br);
    detail::prepare_like(src, dst, DataType::int32);
    const detail::Plane2D o = detail::one_channel_plane(dst, "ConnectedComponentsLabeling");
    uint8_t* out = const_cast<uint8_t*>(o.data);
    if (connectivity == 4) return label4(br, out, o.ystride, stats);
    return stats ? label8<true>(br, out, o.ystride, stats) : label8<false>(br, out, o.ystride, nullptr);
}

}  // namespace

int ConnectedComponentsLabeling(const Image& src, Image& dst, int connectivity) {
    return ccl(src, dst, nullptr, connectivity);
}

int ConnectedComponentsLabeling(const Image& src, Image& dst, std::vector<ComponentStats>& stats, int connectivity) {
    return ccl(src, dst, &stats, connectivity);
}

}  // namespace ecvl
