// ONNX export: each layer becomes one standard node (or a short standard chain), its output
// named after the layer; weights become initializers named "<layer>.<role>".
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <cstring>

#include "eddl/eddl.h"
#include "io/atomic_file.h"
#include "kernels/cpu/cpu_kernels.h"
#include "layers/layers.h"
#include "onnx/onnx_common.h"

namespace eddl {
namespace {

using onnxio::EwFn;
using onnxio::LElementwise;

class Exporter {
public:
    Exporter(const Net& net, bool gradients) : net_(net), grads_(gradients) {}

    std::string run() {
        model_.set_ir_version(8);  // ONNX 1.12 (opset 17)
        model_.set_producer_name("EDDL (DeepHealth toolkit)");
        model_.set_producer_version("0.1.0");
        auto* op = model_.add_opset_import();
        op->set_domain("");
        op->set_version(onnxio::kOpset);
        auto* meta = model_.add_metadata_props();
        meta->set_key("eddl.content");
        meta->set_value(grads_ ? "gradients" : "weights");
        g_ = model_.mutable_graph();
        g_->set_name(net_.name.empty() ? "model" : net_.name);
        // graph inputs in the model's input order (the layers' topological order may differ)
        for (const auto& l : net_.inputs) value_info(g_->add_input(), *l);
        for (const auto& l : net_.layers) layer_(*l);
        for (const auto& l : net_.outputs) value_info(g_->add_output(), *l);
        std::string out;
        EDDL_CHECK(model_.SerializeToString(&out), "ONNX export: protobuf serialization failed (model over 2 GiB?)");
        return out;
    }

private:
    const Net& net_;
    bool grads_;
    onnx::ModelProto model_;
    onnx::GraphProto* g_ = nullptr;
    std::set<std::string> node_names_;

    static std::vector<int64_t> dims_of(const Shape& s) { return {s.begin(), s.end()}; }

    void value_info(onnx::ValueInfoProto* vi, const Layer& l) {
        vi->set_name(l.name);
        auto* tt = vi->mutable_type()->mutable_tensor_type();
        tt->set_elem_type(onnx::TensorProto::FLOAT);
        auto* sh = tt->mutable_shape();
        sh->add_dim()->set_dim_param("batch");
        for (int d : l.out_shape) sh->add_dim()->set_dim_value(d);
    }

    // parameter i of l (its gradient in gradient mode) as initializer `name`
    std::string param(const Layer& l, size_t i, const std::string& role, const std::vector<int64_t>& dims = {}) {
        const Tensor& t = grads_ ? *l.gradients.at(i) : *l.params.at(i);
        EDDL_CHECK(onnxio::param_roles(l).at(i) == role, "ONNX export: internal role mismatch for '" << l.name << "'");
        const std::string n = l.name + "." + role;
        onnxio::to_proto(*g_->add_initializer(), n, dims.empty() ? dims_of(t.shape) : dims, t.ptr);
        return n;
    }
    std::string state(const Layer& l, size_t i, const std::string& role) {
        const Tensor& t = *l.states.at(i);
        const std::string n = l.name + "." + role;
        onnxio::to_proto(*g_->add_initializer(), n, dims_of(t.shape), t.ptr);
        return n;
    }
    std::string constant(const std::string& name, const std::vector<int64_t>& dims, const std::vector<float>& v) {
        onnxio::to_proto(*g_->add_initializer(), name, dims, v.data());
        return name;
    }
    std::string ints(const std::string& name, const std::vector<int64_t>& v) {
        onnxio::to_proto_i64(*g_->add_initializer(), name, {int64_t(v.size())}, v);
        return name;
    }

    onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& in, const std::string& out,
                          const std::string& name) {
        auto* n = g_->add_node();
        n->set_op_type(op);
        std::string unique = name;  // ONNX Runtime rejects repeated node names
        for (int k = 2; !node_names_.insert(unique).second; ++k) unique = name + "_" + std::to_string(k);
        n->set_name(unique);
        for (const auto& i : in) n->add_input(i);
        n->add_output(out);
        return n;
    }
    static void attr(onnx::NodeProto* n, const std::string& k, int64_t v) {
        auto* a = n->add_attribute();
        a->set_name(k);
        a->set_type(onnx::AttributeProto::INT);
        a->set_i(v);
    }
    static void attr(onnx::NodeProto* n, const std::string& k, float v) {
        auto* a = n->add_attribute();
        a->set_name(k);
        a->set_type(onnx::AttributeProto::FLOAT);
        a->set_f(v);
    }
    static void attr(onnx::NodeProto* n, const std::string& k, const std::string& v) {
        auto* a = n->add_attribute();
        a->set_name(k);
        a->set_type(onnx::AttributeProto::STRING);
        a->set_s(v);
    }
    static void attr(onnx::NodeProto* n, const std::string& k, const std::vector<int64_t>& v) {
        auto* a = n->add_attribute();
        a->set_name(k);
        a->set_type(onnx::AttributeProto::INTS);
        for (int64_t x : v) a->add_ints(x);
    }

    [[noreturn]] void unsupported(const Layer& l, const std::string& why) {
        EDDL_FAIL("ONNX export: layer '" << l.name << "' of type " << l.type() << " has no standard ONNX equivalent"
                                         << (why.empty() ? "" : ": " + why));
    }

