// Convolution, 2-D and 3-D (1-D is 2-D with H = 1), forward, backward-data and backward-weights,
// through oneDNN primitives created once per geometry and reused for every batch of that shape.
// No im2col.
#include <deque>
#include <map>
#include <tuple>
#include <type_traits>
#include <mutex>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/onednn.h"

namespace eddl::cpu {
namespace {

// Plain (NCHW / OIHW) descriptions of the user's buffers, and primitives whose src, weights and
// dst formats oneDNN chooses (blocked layouts run its direct JIT kernels, several times faster
// than the GEMM path it takes on plain layouts). Reorders convert at the boundary.
// Transposed = deconvolution: same descriptors and argument names in oneDNN, other primitives.
template <bool Transposed>
struct ConvPrims {
    using Fwd = std::conditional_t<Transposed, dnnl::deconvolution_forward, dnnl::convolution_forward>;
    using BwdData = std::conditional_t<Transposed, dnnl::deconvolution_backward_data, dnnl::convolution_backward_data>;
    using BwdWeights =
        std::conditional_t<Transposed, dnnl::deconvolution_backward_weights, dnnl::convolution_backward_weights>;
    memory::desc src, wei, bia, dst;
    typename Fwd::primitive_desc fpd;
    typename BwdData::primitive_desc dpd;
    typename BwdWeights::primitive_desc wpd;
    Fwd fwd;
    BwdData bwd_data;
    BwdWeights bwd_weights;
};

template <bool Transposed>
const ConvPrims<Transposed>& conv_prims(const ConvGeom& g, bool bias) {
    using P = ConvPrims<Transposed>;
    return cached(std::make_pair(g, bias), [&] {
        P p;
        // NCHW / NCDHW dims of the user's buffers; weights [oc, ic, k...], [g, oc/g, ic/g, k...] or,
        // transposed, [ic, oc, k...] (PyTorch's ConvTranspose layout)
        const bool vol = g.volumetric();
        auto spatial = [&](int d, int h, int w) { return vol ? memory::dims{d, h, w} : memory::dims{h, w}; };
        auto cat = [](memory::dims a, const memory::dims& b) {
            a.insert(a.end(), b.begin(), b.end());
            return a;
        };
        const memory::dims src_dims = cat({g.n, g.ic}, spatial(g.id, g.ih, g.iw)),
                           dst_dims = cat({g.n, g.oc}, spatial(g.od, g.oh, g.ow)), k = spatial(g.kd, g.kh, g.kw);
        const memory::dims wdims = g.groups == 1 ? cat({g.oc, g.ic}, k) : cat({g.groups, g.oc / g.groups, g.ic / g.groups}, k);
        const tag plain = vol ? tag::ncdhw : tag::nchw;
        const tag wtag = g.groups == 1 ? (Transposed ? (vol ? tag::iodhw : tag::iohw) : (vol ? tag::oidhw : tag::oihw))
                                       : (vol ? tag::goidhw : tag::goihw);
        EDDL_CHECK(!(g.src_blocked || g.dst_blocked) || (!vol && (!g.src_blocked || g.ic % block_channels() == 0) &&
                                                         (!g.dst_blocked || g.oc % block_channels() == 0)),
                   "blocked layout asked for a convolution that cannot have it");
        p.src = memory::desc(src_dims, f32, g.src_blocked ? blocked_tag() : plain);
        p.dst = memory::desc(dst_dims, f32, g.dst_blocked ? blocked_tag() : plain);
        p.wei = memory::desc(wdims, f32, wtag);
        p.bia = bias ? memory::desc({g.oc}, f32, tag::x) : memory::desc();
        const memory::desc src_any(src_dims, f32, tag::any), dst_any(dst_dims, f32, tag::any), wei_any(wdims, f32, tag::any);
        const memory::dims strides = spatial(g.sd, g.sh, g.sw), dil = spatial(g.dd - 1, g.dh - 1, g.dw - 1),
                           pl = spatial(g.pf, g.pt, g.pl), pr = spatial(g.pk, g.pb, g.pr);
        const auto algo = Transposed ? dnnl::algorithm::deconvolution_direct : dnnl::algorithm::convolution_direct;
        auto& eng = onednn_engine();
        p.fpd = typename P::Fwd::primitive_desc(
            typename P::Fwd::desc(dnnl::prop_kind::forward_training, algo, src_any, wei_any, p.bia, dst_any, strides, dil,
                                  pl, pr),
            eng);
        p.dpd = typename P::BwdData::primitive_desc(
            typename P::BwdData::desc(algo, src_any, wei_any, dst_any, strides, dil, pl, pr), eng, p.fpd);
        p.wpd = typename P::BwdWeights::primitive_desc(
            typename P::BwdWeights::desc(algo, src_any, wei_any, p.bia, dst_any, strides, dil, pl, pr), eng, p.fpd);
        p.fwd = typename P::Fwd(p.fpd);
        p.bwd_data = typename P::BwdData(p.dpd);
        p.bwd_weights = typename P::BwdWeights(p.wpd);
        return p;
    });
}

// Per-thread scratch buffers, one per role, grown on demand and kept.
enum Role { kSrc, kWei, kDst, kAcc, kBias, kRoles };
void* scratch(Role r, size_t bytes) {
    thread_local std::vector<float> bufs[kRoles];
    auto& b = bufs[r];
    if (b.size() * sizeof(float) < bytes) b.resize((bytes + sizeof(float) - 1) / sizeof(float));
    return b.data();
}

// The user's plain buffer as `want`: itself when the formats agree, else a reordered copy.
memory as(const memory::desc& user, const float* p, const memory::desc& want, Role r) {
    memory u = onednn_mem(user, p);
    if (want == user) return u;
    memory w(want, onednn_engine(), scratch(r, want.get_size()));
    dnnl::reorder(u, w).execute(onednn_stream(), u, w);
    return w;
}

// A buffer in format `have` for a primitive to write, then copied (or added) into the user's.
struct Out {
    memory user, prim;
    bool accumulate;
    int64_t n;
    void finish() {
        if (prim.get_data_handle() == user.get_data_handle()) return;
        if (!accumulate) {
            dnnl::reorder(prim, user).execute(onednn_stream(), prim, user);
            return;
        }
        onednn_stream().wait();
        float* target = static_cast<float*>(user.get_data_handle());
        const float* add = static_cast<const float*>(prim.get_data_handle());
        if (prim.get_desc() != user.get_desc()) {  // (the same layout needs no conversion first)
            memory tmp(user.get_desc(), onednn_engine(), scratch(kAcc, user.get_desc().get_size()));
            dnnl::reorder(prim, tmp).execute(onednn_stream(), prim, tmp);
            onednn_stream().wait();
            add = static_cast<const float*>(tmp.get_data_handle());
        }
        axpby(1.0f, add, 1.0f, target, n);
    }
};

Out out_as(const memory::desc& user, float* p, const memory::desc& have, Role r, bool accumulate, int64_t n) {
    Out o{onednn_mem(user, p), {}, accumulate, n};
    if (have == user && !accumulate) o.prim = o.user;
    else o.prim = memory(have, onednn_engine(), scratch(r, have.get_size()));
    return o;
}

int64_t weight_size(const ConvGeom& g) { return int64_t(g.oc) * (g.ic / g.groups) * g.kd * g.kh * g.kw; }

template <class F>
void guarded(const ConvGeom& g, const char* what, F f) {
    try {
        f();
    } catch (const dnnl::error& e) {
        const std::string d = g.volumetric() ? std::to_string(g.id) + "x" : "", kd = g.volumetric() ? std::to_string(g.kd) + "x" : "";
        EDDL_FAIL(what << " (" << g.n << "x" << g.ic << "x" << d << g.ih << "x" << g.iw << " -> " << g.oc << " filters "
                       << kd << g.kh << "x" << g.kw << ") failed in oneDNN: " << e.what());
    }
}

// Whether oneDNN has an f32 Winograd kernel on this CPU (AVX-512: yes; AVX2: no).
bool onednn_winograd() {
    static const bool has = [] {
        const memory::desc act({1, 64, 8, 8}, f32, blocked_tag());
        try {
            dnnl::convolution_forward::primitive_desc(
                dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_winograd,
                                                act, memory::desc({64, 64, 3, 3}, f32, tag::any), act, {1, 1}, {1, 1},
                                                {1, 1}),
                onednn_engine());
            return true;
        } catch (const dnnl::error&) {
            return false;
        }
    }();
    return has;
}

// Training runs 3x3 stride-1 layers on our Winograd (forward, backward-data and weight gradient)
// when allowed and oneDNN has none (there its direct kernels are used, as before).
bool winograd_training(const ConvGeom& g) {
    return g.winograd && block_channels() && winograd_f23_fits(g, block_channels()) && !onednn_winograd();
}

// The backward-data convolution of g: the output's gradient convolved with the weights
// transposed and rotated, padding 2 - p.
ConvGeom backward_data_geom(const ConvGeom& g) {
    ConvGeom d = g;
    d.ic = g.oc, d.oc = g.ic, d.ih = g.oh, d.iw = g.ow, d.oh = g.ih, d.ow = g.iw;
    d.pt = 2 - g.pt, d.pb = 2 - g.pb, d.pl = 2 - g.pl, d.pr = 2 - g.pr;
    d.src_blocked = g.dst_blocked, d.dst_blocked = g.src_blocked;
    return d;
}

// Our Winograd convolution with transformed weights U, its tiles' scratch from this thread's buffers.
void run_winograd(const ConvGeom& g, const float* src, const float* U, const float* b, bool relu, float* dst) {
    const int chunk = winograd_f23_chunk(g);
    const size_t tiles = size_t(16) * chunk * sizeof(float);
    winograd_f23(g, block_channels(), src, U, b, relu, dst, static_cast<float*>(scratch(kSrc, tiles * g.ic)),
                 static_cast<float*>(scratch(kDst, tiles * g.oc)), chunk);
}

// dst = our Winograd convolution with weights w (transposed: w is [ic][oc][3][3] rotated, for
// backward data), transformed into scratch at each call (training changes them every step).
void winograd_with(const ConvGeom& g, const float* src, const float* w, bool transposed, const float* b, float* dst) {
    auto* U = static_cast<float*>(scratch(kWei, size_t(winograd_f23_weights_size(g)) * sizeof(float)));
    winograd_f23_weights(g, w, nullptr, U, transposed);
    run_winograd(g, src, U, b, false, dst);
}

template <bool T>
void conv_impl(const ConvGeom& g, const float* src, const float* w, const float* b, float* dst) {
    if constexpr (!T)
        if (winograd_training(g)) return winograd_with(g, src, w, false, b, dst);
    guarded(g, "convolution", [&] {
        const auto& p = conv_prims<T>(g, b != nullptr);
        memory s = as(p.src, src, p.fpd.src_desc(), kSrc), wm = as(p.wei, w, p.fpd.weights_desc(), kWei);
        Out d = out_as(p.dst, dst, p.fpd.dst_desc(), kDst, false, 0);
        std::unordered_map<int, memory> args{{DNNL_ARG_SRC, s}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, d.prim}};
        if (b) args.insert({DNNL_ARG_BIAS, onednn_mem(p.bia, b)});
        p.fwd.execute(onednn_stream(), args);
        d.finish();
        onednn_stream().wait();
    });
}

