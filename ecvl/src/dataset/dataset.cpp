// The DeepHealth Dataset Format: parsing, dumping, split lookup and Sample::LoadImage.
// yaml-cpp stays in this file; the public header knows nothing of it.
#include "ecvl/dataset.h"

#include <fcntl.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "ecvl/error.h"
#include "ecvl/imgproc.h"
#include "ecvl/io.h"

namespace ecvl {

namespace fs = std::filesystem;

const char* SplitTypeName(SplitType t) {
    switch (t) {
        case SplitType::training: return "training";
        case SplitType::validation: return "validation";
        case SplitType::test: return "test";
    }
    return "?";
}

namespace {

std::optional<SplitType> split_type_of(const std::string& name) {
    if (name == "training") return SplitType::training;
    if (name == "validation") return SplitType::validation;
    if (name == "test") return SplitType::test;
    return std::nullopt;
}

// "[a, b, c]" for messages.
std::string list_text(const std::vector<std::string>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
    return s + "]";
}

std::string split_names(const std::vector<Split>& splits) {
    std::vector<std::string> names;
    for (const Split& s : splits) names.push_back(s.split_name_);
    return list_text(names);
}

// The whole text as a base-10 integer (no sign other than '-', no spaces).
bool parse_int(const std::string& s, long long& v) {
    if (s.empty()) return false;
    const char* end = s.data() + s.size();
    auto [p, ec] = std::from_chars(s.data(), end, v);
    return ec == std::errc() && p == end;
}

bool is_url(const std::string& s) { return s.find("://") != std::string::npos; }

// One pass over a YAML document, filling a Dataset. Every error names the source, the line and
// the entry ("data.yml:12: images[3].label: ...").
class Parser {
public:
    Parser(Dataset& ds, std::string source, fs::path base, bool verify)
        : ds_(ds), source_(std::move(source)), base_(std::move(base)), verify_(verify) {}

    void Run(std::istream& in) {
        YAML::Node root;
        try {
            root = YAML::Load(in);
        } catch (const YAML::ParserException& e) {
            // yaml-cpp's own message and line; its what() repeats both in its own format.
            if (e.mark.is_null()) ECVL_FAIL(source_ << ": malformed YAML: " << e.msg);
            ECVL_FAIL(source_ << ":" << e.mark.line + 1 << ": malformed YAML: " << e.msg);
        } catch (const YAML::Exception& e) {
            ECVL_FAIL(source_ << ": malformed YAML: " << e.what());
        }
        try {
            Top(root);
        } catch (const YAML::Exception& e) {
            // Not expected (types are checked before use), but garbage must never escape as a
            // yaml-cpp exception.
            ECVL_FAIL(source_ << ": unreadable dataset: " << e.what());
        }
    }

private:
    Dataset& ds_;
    std::string source_;
    fs::path base_;
    bool verify_;

    static int LineOf(const YAML::Node& n, int fallback) {
        if (!n.IsDefined()) return fallback;
        const YAML::Mark m = n.Mark();
        return m.is_null() ? fallback : m.line + 1;
    }

    [[noreturn]] void Fail(int line, const std::string& entry, const std::string& msg) const {
        std::ostringstream os;
        os << source_ << ":" << line << ": ";
        if (!entry.empty()) os << entry << ": ";
        ECVL_FAIL(os.str() << msg);
    }

    static std::string Kind(const YAML::Node& n) {
        switch (n.Type()) {
            case YAML::NodeType::Map: return "a map";
            case YAML::NodeType::Sequence: return "a list";
            case YAML::NodeType::Scalar: return "'" + n.Scalar() + "'";
            default: return "nothing";
        }
    }

