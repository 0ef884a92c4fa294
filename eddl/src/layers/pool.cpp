// MaxPool2D, AveragePool2D and their global forms; kernels via the dispatch table.
#include <algorithm>
#include <sstream>

#include "layers/layers.h"

namespace eddl {

LPool2D::LPool2D(layer parent, PoolKind k, const std::vector<int>& pool, const std::vector<int>& strides,
                 const std::string& pad, bool glob, const std::string& n, const std::vector<int>& pads, int r,
                 const PoolOptions& opt)
    : kind(k), global(glob), rank(r), padding(pad), options(opt) {
    EDDL_CHECK(parent, "pooling layer '" << n << "': parent layer is null");
    if (rank == 0) rank = int(parent->out_shape.size()) - 1;  // global pooling of any rank
    const std::string base = type();
    name = n.empty() ? auto_name(base) : n;
    const std::string who = base + " '" + name + "'";
    EDDL_CHECK(rank >= 1 && rank <= 3 && int(parent->out_shape.size()) == rank + 1,
               who << ": input from '" << parent->name << "' has shape " << shape_str(parent->out_shape)
                   << " (batch excluded); " << rank << "-D pooling needs channels and " << rank << " spatial dimensions");
    const size_t nr = size_t(rank);
    if (!global)
        EDDL_CHECK(pool.size() == nr && strides.size() == nr,
                   who << ": pool_size and strides need " << rank << " value(s) each");
    EDDL_CHECK(pads.empty() || pads.size() == nr || pads.size() == 2 * nr,
               who << ": explicit padding needs " << rank << " value(s) (both sides) or " << 2 * rank << " (begins, ends)");
    EDDL_CHECK(opt.dilations.empty() || opt.dilations.size() == nr, who << ": dilations need " << rank << " value(s)");
    EDDL_CHECK(opt.dilations.empty() || kind == PoolKind::Max || global ||
                   std::all_of(opt.dilations.begin(), opt.dilations.end(), [](int v) { return v == 1; }),
               who << ": dilation is supported for max pooling only");
    int in[3] = {1, 1, 1}, kk[3] = {1, 1, 1}, st[3] = {1, 1, 1}, b[3] = {0, 0, 0}, e[3] = {0, 0, 0}, out[3] = {1, 1, 1};
    if (global) padding = "valid";
    for (int a = 0; a < rank; ++a) {
        const int d = 3 - rank + a;
        in[d] = parent->out_shape[1 + a];
        kk[d] = global ? in[d] : pool[a];
        st[d] = global ? in[d] : strides[a];
        dil[d] = opt.dilations.empty() || global ? 1 : opt.dilations[size_t(a)];
        const int span = (kk[d] - 1) * dil[d] + 1;
        const int pb_ = pads.empty() ? -1 : pads[size_t(a)], pe_ = pads.size() == 2 * nr ? pads[nr + size_t(a)] : pb_;
        EDDL_CHECK(pads.empty() || (pb_ >= 0 && pb_ < span && pe_ >= 0 && pe_ < span),
                   who << ": explicit padding must be >= 0 and smaller than the window");
        auto p = pad_1d(who, in[d], kk[d], st[d], dil[d], padding, pb_);
        if (pe_ != pb_) {  // asymmetric
            p.end = pe_;
            EDDL_CHECK(in[d] + p.begin + p.end >= span, who << ": window of " << span << " does not fit input size " << in[d]
                                                            << " with padding " << p.begin << "+" << p.end);
            p.out = (in[d] + p.begin + p.end - span) / st[d] + 1;
        }
        end_pad[d] = p.end;
        if (opt.ceil_mode && !global) {  // keep a last partial window that starts inside input or begin padding
            int o = (in[d] + p.begin + p.end - span + st[d] - 1) / st[d] + 1;
            if ((o - 1) * st[d] >= in[d] + p.begin) --o;
            p.end = std::max(p.end, (o - 1) * st[d] + span - in[d] - p.begin);
            p.out = o;
        }
        b[d] = p.begin;
        e[d] = p.end;
        out[d] = p.out;
    }
    if (!pads.empty()) padding = "explicit";
    kd = kk[0]; kh = kk[1]; kw = kk[2]; sd = st[0]; sh = st[1]; sw = st[2];
    pf = b[0]; pk = e[0]; pt = b[1]; pb = e[1]; pl = b[2]; pr = e[2];
    parents = {parent};
    out_shape = {parent->out_shape[0]};
    for (int a = 0; a < rank; ++a) out_shape.push_back(out[3 - rank + a]);
}

std::string LPool2D::type() const {
    return std::string(global ? "Global" : "") + (kind == PoolKind::Max ? "MaxPool" : "AveragePool") +
           std::to_string(rank) + "D";
}

PoolGeom LPool2D::geom(int batch) const {
    const Dhw i = dhw(parents[0]->out_shape, rank), o = dhw(out_shape, rank);
    PoolGeom g{kind, batch, parents[0]->out_shape[0], i.h, i.w, o.h, o.w, kh, kw, sh, sw, pt, pl, pb, pr,
               i.d, o.d, kd, sd, pf, pk};
    g.dd = dil[0];
    g.dh = dil[1];
    g.dw = dil[2];
    g.count_pad = options.count_include_pad && kind == PoolKind::Avg;
    g.cpk = end_pad[0];
    g.cpb = end_pad[1];
    g.cpr = end_pad[2];
    g.blocked = parents[0]->blocked;  // (a 1x1 output is the same in both layouts)
    return g;
}

void LPool2D::forward() {
    const Tensor& x = *parents[0]->output;
    const PoolGeom g = geom(x.shape[0]);
    const auto& k = kernels(x.device);
    // sized here, not in resize: the size depends on the layout, known only once the network runs
    const int64_t ws = k.pool_workspace(g);
    if (ws > 0 && (!workspace || workspace->size != ws)) workspace = Tensor::empty({int(ws)}, x.device);
    k.pool(g, x.ptr, output->ptr, ws > 0 ? workspace->ptr : nullptr);
}

void LPool2D::backward() {
    if (!parents[0]->needs_delta) return;
    const bool acc = take_parent_delta(0);
    kernels(delta->device).pool_backward(geom(delta->shape[0]), delta->ptr, workspace ? workspace->ptr : nullptr,
                                           parents[0]->delta->ptr, acc);
}

LayerConfig LPool2D::config() const {
    std::ostringstream pool, str, pads, ends, dils;
    const int k[3] = {kd, kh, kw}, st[3] = {sd, sh, sw}, b[3] = {pf, pt, pl};
    bool asym = false, dilated = false;
    for (int d = 3 - rank; d < 3; ++d) {
        const char* sep = d > 3 - rank ? "," : "";
        pool << sep << k[d];
        str << sep << st[d];
        pads << sep << b[d];
        ends << sep << end_pad[d];
        dils << sep << dil[d];
        asym = asym || end_pad[d] != b[d];
        dilated = dilated || dil[d] != 1;
    }
    LayerConfig c{{"pool_kind", kind == PoolKind::Max ? "max" : "avg"}, {"global", global ? "1" : "0"},
                  {"pool", pool.str()}, {"strides", str.str()}, {"padding", padding},
                  {"pads", pads.str()}, {"rank", std::to_string(rank)}};
    if (padding == "explicit" && asym) c["end_pads"] = ends.str();
    if (dilated) c["dilations"] = dils.str();
    if (options.ceil_mode) c["ceil_mode"] = "1";
    if (options.count_include_pad) c["count_include_pad"] = "1";
    return c;
}

}  // namespace eddl
