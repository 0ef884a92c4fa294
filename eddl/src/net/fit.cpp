// Training loops: fit / evaluate / predict and the fine-grained batch API.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <numeric>

#include "eddl/eddl.h"
#include "layers/layers.h"
#include "tensor/random.h"

namespace eddl {
namespace {

int64_t check_dataset(const vtensor& in, const vtensor& out, const char* what) {
    EDDL_CHECK(!in.empty(), what << ": no input tensors");
    for (const auto& t : in) EDDL_CHECK(t && t->ndim >= 1, what << ": an input tensor is empty");
    const int64_t n = in[0]->shape[0];
    for (const auto& t : in)
        EDDL_CHECK(t->shape[0] == n, what << ": inputs have " << n << " and " << t->shape[0] << " samples");
    for (const auto& t : out) {
        EDDL_CHECK(t && t->ndim >= 1, what << ": an output tensor is empty");
        EDDL_CHECK(t->shape[0] == n, what << ": inputs have " << n << " samples but a target " << shape_str(t->shape)
                                          << " has " << t->shape[0]);
    }
    return n;
}

// Reusable batch buffers: one per tensor, reallocated only when the batch size changes.
struct Batcher {
    vtensor bufs;
    const vtensor& gather(const vtensor& src, const std::vector<int>& idx) {
        bufs.resize(src.size());
        for (size_t i = 0; i < src.size(); ++i) {
            Shape s = src[i]->shape;
            s[0] = int(idx.size());
            if (!bufs[i] || bufs[i]->shape != s) bufs[i] = Tensor::empty(s, src[i]->device);
            Tensor::select_rows(*src[i], idx, *bufs[i]);
        }
        return bufs;
    }
};

std::string format_logs(const Logs& lg, const Net& net) {
    std::ostringstream os;
    os << std::fixed << std::setprecision(4);
    auto put = [&](const std::string& k) {
        auto it = lg.find(k);
        if (it != lg.end()) os << " - " << k << ": " << it->second;
    };
    // loss first, then metrics, then validation values, as Keras prints them
    put("loss");
    for (const auto& [k, v] : lg)
        if (k != "loss" && k.rfind("val_", 0) != 0 && k != "lr") put(k);
    put("val_loss");
    for (const auto& [k, v] : lg)
        if (k.rfind("val_", 0) == 0 && k != "val_loss") put(k);
    (void)net;
    return os.str();
}

void progress(int done, int total, double secs, const std::string& tail, bool final) {
    const int width = 30, filled = total ? int(int64_t(width) * done / total) : width;
    std::string bar(filled, '=');
    if (filled < width) bar += '>' + std::string(width - filled - 1, '.');
    std::ostringstream os;
    os << done << "/" << total << " [" << bar << "] - " << std::fixed << std::setprecision(1) << secs << "s "
       << std::setprecision(0) << (done ? 1000.0 * secs / done : 0.0) << "ms/step" << tail;
    std::cout << "\r" << os.str() << (final ? "\n" : "") << std::flush;
}

// In-memory tensors as a batch source: rows in an order reshuffled every epoch from a stream of
// (seed, epoch), so a resumed run continues the same sequence whatever the thread count.
class TensorSource final : public BatchSource {
public:
    TensorSource(const vtensor& in, const vtensor& out, int bs, bool shuffle, uint64_t seed)
        : in_(in), out_(out), bs_(bs), shuffle_(shuffle), seed_(seed), n_(in[0]->shape[0]) {}
    int num_batches() const override { return int((n_ + bs_ - 1) / bs_); }
    void start_epoch(int64_t epoch) override {
        order_.resize(size_t(n_));
        std::iota(order_.begin(), order_.end(), 0);
        if (shuffle_) {  // Fisher-Yates
            Rng rng(derive_seed(seed_, 3, uint64_t(epoch)));
            for (int64_t i = n_ - 1; i > 0; --i) std::swap(order_[size_t(i)], order_[rng.below(uint64_t(i + 1))]);
        }
        next_ = 0;
    }
    bool next_batch(vtensor& x, vtensor& y) override {
        if (next_ >= n_) return false;
        const std::vector<int> idx(order_.begin() + next_, order_.begin() + std::min<int64_t>(n_, next_ + bs_));
        next_ += bs_;
        x = bx_.gather(in_, idx);
        y = by_.gather(out_, idx);
        return true;
    }

private:
    const vtensor &in_, &out_;
    int bs_;
    bool shuffle_;
    uint64_t seed_;
    int64_t n_, next_ = 0;
    std::vector<int> order_;
    Batcher bx_, by_;
};

// Calls end_epoch when the epoch is left, normally or by an exception.
struct EpochGuard {
    BatchSource& src;
    ~EpochGuard() {
        try {
            src.end_epoch();
        } catch (...) {  // a destructor must not throw; the first error is already on its way
        }
    }
};

void check_batch(const Net& net, const vtensor& x, const vtensor& y, const char* what) {
    EDDL_CHECK(x.size() == net.inputs.size() && y.size() == net.outputs.size(),
               what << ": the source gave " << x.size() << " input and " << y.size() << " target tensors for a model with "
                    << net.inputs.size() << " inputs and " << net.outputs.size() << " outputs");
    check_dataset(x, y, what);
}

}  // namespace

static void fit_epochs(model net, BatchSource& train, int epochs, const FitOptions& o, int val_bs);

void fit(model net, const vtensor& in, const vtensor& out, int bs, int epochs, const FitOptions& o) {
    EDDL_CHECK(net && net->built, "fit: model is not built; call build() first");
    EDDL_CHECK(bs >= 1 && epochs >= 0, "fit: batch size " << bs << " and epochs " << epochs << " must be positive");
    EDDL_CHECK(in.size() == net->inputs.size() && out.size() == net->outputs.size(),
               "fit: " << in.size() << " input and " << out.size() << " target tensors for a model with "
                       << net->inputs.size() << " inputs and " << net->outputs.size() << " outputs");
    const int64_t n = check_dataset(in, out, "fit");
    EDDL_CHECK(n > 0, "fit: the dataset is empty");
    if (!o.validation_x.empty()) check_dataset(o.validation_x, o.validation_y, "fit (validation data)");
    TensorSource src(in, out, bs, o.shuffle, net->seed);
    fit_epochs(net, src, epochs, o, bs);
}

void fit(model net, BatchSource& train, int epochs, const FitOptions& o) {
    EDDL_CHECK(net && net->built, "fit: model is not built; call build() first");
    fit_epochs(net, train, epochs, o, -1);
}

// The epoch loop of both fits; validation tensors are evaluated in batches of val_bs.
static void fit_epochs(model net, BatchSource& train, int epochs, const FitOptions& o, int val_bs) {
    EDDL_CHECK(epochs >= 0, "fit: epochs " << epochs << " must not be negative");
    const bool has_val = !o.validation_x.empty();
    if (has_val) check_dataset(o.validation_x, o.validation_y, "fit (validation data)");
    const bool tty = o.verbose && ::isatty(STDOUT_FILENO);
    net->stop_training = false;
    for (const auto& c : o.callbacks) c->on_train_begin(*net);
    for (int e = 0; e < epochs && !net->stop_training; ++e) {
        const int64_t epoch = net->epochs_done;
        for (const auto& c : o.callbacks) c->on_epoch_begin(*net, int(epoch));
        if (o.verbose) std::cout << "Epoch " << epoch + 1 << " (" << e + 1 << "/" << epochs << ")\n";
        net->reset_loss();
        net->set_mode(TRMODE);
        const auto t0 = std::chrono::steady_clock::now();
        int nb = 0, b = 0;
        {
            train.start_epoch(epoch);
            EpochGuard guard{train};
            nb = train.num_batches();
            vtensor xb, yb;
            while (!net->stop_training && train.next_batch(xb, yb)) {
                check_batch(*net, xb, yb, "fit");
                net->zero_grads();
                net->forward(xb);
                net->backward(yb);
                net->update();
                if (!o.callbacks.empty()) {
                    const Logs lg = net->logs();
                    for (const auto& c : o.callbacks) c->on_batch_end(*net, b, lg);
                }
                ++b;
                if (tty && (b % 20 == 1 || b == nb))
                    progress(b, nb, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                             format_logs(net->logs(), *net), false);
            }
        }
        EDDL_CHECK(b > 0, "fit: the batch source gave no batch in epoch " << epoch + 1);
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        Logs lg = net->logs();
        if (has_val || o.validation_source) {
            const Logs v = has_val ? evaluate(net, o.validation_x, o.validation_y, val_bs, 0) : evaluate(net, *o.validation_source, 0);
            for (const auto& [k, val] : v) lg["val_" + k] = val;
        }
        if (net->opt) lg["lr"] = net->opt->getlr();
        ++net->epochs_done;
        if (o.verbose) progress(b, std::max(nb, b), secs, format_logs(lg, *net), true);
        for (const auto& c : o.callbacks) c->on_epoch_end(*net, int(epoch), lg);
    }
    for (const auto& c : o.callbacks) c->on_train_end(*net);
}

Logs evaluate(model net, BatchSource& source, int verbose) {
    EDDL_CHECK(net && net->built, "evaluate: model is not built; call build() first");
    net->reset_loss();
    net->set_mode(TSMODE);
    int b = 0;
    {
        source.start_epoch(0);
        EpochGuard guard{source};
        vtensor xb, yb;
        while (source.next_batch(xb, yb)) {
            check_batch(*net, xb, yb, "evaluate");
            net->forward(xb);
            net->compute_loss(yb);
            ++b;
        }
    }
    net->set_mode(TRMODE);
    EDDL_CHECK(b > 0, "evaluate: the batch source gave no batch");
    const Logs lg = net->logs();
    if (verbose) std::cout << "Evaluate:" << format_logs(lg, *net) << "\n";
    return lg;
}

Logs evaluate(model net, const vtensor& in, const vtensor& out, int bs, int verbose) {
    EDDL_CHECK(net && net->built, "evaluate: model is not built; call build() first");
    EDDL_CHECK(out.size() == net->outputs.size(), "evaluate: " << out.size() << " target tensors for "
                                                               << net->outputs.size() << " outputs");
    const int64_t n = check_dataset(in, out, "evaluate");
    if (bs <= 0) bs = net->batch_size() > 0 ? net->batch_size() : 100;
    Batcher bx, by;
    net->reset_loss();
    net->set_mode(TSMODE);
    for (int64_t s = 0; s < n; s += bs) {
        std::vector<int> idx(size_t(std::min<int64_t>(bs, n - s)));
        std::iota(idx.begin(), idx.end(), int(s));
        net->forward(bx.gather(in, idx));
        net->compute_loss(by.gather(out, idx));
    }
    net->set_mode(TRMODE);
    const Logs lg = net->logs();
    if (verbose) std::cout << "Evaluate:" << format_logs(lg, *net) << "\n";
    return lg;
}

vtensor predict(model net, const vtensor& in, int bs) {
    EDDL_CHECK(net && net->built, "predict: model is not built; call build() first");
    const int64_t n = check_dataset(in, {}, "predict");
    if (bs <= 0) bs = net->batch_size() > 0 ? net->batch_size() : 100;
    vtensor res;
    for (const auto& o : net->outputs) {
        Shape s{int(n)};
        s.insert(s.end(), o->out_shape.begin(), o->out_shape.end());
        res.push_back(Tensor::empty(s));
    }
    Batcher bx;
    net->set_mode(TSMODE);
    for (int64_t s = 0; s < n; s += bs) {
        std::vector<int> idx(size_t(std::min<int64_t>(bs, n - s)));
        std::iota(idx.begin(), idx.end(), int(s));
        net->forward(bx.gather(in, idx));
        for (size_t i = 0; i < res.size(); ++i) {
            const Tensor& y = *net->outputs[i]->output;
            std::copy(y.ptr, y.ptr + y.size, res[i]->ptr + s * (y.size / y.shape[0]));
        }
    }
    net->set_mode(TRMODE);
    return res;
}

std::vector<int> random_indices(int bs, int n, uint64_t seed) {
    EDDL_CHECK(bs >= 1 && n >= 1, "random_indices: batch " << bs << " from " << n << " samples");
    static uint64_t calls = 0;
    Rng rng(derive_seed(seed, 4, calls++));
    std::vector<int> idx(bs);
    for (int& i : idx) i = int(rng.below(uint64_t(n)));
    return idx;
}

static vtensor rows_of(const vtensor& ts, const std::vector<int>& idx, Batcher& b) {
    if (idx.empty()) return ts;
    return b.gather(ts, idx);
}

void train_batch(model net, const vtensor& in, const vtensor& out, const std::vector<int>& idx) {
    EDDL_CHECK(net && net->built, "train_batch: model is not built");
    check_dataset(in, out, "train_batch");
    thread_local Batcher bx, by;
    net->set_mode(TRMODE);
    net->zero_grads();
    net->forward(rows_of(in, idx, bx));
    net->backward(rows_of(out, idx, by));
    net->update();
}

void eval_batch(model net, const vtensor& in, const vtensor& out, const std::vector<int>& idx) {
    EDDL_CHECK(net && net->built, "eval_batch: model is not built");
    check_dataset(in, out, "eval_batch");
    thread_local Batcher bx, by;
    net->set_mode(TSMODE);
    net->forward(rows_of(in, idx, bx));
    net->compute_loss(rows_of(out, idx, by));
    net->set_mode(TRMODE);
}

void next_batch(const vtensor& src, const vtensor& dst) {
    EDDL_CHECK(!src.empty() && src.size() == dst.size(),
               "next_batch: " << src.size() << " sources for " << dst.size() << " destinations");
    const std::vector<int> idx = random_indices(dst[0]->shape[0], src[0]->shape[0]);
    for (size_t i = 0; i < src.size(); ++i) Tensor::select_rows(*src[i], idx, *dst[i]);
}

void forward(model net, const vtensor& in) { net->forward(in); }
void backward(model net, const vtensor& targets) { net->backward(targets); }
void update(model net) { net->update(); }
void zeroGrads(model net) { net->zero_grads(); }
void reset_loss(model net) { net->reset_loss(); }
void set_mode(model net, int mode) {
    EDDL_CHECK(mode == TRMODE || mode == TSMODE, "set_mode: mode must be TRMODE or TSMODE, got " << mode);
    net->set_mode(mode);
    weights_changed();
}
void print_loss(model net, int batch) {
    std::cout << "Batch " << batch << format_logs(net->logs(), *net) << "\n" << std::flush;
}
std::vector<float> get_losses(model net) {
    std::vector<float> r;
    const double n = double(std::max<int64_t>(net->samples_seen, 1));
    for (double s : net->loss_sum) r.push_back(float(s / n));
    return r;
}
std::vector<float> get_metrics(model net) {
    std::vector<float> r;
    const double n = double(std::max<int64_t>(net->samples_seen, 1));
    for (size_t i = 0; i < net->metrics.size(); ++i) r.push_back(float(net->metric_sum[i] / n));
    return r;
}

}  // namespace eddl
