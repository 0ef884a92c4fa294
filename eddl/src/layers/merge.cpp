// Layers joining several inputs: Add, Subtract, Multiply, Average, Maximum, Minimum, Concat.
#include "layers/layers.h"

namespace eddl {
namespace {

const char* merge_name(MergeOp op) {
    static const char* n[] = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"};
    return n[int(op)];
}

BroadcastPlan flat_plan(int64_t n) {
    BroadcastPlan p;
    p.ndim = 1; p.dims[0] = n; p.sa[0] = 1; p.sb[0] = 1; p.n = n;
    return p;
}

}  // namespace

LMerge::LMerge(const vlayer& ps, MergeOp o, const std::string& n) : op(o) {
    name = n.empty() ? auto_name(merge_name(op)) : n;
    EDDL_CHECK(ps.size() >= 2, merge_name(op) << " '" << name << "': needs at least 2 inputs, got " << ps.size());
    EDDL_CHECK(op != MergeOp::Subtract || ps.size() == 2, "Subtract '" << name << "': needs exactly 2 inputs");
    for (const auto& p : ps) {
        EDDL_CHECK(p, merge_name(op) << " '" << name << "': an input layer is null");
        EDDL_CHECK(p->out_shape == ps[0]->out_shape,
                   merge_name(op) << " '" << name << "': input '" << p->name << "' has shape " << shape_str(p->out_shape)
                                  << " but '" << ps[0]->name << "' has " << shape_str(ps[0]->out_shape));
    }
    parents = ps;
    out_shape = ps[0]->out_shape;
}

std::string LMerge::type() const { return merge_name(op); }

void LMerge::forward() {
    const auto& k = kernels(output->device);
    const int64_t n = output->size;
    const auto p = flat_plan(n);
    const BinaryOp bop = op == MergeOp::Subtract ? BinaryOp::Sub
                       : op == MergeOp::Multiply ? BinaryOp::Mul
                       : op == MergeOp::Maximum  ? BinaryOp::Max
                       : op == MergeOp::Minimum  ? BinaryOp::Min
                                                 : BinaryOp::Add;
    k.binary(bop, parents[0]->output->ptr, parents[1]->output->ptr, output->ptr, p);
    for (size_t i = 2; i < parents.size(); ++i) k.binary(bop, output->ptr, parents[i]->output->ptr, output->ptr, p);
    if (op == MergeOp::Average) k.unary(UnaryOp::MulScalar, output->ptr, output->ptr, n, 1.0f / float(parents.size()), 0);
}

void LMerge::backward() {
    const auto& k = kernels(output->device);
    const int64_t n = output->size;
    const int np = int(parents.size());
    for (int i = 0; i < np; ++i) {
        if (!parents[i]->needs_delta) continue;
        const bool acc = take_parent_delta(i);
        float* dx = parents[i]->delta->ptr;
        const float b = acc ? 1.0f : 0.0f;
        switch (op) {
            case MergeOp::Add: k.axpby(1.0f, delta->ptr, b, dx, n); break;
            case MergeOp::Average: k.axpby(1.0f / float(np), delta->ptr, b, dx, n); break;
            case MergeOp::Subtract: k.axpby(i == 0 ? 1.0f : -1.0f, delta->ptr, b, dx, n); break;
            case MergeOp::Multiply: {
                Tensor prod(output->shape, output->device);  // delta times every other input
                k.copy(delta->ptr, prod.ptr, n);
                for (int j = 0; j < np; ++j)
                    if (j != i) k.binary(BinaryOp::Mul, prod.ptr, parents[j]->output->ptr, prod.ptr, flat_plan(n));
                k.axpby(1.0f, prod.ptr, b, dx, n);
                break;
            }
            case MergeOp::Maximum: case MergeOp::Minimum: {
                // The gradient goes to the first input holding the extreme value.
                const float* y = output->ptr;
                for (int64_t e = 0; e < n; ++e) {
                    int winner = 0;
                    while (winner < np - 1 && parents[winner]->output->ptr[e] != y[e]) ++winner;
                    const float g = winner == i ? delta->ptr[e] : 0.0f;
                    dx[e] = acc ? dx[e] + g : g;
                }
                break;
            }
        }
    }
}

LayerConfig LMerge::config() const { return {{"merge", std::to_string(int(op))}}; }

LConcat::LConcat(const vlayer& ps, int ax, const std::string& n) : axis(ax) {
    name = n.empty() ? auto_name("concat") : n;
    EDDL_CHECK(!ps.empty(), "Concat '" << name << "': no inputs");
    for (const auto& p : ps) EDDL_CHECK(p, "Concat '" << name << "': an input layer is null");
    const Shape& s0 = ps[0]->out_shape;
    const int nd = int(s0.size());
    if (axis < 0) axis += nd;
    EDDL_CHECK(axis >= 0 && axis < nd, "Concat '" << name << "': axis " << ax << " out of range for input shape "
                                                  << shape_str(s0) << " (batch excluded)");
    out_shape = s0;
    out_shape[axis] = 0;
    for (const auto& p : ps) {
        bool ok = int(p->out_shape.size()) == nd;
        for (int i = 0; ok && i < nd; ++i) ok = i == axis || p->out_shape[i] == s0[i];
        EDDL_CHECK(ok, "Concat '" << name << "': input '" << p->name << "' has shape " << shape_str(p->out_shape)
                                  << ", incompatible with " << shape_str(s0) << " on axis " << axis);
        out_shape[axis] += p->out_shape[axis];
    }
    parents = ps;
}

namespace {
// rows: batch * dims before axis; a parent's block is its size / rows.
template <class F>
void concat_blocks(const Layer& l, int axis, F f) {
    int64_t rows = l.output->shape[0];
    for (int i = 0; i < axis; ++i) rows *= l.out_shape[i];
    const int64_t out_row = l.output->size / rows;
    int64_t off = 0;
    for (size_t p = 0; p < l.parents.size(); ++p) {
        const int64_t row = l.parents[p]->output->size / rows;
        f(int(p), rows, row, out_row, off);
        off += row;
    }
}
}  // namespace

void LConcat::forward() {
    const auto& k = kernels(output->device);
    concat_blocks(*this, axis, [&](int p, int64_t rows, int64_t row, int64_t out_row, int64_t off) {
        for (int64_t r = 0; r < rows; ++r) k.copy(parents[p]->output->ptr + r * row, output->ptr + r * out_row + off, row);
    });
}

void LConcat::backward() {
    const auto& k = kernels(output->device);
    concat_blocks(*this, axis, [&](int p, int64_t rows, int64_t row, int64_t out_row, int64_t off) {
        if (!parents[p]->needs_delta) return;
        const float b = take_parent_delta(p) ? 1.0f : 0.0f;
        for (int64_t r = 0; r < rows; ++r)
            k.axpby(1.0f, delta->ptr + r * out_row + off, b, parents[p]->delta->ptr + r * row, row);
    });
}

LayerConfig LConcat::config() const { return {{"axis", std::to_string(axis)}}; }

}  // namespace eddl
