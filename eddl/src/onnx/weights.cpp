// Weights and gradients exchanged as ONNX models (the distributed mode's messages): initializers
// named "<layer>.<role>" as our export writes them.
#include <map>
#include <string_view>

#include "eddl/eddl.h"
#include "onnx/onnx_common.h"

namespace eddl {
namespace {

std::string content_of(const onnx::ModelProto& m) {
    for (const auto& p : m.metadata_props())
        if (p.key() == "eddl.content") return p.value();
    return "weights";  // models from elsewhere carry weights
}

// For every param (grads=false: and state) of `net`, the matching initializer's values, checked
// before anything is written. Returns (destination, values) pairs.
std::vector<std::pair<tensor, std::vector<float>>> collect(const Net& net, const onnx::ModelProto& m, bool grads,
                                                           const std::string& who) {
    std::map<std::string, const onnx::TensorProto*> inits;
    for (const auto& t : m.graph().initializer()) inits[t.name()] = &t;
    std::vector<std::pair<tensor, std::vector<float>>> out;
    auto take = [&](const Layer& l, const tensor& dst, const std::string& role) {
        const std::string name = l.name + "." + role;
        auto it = inits.find(name);
        EDDL_CHECK(it != inits.end(), who << ": missing initializer '" << name << "' for layer '" << l.name << "' ("
                                          << l.type() << "); the data must come from a model with the same layers");
        const onnxio::Const c = onnxio::from_proto(*it->second, who + ": initializer '" + name + "'");
        EDDL_CHECK(c.numel() == dst->size, who << ": shape mismatch: initializer '" << name << "' holds " << c.numel()
                                               << " values, layer '" << l.name << "' needs " << shape_str(dst->shape));
        out.emplace_back(dst, c.floats());
    };
    for (const auto& l : net.layers) {
        const auto pr = onnxio::param_roles(*l);
        for (size_t i = 0; i < l->params.size(); ++i) take(*l, grads ? l->gradients[i] : l->params[i], pr[i]);
        if (grads) continue;
        const auto sr = onnxio::state_roles(*l);
        for (size_t i = 0; i < l->states.size(); ++i) take(*l, l->states[i], sr[i]);
    }
    return out;
}


void set_weights(model net, std::string_view data, const std::string& who) {
    EDDL_CHECK(net, who << ": model is null");
    const onnx::ModelProto m = onnxio::parse_model(data, who);
    EDDL_CHECK(content_of(m) == "weights", who << ": the model carries " << content_of(m)
                                               << ", not weights (use apply_grads_from_onnx)");
    for (auto& [dst, v] : collect(*net, m, false, who)) std::copy(v.begin(), v.end(), dst->ptr);
}

void apply_grads(model net, std::string_view data, const std::string& who) {
    EDDL_CHECK(net, who << ": model is null");
    EDDL_CHECK(net->built && net->opt, who << ": model '" << net->name << "' must be built with an optimizer");
    const onnx::ModelProto m = onnxio::parse_model(data, who);
    EDDL_CHECK(content_of(m) == "gradients", who << ": the model carries " << content_of(m)
                                                 << ", not gradients (export with gradients=true)");
    for (auto& [dst, v] : collect(*net, m, true, who)) std::copy(v.begin(), v.end(), dst->ptr);
    for (const auto& l : net->layers)
        if (!l->params.empty()) l->grads_fresh = false;
    net->update();
    net->zero_grads();
}

}  // namespace

void set_weights_from_onnx(model net, const std::string& data) { set_weights(net, data, "set_weights_from_onnx"); }
void set_weights_from_onnx(model net, const void* buffer, size_t size) {
    const std::string who = "set_weights_from_onnx (buffer)";
    set_weights(net, onnxio::buffer_bytes(buffer, size, who), who);
}
void apply_grads_from_onnx(model net, const std::string& data) { apply_grads(net, data, "apply_grads_from_onnx"); }
void apply_grads_from_onnx(model net, const void* buffer, size_t size) {
    const std::string who = "apply_grads_from_onnx (buffer)";
    apply_grads(net, onnxio::buffer_bytes(buffer, size, who), who);
}

}  // namespace eddl
