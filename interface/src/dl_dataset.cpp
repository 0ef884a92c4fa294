// DLDataset: workers produce whole batches, numbered; the consumer takes them in number order.
// Which batch a worker makes is decided under the lock, the making (reading, augmenting,
// converting) happens outside it, and every wait also wakes on stop_, so Stop() always returns.
#include <algorithm>
#include <cmath>
#include <random>

#include "ecvl/support_eddl.h"

namespace ecvl {

DLDataset::DLDataset(const std::filesystem::path& filename, int batch_size, DatasetAugmentations augs, ColorType ctype,
                     ColorType ctype_gt, int num_workers, double queue_ratio_size,
                     const std::unordered_map<std::string, bool>& drop_last, bool verify)
    : Dataset(filename, verify), batch_size_(batch_size), augs_(std::move(augs)), ctype_(ctype), ctype_gt_(ctype_gt),
      num_workers_(num_workers), queue_ratio_(queue_ratio_size) {
    ECVL_CHECK(batch_size >= 1, "DLDataset: batch size must be positive, got " << batch_size);
    ECVL_CHECK(num_workers >= 1, "DLDataset: needs at least one worker, got " << num_workers);
    ECVL_CHECK(queue_ratio_size > 0, "DLDataset: queue_ratio_size must be positive, got " << queue_ratio_size);
    if (split_.empty()) {  // a dataset without splits is one split of all its samples
        Split all;
        all.split_name_ = "all";
        for (int i = 0; i < int(samples_.size()); ++i) all.samples_indices_.push_back(i);
        split_.push_back(all);
    }
    for (const auto& [name, drop] : drop_last) {
        const bool known = std::any_of(split_.begin(), split_.end(), [&](const ecvl::Split& s) { return s.split_name_ == name; });
        ECVL_CHECK(known, "DLDataset: drop_last names split '" << name << "', which " << filename << " does not have");
    }
    state_.resize(split_.size());
    for (size_t s = 0; s < split_.size(); ++s) {
        const auto it = drop_last.find(split_[s].split_name_);
        state_[s].drop_last = split_[s].drop_last_ = it != drop_last.end() && it->second;
        state_[s].order = split_[s].samples_indices_;
    }
    if (current_split_ < 0) {
        current_split_ = 0;
        for (size_t s = 0; s < split_.size(); ++s)
            if (split_[s].split_type_ == SplitType::training) {
                current_split_ = int(s);
                break;
            }
    }
    SetWorkers(num_workers);
}

DLDataset::~DLDataset() { Stop(); }

int DLDataset::split_index(int split) const {
    const int s = split < 0 ? current_split_ : split;
    ECVL_CHECK(s >= 0 && s < int(split_.size()), "DLDataset: split " << split << " out of " << split_.size() << " splits");
    return s;
}

int DLDataset::GetNumBatches(int split) const {
    const int s = split_index(split);
    const int n = int(state_[size_t(s)].order.size());
    return state_[size_t(s)].drop_last ? n / batch_size_ : (n + batch_size_ - 1) / batch_size_;
}

void DLDataset::SetBatchSize(int bs) {
    ECVL_CHECK(bs >= 1, "DLDataset::SetBatchSize: batch size must be positive, got " << bs);
    Stop();
    batch_size_ = bs;
    for (auto& st : state_) st.consumed = 0;
}

void DLDataset::SetWorkers(int n) {
    ECVL_CHECK(n >= 1, "DLDataset::SetWorkers: needs at least one worker, got " << n);
    Stop();
    num_workers_ = n;
    // Batches made ahead of the consumer: at least one per worker, so none of them idles.
    capacity_ = std::max(n, int(std::lround(queue_ratio_ * n)));
}

void DLDataset::SetAugmentations(DatasetAugmentations augs) {
    Stop();
    augs_ = std::move(augs);
}

void DLDataset::SetSeed(uint64_t seed) {
    Stop();
    seed_ = seed;
}

int64_t DLDataset::SkippedSamples() const {
    std::lock_guard<std::mutex> lk(mu_);
    return skipped_;
}

void DLDataset::shuffle_split(int s, bool shuffle) {
    SplitState& st = state_[size_t(s)];
    st.order = split_[size_t(s)].samples_indices_;
    st.consumed = 0;
    if (!shuffle) return;
    // Fisher-Yates with unbiased draws from a generator of (seed, epoch, split): the same order
    // on every platform and whatever the worker count.
    std::mt19937_64 rng(AugmentationSeed(seed_ ^ 0x5EED5EED5EED5EEDull, st.epoch, uint64_t(s)));
    for (size_t i = st.order.size(); i > 1; --i) {
        const uint64_t bound = i, limit = UINT64_MAX - UINT64_MAX % bound;
        uint64_t r;
        do r = rng();
        while (r >= limit);
        std::swap(st.order[i - 1], st.order[size_t(r % bound)]);
    }
}

void DLDataset::ResetBatch(int split, bool shuffle) {
    Stop();
    const int s = split_index(split);
    ++state_[size_t(s)].epoch;
    shuffle_split(s, shuffle);
}

void DLDataset::ResetAllBatches(bool shuffle) {
    for (int s = 0; s < int(split_.size()); ++s) ResetBatch(s, shuffle);
}

void DLDataset::Start(int split) {
    Stop();
    const int s = split_index(split);
    std::lock_guard<std::mutex> lk(mu_);
    running_split_ = s;
    next_produce_ = state_[size_t(s)].consumed;
    stop_ = false;
    for (int w = 0; w < num_workers_; ++w) workers_.emplace_back(&DLDataset::produce, this, w);
}

void DLDataset::Stop() {
    {
        std::lock_guard<std::mutex> lk(mu_);
        stop_ = true;
    }
    room_.notify_all();
    ready_cv_.notify_all();
    for (std::thread& t : workers_) t.join();
    workers_.clear();
    std::lock_guard<std::mutex> lk(mu_);
    ready_.clear();
    running_split_ = -1;
}

void DLDataset::produce(int /*worker*/) {
    for (;;) {
        int b, s;
        uint64_t epoch;
        std::vector<int> indices;
        {
            std::unique_lock<std::mutex> lk(mu_);
            s = running_split_;
            const SplitState& st = state_[size_t(s)];
            room_.wait(lk, [&] { return stop_ || next_produce_ < st.consumed + capacity_; });
            if (stop_ || next_produce_ >= GetNumBatches(s)) return;
            b = next_produce_++;
            epoch = st.epoch;
            const size_t lo = size_t(b) * size_t(batch_size_), hi = std::min(st.order.size(), lo + size_t(batch_size_));
            indices.assign(st.order.begin() + int64_t(lo), st.order.begin() + int64_t(hi));
        }
        Batch batch;
        try {
            batch = make_batch(s, epoch, indices);
        } catch (...) {
            batch.error = std::current_exception();
        }
        std::lock_guard<std::mutex> lk(mu_);
        if (stop_) return;
        ready_[b] = std::move(batch);
        ready_cv_.notify_all();
    }
}

DLDataset::Batch DLDataset::make_batch(int s, uint64_t epoch, const std::vector<int>& indices) {
    const ecvl::Split& split = split_[size_t(s)];
    const bool segmentation = task_ == Task::segmentation && !split.no_label_;
    Batch out;
    std::vector<Image> imgs, gts;
    for (const int i : indices) {
        const Sample& smp = samples_[size_t(i)];
        try {
            Image img = smp.LoadImage(ctype_), gt;
            if (segmentation) gt = smp.LoadImage(ctype_gt_, true);
            std::mt19937_64 rng(AugmentationSeed(seed_, epoch, uint64_t(i)));
            if (!augs_.IsEmpty(size_t(s))) augs_.Apply(size_t(s), img, gt, rng);
            if (task_ == Task::classification && !split.no_label_)
                ECVL_CHECK(smp.label_ && !smp.label_->empty(), "no label, in split '" << split.split_name_ << "', which has labels");
            imgs.push_back(std::move(img));
            gts.push_back(std::move(gt));
            out.samples.push_back(smp);
        } catch (const std::exception& e) {
            const std::string where = "DLDataset: sample " + std::to_string(i) + " (" +
                                      (smp.location_.empty() ? std::string("no file") : smp.location_[0].string()) + "): ";
            if (policy_ == SampleErrorPolicy::Skip) {
                std::lock_guard<std::mutex> lk(mu_);
                ++skipped_;
                continue;
            }
            out.error = std::make_exception_ptr(Error(where + e.what()));
            return out;
        }
    }
    if (imgs.empty()) return out;  // every sample skipped
    const eddl::tensor first = ImageToTensor(imgs[0]);
    const eddl::Shape& chw = first->getShape();
    out.x = eddl::Tensor::empty({int(imgs.size()), chw[0], chw[1], chw[2]});
    for (size_t k = 0; k < imgs.size(); ++k) {
        try {
            ImageToTensor(imgs[k], *out.x, int(k));
        } catch (const Error& e) {
            out.error = std::make_exception_ptr(Error("DLDataset: sample " + out.samples[k].location_[0].string() +
                                                      " comes out of the augmentations at another size than the batch's first (" +
                                                      out.samples[0].location_[0].string() + "); add AugResizeDim: " + e.what()));
            return out;
        }
    }
    const int n = int(imgs.size());
    if (split.no_label_) {
        out.y = std::make_shared<eddl::Tensor>();
    } else if (task_ == Task::classification) {
        const int nc = int(classes_.size());
        out.y = eddl::Tensor::zeros({n, nc});
        for (int k = 0; k < n; ++k)
            for (const int l : *out.samples[size_t(k)].label_) {
                ECVL_CHECK(l >= 0 && l < nc, "DLDataset: sample " << out.samples[size_t(k)].location_[0] << " has label " << l
                                                                   << " outside the " << nc << " classes");
                out.y->data()[int64_t(k) * nc + l] = 1.f;
            }
    } else {
        const eddl::tensor g = ImageToTensor(gts[0]);
        const eddl::Shape& gs = g->getShape();
        out.y = eddl::Tensor::empty({n, gs[0], gs[1], gs[2]});
        for (int k = 0; k < n; ++k) ImageToTensor(gts[size_t(k)], *out.y, k);
    }
    return out;
}

std::tuple<std::vector<Sample>, eddl::tensor, eddl::tensor> DLDataset::GetBatch() {
    std::unique_lock<std::mutex> lk(mu_);
    ECVL_CHECK(running_split_ >= 0, "DLDataset::GetBatch: the loader is not started; call Start()");
    const int s = running_split_;
    SplitState& st = state_[size_t(s)];
    ECVL_CHECK(st.consumed < GetNumBatches(s), "DLDataset::GetBatch: split '" << split_[size_t(s)].split_name_ << "' has no more batches ("
                                                  << GetNumBatches(s) << " per epoch); call ResetBatch()");
    const int b = st.consumed;
    ready_cv_.wait(lk, [&] { return stop_ || ready_.count(b); });
    ECVL_CHECK(!stop_, "DLDataset::GetBatch: the loader was stopped while waiting for batch " << b);
    Batch batch = std::move(ready_[b]);
    ready_.erase(b);
    ++st.consumed;
    lk.unlock();
    room_.notify_all();
    if (batch.error) {
        Stop();
        std::rethrow_exception(batch.error);
    }
    return {std::move(batch.samples), batch.x, batch.y};
}

std::vector<int> DLDataset::GetTensorShape() {
    const int s = split_index(-1);
    ECVL_CHECK(!state_[size_t(s)].order.empty(), "DLDataset::GetTensorShape: split '" << split_[size_t(s)].split_name_ << "' is empty");
    const Batch b = make_batch(s, 0, {state_[size_t(s)].order[0]});
    if (b.error) std::rethrow_exception(b.error);
    ECVL_CHECK(b.x, "DLDataset::GetTensorShape: the first sample could not be read");
    std::vector<int> shape(b.x->getShape().begin() + 1, b.x->getShape().end());
    if (b.y && b.y->getShape().size() == 4) shape.insert(shape.end(), b.y->getShape().begin() + 1, b.y->getShape().end());
    return shape;
}

void DLDataset::start_epoch(int64_t epoch) {
    Stop();
    const int s = split_index(-1);
    state_[size_t(s)].epoch = uint64_t(epoch);
    shuffle_split(s, split_[size_t(s)].split_type_ == SplitType::training);
    Start(s);
}

bool DLDataset::next_batch(eddl::vtensor& x, eddl::vtensor& y) {
    for (;;) {
        int s, consumed;
        {
            std::lock_guard<std::mutex> lk(mu_);
            s = running_split_;
            ECVL_CHECK(s >= 0, "DLDataset: next_batch before start_epoch");
            consumed = state_[size_t(s)].consumed;
        }
        if (consumed >= GetNumBatches(s)) return false;
        auto [samples, bx, by] = GetBatch();
        if (samples.empty()) continue;  // every sample of that batch was skipped
        x = {bx};
        y = {by};
        return true;
    }
}

DLDataset::SplitSource DLDataset::Source(const std::string& name) {
    for (size_t s = 0; s < split_.size(); ++s)
        if (split_[s].split_name_ == name) return SplitSource(*this, int(s));
    std::string names;
    for (const auto& sp : split_) names += (names.empty() ? "" : ", ") + sp.split_name_;
    ECVL_FAIL("DLDataset::Source: no split '" << name << "' (the dataset has " << names << ")");
}

void DLDataset::SplitSource::start_epoch(int64_t /*epoch*/) {
    d_.Stop();
    saved_ = d_.current_split_;
    d_.current_split_ = split_;
    d_.shuffle_split(split_, false);  // evaluation: every epoch in the file's order
    d_.Start(split_);
}

void DLDataset::SplitSource::end_epoch() {
    d_.Stop();
    if (saved_ >= 0) d_.current_split_ = saved_;
}

}  // namespace ecvl