    void activation(const LActivation& l) {
        const std::string& x = l.parents[0]->name;
        switch (l.op) {
            case UnaryOp::Relu: node("Relu", {x}, l.name, l.name); return;
            case UnaryOp::LeakyRelu: attr(node("LeakyRelu", {x}, l.name, l.name), "alpha", l.alpha); return;
            case UnaryOp::Sigmoid: node("Sigmoid", {x}, l.name, l.name); return;
            case UnaryOp::HardSigmoid: {
                auto* n = node("HardSigmoid", {x}, l.name, l.name);
                attr(n, "alpha", 0.2f);
                attr(n, "beta", 0.5f);
                return;
            }
            case UnaryOp::Tanh: node("Tanh", {x}, l.name, l.name); return;
            case UnaryOp::Elu: attr(node("Elu", {x}, l.name, l.name), "alpha", l.alpha); return;
            case UnaryOp::Selu: node("Selu", {x}, l.name, l.name); return;  // ONNX's default constants are ours
            case UnaryOp::Softplus: node("Softplus", {x}, l.name, l.name); return;
            case UnaryOp::Softsign: node("Softsign", {x}, l.name, l.name); return;
            case UnaryOp::ThresholdedRelu: attr(node("ThresholdedRelu", {x}, l.name, l.name), "alpha", l.alpha); return;
            case UnaryOp::Exponential: node("Exp", {x}, l.name, l.name); return;
            case UnaryOp::Linear:
                if (l.alpha == 1.0f) node("Identity", {x}, l.name, l.name);
                else node("Mul", {x, constant(l.name + ".alpha", {}, {l.alpha})}, l.name, l.name);
                return;
            case UnaryOp::Gelu: {  // x * 0.5 * (1 + erf(x / sqrt(2))), opset 17 has no Gelu
                const std::string p = l.name + "/";
                node("Div", {x, constant(p + "sqrt2", {}, {std::sqrt(2.0f)})}, p + "div", p + "div");
                node("Erf", {p + "div"}, p + "erf", p + "erf");
                node("Add", {p + "erf", constant(p + "one", {}, {1.0f})}, p + "add", p + "add");
                node("Mul", {x, p + "add"}, p + "mul", p + "mul");
                node("Mul", {p + "mul", constant(p + "half", {}, {0.5f})}, l.name, l.name);
                return;
            }
            case UnaryOp::Swish:
                node("Sigmoid", {x}, l.name + "/sigmoid", l.name + "/sigmoid");
                node("Mul", {x, l.name + "/sigmoid"}, l.name, l.name);
                return;
            default: unsupported(l, "activation '" + l.act + "'");
        }
    }

    void conv(const LConv2D& l) {
        const int r = l.rank;
        auto last = [&](int d, int h, int w) {
            const std::vector<int64_t> all{d, h, w};
            return std::vector<int64_t>(all.end() - r, all.end());
        };
        std::vector<int64_t> pads = last(l.pf, l.pt, l.pl);
        const auto ends = last(l.pk, l.pb, l.pr);
        pads.insert(pads.end(), ends.begin(), ends.end());
        std::vector<std::string> in{l.parents[0]->name, param(l, 0, "weight")};
        if (l.use_bias) in.push_back(param(l, 1, "bias"));
        auto* n = node("Conv", in, l.name, l.name);
        attr(n, "kernel_shape", last(l.kd, l.kh, l.kw));
        attr(n, "strides", last(l.sd, l.sh, l.sw));
        attr(n, "dilations", last(l.dd, l.dh, l.dw));
        attr(n, "pads", pads);
        attr(n, "group", int64_t(l.groups));
    }

    void convt(const LConvT2D& l) {
        // ours: out = (in - 1) * s + span - begin - end, with end < 0 meaning output padding
        const size_t off = size_t(3 - l.rank);
        auto last = [&](int d, int h, int w) {
            const std::vector<int64_t> all{d, h, w};
            return std::vector<int64_t>(all.begin() + long(off), all.end());
        };
        std::vector<int64_t> pads = last(l.pf, l.pt, l.pl);
        const auto ends = last(std::max(l.pk, 0), std::max(l.pb, 0), std::max(l.pr, 0));
        pads.insert(pads.end(), ends.begin(), ends.end());
        const auto opad = last(std::max(-l.pk, 0), std::max(-l.pb, 0), std::max(-l.pr, 0));
        std::vector<std::string> in{l.parents[0]->name, param(l, 0, "weight")};
        if (l.use_bias) in.push_back(param(l, 1, "bias"));
        auto* n = node("ConvTranspose", in, l.name, l.name);
        attr(n, "kernel_shape", last(l.kd, l.kh, l.kw));
        attr(n, "strides", last(l.sd, l.sh, l.sw));
        attr(n, "dilations", last(l.dd, l.dh, l.dw));
        attr(n, "pads", pads);
        if (std::any_of(opad.begin(), opad.end(), [](int64_t v) { return v != 0; })) attr(n, "output_padding", opad);
    }

    void pool(const LPool2D& l) {
        const std::string& x = l.parents[0]->name;
        if (l.global) {
            node(l.kind == PoolKind::Max ? "GlobalMaxPool" : "GlobalAveragePool", {x}, l.name, l.name);
            return;
        }
        pool_attrs(l, node(l.kind == PoolKind::Max ? "MaxPool" : "AveragePool", {x}, l.name, l.name));
    }

