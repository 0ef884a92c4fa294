// RNN, LSTM and GRU with ONNX's equations, weight layout and directions; backward through time.
// Plain loops over (sequence, direction, step): recurrent steps are sequential and small, and the
// equations stay readable next to the ONNX operator definitions they implement.
#include <algorithm>
#include <cmath>

#include "init/init.h"
#include "layers/layers.h"

namespace eddl {
namespace {

inline float sigm(float x) { return 1.0f / (1.0f + std::exp(-x)); }

int gates_of(LRecurrent::Kind k) { return k == LRecurrent::Kind::LSTM ? 4 : k == LRecurrent::Kind::GRU ? 3 : 1; }

const char* kind_name(LRecurrent::Kind k) {
    return k == LRecurrent::Kind::LSTM ? "LSTM" : k == LRecurrent::Kind::GRU ? "GRU" : "RNN";
}

// y = W[rows] . x (+=): W row-major {rows, cols}
inline void matvec_add(const float* W, const float* x, int rows, int cols, float* y) {
    for (int r = 0; r < rows; ++r) {
        const float* w = W + int64_t(r) * cols;
        float s = 0;
        for (int c = 0; c < cols; ++c) s += w[c] * x[c];
        y[r] += s;
    }
}

// dx += W^T . da; dW += da (x) x
inline void matvec_back(const float* W, const float* x, const float* da, int rows, int cols, float* dx, float* dW) {
    for (int r = 0; r < rows; ++r) {
        const float g = da[r];
        if (g == 0) continue;
        const float* w = W + int64_t(r) * cols;
        float* gw = dW ? dW + int64_t(r) * cols : nullptr;
        for (int c = 0; c < cols; ++c) {
            if (dx) dx[c] += w[c] * g;
            if (gw) gw[c] += g * x[c];
        }
    }
}

}  // namespace

LRecurrent::LRecurrent(layer parent, Kind k, int u, const Options& o, const std::string& n) : kind(k), units(u), opt(o) {
    const std::string base = kind_name(kind);
    name = n.empty() ? auto_name(base) : n;
    const std::string who = base + " '" + name + "'";
    EDDL_CHECK(parent, who << ": parent layer is null");
    EDDL_CHECK(units >= 1, who << ": units must be >= 1, got " << units);
    EDDL_CHECK(opt.nseq >= 1 && (opt.layout == 0 || opt.layout == 1), who << ": layout " << opt.layout << ", " << opt.nseq
                                                                          << " sequences per sample");
    const Shape& s = parent->out_shape;
    flat = opt.layout == 1 && opt.nseq == 1 && s.size() == 2;  // a sample {steps, in}
    EDDL_CHECK(flat ? s.size() == 2 : s.size() == 3,
               who << ": input from '" << parent->name << "' has shape " << shape_str(s) << " (batch excluded); "
                   << (flat ? "needs {steps, features}" : "needs 3 dimensions (sequences, steps, features)"));
    steps = flat ? s[0] : opt.layout == 1 ? s[1] : s[0];
    in = s.back();
    if (!flat)
        EDDL_CHECK((opt.layout == 1 ? s[0] : s[1]) == opt.nseq,
                   who << ": input " << shape_str(s) << " does not hold " << opt.nseq << " sequences");
    EDDL_CHECK(kind != Kind::RNN || opt.activation == "tanh" || opt.activation == "relu" || opt.activation == "sigmoid",
               who << ": activation '" << opt.activation << "' (use tanh, relu or sigmoid)");
    EDDL_CHECK(!opt.peepholes || kind == Kind::LSTM, who << ": peepholes are LSTM's");
    EDDL_CHECK(opt.output != Output::Y_c || kind == Kind::LSTM, who << ": only LSTM has a cell state output");
    EDDL_CHECK(opt.seq_lens.empty() || int(opt.seq_lens.size()) == opt.nseq,
               who << ": " << opt.seq_lens.size() << " sequence lengths for " << opt.nseq << " sequences");
    for (int l : opt.seq_lens) EDDL_CHECK(l >= 0 && l <= steps, who << ": sequence length " << l << " of " << steps << " steps");
    dirs = opt.bidirectional ? 2 : 1;
    gates = gates_of(kind);
    parents = {parent};
    out_shape = output_shape(opt.output);
    const int G = gates * units;
    params = {Tensor::zeros({dirs, G, in}), Tensor::zeros({dirs, G, units})};
    if (opt.use_bias) params.push_back(Tensor::zeros({dirs, 2 * G}));
    if (opt.peepholes) params.push_back(Tensor::zeros({dirs, 3 * units}));
    for (const auto& p : params) gradients.push_back(Tensor::zeros(p->shape));
}

Shape LRecurrent::output_shape(Output o) const {
    const int D = opt.bidirectional ? 2 : 1;
    if (flat) return o == Output::Y ? Shape{steps, D * units} : Shape{D * units};
    if (o == Output::Y) return opt.layout == 1 ? Shape{opt.nseq, steps, D, units} : Shape{steps, D, opt.nseq, units};
    return opt.layout == 1 ? Shape{opt.nseq, D, units} : Shape{D, opt.nseq, units};
}

std::string LRecurrent::type() const { return kind_name(kind); }

void LRecurrent::init_params(uint64_t seed) {
    // U(-1/sqrt(units), 1/sqrt(units)) for every weight and bias, as PyTorch
    const float k = 1.0f / std::sqrt(float(units));
    for (size_t i = 0; i < params.size(); ++i) {
        const uint64_t s = initializer && initializer->seed >= 0 ? uint64_t(initializer->seed) + i : seed + 7919 * i;
        if (initializer && i < 2) initializer->apply(*params[i], i == 0 ? in : units, gates * units, s);
        else params[i]->fill_rand_uniform_(-k, k, s);
    }
}

int64_t LRecurrent::x_at(int64_t seq, int t) const {
    const int64_t b = seq / opt.nseq, j = seq % opt.nseq, sample = int64_t(opt.nseq) * steps * in;
    return b * sample + (opt.layout == 1 ? (j * steps + t) : (int64_t(t) * opt.nseq + j)) * in;
}

LayerConfig LRecurrent::config() const {
    LayerConfig c{{"units", std::to_string(units)},
                  {"bidirectional", opt.bidirectional ? "1" : "0"},
                  {"reverse", opt.reverse ? "1" : "0"},
                  {"layout", std::to_string(opt.layout)},
                  {"nseq", std::to_string(opt.nseq)},
                  {"output", std::to_string(int(opt.output))},
                  {"activation", opt.activation},
                  {"linear_before_reset", opt.linear_before_reset ? "1" : "0"},
                  {"peepholes", opt.peepholes ? "1" : "0"},
                  {"use_bias", opt.use_bias ? "1" : "0"},
                  {"mask_zeros", opt.mask_zeros ? "1" : "0"}};
    std::string l;
    for (size_t i = 0; i < opt.seq_lens.size(); ++i) {
        if (i) l += ',';
        l += std::to_string(opt.seq_lens[i]);
    }
    if (!l.empty()) c["seq_lens"] = l;
    return c;
}

void LRecurrent::forward() {
    const Tensor& X = *parents[0]->output;
    const int batch = X.shape[0], H = units, G = gates * units;
    const int64_t nseq = int64_t(batch) * opt.nseq;
    hs.assign(size_t(nseq * dirs * (steps + 1) * H), 0.0f);
    if (kind == Kind::LSTM) cs.assign(hs.size(), 0.0f);
    const int A = kind == Kind::RNN ? 0 : 4 * H;  // stored gate activations per step
    acts_.assign(size_t(nseq * dirs * steps) * size_t(A), 0.0f);
    lens.assign(size_t(nseq), steps);
    for (int64_t q = 0; q < nseq; ++q) {
        if (!opt.seq_lens.empty()) lens[size_t(q)] = opt.seq_lens[size_t(q % opt.nseq)];
        if (opt.mask_zeros) {  // trailing all-zero steps are padding
            int L = steps;
            while (L > 0) {
                const float* x = X.ptr + x_at(q, L - 1);
                bool zero = true;
                for (int i = 0; i < in && zero; ++i) zero = x[i] == 0;
                if (!zero) break;
                --L;
            }
            lens[size_t(q)] = std::min(lens[size_t(q)], L);
        }
    }
    std::vector<float> a(static_cast<size_t>(G)), g(static_cast<size_t>(H)), zeros(static_cast<size_t>(2 * G), 0.0f);
    const int pi = opt.use_bias ? 3 : 2;  // the peepholes' index in params
    for (int64_t q = 0; q < nseq; ++q)
        for (int d = 0; d < dirs; ++d) {
            const bool rev = d == 1 || opt.reverse;
            const float* W = params[0]->ptr + int64_t(d) * G * in;
            const float* R = params[1]->ptr + int64_t(d) * G * H;
            const float* Bw = opt.use_bias ? params[2]->ptr + int64_t(d) * 2 * G : zeros.data();
            const float* Br = Bw + G;
            const float* P = opt.peepholes ? params[size_t(pi)]->ptr + int64_t(d) * 3 * H : nullptr;
            const int64_t j = q % opt.nseq;
            const int64_t init = opt.layout == 1 ? (j * dirs + d) * H : (int64_t(d) * opt.nseq + j) * H;
            float* h0 = hs.data() + state_at(q, d, -1);
            if (has_initial_h) std::copy_n(states[0]->ptr + init, H, h0);
            if (kind == Kind::LSTM && has_initial_c) std::copy_n(states[has_initial_h ? 1 : 0]->ptr + init, H, cs.data() + state_at(q, d, -1));
            const int L = lens[size_t(q)];
            for (int k = 0; k < L; ++k) {
                const int t = rev ? L - 1 - k : k;
                const float* x = X.ptr + x_at(q, t);
                const float* hp = hs.data() + state_at(q, d, k - 1);
                float* h = hs.data() + state_at(q, d, k);
                float* st = A ? acts_.data() + ((q * dirs + d) * steps + k) * A : nullptr;
                for (int r = 0; r < G; ++r) a[size_t(r)] = Bw[r] + Br[r];
                matvec_add(W, x, G, in, a.data());
                if (kind == Kind::GRU && opt.linear_before_reset) {
                    matvec_add(R, hp, 2 * H, H, a.data());  // z, r; h's recurrent part is gated below
                    for (int u = 0; u < H; ++u) g[size_t(u)] = Br[2 * H + u];
                    matvec_add(R + int64_t(2) * H * H, hp, H, H, g.data());
                    for (int u = 0; u < H; ++u) a[size_t(2 * H + u)] -= Br[2 * H + u];  // Rbh is inside g
                } else if (kind != Kind::GRU) {
                    matvec_add(R, hp, G, H, a.data());
                } else {
                    matvec_add(R, hp, 2 * H, H, a.data());
                }
                if (kind == Kind::RNN) {
                    for (int u = 0; u < H; ++u) {
                        const float v = a[size_t(u)];
                        h[u] = opt.activation == "tanh" ? std::tanh(v) : opt.activation == "relu" ? std::max(v, 0.0f) : sigm(v);
                    }
                } else if (kind == Kind::LSTM) {
                    const float* cp = cs.data() + state_at(q, d, k - 1);
                    float* c = cs.data() + state_at(q, d, k);
                    for (int u = 0; u < H; ++u) {
                        const float ig = sigm(a[size_t(u)] + (P ? P[u] * cp[u] : 0.0f));
                        const float fg = sigm(a[size_t(2 * H + u)] + (P ? P[2 * H + u] * cp[u] : 0.0f));
                        const float cg = std::tanh(a[size_t(3 * H + u)]);
                        c[u] = fg * cp[u] + ig * cg;
                        const float og = sigm(a[size_t(H + u)] + (P ? P[H + u] * c[u] : 0.0f));
                        h[u] = og * std::tanh(c[u]);
                        st[u] = ig;
                        st[H + u] = og;
                        st[2 * H + u] = fg;
                        st[3 * H + u] = cg;
                    }
                } else {  // GRU
                    std::vector<float> rh;
                    if (!opt.linear_before_reset) rh.resize(size_t(H));
                    for (int u = 0; u < H; ++u) {
                        st[u] = sigm(a[size_t(u)]);          // z
                        st[H + u] = sigm(a[size_t(H + u)]);  // r
                    }
                    if (opt.linear_before_reset) {
                        for (int u = 0; u < H; ++u) a[size_t(2 * H + u)] += st[H + u] * g[size_t(u)];
                    } else {
                        for (int u = 0; u < H; ++u) rh[size_t(u)] = st[H + u] * hp[u];
                        matvec_add(R + int64_t(2) * H * H, rh.data(), H, H, a.data() + 2 * H);
                    }
                    for (int u = 0; u < H; ++u) {
                        const float hh = std::tanh(a[size_t(2 * H + u)]);
                        st[2 * H + u] = hh;
                        st[3 * H + u] = opt.linear_before_reset ? g[size_t(u)] : 0.0f;
                        h[u] = (1 - st[u]) * hh + st[u] * hp[u];
                    }
                }
            }
        }
    copy_output(opt.output, output->ptr, batch);
}

void LRecurrent::copy_output(Output o, float* dst, int batch) const {
    const int H = units;
    const int64_t per = [&] {
        int64_t n = 1;
        for (int v : output_shape(o)) n *= v;
        return n;
    }();
    std::fill(dst, dst + per * batch, 0.0f);
    for (int64_t q = 0; q < int64_t(batch) * opt.nseq; ++q) {
        const int64_t b = q / opt.nseq, j = q % opt.nseq;
        const int L = lens[size_t(q)];
        for (int d = 0; d < dirs; ++d) {
            const bool rev = d == 1 || opt.reverse;
            if (o == Output::Y) {
                for (int k = 0; k < L; ++k) {
                    const int t = rev ? L - 1 - k : k;
                    const int64_t off = opt.layout == 1 ? ((j * steps + t) * dirs + d) * H : ((int64_t(t) * dirs + d) * opt.nseq + j) * H;
                    std::copy_n(hs.data() + state_at(q, d, k), H, dst + b * per + off);
                }
            } else {
                const int64_t off = opt.layout == 1 ? (j * dirs + d) * H : (int64_t(d) * opt.nseq + j) * H;
                const std::vector<float>& src = o == Output::Y_h ? hs : cs;
                std::copy_n(src.data() + state_at(q, d, L - 1), H, dst + b * per + off);
            }
        }
    }
}

void LRecurrent::backward() {
    const bool grads = trainable, data = parents[0]->needs_delta;
    if (!grads && !data) {
        side_used = false;
        return;
    }
    const Tensor& X = *parents[0]->output;
    const int batch = X.shape[0], H = units, G = gates * units, A = kind == Kind::RNN ? 0 : 4 * H;
    const int64_t nseq = int64_t(batch) * opt.nseq;
    const bool acc_g = grads && take_grads();
    if (grads && !acc_g)
        for (auto& g : gradients) g->fill_(0.0f);
    float* dX = nullptr;
    if (data) {
        const bool acc_x = take_parent_delta(0);
        if (!acc_x) parents[0]->delta->fill_(0.0f);
        dX = parents[0]->delta->ptr;
    }
    // the gradients arriving at each output, in the per-sequence layout of the outputs
    const Shape ys = output_shape(Output::Y), hs_shape = output_shape(Output::Y_h);
    int64_t per_y = 1, per_h = 1;
    for (int v : ys) per_y *= v;
    for (int v : hs_shape) per_h *= v;
    const float* dY = opt.output == Output::Y ? delta->ptr : nullptr;
    std::vector<float> dYh, dYc;
    if (opt.output == Output::Y_h) dYh.assign(delta->ptr, delta->ptr + delta->size);
    if (opt.output == Output::Y_c) dYc.assign(delta->ptr, delta->ptr + delta->size);
    if (side_used) {
        if (!side_dh.empty()) {
            if (dYh.empty()) dYh.assign(size_t(per_h * batch), 0.0f);
            for (size_t i = 0; i < dYh.size(); ++i) dYh[i] += side_dh[i];
        }
        if (!side_dc.empty()) {
            if (dYc.empty()) dYc.assign(size_t(per_h * batch), 0.0f);
            for (size_t i = 0; i < dYc.size(); ++i) dYc[i] += side_dc[i];
        }
    }
    side_used = false;
    std::vector<float> dh(static_cast<size_t>(H)), dc(dh), da(static_cast<size_t>(G)), dhp(dh), dcp(dh), tmp(dh);
    const size_t pi = opt.use_bias ? 3 : 2;
    for (int64_t q = 0; q < nseq; ++q) {
        const int64_t b = q / opt.nseq, j = q % opt.nseq;
        const int L = lens[size_t(q)];
        for (int d = 0; d < dirs; ++d) {
            const bool rev = d == 1 || opt.reverse;
            const float* W = params[0]->ptr + int64_t(d) * G * in;
            const float* R = params[1]->ptr + int64_t(d) * G * H;
            const float* P = opt.peepholes ? params[pi]->ptr + int64_t(d) * 3 * H : nullptr;
            float* gW = grads ? gradients[0]->ptr + int64_t(d) * G * in : nullptr;
            float* gR = grads ? gradients[1]->ptr + int64_t(d) * G * H : nullptr;
            float* gBw = grads && opt.use_bias ? gradients[2]->ptr + int64_t(d) * 2 * G : nullptr;
            float* gBr = gBw ? gBw + G : nullptr;
            float* gP = grads && opt.peepholes ? gradients[pi]->ptr + int64_t(d) * 3 * H : nullptr;
            std::fill(dh.begin(), dh.end(), 0.0f);
            std::fill(dc.begin(), dc.end(), 0.0f);
            if (L == 0) continue;
            const int64_t hoff = b * per_h + (opt.layout == 1 ? (j * dirs + d) * H : (int64_t(d) * opt.nseq + j) * H);
            if (!dYh.empty())
                for (int u = 0; u < H; ++u) dh[size_t(u)] = dYh[size_t(hoff + u)];
            if (!dYc.empty())
                for (int u = 0; u < H; ++u) dc[size_t(u)] = dYc[size_t(hoff + u)];
            for (int k = L - 1; k >= 0; --k) {
                const int t = rev ? L - 1 - k : k;
                if (dY) {
                    const int64_t off = b * per_y + (opt.layout == 1 ? ((j * steps + t) * dirs + d) * H
                                                                     : ((int64_t(t) * dirs + d) * opt.nseq + j) * H);
                    for (int u = 0; u < H; ++u) dh[size_t(u)] += dY[off + u];
                }
                const float* x = X.ptr + x_at(q, t);
                const float* hp = hs.data() + state_at(q, d, k - 1);
                const float* h = hs.data() + state_at(q, d, k);
                const float* st = A ? acts_.data() + ((q * dirs + d) * steps + k) * A : nullptr;
                std::fill(dhp.begin(), dhp.end(), 0.0f);
                if (kind == Kind::RNN) {
                    for (int u = 0; u < H; ++u) {
                        const float y = h[u];
                        const float f = opt.activation == "tanh" ? 1 - y * y : opt.activation == "relu" ? (y > 0 ? 1.0f : 0.0f) : y * (1 - y);
                        da[size_t(u)] = dh[size_t(u)] * f;
                    }
                    matvec_back(R, hp, da.data(), G, H, dhp.data(), gR);
                } else if (kind == Kind::LSTM) {
                    const float* cp = cs.data() + state_at(q, d, k - 1);
                    const float* c = cs.data() + state_at(q, d, k);
                    std::fill(dcp.begin(), dcp.end(), 0.0f);
                    for (int u = 0; u < H; ++u) {
                        const float ig = st[u], og = st[H + u], fg = st[2 * H + u], cg = st[3 * H + u];
                        const float tc = std::tanh(c[u]);
                        const float dao = dh[size_t(u)] * tc * og * (1 - og);
                        const float dC = dc[size_t(u)] + dh[size_t(u)] * og * (1 - tc * tc) + (P ? dao * P[H + u] : 0.0f);
                        const float dai = dC * cg * ig * (1 - ig);
                        const float daf = dC * cp[u] * fg * (1 - fg);
                        const float dac = dC * ig * (1 - cg * cg);
                        da[size_t(u)] = dai;
                        da[size_t(H + u)] = dao;
                        da[size_t(2 * H + u)] = daf;
                        da[size_t(3 * H + u)] = dac;
                        dcp[size_t(u)] = dC * fg + (P ? dai * P[u] + daf * P[2 * H + u] : 0.0f);
                        if (gP) {
                            gP[u] += dai * cp[u];
                            gP[H + u] += dao * c[u];
                            gP[2 * H + u] += daf * cp[u];
                        }
                    }
                    matvec_back(R, hp, da.data(), G, H, dhp.data(), gR);
                    dc = dcp;
                } else {  // GRU
                    for (int u = 0; u < H; ++u) {
                        const float z = st[u], hh = st[2 * H + u];
                        dhp[size_t(u)] += dh[size_t(u)] * z;
                        da[size_t(u)] = dh[size_t(u)] * (hp[u] - hh) * z * (1 - z);  // z
                        da[size_t(2 * H + u)] = dh[size_t(u)] * (1 - z) * (1 - hh * hh);  // h's pre-activation
                    }
                    if (opt.linear_before_reset) {
                        for (int u = 0; u < H; ++u) {
                            const float r = st[H + u], g = st[3 * H + u];
                            da[size_t(H + u)] = da[size_t(2 * H + u)] * g * r * (1 - r);
                            tmp[size_t(u)] = da[size_t(2 * H + u)] * r;  // d(Rh hp + Rbh)
                        }
                        matvec_back(R + int64_t(2) * H * H, hp, tmp.data(), H, H, dhp.data(), gR ? gR + int64_t(2) * H * H : nullptr);
                        if (gBr)
                            for (int u = 0; u < H; ++u) gBr[2 * H + u] += tmp[size_t(u)];
                    } else {
                        std::vector<float> rh(static_cast<size_t>(H)), drh(static_cast<size_t>(H), 0.0f);
                        for (int u = 0; u < H; ++u) rh[size_t(u)] = st[H + u] * hp[u];
                        matvec_back(R + int64_t(2) * H * H, rh.data(), da.data() + 2 * H, H, H, drh.data(),
                                    gR ? gR + int64_t(2) * H * H : nullptr);
                        for (int u = 0; u < H; ++u) {
                            const float r = st[H + u];
                            da[size_t(H + u)] = drh[size_t(u)] * hp[u] * r * (1 - r);
                            dhp[size_t(u)] += drh[size_t(u)] * r;
                        }
                        if (gBr)
                            for (int u = 0; u < H; ++u) gBr[2 * H + u] += da[size_t(2 * H + u)];
                    }
                    matvec_back(R, hp, da.data(), 2 * H, H, dhp.data(), gR);  // z and r
                }
                matvec_back(W, x, da.data(), G, in, dX ? dX + x_at(q, t) : nullptr, gW);
                if (gBw)
                    for (int r = 0; r < G; ++r) {
                        gBw[r] += da[size_t(r)];
                        if (!(kind == Kind::GRU && r >= 2 * H)) gBr[r] += da[size_t(r)];  // GRU's h: above
                    }
                dh = dhp;
            }
        }
    }
}

LRecurrentOutput::LRecurrentOutput(std::shared_ptr<LRecurrent> r, LRecurrent::Output w, const std::string& n)
    : rnn(std::move(r)), which(w) {
    name = n;
    // the layer itself gives Y when Y is wanted: a second output is a final state
    EDDL_CHECK(rnn && which != rnn->opt.output && which != LRecurrent::Output::Y,
               "recurrent output '" << name << "': needs a recurrent layer giving another output (Y_h or Y_c)");
    EDDL_CHECK(which != LRecurrent::Output::Y_c || rnn->kind == LRecurrent::Kind::LSTM,
               "recurrent output '" << name << "': only LSTM has a cell state");
    parents = {rnn};
    out_shape = rnn->output_shape(which);
}

void LRecurrentOutput::forward() { rnn->copy_output(which, output->ptr, rnn->output->shape[0]); }

void LRecurrentOutput::backward() {
    // its gradient goes to the recurrent layer's side buffers (it runs before the layer's backward)
    if (!take_parent_delta(0)) rnn->delta->fill_(0.0f);
    std::vector<float>& side = which == LRecurrent::Output::Y_c ? rnn->side_dc : rnn->side_dh;
    if (!rnn->side_used) {
        rnn->side_dh.clear();
        rnn->side_dc.clear();
        rnn->side_used = true;
    }
    if (side.empty()) side.assign(size_t(delta->size), 0.0f);
    for (int64_t i = 0; i < delta->size; ++i) side[size_t(i)] += delta->ptr[i];
}

LayerConfig LRecurrentOutput::config() const { return {{"output", std::to_string(int(which))}}; }

}  // namespace eddl
