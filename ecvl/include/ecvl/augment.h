// Augmentations: random transformations of an image (and, for geometric ones, of its ground-truth
// mask with the same drawn parameters), containers that combine them, and a small text language
// that describes a chain (see docs/ecvl.md, "Augmentations").
//
// Randomness: every draw comes from the std::mt19937_64 passed to Apply; there is no global
// generator. The same generator state gives bit-identical results, whatever the thread. Apply is
// const and keeps no state, so one chain can be shared by all loader threads, each with its own
// generator (seeded with AugmentationSeed(seed, epoch, sample)).
//
// Ranges: a parameter written [a, b] is drawn uniformly in [a, b] once per Apply (integers for
// integer parameters such as num_steps). A fixed value is the range [v, v] (the text language also
// takes a bare number for a range).
//
// Layouts: planar "xy"/"xyc" and interleaved "cxy" images of any element type OpenCV processes;
// the geometric augmentations that make sense per slice (Flip, Mirror, Transpose, ResizeDim,
// ResizeScale, Rotate, CenterCrop, RandomCrop, RandomResizedCrop) also take "xyz"/"xyzc" volumes
// (every slice gets the same drawn transformation); the others throw, naming the layout.
#pragma once
#include <array>
#include <concepts>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "ecvl/image.h"
#include "ecvl/imgproc.h"

