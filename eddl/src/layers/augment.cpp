// Data-augmentation layers: per-sample geometric transforms and cutout on {C, H, W} inputs, as
// one affine resampling (kernels' warp). Random ones draw from (net seed, layer, step, sample),
// so runs repeat at any thread count; in inference they pass the input through (RandomCrop takes
// the centred crop, to keep its output shape). Backward is the transpose of the resampling.
#include <cmath>
#include <sstream>

#include "layers/layers.h"
#include "tensor/random.h"

namespace eddl {
namespace {

WarpBorder parse_border(const std::string& who, const std::string& s) {
    if (s == "constant") return WarpBorder::Constant;
    if (s == "nearest" || s == "edge") return WarpBorder::Nearest;
    if (s == "reflect" || s == "mirror") return WarpBorder::Reflect;
    if (s == "wrap") return WarpBorder::Wrap;
    if (s == "original") return WarpBorder::Original;
    EDDL_FAIL(who << ": unknown da_mode '" << s << "' (use constant, nearest, reflect, wrap or original)");
}

std::string floats(const std::vector<float>& v) {
    std::ostringstream os;
    os.precision(9);
    for (size_t i = 0; i < v.size(); ++i) os << (i ? "," : "") << v[i];
    return os.str();
}

const char* kNames[] = {"RandomCrop", "RandomCropScale", "RandomCutout", "RandomFlip", "RandomRotation", "RandomScale",
                        "RandomShift", "Cutout", "Flip", "Rotate", "Scale", "Shift"};

}  // namespace

LTransform::LTransform(layer parent, Kind k, const std::vector<float>& a, const std::vector<float>& b,
                       const Shape& shape, const std::string& mode, float c, const std::string& n)
    : kind(k), pa(a), pb(b), new_shape(shape), da_mode(mode), constant(c) {
    name = n.empty() ? auto_name(kNames[int(k)]) : n;
    const std::string who = type() + " '" + name + "'";
    EDDL_CHECK(parent && parent->out_shape.size() == 3,
               who << ": needs a {channels, height, width} input" << (parent ? ", got " + shape_str(parent->out_shape) : ""));
    border = parse_border(who, da_mode);
    auto range = [&](const std::vector<float>& r, const char* what, float lo, float hi) {
        EDDL_CHECK(r.size() == 2 && r[0] <= r[1] && r[0] >= lo && r[1] <= hi,
                   who << ": " << what << " must be a range {min, max} within [" << lo << ", " << hi << "], got {"
                       << floats(r) << "}");
    };
    parents = {parent};
    out_shape = parent->out_shape;
    const int h = out_shape[1], w = out_shape[2];
    switch (kind) {
        case Kind::RandomCrop:
            EDDL_CHECK(new_shape.size() == 2 && new_shape[0] >= 1 && new_shape[1] >= 1 && new_shape[0] <= h &&
                           new_shape[1] <= w,
                       who << ": new_shape {h, w} must fit the input " << shape_str(parent->out_shape));
            out_shape = {out_shape[0], new_shape[0], new_shape[1]};
            break;
        case Kind::RandomCropScale: range(pa, "factor", 1e-3f, 1.0f); break;
        case Kind::RandomCutout:
            range(pa, "factor_x", 0.0f, 1.0f);
            range(pb, "factor_y", 0.0f, 1.0f);
            break;
        case Kind::RandomFlip: case Kind::Flip:
            EDDL_CHECK(pa.size() == 1 && (pa[0] == 0 || pa[0] == 1), who << ": axis must be 0 (vertical) or 1 (horizontal)");
            break;
        case Kind::RandomRotation: range(pa, "factor (degrees)", -360.0f, 360.0f); break;
        case Kind::RandomScale: range(pa, "factor", 1e-3f, 1e3f); break;
        case Kind::RandomShift:
            range(pa, "factor_x", -1.0f, 1.0f);
            range(pb, "factor_y", -1.0f, 1.0f);
            break;
        case Kind::Cutout:
            EDDL_CHECK(pa.size() == 2 && pb.size() == 2 && pa[0] >= 0 && pa[1] >= 0 && pa[0] <= pb[0] && pa[1] <= pb[1] &&
                           pb[0] < float(h) && pb[1] < float(w),
                       who << ": from {y, x} .. to {y, x} (inclusive) must lie in " << shape_str(parent->out_shape));
            break;
        case Kind::Rotate: EDDL_CHECK(pa.size() == 1 && pb.size() == 2, who << ": angle and offset_center {y, x}"); break;
        case Kind::Scale:
            EDDL_CHECK(new_shape.size() == 2 && new_shape[0] >= 1 && new_shape[1] >= 1,
                       who << ": new_shape {h, w} must be positive");
            if (pa.at(0) != 0) out_shape = {out_shape[0], new_shape[0], new_shape[1]};  // pa[0]: reshape
            break;
        case Kind::Shift: EDDL_CHECK(pa.size() == 2, who << ": shift needs {y, x} pixels"); break;
    }
}

std::string LTransform::type() const {
    if (kind == Kind::Flip && pb.size() == 1) return pa[0] == 0 ? "VerticalFlip" : "HorizontalFlip";
    if (kind == Kind::RandomFlip && pb.size() == 1) return pa[0] == 0 ? "RandomVerticalFlip" : "RandomHorizontalFlip";
    return kNames[int(kind)];
}

bool LTransform::random() const { return int(kind) <= int(Kind::RandomShift); }

WarpGeom LTransform::geom(int batch) const {
    const Shape& in = parents[0]->out_shape;
    return {batch, in[0], in[1], in[2], out_shape[1], out_shape[2], border, constant};
}

// The sampling of sample i: output (y, x) reads input (m0 y + m1 x + m2, m3 y + m4 x + m5); box
// [y0, y1) x [x0, x1) becomes the constant.
void LTransform::plan(int i, float* m, int* box) const {
    const int ih = parents[0]->out_shape[1], iw = parents[0]->out_shape[2], oh = out_shape[1], ow = out_shape[2];
    const float cy = (ih - 1) / 2.0f, cx = (iw - 1) / 2.0f;
    m[0] = 1; m[1] = 0; m[2] = 0; m[3] = 0; m[4] = 1; m[5] = 0;  // identity
    box[0] = box[1] = box[2] = box[3] = 0;                        // no box
    const bool pass = random() && mode != TRMODE;
    Rng rng(derive_seed(seed, step, uint64_t(i)));
    auto zoom = [&](float s) {  // about the centre; s > 1 enlarges the content
        m[0] = 1 / s; m[2] = cy - cy / s;
        m[4] = 1 / s; m[5] = cx - cx / s;
    };
    auto rotate = [&](float degrees, float oy, float ox) {  // counter-clockwise as displayed (y down)
        const float t = degrees * 3.14159265358979f / 180.0f, c = std::cos(t), s = std::sin(t);
        const float py = cy + oy, px = cx + ox;
        m[0] = c; m[1] = s; m[2] = py - c * py - s * px;
        m[3] = -s; m[4] = c; m[5] = px + s * py - c * px;
    };
    auto cutout = [&](int y0, int y1, int x0, int x1) {
        box[0] = y0; box[1] = y1; box[2] = x0; box[3] = x1;
    };
    switch (kind) {
        case Kind::RandomCrop: {
            const int dy = ih - oh, dx = iw - ow;
            m[2] = pass ? float(dy / 2) : float(rng.below(uint64_t(dy) + 1));
            m[5] = pass ? float(dx / 2) : float(rng.below(uint64_t(dx) + 1));
            return;
        }
        case Kind::Flip:
            if (pa[0] == 0) { m[0] = -1; m[2] = float(ih - 1); }
            else { m[4] = -1; m[5] = float(iw - 1); }
            return;
        case Kind::Rotate: rotate(pa[0], pb[0], pb[1]); return;
        case Kind::Shift: m[2] = -pa[0]; m[5] = -pa[1]; return;
        case Kind::Cutout:
            cutout(int(pa[0]), int(pb[0]) + 1, int(pa[1]), int(pb[1]) + 1);
            return;
        case Kind::Scale:
            if (pa[0] != 0) {  // resize to new_shape, half-pixel centres
                m[0] = float(ih) / float(oh); m[2] = 0.5f * m[0] - 0.5f;
                m[4] = float(iw) / float(ow); m[5] = 0.5f * m[4] - 0.5f;
            } else {  // zoom keeping the size: new_shape / input size
                m[0] = float(ih) / float(new_shape[0]); m[2] = cy - cy * m[0];
                m[4] = float(iw) / float(new_shape[1]); m[5] = cx - cx * m[4];
            }
            return;
        default: break;
    }
    if (pass) return;
    switch (kind) {
        case Kind::RandomCropScale: {  // a box of a random fraction of the size, resized to the whole
            const float f = rng.uniform(pa[0], pa[1]);
            const float bh = f * float(ih), bw = f * float(iw);
            const float y0 = rng.uniform(0.0f, float(ih) - bh), x0 = rng.uniform(0.0f, float(iw) - bw);
            m[0] = bh / float(oh); m[2] = y0 + 0.5f * m[0] - 0.5f;
            m[4] = bw / float(ow); m[5] = x0 + 0.5f * m[4] - 0.5f;
            return;
        }
        case Kind::RandomCutout: {
            const int bw = int(std::round(rng.uniform(pa[0], pa[1]) * float(iw)));
            const int bh = int(std::round(rng.uniform(pb[0], pb[1]) * float(ih)));
            const int y0 = int(rng.below(uint64_t(ih - bh) + 1)), x0 = int(rng.below(uint64_t(iw - bw) + 1));
            cutout(y0, y0 + bh, x0, x0 + bw);
            return;
        }
        case Kind::RandomFlip:
            if (rng.uniform() < 0.5) {
                if (pa[0] == 0) { m[0] = -1; m[2] = float(ih - 1); }
                else { m[4] = -1; m[5] = float(iw - 1); }
            }
            return;
        case Kind::RandomRotation: rotate(rng.uniform(pa[0], pa[1]), pb.size() == 2 ? pb[0] : 0, pb.size() == 2 ? pb[1] : 0); return;
        case Kind::RandomScale: zoom(rng.uniform(pa[0], pa[1])); return;
        case Kind::RandomShift: {
            const float fx = rng.uniform(pa[0], pa[1]), fy = rng.uniform(pb[0], pb[1]);
            m[2] = -std::round(fy * float(ih));
            m[5] = -std::round(fx * float(iw));
            return;
        }
        default: return;
    }
}

void LTransform::forward() {
    const Tensor& x = *parents[0]->output;
    const int n = x.shape[0];
    mats.assign(size_t(n) * 6, 0.0f);
    boxes.assign(size_t(n) * 4, 0);
    identity = true;
    for (int i = 0; i < n; ++i) {
        float* m = mats.data() + 6 * i;
        int* b = boxes.data() + 4 * i;
        plan(i, m, b);
        identity = identity && out_shape == parents[0]->out_shape && m[0] == 1 && m[1] == 0 && m[2] == 0 && m[3] == 0 &&
                   m[4] == 1 && m[5] == 0 && b[0] >= b[1];
    }
    const auto& k = kernels(x.device);
    if (identity) k.copy(x.ptr, output->ptr, x.size);
    else k.warp(geom(n), mats.data(), boxes.data(), x.ptr, output->ptr);
}

void LTransform::backward() {
    if (!parents[0]->needs_delta) return;
    const bool acc = take_parent_delta(0);
    const auto& k = kernels(delta->device);
    Tensor& dx = *parents[0]->delta;
    if (identity) k.axpby(1.0f, delta->ptr, acc ? 1.0f : 0.0f, dx.ptr, delta->size);
    else k.warp_backward(geom(delta->shape[0]), mats.data(), boxes.data(), delta->ptr, dx.ptr, acc);
}

LayerConfig LTransform::config() const {
    std::vector<int> ns(new_shape.begin(), new_shape.end());
    std::ostringstream c;
    c.precision(9);
    c << constant;
    return {{"kind", std::to_string(int(kind))}, {"a", floats(pa)}, {"b", floats(pb)},
            {"new_shape", floats(std::vector<float>(ns.begin(), ns.end()))}, {"da_mode", da_mode},
            {"constant", c.str()}};
}

}  // namespace eddl
