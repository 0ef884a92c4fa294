// Training loops: fit / evaluate / predict and the fine-grained batch API.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <numeric>

#include "eddl/eddl.h"
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

}  // namespace

void fit(model net, const vtensor& in, const vtensor& out, int bs, int epochs, const FitOptions& o) {
    EDDL_CHECK(net && net->built, "fit: model is not built; call build() first");
    EDDL_CHECK(bs >= 1 && epochs >= 0, "fit: batch size " << bs << " and epochs " << epochs << " must be positive");
    EDDL_CHECK(in.size() == net->inputs.size() && out.size() == net->outputs.size(),
               "fit: " << in.size() << " input and " << out.size() << " target tensors for a model with "
                       << net->inputs.size() << " inputs and " << net->outputs.size() << " outputs");
    const int64_t n = check_dataset(in, out, "fit");
    EDDL_CHECK(n > 0, "fit: the dataset is empty");
    const bool has_val = !o.validation_x.empty();
    if (has_val) check_dataset(o.validation_x, o.validation_y, "fit (validation data)");
    const int nb = int((n + bs - 1) / bs);
    const bool tty = o.verbose && ::isatty(STDOUT_FILENO);
    Batcher bx, by;
    net->stop_training = false;
    for (const auto& c : o.callbacks) c->on_train_begin(*net);
    for (int e = 0; e < epochs && !net->stop_training; ++e) {
        const int64_t epoch = net->epochs_done;
        for (const auto& c : o.callbacks) c->on_epoch_begin(*net, int(epoch));
        if (o.verbose) std::cout << "Epoch " << epoch + 1 << " (" << e + 1 << "/" << epochs << ")\n";
        std::vector<int> order(n);
        std::iota(order.begin(), order.end(), 0);
        if (o.shuffle) {  // Fisher-Yates from a stream of (seed, epoch): resumable and thread-independent
            Rng rng(derive_seed(net->seed, 3, uint64_t(epoch)));
            for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[rng.below(uint64_t(i + 1))]);
        }
        net->reset_loss();
        net->set_mode(TRMODE);
        const auto t0 = std::chrono::steady_clock::now();
        for (int b = 0; b < nb; ++b) {
            const std::vector<int> idx(order.begin() + int64_t(b) * bs, order.begin() + std::min<int64_t>(n, int64_t(b + 1) * bs));
            const vtensor& xb = bx.gather(in, idx);
            const vtensor& yb = by.gather(out, idx);
            net->zero_grads();
            net->forward(xb);
            net->backward(yb);
            net->update();
            if (!o.callbacks.empty()) {
                const Logs lg = net->logs();
                for (const auto& c : o.callbacks) c->on_batch_end(*net, b, lg);
            }
            if (tty && (b % 20 == 0 || b == nb - 1))
                progress(b + 1, nb, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                         format_logs(net->logs(), *net), false);
            if (net->stop_training) break;
        }
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        Logs lg = net->logs();
        if (has_val) {
            const Logs v = evaluate(net, o.validation_x, o.validation_y, bs, 0);
            for (const auto& [k, val] : v) lg["val_" + k] = val;
        }
        if (net->opt) lg["lr"] = net->opt->getlr();
        ++net->epochs_done;
        if (o.verbose) progress(nb, nb, secs, format_logs(lg, *net), true);
        for (const auto& c : o.callbacks) c->on_epoch_end(*net, int(epoch), lg);
    }
    for (const auto& c : o.callbacks) c->on_train_end(*net);
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
