// Weight files and whole-model checkpoints (graph, weights, optimizer state, counters).
#include <cstring>

#include "eddl/eddl.h"
#include "init/init.h"
#include "io/atomic_file.h"
#include "layers/layers.h"
#include "losses/loss.h"
#include "metrics/metric.h"

namespace eddl {
namespace {

constexpr char kMagic[9] = "EDDLCKPT";
constexpr uint32_t kVersion = 1;

struct Writer {
    std::string b;
    template <class T> void pod(T v) { b.append(reinterpret_cast<const char*>(&v), sizeof v); }
    void str(const std::string& s) { pod(uint32_t(s.size())); b += s; }
    void tensor_(const Tensor& t) {  // EDDL .bin layout
        pod(int32_t(t.ndim));
        for (int d : t.shape) pod(int32_t(d));
        b.append(reinterpret_cast<const char*>(t.ptr), size_t(t.size) * sizeof(float));
    }
};

struct Reader {
    const std::string& b;
    std::string path;
    size_t off = 0;
    void need(size_t n, const char* what) {
        EDDL_CHECK(off + n <= b.size() && off + n >= off,
                   "'" << path << "': truncated or corrupt file while reading " << what << " at byte " << off);
    }
    template <class T> T pod(const char* what) {
        need(sizeof(T), what);
        T v;
        std::memcpy(&v, b.data() + off, sizeof v);
        off += sizeof v;
        return v;
    }
    std::string str(const char* what) {
        const uint32_t n = pod<uint32_t>(what);
        need(n, what);
        std::string s = b.substr(off, n);
        off += n;
        return s;
    }
    // Reads a tensor and checks it against the expected shape.
    void tensor_into(Tensor& t, const std::string& what) {
        const int32_t nd = pod<int32_t>(what.c_str());
        EDDL_CHECK(nd >= 0 && nd <= 8, "'" << path << "': corrupt tensor header for " << what);
        Shape s(nd);
        for (auto& d : s) d = pod<int32_t>(what.c_str());
        EDDL_CHECK(s == t.shape, "'" << path << "': " << what << " has shape " << shape_str(s) << " in the file but "
                                     << shape_str(t.shape) << " in the model");
        need(size_t(t.size) * sizeof(float), what.c_str());
        std::memcpy(t.ptr, b.data() + off, size_t(t.size) * sizeof(float));
        off += size_t(t.size) * sizeof(float);
    }
};

}  // namespace

void save(model net, const std::string& path, const std::string& format) {
    EDDL_CHECK(format == "bin", "save: unknown weights format '" << format << "' (use \"bin\"; ONNX export is separate)");
    Writer w;
    for (const auto& l : net->layers) {
        for (const auto& p : l->params) w.tensor_(*p);
        for (const auto& s : l->states) w.tensor_(*s);
    }
    io::write_file_atomic(path, w.b);
}

void load(model net, const std::string& path, const std::string& format) {
    EDDL_CHECK(format == "bin", "load: unknown weights format '" << format << "' (use \"bin\")");
    const std::string bytes = io::read_file(path);
    Reader r{bytes, path};
    // Read into copies first: a file that fails half-way leaves the model untouched.
    std::vector<std::pair<tensor, tensor>> staged;
    for (const auto& l : net->layers) {
        auto stage = [&](const vtensor& ts, const char* what) {
            for (size_t i = 0; i < ts.size(); ++i) {
                auto t = Tensor::empty(ts[i]->shape);
                r.tensor_into(*t, what + std::to_string(i) + " of layer '" + l->name + "'");
                staged.emplace_back(ts[i], t);
            }
        };
        stage(l->params, "parameter ");
        stage(l->states, "state ");
    }
    EDDL_CHECK(r.off == bytes.size(), "'" << path << "': " << bytes.size() - r.off
                                          << " bytes left after the model's parameters (a different model?)");
    for (auto& [dst, src] : staged) dst->copy_from(*src);
    weights_changed();
}

void save_checkpoint(model net, const std::string& path) {
    EDDL_CHECK(net && net->built, "save_checkpoint: model is not built");
    Writer w;
    w.b.append(kMagic, 8);
    w.pod(kVersion);
    w.pod(uint64_t(net->seed));
    w.pod(int64_t(net->epochs_done));
    w.pod(int64_t(net->steps_done));
    w.str(net->name);
    w.pod(uint32_t(net->layers.size()));
    for (const auto& l : net->layers) {
        w.str(l->type());
        w.str(l->name);
        w.pod(uint32_t(l->parents.size()));
        for (const auto& p : l->parents) w.str(p->name);
        const LayerConfig cfg = l->config();
        w.pod(uint32_t(cfg.size()));
        for (const auto& [k, v] : cfg) {
            w.str(k);
            w.str(v);
        }
        w.pod(uint8_t(l->trainable));
        w.pod(uint8_t(l->regularizer != nullptr));
        if (l->regularizer) {
            w.pod(int32_t(l->regularizer->kind));
            w.pod(l->regularizer->l1);
            w.pod(l->regularizer->l2);
        }
    }
    w.pod(uint32_t(net->inputs.size()));
    for (const auto& l : net->inputs) w.str(l->name);
    w.pod(uint32_t(net->outputs.size()));
    for (const auto& l : net->outputs) w.str(l->name);
    w.pod(uint32_t(net->losses.size()));
    for (const auto& l : net->losses) w.str(l->name);
    w.pod(uint32_t(net->metrics.size()));
    for (const auto& m : net->metrics) w.str(m->name);
    w.pod(uint8_t(net->opt != nullptr));
    if (net->opt) {
        const Optimizer& o = *net->opt;
        w.pod(o.hp);
        w.pod(o.clip_value);
        w.pod(o.clip_norm);
        w.pod(int64_t(o.t));
        w.pod(o.mu_prod);
    }
    for (const auto& l : net->layers)
        for (const auto& p : l->params) {
            w.tensor_(*p);
            const auto it = net->opt ? net->opt->slots.find(p.get()) : decltype(net->opt->slots.end()){};
            const bool has = net->opt && it != net->opt->slots.end();
            w.pod(uint8_t(has ? net->opt->num_slots() : 0));
            if (has)
                for (int j = 0; j < net->opt->num_slots(); ++j) w.tensor_(*it->second[j]);
        }
    for (const auto& l : net->layers)
        for (const auto& st : l->states) w.tensor_(*st);
    w.b.append("END!", 4);
    io::write_file_atomic(path, w.b);
}

model load_checkpoint(const std::string& path, compserv cs) {
    const std::string bytes = io::read_file(path);
    Reader r{bytes, path};
    r.need(8, "the header");
    EDDL_CHECK(bytes.compare(0, 8, kMagic) == 0, "'" << path << "': not an EDDL checkpoint (bad magic)");
    r.off = 8;
    const uint32_t version = r.pod<uint32_t>("the version");
    EDDL_CHECK(version == kVersion, "'" << path << "': checkpoint version " << version << " is not supported (expected "
                                        << kVersion << ")");
    const uint64_t seed = r.pod<uint64_t>("the seed");
    const int64_t epochs = r.pod<int64_t>("the epoch count");
    const int64_t steps = r.pod<int64_t>("the step count");
    const std::string net_name = r.str("the model name");
    const uint32_t nl = r.pod<uint32_t>("the layer count");
    EDDL_CHECK(nl < 1000000, "'" << path << "': corrupt layer count " << nl);
    std::map<std::string, layer> by_name;
    auto lookup = [&](const std::string& n) {
        auto it = by_name.find(n);
        EDDL_CHECK(it != by_name.end(), "'" << path << "': layer '" << n << "' is used before it is defined");
        return it->second;
    };
    for (uint32_t i = 0; i < nl; ++i) {
        const std::string type = r.str("a layer type"), name = r.str("a layer name");
        const uint32_t np = r.pod<uint32_t>("a parent count");
        EDDL_CHECK(np <= nl, "'" << path << "': corrupt parent count of layer '" << name << "'");
        vlayer parents;
        for (uint32_t j = 0; j < np; ++j) parents.push_back(lookup(r.str("a parent name")));
        const uint32_t nc = r.pod<uint32_t>("a config size");
        EDDL_CHECK(nc < 1000, "'" << path << "': corrupt configuration of layer '" << name << "'");
        LayerConfig cfg;
        for (uint32_t j = 0; j < nc; ++j) {
            std::string k = r.str("a config key");
            cfg[k] = r.str("a config value");
        }
        layer l;
        try {
            l = make_layer(type, name, parents, cfg);
        } catch (const std::logic_error&) {
            EDDL_FAIL("'" << path << "': corrupt configuration of layer '" << name << "'");
        }
        l->trainable = r.pod<uint8_t>("a trainable flag") != 0;
        if (r.pod<uint8_t>("a regularizer flag")) {
            auto reg = std::make_shared<Regularizer>();
            reg->kind = RegKind(r.pod<int32_t>("a regularizer"));
            reg->l1 = r.pod<float>("a regularizer");
            reg->l2 = r.pod<float>("a regularizer");
            l->regularizer = reg;
        }
        EDDL_CHECK(by_name.emplace(name, l).second, "'" << path << "': two layers named '" << name << "'");
    }
    auto names = [&](const char* what) {
        vlayer v;
        const uint32_t n = r.pod<uint32_t>(what);
        EDDL_CHECK(n <= nl, "'" << path << "': corrupt count of " << what);
        for (uint32_t i = 0; i < n; ++i) v.push_back(lookup(r.str(what)));
        return v;
    };
    const vlayer ins = names("the inputs"), outs = names("the outputs");
    auto strings = [&](const char* what) {
        std::vector<std::string> v;
        const uint32_t n = r.pod<uint32_t>(what);
        EDDL_CHECK(n <= outs.size(), "'" << path << "': corrupt count of " << what);
        for (uint32_t i = 0; i < n; ++i) v.push_back(r.str(what));
        return v;
    };
    const auto loss_names = strings("the losses"), metric_names = strings("the metrics");
    optimizer opt;
    if (r.pod<uint8_t>("the optimizer flag")) {
        opt = std::make_shared<Optimizer>();
        opt->hp = r.pod<Optimizer::Hyper>("the optimizer");
        EDDL_CHECK(opt->hp.rule >= 0 && opt->hp.rule <= 7, "'" << path << "': corrupt optimizer");
        opt->clip_value = r.pod<float>("the optimizer");
        opt->clip_norm = r.pod<float>("the optimizer");
        opt->t = r.pod<int64_t>("the optimizer");
        opt->mu_prod = r.pod<double>("the optimizer");
    }
    model net = Model(ins, outs);
    net->name = net_name;
    net->seed = seed;
    net->build(opt, loss_names, metric_names, cs, false);
    net->epochs_done = epochs;
    net->steps_done = steps;
    for (const auto& l : net->layers)
        for (size_t i = 0; i < l->params.size(); ++i) {
            const std::string what = "parameter " + std::to_string(i) + " of layer '" + l->name + "'";
            r.tensor_into(*l->params[i], what);
            const uint8_t ns = r.pod<uint8_t>("optimizer state");
            EDDL_CHECK(ns <= 3 && (!ns || opt), "'" << path << "': corrupt optimizer state of " << what);
            for (int j = 0; j < ns; ++j) {
                auto& slot = opt->slots[l->params[i].get()][j];
                slot = Tensor::empty(l->params[i]->shape);
                r.tensor_into(*slot, "optimizer state of " + what);
            }
        }
    for (const auto& l : net->layers)
        for (size_t i = 0; i < l->states.size(); ++i)
            r.tensor_into(*l->states[i], "state " + std::to_string(i) + " of layer '" + l->name + "'");
    r.need(4, "the end marker");
    EDDL_CHECK(bytes.compare(r.off, 4, "END!") == 0 && r.off + 4 == bytes.size(),
               "'" << path << "': corrupt checkpoint (bad end marker)");
    return net;
}

}  // namespace eddl
