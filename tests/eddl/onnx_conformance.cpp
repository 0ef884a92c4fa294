// ONNX conformance: runs the backend node tests shipped by Debian's libonnx-testdata (model.onnx
// plus test_data_set_*/input_*.pb, output_*.pb) whose operators the importer claims, at the
// suite's tolerances (rtol 1e-3, atol 1e-7), and reports pass counts per operator.
//
//   onnx_conformance [--data DIR] [--markdown] [--verbose]
//
// Exit status 1 when a test of an operator in kClaimed fails: those are the operators
// docs/onnx.md lists as passing all their node tests. Tests whose operators are not imported,
// or with non-float inputs or outputs, are skipped and counted.
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "eddl/eddl.h"
#include "onnx/onnx_common.h"

namespace eddl::onnxio {
const std::set<std::string>& import_ops();
}

namespace fs = std::filesystem;
using namespace eddl;

namespace {

// Operators all of whose node tests pass (checked on every run).
const std::set<std::string> kClaimed = {
#include "onnx_conformance_claimed.inc"
};

struct Count {
    int pass = 0, fail = 0, skipped = 0;
    std::vector<std::string> failures;
};

std::string slurp(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::ostringstream os;
    os << f.rdbuf();
    return os.str();
}

onnx::TensorProto read_tensor(const fs::path& p) {
    onnx::TensorProto t;
    if (!t.ParseFromString(slurp(p))) throw std::runtime_error("cannot parse " + p.string());
    return t;
}

bool float_type(int t) { return t == onnx::TensorProto::FLOAT; }
// outputs may also be integers or booleans (ArgMax's indices, comparisons): a float32 network
// gives them as whole float values, compared exactly
bool output_type(int t) {
    using TP = onnx::TensorProto;
    return t == TP::FLOAT || t == TP::INT64 || t == TP::INT32 || t == TP::BOOL;
}

std::string first_lines(const std::string& w) { return w.substr(0, w.find('\n', w.find('\n') + 1)); }

// "ok" or why it failed. The model is imported as it is; when that fails, again with every
// graph input after the first bound to its test data as an initializer: node tests pass weights
// (Conv's W, BatchNormalization's statistics, Clip's bounds) as inputs, which a layer network
// holds as parameters. Both first with the first dimension as the batch (OnnxBatch::first_dim),
// then, when neither imports, with each tensor as one whole sample (OnnxBatch::none): node tests
// have fixed shapes and many act across their first dimension.
std::string run_set(const fs::path& set, const onnx::ModelProto& m) {
    std::set<std::string> inits;
    for (const auto& t : m.graph().initializer()) inits.insert(t.name());
    std::vector<std::string> in_names, out_names;
    for (const auto& i : m.graph().input())
        if (!inits.count(i.name())) in_names.push_back(i.name());
    for (const auto& o : m.graph().output()) out_names.push_back(o.name());
    std::vector<onnx::TensorProto> ins;
    for (size_t i = 0; i < in_names.size(); ++i) {
        const fs::path p = set / ("input_" + std::to_string(i) + ".pb");
        if (!fs::exists(p)) return "no data for input " + std::to_string(i);
        ins.push_back(read_tensor(p));
    }
    model net;
    size_t fed = in_names.size();
    std::string err;
    bool whole = false;
    for (int attempt = 0; attempt < 4 && !net; ++attempt) {
        onnx::ModelProto mm = m;
        whole = attempt >= 2;
        fed = in_names.size();
        if (attempt % 2 == 1) {
            if (in_names.size() < 2) continue;
            fed = 1;
            auto* g = mm.mutable_graph();
            for (size_t i = 1; i < in_names.size(); ++i) {
                auto* t = g->add_initializer();
                *t = ins[i];
                t->set_name(in_names[i]);
            }
        }
        std::string bytes;
        mm.SerializeToString(&bytes);
        try {
            net = import_net_from_onnx_string(bytes, {}, whole ? OnnxBatch::none : OnnxBatch::first_dim);
            build(net);
        } catch (const eddl::Error& e) {
            net.reset();
            static const char* what[] = {"import: ", "\n    with inputs 2.. as initializers: ",
                                         "\n    OnnxBatch::none: ", "\n    OnnxBatch::none, inputs 2.. bound: "};
            err += what[attempt] + first_lines(e.what());
        }
    }
    if (!net) return err;
    std::map<std::string, tensor> feeds;
    for (size_t i = 0; i < fed; ++i) {
        const auto c = onnxio::from_proto(ins[i], in_names[i]);
        if (c.dims.empty()) return "scalar input";
        Shape s(c.dims.begin(), c.dims.end());
        if (whole) s.insert(s.begin(), 1);  // a batch of one whole tensor
        else if (s.size() == 1) s.push_back(1);
        auto t = Tensor::empty(s);
        for (int64_t k = 0; k < t->size; ++k) t->ptr[k] = float(c.v[size_t(k)]);
        feeds[in_names[i]] = t;
    }
    vtensor xs;
    for (const auto& l : net->inputs) {
        if (!feeds.count(l->name)) return "no data for input '" + l->name + "'";
        xs.push_back(feeds[l->name]);
    }
    vtensor ys;
    try {
        ys = predict(net, xs);
    } catch (const eddl::Error& e) {
        return std::string("run: ") + first_lines(e.what());
    }
    for (size_t o = 0; o < out_names.size(); ++o) {
        const fs::path p = set / ("output_" + std::to_string(o) + ".pb");
        const auto want = onnxio::from_proto(read_tensor(p), p.string());
        if (want.numel() != ys[o]->size)
            return "output " + std::to_string(o) + ": " + std::to_string(ys[o]->size) + " values, expected " +
                   std::to_string(want.numel());
        for (int64_t k = 0; k < ys[o]->size; ++k) {
            const double a = ys[o]->ptr[k], b = want.v[size_t(k)];
            const bool ok = (std::isnan(a) && std::isnan(b)) || a == b || std::fabs(a - b) <= 1e-7 + 1e-3 * std::fabs(b);
            if (!ok) {
                std::ostringstream os;
                os << "output " << o << " element " << k << ": " << a << ", expected " << b;
                return os.str();
            }
        }
    }
    return "ok";
}

std::string run_test(const fs::path& dir, const onnx::ModelProto& m) {
    int sets = 0;
    for (const auto& set : fs::directory_iterator(dir)) {
        if (!set.is_directory()) continue;
        ++sets;
        const std::string r = run_set(set.path(), m);
        if (r != "ok") return r;
    }
    return sets ? "ok" : "no test data";
}

}  // namespace

