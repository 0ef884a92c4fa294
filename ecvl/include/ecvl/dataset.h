// The DeepHealth Dataset Format: a YAML file listing a dataset's images, labels and splits.
//
//   name: MNIST                                  # optional, default "DeepHealth dataset"
//   description: This is the MNIST dataset.      # optional
//   classes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]      # optional; class names
//   features: [age, sex]                         # optional; names of per-image values
//   images:                                      # required; a list, each entry one of:
//     - training/0.png                           #   a path
//     - [ct/s0.png, ct/s1.png]                   #   several paths: one sample, stacked into a volume
//     - location: training/1.png                 #   a map: location (a path or a list of paths),
//       label: 5                                 #   optional label, optional values
//       values: {age: 42}                        #   ({feature: value} or a list by position, ~ = none)
//   split:                                       # optional; any names, each a list of image indices
//     training: [2]
//     test: [0, 1]
//
// label: an unquoted integer is a class index; a string naming a class is that class; a list of
// those is a multi-label sample; any other string is the path of a segmentation mask (with classes
// listed, a mask path must contain '/' or have an extension, so that a misspelt class name is an
// error, not a mask). Relative paths are relative to the YAML file's folder. URLs are not fetched.
// Every error is an ecvl::Error naming the file, the line and the entry ("data.yml:12:
// images[3].label: label 'kat' is not among classes [cat, dog]").
#pragma once
#include <filesystem>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ecvl/image.h"

namespace ecvl {

/// The three split names with a meaning of their own; other split names have no SplitType.
enum class SplitType { training, validation, test };
/// "training", "validation", "test".
const char* SplitTypeName(SplitType t);
/// classification: each sample has class indices; segmentation: each sample has a mask image.
enum class Task { classification, segmentation };

/// One entry of `images`.
struct Sample {
    /// The image file(s), absolute or resolved against the YAML's folder; several = one volume.
    std::vector<std::filesystem::path> location_;
    /// Class indices into Dataset::classes_: one, or several for a multi-label sample; empty
    /// optional when the sample has no class label.
    std::optional<std::vector<int>> label_;
    /// Segmentation mask file, empty if none.
    std::filesystem::path label_path_;
    /// Feature index (into Dataset::features_) -> value, as written in the file.
    std::map<int, std::string> values_;

    /// Reads the image(s) with ImRead as planar "xyc" converted to colour type ctype (GRAY, RGB,
    /// BGR...; none keeps the file's); several locations are stacked (Stack) into an "xyzc"
    /// volume, so they must have equal sizes. is_gt: reads label_path_ instead (pass GRAY for
    /// one-channel masks). Errors name the file(s).
    Image LoadImage(ColorType ctype = ColorType::RGB, bool is_gt = false) const;

    bool operator==(const Sample&) const = default;
};

/// A named list of sample indices (training, validation, test, or any other name).
struct Split {
    std::string split_name_;
    std::optional<SplitType> split_type_;  ///< set for the names training/validation/test
    std::vector<int> samples_indices_;     ///< indices into Dataset::samples_, in file order
    bool drop_last_ = false;               ///< for batching: drop an incomplete last batch
    bool no_label_ = false;                ///< its samples have no labels (e.g. a test set)

    bool operator==(const Split&) const = default;
};

/// A dataset in the DeepHealth Dataset Format.
class Dataset {
public:
    std::string name_ = "DeepHealth dataset", description_;
    std::vector<std::string> classes_, features_;
    std::vector<Sample> samples_;
    std::vector<Split> split_;
    int current_split_ = -1;  ///< index into split_ chosen by SetSplit; -1 = none
    /// segmentation when a sample has a mask; otherwise classification when classes are listed,
    /// else segmentation (unlabelled images).
    Task task_ = Task::classification;

    Dataset() = default;
    /// Parses a YAML file. verify: also checks that every image and mask file exists. A split is
    /// no_label_ when none of its samples has a label; a split mixing labelled and unlabelled
    /// samples is an error.
    explicit Dataset(const std::filesystem::path& filename, bool verify = false);
    /// Parses YAML text from `in`; `source_name` stands for the file in messages; relative paths
    /// are resolved against base_dir (left relative when it is empty).
    Dataset(std::istream& in, const std::string& source_name, const std::filesystem::path& base_dir = {},
            bool verify = false);

    /// The split at `index` (-1: the current one, see SetSplit), by name, or by type. An unknown
    /// one is an error listing the splits there are.
    Split& GetSplit(int index = -1);
    Split& GetSplit(const std::string& name);
    Split& GetSplit(SplitType type);
    const Split& GetSplit(int index = -1) const;
    const Split& GetSplit(const std::string& name) const;
    const Split& GetSplit(SplitType type) const;
    /// Makes a split the current one (current_split_), by index, name or type; unknown = error.
    void SetSplit(int index);
    void SetSplit(const std::string& name);
    void SetSplit(SplitType type);

    int GetNumSamples() const { return int(samples_.size()); }
    /// Each sample's location_, in sample order.
    std::vector<std::vector<std::filesystem::path>> GetLocations() const;

    /// Writes the dataset as YAML that parses back equal. Paths inside the file's folder are
    /// written relative to it, others absolute; labels as class indices; values as
    /// {feature: value}. Atomic: written beside the target, then renamed over it, so a failed
    /// Dump leaves an existing file as it was. Errors for content the format cannot hold (a
    /// label index outside classes_, a value for an unnamed feature, both labels and a mask).
    void Dump(const std::filesystem::path& filename) const;

    /// Equal content: every field but current_split_ (a cursor, not content).
    bool operator==(const Dataset& other) const;
};

/// Classification tree -> Dataset (the caller Dumps it). root/<split>/<class>/<files>, or, when
/// the sub-folders of root hold files themselves, root/<class>/<files> without splits. Classes are
/// the class folder names of all splits, sorted; a split's samples are sorted by path; splits come
/// training, validation, test, then others by name. Hidden files and folders (".name") and YAML
/// files (.yml, .yaml: a dataset file dumped into the tree) are skipped, here and in
/// GenerateSegmentationDataset. Paths are absolute. Errors: root missing or not a folder, no
/// class folders, an empty class folder.
Dataset GenerateClassificationDataset(const std::filesystem::path& root);

/// Segmentation tree -> Dataset. The sub-folders of root are splits, unless root itself holds
/// the images (a folder "images", files, or, with gt_name, sub-folders holding gt_name). In each
/// split (or root), one of:
///  - images/<name> with masks ground_truth/<stem><suffix> (suffix empty: the mask with the
///    image's stem and any extension);
///  - suffix given: image files and their masks side by side, mask = <image stem><suffix>
///    (e.g. "_segmentation.png"); files ending in suffix are masks, not images;
///  - gt_name given: every folder (at any depth) holding a file gt_name is one case whose other
///    files are images sharing that mask.
/// Images without a mask are skipped (a tree without splits counts as training), except in a split
/// other than training/validation where no image has a mask: that split is kept whole and
/// unlabelled (no_label_), a test set without ground truth. Sorted by path. Errors: root missing,
/// a split (or root) without images, a training/validation split (or root) where no image has a
/// mask, an image matching two masks.
Dataset GenerateSegmentationDataset(const std::filesystem::path& root, const std::string& suffix = "",
                                    const std::string& gt_name = "");

}  // namespace ecvl
