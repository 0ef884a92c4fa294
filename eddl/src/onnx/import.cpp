// ONNX import: the graph is sorted, its constant plumbing folded, and every other node mapped to
// one of our layers (or a short chain). The first dimension of every tensor is the batch, which
// layers keep implicit; an operator that would act across it is unsupported. Unsupported nodes
// are collected and reported together; nothing is returned unless the whole graph converted.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <sstream>

#include "eddl/eddl.h"
#include "io/atomic_file.h"
#include "layers/layers.h"
#include "onnx/onnx_common.h"

namespace eddl {
namespace {

/// Largest kernel size, stride, dilation or pad accepted (larger ones are corrupt models; they
/// would overflow the int sizes of the layers).
constexpr int64_t kMaxAttr = 1 << 20;

using onnxio::Const;
using onnxio::EwFn;
using onnxio::kBatch;
using onnxio::LElementwise;

// An operator, attribute or operand form we do not map: collected, not thrown to the user.
struct Unsupported {
    std::string why;
};
[[noreturn]] void unsup(const std::string& why) { throw Unsupported{why}; }

// A value of the graph: a layer's output ([batch, out_shape...]) or a constant. `vec`: the ONNX
// tensor is 1-D ([batch]) and the layer holds it as [batch, 1]; only element-wise ops take it.
struct Value {
    layer l;
    std::shared_ptr<const Const> c;
    bool vec = false;
    // the batch sits at this ONNX axis (layer data stays batch-first): after a Transpose moving it,
    // and for layout-0 recurrent outputs; only a few operators take such values
    int batch_axis = 0;
    bool batch_zeros = false;  // ConstantOfShape(zeros) of a shape holding the batch size (initial states)
    bool int_cast = false;  // a layer output cast to integers (Gather indices only)
};

std::string join(const std::vector<int64_t>& v) {
    std::ostringstream os;
    os << "[";
    for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
    os << "]";
    return os.str();
}

// ---- attributes, checked against the names an operator knows ----
class Attrs {
public:
    Attrs(const onnx::NodeProto& n, std::initializer_list<const char*> known) {
        for (const auto& a : n.attribute()) {
            bool ok = false;
            for (const char* k : known) ok = ok || a.name() == k;
            if (!ok) unsup("attribute '" + a.name() + "' is not supported");
            m_[a.name()] = &a;
        }
    }
    bool has(const std::string& k) const { return m_.count(k) > 0; }
    int64_t i(const std::string& k, int64_t def) const {
        auto it = m_.find(k);
        return it == m_.end() ? def : it->second->i();
    }
    float f(const std::string& k, float def) const {
        auto it = m_.find(k);
        return it == m_.end() ? def : it->second->f();
    }
    std::string s(const std::string& k, const std::string& def) const {
        auto it = m_.find(k);
        return it == m_.end() ? def : it->second->s();
    }
    std::vector<int64_t> ints(const std::string& k, const std::vector<int64_t>& def = {}) const {
        auto it = m_.find(k);
        return it == m_.end() ? def : std::vector<int64_t>(it->second->ints().begin(), it->second->ints().end());
    }
    std::vector<float> floats(const std::string& k) const {
        auto it = m_.find(k);
        return it == m_.end() ? std::vector<float>{} : std::vector<float>(it->second->floats().begin(), it->second->floats().end());
    }
    const onnx::AttributeProto* get(const std::string& k) const {
        auto it = m_.find(k);
        return it == m_.end() ? nullptr : it->second;
    }

private:
    std::map<std::string, const onnx::AttributeProto*> m_;
};

// ---- constant folding helpers ----

std::vector<int64_t> strides_of(const std::vector<int64_t>& d) {
    std::vector<int64_t> s(d.size(), 1);
    for (int i = int(d.size()) - 2; i >= 0; --i) s[size_t(i)] = s[size_t(i) + 1] * d[size_t(i) + 1];
    return s;
}

bool has_batch(const Const& c) {
    return std::any_of(c.v.begin(), c.v.end(), [](double x) { return x == kBatch; });
}

// a op b with NumPy broadcasting; `select`: f only picks values (Where), so the symbolic batch
// size may pass through
Const broadcast(const Const& a, const Const& b, const std::function<double(double, double)>& f, bool select = false) {
    if (!select && (has_batch(a) || has_batch(b))) unsup("arithmetic on the batch size");
    const size_t r = std::max(a.dims.size(), b.dims.size());
    std::vector<int64_t> da(r, 1), db(r, 1), out(r);
    std::copy(a.dims.begin(), a.dims.end(), da.begin() + long(r - a.dims.size()));
    std::copy(b.dims.begin(), b.dims.end(), db.begin() + long(r - b.dims.size()));
    for (size_t i = 0; i < r; ++i) {
        EDDL_CHECK(da[i] == db[i] || da[i] == 1 || db[i] == 1,
                   "constants of shapes " << join(a.dims) << " and " << join(b.dims) << " do not broadcast");
        out[i] = da[i] == 1 ? db[i] : da[i];
    }
    Const c;
    c.dims = out;
    c.integer = a.integer && b.integer;
    const auto sa = strides_of(da), sb = strides_of(db);
    const int64_t n = c.numel();
    c.v.resize(size_t(n));
    std::vector<int64_t> idx(r, 0);
    for (int64_t e = 0; e < n; ++e) {
        int64_t oa = 0, ob = 0;
        for (size_t i = 0; i < r; ++i) {
            oa += (da[i] == 1 ? 0 : idx[i]) * sa[i];
            ob += (db[i] == 1 ? 0 : idx[i]) * sb[i];
        }
        c.v[size_t(e)] = f(a.v[size_t(oa)], b.v[size_t(ob)]);
        for (int i = int(r) - 1; i >= 0; --i) {
            if (++idx[size_t(i)] < out[size_t(i)]) break;
            idx[size_t(i)] = 0;
        }
    }
    return c;
}

Const transpose(const Const& a, const std::vector<int64_t>& perm) {
    const size_t r = a.dims.size();
    Const c;
    c.integer = a.integer;
    for (int64_t p : perm) c.dims.push_back(a.dims.at(size_t(p)));
    const auto sa = strides_of(a.dims);
    c.v.resize(a.v.size());
    std::vector<int64_t> idx(r, 0);
    for (size_t e = 0; e < c.v.size(); ++e) {
        int64_t off = 0;
        for (size_t i = 0; i < r; ++i) off += idx[i] * sa[size_t(perm[i])];
        c.v[e] = a.v[size_t(off)];
        for (int i = int(r) - 1; i >= 0; --i) {
            if (++idx[size_t(i)] < c.dims[size_t(i)]) break;
            idx[size_t(i)] = 0;
        }
    }
    return c;
}

int64_t norm_axis(int64_t a, int64_t rank, const std::string& who) {
    const int64_t r = a < 0 ? a + rank : a;
    EDDL_CHECK(r >= 0 && r < rank, who << ": axis " << a << " out of range for rank " << rank);
    return r;
}

bool is_int_type(int64_t t) {
    using TP = onnx::TensorProto;
    return t == TP::INT64 || t == TP::INT32 || t == TP::INT16 || t == TP::INT8 || t == TP::UINT8 || t == TP::UINT16 ||
           t == TP::UINT32 || t == TP::UINT64 || t == TP::BOOL;
}
bool is_float_type(int64_t t) {
    using TP = onnx::TensorProto;
    return t == TP::FLOAT || t == TP::DOUBLE || t == TP::FLOAT16 || t == TP::BFLOAT16;
}

const std::set<std::string>& supported_ops() {
    static const std::set<std::string> s = {
        "Abs", "Acos", "Acosh", "Add", "ArgMax", "ArgMin", "Asin", "Asinh", "Atan", "Atanh", "AveragePool",
        "BatchNormalization", "Cast", "Ceil", "Celu", "Clip", "Concat", "Constant", "ConstantOfShape", "Conv",
        "ConvTranspose", "Cos", "Cosh", "Div", "Dropout", "Elu", "Equal", "Erf", "Exp", "Expand", "Flatten", "Floor",
        "Gather", "Gemm", "GlobalAveragePool", "GlobalMaxPool", "Greater", "GreaterOrEqual", "GRU", "Hardmax",
        "HardSigmoid", "HardSwish", "Identity", "InstanceNormalization", "IsInf", "IsNaN", "LayerNormalization",
        "LeakyRelu", "Less", "LessOrEqual", "Log", "LogSoftmax", "LRN", "LSTM", "MatMul", "Max", "MaxPool", "Mean",
        "Min", "Mish", "Mod", "Mul", "Neg", "Pad", "Pow", "PRelu", "Range", "Reciprocal", "ReduceL1", "ReduceL2",
        "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum",
        "ReduceSumSquare", "Relu", "Reshape", "Resize", "RNN", "Round", "Selu", "Shape", "Shrink", "Sigmoid", "Sign",
        "Sin", "Sinh", "Size", "Slice", "Softmax", "Softplus", "Softsign", "Split", "Sqrt", "Squeeze", "Sub", "Sum",
        "Tan", "Tanh", "ThresholdedRelu", "Tile", "TopK", "Transpose", "Unsqueeze", "Upsample", "Where"};
    return s;
}

}  // namespace

namespace onnxio {
/// The operator types the importer maps (docs/onnx.md, the conformance runner).
const std::set<std::string>& import_ops() { return supported_ops(); }
}  // namespace onnxio

namespace {

class Importer {
public:
    Importer(const onnx::ModelProto& m, const Shape& input_shape, std::string what, OnnxBatch batch)
        : m_(m), g_(m.graph()), what_(std::move(what)), input_shape_(input_shape), whole_(batch == OnnxBatch::none) {}

    model run() {
        read_opset();
        read_initializers();
        read_inputs();
        sort_nodes();
        check_op_types();
        for (int i : order_) {
            const auto& n = g_.node(i);
            if (fused_.count(i)) continue;
            bool poisoned = false;
            for (const auto& in : n.input()) poisoned = poisoned || poisoned_.count(in);
            if (!poisoned) {
                try {
                    convert(n, i);
                    continue;
                } catch (const Unsupported& u) {
                    problems_.push_back(node_str(n) + ": " + u.why);
                } catch (const eddl::Error&) {
                    throw;
                } catch (const std::exception& e) {  // malformed operands (absent inputs, sizes)
                    EDDL_FAIL(what_ << ": " << node_str(n) << " is malformed or too large (" << e.what() << ")");
                }
            }
            for (const auto& o : n.output()) poisoned_.insert(o);
        }
        if (!problems_.empty()) {
            std::ostringstream os;
            os << what_ << ": " << problems_.size() << " unsupported node(s):";
            for (const auto& p : problems_) os << "\n  " << p;
            EDDL_FAIL(os.str());
        }
        return finish();
    }

private:
    const onnx::ModelProto& m_;
    const onnx::GraphProto& g_;
    std::string what_;
    Shape input_shape_;
    // OnnxBatch::none: ONNX dims are the sample's dims (axis a is layer axis a) instead of
    // [batch, sample...] (axis a is layer axis a - 1); off_ is that difference.
    bool whole_;
    int64_t off_ = whole_ ? 0 : 1;
    int64_t opset_ = 0;
    int64_t static_batch_ = -1;  // the inputs' fixed batch size, when they declare one
    std::map<std::string, Value> vals_;
    std::map<std::string, std::vector<int>> consumers_;
    std::set<std::string> graph_outputs_;
    std::vector<int> order_;
    std::set<int> fused_;
    std::set<std::string> names_;
    std::set<std::string> poisoned_;
    std::vector<std::string> problems_;
    vlayer inputs_;

    // a node's name, or its first named output (optional outputs may be unnamed: LSTM's Y)
    static std::string node_id(const onnx::NodeProto& n) {
        if (!n.name().empty()) return n.name();
        for (const auto& o : n.output())
            if (!o.empty()) return o;
        return "?";
    }
    static std::string node_str(const onnx::NodeProto& n) { return "node '" + node_id(n) + "' (" + n.op_type() + ")"; }

    void read_opset() {
        for (const auto& o : m_.opset_import())
            if (o.domain().empty() || o.domain() == "ai.onnx") opset_ = o.version();
        EDDL_CHECK(opset_ > 0, what_ << ": the model declares no opset for the default ONNX domain");
        EDDL_CHECK(opset_ >= onnxio::kMinOpset,
                   what_ << ": opset " << opset_ << " is older than the oldest supported (" << onnxio::kMinOpset << ")");
    }

    void read_initializers() {
        for (const auto& t : g_.initializer()) {
            EDDL_CHECK(!t.name().empty(), what_ << ": an initializer has no name");
            EDDL_CHECK(!vals_.count(t.name()), what_ << ": two initializers are named '" << t.name() << "'");
            vals_[t.name()].c = std::make_shared<Const>(onnxio::from_proto(t, what_ + ": initializer '" + t.name() + "'"));
        }
        EDDL_CHECK(g_.sparse_initializer_size() == 0, what_ << ": sparse initializers are not supported");
    }

    void read_inputs() {
        std::vector<const onnx::ValueInfoProto*> real;
        for (const auto& in : g_.input())
            if (!vals_.count(in.name())) real.push_back(&in);
        EDDL_CHECK(!real.empty(), what_ << ": the graph has no inputs (besides initializers)");
        EDDL_CHECK(input_shape_.empty() || real.size() == 1,
                   what_ << ": input_shape given, but the model has " << real.size() << " inputs");
        for (const auto* in : real) {
            const std::string who = what_ + ": graph input '" + in->name() + "'";
            EDDL_CHECK(in->type().has_tensor_type(), who << " is not a tensor");
            const auto& tt = in->type().tensor_type();
            const int64_t et = tt.elem_type();
            EDDL_CHECK(is_float_type(et) || is_int_type(et), who << ": element type " << et << " is not supported");
            EDDL_CHECK(tt.has_shape() && tt.shape().dim_size() >= 1,
                       who << " has no shape or is a scalar; " << (whole_ ? "scalar inputs are not supported"
                                                                           : "the first dimension must be the batch"));
            const auto& dims = tt.shape().dim();
            if (dims[0].has_dim_value() && static_batch_ < 0) static_batch_ = dims[0].dim_value();
            Shape s;
            if (!input_shape_.empty()) {
                EDDL_CHECK(int64_t(input_shape_.size()) == dims.size() - off_ || (!whole_ && dims.size() == 1),
                           who << " has rank " << dims.size() << (whole_ ? "" : " (batch included)") << " but input_shape "
                               << shape_str(input_shape_) << " has " << input_shape_.size() << " dimensions");
                s = input_shape_;
            } else {
                for (int i = int(off_); i < dims.size(); ++i) {
                    EDDL_CHECK(dims[i].has_dim_value() && dims[i].dim_value() > 0 && dims[i].dim_value() < (int64_t(1) << 30),
                               who << ": dimension " << i << " is "
                                   << (dims[i].has_dim_param() ? "symbolic ('" + dims[i].dim_param() + "')" : "unknown")
                                   << (whole_ ? "; pass input_shape (the whole shape)" : "; pass input_shape (batch excluded)"));
                    s.push_back(int(dims[i].dim_value()));
                }
            }
            Value v;
            v.vec = s.empty();
            if (s.empty()) s = {1};
            names_.insert(in->name());
            v.l = std::make_shared<LInput>(s, in->name());
            vals_[in->name()] = v;
            inputs_.push_back(v.l);
        }
    }

    void sort_nodes() {
        std::map<std::string, int> producer;
        const int nn = g_.node_size();
        for (int i = 0; i < nn; ++i)
            for (const auto& o : g_.node(i).output()) {
                if (o.empty()) continue;
                EDDL_CHECK(!vals_.count(o), what_ << ": " << node_str(g_.node(i)) << " writes '" << o
                                                  << "', which is also an initializer or graph input");
                EDDL_CHECK(producer.emplace(o, i).second, what_ << ": two nodes write '" << o << "'");
            }
        std::vector<int> pending(size_t(nn), 0);
        std::vector<std::vector<int>> next(static_cast<size_t>(nn));
        for (int i = 0; i < nn; ++i) {
            const auto& n = g_.node(i);
            for (const auto& in : n.input()) {
                if (in.empty()) continue;
                consumers_[in].push_back(i);
                if (vals_.count(in)) continue;
                auto it = producer.find(in);
                EDDL_CHECK(it != producer.end(),
                           what_ << ": " << node_str(n) << " reads '" << in
                                 << "', which no node, initializer or graph input provides (missing initializer?)");
                ++pending[size_t(i)];
                next[size_t(it->second)].push_back(i);
            }
        }
        std::vector<int> ready;
        for (int i = nn - 1; i >= 0; --i)
            if (!pending[size_t(i)]) ready.push_back(i);
        while (!ready.empty()) {  // Kahn's algorithm, keeping the file's order among ready nodes
            const int i = ready.back();
            ready.pop_back();
            order_.push_back(i);
            std::vector<int> now;
            for (int j : next[size_t(i)])
                if (--pending[size_t(j)] == 0) now.push_back(j);
            std::sort(now.rbegin(), now.rend());
            ready.insert(ready.end(), now.begin(), now.end());
            std::sort(ready.rbegin(), ready.rend());
        }
        if (int(order_.size()) != nn) {
            std::ostringstream os;
            int shown = 0;
            for (int i = 0; i < nn && shown < 8; ++i)
                if (pending[size_t(i)]) os << (shown++ ? ", " : "") << node_str(g_.node(i));
            EDDL_FAIL(what_ << ": the graph has a cycle; nodes on or after it: " << os.str());
        }
        for (const auto& o : g_.output()) {
            EDDL_CHECK(vals_.count(o.name()) || producer.count(o.name()),
                       what_ << ": graph output '" << o.name() << "' is not produced by any node");
            graph_outputs_.insert(o.name());
        }
        EDDL_CHECK(g_.output_size() > 0, what_ << ": the graph has no outputs");
    }