    void pool_attrs(const LPool2D& l, onnx::NodeProto* n) {
        const int r = l.rank;
        auto last = [&](int d, int h, int w) {
            const std::vector<int64_t> all{d, h, w};
            return std::vector<int64_t>(all.end() - r, all.end());
        };
        std::vector<int64_t> pads = last(l.pf, l.pt, l.pl);
        const auto ends = last(l.end_pad[0], l.end_pad[1], l.end_pad[2]);  // the ceil_mode extension is implied
        pads.insert(pads.end(), ends.begin(), ends.end());
        attr(n, "kernel_shape", last(l.kd, l.kh, l.kw));
        attr(n, "strides", last(l.sd, l.sh, l.sw));
        attr(n, "pads", pads);
        if (l.options.ceil_mode) attr(n, "ceil_mode", int64_t(1));
        const auto dil = last(l.dil[0], l.dil[1], l.dil[2]);
        if (std::any_of(dil.begin(), dil.end(), [](int64_t v) { return v != 1; })) attr(n, "dilations", dil);
        if (l.kind == PoolKind::Avg) attr(n, "count_include_pad", int64_t(l.options.count_include_pad ? 1 : 0));
    }

    void batchnorm(const LBatchNorm& l) {
        const int c = l.out_shape[0];
        std::string scale, bias;
        if (l.affine) {
            scale = param(l, 0, "scale");
            bias = param(l, 1, "bias");
        } else {
            scale = constant(l.name + ".fixed_scale", {c}, std::vector<float>(size_t(c), 1.0f));
            bias = constant(l.name + ".fixed_bias", {c}, std::vector<float>(size_t(c), 0.0f));
        }
        auto* n = node("BatchNormalization",
                       {l.parents[0]->name, scale, bias, state(l, 0, "running_mean"), state(l, 1, "running_var")},
                       l.name, l.name);
        attr(n, "epsilon", l.eps);
        attr(n, "momentum", l.momentum);
    }

    void groupnorm(const LGroupNorm& l) {
        const std::string& x = l.parents[0]->name;
        const std::vector<int64_t> shape = dims_of(l.out_shape);
        if (l.groups == 0) {  // LayerNormalization over the sample axes from l.axis on
            std::string scale, bias;
            if (l.affine) {
                scale = param(l, 0, "scale");
                bias = param(l, 1, "bias");
            } else {
                const std::vector<int64_t> ns(shape.begin() + l.axis, shape.end());
                int64_t n = 1;
                for (int64_t d : ns) n *= d;
                scale = constant(l.name + ".fixed_scale", ns, std::vector<float>(size_t(n), 1.0f));
                bias = constant(l.name + ".fixed_bias", ns, std::vector<float>(size_t(n), 0.0f));
            }
            auto* n = node("LayerNormalization", {x, scale, bias}, l.name, l.name);
            attr(n, "axis", int64_t(l.axis + 1));
            attr(n, "epsilon", l.eps);
            return;
        }
        // GroupNormalization (opset 18) as its standard expansion: instance normalization of
        // [batch, groups, rest], back to the input shape, then the per-channel affine.
        const std::string p = l.name + "/";
        const int64_t G = l.groups;
        node("Reshape", {x, ints(p + "grouped_shape", {0, G, -1})}, p + "grouped", p + "grouped");
        auto* in = node("InstanceNormalization",
                        {p + "grouped", constant(p + "ones", {G}, std::vector<float>(size_t(G), 1.0f)),
                         constant(p + "zeros", {G}, std::vector<float>(size_t(G), 0.0f))},
                        p + "normalized", p + "normalized");
        attr(in, "epsilon", l.eps);
        std::vector<int64_t> back{0};
        back.insert(back.end(), shape.begin(), shape.end());
        const std::string out_plain = l.affine ? p + "ungrouped" : l.name;
        node("Reshape", {p + "normalized", ints(p + "shape", back)}, out_plain, l.affine ? p + "ungrouped" : l.name);
        if (!l.affine) return;
        std::vector<int64_t> cshape{shape[0]};  // {C, 1, 1...}: per channel
        for (size_t i = 1; i < shape.size(); ++i) cshape.push_back(1);
        node("Mul", {out_plain, param(l, 0, "scale", cshape)}, p + "scaled", p + "scaled");
        node("Add", {p + "scaled", param(l, 1, "bias", cshape)}, l.name, l.name);
    }

    void upsample(const LUpSampling2D& l) {
        std::vector<float> scales{1.0f, 1.0f};
        for (int f : l.factors) scales.push_back(float(f));
        const std::string s = constant(l.name + ".scales", {int64_t(scales.size())}, scales);
        auto* n = node("Resize", {l.parents[0]->name, "", s}, l.name, l.name);
        if (l.interpolation == "nearest") {
            attr(n, "mode", std::string("nearest"));
            attr(n, "coordinate_transformation_mode", std::string("asymmetric"));
            attr(n, "nearest_mode", std::string("floor"));
        } else {
            attr(n, "mode", std::string("linear"));
            attr(n, "coordinate_transformation_mode", std::string("half_pixel"));
        }
    }

    void pad(const LPad& l, const std::string& x, const std::string& out, const std::string& name) {
        std::vector<int64_t> pads{0, 0};
        pads.insert(pads.end(), l.begin.begin(), l.begin.end());
        pads.push_back(0);
        pads.push_back(0);
        pads.insert(pads.end(), l.end.begin(), l.end.end());
        auto* n = node("Pad", {x, ints(name + ".pads", pads), constant(name + ".value", {}, {l.constant})}, out, name);
        attr(n, "mode", std::string("constant"));
    }