    // The keys of a map node in file order; duplicates and keys outside `known` are errors.
    std::vector<std::pair<std::string, YAML::Node>> Keys(const YAML::Node& map, int line, const std::string& entry,
                                                         const std::vector<std::string>& known) const {
        std::vector<std::pair<std::string, YAML::Node>> out;
        std::map<std::string, int> seen;
        for (auto it = map.begin(); it != map.end(); ++it) {
            const int kline = LineOf(it->first, line);
            if (!it->first.IsScalar()) Fail(kline, entry, "a key must be a name, got " + Kind(it->first));
            const std::string key = it->first.Scalar();
            if (std::find(known.begin(), known.end(), key) == known.end())
                Fail(kline, entry, "unknown key '" + key + "' (known keys: " + list_text(known) + ")");
            if (auto s = seen.find(key); s != seen.end())
                Fail(kline, entry, "duplicate key '" + key + "' (also on line " + std::to_string(s->second) + ")");
            seen[key] = kline;
            out.emplace_back(key, it->second);
        }
        return out;
    }

    std::string Text(const YAML::Node& n, int line, const std::string& entry) const {
        if (!n.IsScalar()) Fail(LineOf(n, line), entry, "expected a string, got " + Kind(n));
        return n.Scalar();
    }

    void Top(const YAML::Node& root) {
        if (root.IsNull() || !root.IsDefined())
            Fail(1, "", "the file is empty; a dataset needs at least an 'images' list");
        const int line = LineOf(root, 1);
        if (!root.IsMap())
            Fail(line, "", "the top level must be a map with an 'images' list, got " + Kind(root));
        std::optional<YAML::Node> images, split;  // a default YAML::Node counts as defined (null)
        for (auto& [key, node] : Keys(root, line, "", {"name", "description", "classes", "features", "images", "split"})) {
            if (key == "name") {
                if (!node.IsNull()) ds_.name_ = Text(node, line, "name");
            } else if (key == "description") {
                if (!node.IsNull()) ds_.description_ = Text(node, line, "description");
            } else if (key == "classes") {
                ds_.classes_ = Names(node, line, "classes");
            } else if (key == "features") {
                ds_.features_ = Names(node, line, "features");
            } else if (key == "images") {
                images = node;
            } else {
                split = node;
            }
        }
        if (!images) Fail(line, "", "missing the 'images' key (the list of the dataset's images)");
        // Classes and features first: labels and values refer to them wherever they appear.
        Images(*images, line);
        if (split) Splits(*split, line);

        bool mask = false;
        for (const Sample& s : ds_.samples_) mask = mask || !s.label_path_.empty();
        ds_.task_ = mask || ds_.classes_.empty() ? Task::segmentation : Task::classification;
    }

    // classes / features: a list of distinct names (numbers are names too).
    std::vector<std::string> Names(const YAML::Node& n, int line, const std::string& entry) const {
        std::vector<std::string> out;
        if (n.IsNull()) return out;
        if (!n.IsSequence()) Fail(LineOf(n, line), entry, "expected a list of names, got " + Kind(n));
        for (size_t i = 0; i < n.size(); ++i) {
            const std::string e = entry + "[" + std::to_string(i) + "]";
            const std::string name = Text(n[i], LineOf(n, line), e);
            const auto dup = std::find(out.begin(), out.end(), name);
            if (dup != out.end())
                Fail(LineOf(n[i], line), e, "duplicate name '" + name + "' (also " + entry + "[" +
                                                std::to_string(dup - out.begin()) + "])");
            out.push_back(name);
        }
        return out;
    }

    // A file path: resolved against the YAML's folder; checked to exist when verifying.
    fs::path Path(const YAML::Node& n, int line, const std::string& entry) const {
        const int l = LineOf(n, line);
        if (!n.IsScalar()) Fail(l, entry, "expected a path (a string), got " + Kind(n));
        return Resolve(n.Scalar(), l, entry);
    }

    fs::path Resolve(const std::string& s, int line, const std::string& entry) const {
        if (s.empty()) Fail(line, entry, "empty path");
        if (is_url(s))
            Fail(line, entry, "'" + s + "' is a URL; downloading is not supported: download the file and give its path");
        fs::path p(s);
        if (p.is_relative() && !base_.empty()) p = base_ / p;
        p = p.lexically_normal();
        if (verify_) {
            std::error_code ec;
            if (!fs::exists(p, ec)) Fail(line, entry, "file '" + p.string() + "' does not exist");
            if (fs::is_directory(p, ec)) Fail(line, entry, "'" + p.string() + "' is a folder, not an image file");
        }
        return p;
    }

