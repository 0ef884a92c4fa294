// Directory trees -> Dataset, for classification and segmentation. Everything is sorted (splits
// in a fixed order, samples by path), so one tree always gives the same dataset file.
#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "ecvl/dataset.h"
#include "ecvl/error.h"

namespace ecvl {

namespace fs = std::filesystem;

namespace {

bool hidden(const fs::path& p) { return p.filename().string().starts_with("."); }
// Dataset files dumped into the tree are not images (and must not turn root into a split).
bool yaml_file(const fs::path& p) { return p.extension() == ".yml" || p.extension() == ".yaml"; }

// The non-hidden sub-folders (dirs) or regular files (!dirs, YAML files left out) directly in
// `dir`, sorted.
std::vector<fs::path> children(const fs::path& dir, bool dirs) {
    std::vector<fs::path> out;
    for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
        if (hidden(e.path())) continue;
        if (dirs ? e.is_directory() : e.is_regular_file() && !yaml_file(e.path())) out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

// training, validation, test first (the order users read them in), then the others by name.
void order_splits(std::vector<fs::path>& dirs) {
    auto rank = [](const fs::path& p) {
        const std::string n = p.filename().string();
        return n == "training" ? 0 : n == "validation" ? 1 : n == "test" ? 2 : 3;
    };
    std::stable_sort(dirs.begin(), dirs.end(), [&](const fs::path& a, const fs::path& b) { return rank(a) < rank(b); });
}

fs::path checked_root(const fs::path& root, const char* who) {
    std::error_code ec;
    ECVL_CHECK(fs::is_directory(root, ec), who << ": root '" << root.string() << "' does not exist or is not a folder");
    fs::path p = fs::absolute(root).lexically_normal();
    return p.has_filename() ? p : p.parent_path();  // "root/" names the same folder as "root"
}

Split make_split(const std::string& name) {
    Split sp;
    sp.split_name_ = name;
    if (name == "training") sp.split_type_ = SplitType::training;
    else if (name == "validation") sp.split_type_ = SplitType::validation;
    else if (name == "test") sp.split_type_ = SplitType::test;
    return sp;
}

}  // namespace

namespace {

Dataset generate_classification(const fs::path& root_in, const char* who) {
    const fs::path root = checked_root(root_in, who);
    std::vector<fs::path> top = children(root, true);
    ECVL_CHECK(!top.empty(), who << ": '" << root.string()
                                 << "' has no sub-folders (expected root/<class>/<images> or root/<split>/<class>/<images>)");
    // Class folders hold files; split folders hold only class folders.
    const bool splits = std::none_of(top.begin(), top.end(), [](const fs::path& d) { return !children(d, false).empty(); });
    if (splits) order_splits(top);
    std::vector<fs::path> groups = splits ? top : std::vector<fs::path>{root};

    std::set<std::string> class_set;
    for (const fs::path& g : groups) {
        const std::vector<fs::path> classes = children(g, true);
        ECVL_CHECK(!classes.empty(), who << ": split folder '" << g.string() << "' has no class folders");
        for (const fs::path& c : classes) class_set.insert(c.filename().string());
    }
    Dataset ds;
    ds.task_ = Task::classification;
    ds.classes_.assign(class_set.begin(), class_set.end());

    for (const fs::path& g : groups) {
        std::vector<std::pair<fs::path, int>> items;
        for (const fs::path& c : children(g, true)) {
            const std::vector<fs::path> files = children(c, false);
            ECVL_CHECK(!files.empty(), who << ": class folder '" << c.string() << "' is empty");
            const int label = int(std::find(ds.classes_.begin(), ds.classes_.end(), c.filename().string()) - ds.classes_.begin());
            for (const fs::path& f : files) items.emplace_back(f, label);
        }
        std::sort(items.begin(), items.end());
        Split sp = make_split(g.filename().string());
        for (const auto& [f, label] : items) {
            Sample s;
            s.location_ = {f};
            s.label_ = std::vector<int>{label};
            sp.samples_indices_.push_back(int(ds.samples_.size()));
            ds.samples_.push_back(std::move(s));
        }
        if (splits) ds.split_.push_back(std::move(sp));
    }
    return ds;
}

struct Pair {
    fs::path image, mask;  // mask empty: none found
};

// The images of one split (or root) with their masks, by the layout rules in dataset.h.
std::vector<Pair> find_pairs(const fs::path& dir, const std::string& suffix, const std::string& gt_name, const char* who) {
    std::vector<Pair> out;
    std::error_code ec;
    if (!gt_name.empty()) {  // case folders: <case>/<images> + <case>/<gt_name>
        for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
            if (hidden(it->path())) {
                if (it->is_directory()) it.disable_recursion_pending();
                continue;
            }
            if (!it->is_regular_file() || it->path().filename() == gt_name || yaml_file(it->path())) continue;
            const fs::path gt = it->path().parent_path() / gt_name;
            out.push_back({it->path(), fs::is_regular_file(gt, ec) ? gt : fs::path()});
        }
    } else if (fs::is_directory(dir / "images", ec)) {  // images/<name> + ground_truth/<stem><suffix>
        const fs::path gt_dir = dir / "ground_truth";
        const std::vector<fs::path> masks = fs::is_directory(gt_dir, ec) ? children(gt_dir, false) : std::vector<fs::path>{};
        for (const fs::path& img : children(dir / "images", false)) {
            Pair p{img, {}};
            if (!suffix.empty()) {
                const fs::path m = gt_dir / (img.stem().string() + suffix);
                if (fs::is_regular_file(m, ec)) p.mask = m;
            } else {
                for (const fs::path& m : masks) {
                    if (m.stem() != img.stem()) continue;
                    ECVL_CHECK(p.mask.empty(), who << ": image '" << img.string() << "' matches two masks: '"
                                                   << p.mask.string() << "' and '" << m.string() << "'");
                    p.mask = m;
                }
            }
            out.push_back(p);
        }
    } else {  // images and <stem><suffix> masks side by side (no suffix: no masks)
        for (const fs::path& f : children(dir, false)) {
            const std::string name = f.filename().string();
            if (!suffix.empty() && name.size() >= suffix.size() && name.ends_with(suffix)) continue;  // a mask
            Pair p{f, {}};
            if (!suffix.empty()) {
                const fs::path m = dir / (f.stem().string() + suffix);
                if (fs::is_regular_file(m, ec)) p.mask = m;
            }
            out.push_back(p);
        }
    }
    std::sort(out.begin(), out.end(), [](const Pair& a, const Pair& b) { return a.image < b.image; });
    return out;
}

Dataset generate_segmentation(const fs::path& root_in, const std::string& suffix, const std::string& gt_name,
                              const char* who) {
    const fs::path root = checked_root(root_in, who);
    std::vector<fs::path> top = children(root, true);
    std::error_code ec;
    // Root holds the images itself when it has images/, files, or case folders holding gt_name.
    bool flat = fs::is_directory(root / "images", ec) || !children(root, false).empty() || top.empty();
    if (!gt_name.empty())
        for (const fs::path& d : top) flat = flat || fs::is_regular_file(d / gt_name, ec);
    if (!flat) order_splits(top);
    const std::vector<fs::path> groups = flat ? std::vector<fs::path>{root} : top;

    Dataset ds;
    ds.task_ = Task::segmentation;
    for (const fs::path& g : groups) {
        const std::vector<Pair> pairs = find_pairs(g, suffix, gt_name, who);
        ECVL_CHECK(!pairs.empty(), who << ": no images in '" << g.string() << "'");
        Split sp = make_split(g.filename().string());
        const bool any_mask = std::any_of(pairs.begin(), pairs.end(), [](const Pair& p) { return !p.mask.empty(); });
        // Training and validation need masks (a tree without splits counts as training); another
        // split without a single mask is a test set without ground truth.
        const bool required = flat || sp.split_type_ == SplitType::training || sp.split_type_ == SplitType::validation;
        ECVL_CHECK(any_mask || !required,
                   who << ": no image in '" << g.string() << "' has a mask (looked for "
                       << (!gt_name.empty()  ? "'" + gt_name + "' beside each image"
                           : !suffix.empty() ? "<image stem>" + suffix
                                             : std::string("ground_truth/<image stem>.*"))
                       << ")");
        sp.no_label_ = !any_mask;
        for (const Pair& p : pairs) {
            if (any_mask && p.mask.empty()) continue;  // the documented rule: no mask, no sample
            Sample s;
            s.location_ = {p.image};
            s.label_path_ = p.mask;
            sp.samples_indices_.push_back(int(ds.samples_.size()));
            ds.samples_.push_back(std::move(s));
        }
        if (!flat) ds.split_.push_back(std::move(sp));
    }
    return ds;
}

}  // namespace

// The filesystem's own errors (a folder that cannot be read) become ecvl::Errors too.
Dataset GenerateClassificationDataset(const fs::path& root) {
    const char* who = "GenerateClassificationDataset";
    try {
        return generate_classification(root, who);
    } catch (const fs::filesystem_error& e) {
        ECVL_FAIL(who << ": " << e.what());
    }
}

Dataset GenerateSegmentationDataset(const fs::path& root, const std::string& suffix, const std::string& gt_name) {
    const char* who = "GenerateSegmentationDataset";
    try {
        return generate_segmentation(root, suffix, gt_name, who);
    } catch (const fs::filesystem_error& e) {
        ECVL_FAIL(who << ": " << e.what());
    }
}

}  // namespace ecvl