    void check_op_types() {
        std::vector<std::string> bad;
        for (int i : order_) {
            const auto& n = g_.node(i);
            if (!n.domain().empty() && n.domain() != "ai.onnx")
                bad.push_back(node_str(n) + ": domain '" + n.domain() + "' is not supported");
            else if (!supported_ops().count(n.op_type()))
                bad.push_back(node_str(n) + ": operator " + n.op_type() + " is not supported");
        }
        if (bad.empty()) return;
        std::ostringstream os;
        os << what_ << ": " << bad.size() << " unsupported node(s):";
        for (const auto& b : bad) os << "\n  " << b;
        EDDL_FAIL(os.str());
    }

    // ---- access to operands ----
    bool has_in(const onnx::NodeProto& n, int i) const { return i < n.input_size() && !n.input(i).empty(); }
    const Value& in(const onnx::NodeProto& n, int i) const {
        EDDL_CHECK(has_in(n, i), what_ << ": " << node_str(n) << " lacks input " << i);
        return vals_.at(n.input(i));
    }
    const Const& cin(const onnx::NodeProto& n, int i, const char* role) const {
        const Value& v = in(n, i);
        if (!v.c) unsup(std::string("the ") + role + " (input " + std::to_string(i) + ", '" + n.input(i) +
                        "') is computed at run time; only constants are supported there");
        return *v.c;
    }
    layer lin(const onnx::NodeProto& n, int i, bool allow_vec = false) const {
        const Value& v = in(n, i);
        if (!v.l) unsup("input " + std::to_string(i) + " ('" + n.input(i) + "') is a constant where a computed tensor is expected");
        if (v.vec && !allow_vec) unsup("1-D tensors ([batch]) are supported by element-wise operators only");
        if (v.int_cast) unsup("a tensor cast to integers is only supported as Gather indices");
        if (v.batch_axis)
            unsup("input " + std::to_string(i) + " ('" + n.input(i) + "') has the batch at axis " + std::to_string(v.batch_axis) +
                  " (only Transpose, Reshape, Gather, Squeeze and RNN/LSTM/GRU take such tensors)");
        return v.l;
    }
    // ONNX dims of a value whose batch sits at batch_axis
    Shape dims_of(const Value& v) const {
        Shape d = v.l->out_shape;
        if (!whole_) d.insert(d.begin() + v.batch_axis, -1);
        return d;
    }
    bool used(const std::string& name) const { return consumers_.count(name) || graph_outputs_.count(name); }
    void need_unused_outputs(const onnx::NodeProto& n, int from) const {
        for (int i = from; i < n.output_size(); ++i)
            if (!n.output(i).empty() && used(n.output(i)))
                unsup("output " + std::to_string(i) + " ('" + n.output(i) + "') is used; only the first output is supported");
    }
    void set_const(const onnx::NodeProto& n, Const c) { vals_[n.output(0)].c = std::make_shared<Const>(std::move(c)); }
    void set_layer(const onnx::NodeProto& n, layer l, bool vec = false) {
        Value v;
        v.l = std::move(l);
        v.vec = vec;
        vals_[n.output(0)] = v;
    }
    std::string lname(const onnx::NodeProto& n, const std::string& suffix = "") {
        std::string base = node_id(n);
        if (!suffix.empty()) base += "/" + suffix;
        std::string name = base;
        for (int k = 2; names_.count(name); ++k) name = base + "_" + std::to_string(k);
        names_.insert(name);
        return name;
    }
    // the only consumer of n's first output, when there is exactly one and it is no graph output
    const onnx::NodeProto* sole_consumer(const onnx::NodeProto& n, int* index) const {
        auto it = consumers_.find(n.output(0));
        if (it == consumers_.end() || it->second.size() != 1 || graph_outputs_.count(n.output(0))) return nullptr;
        *index = it->second[0];
        return &g_.node(*index);
    }

    // the ONNX dims of a layer's output (-1: the batch) and their number
    Shape full(const layer& l) const {
        Shape s = whole_ ? Shape{} : Shape{-1};
        s.insert(s.end(), l->out_shape.begin(), l->out_shape.end());
        return s;
    }
    int64_t rank(const layer& l) const { return int64_t(l->out_shape.size()) + off_; }
    // OnnxBatch::none: N-C-spatial operators see a sample [1, C, ...] as [C, ...] and give it back
    layer nchw_in(const onnx::NodeProto& n, int i) {
        const layer x = lin(n, i);
        if (!whole_) return x;
        if (x->out_shape.size() < 2 || x->out_shape[0] != 1)
            unsup("input of shape " + shape_str(x->out_shape) + " without a batch dimension (OnnxBatch::none needs N = 1 here)");
        return std::make_shared<LReshape>(x, Shape(x->out_shape.begin() + 1, x->out_shape.end()), lname(n, "drop_n"), "Reshape");
    }
    layer nchw_out(const onnx::NodeProto& n, const layer& y) {
        if (!whole_) return y;
        Shape s{1};
        s.insert(s.end(), y->out_shape.begin(), y->out_shape.end());
        return std::make_shared<LReshape>(y, s, lname(n, "add_n"), "Reshape");
    }
    static void copy_into(Tensor& t, const std::vector<float>& v, const std::string& who) {
        EDDL_CHECK(int64_t(v.size()) == t.size, who << ": " << v.size() << " values for a tensor of shape "
                                                    << shape_str(t.shape) << " (shape mismatch)");
        std::copy(v.begin(), v.end(), t.ptr);
    }

    // ---- folding of constant-only nodes ----
    bool fold(const onnx::NodeProto& n) {
        const std::string& op = n.op_type();
        std::vector<const Const*> cs;
        for (int i = 0; i < n.input_size(); ++i) {
            if (n.input(i).empty()) {
                cs.push_back(nullptr);
                continue;
            }
            const Value& v = vals_.at(n.input(i));
            if (!v.c) return false;
            cs.push_back(v.c.get());
        }
        auto need = [&](size_t i) -> const Const& {
            EDDL_CHECK(i < cs.size() && cs[i], what_ << ": " << node_str(n) << " lacks input " << i);
            return *cs[i];
        };
        const std::string who = what_ + ": " + node_str(n);
        if (op == "Identity") { set_const(n, need(0)); return true; }
        if (op == "Cast") {
            Attrs a(n, {"to", "saturate"});
            Const c = need(0);
            const int64_t to = a.i("to", onnx::TensorProto::FLOAT);
            if (is_int_type(to)) {
                if (has_batch(c)) {
                    c.integer = true;
                } else {
                    for (double& x : c.v) x = to == onnx::TensorProto::BOOL ? double(x != 0) : std::trunc(x);
                    c.integer = true;
                }
            } else if (is_float_type(to)) {
                if (to != onnx::TensorProto::DOUBLE)
                    for (double& x : c.v) x = double(float(x));
                c.integer = false;
            } else {
                unsup("Cast to type " + std::to_string(to));
            }
            set_const(n, c);
            return true;
        }
        if (op == "Shape") {
            Attrs a(n, {"start", "end"});
            const Const& x = need(0);
            const int64_t r = int64_t(x.dims.size());
            int64_t s = a.i("start", 0), e = a.i("end", r);
            if (s < 0) s += r;
            if (e < 0) e += r;
            s = std::clamp<int64_t>(s, 0, r);
            e = std::clamp<int64_t>(e, 0, r);
            Const c;
            c.integer = true;
            for (int64_t i = s; i < e; ++i) c.v.push_back(double(x.dims[size_t(i)]));
            c.dims = {int64_t(c.v.size())};
            set_const(n, c);
            return true;
        }
        if (op == "Size") {
            Attrs a(n, {});
            Const c;
            c.integer = true;
            c.v = {double(need(0).numel())};
            set_const(n, c);
            return true;
        }
        if (op == "Gather") {
            Attrs a(n, {"axis"});
            const Const& d = need(0);
            const Const& idx = need(1);
            const int64_t r = int64_t(d.dims.size());
            EDDL_CHECK(r >= 1, who << ": gathering from a scalar");
            const int64_t ax = norm_axis(a.i("axis", 0), r, who);
            const auto ii = idx.ints(who + ": indices");
            int64_t outer = 1, inner = 1;
            for (int64_t i = 0; i < ax; ++i) outer *= d.dims[size_t(i)];
            for (int64_t i = ax + 1; i < r; ++i) inner *= d.dims[size_t(i)];
            const int64_t len = d.dims[size_t(ax)];
            Const c;
            c.integer = d.integer;
            c.dims.assign(d.dims.begin(), d.dims.begin() + ax);
            c.dims.insert(c.dims.end(), idx.dims.begin(), idx.dims.end());
            c.dims.insert(c.dims.end(), d.dims.begin() + ax + 1, d.dims.end());
            for (int64_t o = 0; o < outer; ++o)
                for (int64_t k : ii) {
                    const int64_t j = k < 0 ? k + len : k;
                    EDDL_CHECK(j >= 0 && j < len, who << ": index " << k << " out of range " << len);
                    for (int64_t q = 0; q < inner; ++q) c.v.push_back(d.v[size_t((o * len + j) * inner + q)]);
                }
            set_const(n, c);
            return true;
        }
        if (op == "Unsqueeze" || op == "Squeeze") {
            Attrs a(n, {"axes"});
            Const c = need(0);
            std::vector<int64_t> axes = a.ints("axes");
            if (cs.size() > 1 && cs[1]) axes = cs[1]->ints(who + ": axes");
            c.dims = reshape_dims_squeeze(op == "Unsqueeze", c.dims, axes, who, nullptr);
            set_const(n, c);
            return true;
        }
        if (op == "Concat") {
            Attrs a(n, {"axis"});
            std::vector<const Const*> parts;
            for (auto* c : cs)
                if (c) parts.push_back(c);
            EDDL_CHECK(!parts.empty(), who << ": no inputs");
            const int64_t r = int64_t(parts[0]->dims.size());
            const int64_t ax = norm_axis(a.i("axis", 0), r, who);
            Const c;
            c.integer = true;
            c.dims = parts[0]->dims;
            c.dims[size_t(ax)] = 0;
            int64_t outer = 1;
            for (int64_t i = 0; i < ax; ++i) outer *= c.dims[size_t(i)];
            for (auto* p : parts) {
                EDDL_CHECK(int64_t(p->dims.size()) == r, who << ": inputs of different ranks");
                c.dims[size_t(ax)] += p->dims[size_t(ax)];
                c.integer = c.integer && p->integer;
            }
            for (int64_t o = 0; o < outer; ++o)
                for (auto* p : parts) {
                    const int64_t blk = p->numel() / std::max<int64_t>(outer, 1);
                    for (int64_t q = 0; q < blk; ++q) c.v.push_back(p->v[size_t(o * blk + q)]);
                }
            set_const(n, c);
            return true;
        }
        if (op == "Reshape") {
            Attrs a(n, {"allowzero"});
            Const c = need(0);
            const auto t = need(1).ints(who + ": shape");
            std::vector<int64_t> d;
            int64_t known = 1, infer = -1;
            for (size_t i = 0; i < t.size(); ++i) {
                int64_t x = t[i];
                if (x == 0 && !a.i("allowzero", 0)) x = c.dims.at(i);
                if (x == -1) infer = int64_t(i);
                else known *= x;
                d.push_back(x);
            }
            if (infer >= 0) d[size_t(infer)] = known ? c.numel() / known : 0;
            int64_t total = 1;
            for (int64_t x : d) total *= x;
            EDDL_CHECK(total == c.numel(), who << ": cannot reshape " << join(c.dims) << " to " << join(t));
            c.dims = d;
            set_const(n, c);
            return true;
        }
        if (op == "Flatten") {
            Attrs a(n, {"axis"});
            Const c = need(0);
            const int64_t r = int64_t(c.dims.size());
            int64_t ax = a.i("axis", 1);
            if (ax < 0) ax += r;
            // found by the fuzzer: an axis past the rank read past the dimensions
            EDDL_CHECK(ax >= 0 && ax <= r, who << ": axis " << a.i("axis", 1) << " out of range for rank " << r);
            int64_t p = 1;
            for (int64_t i = 0; i < ax; ++i) p *= c.dims[size_t(i)];
            c.dims = {p, c.numel() / std::max<int64_t>(p, 1)};
            set_const(n, c);
            return true;
        }
        if (op == "Transpose") {
            Attrs a(n, {"perm"});
            const Const& x = need(0);
            std::vector<int64_t> perm = a.ints("perm");
            if (perm.empty())
                for (int64_t i = int64_t(x.dims.size()) - 1; i >= 0; --i) perm.push_back(i);
            std::vector<int64_t> sorted = perm;
            std::sort(sorted.begin(), sorted.end());
            for (size_t i = 0; i < sorted.size(); ++i)
                EDDL_CHECK(sorted[i] == int64_t(i) && sorted.size() == x.dims.size(),
                           who << ": perm " << join(perm) << " is not a permutation of the " << x.dims.size() << " axes");
            set_const(n, transpose(x, perm));
            return true;
        }
        if (op == "Slice") {
            Attrs a(n, {"starts", "ends", "axes"});
            const Const& x = need(0);
            std::vector<int64_t> st = a.ints("starts"), en = a.ints("ends"), ax = a.ints("axes"), sp;
            if (opset_ >= 10) {
                st = need(1).ints(who);
                en = need(2).ints(who);
                if (cs.size() > 3 && cs[3]) ax = cs[3]->ints(who);
                if (cs.size() > 4 && cs[4]) sp = cs[4]->ints(who);
            }
            const int64_t r = int64_t(x.dims.size());
            if (ax.empty())
                for (size_t i = 0; i < st.size(); ++i) ax.push_back(int64_t(i));
            EDDL_CHECK(st.size() == ax.size() && en.size() == ax.size() && (sp.empty() || sp.size() == ax.size()),
                       who << ": starts " << join(st) << ", ends " << join(en) << ", axes " << join(ax) << ", steps "
                           << join(sp) << " of different lengths");
            std::vector<int64_t> b(size_t(r), 0), e(x.dims), s(size_t(r), 1);
            for (size_t i = 0; i < ax.size(); ++i) {
                const int64_t k = norm_axis(ax[i], r, who), dim = x.dims[size_t(k)];
                const int64_t step = sp.empty() ? 1 : sp[i];
                EDDL_CHECK(step != 0, who << ": step 0");
                int64_t s0 = st[i] < 0 ? st[i] + dim : st[i], e0 = en[i] < 0 ? en[i] + dim : en[i];
                if (step > 0) {
                    s0 = std::clamp<int64_t>(s0, 0, dim);
                    e0 = std::clamp<int64_t>(e0, 0, dim);
                } else {
                    s0 = std::clamp<int64_t>(s0, 0, dim - 1);
                    e0 = std::clamp<int64_t>(e0, -1, dim - 1);
                }
                b[size_t(k)] = s0;
                e[size_t(k)] = e0;
                s[size_t(k)] = step;
            }
            Const c;
            c.integer = x.integer;
            std::vector<std::vector<int64_t>> pos(static_cast<size_t>(r));
            for (int64_t k = 0; k < r; ++k) {
                for (int64_t j = b[size_t(k)]; s[size_t(k)] > 0 ? j < e[size_t(k)] : j > e[size_t(k)]; j += s[size_t(k)])
                    pos[size_t(k)].push_back(j);
                c.dims.push_back(int64_t(pos[size_t(k)].size()));
            }
            const auto sx = strides_of(x.dims);
            const int64_t total = c.numel();
            std::vector<int64_t> idx(size_t(r), 0);
            for (int64_t q = 0; q < total; ++q) {
                int64_t off = 0;
                for (int64_t k = 0; k < r; ++k) off += pos[size_t(k)][size_t(idx[size_t(k)])] * sx[size_t(k)];
                c.v.push_back(x.v[size_t(off)]);
                for (int64_t k = r - 1; k >= 0; --k) {
                    if (++idx[size_t(k)] < c.dims[size_t(k)]) break;
                    idx[size_t(k)] = 0;
                }
            }
            set_const(n, c);
            return true;
        }
        static const std::map<std::string, std::function<double(double, double)>> bin = {
            {"Add", [](double a, double b) { return a + b; }},
            {"Sub", [](double a, double b) { return a - b; }},
            {"Mul", [](double a, double b) { return a * b; }},
            {"Div", [](double a, double b) { return a / b; }},
            {"Pow", [](double a, double b) { return std::pow(a, b); }},
            {"Max", [](double a, double b) { return std::max(a, b); }},
            {"Min", [](double a, double b) { return std::min(a, b); }}};
        if (auto it = bin.find(op); it != bin.end() && cs.size() >= 1) {
            Attrs a(n, {});
            Const c = need(0);
            for (size_t i = 1; i < cs.size(); ++i) {
                const bool ints = c.integer && need(i).integer;
                c = broadcast(c, need(i), it->second);
                if (ints && op == "Div")
                    for (double& x : c.v) x = std::trunc(x);
                c.integer = ints;
            }
            set_const(n, c);
            return true;
        }
        static const std::map<std::string, double (*)(double)> un = {
            {"Neg", [](double x) { return -x; }}, {"Sqrt", [](double x) { return std::sqrt(x); }},
            {"Abs", [](double x) { return std::fabs(x); }}, {"Floor", [](double x) { return std::floor(x); }},
            {"Ceil", [](double x) { return std::ceil(x); }}, {"Exp", [](double x) { return std::exp(x); }},
            {"Log", [](double x) { return std::log(x); }}, {"Reciprocal", [](double x) { return 1.0 / x; }}};
        if (auto it = un.find(op); it != un.end()) {
            Attrs a(n, {});
            Const c = need(0);
            if (has_batch(c)) unsup("arithmetic on the batch size");
            for (double& x : c.v) x = it->second(x);
            set_const(n, c);
            return true;
        }
        static const std::map<std::string, std::function<double(double, double)>> cmp = {
            {"Equal", [](double a, double b) { return double(a == b); }},
            {"Greater", [](double a, double b) { return double(a > b); }},
            {"Less", [](double a, double b) { return double(a < b); }},
            {"GreaterOrEqual", [](double a, double b) { return double(a >= b); }},
            {"LessOrEqual", [](double a, double b) { return double(a <= b); }}};
        if (auto it = cmp.find(op); it != cmp.end()) {  // PyTorch's expand(-1, ...) computes its shape with these
            Attrs a(n, {"broadcast", "axis"});
            const bool eq = op == "Equal";  // the batch size equals only itself
            Const c = broadcast(need(0), need(1), it->second, eq);
            c.integer = true;
            set_const(n, c);
            return true;
        }
        if (op == "Where") {
            Attrs a(n, {});
            const Const& cond = need(0);
            const auto keep2 = [](double, double v) { return v; };
            Const zero = broadcast(broadcast(cond, need(1), keep2, true), need(2), keep2, true);  // the result's shape
            const Const X = broadcast(zero, need(1), keep2, true), Y = broadcast(zero, need(2), keep2, true);
            Const C = broadcast(zero, cond, keep2, true);
            for (size_t i = 0; i < C.v.size(); ++i) C.v[i] = C.v[i] != 0 ? X.v[i] : Y.v[i];
            C.integer = need(1).integer && need(2).integer;
            set_const(n, C);
            return true;
        }
        if (op == "ConstantOfShape") {
            Attrs a(n, {"value"});
            if (has_batch(need(0))) return false;  // zeros of the batch's size: see convert()
            Const c;
            c.dims = need(0).ints(who + ": shape");
            for (int64_t d : c.dims) EDDL_CHECK(d >= 0 && d < (int64_t(1) << 31), who << ": shape " << join(c.dims));
            double v = 0;
            if (const auto* t = a.get("value")) {
                const Const vv = onnxio::from_proto(t->t(), who + ": value");
                EDDL_CHECK(vv.v.size() == 1, who << ": value must hold one element");
                v = vv.v[0];
                c.integer = vv.integer;
            }
            EDDL_CHECK(c.numel() <= (int64_t(1) << 28), who << ": too large");
            c.v.assign(size_t(c.numel()), v);
            set_const(n, c);
            return true;
        }
        if (op == "Range") {
            Attrs a(n, {});
            const double s = need(0).v.at(0), l = need(1).v.at(0), d = need(2).v.at(0);
            EDDL_CHECK(d != 0, who << ": delta 0");
            const double cnt = std::max(std::ceil((l - s) / d), 0.0);
            EDDL_CHECK(cnt < double(1 << 28), who << ": too large");
            Const c;
            c.integer = need(0).integer;
            for (int64_t i = 0; i < int64_t(cnt); ++i) c.v.push_back(s + double(i) * d);
            c.dims = {int64_t(c.v.size())};
            set_const(n, c);
            return true;
        }
        return false;
    }

