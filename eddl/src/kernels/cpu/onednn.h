// The oneDNN engine and per-thread stream shared by the CPU kernels that use oneDNN primitives.
#pragma once
#include <dnnl.hpp>

#include "eddl/error.h"

#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

namespace eddl::cpu {

using dnnl::memory;
using tag = memory::format_tag;
constexpr auto f32 = memory::data_type::f32;

inline dnnl::engine& onednn_engine() {
    static dnnl::engine e(dnnl::engine::kind::cpu, 0);
    return e;
}

inline dnnl::stream& onednn_stream() {
    thread_local dnnl::stream s(onednn_engine());
    return s;
}

// Channels per block of the layout oneDNN's f32 convolutions compute in on this CPU, asked of
// oneDNN once: 16 (nChw16c) with AVX-512, 8 (nChw8c) with AVX2; 0 if it prefers plain NCHW. Its
// batch normalization and pooling have fast kernels on that block size only (on the other they
// run oneDNN's reference loops, 20x slower), so every blocked tensor uses this one.
inline int block_channels() {
    static const int b = [] {
        const memory::dims act{1, 64, 8, 8};
        try {
            const memory::desc any(act, f32, tag::any);
            const dnnl::convolution_forward::primitive_desc pd(
                dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                                any, memory::desc({64, 64, 3, 3}, f32, tag::any), any, {1, 1},
                                                {1, 1}, {1, 1}),
                onednn_engine());
            for (auto [t, c] : {std::pair{tag::nChw16c, 16}, std::pair{tag::nChw8c, 8}})
                if (pd.dst_desc() == memory::desc(act, f32, t)) return c;
        } catch (const dnnl::error&) {
        }
        return 0;
    }();
    return b;
}

// The blocked activation layout (see block_channels); 2-D [N, C, H, W] with C a whole number of blocks.
inline tag blocked_tag() { return block_channels() == 8 ? tag::nChw8c : tag::nChw16c; }

// The value for `key` in a process-wide cache, made by make() on first use and kept (oneDNN
// primitives take milliseconds to create). Each call site has its own cache: its lambda is its
// own type.
template <class Key, class Make>
const auto& cached(const Key& key, Make make) {
    static std::mutex m;
    static std::map<Key, decltype(make())> cache;
    std::lock_guard<std::mutex> lock(m);
    auto it = cache.find(key);
    if (it == cache.end()) it = cache.emplace(key, make()).first;
    return it->second;
}

// A oneDNN memory over the caller's buffer (oneDNN's handles are not const; inputs are not written).
inline dnnl::memory onednn_mem(const dnnl::memory::desc& d, const void* p) {
    return dnnl::memory(d, onednn_engine(), const_cast<void*>(p));
}

// Runs f, turning a oneDNN failure into an eddl::Error that names the op and the blocked shape.
template <class F>
void onednn_guarded(const char* what, int64_t n, int64_t c, int64_t h, int64_t w, F f) {
    try {
        f();
    } catch (const dnnl::error& e) {
        EDDL_FAIL(what << " on blocked " << n << "x" << c << "x" << h << "x" << w << " failed in oneDNN: " << e.what());
    }
}

// `b` holding at least n floats: scratch for a primitive to write when the caller accumulates.
inline float* grown(std::vector<float>& b, int64_t n) {
    if (int64_t(b.size()) < n) b.resize(size_t(n));
    return b.data();
}

}  // namespace eddl::cpu
