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