// Both products of the backward pass; the output's gradient is converted to the primitives'
// layout once when they read the same one (oneDNN's blocked kernels do).
template <bool T>
void conv_backward_impl(const ConvGeom& g, const float* src, const float* w, const float* ddst, float* dw, float* db,
                        bool acc_grads, float* dsrc, bool acc_dsrc) {
    guarded(g, "convolution backward", [&] {
        const auto& p = conv_prims<T>(g, dw && db);
        memory dd;
        bool have_dd = false;
        if (dw && !db && !T && winograd_training(g)) {  // (a bias's gradient: oneDNN computes both)
            const int chunk = winograd_f23_chunk(g);
            const size_t tiles = size_t(16) * chunk * sizeof(float);
            winograd_f23_weight_grad(g, block_channels(), src, ddst, dw, acc_grads,
                                     static_cast<float*>(scratch(kSrc, tiles * g.ic)),
                                     static_cast<float*>(scratch(kDst, tiles * g.oc)),
                                     static_cast<float*>(scratch(kWei, size_t(16) * g.oc * g.ic * sizeof(float))), chunk);
        } else if (dw) {
            memory s = as(p.src, src, p.wpd.src_desc(), kSrc);
            dd = as(p.dst, ddst, p.wpd.diff_dst_desc(), kDst);
            have_dd = true;
            Out dwo = out_as(p.wei, dw, p.wpd.diff_weights_desc(), kWei, acc_grads, weight_size(g));
            std::unordered_map<int, memory> args{{DNNL_ARG_SRC, s}, {DNNL_ARG_DIFF_DST, dd}, {DNNL_ARG_DIFF_WEIGHTS, dwo.prim}};
            float* bias_out = db && acc_grads ? static_cast<float*>(scratch(kBias, size_t(g.oc) * sizeof(float))) : db;
            if (db) args.insert({DNNL_ARG_DIFF_BIAS, onednn_mem(p.bia, bias_out)});
            p.bwd_weights.execute(onednn_stream(), args);
            dwo.finish();
            onednn_stream().wait();
            if (db && acc_grads) axpby(1.0f, bias_out, 1.0f, db, g.oc);
        }
        if (dsrc && !T && winograd_training(g) && winograd_f23_fits(backward_data_geom(g), block_channels())) {
            const int64_t n = int64_t(g.n) * g.ic * g.ih * g.iw;
            float* out = acc_dsrc ? static_cast<float*>(scratch(kAcc, size_t(n) * sizeof(float))) : dsrc;
            winograd_with(backward_data_geom(g), ddst, w, true, nullptr, out);
            if (acc_dsrc) axpby(1.0f, out, 1.0f, dsrc, n);
        } else if (dsrc) {
            if (!have_dd || dd.get_desc() != p.dpd.diff_dst_desc()) dd = as(p.dst, ddst, p.dpd.diff_dst_desc(), kDst);
            memory wm = as(p.wei, w, p.dpd.weights_desc(), kWei);
            Out ds = out_as(p.src, dsrc, p.dpd.diff_src_desc(), kSrc, acc_dsrc, int64_t(g.n) * g.ic * g.id * g.ih * g.iw);
            p.bwd_data.execute(onednn_stream(), {{DNNL_ARG_DIFF_DST, dd}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DIFF_SRC, ds.prim}});
            ds.finish();
            onednn_stream().wait();
        }
    });
}

