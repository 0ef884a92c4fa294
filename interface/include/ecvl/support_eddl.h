// The ECVL-EDDL interface: images to tensors and back, and DLDataset, which loads, augments and
// converts a DeepHealth dataset's samples on worker threads while the network trains.
//
// Link ECVL::ecvl_eddl (find_package(ECVL) finds it when EDDL is installed too).
#pragma once
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "ecvl/augment.h"
#include "ecvl/dataset.h"
#include "ecvl/image.h"
#include "eddl/eddl.h"
#include "eddl/tensor.h"

namespace ecvl {

/// A new float32 tensor {C, H, W} from an image with axes x, y and optionally one more (c, z or
/// o, in any order: "xyc", "cxy", "xyz"...), in any element type and memory layout (views too).
eddl::tensor ImageToTensor(const Image& img);
/// The same written into sample `offset` of a batch tensor {N, C, H, W} (shapes must agree).
void ImageToTensor(const Image& img, eddl::Tensor& t, int offset);
/// A tensor {H, W}, {C, H, W} or {1, C, H, W} as a float32 image "xy" / "xyc" with colour type
/// ct (none, or one whose channel count is C); {N, C, H, W} with N > 1 as "xyco", o the sample.
void TensorToImage(const eddl::Tensor& t, Image& img, ColorType ct = ColorType::none);

/// What DLDataset does with a sample it cannot load or augment (a missing or corrupt file).
enum class SampleErrorPolicy {
    Throw,  ///< GetBatch throws when it reaches the batch, naming the sample and its path
    Skip,   ///< the sample is left out (its batch is smaller) and counted: SkippedSamples()
};

/// A Dataset whose splits come out as batches of tensors: x {B, C, H, W} float32 (values as the
/// augmentations leave them), y {B, classes} one-hot/multi-hot for classification or {B, C_gt, H, W}
/// masks for segmentation (empty for a split without labels).
///
/// Workers (threads) each produce whole batches; the consumer receives batch 0, 1, 2... in order,
/// so batches are the same whatever the number of workers: a sample's augmentation draws come
/// from a generator seeded by (seed, epoch, sample index), and the epoch's order is shuffled from
/// (seed, epoch). At most `prefetch` batches wait ahead of the consumer. Stop() (and the
/// destructor) always returns: workers waiting for room or producing are told to stop and joined.
class DLDataset : public Dataset, public eddl::BatchSource {
public:
    /// augs: one augmentation chain per split, in the order of the dataset's splits (see
    /// DatasetAugmentations). ctype/ctype_gt: colour types images and masks are loaded as.
    /// num_workers >= 1; queue_ratio_size: the prefetch queue holds max(1, round(queue_ratio_size *
    /// num_workers)) batches; drop_last: per split name, whether a last incomplete batch is
    /// dropped (splits not named keep it). verify: every image file must exist (checked now).
    DLDataset(const std::filesystem::path& filename, int batch_size, DatasetAugmentations augs = {},
              ColorType ctype = ColorType::RGB, ColorType ctype_gt = ColorType::GRAY, int num_workers = 1,
              double queue_ratio_size = 1.0, const std::unordered_map<std::string, bool>& drop_last = {},
              bool verify = false);
    ~DLDataset() override;
    DLDataset(const DLDataset&) = delete;
    DLDataset& operator=(const DLDataset&) = delete;

    /// Restarts a split (default: the current one) at its first batch, in a new order when
    /// shuffle (each call is a new epoch of that split). Stops the workers first.
    void ResetBatch(int split = -1, bool shuffle = false);
    void ResetAllBatches(bool shuffle = false);
    /// Starts the workers on a split (default: the current one), from the next batch to consume.
    void Start(int split = -1);
    /// The next batch of the started split: its samples, x and y. Throws when the split has no
    /// more batches, when Start was not called, or (SampleErrorPolicy::Throw) for a bad sample.
    std::tuple<std::vector<Sample>, eddl::tensor, eddl::tensor> GetBatch();
    /// Stops and joins the workers; batches already prefetched are discarded (the next Start
    /// produces them again, identically).
    void Stop();

    int GetNumBatches(int split = -1) const;
    int GetBatchSize() const { return batch_size_; }
    void SetBatchSize(int bs);
    void SetWorkers(int num_workers);
    void SetAugmentations(DatasetAugmentations augs);
    /// The seed of shuffling and augmentation (default 1234).
    void SetSeed(uint64_t seed);
    void SetSampleErrorPolicy(SampleErrorPolicy p) { policy_ = p; }
    int64_t SkippedSamples() const;
    /// The shape {C, H, W} of x's samples and {C_gt, H, W} of masks, from the first sample of
    /// the current split passed through its augmentations (samples must all come out this size).
    std::vector<int> GetTensorShape();

    // eddl::BatchSource: fit(net, dataset, epochs) trains on the current split, shuffled every
    // epoch if it is a training split; Source(name) serves another split (e.g. validation).
    int num_batches() const override { return GetNumBatches(); }
    void start_epoch(int64_t epoch) override;
    bool next_batch(eddl::vtensor& x, eddl::vtensor& y) override;
    void end_epoch() override { Stop(); }

    /// A batch source over one split of this dataset, for FitOptions::validation_source or
    /// evaluate(): it switches the dataset to that split for the epoch and back afterwards.
    class SplitSource : public eddl::BatchSource {
    public:
        SplitSource(DLDataset& d, int split) : d_(d), split_(split) {}
        int num_batches() const override { return d_.GetNumBatches(split_); }
        void start_epoch(int64_t epoch) override;
        bool next_batch(eddl::vtensor& x, eddl::vtensor& y) override { return d_.next_batch(x, y); }
        void end_epoch() override;

    private:
        DLDataset& d_;
        int split_, saved_ = -1;
    };
    SplitSource Source(const std::string& split_name);

private:
    struct Batch {
        std::vector<Sample> samples;
        eddl::tensor x, y;
        std::exception_ptr error;
    };
    struct SplitState {
        std::vector<int> order;  // sample indices in this epoch's order
        uint64_t epoch = 0;      // for the seeds of shuffling and augmentation
        int consumed = 0;        // batches handed out
        bool drop_last = false;
    };
    int split_index(int split) const;
    void produce(int worker);
    Batch make_batch(int split, uint64_t epoch, const std::vector<int>& indices);
    void shuffle_split(int split, bool shuffle);

    int batch_size_;
    DatasetAugmentations augs_;
    ColorType ctype_, ctype_gt_;
    int num_workers_;
    double queue_ratio_;
    uint64_t seed_ = 1234;
    SampleErrorPolicy policy_ = SampleErrorPolicy::Throw;
    std::vector<SplitState> state_;

    // Producer/consumer state, guarded by mu_.
    mutable std::mutex mu_;
    std::condition_variable room_, ready_cv_;
    std::vector<std::thread> workers_;
    std::map<int, Batch> ready_;  // finished batches not yet consumed, by number
    int running_split_ = -1, next_produce_ = 0, capacity_ = 1;
    bool stop_ = false;
    int64_t skipped_ = 0;
};

}  // namespace ecvl