int main(int argc, char** argv) {
    std::string data = "/usr/share/libonnx-testdata/data/node";
    bool markdown = false, verbose = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--data" && i + 1 < argc) data = argv[++i];
        else if (a == "--markdown") markdown = true;
        else if (a == "--verbose") verbose = true;
        else {
            std::cerr << "usage: onnx_conformance [--data DIR] [--markdown] [--verbose]\n";
            return 2;
        }
    }
    if (!fs::is_directory(data)) {
        std::cerr << "onnx_conformance: no test data at " << data << " (install libonnx-testdata)\n";
        return 2;
    }
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(data))
        if (e.is_directory() && fs::exists(e.path() / "model.onnx")) dirs.push_back(e.path());
    std::sort(dirs.begin(), dirs.end());
    std::map<std::string, Count> per_op;
    int unclaimed = 0, nonfloat = 0, multi = 0;
    for (const auto& dir : dirs) {
        onnx::ModelProto m;
        if (!m.ParseFromString(slurp(dir / "model.onnx"))) continue;
        std::set<std::string> ops;
        for (const auto& n : m.graph().node()) ops.insert(n.op_type());
        bool known = true;
        for (const auto& o : ops) known = known && onnxio::import_ops().count(o);
        const std::string op = m.graph().node_size() == 1 ? m.graph().node(0).op_type() : "(multi-node)";
        if (!known) {
            ++unclaimed;
            continue;
        }
        bool floats = true;
        std::set<std::string> inits;  // the first input is data; later ones may be bound as constants
        for (const auto& t : m.graph().initializer()) inits.insert(t.name());
        for (const auto& v : m.graph().input())
            if (!inits.count(v.name())) {
                floats = floats && float_type(v.type().tensor_type().elem_type());
                break;
            }
        for (const auto& v : m.graph().output()) floats = floats && output_type(v.type().tensor_type().elem_type());
        Count& c = per_op[op];
        if (op == "(multi-node)") ++multi;
        if (!floats) {
            ++nonfloat;
            ++c.skipped;
            continue;
        }
        const std::string r = run_test(dir, m);
        if (r == "ok") ++c.pass;
        else {
            ++c.fail;
            c.failures.push_back(dir.filename().string() + ": " + r);
        }
        if (verbose) std::cout << dir.filename().string() << ": " << r << "\n";
    }
    int bad = 0, pass = 0, fail = 0;
    if (markdown) std::cout << "| operator | passed | failed | skipped (non-float) |\n|---|---|---|---|\n";
    for (const auto& [op, c] : per_op) {
        pass += c.pass;
        fail += c.fail;
        if (markdown) std::cout << "| " << op << (kClaimed.count(op) ? "" : " (partial)") << " | " << c.pass << " | "
                                << c.fail << " | " << c.skipped << " |\n";
        else std::cout << op << ": " << c.pass << " passed, " << c.fail << " failed, " << c.skipped << " skipped\n";
        for (const auto& f : c.failures) {
            if (!markdown) std::cout << "    " << f << "\n";
            if (kClaimed.count(op)) ++bad;
        }
    }
    for (const auto& op : kClaimed)
        if (!per_op.count(op) || per_op[op].pass == 0) {
            std::cout << "claimed operator " << op << " has no passing node test\n";
            ++bad;
        }
    std::cout << (markdown ? "\n" : "") << "total: " << pass << " passed, " << fail << " failed; skipped: " << unclaimed
              << " tests with operators not imported, " << nonfloat << " with non-float tensors (" << multi
              << " multi-node models among the attempted)\n";
    if (bad) std::cout << bad << " failure(s) in claimed operators\n";
    return bad ? 1 : 0;
}