    void Images(const YAML::Node& n, int top_line) {
        const int line = LineOf(n, top_line);
        if (!n.IsSequence()) Fail(line, "images", "expected a list of images, got " + Kind(n));
        ds_.samples_.reserve(n.size());
        for (size_t i = 0; i < n.size(); ++i) {
            const YAML::Node e = n[i];
            const std::string entry = "images[" + std::to_string(i) + "]";
            const int l = LineOf(e, line);
            Sample s;
            if (e.IsScalar() || e.IsSequence()) {
                s.location_ = Locations(e, l, entry);
            } else if (e.IsMap()) {
                std::optional<YAML::Node> location;
                for (auto& [key, node] : Keys(e, l, entry, {"location", "label", "values"})) {
                    if (key == "location") location = node;
                    else if (key == "label") Label(node, l, entry + ".label", s);
                    else Values(node, l, entry + ".values", s);
                }
                if (!location) Fail(l, entry, "missing 'location' (the image's path)");
                s.location_ = Locations(*location, l, entry + ".location");
            } else {
                Fail(l, entry, "expected a path, a list of paths or a map with 'location', got " + Kind(e));
            }
            ds_.samples_.push_back(std::move(s));
        }
    }

    std::vector<fs::path> Locations(const YAML::Node& n, int line, const std::string& entry) const {
        if (n.IsScalar()) return {Path(n, line, entry)};
        if (!n.IsSequence()) Fail(LineOf(n, line), entry, "expected a path or a list of paths, got " + Kind(n));
        if (n.size() == 0) Fail(LineOf(n, line), entry, "an empty list of paths");
        std::vector<fs::path> out;
        for (size_t j = 0; j < n.size(); ++j)
            out.push_back(Path(n[j], LineOf(n, line), entry + "[" + std::to_string(j) + "]"));
        return out;
    }

    // One label: an unquoted integer is a class index, a class name its index; otherwise (when
    // allowed) a mask path, returned as -1 with `mask` set.
    int LabelItem(const YAML::Node& n, int line, const std::string& entry, fs::path* mask) const {
        const int l = LineOf(n, line);
        if (!n.IsScalar()) Fail(l, entry, "expected a class index, a class name or a mask path, got " + Kind(n));
        const std::string s = n.Scalar();
        const auto& classes = ds_.classes_;
        const bool quoted = n.Tag() == "!" || n.Tag() == "tag:yaml.org,2002:str";
        long long v = 0;
        if (!quoted && parse_int(s, v)) {
            if (v < 0 || v >= (long long)classes.size()) {
                std::string msg = "label index " + s + " is out of range: " + std::to_string(classes.size()) +
                                  " classes " + list_text(classes);
                if (std::find(classes.begin(), classes.end(), s) != classes.end())
                    msg += " (to name the class '" + s + "', quote it)";
                Fail(l, entry, msg);
            }
            return int(v);
        }
        if (auto it = std::find(classes.begin(), classes.end(), s); it != classes.end()) return int(it - classes.begin());
        // With classes listed, only something that looks like a file is a mask: "kat" is a typo.
        const bool pathlike = s.find('/') != std::string::npos || fs::path(s).has_extension() || is_url(s);
        if (mask && (classes.empty() || pathlike)) {
            *mask = Resolve(s, l, entry);
            return -1;
        }
        Fail(l, entry, "label '" + s + "' is not among classes " + list_text(classes));
    }

    void Label(const YAML::Node& n, int line, const std::string& entry, Sample& s) const {
        if (n.IsNull()) return;
        if (n.IsScalar()) {
            fs::path mask;
            const int c = LabelItem(n, line, entry, &mask);
            if (c >= 0) s.label_ = std::vector<int>{c};
            else s.label_path_ = mask;
            return;
        }
        if (!n.IsSequence())
            Fail(LineOf(n, line), entry, "expected a class index, a class name, a list of them or a mask path, got " + Kind(n));
        std::vector<int> labels;
        for (size_t j = 0; j < n.size(); ++j) {
            const std::string e = entry + "[" + std::to_string(j) + "]";
            const int c = LabelItem(n[j], LineOf(n, line), e, nullptr);
            if (std::find(labels.begin(), labels.end(), c) != labels.end())
                Fail(LineOf(n[j], line), e, "class " + std::to_string(c) + " ('" + ds_.classes_[size_t(c)] +
                                                "') is listed twice");
            labels.push_back(c);
        }
        s.label_ = std::move(labels);
    }

