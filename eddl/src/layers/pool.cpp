// MaxPool2D, AveragePool2D and their global forms; kernels via the dispatch table.
#include <sstream>

#include "layers/layers.h"

namespace eddl {

LPool2D::LPool2D(layer parent, PoolKind k, const std::vector<int>& pool, const std::vector<int>& strides,
                 const std::string& pad, bool glob, const std::string& n, const std::vector<int>& pads)
    : kind(k), global(glob), padding(pad) {
    const std::string base = std::string(glob ? "Global" : "") + (k == PoolKind::Max ? "MaxPool2D" : "AveragePool2D");
    name = n.empty() ? auto_name(base) : n;
    const std::string who = base + " '" + name + "'";
    EDDL_CHECK(parent, who << ": parent layer is null");
    EDDL_CHECK(parent->out_shape.size() == 3, who << ": input from '" << parent->name << "' has shape "
                                                  << shape_str(parent->out_shape)
                                                  << " (batch excluded); 2-D pooling needs {channels, height, width}");
    const int ih = parent->out_shape[1], iw = parent->out_shape[2];
    if (global) {
        kh = ih; kw = iw; sh = ih; sw = iw;
        padding = "valid";
    } else {
        EDDL_CHECK(pool.size() == 2 && strides.size() == 2, who << ": pool_size and strides need 2 values each");
        kh = pool[0]; kw = pool[1]; sh = strides[0]; sw = strides[1];
    }
    EDDL_CHECK(pads.empty() || (pads.size() == 2 && pads[0] >= 0 && pads[1] >= 0 && pads[0] < kh && pads[1] < kw),
               who << ": explicit padding needs {ph, pw}, each smaller than the window");
    const auto ph = pad_1d(who, ih, kh, sh, 1, padding, pads.empty() ? -1 : pads[0]);
    const auto pw = pad_1d(who, iw, kw, sw, 1, padding, pads.empty() ? -1 : pads[1]);
    if (!pads.empty()) padding = "explicit";
    pt = ph.begin; pb = ph.end; pl = pw.begin; pr = pw.end;
    parents = {parent};
    out_shape = {parent->out_shape[0], ph.out, pw.out};
}

std::string LPool2D::type() const {
    return std::string(global ? "Global" : "") + (kind == PoolKind::Max ? "MaxPool2D" : "AveragePool2D");
}

PoolGeom LPool2D::geom(int batch) const {
    const Shape& in = parents[0]->out_shape;
    return PoolGeom{kind, batch, in[0], in[1], in[2], out_shape[1], out_shape[2], kh, kw, sh, sw, pt, pl, pb, pr};
}

void LPool2D::resize(int batch) {
    Layer::resize(batch);
    const int64_t ws = kernels(output->device).pool2d_workspace(geom(batch));
    if (ws > 0 && (!workspace || workspace->size != ws)) workspace = Tensor::empty({int(ws)}, output->device);
}

void LPool2D::forward() {
    const Tensor& x = *parents[0]->output;
    kernels(x.device).pool2d(geom(x.shape[0]), x.ptr, output->ptr, workspace ? workspace->ptr : nullptr);
}

void LPool2D::backward() {
    if (!parents[0]->needs_delta) return;
    const bool acc = take_parent_delta(0);
    kernels(delta->device).pool2d_backward(geom(delta->shape[0]), delta->ptr, workspace ? workspace->ptr : nullptr,
                                           parents[0]->delta->ptr, acc);
}

LayerConfig LPool2D::config() const {
    std::ostringstream pool, str;
    pool << kh << "," << kw;
    str << sh << "," << sw;
    return {{"pool_kind", kind == PoolKind::Max ? "max" : "avg"}, {"global", global ? "1" : "0"},
            {"pool", pool.str()}, {"strides", str.str()}, {"padding", padding},
            {"pads", std::to_string(pt) + "," + std::to_string(pl)}};
}

}  // namespace eddl