// ---- inference: convolution with batch normalization folded into its weights and bias, and ReLU
// as a oneDNN post-op ----

struct InferencePrims {
    memory::desc src, wei, bia, dst;
    dnnl::convolution_forward::primitive_desc pd;
    dnnl::convolution_forward prim;
    const void* weights_layout;  // layout_key(pd.weights_desc())
    bool winograd = false;       // oneDNN's Winograd kernel
};

// One address per distinct weights layout, so that a layer's pack serves every primitive that
// reads the same layout (batch sizes differ, e.g. an evaluation's last partial batch).
const void* layout_key(const memory::desc& d) {
    static std::mutex m;
    static std::deque<memory::desc> seen;
    std::lock_guard<std::mutex> lock(m);
    for (const auto& x : seen)
        if (x == d) return &x;
    seen.push_back(d);
    return &seen.back();
}

// Winograd's transforms pay off for 3x3 stride-1 layers; oneDNN's f32 kernels need channel
// counts in whole blocks (and say so by failing to create, which falls back to direct).
bool winograd_shape(const ConvGeom& g) {
    return !g.volumetric() && g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 &&
           g.groups == 1 && g.ic % 16 == 0 && g.oc % 16 == 0;
}

const InferencePrims& inference_prims(const ConvGeom& g, bool bias, bool relu, bool winograd) {
    winograd = winograd && winograd_shape(g);
    return cached(std::make_tuple(g, bias, relu, winograd), [&] {
        const auto& t = conv_prims<false>(g, bias);  // same plain descriptors and geometry
        InferencePrims p;
        p.src = t.src;
        p.wei = t.wei;
        p.bia = t.bia;
        p.dst = t.dst;
        const bool vol = g.volumetric();
        dnnl::post_ops po;  // (Winograd kernels take element-wise post-ops, not per-channel ones)
        if (relu) po.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
        dnnl::primitive_attr attr;
        attr.set_post_ops(po);
        auto any = [&](const memory::desc& md) { return memory::desc(md.dims(), f32, tag::any); };
        // 2-D activations with whole blocks of channels in the blocked layout, the one oneDNN's direct
        // and Winograd f32 kernels compute in (layers that can, pass it along); the rest oneDNN's choice
        auto act = [&](const memory::desc& user, int c) {
            return vol || !block_channels() || c % block_channels() ? any(user)
                                                                    : memory::desc(user.dims(), f32, blocked_tag());
        };
        auto spatial = [&](int dd, int h, int w) { return vol ? memory::dims{dd, h, w} : memory::dims{h, w}; };
        auto make = [&](dnnl::algorithm algo) {
            return dnnl::convolution_forward::primitive_desc(
                dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, algo, act(t.src, g.ic),
                                                any(t.wei), t.bia, act(t.dst, g.oc),
                                                spatial(g.sd, g.sh, g.sw), spatial(g.dd - 1, g.dh - 1, g.dw - 1),
                                                spatial(g.pf, g.pt, g.pl), spatial(g.pk, g.pb, g.pr)),
                attr, onednn_engine());
        };
        bool made = false;
        if (winograd) try {
                p.pd = make(dnnl::algorithm::convolution_winograd);
                made = p.winograd = true;
            } catch (const dnnl::error&) {  // this shape or CPU has no Winograd kernel
            }
        if (!made) p.pd = make(dnnl::algorithm::convolution_direct);
        p.prim = dnnl::convolution_forward(p.pd);
        p.weights_layout = layout_key(p.pd.weights_desc());
        return p;
    });
}