    void Values(const YAML::Node& n, int line, const std::string& entry, Sample& s) const {
        const int l = LineOf(n, line);
        const auto& features = ds_.features_;
        if (n.IsNull()) return;
        if (n.IsSequence()) {  // by position; ~ = no value
            for (size_t j = 0; j < n.size(); ++j) {
                const std::string e = entry + "[" + std::to_string(j) + "]";
                if (n[j].IsNull()) continue;
                if (j >= features.size())
                    Fail(LineOf(n[j], l), e, "no feature at position " + std::to_string(j) + ": features lists " +
                                                 std::to_string(features.size()) + " " + list_text(features));
                s.values_[int(j)] = Text(n[j], l, e);
            }
            return;
        }
        if (!n.IsMap()) Fail(l, entry, "expected a list of values or a map {feature: value}, got " + Kind(n));
        for (auto it = n.begin(); it != n.end(); ++it) {
            const int kl = LineOf(it->first, l);
            if (!it->first.IsScalar()) Fail(kl, entry, "a key must be a feature name, got " + Kind(it->first));
            const std::string f = it->first.Scalar();
            const auto pos = std::find(features.begin(), features.end(), f);
            if (pos == features.end())
                Fail(kl, entry, "unknown feature '" + f + "' (features: " + list_text(features) + ")");
            const int k = int(pos - features.begin());
            if (s.values_.count(k)) Fail(kl, entry, "feature '" + f + "' is given twice");
            if (it->second.IsNull()) continue;
            s.values_[k] = Text(it->second, kl, entry + "." + f);
        }
    }

