// 2-D max and average pooling through oneDNN primitives, created once per geometry.
#include <map>
#include <mutex>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/onednn.h"

namespace eddl::cpu {
namespace {

using dnnl::memory;

struct PoolPrims {
    memory::desc src, dst, ws;
    dnnl::pooling_forward fwd;
    dnnl::pooling_backward bwd;
};

const PoolPrims& pool_prims(const PoolGeom& g) {
    static std::mutex m;
    static std::map<PoolGeom, PoolPrims> cache;
    std::lock_guard<std::mutex> lock(m);
    auto it = cache.find(g);
    if (it != cache.end()) return it->second;
    const auto f32 = memory::data_type::f32;
    PoolPrims p;
    p.src = memory::desc({g.n, g.c, g.ih, g.iw}, f32, memory::format_tag::nchw);
    p.dst = memory::desc({g.n, g.c, g.oh, g.ow}, f32, memory::format_tag::nchw);
    const auto algo = g.kind == PoolKind::Max ? dnnl::algorithm::pooling_max
                                              : dnnl::algorithm::pooling_avg_exclude_padding;
    const memory::dims strides{g.sh, g.sw}, kernel{g.kh, g.kw}, pl{g.pt, g.pl}, pr{g.pb, g.pr};
    auto& eng = onednn_engine();
    dnnl::pooling_forward::primitive_desc fpd(
        dnnl::pooling_forward::desc(dnnl::prop_kind::forward_training, algo, p.src, p.dst, strides, kernel, pl, pr), eng);
    p.ws = fpd.workspace_desc();
    p.fwd = dnnl::pooling_forward(fpd);
    p.bwd = dnnl::pooling_backward(dnnl::pooling_backward::primitive_desc(
        dnnl::pooling_backward::desc(algo, p.src, p.dst, strides, kernel, pl, pr), eng, fpd));
    return cache.emplace(g, std::move(p)).first->second;
}

memory mem(const memory::desc& d, const void* p) { return memory(d, onednn_engine(), const_cast<void*>(p)); }

template <class F>
void guarded(const PoolGeom& g, const char* what, F f) {
    try {
        f();
    } catch (const dnnl::error& e) {
        EDDL_FAIL(what << " (" << g.n << "x" << g.c << "x" << g.ih << "x" << g.iw << ", window " << g.kh << "x" << g.kw
                       << ") failed in oneDNN: " << e.what());
    }
}

}  // namespace

int64_t pool2d_workspace(const PoolGeom& g) {
    int64_t bytes = 0;
    guarded(g, "pool2d", [&] { bytes = int64_t(pool_prims(g).ws.get_size()); });
    return (bytes + 3) / 4;
}

void pool2d(const PoolGeom& g, const float* src, float* dst, float* ws) {
    guarded(g, "pool2d", [&] {
        const PoolPrims& p = pool_prims(g);
        std::unordered_map<int, memory> args{{DNNL_ARG_SRC, mem(p.src, src)}, {DNNL_ARG_DST, mem(p.dst, dst)}};
        if (p.ws.get_size()) args.insert({DNNL_ARG_WORKSPACE, mem(p.ws, ws)});
        p.fwd.execute(onednn_stream(), args);
        onednn_stream().wait();
    });
}

void pool2d_backward(const PoolGeom& g, const float* ddst, const float* ws, float* dsrc, bool accumulate) {
    guarded(g, "pool2d backward", [&] {
        const PoolPrims& p = pool_prims(g);
        const int64_t n = int64_t(g.n) * g.c * g.ih * g.iw;
        thread_local std::vector<float> buf;
        if (accumulate && int64_t(buf.size()) < n) buf.resize(size_t(n));
        float* out = accumulate ? buf.data() : dsrc;
        std::unordered_map<int, memory> args{{DNNL_ARG_DIFF_DST, mem(p.dst, ddst)}, {DNNL_ARG_DIFF_SRC, mem(p.src, out)}};
        if (p.ws.get_size()) args.insert({DNNL_ARG_WORKSPACE, mem(p.ws, ws)});
        p.bwd.execute(onednn_stream(), args);
        onednn_stream().wait();
        if (accumulate) axpby(1.0f, out, 1.0f, dsrc, n);
    });
}

}  // namespace eddl::cpu