// The weights, times the per-output-channel scale if any, in the primitive's layout: from the
// layer's pack when it holds this layout, else converted (into the pack when the layer keeps one,
// so that the next call reuses it).
memory packed_weights(const ConvGeom& g, const InferencePrims& p, const float* w, const float* scale,
                      PackedWeights* pack) {
    const memory::desc& want = p.pd.weights_desc();
    if (pack && pack->key == p.weights_layout && pack->data) return memory(want, onednn_engine(), pack->data.get());
    if (scale) {  // [oc][ic/groups][k...] and [groups][oc/groups][...] both keep each filter contiguous
        float* scaled = static_cast<float*>(scratch(kAcc, size_t(weight_size(g)) * sizeof(float)));
        const int64_t per = weight_size(g) / g.oc;
        for (int64_t o = 0; o < g.oc; ++o)
            for (int64_t i = 0; i < per; ++i) scaled[o * per + i] = w[o * per + i] * scale[o];
        w = scaled;
    }
    if (!pack) return as(p.wei, w, want, kWei);
    const size_t n = (want.get_size() + sizeof(float) - 1) / sizeof(float);
    pack->data = std::shared_ptr<float>(new float[n], std::default_delete<float[]>());
    pack->key = p.weights_layout;
    memory u = onednn_mem(p.wei, w), to(want, onednn_engine(), pack->data.get());
    dnnl::reorder(u, to).execute(onednn_stream(), u, to);
    return to;
}