    void Splits(const YAML::Node& n, int top_line) {
        const int line = LineOf(n, top_line);
        if (n.IsNull()) return;
        if (!n.IsMap()) Fail(line, "split", "expected a map {split name: [image indices]}, got " + Kind(n));
        const long long count = (long long)ds_.samples_.size();
        std::map<std::string, int> seen;
        for (auto it = n.begin(); it != n.end(); ++it) {
            const int kl = LineOf(it->first, line);
            if (!it->first.IsScalar() || it->first.Scalar().empty())
                Fail(kl, "split", "a split name must be a non-empty string, got " + Kind(it->first));
            Split sp;
            sp.split_name_ = it->first.Scalar();
            sp.split_type_ = split_type_of(sp.split_name_);
            const std::string entry = "split." + sp.split_name_;
            if (auto s = seen.find(sp.split_name_); s != seen.end())
                Fail(kl, entry, "duplicate split name '" + sp.split_name_ + "' (also on line " + std::to_string(s->second) + ")");
            seen[sp.split_name_] = kl;
            const YAML::Node list = it->second;
            if (!list.IsNull() && !list.IsSequence())
                Fail(LineOf(list, kl), entry, "expected a list of image indices, got " + Kind(list));
            std::map<long long, size_t> where;  // index -> position, for duplicates
            for (size_t j = 0; j < list.size(); ++j) {
                const std::string e = entry + "[" + std::to_string(j) + "]";
                const YAML::Node x = list[j];
                const int l = LineOf(x, kl);
                long long v = 0;
                if (!x.IsScalar() || !parse_int(x.Scalar(), v)) Fail(l, e, "expected an image index, got " + Kind(x));
                if (v < 0 || v >= count)
                    Fail(l, e, "index " + x.Scalar() + " is outside images [0, " + std::to_string(count) + ")");
                if (auto d = where.find(v); d != where.end())
                    Fail(l, e, "index " + x.Scalar() + " is listed twice (also " + entry + "[" + std::to_string(d->second) + "])");
                where[v] = j;
                sp.samples_indices_.push_back(int(v));
            }
            // A split is labelled throughout or not at all: a batch cannot mix the two.
            int labelled = -1, unlabelled = -1;
            for (int i : sp.samples_indices_) {
                const Sample& s = ds_.samples_[size_t(i)];
                int& slot = s.label_ || !s.label_path_.empty() ? labelled : unlabelled;
                if (slot < 0) slot = i;
            }
            if (labelled >= 0 && unlabelled >= 0)
                Fail(kl, entry, "image " + std::to_string(unlabelled) + " has no label but image " + std::to_string(labelled) +
                                    " has one; a split's images must be all labelled or all unlabelled");
            sp.no_label_ = labelled < 0;
            ds_.split_.push_back(std::move(sp));
        }
    }
};

// What Dump writes for a path: relative to `dir` when inside it, else absolute; generic '/'.
std::string path_text(const fs::path& p, const fs::path& dir) {
    const fs::path a = fs::absolute(p).lexically_normal();
    const fs::path rel = a.lexically_relative(dir);
    if (!rel.empty() && *rel.begin() != "..") return rel.generic_string();
    return a.generic_string();
}

// Writes text to a temporary beside `path`, flushes it and renames it over `path`.
void write_atomically(const fs::path& path, const std::string& text) {
    static std::atomic<int> counter{0};
    const std::string tmp = path.string() + ".tmp" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    ECVL_CHECK(fd >= 0, "Dump: cannot create '" << tmp << "': " << std::strerror(errno));
    size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int err = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            ECVL_FAIL("Dump: writing '" << tmp << "' failed: " << std::strerror(err));
        }
        done += size_t(n);
    }
    const bool synced = ::fsync(fd) == 0;
    const int err = errno;
    ::close(fd);
    if (!synced || std::rename(tmp.c_str(), path.c_str()) != 0) {
        const int e = synced ? errno : err;
        ::unlink(tmp.c_str());
        ECVL_FAIL("Dump: cannot write '" << path.string() << "': " << std::strerror(e));
    }
}

}  // namespace

Dataset::Dataset(const fs::path& filename, bool verify) {
    std::error_code ec;
    ECVL_CHECK(!fs::is_directory(filename, ec), "Dataset: '" << filename.string() << "' is a folder, not a YAML file");
    std::ifstream in(filename, std::ios::binary);
    ECVL_CHECK(in, "Dataset: cannot open '" << filename.string() << "': " << std::strerror(errno));
    Parser(*this, filename.string(), fs::absolute(filename).parent_path().lexically_normal(), verify).Run(in);
}

Dataset::Dataset(std::istream& in, const std::string& source_name, const fs::path& base_dir, bool verify) {
    const fs::path base = base_dir.empty() ? base_dir : fs::absolute(base_dir).lexically_normal();
    Parser(*this, source_name, base, verify).Run(in);
}

bool Dataset::operator==(const Dataset& o) const {
    return name_ == o.name_ && description_ == o.description_ && classes_ == o.classes_ && features_ == o.features_ &&
           samples_ == o.samples_ && split_ == o.split_ && task_ == o.task_;
}

std::vector<std::vector<fs::path>> Dataset::GetLocations() const {
    std::vector<std::vector<fs::path>> out;
    out.reserve(samples_.size());
    for (const Sample& s : samples_) out.push_back(s.location_);
    return out;
}

namespace {

int find_split(const std::vector<Split>& splits, int current, int index, const char* who) {
    if (index == -1) {
        ECVL_CHECK(current >= 0 && current < int(splits.size()),
                   who << ": no current split; call SetSplit first (splits: " << split_names(splits) << ")");
        return current;
    }
    ECVL_CHECK(index >= 0 && index < int(splits.size()),
               who << ": split index " << index << " is out of range: " << splits.size() << " splits " << split_names(splits));
    return index;
}

int find_split(const std::vector<Split>& splits, const std::string& name, const char* who) {
    for (size_t i = 0; i < splits.size(); ++i)
        if (splits[i].split_name_ == name) return int(i);
    ECVL_FAIL(who << ": no split named '" << name << "' (splits: " << split_names(splits) << ")");
}

int find_split(const std::vector<Split>& splits, SplitType type, const char* who) {
    for (size_t i = 0; i < splits.size(); ++i)
        if (splits[i].split_type_ == type) return int(i);
    ECVL_FAIL(who << ": no " << SplitTypeName(type) << " split (splits: " << split_names(splits) << ")");
}

}  // namespace