    // Output dims of Squeeze / Unsqueeze of `d` (full shape); `layer_mode` forbids the batch axis.
    std::vector<int64_t> reshape_dims_squeeze(bool unsqueeze, const std::vector<int64_t>& d, std::vector<int64_t> axes,
                                              const std::string& who, bool* touches_batch) {
        std::vector<int64_t> out;
        if (unsqueeze) {
            const int64_t r = int64_t(d.size() + axes.size());
            for (auto& a : axes) a = norm_axis(a, r, who);
            std::sort(axes.begin(), axes.end());
            size_t k = 0;
            for (int64_t i = 0; i < r; ++i) {
                if (std::binary_search(axes.begin(), axes.end(), i)) out.push_back(1);
                else out.push_back(d.at(k++));
            }
            if (touches_batch) *touches_batch = std::binary_search(axes.begin(), axes.end(), 0);
        } else {
            const int64_t r = int64_t(d.size());
            for (auto& a : axes) a = norm_axis(a, r, who);
            for (int64_t i = 0; i < r; ++i) {
                const bool listed = std::find(axes.begin(), axes.end(), i) != axes.end();
                if (listed) EDDL_CHECK(d[size_t(i)] == 1 || d[size_t(i)] == -1, who << ": squeezing axis " << i << " of size " << d[size_t(i)]);
                if (listed || (axes.empty() && d[size_t(i)] == 1 && !(touches_batch && i == 0))) continue;
                out.push_back(d[size_t(i)]);
            }
            if (touches_batch) *touches_batch = std::find(axes.begin(), axes.end(), 0) != axes.end();
        }
        return out;
    }

    // ---- the operators ----
    void convert(const onnx::NodeProto& n, int index) {
        const std::string& op = n.op_type();
        EDDL_CHECK(node_id(n) != "?" || !n.name().empty(), what_ << ": " << node_str(n) << " has no output");
        const bool optional_first = op == "LSTM" || op == "GRU" || op == "RNN";  // Y may be omitted
        EDDL_CHECK(n.output_size() >= 1 && (!n.output(0).empty() || optional_first),
                   what_ << ": " << node_str(n) << " has no output");
        if (op == "Constant") {
            Attrs a(n, {"value", "value_float", "value_floats", "value_int", "value_ints"});
            Const c;
            if (const auto* t = a.get("value")) c = onnxio::from_proto(t->t(), what_ + ": " + node_str(n));
            else if (a.has("value_float")) c.v = {a.f("value_float", 0)};
            else if (a.has("value_int")) {
                c.v = {double(a.i("value_int", 0))};
                c.integer = true;
            } else if (a.has("value_floats")) {
                for (float f : a.floats("value_floats")) c.v.push_back(f);
                c.dims = {int64_t(c.v.size())};
            } else if (a.has("value_ints")) {
                for (int64_t x : a.ints("value_ints")) c.v.push_back(double(x));
                c.dims = {int64_t(c.v.size())};
                c.integer = true;
            } else {
                unsup("Constant without a supported value attribute (sparse_value, strings)");
            }
            set_const(n, c);
            return;
        }
        if (op == "Shape" && n.input_size() > 0 && vals_.at(n.input(0)).l) {  // of a layer: the batch stays symbolic
            Attrs a(n, {"start", "end"});
            const layer x = lin(n, 0);
            Const c;
            c.integer = true;
            if (!whole_) c.v.push_back(kBatch);
            for (int d : x->out_shape) c.v.push_back(d);
            const int64_t r = int64_t(c.v.size());
            int64_t s = a.i("start", 0), e = a.i("end", r);
            if (s < 0) s += r;
            if (e < 0) e += r;
            s = std::clamp<int64_t>(s, 0, r);
            e = std::clamp<int64_t>(e, s, r);
            c.v = std::vector<double>(c.v.begin() + s, c.v.begin() + e);
            c.dims = {int64_t(c.v.size())};
            set_const(n, c);
            return;
        }
        if (fold(n)) return;
        if (op == "ConstantOfShape") {  // zeros of a shape holding the batch size: recurrent initial states
            Attrs a(n, {"value"});
            if (const auto* t = a.get("value"))
                for (double e : onnxio::from_proto(t->t(), what_ + ": " + node_str(n)).v)
                    if (e != 0) unsup("a non-zero tensor of the batch's size");
            vals_[n.output(0)].batch_zeros = true;
            return;
        }
        if (op == "Size" || op == "Range") unsup("depends on the batch size");
        if (op == "Identity") {
            Attrs a(n, {});
            vals_[n.output(0)] = in(n, 0);
            return;
        }
        if (op == "Cast") {
            Attrs a(n, {"to", "saturate"});
            Value v = in(n, 0);
            const int64_t to = a.i("to", 1);
            if (is_int_type(to)) {
                auto it = consumers_.find(n.output(0));
                bool ok = it != consumers_.end() && !graph_outputs_.count(n.output(0));
                if (ok)
                    for (int j : it->second) {
                        const auto& c = g_.node(j);
                        ok = ok && c.op_type() == "Gather" && c.input_size() > 1 && c.input(1) == n.output(0) &&
                             c.input(0) != n.output(0);
                    }
                if (!ok) unsup("casting a computed tensor to an integer type (supported for Gather indices only)");
                v.int_cast = true;
            } else if (!is_float_type(to)) {
                unsup("Cast to type " + std::to_string(to));
            }
            vals_[n.output(0)] = v;
            return;
        }
        if (unary(n)) return;
        if (binary(n, index)) return;
        if (op == "Gemm") return gemm(n);
        if (op == "MatMul") return matmul(n, index);
        if (op == "Conv") return conv(n, index);
        if (op == "ConvTranspose") return convt(n);
        if (op == "MaxPool" || op == "AveragePool") return pool(n);
        if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
            Attrs a(n, {});
            const layer x = nchw_in(n, 0);
            if (x->out_shape.size() < 2 || x->out_shape.size() > 4) unsup("needs 1 to 3 spatial dimensions");
            set_layer(n, nchw_out(n, std::make_shared<LPool2D>(x, op == "GlobalMaxPool" ? PoolKind::Max : PoolKind::Avg,
                                                               std::vector<int>{}, std::vector<int>{}, "", true, lname(n),
                                                               std::vector<int>{}, 0)));
            return;
        }
        if (op == "BatchNormalization") return batchnorm(n);
        if (op == "InstanceNormalization") return instancenorm(n);
        if (op == "LayerNormalization") return layernorm(n);
        if (op == "Dropout") return dropout(n, index);
        if (op == "Flatten") {
            Attrs a(n, {"axis"});
            const layer x = lin(n, 0);
            const int64_t r = rank(x);
            int64_t ax = a.i("axis", 1);
            if (ax < 0) ax += r;
            EDDL_CHECK(ax >= 0 && ax <= r, what_ << ": " << node_str(n) << ": axis " << a.i("axis", 1) << " out of range for rank " << r);
            if (!whole_) {
                if (ax != 1) unsup("axis " + std::to_string(ax) + " (only 1 keeps the batch dimension)");
                set_layer(n, std::make_shared<LReshape>(x, Shape{-1}, lname(n), "Flatten"));
                return;
            }
            int outer = 1, inner = 1;
            for (int64_t i = 0; i < r; ++i) (i < ax ? outer : inner) *= x->out_shape[size_t(i)];
            set_layer(n, std::make_shared<LReshape>(x, Shape{outer, inner}, lname(n), "Reshape"));
            return;
        }
        if (op == "Reshape") return reshape(n);
        if ((op == "Squeeze" || op == "Unsqueeze") && !whole_ && in(n, 0).l && in(n, 0).batch_axis) {
            Attrs a(n, {"axes"});
            const Value& xv = in(n, 0);
            std::vector<int64_t> axes = a.ints("axes");
            if (has_in(n, 1)) axes = cin(n, 1, "axes").ints(what_ + ": axes");
            const Shape d = dims_of(xv);
            const int64_t r = int64_t(d.size()) + (op == "Unsqueeze" ? int64_t(axes.size()) : 0);
            for (auto& e : axes) e = norm_axis(e, r, what_ + ": " + node_str(n));
            std::vector<int64_t> dd(d.begin(), d.end());
            const auto out = reshape_dims_squeeze(op == "Unsqueeze", dd, axes, what_ + ": " + node_str(n), nullptr);
            int nb = -1, count = 0;
            Shape rest;
            for (size_t i = 0; i < out.size(); ++i) {
                if (out[i] == -1) {
                    nb = int(i);
                    ++count;
                } else {
                    rest.push_back(int(out[i]));
                }
            }
            if (count != 1 || rest.empty()) unsup("squeezes the batch dimension");
            Value v;
            v.l = std::make_shared<LReshape>(xv.l, rest, lname(n), "Reshape");
            v.batch_axis = nb;
            vals_[n.output(0)] = v;
            return;
        }
        if (op == "Squeeze" || op == "Unsqueeze") {
            Attrs a(n, {"axes"});
            const layer x = lin(n, 0);
            std::vector<int64_t> axes = a.ints("axes");
            if (has_in(n, 1)) axes = cin(n, 1, "axes").ints(what_ + ": axes");
            const Shape d = full(x);
            bool batch = false;
            const auto out = reshape_dims_squeeze(op == "Unsqueeze", std::vector<int64_t>(d.begin(), d.end()), axes,
                                                  what_ + ": " + node_str(n), whole_ ? nullptr : &batch);
            if (!whole_ && (batch || out.empty() || out[0] != -1)) unsup("changes the batch dimension");
            if (int64_t(out.size()) < 1 + off_) unsup(whole_ ? "would leave a scalar" : "would leave a [batch] tensor");
            set_layer(n, std::make_shared<LReshape>(x, Shape(out.begin() + off_, out.end()), lname(n), "Reshape"));
            return;
        }
        if (op == "Transpose") {
            Attrs a(n, {"perm"});
            const Value xv = in(n, 0);
            if (!xv.l) unsup("input 0 is a constant where a computed tensor is expected");
            if (xv.vec || xv.int_cast) lin(n, 0);  // the usual refusal
            const layer x = xv.l;
            const int64_t R = rank(x), b = whole_ ? -1 : xv.batch_axis;
            std::vector<int64_t> perm = a.ints("perm");
            if (perm.empty())
                for (int64_t i = R - 1; i >= 0; --i) perm.push_back(i);
            EDDL_CHECK(int64_t(perm.size()) == R, what_ << ": " << node_str(n) << ": perm " << join(perm) << " for rank " << R);
            std::vector<int64_t> sorted = perm;
            std::sort(sorted.begin(), sorted.end());
            for (size_t i = 0; i < sorted.size(); ++i)
                EDDL_CHECK(sorted[i] == int64_t(i), what_ << ": " << node_str(n) << ": perm " << join(perm) << " is not a permutation");
            // the batch may move (it stays first in the layer's data): the other axes are permuted
            std::vector<int> dims;
            int64_t nb = 0;
            bool identity = true;
            for (size_t i = 0; i < perm.size(); ++i) {
                if (perm[i] == b) {
                    nb = int64_t(i);
                    continue;
                }
                dims.push_back(int(b >= 0 && perm[i] > b ? perm[i] - 1 : perm[i]));
                identity = identity && dims.back() == int(dims.size()) - 1;
            }
            Value v;
            v.l = identity ? x : std::make_shared<LPermute>(x, dims, lname(n));
            v.batch_axis = int(nb);
            vals_[n.output(0)] = v;
            return;
        }
        if (op == "Concat") {
            Attrs a(n, {"axis"});
            vlayer ps;
            for (int i = 0; i < n.input_size(); ++i) ps.push_back(lin(n, i));
            const int64_t ax = norm_axis(a.i("axis", 0), rank(ps[0]), what_ + ": " + node_str(n));
            if (ax < off_) unsup("concatenates along the batch dimension");
            if (ps.size() == 1) vals_[n.output(0)] = in(n, 0);
            else set_layer(n, std::make_shared<LConcat>(ps, int(ax - off_), lname(n)));
            return;
        }
        if (op == "Softmax") return softmax(n);
        if (op == "LogSoftmax" || op == "Hardmax") return axis_op(n);
        if (op == "Split") return split(n);
        if (op == "LSTM" || op == "GRU" || op == "RNN") return recurrent(n);
        if (op == "Expand" || op == "Tile") return broadcast_op(n);
        if (op == "TopK") return topk(n);
        if (op == "LRN") {
            Attrs a(n, {"alpha", "beta", "bias", "size"});
            if (!a.has("size")) unsup("LRN without size");
            const layer x = nchw_in(n, 0);
            const int64_t size = a.i("size", 1);
            EDDL_CHECK(size >= 1 && size <= kMaxAttr, what_ << ": " << node_str(n) << ": size " << size);
            set_layer(n, nchw_out(n, std::make_shared<onnxio::LLRN>(x, a.f("alpha", 1e-4f), a.f("beta", 0.75f),
                                                                    a.f("bias", 1.0f), int(size), lname(n))));
            return;
        }
        if (op == "ArgMax" || op == "ArgMin") {
            Attrs a(n, {"axis", "keepdims", "select_last_index"});
            const layer x = lin(n, 0);
            const int64_t ax = norm_axis(a.i("axis", 0), rank(x), what_ + ": " + node_str(n));
            if (ax < off_) unsup("axis 0 (the batch)");
            const bool keep = a.i("keepdims", 1) != 0;
            set_layer(n, std::make_shared<onnxio::LAxisOp>(x, op, int(ax - off_), lname(n), keep, a.i("select_last_index", 0) != 0),
                      !whole_ && !keep && x->out_shape.size() == 1);
            return;
        }
        if (op == "IsNaN" || op == "IsInf") {
            Attrs a(n, {"detect_negative", "detect_positive"});
            const Value& xv = in(n, 0);
            set_layer(n, std::make_shared<LElementwise>(lin(n, 0, true), op == "IsNaN" ? EwFn::IsNaN : EwFn::IsInf, op,
                                                        float(a.i("detect_negative", 1)), float(a.i("detect_positive", 1)),
                                                        std::vector<int64_t>{}, std::vector<float>{}, lname(n)),
                      xv.vec);
            return;
        }
        if (op == "Greater" || op == "Less" || op == "GreaterOrEqual" || op == "LessOrEqual" || op == "Equal") {
            Attrs a(n, {"broadcast", "axis"});
            const bool first = bool(in(n, 0).l);
            if (!first && !in(n, 1).l) unsup("two constants");
            if (first && in(n, 1).l) unsup("two computed operands");
            const Value& xv = in(n, first ? 0 : 1);
            const Const& c = cin(n, first ? 1 : 0, "constant operand");
            // c op x is x op' c with the comparison mirrored
            static const std::map<std::string, std::pair<EwFn, EwFn>> fns = {
                {"Greater", {EwFn::Greater, EwFn::Less}},           {"Less", {EwFn::Less, EwFn::Greater}},
                {"GreaterOrEqual", {EwFn::GreaterOrEqual, EwFn::LessOrEqual}},
                {"LessOrEqual", {EwFn::LessOrEqual, EwFn::GreaterOrEqual}}, {"Equal", {EwFn::Equal, EwFn::Equal}}};
            static const std::map<EwFn, std::string> names = {{EwFn::Greater, "Greater"}, {EwFn::Less, "Less"},
                                                              {EwFn::GreaterOrEqual, "GreaterOrEqual"},
                                                              {EwFn::LessOrEqual, "LessOrEqual"}, {EwFn::Equal, "Equal"}};
            const EwFn fn = first ? fns.at(op).first : fns.at(op).second;
            set_layer(n, std::make_shared<LElementwise>(lin(n, first ? 0 : 1, true), fn, names.at(fn), 0.0f, 0.0f, c.dims,
                                                        c.floats(), lname(n)),
                      xv.vec);
            return;
        }
        if (op == "PRelu" || op == "Mod") {
            Attrs a(n, {"fmod"});
            if (op == "Mod" && a.i("fmod", 0) != 1) unsup("fmod=0 (integer modulus) on float tensors");
            const Value& xv = in(n, 0);
            const Const& c = cin(n, 1, op == "PRelu" ? "slope" : "divisor");
            set_layer(n, std::make_shared<LElementwise>(lin(n, 0, true), op == "PRelu" ? EwFn::PRelu : EwFn::Fmod, op, 0.0f,
                                                        0.0f, c.dims, c.floats(), lname(n)),
                      xv.vec);
            return;
        }
        if (op == "Pad") return pad(n);
        if (op == "Resize" || op == "Upsample") return resize(n);
        if (op.rfind("Reduce", 0) == 0) return reduce(n);
        if (op == "Gather") return gather(n);
        if (op == "Slice") return slice(n);
        if (op == "Sum" || op == "Mean" || op == "Max" || op == "Min") unsup("mixes constants and computed tensors");
        unsup("this operand form is not supported");
    }