// The weights in winograd_f23's layout, times the per-output-channel scale if any: from the
// layer's pack when it holds them, else transformed (into the pack when the layer keeps one).
const float* winograd_weights(const ConvGeom& g, const float* w, const float* scale, PackedWeights* pack) {
    static const char ours = 0;  // the pack key of this layout
    if (pack && pack->key == &ours && pack->data) return pack->data.get();
    const size_t n = size_t(winograd_f23_weights_size(g));
    float* U = static_cast<float*>(pack ? nullptr : scratch(kWei, n * sizeof(float)));
    if (pack) {
        pack->data = std::shared_ptr<float>(new float[n], std::default_delete<float[]>());
        pack->key = &ours;
        U = pack->data.get();
    }
    winograd_f23_weights(g, w, scale, U);
    return U;
}

}  // namespace

void conv(const ConvGeom& g, const float* src, const float* w, const float* b, float* dst) {
    conv_impl<false>(g, src, w, b, dst);
}
void conv_backward(const ConvGeom& g, const float* src, const float* w, const float* ddst, float* dw, float* db,
                   bool acc_grads, float* dsrc, bool acc_dsrc) {
    conv_backward_impl<false>(g, src, w, ddst, dw, db, acc_grads, dsrc, acc_dsrc);
}
void conv_transpose(const ConvGeom& g, const float* src, const float* w, const float* b, float* dst) {
    conv_impl<true>(g, src, w, b, dst);
}
void conv_transpose_backward(const ConvGeom& g, const float* src, const float* w, const float* ddst, float* dw,
                             float* db, bool acc_grads, float* dsrc, bool acc_dsrc) {
    conv_backward_impl<true>(g, src, w, ddst, dw, db, acc_grads, dsrc, acc_dsrc);
}

void conv_inference(const ConvGeom& g, const float* src, const float* w, const float* b, const ConvEpilogue& e,
                    float* dst) {
    guarded(g, "fused inference convolution", [&] {
        // the normalization folded in: conv(x, w * scale) + (b * scale + shift)
        const bool ss = e.scale != nullptr;
        const auto& p = inference_prims(g, b || ss, e.relu, e.winograd);
        const float* bias = b;
        if (ss) {
            float* folded = static_cast<float*>(scratch(kBias, size_t(g.oc) * sizeof(float)));
            for (int c = 0; c < g.oc; ++c) folded[c] = (b ? b[c] : 0.0f) * e.scale[c] + e.shift[c];
            bias = folded;
        }
        if (e.winograd && !p.winograd && winograd_f23_fits(g, block_channels()))  // oneDNN has none for this CPU
            return run_winograd(g, src, winograd_weights(g, w, e.scale, e.packed), bias, e.relu, dst);
        memory wm = packed_weights(g, p, w, e.scale, e.packed), s = as(p.src, src, p.pd.src_desc(), kSrc);
        Out d = out_as(p.dst, dst, p.pd.dst_desc(), kDst, false, 0);
        std::unordered_map<int, memory> args{{DNNL_ARG_SRC, s}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, d.prim}};
        if (bias) args.insert({DNNL_ARG_BIAS, onednn_mem(p.bia, bias)});
        p.prim.execute(onednn_stream(), args);
        d.finish();
        onednn_stream().wait();
    });
}

}  // namespace eddl::cpu