Split& Dataset::GetSplit(int index) { return split_[size_t(find_split(split_, current_split_, index, "GetSplit"))]; }
Split& Dataset::GetSplit(const std::string& name) { return split_[size_t(find_split(split_, name, "GetSplit"))]; }
Split& Dataset::GetSplit(SplitType type) { return split_[size_t(find_split(split_, type, "GetSplit"))]; }
const Split& Dataset::GetSplit(int index) const {
    return split_[size_t(find_split(split_, current_split_, index, "GetSplit"))];
}
const Split& Dataset::GetSplit(const std::string& name) const { return split_[size_t(find_split(split_, name, "GetSplit"))]; }
const Split& Dataset::GetSplit(SplitType type) const { return split_[size_t(find_split(split_, type, "GetSplit"))]; }

void Dataset::SetSplit(int index) {
    ECVL_CHECK(index >= 0 && index < int(split_.size()),
               "SetSplit: split index " << index << " is out of range: " << split_.size() << " splits " << split_names(split_));
    current_split_ = index;
}
void Dataset::SetSplit(const std::string& name) { current_split_ = find_split(split_, name, "SetSplit"); }
void Dataset::SetSplit(SplitType type) { current_split_ = find_split(split_, type, "SetSplit"); }

void Dataset::Dump(const fs::path& filename) const {
    const fs::path dir = fs::absolute(filename).parent_path().lexically_normal();
    // What the parser would refuse is refused here, so that a Dump always reads back.
    auto distinct = [](const std::vector<std::string>& v, const char* what) {
        std::set<std::string> seen;
        for (const std::string& s : v) ECVL_CHECK(seen.insert(s).second, "Dump: " << what << " '" << s << "' is listed twice");
    };
    distinct(classes_, "class");
    distinct(features_, "feature");
    YAML::Emitter out;
    out << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << name_;
    if (!description_.empty()) out << YAML::Key << "description" << YAML::Value << description_;
    auto names = [&](const char* key, const std::vector<std::string>& v) {
        if (v.empty()) return;
        out << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginSeq;
        for (const std::string& s : v) out << s;
        out << YAML::EndSeq;
    };
    names("classes", classes_);
    names("features", features_);

    out << YAML::Key << "images" << YAML::Value << YAML::BeginSeq;
    for (size_t i = 0; i < samples_.size(); ++i) {
        const Sample& s = samples_[i];
        ECVL_CHECK(!s.location_.empty(), "Dump: sample " << i << " has no location");
        for (const fs::path& p : s.location_) ECVL_CHECK(!p.empty(), "Dump: sample " << i << " has an empty path");
        ECVL_CHECK(!(s.label_ && !s.label_path_.empty()),
                   "Dump: sample " << i << " has both class labels and a mask; the format holds one label");
        out << YAML::BeginMap << YAML::Key << "location" << YAML::Value;
        if (s.location_.size() == 1) {
            out << path_text(s.location_[0], dir);
        } else {
            out << YAML::Flow << YAML::BeginSeq;
            for (const fs::path& p : s.location_) out << path_text(p, dir);
            out << YAML::EndSeq;
        }
        if (s.label_) {
            for (int c : *s.label_)
                ECVL_CHECK(c >= 0 && c < int(classes_.size()),
                           "Dump: sample " << i << " has label " << c << " but there are " << classes_.size() << " classes");
            out << YAML::Key << "label" << YAML::Value;
            if (s.label_->size() == 1) {
                out << (*s.label_)[0];
            } else {
                out << YAML::Flow << YAML::BeginSeq;
                for (int c : *s.label_) out << c;
                out << YAML::EndSeq;
            }
        } else if (!s.label_path_.empty()) {
            std::string m = path_text(s.label_path_, dir);
            // A bare name could read back as a class index or name: "./" keeps it a path.
            long long v;
            if (m.find('/') == std::string::npos &&
                (parse_int(m, v) || std::find(classes_.begin(), classes_.end(), m) != classes_.end() ||
                 (!classes_.empty() && !fs::path(m).has_extension())))
                m = "./" + m;
            out << YAML::Key << "label" << YAML::Value << m;
        }
        if (!s.values_.empty()) {
            out << YAML::Key << "values" << YAML::Value << YAML::Flow << YAML::BeginMap;
            for (const auto& [k, v] : s.values_) {
                ECVL_CHECK(k >= 0 && k < int(features_.size()),
                           "Dump: sample " << i << " has a value for feature " << k << " but features lists "
                                           << features_.size() << " " << list_text(features_));
                out << YAML::Key << features_[size_t(k)] << YAML::Value << v;
            }
            out << YAML::EndMap;
        }
        out << YAML::EndMap;
    }
    out << YAML::EndSeq;

    if (!split_.empty()) {
        out << YAML::Key << "split" << YAML::Value << YAML::BeginMap;
        std::set<std::string> seen;
        for (const Split& sp : split_) {
            ECVL_CHECK(!sp.split_name_.empty() && seen.insert(sp.split_name_).second,
                       "Dump: split names must be distinct and non-empty, got '" << sp.split_name_ << "'");
            std::set<int> idx;
            for (int i : sp.samples_indices_)
                ECVL_CHECK(i >= 0 && i < int(samples_.size()) && idx.insert(i).second,
                           "Dump: split '" << sp.split_name_ << "' lists index " << i << " twice or outside "
                                           << samples_.size() << " images");
            out << YAML::Key << sp.split_name_ << YAML::Value << YAML::Flow << YAML::BeginSeq;
            for (int i : sp.samples_indices_) out << i;
            out << YAML::EndSeq;
        }
        out << YAML::EndMap;
    }
    out << YAML::EndMap;
    ECVL_CHECK(out.good(), "Dump: cannot write '" << filename.string() << "' as YAML: " << out.GetLastError());
    write_atomically(filename, std::string(out.c_str()) + "\n");
}