    bool unary(const onnx::NodeProto& n) {
        const std::string& op = n.op_type();
        static const std::map<std::string, const char*> acts = {
            {"Relu", "relu"}, {"Sigmoid", "sigmoid"}, {"Tanh", "tanh"}, {"Softsign", "softsign"},
            {"Softplus", "softplus"}, {"Exp", "exponential"}};
        static const std::map<std::string, EwFn> ews = {
            {"Abs", EwFn::Abs},   {"Neg", EwFn::Neg},     {"Sqrt", EwFn::Sqrt},   {"Reciprocal", EwFn::Reciprocal},
            {"Log", EwFn::Log},   {"Sin", EwFn::Sin},     {"Cos", EwFn::Cos},     {"Tan", EwFn::Tan},
            {"Asin", EwFn::Asin}, {"Acos", EwFn::Acos},   {"Atan", EwFn::Atan},   {"Sinh", EwFn::Sinh},
            {"Cosh", EwFn::Cosh}, {"Asinh", EwFn::Asinh}, {"Acosh", EwFn::Acosh}, {"Atanh", EwFn::Atanh},
            {"Floor", EwFn::Floor}, {"Ceil", EwFn::Ceil}, {"Round", EwFn::Round}, {"Sign", EwFn::Sign},
            {"Erf", EwFn::Erf},   {"HardSwish", EwFn::HardSwish}, {"Mish", EwFn::Mish}};
        auto act = [&](const char* name, float alpha) {
            const Value& v = in(n, 0);
            set_layer(n, std::make_shared<LActivation>(lin(n, 0, true), name, alpha, lname(n)), v.vec);
        };
        auto ew = [&](EwFn fn, float a, float b) {
            const Value& v = in(n, 0);
            set_layer(n, std::make_shared<LElementwise>(lin(n, 0, true), fn, op, a, b, std::vector<int64_t>{},
                                                        std::vector<float>{}, lname(n)),
                      v.vec);
        };
        if (auto it = acts.find(op); it != acts.end()) {
            Attrs a(n, {});
            act(it->second, 0.0f);
            return true;
        }
        if (auto it = ews.find(op); it != ews.end()) {
            Attrs a(n, {});
            ew(it->second, 0, 0);
            return true;
        }
        if (op == "LeakyRelu") {
            Attrs a(n, {"alpha"});
            act("leaky_relu", a.f("alpha", 0.01f));
        } else if (op == "Elu") {
            Attrs a(n, {"alpha"});
            act("elu", a.f("alpha", 1.0f));
        } else if (op == "ThresholdedRelu") {
            Attrs a(n, {"alpha"});
            act("thresholded_relu", a.f("alpha", 1.0f));
        } else if (op == "Selu") {
            Attrs a(n, {"alpha", "gamma"});
            const float al = a.f("alpha", 1.67326319217681884765625f), ga = a.f("gamma", 1.05070102214813232421875f);
            if (al == 1.67326319217681884765625f && ga == 1.05070102214813232421875f) act("selu", 0);
            else ew(EwFn::Selu, al, ga);
        } else if (op == "HardSigmoid") {
            Attrs a(n, {"alpha", "beta"});
            const float al = a.f("alpha", 0.2f), be = a.f("beta", 0.5f);
            if (al == 0.2f && be == 0.5f) act("hard_sigmoid", 0);
            else ew(EwFn::HardSigmoid, al, be);
        } else if (op == "Celu") {
            Attrs a(n, {"alpha"});
            ew(EwFn::Celu, a.f("alpha", 1.0f), 0);
        } else if (op == "Shrink") {
            Attrs a(n, {"bias", "lambd"});
            ew(EwFn::Shrink, a.f("bias", 0.0f), a.f("lambd", 0.5f));
        } else if (op == "Clip") {
            Attrs a(n, {"min", "max"});
            float lo = a.f("min", -std::numeric_limits<float>::infinity());
            float hi = a.f("max", std::numeric_limits<float>::infinity());
            if (has_in(n, 1)) lo = float(cin(n, 1, "minimum").v.at(0));
            if (has_in(n, 2)) hi = float(cin(n, 2, "maximum").v.at(0));
            ew(EwFn::Clip, lo, hi);
        } else {
            return false;
        }
        return true;
    }

    // Add Sub Mul Div Pow Max Min Sum Mean with layer operands
    bool binary(const onnx::NodeProto& n, int index) {
        const std::string& op = n.op_type();
        static const std::set<std::string> ops = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean"};
        if (!ops.count(op)) return false;
        Attrs a(n, {"broadcast", "axis", "consumed_inputs"});
        if (a.i("broadcast", 0) && a.has("axis")) unsup("legacy broadcast with an axis");
        int nl = 0;
        for (int i = 0; i < n.input_size(); ++i) nl += vals_.at(n.input(i)).l ? 1 : 0;
        if (nl == n.input_size()) {  // every operand computed: a merge layer, equal shapes
            vlayer ps;
            bool vec = in(n, 0).vec;
            for (int i = 0; i < n.input_size(); ++i) {
                ps.push_back(lin(n, i, true));
                if (in(n, i).vec != vec || ps.back()->out_shape != ps[0]->out_shape)
                    unsup("operands of different shapes (broadcasting between computed tensors)");
            }
            if (ps.size() == 1) {
                vals_[n.output(0)] = in(n, 0);
                return true;
            }
            static const std::map<std::string, MergeOp> merges = {
                {"Add", MergeOp::Add}, {"Sum", MergeOp::Add}, {"Sub", MergeOp::Subtract}, {"Mul", MergeOp::Multiply},
                {"Mean", MergeOp::Average}, {"Max", MergeOp::Maximum}, {"Min", MergeOp::Minimum}};
            auto unary = [&](const layer& x, EwFn fn, const std::string& name) -> layer {
                return std::make_shared<LElementwise>(x, fn, name, 0.0f, 0.0f, std::vector<int64_t>{}, std::vector<float>{},
                                                      lname(n, name));
            };
            if (op == "Div" && ps.size() == 2) {  // a * (1 / b)
                set_layer(n, std::make_shared<LMerge>(vlayer{ps[0], unary(ps[1], EwFn::Reciprocal, "Reciprocal")},
                                                      MergeOp::Multiply, lname(n)), vec);
                return true;
            }
            if (op == "Pow" && ps.size() == 2) {  // exp(b * log(a)): defined for a >= 0, as real powers are
                const layer prod = std::make_shared<LMerge>(vlayer{ps[1], unary(ps[0], EwFn::Log, "Log")},
                                                            MergeOp::Multiply, lname(n, "Mul"));
                set_layer(n, std::make_shared<LElementwise>(prod, EwFn::Exp, "Exp", 0.0f, 0.0f, std::vector<int64_t>{},
                                                            std::vector<float>{}, lname(n)), vec);
                return true;
            }
            auto it = merges.find(op);
            if (it == merges.end()) unsup("both operands computed");
            set_layer(n, std::make_shared<LMerge>(ps, it->second, lname(n)), vec);
            return true;
        }
        if (n.input_size() != 2 || nl != 1) unsup("mixes constants and computed tensors");
        const bool first = bool(vals_.at(n.input(0)).l);
        const Value& xv = in(n, first ? 0 : 1);
        const layer x = lin(n, first ? 0 : 1, true);
        const Const& c = *in(n, first ? 1 : 0).c;
        if (has_batch(c)) unsup("arithmetic on the batch size");
        if (xv.vec && c.numel() != 1) unsup("1-D tensors ([batch]) with a constant of more than one element");
        // the constant must broadcast onto the sample without growing it (aligned right against
        // [batch, sample...]; in OnnxBatch::none the ONNX dims are the sample)
        const int64_t R = int64_t(x->out_shape.size()) + 1, cr = int64_t(c.dims.size());
        bool fits = cr <= R && (cr < R || c.dims[0] == 1);
        for (int64_t i = 0; fits && i < cr; ++i) {
            const int64_t d = c.dims[size_t(i)], pos = R - cr + i;
            fits = d == 1 || (pos >= 1 && d == x->out_shape[size_t(pos - 1)]);
        }
        if (!fits) unsup("constant of shape " + join(c.dims) + " does not broadcast onto " + shape_str(full(x)));
        if (op == "Mul" && c.numel() == 1) {
            set_layer(n, std::make_shared<LActivation>(x, "linear", float(c.v[0]), lname(n)), xv.vec);
            return true;
        }
        EwFn fn;
        if (op == "Add" || op == "Sum") fn = EwFn::Add;
        else if (op == "Sub") fn = first ? EwFn::Sub : EwFn::RSub;
        else if (op == "Mul") fn = EwFn::Mul;
        else if (op == "Div") fn = first ? EwFn::Div : EwFn::RDiv;
        else if (op == "Pow" && first) fn = EwFn::Pow;
        else if (op == "Max") fn = EwFn::Max;
        else if (op == "Min") fn = EwFn::Min;
        else unsup("this operand order");
        (void)index;
        set_layer(n, std::make_shared<LElementwise>(x, fn, op == "Sum" ? "Add" : op, 0.0f, 0.0f, c.dims, c.floats(), lname(n)),
                  xv.vec);
        return true;
    }

    // a constant [units] (or [1, units], or one value) that may follow as a bias: fuses node j
    bool bias_after(const onnx::NodeProto& n, int units, int spatial_rank, std::vector<float>& bias, int* fused) {
        int j;
        const auto* c = sole_consumer(n, &j);
        if (!c || c->op_type() != "Add" || c->input_size() != 2) return false;
        const std::string& other = c->input(0) == n.output(0) ? c->input(1) : c->input(0);
        if (other == n.output(0)) return false;
        auto it = vals_.find(other);
        if (it == vals_.end() || !it->second.c) return false;
        const Const& b = *it->second.c;
        if (b.numel() != units || has_batch(b)) return false;
        // the units must sit on the channel axis: trailing dims after it all 1
        std::vector<int64_t> d = b.dims;
        while (!d.empty() && d.front() == 1 && int(d.size()) > spatial_rank + 1) d.erase(d.begin());
        if (d.empty() || d[0] != units || int(d.size()) != spatial_rank + 1) {
            if (!(b.numel() == 1 && units == 1)) return false;
        }
        for (size_t i = 1; i < d.size(); ++i)
            if (d[i] != 1) return false;
        bias = b.floats();
        *fused = j;
        return true;
    }

    void gemm(const onnx::NodeProto& n) {
        Attrs a(n, {"alpha", "beta", "transA", "transB", "broadcast"});
        const std::string who = what_ + ": " + node_str(n);
        layer x = lin(n, 0);
        if (x->out_shape.size() != size_t(2 - off_)) unsup(whole_ ? "input A must be 2-D" : "input A must be 2-D [batch, features]");
        if (a.i("transA", 0)) {
            if (!whole_) unsup("transA=1 (A holds the batch)");
            x = std::make_shared<LPermute>(x, std::vector<int>{1, 0}, lname(n, "transA"));
        }
        const Const& B = cin(n, 1, "matrix B");
        EDDL_CHECK(B.dims.size() == 2, who << ": B has shape " << join(B.dims) << ", expected 2-D");
        const bool tb = a.i("transB", 0) != 0;
        const int64_t K = tb ? B.dims[1] : B.dims[0], M = tb ? B.dims[0] : B.dims[1];
        EDDL_CHECK(K == x->out_shape.back(), who << ": shape mismatch: A has " << x->out_shape.back() << " features, B has shape "
                                                 << join(B.dims) << (tb ? " (transposed)" : ""));
        const float alpha = a.f("alpha", 1.0f), beta = a.f("beta", 1.0f);
        std::vector<float> bias;
        const Const* Cm = nullptr;  // a C that is not one row: added after the product
        if (has_in(n, 2)) {
            const Const& C = cin(n, 2, "bias C");
            if (C.numel() == 1) bias.assign(size_t(M), float(C.v[0]));
            else if (C.numel() == M && (C.dims.size() == 1 || (C.dims.size() == 2 && C.dims[0] == 1))) bias = C.floats();
            else if (whole_) Cm = &C;
            else unsup("C of shape " + join(C.dims) + " (depends on the batch)");
            for (float& v : bias) v *= beta;
        }
        auto d = std::make_shared<LDense>(x, int(M), !bias.empty(), lname(n));
        float* w = d->params[0]->ptr;
        for (int64_t k = 0; k < K; ++k)
            for (int64_t m = 0; m < M; ++m)
                w[k * M + m] = alpha * float(tb ? B.v[size_t(m * K + k)] : B.v[size_t(k * M + m)]);
        if (!bias.empty()) copy_into(*d->params[1], bias, who);
        if (!Cm) {
            set_layer(n, d);
            return;
        }
        std::vector<float> c = Cm->floats();
        for (float& v : c) v *= beta;
        set_layer(n, std::make_shared<LElementwise>(d, EwFn::Add, "Add", 0.0f, 0.0f, Cm->dims, c, lname(n, "C")));
    }