    // Slice of the spatial box begin .. begin + extent; axes 2.. of [batch, C, spatial...]
    void slice(const std::string& x, const std::vector<int>& begin, const std::vector<int>& extent,
               const std::string& out, const std::string& name) {
        std::vector<int64_t> st, en, ax;
        for (size_t a = 0; a < begin.size(); ++a) {
            st.push_back(begin[a]);
            en.push_back(begin[a] + extent[a]);
            ax.push_back(int64_t(a) + 2);
        }
        node("Slice", {x, ints(name + ".starts", st), ints(name + ".ends", en), ints(name + ".axes", ax)}, out, name);
    }

    void elementwise(const LElementwise& l) {
        const std::string& x = l.parents[0]->name;
        if (onnxio::ew_binary(l.fn)) {
            const std::string c = constant(l.name + ".constant", l.c_dims, l.c_raw);
            const bool rev = l.fn == EwFn::RSub || l.fn == EwFn::RDiv;
            const bool cmp = l.fn >= EwFn::Greater && l.fn <= EwFn::Equal;  // bool in ONNX: cast back
            const std::string out = cmp ? l.name + "/bool" : l.name;
            auto* n = node(l.op, rev ? std::vector<std::string>{c, x} : std::vector<std::string>{x, c}, out, out);
            if (l.fn == EwFn::Fmod) attr(n, "fmod", int64_t(1));
            if (cmp) to_float(out, l.name);
            return;
        }
        switch (l.fn) {
            case EwFn::Clip:
                node("Clip", {x, constant(l.name + ".min", {}, {l.a}), constant(l.name + ".max", {}, {l.b})}, l.name,
                     l.name);
                return;
            case EwFn::HardSigmoid: {
                auto* n = node("HardSigmoid", {x}, l.name, l.name);
                attr(n, "alpha", l.a);
                attr(n, "beta", l.b);
                return;
            }
            case EwFn::Selu: {
                auto* n = node("Selu", {x}, l.name, l.name);
                attr(n, "alpha", l.a);
                attr(n, "gamma", l.b);
                return;
            }
            case EwFn::Celu: attr(node("Celu", {x}, l.name, l.name), "alpha", l.a); return;
            case EwFn::IsNaN: node("IsNaN", {x}, l.name + "/bool", l.name + "/bool"); to_float(l.name + "/bool", l.name); return;
            case EwFn::IsInf: {
                auto* n = node("IsInf", {x}, l.name + "/bool", l.name + "/bool");
                attr(n, "detect_negative", int64_t(l.a != 0));
                attr(n, "detect_positive", int64_t(l.b != 0));
                to_float(l.name + "/bool", l.name);
                return;
            }
            case EwFn::Shrink: {
                auto* n = node("Shrink", {x}, l.name, l.name);
                attr(n, "bias", l.a);
                attr(n, "lambd", l.b);
                return;
            }
            default: node(l.op, {x}, l.name, l.name); return;
        }
    }

