// Deterministic random numbers: every stream is derived from (seed, purpose, index), so a
// draw never depends on thread count or on what else drew before it.
#pragma once
#include <cmath>
#include <cstdint>

namespace eddl {

inline uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/// Seed for stream `a`/`b` of a user seed (e.g. layer index and parameter index).
inline uint64_t derive_seed(uint64_t seed, uint64_t a, uint64_t b = 0) {
    return splitmix64(splitmix64(splitmix64(seed) ^ a) ^ (b * 0x632be59bd9b4e019ULL));
}

/// xoshiro256** with uniform and normal draws defined here, not by the standard library,
/// so the same seed gives the same numbers with any compiler.
class Rng {
public:
    explicit Rng(uint64_t seed) {
        for (auto& s : s_) s = seed = splitmix64(seed);
    }
    uint64_t next() {
        const uint64_t r = rotl(s_[1] * 5, 7) * 9, t = s_[1] << 17;
        s_[2] ^= s_[0]; s_[3] ^= s_[1]; s_[1] ^= s_[2]; s_[0] ^= s_[3];
        s_[2] ^= t; s_[3] = rotl(s_[3], 45);
        return r;
    }
    double uniform() { return double(next() >> 11) * 0x1.0p-53; }  ///< [0, 1)
    float uniform(float lo, float hi) { return lo + float(uniform()) * (hi - lo); }
    double normal() {  ///< Box-Muller, N(0, 1)
        if (has_spare_) { has_spare_ = false; return spare_; }
        double u1 = uniform(), u2 = uniform();
        if (u1 < 1e-300) u1 = 1e-300;
        const double r = std::sqrt(-2.0 * std::log(u1)), th = 6.283185307179586 * u2;
        spare_ = r * std::sin(th);
        has_spare_ = true;
        return r * std::cos(th);
    }
    uint64_t below(uint64_t n) { return n ? next() % n : 0; }  ///< [0, n)

private:
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    uint64_t s_[4];
    double spare_ = 0;
    bool has_spare_ = false;
};

}  // namespace eddl