    void matmul(const onnx::NodeProto& n, int) {
        Attrs a(n, {});
        const std::string who = what_ + ": " + node_str(n);
        if (in(n, 0).l && in(n, 1).l) {  // both computed
            const layer A = lin(n, 0), B = lin(n, 1);
            const Shape &sa = A->out_shape, &sb = B->out_shape;
            if (sa.size() < 2 || sa.size() != sb.size() || !std::equal(sa.begin(), sa.end() - 2, sb.begin()))
                unsup("computed operands of shapes " + shape_str(full(A)) + " and " + shape_str(full(B)) +
                      " (only [..., M, K] x [..., K, N] with equal leading dimensions)");
            EDDL_CHECK(sa.back() == sb[sb.size() - 2], who << ": shape mismatch: " << shape_str(full(A)) << " x "
                                                           << shape_str(full(B)));
            set_layer(n, std::make_shared<onnxio::LMatMul>(A, B, lname(n)));
            return;
        }
        const layer x = lin(n, 0);
        if (int64_t(x->out_shape.size()) + off_ < 2) unsup("input A must have at least 2 dimensions");
        const Const& B = cin(n, 1, "matrix B");
        if (B.dims.size() != 2) unsup("B of shape " + join(B.dims) + " (only 2-D)");
        EDDL_CHECK(B.dims[0] == x->out_shape.back(), who << ": shape mismatch: A has " << x->out_shape.back()
                                                         << " features, B has shape " << join(B.dims));
        const int M = int(B.dims[1]);
        std::vector<float> bias;
        int fused = -1;
        const bool with_bias = bias_after(n, M, 0, bias, &fused);
        auto d = std::make_shared<LDense>(x, M, with_bias, lname(n));
        copy_into(*d->params[0], B.floats(), who);
        if (with_bias) {
            copy_into(*d->params[1], bias, who);
            fused_.insert(fused);
            set_layer(g_.node(fused), d);
        }
        set_layer(n, d);
    }

    // begin/end pads per spatial dimension from auto_pad / pads
    void spatial_pads(const Attrs& a, const layer& x, const std::vector<int64_t>& k, const std::vector<int64_t>& s,
                      const std::vector<int64_t>& d, std::vector<int>& begin, std::vector<int>& end,
                      const std::string& who) {
        const size_t r = k.size();
        // found by the fuzzer: strides with fewer values than the kernel read past their end
        EDDL_CHECK(s.size() == r && d.size() == r, who << ": strides " << join(s) << " and dilations " << join(d)
                                                      << " need " << r << " values each (kernel_shape " << join(k) << ")");
        for (size_t i = 0; i < r; ++i)
            EDDL_CHECK(k[i] >= 1 && s[i] >= 1 && d[i] >= 1 && k[i] <= kMaxAttr && s[i] <= kMaxAttr && d[i] <= kMaxAttr,
                       who << ": kernel_shape " << join(k) << ", strides " << join(s) << ", dilations " << join(d)
                           << ": each value must be in [1, " << kMaxAttr << "]");
        const std::string ap = a.s("auto_pad", "NOTSET");
        begin.assign(r, 0);
        end.assign(r, 0);
        if (ap == "NOTSET") {
            const auto p = a.ints("pads", std::vector<int64_t>(2 * r, 0));
            EDDL_CHECK(p.size() == 2 * r, who << ": pads " << join(p) << " for " << r << " spatial dimensions");
            for (size_t i = 0; i < r; ++i) {
                begin[i] = int(p[i]);
                end[i] = int(p[i + r]);
                EDDL_CHECK(p[i] >= 0 && p[i + r] >= 0 && p[i] <= kMaxAttr && p[i + r] <= kMaxAttr,
                           who << ": pads " << join(p) << " must be in [0, " << kMaxAttr << "]");
            }
        } else if (ap == "SAME_UPPER" || ap == "SAME_LOWER") {
            for (size_t i = 0; i < r; ++i) {
                const int64_t in = x->out_shape[i + 1], out = (in + s[i] - 1) / s[i];
                const int64_t total = std::max<int64_t>((out - 1) * s[i] + (k[i] - 1) * d[i] + 1 - in, 0);
                const int64_t small = total / 2;
                begin[i] = int(ap == "SAME_UPPER" ? small : total - small);
                end[i] = int(total - begin[i]);
            }
        } else if (ap != "VALID") {
            unsup("auto_pad '" + ap + "'");
        }
    }