    void layer_(const Layer& l) {
        std::vector<std::string> ins;
        for (const auto& p : l.parents) ins.push_back(p->name);
        if (dynamic_cast<const LInput*>(&l)) {
            // written first, in net_.inputs order (run())
        } else if (auto* d = dynamic_cast<const LDense*>(&l)) {
            if (d->use_bias && l.out_shape.size() == 1) {
                node("Gemm", {ins[0], param(l, 0, "weight"), param(l, 1, "bias")}, l.name, l.name);
            } else if (d->use_bias) {  // on the last axis of an N-d input: Gemm is 2-D only
                node("MatMul", {ins[0], param(l, 0, "weight")}, l.name + "/matmul", l.name + "/matmul");
                node("Add", {l.name + "/matmul", param(l, 1, "bias")}, l.name, l.name);
            } else {
                node("MatMul", {ins[0], param(l, 0, "weight")}, l.name, l.name);
            }
        } else if (auto* a = dynamic_cast<const LActivation*>(&l)) {
            activation(*a);
        } else if (dynamic_cast<const LSoftmax*>(&l)) {
            attr(node("Softmax", ins, l.name, l.name), "axis", int64_t(-1));
        } else if (auto* dr = dynamic_cast<const LDropout*>(&l)) {
            const std::string ratio = constant(l.name + ".ratio", {}, {dr->rate});
            if (!dr->iw) {
                node("Dropout", {ins[0], ratio}, l.name, l.name);
            } else {  // EDDL's dropout: inverted dropout, then the inference scaling by (1 - rate)
                node("Dropout", {ins[0], ratio}, l.name + "/dropout", l.name + "/dropout");
                node("Mul", {l.name + "/dropout", constant(l.name + ".keep", {}, {1.0f - dr->rate})}, l.name, l.name);
            }
        } else if (auto* r = dynamic_cast<const LReshape*>(&l)) {
            if (r->type_name == "Flatten") {
                attr(node("Flatten", ins, l.name, l.name), "axis", int64_t(1));
            } else {
                std::vector<int64_t> s{0};
                for (int d : l.out_shape) s.push_back(d);
                node("Reshape", {ins[0], ints(l.name + ".shape", s)}, l.name, l.name);
            }
        } else if (auto* c = dynamic_cast<const LConv2D*>(&l)) {
            conv(*c);
        } else if (auto* ct = dynamic_cast<const LConvT2D*>(&l)) {
            convt(*ct);
        } else if (auto* p = dynamic_cast<const LPool2D*>(&l)) {
            pool(*p);
        } else if (auto* bn = dynamic_cast<const LBatchNorm*>(&l)) {
            batchnorm(*bn);
        } else if (auto* gn = dynamic_cast<const LGroupNorm*>(&l)) {
            groupnorm(*gn);
        } else if (auto* up = dynamic_cast<const LUpSampling2D*>(&l)) {
            upsample(*up);
        } else if (auto* pd = dynamic_cast<const LPad*>(&l)) {
            pad(*pd, ins[0], l.name, l.name);
        } else if (auto* cr = dynamic_cast<const LCrop*>(&l)) {
            if (!cr->keep_size) {
                slice(ins[0], cr->begin, cr->extent, l.name, l.name);
            } else {  // the box, then the constant around it again
                slice(ins[0], cr->begin, cr->extent, l.name + "/box", l.name + "/box");
                std::vector<int> end;
                for (size_t a = 0; a < cr->begin.size(); ++a)
                    end.push_back(l.out_shape[a + 1] - cr->begin[a] - cr->extent[a]);
                std::vector<int64_t> pads{0, 0};
                pads.insert(pads.end(), cr->begin.begin(), cr->begin.end());
                pads.push_back(0);
                pads.push_back(0);
                pads.insert(pads.end(), end.begin(), end.end());
                auto* n = node("Pad", {l.name + "/box", ints(l.name + ".pads", pads),
                                       constant(l.name + ".value", {}, {cr->constant})},
                               l.name, l.name);
                attr(n, "mode", std::string("constant"));
            }
        } else if (auto* pm = dynamic_cast<const LPermute*>(&l)) {
            std::vector<int64_t> perm{0};
            for (int d : pm->dims) perm.push_back(d + 1);
            attr(node("Transpose", ins, l.name, l.name), "perm", perm);
        } else if (auto* m = dynamic_cast<const LMerge*>(&l)) {
            merge(*m, ins);
        } else if (auto* cc = dynamic_cast<const LConcat*>(&l)) {
            attr(node("Concat", ins, l.name, l.name), "axis", int64_t(cc->axis + 1));
        } else if (auto* e = dynamic_cast<const LEmbedding*>(&l)) {
            if (e->mask_zeros) unsupported(l, "mask_zeros has no ONNX form");
            attr(node("Cast", ins, l.name + "/indices", l.name + "/indices"), "to", int64_t(onnx::TensorProto::INT64));
            attr(node("Gather", {param(l, 0, "weight"), l.name + "/indices"}, l.name, l.name), "axis", int64_t(0));
        } else if (dynamic_cast<const LGaussianNoise*>(&l)) {
            node("Identity", ins, l.name, l.name);  // inference behaviour (training noise is not ONNX)
        } else if (auto* t = dynamic_cast<const LTransform*>(&l)) {
            transform(*t, ins[0]);
        } else if (auto* ew = dynamic_cast<const LElementwise*>(&l)) {
            elementwise(*ew);
        } else if (auto* rd = dynamic_cast<const onnxio::LReduce*>(&l)) {
            reduce(*rd, ins[0]);
        } else if (auto* ga = dynamic_cast<const onnxio::LGather*>(&l)) {
            const Shape& in = l.parents[0]->out_shape;
            const bool to_scalar = in.size() == 1 && ga->index_dims.empty();  // held as [batch, 1]
            const std::string idx = l.name + ".indices";
            onnxio::to_proto_i64(*g_->add_initializer(), idx, ga->index_dims, ga->indices);
            const std::string out = to_scalar ? l.name + "/gather" : l.name;
            attr(node("Gather", {ins[0], idx}, out, out), "axis", int64_t(ga->axis + 1));
            if (to_scalar) node("Reshape", {out, ints(l.name + ".shape", {0, 1})}, l.name, l.name);
        } else if (auto* ns = dynamic_cast<const onnxio::LNormStat*>(&l)) {
            // a LayerNormalization whose Y nothing reads: its Mean or InvStdDev output
            const Shape& in = l.parents[0]->out_shape;
            const std::vector<int64_t> dims(in.begin() + ns->axis, in.end());
            int64_t m = 1;
            for (int64_t d : dims) m *= d;
            auto* n = node("LayerNormalization", {ins[0], constant(l.name + ".ones", dims, std::vector<float>(size_t(m), 1.0f))},
                           l.name + "/y", l.name);
            if (ns->invstd) n->add_output("");
            n->add_output(l.name);
            attr(n, "axis", int64_t(ns->axis + 1));
            attr(n, "epsilon", ns->eps);
        } else if (dynamic_cast<const onnxio::LMatMul*>(&l)) {
            node("MatMul", ins, l.name, l.name);
        } else if (auto* ao = dynamic_cast<const onnxio::LAxisOp*>(&l)) {
            if (ao->op == "ArgMax" || ao->op == "ArgMin") {  // int64 indices in ONNX: cast back to float
                auto* n = node(ao->op, ins, l.name + "/i64", l.name + "/i64");
                attr(n, "axis", int64_t(ao->axis + 1));
                // a [batch] result is held as [batch, 1]: keep the axis in that case
                attr(n, "keepdims", int64_t(ao->keepdims || l.parents[0]->out_shape.size() == 1 ? 1 : 0));
                if (ao->select_last) attr(n, "select_last_index", int64_t(1));
                to_float(l.name + "/i64", l.name);
            } else {
                attr(node(ao->op, ins, l.name, l.name), "axis", int64_t(ao->axis + 1));
            }
        } else if (auto* rec = dynamic_cast<const LRecurrent*>(&l)) {
            recurrent(*rec, ins[0]);
        } else if (auto* ro = dynamic_cast<const LRecurrentOutput*>(&l)) {
            recurrent_output(*ro->rnn, ro->which, l.name);
        } else if (auto* bc = dynamic_cast<const onnxio::LBroadcast*>(&l)) {
            const Shape& in = l.parents[0]->out_shape;
            std::vector<int64_t> v{1};  // the batch: kept (Expand to 1, Tile once)
            for (size_t i = 0; i < in.size(); ++i) v.push_back(bc->tile ? l.out_shape[i] / in[i] : l.out_shape[i]);
            node(bc->tile ? "Tile" : "Expand", {ins[0], ints(l.name + (bc->tile ? ".repeats" : ".shape"), v)}, l.name, l.name);
        } else if (auto* bs = dynamic_cast<const onnxio::LBatchStats*>(&l)) {
            if (!bs->over_batch) unsupported(l, "statistics per whole-tensor sample (OnnxBatch::none) have no batch-first form");
            const int C = int(bs->in_mean.size());
            const bool y = bs->which == onnxio::LBatchStats::Out::Y;
            std::vector<std::string> in{ins[0], y ? param(l, 0, "scale") : constant(l.name + ".ones", {C}, std::vector<float>(size_t(C), 1.0f)),
                                        y ? param(l, 1, "bias") : constant(l.name + ".zeros", {C}, std::vector<float>(size_t(C), 0.0f)),
                                        constant(l.name + ".input_mean", {C}, bs->in_mean),
                                        constant(l.name + ".input_var", {C}, bs->in_var)};
            auto* n = node("BatchNormalization", in, y ? l.name : l.name + "/y", l.name + "/bn");
            if (bs->which == onnxio::LBatchStats::Out::RunningVar) n->add_output("");
            if (!y) n->add_output(l.name);
            attr(n, "training_mode", int64_t(1));
            attr(n, "epsilon", bs->eps);
            attr(n, "momentum", bs->momentum);
        } else if (auto* rs = dynamic_cast<const onnxio::LResize*>(&l)) {
            resize(*rs, ins[0]);
        } else if (auto* lrn = dynamic_cast<const onnxio::LLRN*>(&l)) {
            auto* n = node("LRN", ins, l.name, l.name);
            attr(n, "alpha", lrn->alpha);
            attr(n, "beta", lrn->beta);
            attr(n, "bias", lrn->bias);
            attr(n, "size", int64_t(lrn->size));
        } else if (auto* tk = dynamic_cast<const onnxio::LTopK*>(&l)) {
            const std::string vals = tk->indices ? l.name + "/values" : l.name, idx = l.name + "/i64";
            auto* n = node("TopK", {ins[0], ints(l.name + ".k", {tk->k})}, vals, tk->indices ? l.name + "/topk" : l.name);
            n->add_output(idx);
            attr(n, "axis", int64_t(tk->axis + 1));
            attr(n, "largest", int64_t(tk->largest ? 1 : 0));
            if (tk->indices) to_float(idx, l.name);
        } else if (auto* pi = dynamic_cast<const onnxio::LPoolIndices*>(&l)) {
            if (pi->per_sample) unsupported(l, "indices per whole-tensor sample (OnnxBatch::none) count from 0 in each sample");
            auto* n = node("MaxPool", ins, l.name + "/y", l.name + "/maxpool");
            n->add_output(l.name + "/i64");
            pool_attrs(*pi->pool, n);
            if (pi->column_major) attr(n, "storage_order", int64_t(1));
            to_float(l.name + "/i64", l.name);
        } else {
            unsupported(l, "");
        }
    }