namespace {

std::string files_text(const std::vector<fs::path>& files) {
    std::string s;
    for (size_t i = 0; i < files.size(); ++i) s += (i ? ", '" : "'") + files[i].string() + "'";
    return s;
}

}  // namespace

Image Sample::LoadImage(ColorType ctype, bool is_gt) const {
    ECVL_CHECK(!is_gt || !label_path_.empty(),
               "LoadImage: the sample " << files_text(location_) << " has no mask (label_path_ is empty)");
    const std::vector<fs::path> files = is_gt ? std::vector<fs::path>{label_path_} : location_;
    ECVL_CHECK(!files.empty(), "LoadImage: the sample has no location");
    std::vector<Image> images(files.size());
    for (size_t i = 0; i < files.size(); ++i) {
        Image& img = images[i];
        ImRead(files[i].string(), img);  // its errors name the file
        if (ctype == ColorType::none || img.colortype_ == ctype) continue;
        ECVL_CHECK(img.colortype_ != ColorType::none, "LoadImage: '" << files[i].string() << "' has no colour type ("
                                                                     << img.channels_ << "), cannot make it "
                                                                     << ColorTypeName(ctype));
        Image converted;
        try {
            ChangeColorSpace(img, converted, ctype);
        } catch (const Error& e) {
            ECVL_FAIL("LoadImage: '" << files[i].string() << "': " << e.what());
        }
        img = std::move(converted);
    }
    if (images.size() == 1) return std::move(images[0]);
    Image volume;
    try {
        Stack(images, volume);
    } catch (const Error& e) {
        ECVL_FAIL("LoadImage: cannot stack " << files_text(files) << " into one volume: " << e.what());
    }
    return volume;
}

}  // namespace ecvl