    void conv(const onnx::NodeProto& n, int) {
        Attrs a(n, {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"});
        const std::string who = what_ + ": " + node_str(n);
        const layer x = nchw_in(n, 0);
        const int r = int(x->out_shape.size()) - 1;
        if (r < 1 || r > 3) unsup("input of rank " + std::to_string(r + 2) + " (1 to 3 spatial dimensions supported)");
        const Const& W = cin(n, 1, "weight");
        const int64_t group = a.i("group", 1);
        EDDL_CHECK(int(W.dims.size()) == r + 2, who << ": weight of shape " << join(W.dims) << " for a " << r << "-D input");
        EDDL_CHECK(group >= 1 && W.dims[1] * group == x->out_shape[0],
                   who << ": shape mismatch: weight " << join(W.dims) << " with group " << group << " for "
                       << x->out_shape[0] << " input channels");
        std::vector<int64_t> k(W.dims.begin() + 2, W.dims.end());
        if (a.has("kernel_shape"))
            EDDL_CHECK(a.ints("kernel_shape") == k, who << ": kernel_shape " << join(a.ints("kernel_shape"))
                                                        << " differs from the weight's " << join(k));
        const auto s = a.ints("strides", std::vector<int64_t>(size_t(r), 1));
        const auto d = a.ints("dilations", std::vector<int64_t>(size_t(r), 1));
        EDDL_CHECK(int(s.size()) == r && int(d.size()) == r, who << ": strides/dilations need " << r << " values");
        std::vector<int> b, e;
        spatial_pads(a, x, k, s, d, b, e, who);
        std::vector<int> pads;
        for (int i = 0; i < r; ++i) {
            pads.push_back(b[size_t(i)]);
            pads.push_back(e[size_t(i)]);
        }
        const int F = int(W.dims[0]);
        std::vector<float> bias;
        int fused = -1;
        bool with_bias = has_in(n, 2);
        if (with_bias) {
            const Const& B = cin(n, 2, "bias");
            EDDL_CHECK(B.numel() == F, who << ": shape mismatch: bias of " << B.numel() << " values for " << F << " filters");
            bias = B.floats();
        } else {
            with_bias = bias_after(n, F, r, bias, &fused);
        }
        auto c = std::make_shared<LConv2D>(x, F, std::vector<int>(k.begin(), k.end()), std::vector<int>(s.begin(), s.end()),
                                           "", pads, with_bias, int(group), std::vector<int>(d.begin(), d.end()), lname(n), r);
        copy_into(*c->params[0], W.floats(), who);
        if (with_bias) copy_into(*c->params[1], bias, who);
        const layer y = nchw_out(n, c);
        if (fused >= 0) {
            fused_.insert(fused);
            set_layer(g_.node(fused), y);
        }
        set_layer(n, y);
    }

    void convt(const onnx::NodeProto& n) {
        Attrs a(n, {"auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape", "pads", "strides"});
        const std::string who = what_ + ": " + node_str(n);
        const layer x = nchw_in(n, 0);
        const int r = int(x->out_shape.size()) - 1;
        if (r < 1 || r > 3) unsup("input of rank " + std::to_string(r + 2) + " (1 to 3 spatial dimensions supported)");
        if (a.i("group", 1) != 1) unsup("group > 1");
        const Const& W = cin(n, 1, "weight");
        EDDL_CHECK(int(W.dims.size()) == r + 2 && W.dims[0] == x->out_shape[0],
                   who << ": shape mismatch: weight " << join(W.dims) << " for " << x->out_shape[0] << " input channels and "
                       << r << " spatial dimensions");
        const std::vector<int64_t> k(W.dims.begin() + 2, W.dims.end());
        if (a.has("kernel_shape")) EDDL_CHECK(a.ints("kernel_shape") == k, who << ": kernel_shape differs from the weight's");
        const std::vector<int64_t> ones(size_t(r), 1), zeros(size_t(r), 0);
        const auto s = a.ints("strides", ones), d = a.ints("dilations", ones), op = a.ints("output_padding", zeros);
        EDDL_CHECK(int(s.size()) == r && int(d.size()) == r && int(op.size()) == r,
                   who << ": strides/dilations/output_padding need " << r << " values");
        for (int i = 0; i < r; ++i)
            EDDL_CHECK(s[size_t(i)] >= 1 && d[size_t(i)] >= 1 && op[size_t(i)] >= 0 && s[size_t(i)] <= kMaxAttr &&
                           d[size_t(i)] <= kMaxAttr && op[size_t(i)] <= kMaxAttr && k[size_t(i)] >= 1 && k[size_t(i)] <= kMaxAttr,
                       who << ": kernel " << join(k) << ", strides " << join(s) << ", dilations " << join(d)
                           << ", output_padding " << join(op) << " out of range");
        std::vector<int64_t> pb(size_t(r), 0), pe(size_t(r), 0);
        const std::string ap = a.s("auto_pad", "NOTSET");
        if (a.has("output_shape") || ap == "SAME_UPPER" || ap == "SAME_LOWER") {
            auto os = a.ints("output_shape");
            if (int(os.size()) > r) os = std::vector<int64_t>(os.end() - r, os.end());
            EDDL_CHECK(os.empty() || int(os.size()) == r, who << ": output_shape " << join(os));
            for (int i = 0; i < r; ++i) {
                const int64_t in = x->out_shape[size_t(i) + 1];
                const int64_t out = os.empty() ? in * s[size_t(i)] : os[size_t(i)];
                EDDL_CHECK(out >= 1 && out <= kMaxAttr * 64, who << ": output_shape " << join(os));
                // negative: an output larger than the full transposed convolution (extra end outputs)
                const int64_t total = s[size_t(i)] * (in - 1) + op[size_t(i)] + (k[size_t(i)] - 1) * d[size_t(i)] + 1 - out;
                const int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);  // floor(total / 2), as ONNX
                pb[size_t(i)] = ap == "SAME_UPPER" ? half : total - half;
                pe[size_t(i)] = total - pb[size_t(i)];
            }
        } else if (ap == "NOTSET") {
            const auto p = a.ints("pads", std::vector<int64_t>(size_t(2 * r), 0));
            EDDL_CHECK(int(p.size()) == 2 * r, who << ": pads need " << 2 * r << " values");
            for (int i = 0; i < r; ++i) {
                pb[size_t(i)] = p[size_t(i)];
                pe[size_t(i)] = p[size_t(i + r)];
                EDDL_CHECK(p[size_t(i)] >= 0 && p[size_t(i + r)] >= 0 && p[size_t(i)] <= kMaxAttr && p[size_t(i + r)] <= kMaxAttr,
                           who << ": pads " << join(p));
            }
        } else if (ap != "VALID") {
            unsup("auto_pad '" + ap + "'");
        }
        const int F = int(W.dims[1]);
        std::vector<int> pads, kk, ss, dd;
        for (int i = 0; i < r; ++i) {  // (begin, end) per dimension; output_padding as a lower end
            pads.push_back(int(pb[size_t(i)]));
            pads.push_back(int(pe[size_t(i)] - op[size_t(i)]));
            kk.push_back(int(k[size_t(i)]));
            ss.push_back(int(s[size_t(i)]));
            dd.push_back(int(d[size_t(i)]));
        }
        const bool bias = has_in(n, 2);
        auto c = std::make_shared<LConvT2D>(x, F, kk, ss, "", pads, std::vector<int>{}, bias, dd, lname(n), r);
        copy_into(*c->params[0], W.floats(), who);
        if (bias) copy_into(*c->params[1], cin(n, 2, "bias").floats(), who);
        set_layer(n, nchw_out(n, c));
    }

    void pool(const onnx::NodeProto& n) {
        const bool maxp = n.op_type() == "MaxPool";
        Attrs a(n, {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "strides", "storage_order",
                    "count_include_pad"});
        const std::string who = what_ + ": " + node_str(n);
        need_unused_outputs(n, 2);
        const bool indices = n.output_size() > 1 && !n.output(1).empty() && used(n.output(1));
        if (indices && !maxp) unsup("a second output");
        const layer x = nchw_in(n, 0);
        const int r = int(x->out_shape.size()) - 1;
        if (r < 1 || r > 3) unsup("1 to 3 spatial dimensions supported");
        const auto k = a.ints("kernel_shape");
        EDDL_CHECK(int(k.size()) == r, who << ": kernel_shape " << join(k) << " for " << r << " spatial dimensions");
        const auto s = a.ints("strides", std::vector<int64_t>(size_t(r), 1));
        const auto d = a.ints("dilations", std::vector<int64_t>(size_t(r), 1));
        std::vector<int> b, e;
        spatial_pads(a, x, k, s, d, b, e, who);
        PoolOptions opt;
        bool zero = true, symmetric = true;
        for (int i = 0; i < r; ++i) {
            const int64_t span = (k[size_t(i)] - 1) * d[size_t(i)] + 1;
            if (b[size_t(i)] >= span || e[size_t(i)] >= span) unsup("padding as large as the window");
            if (d[size_t(i)] != 1 && !maxp) unsup("dilated average pooling");
            opt.dilations.push_back(int(d[size_t(i)]));
            zero = zero && b[size_t(i)] == 0 && e[size_t(i)] == 0;
            symmetric = symmetric && b[size_t(i)] == e[size_t(i)];
        }
        opt.ceil_mode = a.i("ceil_mode", 0) != 0;
        opt.count_include_pad = !maxp && a.i("count_include_pad", 0) != 0;
        std::vector<int> pads;  // symmetric: one per dimension; else every begin, then every end
        if (!zero) {
            pads = b;
            if (!symmetric) pads.insert(pads.end(), e.begin(), e.end());
        }
        auto pl = std::make_shared<LPool2D>(x, maxp ? PoolKind::Max : PoolKind::Avg, std::vector<int>(k.begin(), k.end()),
                                            std::vector<int>(s.begin(), s.end()), zero ? "valid" : "", false, lname(n), pads,
                                            r, opt);
        set_layer(n, nchw_out(n, pl));
        if (indices)  // MaxPool's Indices: flat positions in [N, C, spatial...]
            vals_[n.output(1)].l = nchw_out(n, std::make_shared<onnxio::LPoolIndices>(x, pl, lname(n, "indices"), whole_,
                                                                                       a.i("storage_order", 0) != 0));
    }

    void batchnorm(const onnx::NodeProto& n) {
        Attrs a(n, {"epsilon", "momentum", "training_mode", "spatial", "is_test", "consumed_inputs"});
        const std::string who = what_ + ": " + node_str(n);
        if (a.i("spatial", 1) != 1) unsup("spatial=0");
        if (a.i("training_mode", 0)) {  // the data's statistics (and the updated running ones)
            if (opset_ < 14) unsup("training_mode before opset 14");
            const layer x = lin(n, 0);
            const int cax = whole_ ? 1 : 0;
            if (int(x->out_shape.size()) <= cax) unsup("needs a channel dimension");
            const int C = x->out_shape[size_t(cax)];
            const Const &sc = cin(n, 1, "scale"), &bi = cin(n, 2, "bias"), &mu = cin(n, 3, "mean"), &va = cin(n, 4, "variance");
            for (const Const* c : {&sc, &bi, &mu, &va})
                EDDL_CHECK(c->numel() == C, who << ": shape mismatch: " << c->numel() << " statistics or weights for " << C << " channels");
            float momentum = a.f("momentum", 0.9f);
            const float eps = a.f("epsilon", 1e-5f);
            using BS = onnxio::LBatchStats;
            const BS::Out outs[3] = {BS::Out::Y, BS::Out::RunningMean, BS::Out::RunningVar};
            for (int o = 0; o < 3 && o < n.output_size(); ++o) {
                if (n.output(o).empty() || !used(n.output(o))) continue;
                if (o > 0 && !whole_) unsup("running statistics outputs with the first dimension as the batch (OnnxBatch::none takes them)");
                vals_[n.output(o)].l = std::make_shared<BS>(x, cax, !whole_, eps, momentum, outs[o], sc.floats(), bi.floats(),
                                                            mu.floats(), va.floats(), o ? lname(n, o == 1 ? "mean" : "var") : lname(n));
            }
            return;
        }
        need_unused_outputs(n, 1);
        const layer x = nchw_in(n, 0);
        const int C = x->out_shape[0];
        const Const &sc = cin(n, 1, "scale"), &bi = cin(n, 2, "bias"), &mu = cin(n, 3, "mean"), &va = cin(n, 4, "variance");
        for (const Const* c : {&sc, &bi, &mu, &va})
            EDDL_CHECK(c->numel() == C, who << ": shape mismatch: " << c->numel() << " statistics or weights for " << C << " channels");
        float momentum = a.f("momentum", 0.9f);
        if (!(momentum >= 0 && momentum < 1)) momentum = 0.9f;
        const bool fixed = n.input(1).size() > 12 && n.input(1).compare(n.input(1).size() - 12, 12, ".fixed_scale") == 0;
        auto bn = std::make_shared<LBatchNorm>(x, momentum, a.f("epsilon", 1e-5f), !fixed, lname(n));
        if (!fixed) {
            copy_into(*bn->params[0], sc.floats(), who);
            copy_into(*bn->params[1], bi.floats(), who);
        }
        copy_into(*bn->states[0], mu.floats(), who);
        copy_into(*bn->states[1], va.floats(), who);
        set_layer(n, nchw_out(n, bn));
    }

    void instancenorm(const onnx::NodeProto& n) {
        Attrs a(n, {"epsilon"});
        const std::string who = what_ + ": " + node_str(n);
        const layer x = nchw_in(n, 0);
        if (x->out_shape.size() < 2) unsup("needs spatial dimensions");
        const int C = x->out_shape[0];
        const Const &sc = cin(n, 1, "scale"), &bi = cin(n, 2, "bias");
        EDDL_CHECK(sc.numel() == C && bi.numel() == C, who << ": shape mismatch: scale/bias for " << C << " channels");
        auto gn = std::make_shared<LGroupNorm>(x, C, a.f("epsilon", 1e-5f), true, lname(n));
        copy_into(*gn->params[0], sc.floats(), who);
        copy_into(*gn->params[1], bi.floats(), who);
        set_layer(n, nchw_out(n, gn));
    }

    void layernorm(const onnx::NodeProto& n) {
        Attrs a(n, {"axis", "epsilon", "stash_type"});
        const std::string who = what_ + ": " + node_str(n);
        const layer x = lin(n, 0);
        const int64_t ax = norm_axis(a.i("axis", -1), rank(x), who);
        if (ax < off_) unsup("axis 0 (normalizes across the batch)");
        if (a.i("stash_type", 1) != 1) unsup("stash_type other than float");
        const int k = int(ax - off_);  // the first normalized sample axis
        const float eps = a.f("epsilon", 1e-5f);
        auto expand = [&](const Const& c) {  // broadcast onto the normalized shape
            std::vector<int64_t> dims(x->out_shape.begin() + k, x->out_shape.end());
            Const z;
            z.dims = dims;
            z.v.assign(size_t(std::accumulate(dims.begin(), dims.end(), int64_t(1), std::multiplies<>())), 0.0);
            const Const r = broadcast(z, c, [](double, double v) { return v; });
            if (r.dims != dims) unsup("scale or bias of shape " + join(c.dims) + " for normalized dimensions " + join(dims));
            return r;
        };
        auto ln = std::make_shared<LGroupNorm>(x, 0, eps, true, lname(n), k);
        copy_into(*ln->params[0], expand(cin(n, 1, "scale")).floats(), who);
        if (has_in(n, 2)) copy_into(*ln->params[1], expand(cin(n, 2, "bias")).floats(), who);
        set_layer(n, ln);
        for (int o = 1; o < 3 && o < n.output_size(); ++o)  // Mean, InvStdDev
            if (!n.output(o).empty() && used(n.output(o)))
                vals_[n.output(o)].l = std::make_shared<onnxio::LNormStat>(x, k, eps, o == 2, lname(n, o == 1 ? "mean" : "invstd"));
    }

    void dropout(const onnx::NodeProto& n, int) {
        Attrs a(n, {"ratio", "seed", "is_test", "consumed_inputs"});
        need_unused_outputs(n, 1);
        const Value& xv = in(n, 0);
        const layer x = lin(n, 0, true);
        float ratio = a.f("ratio", 0.5f);
        if (has_in(n, 1)) ratio = float(cin(n, 1, "ratio").v.at(0));
        if (has_in(n, 2) && cin(n, 2, "training_mode").v.at(0) != 0) unsup("training_mode=true");
        if (!(ratio >= 0 && ratio < 1)) unsup("ratio " + std::to_string(ratio));
        // Dropout then Mul by (1 - ratio): EDDL's own dropout (scaled at inference)
        int j;
        const auto* c = sole_consumer(n, &j);
        if (c && c->op_type() == "Mul" && c->input_size() == 2) {
            const std::string& other = c->input(0) == n.output(0) ? c->input(1) : c->input(0);
            auto it = vals_.find(other);
            if (other != n.output(0) && it != vals_.end() && it->second.c && it->second.c->numel() == 1 &&
                float(it->second.c->v[0]) == 1.0f - ratio) {
                auto d = std::make_shared<LDropout>(x, ratio, true, lname(g_.node(j)));
                fused_.insert(j);
                set_layer(g_.node(j), d, xv.vec);
                set_layer(n, d, xv.vec);
                return;
            }
        }
        set_layer(n, std::make_shared<LDropout>(x, ratio, false, lname(n)), xv.vec);
    }

    void reshape(const onnx::NodeProto& n) {
        Attrs a(n, {"allowzero", "shape"});
        const std::string who = what_ + ": " + node_str(n);
        if (!whole_ && in(n, 0).l && in(n, 0).batch_axis) {  // the batch elsewhere: it must stay in place (a 0 there)
            const Value& xv = in(n, 0);
            const int b = xv.batch_axis;
            const Shape d = dims_of(xv);
            std::vector<double> t = cin(n, 1, "shape").v;
            if (int(t.size()) <= b || !(t[size_t(b)] == 0 || t[size_t(b)] == kBatch) || a.i("allowzero", 0))
                unsup("a reshape that moves the batch (at axis " + std::to_string(b) + ")");
            Shape rest;
            for (size_t i = 0; i < t.size(); ++i) {
                if (int(i) == b) continue;
                double v = t[i];
                if (v == 0) {
                    EDDL_CHECK(i < d.size() && d[i] != -1, who << ": 0 copies dimension " << i << " of " << shape_str(d));
                    v = d[i];
                }
                if (v == kBatch) unsup("the batch size twice");
                EDDL_CHECK(v == -1 || (v > 0 && v < 2147483648.0), who << ": invalid target dimension " << t[i]);
                rest.push_back(int(v));
            }
            Value v;
            v.l = std::make_shared<LReshape>(xv.l, rest, lname(n), "Reshape");
            v.batch_axis = b;
            vals_[n.output(0)] = v;
            return;
        }
        const layer x = lin(n, 0);
        std::vector<double> t;
        if (has_in(n, 1)) t = cin(n, 1, "shape").v;
        else for (int64_t v : a.ints("shape")) t.push_back(double(v));
        EDDL_CHECK(!t.empty(), who << ": empty target shape");
        if (whole_) {  // every dimension is the sample's
            Shape target;
            int minus = 0;
            for (size_t i = 0; i < t.size(); ++i) {
                double v = t[i];
                if (v == 0 && !a.i("allowzero", 0)) {
                    EDDL_CHECK(i < x->out_shape.size(), who << ": 0 copies dimension " << i << " of a rank-" << rank(x) << " input");
                    v = x->out_shape[i];
                }
                if (v == 0) unsup("zero-size dimensions");
                if (v == -1 && ++minus > 1) unsup("two inferred dimensions");
                EDDL_CHECK(v == -1 || (v > 0 && v < 2147483648.0), who << ": invalid target dimension " << t[i]);
                target.push_back(int(v));
            }
            set_layer(n, std::make_shared<LReshape>(x, target, lname(n), "Reshape"));
            return;
        }
        int64_t sample = 1;
        for (int d : x->out_shape) sample *= d;
        Shape target;
        int minus = 0;
        for (size_t i = 1; i < t.size(); ++i) {
            double v = t[i];
            if (v == kBatch) unsup("the batch size inside the sample shape");
            if (v == 0 && !a.i("allowzero", 0)) {
                EDDL_CHECK(i < x->out_shape.size() + 1, who << ": 0 copies dimension " << i << " of a rank-" << rank(x) << " input");
                v = x->out_shape[i - 1];
            }
            if (v == -1) ++minus;
            EDDL_CHECK(v == -1 || (v > 0 && v < 2147483648.0), who << ": invalid target dimension " << t[i]);
            target.push_back(int(v));
        }
        const double t0 = t[0];
        if (t0 == -1) {  // batch inferred: the rest must hold exactly one sample
            if (minus) unsup("two inferred dimensions");
            int64_t p = 1;
            for (int v : target) p *= v;
            if (p != sample) unsup("the batch dimension changes size");
        } else if (!(t0 == kBatch || (t0 == 0 && !a.i("allowzero", 0)) || (static_batch_ > 0 && t0 == double(static_batch_)))) {
            std::ostringstream os;  // found by the fuzzer: t0 may be any double (4.7e21), not an int64
            os << "fixes the first dimension to " << t0 << " (not the batch)";
            unsup(os.str());
        }
        if (target.empty()) unsup("would leave a [batch] tensor");
        set_layer(n, std::make_shared<LReshape>(x, target, lname(n), "Reshape"));
    }

    void softmax(const onnx::NodeProto& n) {
        Attrs a(n, {"axis"});
        const std::string who = what_ + ": " + node_str(n);
        const layer x = lin(n, 0);
        const int64_t R = rank(x);
        const int64_t ax = norm_axis(a.i("axis", opset_ >= 13 ? -1 : 1), R, who);
        if (ax < off_) unsup("axis 0 (the batch)");
        if (ax == R - 1) {
            set_layer(n, std::make_shared<LSoftmax>(x, -1, lname(n)));
            return;
        }
        if (opset_ < 13)
            return over_flattened(n, x, ax, [&](const layer& f) -> layer {
                return std::make_shared<LSoftmax>(f, -1, lname(n, "softmax"));
            });
        // axis in the middle: move it last, softmax, move it back
        std::vector<int> fwd, back(size_t(R - off_));
        for (int64_t i = off_; i < R; ++i)
            if (i != ax) fwd.push_back(int(i - off_));
        fwd.push_back(int(ax - off_));
        for (size_t i = 0; i < fwd.size(); ++i) back[size_t(fwd[i])] = int(i);
        layer p = std::make_shared<LPermute>(x, fwd, lname(n, "to_last"));
        layer s = std::make_shared<LSoftmax>(p, -1, lname(n, "softmax"));
        set_layer(n, std::make_shared<LPermute>(s, back, lname(n)));
    }

    // Opsets < 13 of Softmax, LogSoftmax and Hardmax: the op over the dimensions from `ax` on
    // flattened, as rows of [outer, inner]: reshape, `on_last` (the op on the last axis), reshape back.
    template <class F>
    void over_flattened(const onnx::NodeProto& n, const layer& x, int64_t ax, F on_last) {
        int outer = 1;
        for (int64_t i = off_; i < ax; ++i) outer *= x->out_shape[size_t(i - off_)];
        const layer f = std::make_shared<LReshape>(x, outer == 1 ? Shape{-1} : Shape{outer, -1}, lname(n, "flat"),
                                                   outer == 1 ? "Flatten" : "Reshape");
        set_layer(n, std::make_shared<LReshape>(on_last(f), x->out_shape, lname(n), "Reshape"));
    }

    // LogSoftmax, Hardmax: along one axis (opset 13), or over the dimensions from `axis` on
    // flattened (older opsets)
    void axis_op(const onnx::NodeProto& n) {
        Attrs a(n, {"axis"});
        const std::string who = what_ + ": " + node_str(n);
        const layer x = lin(n, 0);
        const int64_t R = rank(x);
        const int64_t ax = norm_axis(a.i("axis", opset_ >= 13 ? -1 : 1), R, who);
        if (ax < off_) unsup("axis 0 (the batch)");
        if (opset_ >= 13 || ax == R - 1) {
            set_layer(n, std::make_shared<onnxio::LAxisOp>(x, n.op_type(), int(ax - off_), lname(n)));
            return;
        }
        over_flattened(n, x, ax, [&](const layer& f) -> layer {
            return std::make_shared<onnxio::LAxisOp>(f, n.op_type(), int(f->out_shape.size()) - 1, lname(n, "op"));
        });
    }

    // RNN, LSTM, GRU: layout 1 ([batch, steps, features]) with the batch first; layout 0 ([steps,
    // batch, features], PyTorch's) as a whole sample (OnnxBatch::none) or after a Transpose that put
    // the batch second (batch_axis 1)
    void recurrent(const onnx::NodeProto& n) {
        Attrs a(n, {"activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size",
                    "input_forget", "layout", "linear_before_reset"});
        const std::string who = what_ + ": " + node_str(n);
        const std::string& op = n.op_type();
        const auto kind = op == "LSTM" ? LRecurrent::Kind::LSTM : op == "GRU" ? LRecurrent::Kind::GRU : LRecurrent::Kind::RNN;
        const int G = op == "LSTM" ? 4 : op == "GRU" ? 3 : 1;
        if (a.has("clip")) unsup("clip");
        if (a.i("input_forget", 0)) unsup("input_forget=1");
        if (a.has("activation_alpha") || a.has("activation_beta")) unsup("activation_alpha/beta");
        LRecurrent::Options o;
        const std::string dir = a.s("direction", "forward");
        if (dir != "forward" && dir != "reverse" && dir != "bidirectional") unsup("direction '" + dir + "'");
        o.bidirectional = dir == "bidirectional";
        o.reverse = dir == "reverse";
        const int D = o.bidirectional ? 2 : 1;
        const int64_t layout = a.i("layout", 0);
        if (layout != 0 && layout != 1) unsup("layout " + std::to_string(layout));
        o.linear_before_reset = a.i("linear_before_reset", 0) != 0;
        if (const auto* acts = a.get("activations")) {  // the defaults only (RNN: one of tanh, relu, sigmoid)
            std::vector<std::string> v(acts->strings().begin(), acts->strings().end());
            const std::vector<std::string> def = op == "LSTM" ? std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"}
                                                 : op == "GRU" ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                                               : std::vector<std::string>{v.empty() ? "Tanh" : v[0]};
            for (size_t i = 0; i < v.size(); ++i)
                if (v[i] != def[i % def.size()]) unsup("activations other than the defaults");
            if (op == "RNN" && !v.empty()) {
                if (v[0] != "Tanh" && v[0] != "Relu" && v[0] != "Sigmoid") unsup("activation " + v[0]);
                o.activation = v[0] == "Tanh" ? "tanh" : v[0] == "Relu" ? "relu" : "sigmoid";
            }
        }
        const Value& xv = in(n, 0);
        if (!xv.l) unsup("a constant input sequence");
        layer x = xv.l;
        // the input sequences as our layer holds them
        if (whole_) {
            if (x->out_shape.size() != 3) unsup("input of rank " + std::to_string(x->out_shape.size()));
            o.layout = int(layout);
            o.nseq = x->out_shape[layout == 0 ? 1 : 0];
        } else if (layout == 1 && xv.batch_axis == 0) {
            if (x->out_shape.size() != 2) unsup("input of rank " + std::to_string(x->out_shape.size() + 1));
        } else if (layout == 0 && xv.batch_axis == 1) {
            if (x->out_shape.size() != 2) unsup("input of rank " + std::to_string(x->out_shape.size() + 1));
        } else {
            unsup(layout == 0 ? "layout 0 ([steps, batch, features]) with the batch first: import with OnnxBatch::none"
                              : "layout 1 with the batch elsewhere");
        }
        const int64_t I = x->out_shape.back();
        const Const& W = cin(n, 1, "W");
        const Const& R = cin(n, 2, "R");
        int64_t H = a.i("hidden_size", 0);
        if (!H && W.dims.size() == 3) H = W.dims[1] / G;
        EDDL_CHECK(H >= 1 && H <= kMaxAttr, who << ": hidden_size " << H);
        EDDL_CHECK(W.dims == (std::vector<int64_t>{D, G * H, I}), who << ": shape mismatch: W " << join(W.dims) << ", expected "
                                                                      << join({D, G * H, I}));
        EDDL_CHECK(R.dims == (std::vector<int64_t>{D, G * H, H}), who << ": shape mismatch: R " << join(R.dims) << ", expected "
                                                                      << join({D, G * H, H}));
        const bool has_b = has_in(n, 3), has_p = op == "LSTM" && has_in(n, 7);
        o.peepholes = has_p;
        o.use_bias = has_b;  // absent: zero biases, not learned
        const int64_t steps = whole_ ? x->out_shape[layout == 0 ? 0 : 1] : x->out_shape[0];
        std::vector<int64_t> lens;
        if (has_in(n, 4)) {
            lens = cin(n, 4, "sequence_lens").ints(who + ": sequence_lens");
            for (int64_t l : lens) EDDL_CHECK(l >= 0 && l <= steps, who << ": sequence length " << l << " of " << steps);
            if (whole_) {
                EDDL_CHECK(int64_t(lens.size()) == o.nseq, who << ": " << lens.size() << " sequence_lens for " << o.nseq << " sequences");
                o.seq_lens.assign(lens.begin(), lens.end());
            } else {
                for (int64_t l : lens)
                    if (l != lens[0]) unsup("different sequence_lens per batch entry with a dynamic batch");
                if (!lens.empty()) o.seq_lens = {int(lens[0])};
            }
        }
        // initial states: constants (whole samples), or zeros (PyTorch writes zeros of the batch's size)
        std::vector<const Const*> init(2, nullptr);
        for (int k = 0; k < 2; ++k) {
            const int idx = 5 + k;
            if (!has_in(n, idx) || (k == 1 && op != "LSTM")) continue;
            const Value& v = in(n, idx);
            if (v.batch_zeros) continue;
            const Const& c = cin(n, idx, k == 0 ? "initial_h" : "initial_c");
            const bool zero = std::all_of(c.v.begin(), c.v.end(), [](double e) { return e == 0; });
            if (zero) continue;
            if (!whole_) unsup("non-zero initial states with a dynamic batch");
            init[size_t(k)] = &c;
        }
        // a sequence per sample of ours: the outputs come back in ONNX's shapes through reshapes
        const bool used_y = n.output_size() > 0 && !n.output(0).empty() && used(n.output(0));
        const bool used_h = n.output_size() > 1 && !n.output(1).empty() && used(n.output(1));
        const bool used_c = op == "LSTM" && n.output_size() > 2 && !n.output(2).empty() && used(n.output(2));
        if (op != "LSTM") need_unused_outputs(n, 2);
        o.output = used_y || (!used_h && !used_c) ? LRecurrent::Output::Y : used_h ? LRecurrent::Output::Y_h : LRecurrent::Output::Y_c;
        auto r = std::make_shared<LRecurrent>(x, kind, int(H), o, lname(n));
        copy_into(*r->params[0], W.floats(), who);
        copy_into(*r->params[1], R.floats(), who);
        if (has_b) copy_into(*r->params[2], cin(n, 3, "B").floats(), who);
        if (has_p) copy_into(*r->params[has_b ? 3 : 2], cin(n, 7, "P").floats(), who);
        for (int k = 0; k < 2; ++k) {
            if (!init[size_t(k)]) continue;
            EDDL_CHECK(init[size_t(k)]->numel() == int64_t(D) * o.nseq * H,
                       who << ": shape mismatch: " << (k ? "initial_c " : "initial_h ") << join(init[size_t(k)]->dims));
            r->states.push_back(Tensor::empty({int(init[size_t(k)]->numel())}));
            copy_into(*r->states.back(), init[size_t(k)]->floats(), who);
            (k ? r->has_initial_c : r->has_initial_h) = true;
        }
        // each output in ONNX's layout: batch mode gives Y [T, D, B, H] (batch_axis 2) or [B, T, D, H]
        // for layout 1, and Y_h/Y_c [D, B, H] (batch_axis 1) or [B, D, H]
        const LRecurrent::Output outs[3] = {LRecurrent::Output::Y, LRecurrent::Output::Y_h, LRecurrent::Output::Y_c};
        const bool want[3] = {used_y, used_h, used_c};
        for (int k = 0; k < 3; ++k) {
            if (!want[k]) continue;
            layer l = outs[k] == o.output ? layer(r) : std::make_shared<LRecurrentOutput>(r, outs[k], lname(n, k == 1 ? "Y_h" : "Y_c"));
            Value v;
            if (!whole_) {  // our rows {T, D * H} / {D * H} -> {T, D, H} / {D, H}
                l = std::make_shared<LReshape>(l, k == 0 ? Shape{int(steps), D, int(H)} : Shape{D, int(H)},
                                               lname(n, k == 0 ? "Y_shape" : k == 1 ? "Y_h_shape" : "Y_c_shape"), "Reshape");
                v.batch_axis = layout == 1 ? 0 : k == 0 ? 2 : 1;
            }
            v.l = l;
            vals_[n.output(k)] = v;
        }
    }

    void split(const onnx::NodeProto& n) {
        Attrs a(n, {"axis", "split", "num_outputs"});
        const std::string who = what_ + ": " + node_str(n);
        const layer x = lin(n, 0);
        const int64_t ax = norm_axis(a.i("axis", 0), rank(x), who);
        if (ax < off_) unsup("splits the batch dimension");
        const int64_t len = x->out_shape[size_t(ax - off_)], parts = n.output_size();
        std::vector<int64_t> sizes = a.ints("split");
        if (has_in(n, 1)) sizes = cin(n, 1, "split").ints(who + ": split");
        if (sizes.empty()) {
            if (len % parts) unsup("uneven equal parts");
            sizes.assign(size_t(parts), len / parts);
        }
        EDDL_CHECK(int64_t(sizes.size()) == parts, who << ": " << sizes.size() << " sizes for " << parts << " outputs");
        int64_t total = 0;
        for (int64_t v : sizes) {
            if (v == 0) unsup("zero-size parts");
            EDDL_CHECK(v > 0, who << ": negative part size " << v);
            total += v;
        }
        EDDL_CHECK(total == len, who << ": parts " << join(sizes) << " do not add up to " << len);
        int64_t start = 0;
        for (int64_t o = 0; o < parts; ++o) {
            std::vector<int64_t> idx;
            for (int64_t i = 0; i < sizes[size_t(o)]; ++i) idx.push_back(start + i);
            start += sizes[size_t(o)];
            if (n.output(int(o)).empty() || !used(n.output(int(o)))) continue;
            vals_[n.output(int(o))].l = sizes[size_t(o)] == len ? x
                                        : std::make_shared<onnxio::LGather>(x, int(ax - off_), std::vector<int64_t>{int64_t(idx.size())},
                                                                            idx, lname(n, std::to_string(o)));
        }
    }

    // Expand (numpy broadcasting to a shape) and Tile (repeats)
    void broadcast_op(const onnx::NodeProto& n) {
        Attrs a(n, {});
        const std::string who = what_ + ": " + node_str(n);
        const bool tile = n.op_type() == "Tile";
        layer x = lin(n, 0);
        const Const& c = cin(n, 1, tile ? "repeats" : "shape");
        std::vector<int64_t> t;
        for (double v : c.v) {  // the symbolic batch stays -1
            EDDL_CHECK(v == kBatch || (std::isfinite(v) && v == std::floor(v) && std::fabs(v) <= double(kMaxAttr) * 64),
                       who << ": " << (tile ? "repeats " : "shape ") << "value " << v);
            t.push_back(v == kBatch ? -1 : int64_t(v));
        }
        Shape d = full(x);
        if (tile) {
            EDDL_CHECK(t.size() == d.size(), who << ": " << t.size() << " repeats for rank " << d.size());
        } else if (t.size() > d.size()) {  // leading 1s: only when every dimension is the sample's
            if (!whole_) unsup("adds dimensions before the batch");
            Shape s(t.size() - d.size(), 1);
            s.insert(s.end(), d.begin(), d.end());
            x = std::make_shared<LReshape>(x, s, lname(n, "rank"), "Reshape");
            d = s;
        }
        std::vector<int64_t> target(d.begin(), d.end());
        const size_t r = d.size(), tr = t.size();
        for (size_t i = 0; i < tr; ++i) {
            const size_t k = r - tr + i;
            const int64_t di = d[k], ti = t[i];
            if (int64_t(k) < off_) {  // the batch: repeats 1, or expanded to 1 or the batch
                if (!(tile ? ti == 1 : (ti == 1 || ti == -1))) unsup(tile ? "repeats the batch" : "expands the batch dimension");
                continue;
            }
            EDDL_CHECK(ti >= 1 && ti <= kMaxAttr, who << ": " << (tile ? "repeats " : "shape ") << join(t));
            if (tile) target[k] = di * ti;
            else {
                EDDL_CHECK(di == ti || di == 1 || ti == 1, who << ": " << shape_str(d) << " does not broadcast to " << join(t));
                target[k] = std::max(di, ti);
            }
        }
        Shape out(target.begin() + off_, target.end());
        if (out == x->out_shape) {
            Value v;
            v.l = x;
            vals_[n.output(0)] = v;
            return;
        }
        int64_t total = 1;
        for (int v : out) total *= v;
        if (total > (int64_t(1) << 28)) unsup("a result of " + std::to_string(total) + " values per sample");
        set_layer(n, std::make_shared<onnxio::LBroadcast>(x, out, tile, lname(n)));
    }

    void topk(const onnx::NodeProto& n) {
        Attrs a(n, {"axis", "largest", "sorted", "k"});
        const std::string who = what_ + ": " + node_str(n);
        const layer x = lin(n, 0);
        const int64_t ax = norm_axis(a.i("axis", -1), rank(x), who);
        if (ax < off_) unsup("along the batch dimension");
        const int64_t k = has_in(n, 1) ? cin(n, 1, "K").ints(who + ": K").at(0) : a.i("k", 0);
        EDDL_CHECK(k >= 1 && k <= x->out_shape[size_t(ax - off_)],
                   who << ": K " << k << " for a dimension of " << x->out_shape[size_t(ax - off_)]);
        for (int o = 0; o < 2 && o < n.output_size(); ++o)
            if (!n.output(o).empty() && used(n.output(o)))
                vals_[n.output(o)].l = std::make_shared<onnxio::LTopK>(x, int(ax - off_), int(k), a.i("largest", 1) != 0,
                                                                       o == 1, o == 0 ? lname(n) : lname(n, "indices"));
    }

    void pad(const onnx::NodeProto& n) {
        Attrs a(n, {"mode", "pads", "value"});
        const std::string who = what_ + ": " + node_str(n);
        if (a.s("mode", "constant") != "constant") unsup("mode '" + a.s("mode", "") + "'");
        const layer x = nchw_in(n, 0);
        const int64_t R = int64_t(x->out_shape.size()) + 1;  // [N, C, spatial...]
        std::vector<int64_t> p = a.ints("pads");
        float value = a.f("value", 0.0f);
        if (has_in(n, 1)) p = cin(n, 1, "pads").ints(who + ": pads");
        if (has_in(n, 2)) value = float(cin(n, 2, "constant value").v.at(0));
        if (has_in(n, 3)) unsup("the axes input");
        EDDL_CHECK(int64_t(p.size()) == 2 * R, who << ": pads " << join(p) << " for rank " << R);
        if (p[0] || p[size_t(R)]) unsup("pads the batch dimension");
        if (p[1] || p[size_t(R) + 1]) unsup("pads the channel dimension");
        if (R < 3) unsup("needs spatial dimensions");
        std::vector<int> pads;
        for (int64_t i = 2; i < R; ++i) {
            if (p[size_t(i)] < 0 || p[size_t(i + R)] < 0) unsup("negative pads (cropping)");
            pads.push_back(int(p[size_t(i)]));
            pads.push_back(int(p[size_t(i + R)]));
        }
        set_layer(n, nchw_out(n, std::make_shared<LPad>(x, pads, value, lname(n))));
    }

    // Resize / Upsample: integer upsampling of the spatial axes maps to UpSampling2D/3D (fast,
    // exported as itself); everything else to the general OnnxResize layer
    void resize(const onnx::NodeProto& n) {
        try {
            resize_fast(n);
        } catch (const Unsupported&) {
            resize_general(n);
        }
    }

    // Resize's / Upsample's operands across opsets (empty when absent)
    void resize_operands(const onnx::NodeProto& n, const Attrs& a, std::vector<double>& roi, std::vector<double>& scales,
                         std::vector<int64_t>& sizes) const {
        if (n.op_type() == "Upsample") {
            if (has_in(n, 1)) scales = cin(n, 1, "scales").v;
            else for (float f : a.floats("scales")) scales.push_back(f);
        } else if (opset_ < 11) {
            scales = cin(n, 1, "scales").v;
        } else {
            if (has_in(n, 1) && cin(n, 1, "roi").numel() > 0) roi = cin(n, 1, "roi").v;
            if (has_in(n, 2) && cin(n, 2, "scales").numel() > 0) scales = cin(n, 2, "scales").v;
            if (has_in(n, 3)) sizes = cin(n, 3, "sizes").ints(what_ + ": " + node_str(n) + ": sizes");
        }
    }

    void resize_general(const onnx::NodeProto& n) {
        const bool up = n.op_type() == "Upsample";
        Attrs a(n, {"mode", "scales", "coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a", "exclude_outside",
                    "extrapolation_value", "antialias", "keep_aspect_ratio_policy", "axes"});
        const std::string who = what_ + ": " + node_str(n);
        if (a.i("antialias", 0)) unsup("antialias");
        if (a.has("axes") || a.has("keep_aspect_ratio_policy")) unsup("axes / keep_aspect_ratio_policy (opset 18)");
        const layer x = lin(n, 0);
        const Shape d = full(x);
        const int64_t R = int64_t(d.size());
        std::vector<double> scales, roi;
        std::vector<int64_t> sizes;
        resize_operands(n, a, roi, scales, sizes);
        onnxio::LResize::Params p;
        std::string mode = a.s("mode", "nearest");
        if (mode == "bilinear" || mode == "trilinear") mode = "linear";
        if (mode != "nearest" && mode != "linear" && mode != "cubic") unsup("mode '" + mode + "'");
        p.mode = mode;
        p.ctm = a.s("coordinate_transformation_mode", up || opset_ < 11 ? "asymmetric" : "half_pixel");
        p.nearest_mode = a.s("nearest_mode", up || opset_ < 11 ? "floor" : "round_prefer_floor");
        p.cubic_a = a.f("cubic_coeff_a", -0.75f);
        p.exclude_outside = a.i("exclude_outside", 0) != 0;
        p.extrapolation = a.f("extrapolation_value", 0.0f);
        static const std::set<std::string> ctms = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                                                   "tf_half_pixel_for_nn", "tf_crop_and_resize"};
        if (!ctms.count(p.ctm)) unsup("coordinate_transformation_mode '" + p.ctm + "'");
        static const std::set<std::string> nms = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
        if (mode == "nearest" && !nms.count(p.nearest_mode)) unsup("nearest_mode '" + p.nearest_mode + "'");
        const bool crop = p.ctm == "tf_crop_and_resize";
        if (crop) EDDL_CHECK(int64_t(roi.size()) == 2 * R, who << ": roi of " << roi.size() << " values for rank " << R);
        EDDL_CHECK(!scales.empty() || !sizes.empty(), who << ": needs scales or sizes");
        EDDL_CHECK(scales.empty() || int64_t(scales.size()) == R, who << ": " << scales.size() << " scales for rank " << R);
        EDDL_CHECK(sizes.empty() || int64_t(sizes.size()) == R, who << ": " << sizes.size() << " sizes for rank " << R);
        Shape out;
        int64_t total = 1;
        for (int64_t i = 0; i < R; ++i) {
            const double st = crop ? roi[size_t(i)] : 0.0, en = crop ? roi[size_t(i + R)] : 1.0;
            if (i < off_) {  // the batch: unchanged
                const bool same = (scales.empty() || float(scales[size_t(i)]) == 1.0f) && (!crop || (st == 0 && en == 1)) &&
                                  (sizes.empty() || sizes[size_t(i)] == int64_t(kBatch) ||  // PyTorch: Shape(x)[0]
                                   (static_batch_ > 0 && sizes[size_t(i)] == static_batch_));
                if (!same) unsup("resizes the batch dimension");
                continue;
            }
            const double in = d[size_t(i)];
            double s;
            int64_t o;
            if (!sizes.empty()) {
                o = sizes[size_t(i)];
                s = double(o) / in;
            } else {
                s = double(float(scales[size_t(i)]));
                EDDL_CHECK(std::isfinite(s) && s > 0 && s * in * (en - st) <= double(kMaxAttr) * 64,
                           who << ": scale " << scales[size_t(i)] << " for dimension " << i);
                o = int64_t(std::floor(in * (en - st) * s));
            }
            EDDL_CHECK(o >= 1 && o <= kMaxAttr * 64, who << ": output dimension " << o << " for axis " << i);
            total *= o;
            if (total > (int64_t(1) << 28)) unsup("a result of more than 2^28 values per sample");
            out.push_back(int(o));
            p.scales.push_back(s);
            p.roi_start.push_back(st);
            p.roi_end.push_back(en);
        }
        set_layer(n, std::make_shared<onnxio::LResize>(x, out, p, lname(n)));
    }