    // Random augmentations export as their inference behaviour; Flip and Cutout as what they do
    // (a reversing Slice; a mask product and the constant's sum); the warps as their taps.
    void transform(const LTransform& t, const std::string& x) {
        const Shape& in = t.parents[0]->out_shape;
        using K = LTransform::Kind;
        if (t.kind == K::RandomCrop) {  // inference: the centred crop
            slice(x, {(in[1] - t.out_shape[1]) / 2, (in[2] - t.out_shape[2]) / 2}, {t.out_shape[1], t.out_shape[2]}, t.name,
                  t.name);
        } else if (t.random()) {
            node("Identity", {x}, t.name, t.name);
        } else if (t.kind == K::Flip) {
            node("Slice", {x, ints(t.name + ".starts", {-1}), ints(t.name + ".ends", {std::numeric_limits<int64_t>::min()}),
                           ints(t.name + ".axes", {t.pa[0] == 0 ? 2 : 3}), ints(t.name + ".steps", {-1})},
                 t.name, t.name);
        } else if (t.kind == K::Cutout) {
            const int h = in[1], w = in[2];
            std::vector<float> keep(size_t(h) * size_t(w), 1.0f), fill(size_t(h) * size_t(w), 0.0f);
            for (int y = int(t.pa[0]); y <= int(t.pb[0]); ++y)
                for (int xx = int(t.pa[1]); xx <= int(t.pb[1]); ++xx) {
                    keep[size_t(y) * size_t(w) + size_t(xx)] = 0.0f;
                    fill[size_t(y) * size_t(w) + size_t(xx)] = t.constant;
                }
            node("Mul", {x, constant(t.name + ".keep", {1, h, w}, keep)}, t.name + "/masked", t.name + "/masked");
            node("Add", {t.name + "/masked", constant(t.name + ".fill", {1, h, w}, fill)}, t.name, t.name);
        } else {
            warp(t, x);
        }
    }

