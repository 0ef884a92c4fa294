// Callbacks for fit(): early stopping, checkpoints, learning-rate control, CSV log, NaN guard.
#include <cmath>
#include <fstream>
#include <iostream>

#include "eddl/eddl.h"
#include "io/atomic_file.h"
#include "layers/layers.h"

namespace eddl {
namespace {

double monitored(const Logs& lg, const std::string& key, const char* who) {
    auto it = lg.find(key);
    if (it == lg.end()) {
        std::string known;
        for (const auto& kv : lg) known += " " + kv.first;
        EDDL_FAIL(who << ": monitored value '" << key << "' is not in the logs; available:" << known
                      << (key.rfind("val_", 0) == 0 ? " (val_* needs validation data in FitOptions)" : ""));
    }
    return it->second;
}

// Improvement tracker: losses go down, accuracies go up ("auto" picks by name).
struct Monitor {
    std::string key;
    bool maximize = false;
    float min_delta = 0;
    double best = NAN;
    Monitor(const std::string& k, const std::string& mode, float md) : key(k), min_delta(md) {
        EDDL_CHECK(mode == "auto" || mode == "min" || mode == "max", "monitor mode '" << mode << "' (use auto, min, max)");
        maximize = mode == "max" || (mode == "auto" && key.find("acc") != std::string::npos);
    }
    bool improved(double v) {
        const bool better = std::isnan(best) || (maximize ? v > best + min_delta : v < best - min_delta);
        if (better) best = v;
        return better;
    }
};

class EarlyStoppingCB : public Callback {
public:
    EarlyStoppingCB(const std::string& m, int p, float d, const std::string& mode, bool restore)
        : mon(m, mode, d), patience(p), restore(restore) {}
    void on_train_begin(Net&) override { wait = 0; mon.best = NAN; }
    void on_epoch_end(Net& net, int, Logs& lg) override {
        if (mon.improved(monitored(lg, mon.key, "EarlyStopping"))) {
            wait = 0;
            if (restore) {
                best.clear();
                for (const auto& l : net.layers)
                    for (const auto& v : {l->params, l->states})
                        for (const auto& p : v) best.push_back(p->clone());
            }
        } else if (++wait > patience) {
            net.stop_training = true;
            if (restore && !best.empty()) {
                size_t i = 0;
                for (const auto& l : net.layers)
                    for (const auto& v : {l->params, l->states})
                        for (const auto& p : v) p->copy_from(*best[i++]);
                weights_changed();
            }
        }
    }
    Monitor mon;
    int patience, wait = 0;
    bool restore;
    vtensor best;
};

class ModelCheckpointCB : public Callback {
public:
    ModelCheckpointCB(const std::string& p, const std::string& m, bool b) : path(p), mon(m, "auto", 0), best_only(b) {}
    void on_epoch_end(Net& net, int epoch, Logs& lg) override {
        if (best_only && !mon.improved(monitored(lg, mon.key, "ModelCheckpoint"))) return;
        std::string f = path;
        const auto pos = f.find("{epoch}");
        if (pos != std::string::npos) f.replace(pos, 7, std::to_string(epoch + 1));
        // net is owned by a shared_ptr held by the caller of fit(); wrap without taking ownership
        save_checkpoint(model(model(), &net), f);
    }
    std::string path;
    Monitor mon;
    bool best_only;
};

class LRSchedulerCB : public Callback {
public:
    LRSchedulerCB(Schedule s, bool v) : sched(std::move(s)), verbose(v) {}
    void on_epoch_begin(Net& net, int epoch) override {
        EDDL_CHECK(net.opt, "LearningRateScheduler: model has no optimizer");
        const float lr = sched(epoch, net.opt->getlr());
        EDDL_CHECK(std::isfinite(lr) && lr >= 0, "LearningRateScheduler: schedule gave lr " << lr << " at epoch " << epoch);
        net.opt->setlr(lr);
        if (verbose) std::cout << "LearningRateScheduler: epoch " << epoch + 1 << " lr " << lr << "\n";
    }
    Schedule sched;
    bool verbose;
};

class ReduceLROnPlateauCB : public Callback {
public:
    ReduceLROnPlateauCB(const std::string& m, float f, int p, float d, float mn)
        : mon(m, "auto", d), factor(f), patience(p), min_lr(mn) {
        EDDL_CHECK(factor > 0 && factor < 1, "ReduceLROnPlateau: factor must be in (0, 1), got " << factor);
    }
    void on_epoch_end(Net& net, int, Logs& lg) override {
        if (mon.improved(monitored(lg, mon.key, "ReduceLROnPlateau"))) {
            wait = 0;
        } else if (++wait > patience) {
            net.opt->setlr(std::max(min_lr, net.opt->getlr() * factor));
            wait = 0;
        }
    }
    Monitor mon;
    float factor;
    int patience, wait = 0;
    float min_lr;
};

class CSVLoggerCB : public Callback {
public:
    CSVLoggerCB(const std::string& p, bool a) : path(p), append(a) {}
    void on_train_begin(Net&) override {
        if (!append) {
            std::ofstream f(path, std::ios::trunc);
            EDDL_CHECK(f, "CSVLogger: cannot write '" << path << "'");
        }
        header_written = append && std::ifstream(path).peek() != std::ifstream::traits_type::eof();
    }
    void on_epoch_end(Net&, int epoch, Logs& lg) override {
        std::ofstream f(path, std::ios::app);
        EDDL_CHECK(f, "CSVLogger: cannot write '" << path << "'");
        if (!header_written) {
            f << "epoch";
            for (const auto& kv : lg) f << "," << kv.first;
            f << "\n";
            header_written = true;
        }
        f << epoch + 1;
        for (const auto& kv : lg) f << "," << kv.second;
        f << "\n";
    }
    std::string path;
    bool append, header_written = false;
};

class TerminateOnNaNCB : public Callback {
public:
    void on_batch_end(Net& net, int batch, const Logs& lg) override {
        auto it = lg.find("loss");
        if (it != lg.end() && !std::isfinite(it->second)) {
            std::cout << "TerminateOnNaN: loss is " << it->second << " at batch " << batch << ", stopping\n";
            net.stop_training = true;
        }
    }
};

}  // namespace

callback EarlyStopping(const std::string& m, int p, float d, const std::string& mode, bool r) {
    EDDL_CHECK(p >= 0, "EarlyStopping: patience must be >= 0");
    return std::make_shared<EarlyStoppingCB>(m, p, d, mode, r);
}
callback ModelCheckpoint(const std::string& p, const std::string& m, bool b) {
    return std::make_shared<ModelCheckpointCB>(p, m, b);
}
callback LearningRateScheduler(Schedule s, bool v) {
    EDDL_CHECK(s, "LearningRateScheduler: empty schedule");
    return std::make_shared<LRSchedulerCB>(std::move(s), v);
}
callback ReduceLROnPlateau(const std::string& m, float f, int p, float d, float mn) {
    return std::make_shared<ReduceLROnPlateauCB>(m, f, p, d, mn);
}
callback CSVLogger(const std::string& p, bool a) { return std::make_shared<CSVLoggerCB>(p, a); }
callback TerminateOnNaN() { return std::make_shared<TerminateOnNaNCB>(); }

}  // namespace eddl