    void resize_fast(const onnx::NodeProto& n) {
        const bool up = n.op_type() == "Upsample";
        Attrs a(n, {"mode", "scales", "coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a", "exclude_outside",
                    "extrapolation_value", "antialias", "keep_aspect_ratio_policy", "axes"});
        const std::string who = what_ + ": " + node_str(n);
        const layer x = nchw_in(n, 0);
        const int64_t R = int64_t(x->out_shape.size()) + 1;  // [N, C, spatial...]
        if (a.i("antialias", 0)) unsup("antialias");
        if (a.has("axes")) unsup("the axes attribute");
        std::vector<double> roi, scales;  // the roi matters to tf_crop_and_resize only (the general path)
        std::vector<int64_t> sizes;
        resize_operands(n, a, roi, scales, sizes);
        std::vector<int> f;
        if (!scales.empty()) {
            EDDL_CHECK(int64_t(scales.size()) == R, who << ": " << scales.size() << " scales for rank " << R);
            for (int64_t i = 0; i < R; ++i) {
                const double s = double(float(scales[size_t(i)]));
                if (i < 2 && s != 1) unsup("resizes the batch or channel dimension");
                if (s < 1 || s != std::floor(s)) unsup("non-integer or shrinking scale " + std::to_string(s));
                if (i < 2) continue;
                // found by the fuzzer: a scale of 1.7e28 overflowed the int factor
                EDDL_CHECK(s * double(x->out_shape[size_t(i) - 1]) <= double(kMaxAttr) * 64,
                           who << ": scale " << s << " makes dimension " << i << " larger than " << kMaxAttr * 64);
                f.push_back(int(s));
            }
        } else {
            EDDL_CHECK(int64_t(sizes.size()) == R, who << ": needs scales or sizes for rank " << R);
            for (int64_t i = 1; i < R; ++i) {
                const int64_t in = x->out_shape[size_t(i) - 1];
                if (i == 1 && sizes[size_t(i)] != in) unsup("resizes the channel dimension");
                if (sizes[size_t(i)] % in || sizes[size_t(i)] < in) unsup("sizes that are not integer multiples");
                EDDL_CHECK(sizes[size_t(i)] <= kMaxAttr * 64, who << ": size " << sizes[size_t(i)] << " of dimension " << i
                                                                  << " larger than " << kMaxAttr * 64);
                if (i >= 2) f.push_back(int(sizes[size_t(i)] / in));
            }
        }
        bool identity = true;
        for (int v : f) identity = identity && v == 1;
        if (identity) {
            vals_[n.output(0)] = in(n, 0);
            return;
        }
        if (R != 4 && R != 5) unsup("only 2-D and 3-D resizing");
        const std::string mode = a.s("mode", "nearest");
        const std::string ctm = a.s("coordinate_transformation_mode", up || opset_ < 11 ? "asymmetric" : "half_pixel");
        const std::string nm = a.s("nearest_mode", up || opset_ < 11 ? "floor" : "round_prefer_floor");
        std::string interp;
        if (mode == "nearest") {
            const bool half = ctm == "half_pixel" || ctm == "pytorch_half_pixel";
            if (!((ctm == "asymmetric" && nm == "floor") || (half && (nm == "round_prefer_floor" || nm == "round_prefer_ceil"))))
                unsup("nearest with coordinate_transformation_mode '" + ctm + "' and nearest_mode '" + nm + "'");
            interp = "nearest";
        } else if (mode == "linear" || mode == "bilinear" || mode == "trilinear") {
            if (ctm != "half_pixel" && ctm != "pytorch_half_pixel") unsup("linear with coordinate_transformation_mode '" + ctm + "'");
            interp = "linear";
        } else {
            unsup("mode '" + mode + "'");
        }
        set_layer(n, nchw_out(n, std::make_shared<LUpSampling2D>(x, f, interp, lname(n), int(R) - 2)));
    }