    // Rotate, Scale, Shift: a fixed resampling, the same for every sample and channel. Output
    // pixel o is sum_k w_k[o] x[i_k[o]] + b[o] over its (up to) 4 bilinear taps, b holding the
    // constant's taps: 4 Gathers of the flattened planes, products by constant weight maps, a
    // sum, the constant map. Exact for every border mode (they only choose the tap indices).
    void warp(const LTransform& t, const std::string& x) {
        const Shape& in = t.parents[0]->out_shape;
        const int C = in[0], H = in[1], W = in[2], oh = t.out_shape[1], ow = t.out_shape[2];
        const int64_t O = int64_t(oh) * ow;
        float m[6];
        int box[4];
        t.plan(0, m, box);
        const WarpGeom g = t.geom(1);
        std::vector<std::vector<int64_t>> idx(4, std::vector<int64_t>(size_t(O), 0));
        std::vector<std::vector<float>> w(4, std::vector<float>(size_t(O), 0.0f));
        std::vector<float> b(size_t(O), 0.0f);
        for (int y = 0; y < oh; ++y)
            for (int xx = 0; xx < ow; ++xx) {
                const int64_t o = int64_t(y) * ow + xx;
                if (y >= box[0] && y < box[1] && xx >= box[2] && xx < box[3]) {
                    b[size_t(o)] = t.constant;
                    continue;
                }
                int64_t ti[4];
                float tw[4];
                const int k = cpu::warp_taps(g, m, y, xx, ti, tw);
                for (int i = 0; i < k; ++i) {
                    if (ti[i] < 0) b[size_t(o)] += tw[i] * t.constant;
                    else {
                        idx[size_t(i)][size_t(o)] = ti[i];
                        w[size_t(i)][size_t(o)] = tw[i];
                    }
                }
            }
        const std::string p = t.name + "/";
        node("Reshape", {x, ints(p + "planes_shape", {0, C, int64_t(H) * W})}, p + "planes", p + "planes");
        std::vector<std::string> terms;
        for (int k = 0; k < 4; ++k) {
            const std::string ix = t.name + ".taps" + std::to_string(k);
            onnxio::to_proto_i64(*g_->add_initializer(), ix, {O}, idx[size_t(k)]);
            const std::string gk = p + "tap" + std::to_string(k);
            attr(node("Gather", {p + "planes", ix}, gk, gk), "axis", int64_t(2));
            node("Mul", {gk, constant(t.name + ".weights" + std::to_string(k), {O}, w[size_t(k)])}, gk + "_w", gk + "_w");
            terms.push_back(gk + "_w");
        }
        node("Sum", terms, p + "sum", p + "sum");
        node("Add", {p + "sum", constant(t.name + ".fill", {O}, b)}, p + "filled", p + "filled");
        node("Reshape", {p + "filled", ints(p + "shape", {0, C, oh, ow})}, t.name, t.name);
    }

    // RNN / LSTM / GRU in layout 0 (ONNX Runtime runs no other) between Transposes, as PyTorch
    // writes them: X [B, T, I] -> [T, B, I]; outputs <layer>/Y [T, D, B, H], /Y_h, /Y_c [D, B, H];
    // the layer's own output (and LRecurrentOutput's) transposed back and reshaped to {T, D * H} / {D * H}
    void recurrent(const LRecurrent& r, const std::string& x) {
        if (!r.flat) unsupported(r, "only the batch-first form {steps, features} exports (this came from a layout-0 or whole-sample import)");
        if (r.opt.mask_zeros) unsupported(r, "mask_zeros has no ONNX form (the sequence lengths would depend on the data)");
        if (!r.opt.seq_lens.empty() || r.has_initial_h || r.has_initial_c)
            unsupported(r, "fixed sequence lengths or initial states (imported) need the batch size, which the export leaves free");
        attr(node("Transpose", {x}, r.name + "/X", r.name + "/X"), "perm", std::vector<int64_t>{1, 0, 2});
        std::vector<std::string> in{r.name + "/X", param(r, 0, "W"), param(r, 1, "R"), r.opt.use_bias ? param(r, 2, "B") : ""};
        if (r.opt.peepholes) {
            in.insert(in.end(), {"", "", ""});
            in.push_back(param(r, r.opt.use_bias ? 3 : 2, "P"));
        }
        while (!in.empty() && in.back().empty()) in.pop_back();
        auto* n = node(r.type(), in, r.name + "/Y", r.name + "/" + r.type());
        n->add_output(r.name + "/Y_h");
        if (r.kind == LRecurrent::Kind::LSTM) n->add_output(r.name + "/Y_c");
        attr(n, "hidden_size", int64_t(r.units));
        attr(n, "direction", std::string(r.opt.bidirectional ? "bidirectional" : r.opt.reverse ? "reverse" : "forward"));
        if (r.kind == LRecurrent::Kind::GRU) attr(n, "linear_before_reset", int64_t(r.opt.linear_before_reset ? 1 : 0));
        if (r.kind == LRecurrent::Kind::RNN) {
            const std::string act = r.opt.activation == "tanh" ? "Tanh" : r.opt.activation == "relu" ? "Relu" : "Sigmoid";
            auto* a = n->add_attribute();
            a->set_name("activations");
            a->set_type(onnx::AttributeProto::STRINGS);
            for (int d = 0; d < r.dirs; ++d) a->add_strings(act);
        }
        recurrent_output(r, r.opt.output, r.name);
    }