namespace ecvl {

/// Seed of the generator for one sample: a splitmix64 hash of (global seed, epoch, sample index),
/// so every sample of every epoch gets an independent, reproducible stream whatever the thread.
uint64_t AugmentationSeed(uint64_t global_seed, uint64_t epoch, uint64_t sample_index);

/// How the geometric augmentations fill pixels that come from outside the image (OpenCV's modes;
/// the text language writes them "constant", "reflect", "reflect101" (or "reflect_101"),
/// "replicate", "wrap").
enum class BorderType { constant, reflect, reflect101, replicate, wrap };

/// A range [min, max] drawn uniformly once per Apply.
using Range = std::array<double, 2>;

/// What one augmentation drew in one Apply: its name, the drawn values by name (e.g. {"angle",
/// 12.5}) and, for draws too many to list (noise, distortion fields), the seed that regenerates them.
struct AugmentationDraw {
    std::string augmentation;
    std::vector<std::pair<std::string, double>> values;
    uint64_t seed = 0;
    /// The value drawn for `name`; throws, naming the values there are, if absent.
    double Get(const std::string& name) const;
};

/// The draws of one Apply of a chain, in the order they were made (containers record their choice).
/// Replay applies exactly those parameters to other images: a mask, another modality, a second copy.
struct AugmentationRecord {
    std::vector<AugmentationDraw> draws;
    /// One line per draw: `AugRotate angle=12.5`, `OneOfAugmentationContainer chosen=1`, ...
    std::string ToString() const;
};

namespace detail {
class ParamVisitor;  // the parameter table of an augmentation (parsing, writing, checking): internal
}

/// Base of every augmentation and container.
class Augmentation {
public:
    virtual ~Augmentation() = default;
    /// Applies to img and, for geometric augmentations, to gt with the same drawn parameters (gt may
    /// be empty: then only img). Masks use nearest-neighbour interpolation (gt_interp, where an
    /// augmentation has it, defaults to nearest) so they stay label-valued. All randomness comes
    /// from rng; Apply is const and thread-safe.
    virtual void Apply(Image& img, Image& gt, std::mt19937_64& rng) const = 0;
    /// The same without ground truth.
    void Apply(Image& img, std::mt19937_64& rng) const;
    /// The same, appending what was drawn to `record` (the result and the generator's use are those
    /// of Apply without a record). The default, for augmentations written outside ECVL, records one
    /// seed drawn from rng and applies with a generator seeded by it.
    virtual void Apply(Image& img, Image& gt, std::mt19937_64& rng, AugmentationRecord& record) const;
    /// Applies again exactly what `record` holds (made by this augmentation's Apply), with no new
    /// randomness: replayed on images of the same size, geometric augmentations move pixels exactly
    /// as in the recorded Apply. img may be empty: Replay(record, no_image, mask) then transforms a
    /// mask alone as the recorded Apply transformed its ground truth (geometric steps only, masks'
    /// interpolation). Throws if the record does not match this chain.
    void Replay(const AugmentationRecord& record, Image& img, Image& gt) const;
    void Replay(const AugmentationRecord& record, Image& img) const;
    /// A deep copy.
    virtual std::shared_ptr<Augmentation> Clone() const = 0;
    /// The text this augmentation is written as in the language (one line, or several for
    /// containers); AugmentationFactory reads it back to an equal augmentation.
    virtual std::string ToText() const = 0;

protected:
    /// Replays the draws from record.draws[next] on, advancing next past the ones it used.
    virtual void ReplayFrom(const AugmentationRecord& record, size_t& next, Image& img, Image& gt) const;
    friend class SequentialAugmentationContainer;  // containers replay their children
    friend class OneOfAugmentationContainer;
    friend class SomeOfAugmentationContainer;
};
using AugmentationPtr = std::shared_ptr<Augmentation>;

/// Base of the single augmentations below: draws its parameters, then transforms.
class SingleAugmentation : public Augmentation {
public:
    using Augmentation::Apply;
    void Apply(Image& img, Image& gt, std::mt19937_64& rng) const final;
    void Apply(Image& img, Image& gt, std::mt19937_64& rng, AugmentationRecord& record) const final;
    std::string ToText() const final;
    /// The class name, as written in the text language ("AugRotate").
    virtual const char* Name() const = 0;
    /// Lists the parameters to v (text name, value, default, bounds). Internal: the text language,
    /// ToText and the constructors' checks all read this one table.
    virtual void Describe(detail::ParamVisitor& v) = 0;

protected:
    /// Draws this Apply's parameters from rng only (img gives the size, never the pixel values).
    virtual AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const = 0;
    /// Transforms img (and gt, for geometric augmentations, when not empty) with drawn parameters.
    virtual void Run(const AugmentationDraw& d, Image& img, Image& gt) const = 0;
    void ReplayFrom(const AugmentationRecord& record, size_t& next, Image& img, Image& gt) const final;
    void Check();  ///< the constructors' check of the parameters against Describe's bounds
};

namespace detail {
// Clone and Name for each single augmentation, from its type.
template <class Derived>
class Single : public SingleAugmentation {
public:
    std::shared_ptr<Augmentation> Clone() const final {
        return std::make_shared<Derived>(static_cast<const Derived&>(*this));
    }
    const char* Name() const final { return Derived::name; }
};
}  // namespace detail

// ---- Geometric: applied to img and gt with the same drawn parameters ----

/// Rotation by `angle` degrees (counter-clockwise), drawn in the range, about `center` {x, y}
/// (default: the image centre), scaled by `scale`; the size is kept, uncovered pixels are 0.
/// Text: `AugRotate angle=[-30,30] center=(x,y) scale=1 interp="linear" gt_interp="nearest"`.
class AugRotate final : public detail::Single<AugRotate> {
public:
    static constexpr const char* name = "AugRotate";
    explicit AugRotate(Range angle, std::vector<double> center = {}, double scale = 1.0,
                       InterpolationType interp = InterpolationType::linear,
                       InterpolationType gt_interp = InterpolationType::nearest);
    void Describe(detail::ParamVisitor& v) override;

private:
    friend struct AugmentationFactory;
    AugRotate() = default;
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
    Range angle_{0, 0};
    std::vector<double> center_;
    double scale_ = 1.0;
    InterpolationType interp_ = InterpolationType::linear, gt_interp_ = InterpolationType::nearest;
};

/// Resize to `dims` {width, height} (volumes: {width, height[, depth]}).
/// Text: `AugResizeDim dims=(100,100) interp="linear" gt_interp="nearest"`.
class AugResizeDim final : public detail::Single<AugResizeDim> {
public:
    static constexpr const char* name = "AugResizeDim";
    explicit AugResizeDim(std::vector<double> dims, InterpolationType interp = InterpolationType::linear,
                          InterpolationType gt_interp = InterpolationType::nearest);
    void Describe(detail::ParamVisitor& v) override;

private:
    friend struct AugmentationFactory;
    AugResizeDim() = default;
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
    std::vector<double> dims_;
    InterpolationType interp_ = InterpolationType::linear, gt_interp_ = InterpolationType::nearest;
};

/// Resize by `scale` {sx, sy} (volumes: {sx, sy[, sz]}).
/// Text: `AugResizeScale scale=(0.5,0.5) interp="linear" gt_interp="nearest"`.
class AugResizeScale final : public detail::Single<AugResizeScale> {
public:
    static constexpr const char* name = "AugResizeScale";
    explicit AugResizeScale(std::vector<double> scale, InterpolationType interp = InterpolationType::linear,
                            InterpolationType gt_interp = InterpolationType::nearest);
    void Describe(detail::ParamVisitor& v) override;

private:
    friend struct AugmentationFactory;
    AugResizeScale() = default;
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
    std::vector<double> scale_;
    InterpolationType interp_ = InterpolationType::linear, gt_interp_ = InterpolationType::nearest;
};

/// With probability p: upside down (Flip), left-right (Mirror), x and y swapped (Transpose).
/// Text: `AugFlip p=0.5`, `AugMirror p=0.5`, `AugTranspose p=0.5`.
class AugFlip final : public detail::Single<AugFlip> {
public:
    static constexpr const char* name = "AugFlip";
    explicit AugFlip(double p = 0.5);
    void Describe(detail::ParamVisitor& v) override;

private:
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
    double p_ = 0.5;
};
class AugMirror final : public detail::Single<AugMirror> {
public:
    static constexpr const char* name = "AugMirror";
    explicit AugMirror(double p = 0.5);
    void Describe(detail::ParamVisitor& v) override;

private:
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
    double p_ = 0.5;
};
class AugTranspose final : public detail::Single<AugTranspose> {
public:
    static constexpr const char* name = "AugTranspose";
    explicit AugTranspose(double p = 0.5);
    void Describe(detail::ParamVisitor& v) override;

private:
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
    double p_ = 0.5;
};

/// Elastic deformation (Simard et al. 2003): a displacement field of uniform noise in [-1, 1],
/// Gaussian-smoothed with `sigma`, times `alpha` pixels. gt: nearest, same field.
/// Text: `AugElasticTransform alpha=[34,60] sigma=[4,6] interp="linear" border_type="reflect101" border_value=0`.
class AugElasticTransform final : public detail::Single<AugElasticTransform> {
public:
    static constexpr const char* name = "AugElasticTransform";
    explicit AugElasticTransform(Range alpha = {34, 60}, Range sigma = {4, 6},
                                 InterpolationType interp = InterpolationType::linear,
                                 BorderType border_type = BorderType::reflect101, double border_value = 0);
    void Describe(detail::ParamVisitor& v) override;

private:
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
    Range alpha_{34, 60}, sigma_{4, 6};
    InterpolationType interp_ = InterpolationType::linear;
    BorderType border_type_ = BorderType::reflect101;
    double border_value_ = 0;
};

/// Grid distortion: x and y are cut into num_steps cells each; every cell is stretched by
/// 1 + d, d drawn in `distort_limit` per cell, then the cells are rescaled to span the image again.
/// Text: `AugGridDistortion num_steps=[5,5] distort_limit=[-0.3,0.3] interp="linear" border_type="reflect101" border_value=0`.
class AugGridDistortion final : public detail::Single<AugGridDistortion> {
public:
    static constexpr const char* name = "AugGridDistortion";
    explicit AugGridDistortion(Range num_steps = {5, 5}, Range distort_limit = {-0.3, 0.3},
                               InterpolationType interp = InterpolationType::linear,
                               BorderType border_type = BorderType::reflect101, double border_value = 0);
    void Describe(detail::ParamVisitor& v) override;

private:
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
    Range num_steps_{5, 5}, distort_limit_{-0.3, 0.3};
    InterpolationType interp_ = InterpolationType::linear;
    BorderType border_type_ = BorderType::reflect101;
    double border_value_ = 0;
};

/// Lens (barrel/pincushion) distortion: radial coefficient k drawn in distort_limit (k1 = k2 = k,
/// radius normalized by width and height), the centre shifted by a fraction of the size drawn in
/// shift_limit. Text: `AugOpticalDistortion distort_limit=[-0.05,0.05] shift_limit=[-0.05,0.05]
/// interp="linear" border_type="reflect101" border_value=0`.
class AugOpticalDistortion final : public detail::Single<AugOpticalDistortion> {
public:
    static constexpr const char* name = "AugOpticalDistortion";
    explicit AugOpticalDistortion(Range distort_limit = {-0.05, 0.05}, Range shift_limit = {-0.05, 0.05},
                                  InterpolationType interp = InterpolationType::linear,
                                  BorderType border_type = BorderType::reflect101, double border_value = 0);
    void Describe(detail::ParamVisitor& v) override;

private:
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
    Range distort_limit_{-0.05, 0.05}, shift_limit_{-0.05, 0.05};
    InterpolationType interp_ = InterpolationType::linear;
    BorderType border_type_ = BorderType::reflect101;
    double border_value_ = 0;
};

/// Affine transformation about the image centre: rotation `angle` (degrees), zoom `scale`, shear
/// along x `shear` (degrees), translation by fractions of the size `translate_x`, `translate_y`.
/// Text: `AugAffine angle=[0,0] scale=[1,1] shear=[0,0] translate_x=[0,0] translate_y=[0,0]
/// interp="linear" border_type="constant" border_value=0`.
class AugAffine final : public detail::Single<AugAffine> {
public:
    static constexpr const char* name = "AugAffine";
    explicit AugAffine(Range angle = {0, 0}, Range scale = {1, 1}, Range shear = {0, 0}, Range translate_x = {0, 0},
                       Range translate_y = {0, 0}, InterpolationType interp = InterpolationType::linear,
                       BorderType border_type = BorderType::constant, double border_value = 0);
    void Describe(detail::ParamVisitor& v) override;

private:
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
    Range angle_{0, 0}, scale_{1, 1}, shear_{0, 0}, translate_x_{0, 0}, translate_y_{0, 0};
    InterpolationType interp_ = InterpolationType::linear;
    BorderType border_type_ = BorderType::constant;
    double border_value_ = 0;
};

/// The centred box `size` {width, height}; no size: the centred square of side min(width, height).
/// Text: `AugCenterCrop size=(224,224)`.
class AugCenterCrop final : public detail::Single<AugCenterCrop> {
public:
    static constexpr const char* name = "AugCenterCrop";
    explicit AugCenterCrop(std::vector<double> size = {});
    void Describe(detail::ParamVisitor& v) override;

private:
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
    std::vector<double> size_;
};

/// A box `size` {width, height} at a uniformly drawn position; an image smaller than the box is
/// first padded (centred) by border_type. Text: `AugRandomCrop size=(224,224) border_type="constant" border_value=0`.
class AugRandomCrop final : public detail::Single<AugRandomCrop> {
public:
    static constexpr const char* name = "AugRandomCrop";
    explicit AugRandomCrop(std::vector<double> size, BorderType border_type = BorderType::constant,
                           double border_value = 0);
    void Describe(detail::ParamVisitor& v) override;

private:
    friend struct AugmentationFactory;
    AugRandomCrop() = default;
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
    std::vector<double> size_;
    BorderType border_type_ = BorderType::constant;
    double border_value_ = 0;
};

/// A box of area fraction drawn in `scale` and aspect ratio (width / height) drawn log-uniformly in
/// `ratio` at a random position (up to 10 tries, then the centred box of the clamped ratio),
/// resized to `size` {width, height}. Text: `AugRandomResizedCrop size=(224,224) scale=[0.08,1]
/// ratio=[0.75,1.3333333333333333] interp="linear" gt_interp="nearest"`.
class AugRandomResizedCrop final : public detail::Single<AugRandomResizedCrop> {
public:
    static constexpr const char* name = "AugRandomResizedCrop";
    explicit AugRandomResizedCrop(std::vector<double> size, Range scale = {0.08, 1.0}, Range ratio = {0.75, 4.0 / 3.0},
                                  InterpolationType interp = InterpolationType::linear,
                                  InterpolationType gt_interp = InterpolationType::nearest);
    void Describe(detail::ParamVisitor& v) override;

private:
    friend struct AugmentationFactory;
    AugRandomResizedCrop() = default;
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
    std::vector<double> size_;
    Range scale_{0.08, 1.0}, ratio_{0.75, 4.0 / 3.0};
    InterpolationType interp_ = InterpolationType::linear, gt_interp_ = InterpolationType::nearest;
};

/// Converts img to float32 divided by `divisor`, and gt to float32 divided by `divisor_gt`.
/// Text: `AugToFloat32 divisor=255 divisor_gt=1`.
class AugToFloat32 final : public detail::Single<AugToFloat32> {
public:
    static constexpr const char* name = "AugToFloat32";
    explicit AugToFloat32(double divisor = 1, double divisor_gt = 1);
    void Describe(detail::ParamVisitor& v) override;

private:
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
    double divisor_ = 1, divisor_gt_ = 1;
};

/// img and gt to float32, divided by 255. Text: `AugDivBy255`.
class AugDivBy255 final : public detail::Single<AugDivBy255> {
public:
    static constexpr const char* name = "AugDivBy255";
    AugDivBy255() = default;
    void Describe(detail::ParamVisitor& v) override;

private:
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
};

// ---- Photometric: img only ----

/// Gaussian blur with sigma drawn in `sigma` (0: unchanged). Text: `AugGaussianBlur sigma=[0.5,2]`.
class AugGaussianBlur final : public detail::Single<AugGaussianBlur> {
public:
    static constexpr const char* name = "AugGaussianBlur";
    explicit AugGaussianBlur(Range sigma);
    void Describe(detail::ParamVisitor& v) override;

private:
    friend struct AugmentationFactory;
    AugGaussianBlur() = default;
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
    Range sigma_{0, 0};
};

/// Additive Laplace noise of standard deviation drawn in `std_dev` (for uint8 about 255 * 0.05).
/// Text: `AugAdditiveLaplaceNoise std_dev=[0,12.75]`.
class AugAdditiveLaplaceNoise final : public detail::Single<AugAdditiveLaplaceNoise> {
public:
    static constexpr const char* name = "AugAdditiveLaplaceNoise";
    explicit AugAdditiveLaplaceNoise(Range std_dev);
    void Describe(detail::ParamVisitor& v) override;

private:
    friend struct AugmentationFactory;
    AugAdditiveLaplaceNoise() = default;
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
    Range std_dev_{0, 0};
};

/// Additive Poisson noise of mean lambda drawn in `lambda` (about 0-10). Text: `AugAdditivePoissonNoise lambda=[0,10]`.
class AugAdditivePoissonNoise final : public detail::Single<AugAdditivePoissonNoise> {
public:
    static constexpr const char* name = "AugAdditivePoissonNoise";
    explicit AugAdditivePoissonNoise(Range lambda);
    void Describe(detail::ParamVisitor& v) override;

private:
    friend struct AugmentationFactory;
    AugAdditivePoissonNoise() = default;
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
    Range lambda_{0, 0};
};

/// Additive Gaussian noise of standard deviation drawn in `std_dev`. Text: `AugGaussianNoise std_dev=[0,10]`.
class AugGaussianNoise final : public detail::Single<AugGaussianNoise> {
public:
    static constexpr const char* name = "AugGaussianNoise";
    explicit AugGaussianNoise(Range std_dev);
    void Describe(detail::ParamVisitor& v) override;

private:
    friend struct AugmentationFactory;
    AugGaussianNoise() = default;
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
    Range std_dev_{0, 0};
};

/// max * (v / max)^gamma (reals: v^gamma), gamma drawn in `gamma` (about 0.5-2; 0 is taken as the
/// limit: every non-zero value becomes max). Text: `AugGammaContrast gamma=[0.5,1.5]`.
class AugGammaContrast final : public detail::Single<AugGammaContrast> {
public:
    static constexpr const char* name = "AugGammaContrast";
    explicit AugGammaContrast(Range gamma);
    void Describe(detail::ParamVisitor& v) override;

private:
    friend struct AugmentationFactory;
    AugGammaContrast() = default;
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
    Range gamma_{1, 1};
};

/// Adds beta drawn in `beta` to every value, saturated to the type. Text: `AugBrightness beta=[0,30]`.
class AugBrightness final : public detail::Single<AugBrightness> {
public:
    static constexpr const char* name = "AugBrightness";
    explicit AugBrightness(Range beta);
    void Describe(detail::ParamVisitor& v) override;

private:
    friend struct AugmentationFactory;
    AugBrightness() = default;
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
    Range beta_{0, 0};
};

/// mid + alpha * (v - mid) (mid: the middle of the type's range, see ecvl::Contrast), alpha drawn in
/// `alpha` (>= 0). Text: `AugContrast alpha=[0.8,1.2]`.
class AugContrast final : public detail::Single<AugContrast> {
public:
    static constexpr const char* name = "AugContrast";
    explicit AugContrast(Range alpha);
    void Describe(detail::ParamVisitor& v) override;

private:
    friend struct AugmentationFactory;
    AugContrast() = default;
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
    Range alpha_{1, 1};
};

/// ecvl::CoarseDropout: cells of drop_size (fraction of the size, drawn) dropped with probability p
/// (drawn); per_channel is the probability that channels are dropped apart.
/// Text: `AugCoarseDropout p=[0,0.2] drop_size=[0.02,0.1] per_channel=0`.
class AugCoarseDropout final : public detail::Single<AugCoarseDropout> {
public:
    static constexpr const char* name = "AugCoarseDropout";
    AugCoarseDropout(Range p, Range drop_size, double per_channel = 0);
    void Describe(detail::ParamVisitor& v) override;

private:
    friend struct AugmentationFactory;
    AugCoarseDropout() = default;
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
    Range p_{0, 0}, drop_size_{0.1, 0.1};
    double per_channel_ = 0;
};

/// Salt (the type's maximum), pepper (0) or both on a fraction p (drawn) of the pixels; per_channel
/// is the probability that channels are drawn apart. Text: `AugSalt p=[0,0.05] per_channel=0`
/// (AugPepper, AugSaltAndPepper alike).
class AugSalt final : public detail::Single<AugSalt> {
public:
    static constexpr const char* name = "AugSalt";
    explicit AugSalt(Range p, double per_channel = 0);
    void Describe(detail::ParamVisitor& v) override;

private:
    friend struct AugmentationFactory;
    AugSalt() = default;
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
    Range p_{0, 0};
    double per_channel_ = 0;
};
class AugPepper final : public detail::Single<AugPepper> {
public:
    static constexpr const char* name = "AugPepper";
    explicit AugPepper(Range p, double per_channel = 0);
    void Describe(detail::ParamVisitor& v) override;

private:
    friend struct AugmentationFactory;
    AugPepper() = default;
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
    Range p_{0, 0};
    double per_channel_ = 0;
};
class AugSaltAndPepper final : public detail::Single<AugSaltAndPepper> {
public:
    static constexpr const char* name = "AugSaltAndPepper";
    explicit AugSaltAndPepper(Range p, double per_channel = 0);
    void Describe(detail::ParamVisitor& v) override;

private:
    friend struct AugmentationFactory;
    AugSaltAndPepper() = default;
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
    Range p_{0, 0};
    double per_channel_ = 0;
};

/// (v - mean) / std per channel into float32; mean and std: one value, or one per channel.
/// Text: `AugNormalize mean=(123.675,116.28,103.53) std=(58.395,57.12,57.375)` or `mean=0.5 std=0.25`.
class AugNormalize final : public detail::Single<AugNormalize> {
public:
    static constexpr const char* name = "AugNormalize";
    AugNormalize(std::vector<double> mean, std::vector<double> std);
    AugNormalize(double mean, double std) : AugNormalize(std::vector<double>{mean}, std::vector<double>{std}) {}
    void Describe(detail::ParamVisitor& v) override;

private:
    friend struct AugmentationFactory;
    AugNormalize() = default;
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
    std::vector<double> mean_, std_;
};

/// Rescales linearly so the minimum becomes new_min and the maximum new_max (in the image's type).
/// Text: `AugScaleTo new_min=0 new_max=1`.
class AugScaleTo final : public detail::Single<AugScaleTo> {
public:
    static constexpr const char* name = "AugScaleTo";
    AugScaleTo(double new_min, double new_max);
    void Describe(detail::ParamVisitor& v) override;

private:
    friend struct AugmentationFactory;
    AugScaleTo() = default;
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
    double new_min_ = 0, new_max_ = 1;
};

/// Contrast-limited adaptive histogram equalization (OpenCV's CLAHE) with clip limit drawn in
/// `clip_limit` on tile_grid_size {columns, rows} tiles; uint8/uint16. RGB/BGR uint8 images are
/// equalized on the lightness of CIE Lab (colours kept), others channel by channel.
/// Text: `AugCLAHE clip_limit=[1,4] tile_grid_size=(8,8)`.
class AugCLAHE final : public detail::Single<AugCLAHE> {
public:
    static constexpr const char* name = "AugCLAHE";
    explicit AugCLAHE(Range clip_limit = {1, 4}, std::vector<double> tile_grid_size = {8, 8});
    void Describe(detail::ParamVisitor& v) override;

private:
    AugmentationDraw Draw(const Image& img, std::mt19937_64& rng) const override;
    void Run(const AugmentationDraw& d, Image& img, Image& gt) const override;
    Range clip_limit_{1, 4};
    std::vector<double> tile_grid_size_{8, 8};
};

// ---- Containers ----

/// Applies every child in order. Text: `SequentialAugmentationContainer`, the children one per
/// line, then `End`.
class SequentialAugmentationContainer final : public Augmentation {
public:
    using Augmentation::Apply;
    explicit SequentialAugmentationContainer(std::vector<AugmentationPtr> augs);
    template <class... A>
        requires(std::derived_from<A, Augmentation> && ...)
    explicit SequentialAugmentationContainer(const A&... augs)
        : SequentialAugmentationContainer(std::vector<AugmentationPtr>{std::make_shared<A>(augs)...}) {}
    void Apply(Image& img, Image& gt, std::mt19937_64& rng) const override;
    void Apply(Image& img, Image& gt, std::mt19937_64& rng, AugmentationRecord& record) const override;
    std::shared_ptr<Augmentation> Clone() const override;
    std::string ToText() const override;
    const std::vector<AugmentationPtr>& Children() const { return augs_; }

protected:
    void ReplayFrom(const AugmentationRecord& record, size_t& next, Image& img, Image& gt) const override;

private:
    std::vector<AugmentationPtr> augs_;
};

/// With probability p, applies one child chosen uniformly. Text: `OneOfAugmentationContainer p=0.7`,
/// the children, `End` (p defaults to 1).
class OneOfAugmentationContainer final : public Augmentation {
public:
    using Augmentation::Apply;
    OneOfAugmentationContainer(double p, std::vector<AugmentationPtr> augs);
    template <class... A>
        requires(std::derived_from<A, Augmentation> && ...)
    explicit OneOfAugmentationContainer(double p, const A&... augs)
        : OneOfAugmentationContainer(p, std::vector<AugmentationPtr>{std::make_shared<A>(augs)...}) {}
    void Apply(Image& img, Image& gt, std::mt19937_64& rng) const override;
    void Apply(Image& img, Image& gt, std::mt19937_64& rng, AugmentationRecord& record) const override;
    std::shared_ptr<Augmentation> Clone() const override;
    std::string ToText() const override;
    const std::vector<AugmentationPtr>& Children() const { return augs_; }
    double P() const { return p_; }

protected:
    void ReplayFrom(const AugmentationRecord& record, size_t& next, Image& img, Image& gt) const override;

private:
    int Choose(std::mt19937_64& rng) const;  // -1: none
    double p_;
    std::vector<AugmentationPtr> augs_;
};

/// With probability p, applies n distinct children chosen uniformly, in their listed order
/// (1 <= n <= the number of children). Text: `SomeOfAugmentationContainer n=2 p=0.5`, the children,
/// `End` (p defaults to 1).
class SomeOfAugmentationContainer final : public Augmentation {
public:
    using Augmentation::Apply;
    SomeOfAugmentationContainer(int n, double p, std::vector<AugmentationPtr> augs);
    template <class... A>
        requires(std::derived_from<A, Augmentation> && ...)
    SomeOfAugmentationContainer(int n, double p, const A&... augs)
        : SomeOfAugmentationContainer(n, p, std::vector<AugmentationPtr>{std::make_shared<A>(augs)...}) {}
    void Apply(Image& img, Image& gt, std::mt19937_64& rng) const override;
    void Apply(Image& img, Image& gt, std::mt19937_64& rng, AugmentationRecord& record) const override;
    std::shared_ptr<Augmentation> Clone() const override;
    std::string ToText() const override;
    const std::vector<AugmentationPtr>& Children() const { return augs_; }

protected:
    void ReplayFrom(const AugmentationRecord& record, size_t& next, Image& img, Image& gt) const override;

private:
    std::vector<int> Choose(std::mt19937_64& rng) const;  // empty: none
    int n_;
    double p_;
    std::vector<AugmentationPtr> augs_;
};

// ---- The text language ----

/// Reads an augmentation (one line) or a container (its line, children, `End`) written in the text
/// language: one augmentation per line, its name then `name=value` parameters (a line that starts
/// with `name=` continues the previous line's); values `[a,b]` (range), `(v1,v2,...)` (vector),
/// `"text"`, numbers; `End` or `end` closes a container; blank lines and `#` comments are ignored.
/// An omitted parameter takes its default. Every error is an ecvl::Error naming the source, line
/// and column ("augs.txt:3:17: ...").
struct AugmentationFactory {
    /// From a stream; source_name names it in error messages.
    static AugmentationPtr create(std::istream& is, const std::string& source_name = "<text>");
    /// From a file (a std::string argument is a path too: use FromText for text).
    static AugmentationPtr create(const std::filesystem::path& file);
    /// From text held in a string.
    static AugmentationPtr FromText(const std::string& text, const std::string& source_name = "<text>");

private:
    static std::shared_ptr<SingleAugmentation> Blank(const std::string& name);  // nullptr: unknown name
};

/// One augmentation (or nullptr = none) per dataset split, in the order of the dataset's splits;
/// splits past the end of the list have none. Shared by the loader threads (Apply is const).
class DatasetAugmentations {
public:
    DatasetAugmentations() = default;
    explicit DatasetAugmentations(std::vector<AugmentationPtr> per_split);
    /// True when the split has no augmentation.
    bool IsEmpty(size_t split) const;
    /// Applies the split's augmentation; a no-op when it has none.
    void Apply(size_t split, Image& img, Image& gt, std::mt19937_64& rng) const;
    void Apply(size_t split, Image& img, std::mt19937_64& rng) const;
    /// The split's augmentation (nullptr when none).
    AugmentationPtr Get(size_t split) const;
    size_t Size() const { return augs_.size(); }

private:
    std::vector<AugmentationPtr> augs_;
};

}  // namespace ecvl
