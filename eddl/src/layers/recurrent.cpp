// RNN, LSTM and GRU with ONNX's equations, weight layout and directions; backward through time.
// The input products of every step are one GEMM; each step does one GEMM over all sequences for
// the recurrent product (and one for its gradient), then the gate equations per sequence.
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
    const int64_t nseq = int64_t(batch) * opt.nseq, rows = X.size / in;
    const int ld = dirs * (steps + 1) * H;  // between sequences in hs / cs at one (direction, step)
    hs.assign(size_t(nseq * ld), 0.0f);
    if (kind == Kind::LSTM) cs.assign(hs.size(), 0.0f);
    const int A = kind == Kind::RNN ? 0 : kind == Kind::LSTM ? 5 * H : 4 * H;  // stored activations per step
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
    const int maxL = nseq ? *std::max_element(lens.begin(), lens.end()) : 0;
    const auto& K = kernels(X.device);
    const bool gru_late = kind == Kind::GRU && !opt.linear_before_reset;  // R_h multiplies r * h: a second product
    std::vector<float> xw(size_t(rows * G)), rp(size_t(nseq * G)), rh, rp2, zeros(size_t(2 * G), 0.0f);
    // the gate functions run vectorized over every sequence of a step (kernels' unary)
    std::vector<float> sg(size_t(nseq * G)), th(size_t(nseq * G)), cc(size_t(nseq * H)), tcc(size_t(nseq * H));
    if (gru_late) {
        rh.assign(size_t(nseq * H), 0.0f);
        rp2.assign(size_t(nseq * H), 0.0f);
    }
    const size_t pi = opt.use_bias ? 3 : 2;  // the peepholes' index in params
    for (int d = 0; d < dirs; ++d) {
        const bool rev = d == 1 || opt.reverse;
        const float* W = params[0]->ptr + int64_t(d) * G * in;
        const float* R = params[1]->ptr + int64_t(d) * G * H;
        const float* Bw = opt.use_bias ? params[2]->ptr + int64_t(d) * 2 * G : zeros.data();
        const float* Br = Bw + G;
        const float* P = opt.peepholes ? params[pi]->ptr + int64_t(d) * 3 * H : nullptr;
        for (int64_t q = 0; q < nseq; ++q) {  // initial states
            const int64_t j = q % opt.nseq;
            const int64_t init = opt.layout == 1 ? (j * dirs + d) * H : (int64_t(d) * opt.nseq + j) * H;
            if (has_initial_h) std::copy_n(states[0]->ptr + init, H, hs.data() + state_at(q, d, -1));
            if (kind == Kind::LSTM && has_initial_c)
                std::copy_n(states[has_initial_h ? 1 : 0]->ptr + init, H, cs.data() + state_at(q, d, -1));
        }
        // every step's input product at once: xw[row] = W x(row)
        K.gemm(false, true, int(rows), G, in, 1.0f, X.ptr, in, W, in, 0.0f, xw.data(), G);
        for (int k = 0; k < maxL; ++k) {
            // the recurrent products of all sequences: rp[q] = R h_prev(q)
            const float* Hp = hs.data() + state_at(0, d, k - 1);
            K.gemm(false, true, int(nseq), gru_late ? 2 * H : G, H, 1.0f, Hp, ld, R, H, 0.0f, rp.data(), G);
            // pre-activations: rp += W x + biases (GRU lbr: h~'s recurrent part kept apart in g)
            for (int64_t q = 0; q < nseq; ++q) {
                const int L = lens[size_t(q)];
                if (k >= L) continue;
                const int t = rev ? L - 1 - k : k;
                const float* a0 = xw.data() + (x_at(q, t) / in) * G;
                float* pre = rp.data() + q * G;
                const int n_r = kind == Kind::GRU ? 2 * H : G;
                for (int r = 0; r < n_r; ++r) pre[r] += a0[r] + Bw[r] + Br[r];
                if (kind == Kind::GRU) {
                    for (int u = 0; u < H; ++u) {
                        const float g = pre[2 * H + u] + Br[2 * H + u];  // lbr: R_h h_prev + Rb_h
                        th[size_t(q * G + 2 * H + u)] = g;
                        pre[2 * H + u] = a0[2 * H + u] + Bw[2 * H + u];
                    }
                }
                if (P) {
                    const float* cp = cs.data() + state_at(q, d, k - 1);
                    for (int u = 0; u < H; ++u) {
                        pre[u] += P[u] * cp[u];
                        pre[2 * H + u] += P[2 * H + u] * cp[u];
                    }
                }
            }
            if (kind == Kind::RNN) {
                const UnaryOp f = opt.activation == "tanh" ? UnaryOp::Tanh : opt.activation == "relu" ? UnaryOp::Relu : UnaryOp::Sigmoid;
                K.unary(f, rp.data(), sg.data(), nseq * G, 0.0f, 0.0f);
                for (int64_t q = 0; q < nseq; ++q)
                    if (k < lens[size_t(q)]) std::copy_n(sg.data() + q * G, H, hs.data() + state_at(q, d, k));
                continue;
            }
            if (kind == Kind::LSTM) {
                for (int64_t q = 0; q < nseq; ++q) {  // i, o, f: sigmoid; c~: tanh
                    if (k >= lens[size_t(q)]) continue;
                    K.unary(UnaryOp::Sigmoid, rp.data() + q * G, sg.data() + q * G, 3 * H, 0.0f, 0.0f);
                    K.unary(UnaryOp::Tanh, rp.data() + q * G + 3 * H, th.data() + q * G + 3 * H, H, 0.0f, 0.0f);
                }
                for (int64_t q = 0; q < nseq; ++q) {
                    if (k >= lens[size_t(q)]) continue;
                    const float* cp = cs.data() + state_at(q, d, k - 1);
                    float* c = cs.data() + state_at(q, d, k);
                    float* st = acts_.data() + ((q * dirs + d) * steps + k) * A;
                    const float* s0 = sg.data() + q * G;
                    for (int u = 0; u < H; ++u) {
                        const float ig = s0[u], fg = s0[2 * H + u], cg = th[size_t(q * G + 3 * H + u)];
                        c[u] = fg * cp[u] + ig * cg;
                        cc[size_t(q * H + u)] = c[u];
                        st[u] = ig;
                        st[H + u] = P ? sigm(rp[size_t(q * G + H + u)] + P[H + u] * c[u]) : s0[H + u];
                        st[2 * H + u] = fg;
                        st[3 * H + u] = cg;
                    }
                }
                K.unary(UnaryOp::Tanh, cc.data(), tcc.data(), nseq * H, 0.0f, 0.0f);
                for (int64_t q = 0; q < nseq; ++q) {
                    if (k >= lens[size_t(q)]) continue;
                    float* h = hs.data() + state_at(q, d, k);
                    float* st = acts_.data() + ((q * dirs + d) * steps + k) * A;
                    for (int u = 0; u < H; ++u) {
                        st[4 * H + u] = tcc[size_t(q * H + u)];
                        h[u] = st[H + u] * st[4 * H + u];
                    }
                }
                continue;
            }
            // GRU: z, r
            for (int64_t q = 0; q < nseq; ++q)
                if (k < lens[size_t(q)]) K.unary(UnaryOp::Sigmoid, rp.data() + q * G, sg.data() + q * G, 2 * H, 0.0f, 0.0f);
            for (int64_t q = 0; q < nseq; ++q) {
                if (k >= lens[size_t(q)]) continue;
                const float* hp = hs.data() + state_at(q, d, k - 1);
                float* st = acts_.data() + ((q * dirs + d) * steps + k) * A;
                for (int u = 0; u < 2 * H; ++u) st[u] = sg[size_t(q * G + u)];
                for (int u = 0; u < H; ++u) {
                    if (gru_late) rh[size_t(q * H + u)] = st[H + u] * hp[u];
                    else {  // lbr: h~ = tanh(W_h x + Wb_h + r * g)
                        const float g = th[size_t(q * G + 2 * H + u)];
                        st[3 * H + u] = g;
                        cc[size_t(q * H + u)] = rp[size_t(q * G + 2 * H + u)] + st[H + u] * g;
                    }
                }
            }
            if (gru_late) {  // h~'s recurrent part: R_h (r * h_prev); rp's h~ part holds W_h x + Wb_h
                K.gemm(false, true, int(nseq), H, H, 1.0f, rh.data(), H, R + int64_t(2) * H * H, H, 0.0f, rp2.data(), H);
                for (int64_t q = 0; q < nseq; ++q)
                    for (int u = 0; u < H; ++u) cc[size_t(q * H + u)] = rp[size_t(q * G + 2 * H + u)] + Br[2 * H + u] + rp2[size_t(q * H + u)];
            }
            K.unary(UnaryOp::Tanh, cc.data(), tcc.data(), nseq * H, 0.0f, 0.0f);
            for (int64_t q = 0; q < nseq; ++q) {
                if (k >= lens[size_t(q)]) continue;
                const float* hp = hs.data() + state_at(q, d, k - 1);
                float* h = hs.data() + state_at(q, d, k);
                float* st = acts_.data() + ((q * dirs + d) * steps + k) * A;
                for (int u = 0; u < H; ++u) {
                    st[2 * H + u] = tcc[size_t(q * H + u)];
                    if (gru_late) st[3 * H + u] = 0.0f;
                    h[u] = (1 - st[u]) * st[2 * H + u] + st[u] * hp[u];
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
    const int batch = X.shape[0], H = units, G = gates * units, A = kind == Kind::RNN ? 0 : kind == Kind::LSTM ? 5 * H : 4 * H;
    const int64_t nseq = int64_t(batch) * opt.nseq, rows = X.size / in;
    const int ld = dirs * (steps + 1) * H;
    const bool acc_g = grads && take_grads();
    if (grads && !acc_g)
        for (auto& g : gradients) g->fill_(0.0f);
    float* dX = nullptr;
    if (data) {
        if (!take_parent_delta(0)) parents[0]->delta->fill_(0.0f);
        dX = parents[0]->delta->ptr;
    }
    // the gradients arriving at each output, in the outputs' layouts
    int64_t per_y = 1, per_h = 1;
    for (int v : output_shape(Output::Y)) per_y *= v;
    for (int v : output_shape(Output::Y_h)) per_h *= v;
    const float* dY = opt.output == Output::Y ? delta->ptr : nullptr;
    std::vector<float> dYh, dYc;
    if (opt.output == Output::Y_h) dYh.assign(delta->ptr, delta->ptr + delta->size);
    if (opt.output == Output::Y_c) dYc.assign(delta->ptr, delta->ptr + delta->size);
    if (side_used) {
        auto add = [&](std::vector<float>& dst, const std::vector<float>& src) {
            if (src.empty()) return;
            if (dst.empty()) dst.assign(size_t(per_h * batch), 0.0f);
            for (size_t i = 0; i < dst.size(); ++i) dst[i] += src[i];
        };
        add(dYh, side_dh);
        add(dYc, side_dc);
    }
    side_used = false;
    const auto& K = kernels(X.device);
    const bool lbr = kind == Kind::GRU && opt.linear_before_reset, gru_late = kind == Kind::GRU && !lbr;
    const int maxL = nseq ? *std::max_element(lens.begin(), lens.end()) : 0;
    const size_t pi = opt.use_bias ? 3 : 2;
    std::vector<float> dA(size_t(rows * G)), dAk(size_t(nseq * G)), dHn(size_t(nseq * H)), dCn, dHp(size_t(nseq * H)),
        dHd(size_t(nseq * H)), aux(size_t(nseq * H)), rh;
    if (kind == Kind::LSTM) dCn.assign(size_t(nseq * H), 0.0f);
    if (gru_late) rh.assign(size_t(nseq * H), 0.0f);
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
        std::fill(dA.begin(), dA.end(), 0.0f);
        for (int64_t q = 0; q < nseq; ++q) {  // the final states' gradients start each sequence
            const int64_t b = q / opt.nseq, j = q % opt.nseq;
            const int64_t hoff = b * per_h + (opt.layout == 1 ? (j * dirs + d) * H : (int64_t(d) * opt.nseq + j) * H);
            for (int u = 0; u < H; ++u) {
                dHn[size_t(q * H + u)] = dYh.empty() ? 0.0f : dYh[size_t(hoff + u)];
                if (!dCn.empty()) dCn[size_t(q * H + u)] = dYc.empty() ? 0.0f : dYc[size_t(hoff + u)];
            }
        }
        for (int k = maxL - 1; k >= 0; --k) {
            std::fill(dAk.begin(), dAk.end(), 0.0f);
            std::fill(dHd.begin(), dHd.end(), 0.0f);
            if (lbr || gru_late) std::fill(aux.begin(), aux.end(), 0.0f);
            for (int64_t q = 0; q < nseq; ++q) {
                const int L = lens[size_t(q)];
                if (k >= L) continue;
                const int t = rev ? L - 1 - k : k;
                float* dh = dHn.data() + q * H;
                if (dY) {
                    const int64_t b = q / opt.nseq, j = q % opt.nseq;
                    const int64_t off = b * per_y + (opt.layout == 1 ? ((j * steps + t) * dirs + d) * H
                                                                     : ((int64_t(t) * dirs + d) * opt.nseq + j) * H);
                    for (int u = 0; u < H; ++u) dh[u] += dY[off + u];
                }
                const float* hp = hs.data() + state_at(q, d, k - 1);
                const float* h = hs.data() + state_at(q, d, k);
                const float* st = A ? acts_.data() + ((q * dirs + d) * steps + k) * A : nullptr;
                float* da = dAk.data() + q * G;
                if (kind == Kind::RNN) {
                    for (int u = 0; u < H; ++u) {
                        const float y = h[u];
                        const float f = opt.activation == "tanh" ? 1 - y * y : opt.activation == "relu" ? (y > 0 ? 1.0f : 0.0f) : y * (1 - y);
                        da[u] = dh[u] * f;
                    }
                } else if (kind == Kind::LSTM) {
                    const float* cp = cs.data() + state_at(q, d, k - 1);
                    const float* c = cs.data() + state_at(q, d, k);
                    float* dc = dCn.data() + q * H;
                    for (int u = 0; u < H; ++u) {
                        const float ig = st[u], og = st[H + u], fg = st[2 * H + u], cg = st[3 * H + u];
                        const float tc = st[4 * H + u];
                        const float dao = dh[u] * tc * og * (1 - og);
                        const float dC = dc[u] + dh[u] * og * (1 - tc * tc) + (P ? dao * P[H + u] : 0.0f);
                        const float dai = dC * cg * ig * (1 - ig);
                        const float daf = dC * cp[u] * fg * (1 - fg);
                        da[u] = dai;
                        da[H + u] = dao;
                        da[2 * H + u] = daf;
                        da[3 * H + u] = dC * ig * (1 - cg * cg);
                        dc[u] = dC * fg + (P ? dai * P[u] + daf * P[2 * H + u] : 0.0f);  // now d(c_prev)
                        if (gP) {
                            gP[u] += dai * cp[u];
                            gP[H + u] += dao * c[u];
                            gP[2 * H + u] += daf * cp[u];
                        }
                    }
                } else {  // GRU
                    for (int u = 0; u < H; ++u) {
                        const float z = st[u], hh = st[2 * H + u];
                        dHd[size_t(q * H + u)] = dh[u] * z;  // through h = ... + z h_prev
                        da[u] = dh[u] * (hp[u] - hh) * z * (1 - z);
                        da[2 * H + u] = dh[u] * (1 - z) * (1 - hh * hh);
                        if (lbr) {
                            const float r = st[H + u], g = st[3 * H + u];
                            da[H + u] = da[2 * H + u] * g * r * (1 - r);
                            aux[size_t(q * H + u)] = da[2 * H + u] * r;  // d(R_h h_prev + Rb_h)
                            if (gBr) gBr[2 * H + u] += aux[size_t(q * H + u)];
                        } else {
                            rh[size_t(q * H + u)] = st[H + u] * hp[u];
                        }
                    }
                }
            }
            const float* Hp = hs.data() + state_at(0, d, k - 1);
            if (gru_late) {  // h~'s product R_h (r * h_prev): its gradient reaches r and h_prev
                K.gemm(false, false, int(nseq), H, H, 1.0f, dAk.data() + 2 * H, G, R + int64_t(2) * H * H, H, 0.0f, aux.data(), H);
                if (gR)
                    K.gemm(true, false, H, H, int(nseq), 1.0f, dAk.data() + 2 * H, G, rh.data(), H, 1.0f, gR + int64_t(2) * H * H, H);
                for (int64_t q = 0; q < nseq; ++q) {
                    if (k >= lens[size_t(q)]) continue;
                    const float* hp = hs.data() + state_at(q, d, k - 1);
                    const float* st = acts_.data() + ((q * dirs + d) * steps + k) * A;
                    for (int u = 0; u < H; ++u) {
                        const float r = st[H + u], drh = aux[size_t(q * H + u)];
                        dAk[size_t(q * G + H + u)] = drh * hp[u] * r * (1 - r);
                        dHd[size_t(q * H + u)] += drh * r;
                    }
                }
            }
            // h_prev's gradient and R's: the gates' products (GRU: z and r here, h~ above or below)
            const int n_r = kind == Kind::GRU ? 2 * H : G;
            K.gemm(false, false, int(nseq), H, n_r, 1.0f, dAk.data(), G, R, H, 0.0f, dHp.data(), H);
            if (gR) K.gemm(true, false, n_r, H, int(nseq), 1.0f, dAk.data(), G, Hp, ld, 1.0f, gR, H);
            if (lbr) {
                K.gemm(false, false, int(nseq), H, H, 1.0f, aux.data(), H, R + int64_t(2) * H * H, H, 1.0f, dHp.data(), H);
                if (gR) K.gemm(true, false, H, H, int(nseq), 1.0f, aux.data(), H, Hp, ld, 1.0f, gR + int64_t(2) * H * H, H);
            }
            for (int64_t q = 0; q < nseq; ++q) {  // active sequences pass their gradient back; the rest wait
                const int L = lens[size_t(q)];
                if (k >= L) continue;
                const int t = rev ? L - 1 - k : k;
                std::copy_n(dAk.data() + q * G, G, dA.data() + (x_at(q, t) / in) * G);
                for (int u = 0; u < H; ++u) dHn[size_t(q * H + u)] = dHp[size_t(q * H + u)] + dHd[size_t(q * H + u)];
            }
        }
        // the input products of every step at once
        if (dX) K.gemm(false, false, int(rows), in, G, 1.0f, dA.data(), G, W, in, 1.0f, dX, in);
        if (gW) K.gemm(true, false, G, in, int(rows), 1.0f, dA.data(), G, X.ptr, in, 1.0f, gW, in);
        if (gBw)
            for (int64_t r = 0; r < rows; ++r)
                for (int g = 0; g < G; ++g) {
                    const float v = dA[size_t(r * G + g)];
                    gBw[g] += v;
                    if (!(lbr && g >= 2 * H)) gBr[g] += v;  // lbr: Rb_h's gradient is aux's, above
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