    void recurrent_output(const LRecurrent& r, LRecurrent::Output which, const std::string& out) {
        const bool y = which == LRecurrent::Output::Y;
        const std::string src = r.name + (y ? "/Y" : which == LRecurrent::Output::Y_h ? "/Y_h" : "/Y_c");
        const std::string t = out + "/batch_first";
        attr(node("Transpose", {src}, t, t), "perm", y ? std::vector<int64_t>{2, 0, 1, 3} : std::vector<int64_t>{1, 0, 2});
        const int64_t du = int64_t(r.dirs) * r.units;
        node("Reshape", {t, ints(out + ".shape", y ? std::vector<int64_t>{0, r.steps, du} : std::vector<int64_t>{0, du})}, out,
             out);
    }

    // Resize with scales (the batch's 1 first): each scale nudged up by ulps until
    // floor(input * scale) gives our output size exactly
    void resize(const onnxio::LResize& r, const std::string& x) {
        const Shape& in = r.parents[0]->out_shape;
        std::vector<float> scales{1.0f}, roi;
        const bool crop = r.p.ctm == "tf_crop_and_resize";
        for (size_t i = 0; i < in.size(); ++i) {
            // as a reader sees it: the roi is written as float32
            const double span = crop ? double(float(r.p.roi_end[i])) - double(float(r.p.roi_start[i])) : 1.0;
            // tf_crop_and_resize sizes its output by the roi: floor(input * (end - start) * scale)
            float sc = crop ? float(double(r.out_shape[i]) / (double(in[i]) * span)) : float(r.p.scales[i]);
            for (int k = 0; k < 64 && int64_t(std::floor(double(in[i]) * span * double(sc))) < r.out_shape[i]; ++k)
                sc = std::nextafter(sc, 1e30f);
            scales.push_back(sc);
        }
        if (crop) {
            roi.push_back(0.0f);
            for (double v : r.p.roi_start) roi.push_back(float(v));
            roi.push_back(1.0f);
            for (double v : r.p.roi_end) roi.push_back(float(v));
        }
        const int64_t R = int64_t(in.size()) + 1;
        auto* n = node("Resize",
                       {x, crop ? constant(r.name + ".roi", {2 * R}, roi) : "", constant(r.name + ".scales", {R}, scales)},
                       r.name, r.name);
        attr(n, "mode", r.p.mode);
        attr(n, "coordinate_transformation_mode", r.p.ctm);
        if (r.p.mode == "nearest") attr(n, "nearest_mode", r.p.nearest_mode);
        if (r.p.mode == "cubic") {
            attr(n, "cubic_coeff_a", r.p.cubic_a);
            attr(n, "exclude_outside", int64_t(r.p.exclude_outside ? 1 : 0));
        }
        if (crop) attr(n, "extrapolation_value", r.p.extrapolation);
    }

    void to_float(const std::string& in, const std::string& out) {
        attr(node("Cast", {in}, out, out), "to", int64_t(onnx::TensorProto::FLOAT));
    }

    void reduce(const onnxio::LReduce& r, const std::string& x) {
        std::vector<int64_t> axes;
        for (int a : r.axes) axes.push_back(a + 1);
        // every sample axis without keepdims: ONNX gives [batch], the layer holds [batch, 1]
        const bool flat = !r.keepdims && r.axes.size() == r.parents[0]->out_shape.size();
        const std::string out = flat ? r.name + "/reduce" : r.name;
        onnx::NodeProto* n = r.op == "ReduceSum" ? node(r.op, {x, ints(r.name + ".axes", axes)}, out, out)  // axes input since opset 13
                                                 : node(r.op, {x}, out, out);
        if (r.op != "ReduceSum") attr(n, "axes", axes);
        attr(n, "keepdims", int64_t(r.keepdims || flat ? 1 : 0));
        if (flat) node("Reshape", {out, ints(r.name + ".shape", {0, 1})}, r.name, r.name);
    }

    void merge(const LMerge& m, const std::vector<std::string>& ins) {
        const std::string& n = m.name;
        switch (m.op) {
            case MergeOp::Add: node(ins.size() == 2 ? "Add" : "Sum", ins, n, n); return;
            case MergeOp::Subtract: node("Sub", ins, n, n); return;
            case MergeOp::Average: node("Mean", ins, n, n); return;
            case MergeOp::Maximum: node("Max", ins, n, n); return;
            case MergeOp::Minimum: node("Min", ins, n, n); return;
            case MergeOp::Multiply: {
                std::string acc = ins[0];
                for (size_t i = 1; i < ins.size(); ++i) {
                    const std::string out = i + 1 == ins.size() ? n : n + "/mul" + std::to_string(i);
                    node("Mul", {acc, ins[i]}, out, out);
                    acc = out;
                }
                return;
            }
        }
    }
};

}  // namespace

std::string serialize_net_to_onnx_string(model net, bool gradients) {
    EDDL_CHECK(net, "serialize_net_to_onnx_string: model is null");
    return Exporter(*net, gradients).run();
}

void serialize_net_to_onnx_pointer(model net, void*& buffer, size_t& size, bool gradients) {
    EDDL_CHECK(net, "serialize_net_to_onnx_pointer: model is null");
    const std::string bytes = Exporter(*net, gradients).run();
    char* out = new char[bytes.size()];  // the caller frees it with delete[] (see onnx.h)
    std::memcpy(out, bytes.data(), bytes.size());
    buffer = out;
    size = bytes.size();
}

void save_net_to_onnx_file(model net, const std::string& path, bool gradients) {
    EDDL_CHECK(net, "save_net_to_onnx_file: model is null");
    io::write_file_atomic(path, Exporter(*net, gradients).run());
}

}  // namespace eddl