    void reduce(const onnx::NodeProto& n) {
        Attrs a(n, {"axes", "keepdims", "noop_with_empty_axes"});
        const std::string who = what_ + ": " + node_str(n);
        const std::string& op = n.op_type();
        const layer x = lin(n, 0);
        const int64_t R = rank(x);
        std::vector<int64_t> axes = a.ints("axes");
        if (has_in(n, 1)) axes = cin(n, 1, "axes").ints(who + ": axes");
        if (axes.empty() && a.i("noop_with_empty_axes", 0)) {
            vals_[n.output(0)] = in(n, 0);
            return;
        }
        if (axes.empty())
            for (int64_t i = 0; i < R; ++i) axes.push_back(i);
        for (auto& v : axes) v = norm_axis(v, R, who);
        std::sort(axes.begin(), axes.end());
        axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
        if (axes[0] < off_) unsup("reduction over the batch (axis 0)");
        const bool keep = a.i("keepdims", 1) != 0;
        std::vector<int64_t> spatial;
        for (int64_t i = 2; i < R; ++i) spatial.push_back(i);
        if (!whole_ && (op == "ReduceMean" || op == "ReduceMax") && axes == spatial && R >= 3 && R <= 5) {
            // global pooling (our fast path; it exports as GlobalAveragePool / GlobalMaxPool)
            layer p = std::make_shared<LPool2D>(x, op == "ReduceMax" ? PoolKind::Max : PoolKind::Avg, std::vector<int>{},
                                                std::vector<int>{}, "", true, lname(n, keep ? "" : "pool"),
                                                std::vector<int>{}, 0);
            if (!keep) p = std::make_shared<LReshape>(p, Shape{x->out_shape[0]}, lname(n), "Reshape");
            set_layer(n, p);
            return;
        }
        static const std::map<std::string, onnxio::ReduceFn> fns = {
            {"ReduceSum", onnxio::ReduceFn::Sum},       {"ReduceMean", onnxio::ReduceFn::Mean},
            {"ReduceMax", onnxio::ReduceFn::Max},       {"ReduceMin", onnxio::ReduceFn::Min},
            {"ReduceProd", onnxio::ReduceFn::Prod},     {"ReduceL1", onnxio::ReduceFn::L1},
            {"ReduceL2", onnxio::ReduceFn::L2},         {"ReduceLogSum", onnxio::ReduceFn::LogSum},
            {"ReduceLogSumExp", onnxio::ReduceFn::LogSumExp}, {"ReduceSumSquare", onnxio::ReduceFn::SumSquare}};
        std::vector<int> sample_axes;
        for (int64_t v : axes) sample_axes.push_back(int(v - off_));
        const bool all = int64_t(axes.size()) == R - off_;
        set_layer(n, std::make_shared<onnxio::LReduce>(x, fns.at(op), op, sample_axes, keep, lname(n)),
                  !whole_ && all && !keep);
    }

    void gather(const onnx::NodeProto& n) {
        Attrs a(n, {"axis"});
        const std::string who = what_ + ": " + node_str(n);
        const Value& dv = in(n, 0);
        const Value& iv = in(n, 1);
        if (dv.l && iv.c && dv.batch_axis) {  // the batch elsewhere (PyTorch's h_n[-1]): along another axis
            const int b = dv.batch_axis;
            const Shape d = dims_of(dv);
            const int64_t ax = norm_axis(a.i("axis", 0), int64_t(d.size()), who);
            if (ax == b) unsup("gathers along the batch dimension");
            const int64_t k = ax < b ? ax : ax - 1, len = d[size_t(ax)];
            std::vector<int64_t> idx = iv.c->ints(who + ": indices");
            for (auto& e : idx) {
                EDDL_CHECK(e >= -len && e < len, who << ": index " << e << " out of range for a dimension of " << len);
                if (e < 0) e += len;
            }
            if (idx.empty()) unsup("zero-size indices");
            if (dv.l->out_shape.size() == 1 && iv.c->dims.empty()) unsup("would leave a [batch] tensor");
            Value v;
            v.l = std::make_shared<onnxio::LGather>(dv.l, int(k), iv.c->dims, idx, lname(n));
            v.batch_axis = int(ax < b ? b - 1 + int64_t(iv.c->dims.size()) : b);
            vals_[n.output(0)] = v;
            return;
        }
        if (dv.l && iv.c) {  // computed data, constant indices: a selection along one axis
            const layer x = lin(n, 0);
            const int64_t ax = norm_axis(a.i("axis", 0), rank(x), who);
            if (ax < off_) unsup("gathers along the batch dimension");
            const int64_t len = x->out_shape[size_t(ax - off_)];
            std::vector<int64_t> idx = iv.c->ints(who + ": indices");
            for (auto& k : idx) {
                EDDL_CHECK(k >= -len && k < len, who << ": index " << k << " out of range for a dimension of " << len);
                if (k < 0) k += len;
            }
            if (idx.empty()) unsup("zero-size indices");
            const bool to_vec = !whole_ && x->out_shape.size() == 1 && iv.c->dims.empty();
            set_layer(n, std::make_shared<onnxio::LGather>(x, int(ax - off_), iv.c->dims, idx, lname(n)), to_vec);
            return;
        }
        if (!dv.c || !iv.l || a.i("axis", 0) != 0) unsup("only a constant table indexed along axis 0 (an embedding)");
        const Const& W = *dv.c;
        if (W.dims.size() != 2) unsup("table of shape " + join(W.dims));
        const layer idx = iv.l;
        if (iv.vec || idx->out_shape.size() != 1) unsup("indices must be [batch, length]");
        auto e = std::make_shared<LEmbedding>(idx, int(W.dims[0]), idx->out_shape[0], int(W.dims[1]), false, lname(n));
        copy_into(*e->params[0], W.floats(), who);
        set_layer(n, e);
    }

    void slice(const onnx::NodeProto& n) {
        Attrs a(n, {"starts", "ends", "axes"});
        const std::string who = what_ + ": " + node_str(n);
        const layer x = lin(n, 0);
        const int64_t R = rank(x);
        std::vector<int64_t> st = a.ints("starts"), en = a.ints("ends"), ax = a.ints("axes"), sp;
        if (opset_ >= 10) {
            st = cin(n, 1, "starts").ints(who);
            en = cin(n, 2, "ends").ints(who);
            if (has_in(n, 3)) ax = cin(n, 3, "axes").ints(who);
            if (has_in(n, 4)) sp = cin(n, 4, "steps").ints(who);
        }
        if (ax.empty())
            for (size_t i = 0; i < st.size(); ++i) ax.push_back(int64_t(i));
        EDDL_CHECK(st.size() == ax.size() && en.size() == ax.size() && (sp.empty() || sp.size() == ax.size()),
                   who << ": starts " << join(st) << ", ends " << join(en) << ", axes " << join(ax) << ", steps "
                       << join(sp) << " of different lengths");
        // the positions kept along each sliced sample axis (ONNX clamping rules)
        std::map<int64_t, std::vector<int64_t>> keep;
        bool unit_steps = true;
        for (size_t i = 0; i < ax.size(); ++i) {
            const int64_t k = norm_axis(ax[i], R, who);
            const int64_t step = sp.empty() ? 1 : sp[i];
            EDDL_CHECK(step != 0, who << ": step 0");
            EDDL_CHECK(!keep.count(k), who << ": axis " << k << " listed twice");
            if (k < off_) {  // the batch: only a no-op slice
                if (!(st[i] == 0 && step == 1 && en[i] >= std::numeric_limits<int32_t>::max())) unsup("slices the batch dimension");
                continue;
            }
            const int64_t dim = x->out_shape[size_t(k - off_)];
            int64_t s0 = st[i] < 0 ? st[i] + dim : st[i], e0 = en[i] < 0 ? en[i] + dim : en[i];
            if (step > 0) {
                s0 = std::clamp<int64_t>(s0, 0, dim);
                e0 = std::clamp<int64_t>(e0, 0, dim);
            } else {
                s0 = std::clamp<int64_t>(s0, 0, dim - 1);
                e0 = std::clamp<int64_t>(e0, -1, dim - 1);
            }
            std::vector<int64_t> pos;
            for (int64_t j = s0; step > 0 ? j < e0 : j > e0; j += step) pos.push_back(j);
            if (pos.empty()) unsup("empty slice (zero-size result)");
            if (int64_t(pos.size()) == dim && pos.front() == 0 && pos.back() == dim - 1) continue;  // whole axis
            unit_steps = unit_steps && step == 1;
            keep[k - off_] = pos;
        }
        if (keep.empty()) {
            vals_[n.output(0)] = in(n, 0);
            return;
        }
        // spatial boxes with unit steps: a Crop (exported as Slice); anything else: Gathers
        if (!whole_ && unit_steps && R >= 3 && keep.begin()->first >= 1) {
            std::vector<int> from, to;
            for (int64_t i = 1; i < R - 1; ++i) {
                auto it = keep.find(i);
                from.push_back(it == keep.end() ? 0 : int(it->second.front()));
                to.push_back(it == keep.end() ? x->out_shape[size_t(i)] - 1 : int(it->second.back()));
            }
            set_layer(n, std::make_shared<LCrop>(x, from, to, true, 0.0f, lname(n), "Crop"));
            return;
        }
        layer y = x;
        size_t left = keep.size();
        for (const auto& [k, pos] : keep)
            y = std::make_shared<onnxio::LGather>(y, int(k), std::vector<int64_t>{int64_t(pos.size())}, pos,
                                                  --left ? lname(n, "axis" + std::to_string(k + off_)) : lname(n));
        set_layer(n, y);
    }

    model finish() {
        vlayer outs;
        for (const auto& o : g_.output()) {
            const Value& v = vals_.at(o.name());
            EDDL_CHECK(v.l, what_ << ": graph output '" << o.name() << "' is a constant; only computed outputs are supported");
            EDDL_CHECK(!v.batch_axis, what_ << ": graph output '" << o.name() << "' has the batch at axis " << v.batch_axis
                                            << "; outputs must have it first (or import with OnnxBatch::none)");
            if (o.type().has_tensor_type() && o.type().tensor_type().has_shape()) {
                const auto& dims = o.type().tensor_type().shape().dim();
                Shape got = v.vec ? Shape{} : v.l->out_shape;
                bool ok = dims.size() == int(got.size() + off_);
                for (int i = int(off_); ok && i < dims.size(); ++i)
                    ok = !dims[i].has_dim_value() || dims[i].dim_value() == got[size_t(i - off_)] || !input_shape_.empty();
                EDDL_CHECK(ok || dims.size() == 0, what_ << ": shape mismatch: graph output '" << o.name() << "' is declared with "
                                     << dims.size() << " dimensions" << (whole_ ? "" : " (batch first)")
                                     << " that differ from the computed " << shape_str(full(v.l)));
            }
            outs.push_back(v.l);
        }
        // inputs no output depends on are left out
        std::set<const Layer*> reach;
        std::function<void(const layer&)> walk = [&](const layer& l) {
            if (!reach.insert(l.get()).second) return;
            for (const auto& p : l->parents) walk(p);
        };
        for (const auto& o : outs) walk(o);
        vlayer ins;
        for (const auto& l : inputs_)
            if (reach.count(l.get())) ins.push_back(l);
        EDDL_CHECK(!ins.empty(), what_ << ": no graph input reaches the outputs");
        model net = Model(ins, outs);
        net->name = g_.name().empty() ? "model" : g_.name();
        for (const auto& l : net->layers) l->keep_params = true;
        return net;
    }
};

}  // namespace

model import_net_from_onnx_string(const std::string& data, const Shape& input_shape, OnnxBatch batch) {
    const onnx::ModelProto m = onnxio::parse_model(data, "ONNX model (string)");
    return Importer(m, input_shape, "ONNX model (string)", batch).run();
}

model import_net_from_onnx_pointer(const void* buffer, size_t size, const Shape& input_shape, OnnxBatch batch) {
    const std::string what = "ONNX model (buffer)";
    const onnx::ModelProto m = onnxio::parse_model(onnxio::buffer_bytes(buffer, size, what), what);
    return Importer(m, input_shape, what, batch).run();
}

model import_net_from_onnx_file(const std::string& path, const Shape& input_shape, OnnxBatch batch) {
    const std::string what = "ONNX model '" + path + "'";
    const onnx::ModelProto m = onnxio::parse_model(io::read_file(path), what);
    return Importer(m, input_shape, what, batch).run();
}

}  // namespace eddl
