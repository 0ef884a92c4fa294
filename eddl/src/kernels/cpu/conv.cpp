// 2-D convolution (forward, backward-data, backward-weights) through oneDNN primitives, created
// once per geometry and reused for every batch of that shape. No im2col.
#include <map>
#include <mutex>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/onednn.h"

namespace eddl::cpu {
namespace {

using dnnl::memory;
using tag = memory::format_tag;

struct ConvPrims {
    memory::desc src, wei, bia, dst;
    dnnl::convolution_forward fwd;
    dnnl::convolution_backward_data bwd_data;
    dnnl::convolution_backward_weights bwd_weights;
};

const ConvPrims& conv_prims(const ConvGeom& g, bool bias) {
    static std::mutex m;
    static std::map<std::pair<ConvGeom, bool>, ConvPrims> cache;
    std::lock_guard<std::mutex> lock(m);
    const auto key = std::make_pair(g, bias);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
    const auto f32 = memory::data_type::f32;
    ConvPrims p;
    p.src = memory::desc({g.n, g.ic, g.ih, g.iw}, f32, tag::nchw);
    p.dst = memory::desc({g.n, g.oc, g.oh, g.ow}, f32, tag::nchw);
    p.wei = g.groups == 1 ? memory::desc({g.oc, g.ic, g.kh, g.kw}, f32, tag::oihw)
                          : memory::desc({g.groups, g.oc / g.groups, g.ic / g.groups, g.kh, g.kw}, f32, tag::goihw);
    p.bia = bias ? memory::desc({g.oc}, f32, tag::x) : memory::desc();
    const memory::dims strides{g.sh, g.sw}, dil{g.dh - 1, g.dw - 1}, pl{g.pt, g.pl}, pr{g.pb, g.pr};
    const auto algo = dnnl::algorithm::convolution_direct;
    auto& eng = onednn_engine();
    dnnl::convolution_forward::primitive_desc fpd(
        dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, algo, p.src, p.wei, p.bia, p.dst, strides,
                                        dil, pl, pr),
        eng);
    p.fwd = dnnl::convolution_forward(fpd);
    p.bwd_data = dnnl::convolution_backward_data(dnnl::convolution_backward_data::primitive_desc(
        dnnl::convolution_backward_data::desc(algo, p.src, p.wei, p.dst, strides, dil, pl, pr), eng, fpd));
    p.bwd_weights = dnnl::convolution_backward_weights(dnnl::convolution_backward_weights::primitive_desc(
        dnnl::convolution_backward_weights::desc(algo, p.src, p.wei, p.bia, p.dst, strides, dil, pl, pr), eng, fpd));
    return cache.emplace(key, std::move(p)).first->second;
}

memory mem(const memory::desc& d, const float* p) { return memory(d, onednn_engine(), const_cast<float*>(p)); }

// oneDNN overwrites its outputs; accumulation goes through a per-thread scratch buffer.
float* scratch(size_t n, int which) {
    thread_local std::vector<float> bufs[2];
    if (bufs[which].size() < n) bufs[which].resize(n);
    return bufs[which].data();
}

int64_t weight_size(const ConvGeom& g) { return int64_t(g.oc) * (g.ic / g.groups) * g.kh * g.kw; }

template <class F>
void guarded(const ConvGeom& g, const char* what, F f) {
    try {
        f();
    } catch (const dnnl::error& e) {
        EDDL_FAIL(what << " (" << g.n << "x" << g.ic << "x" << g.ih << "x" << g.iw << " -> " << g.oc << " filters "
                       << g.kh << "x" << g.kw << ") failed in oneDNN: " << e.what());
    }
}

}  // namespace

void conv2d(const ConvGeom& g, const float* src, const float* w, const float* b, float* dst) {
    guarded(g, "conv2d", [&] {
        const ConvPrims& p = conv_prims(g, b != nullptr);
        std::unordered_map<int, memory> args{{DNNL_ARG_SRC, mem(p.src, src)},
                                             {DNNL_ARG_WEIGHTS, mem(p.wei, w)},
                                             {DNNL_ARG_DST, mem(p.dst, dst)}};
        if (b) args.insert({DNNL_ARG_BIAS, mem(p.bia, b)});
        p.fwd.execute(onednn_stream(), args);
        onednn_stream().wait();
    });
}

void conv2d_backward_data(const ConvGeom& g, const float* w, const float* ddst, float* dsrc, bool accumulate) {
    guarded(g, "conv2d backward data", [&] {
        const ConvPrims& p = conv_prims(g, false);
        const int64_t n = int64_t(g.n) * g.ic * g.ih * g.iw;
        float* out = accumulate ? scratch(size_t(n), 0) : dsrc;
        p.bwd_data.execute(onednn_stream(), {{DNNL_ARG_DIFF_DST, mem(p.dst, ddst)},
                                              {DNNL_ARG_WEIGHTS, mem(p.wei, w)},
                                              {DNNL_ARG_DIFF_SRC, mem(p.src, out)}});
        onednn_stream().wait();
        if (accumulate) axpby(1.0f, out, 1.0f, dsrc, n);
    });
}

void conv2d_backward_weights(const ConvGeom& g, const float* src, const float* ddst, float* dw, float* db,
                             bool accumulate) {
    guarded(g, "conv2d backward weights", [&] {
        const ConvPrims& p = conv_prims(g, db != nullptr);
        const int64_t nw = weight_size(g);
        float* ow = accumulate ? scratch(size_t(nw), 0) : dw;
        float* ob = db && accumulate ? scratch(size_t(g.oc), 1) : db;
        std::unordered_map<int, memory> args{{DNNL_ARG_SRC, mem(p.src, src)},
                                             {DNNL_ARG_DIFF_DST, mem(p.dst, ddst)},
                                             {DNNL_ARG_DIFF_WEIGHTS, mem(p.wei, ow)}};
        if (db) args.insert({DNNL_ARG_DIFF_BIAS, mem(p.bia, ob)});
        p.bwd_weights.execute(onednn_stream(), args);
        onednn_stream().wait();
        if (accumulate) {
            axpby(1.0f, ow, 1.0f, dw, nw);
            if (db) axpby(1.0f, ob, 1.0f, db, g.oc);
        }
    });
}

}  // namespace eddl::cpu
