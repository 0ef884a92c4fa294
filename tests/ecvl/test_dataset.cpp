// The DeepHealth Dataset Format: the paper's example, every label and values form, multi-image
// samples, Dump round trips and atomicity, every parse error with its file:line: entry message,
// garbage that must fail cleanly, split lookup, and the two generators on trees built here.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "ecvl/ecvl.h"
#include "ecvl_test_util.h"

using namespace ecvl;
using ecvl_test::expect_ecvl_error;
namespace fs = std::filesystem;

namespace {

// A fresh, empty folder for one test.
fs::path fresh(const std::string& name) {
    static const fs::path base = ecvl_test::scratch_dir("ecvl_dataset");
    const fs::path d = base / name;
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}

void write_text(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream f(p, std::ios::binary);
    f << text;
}

std::string read_text(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// A small grey PNG whose pixels are value + x + 10 * y.
void gray_png(const fs::path& p, int value, int w = 4, int h = 3) {
    fs::create_directories(p.parent_path());
    Image img({w, h, 1}, DataType::uint8, "xyc", ColorType::GRAY);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) img.At<uint8_t>({x, y, 0}) = uint8_t(value + x + 10 * y);
    ImWrite(p.string(), img);
}

// A colour PNG with constant planes b, g, r.
void bgr_png(const fs::path& p, int b, int g, int r) {
    fs::create_directories(p.parent_path());
    Image img({4, 3, 3}, DataType::uint8, "xyc", ColorType::BGR);
    for (int y = 0; y < 3; ++y)
        for (int x = 0; x < 4; ++x) {
            img.At<uint8_t>({x, y, 0}) = uint8_t(b);
            img.At<uint8_t>({x, y, 1}) = uint8_t(g);
            img.At<uint8_t>({x, y, 2}) = uint8_t(r);
        }
    ImWrite(p.string(), img);
}

// Writes `yaml` as <dir>/data.yml and parses it.
Dataset parse(const fs::path& dir, const std::string& yaml, bool verify = false) {
    write_text(dir / "data.yml", yaml);
    return Dataset(dir / "data.yml", verify);
}

// The parse of `yaml` must fail with a message containing `part`.
void expect_parse_error(const std::string& yaml, const std::string& part, bool verify = false) {
    static int n = 0;
    const fs::path d = fresh("err" + std::to_string(n++));
    write_text(d / "data.yml", yaml);
    expect_ecvl_error([&] { Dataset ds(d / "data.yml", verify); }, part);
}

std::vector<int> labels(std::initializer_list<int> v) { return v; }

}  // namespace

// Listing 2 of the DeepHealth toolkit paper, with the two images it names.
TEST(Dataset, PaperListing2) {
    const fs::path d = fresh("listing2");
    gray_png(d / "training/0.png", 0);
    gray_png(d / "training/1.png", 100);
    const Dataset ds = parse(d,
                             "name: MNIST\n"
                             "description: This is the MNIST dataset.\n"
                             "classes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n"
                             "images:\n"
                             "  - location: \"training/0.png\"\n"
                             "    label: 5\n"
                             "  - location: \"training/1.png\"\n"
                             "    label: 0\n"
                             "split:\n"
                             "  training: [0, 1]\n",
                             true);
    EXPECT_EQ(ds.name_, "MNIST");
    EXPECT_EQ(ds.description_, "This is the MNIST dataset.");
    ASSERT_EQ(ds.classes_.size(), 10u);
    EXPECT_EQ(ds.classes_[5], "5");
    EXPECT_TRUE(ds.features_.empty());
    EXPECT_EQ(ds.task_, Task::classification);
    ASSERT_EQ(ds.samples_.size(), 2u);
    EXPECT_EQ(ds.samples_[0].location_, std::vector<fs::path>{d / "training/0.png"});
    EXPECT_EQ(ds.samples_[0].label_, labels({5}));
    EXPECT_EQ(ds.samples_[1].label_, labels({0}));
    EXPECT_TRUE(ds.samples_[0].label_path_.empty());
    ASSERT_EQ(ds.split_.size(), 1u);
    EXPECT_EQ(ds.split_[0].split_name_, "training");
    EXPECT_EQ(ds.split_[0].split_type_, SplitType::training);
    EXPECT_EQ(ds.split_[0].samples_indices_, (std::vector<int>{0, 1}));
    EXPECT_FALSE(ds.split_[0].no_label_);
    EXPECT_EQ(ds.current_split_, -1);
    EXPECT_EQ(ds.GetLocations(), (std::vector<std::vector<fs::path>>{{d / "training/0.png"}, {d / "training/1.png"}}));

    const Image g = ds.samples_[1].LoadImage(ColorType::GRAY);
    EXPECT_EQ(g.dims_, (std::vector<int>{4, 3, 1}));
    EXPECT_EQ(g.channels_, "xyc");
    EXPECT_EQ(g.Get({2, 1, 0}), 100 + 2 + 10);
    const Image rgb = ds.samples_[1].LoadImage();  // RGB by default: grey replicated
    EXPECT_EQ(rgb.colortype_, ColorType::RGB);
    EXPECT_EQ(rgb.dims_, (std::vector<int>{4, 3, 3}));
    EXPECT_EQ(rgb.Get({2, 1, 2}), 112);
}

TEST(Dataset, LabelForms) {
    const fs::path d = fresh("labels");
    const Dataset ds = parse(d,
                             "classes: [cat, dog, 7, bird]\n"
                             "images:\n"
                             "  - {location: a.png, label: 1}\n"          // index
                             "  - {location: a.png, label: bird}\n"       // name
                             "  - {location: a.png, label: \"7\"}\n"      // quoted: the class named 7
                             "  - {location: a.png, label: [0, dog, '7']}\n"  // multi-label
                             "  - {location: a.png, label: []}\n"         // multi-label, none set
                             "  - {location: a.png, label: masks/a.png}\n"  // a mask path
                             "  - {location: a.png, label: a_mask.png}\n"   // a mask path (extension)
                             "  - {location: a.png, label: ~}\n"          // no label
                             "  - a.png\n");
    ASSERT_EQ(ds.samples_.size(), 9u);
    EXPECT_EQ(ds.samples_[0].label_, labels({1}));
    EXPECT_EQ(ds.samples_[1].label_, labels({3}));
    EXPECT_EQ(ds.samples_[2].label_, labels({2}));
    EXPECT_EQ(ds.samples_[3].label_, labels({0, 1, 2}));
    EXPECT_EQ(ds.samples_[4].label_, labels({}));
    EXPECT_FALSE(ds.samples_[5].label_);
    EXPECT_EQ(ds.samples_[5].label_path_, d / "masks/a.png");
    EXPECT_EQ(ds.samples_[6].label_path_, d / "a_mask.png");
    EXPECT_FALSE(ds.samples_[7].label_);
    EXPECT_TRUE(ds.samples_[7].label_path_.empty());
    EXPECT_FALSE(ds.samples_[8].label_);
    EXPECT_EQ(ds.task_, Task::segmentation);  // a sample has a mask

    // Without classes any string is a mask path, even without an extension.
    const Dataset seg = parse(d, "images:\n  - {location: /abs/img.png, label: gt}\n  - {location: b.png, label: ../m/b.png}\n");
    EXPECT_EQ(seg.task_, Task::segmentation);
    EXPECT_EQ(seg.samples_[0].location_[0], fs::path("/abs/img.png"));
    EXPECT_EQ(seg.samples_[0].label_path_, d / "gt");
    EXPECT_EQ(seg.samples_[1].label_path_, d.parent_path() / "m/b.png");
    EXPECT_TRUE(seg.classes_.empty());
}

TEST(Dataset, ValuesBothForms) {
    const fs::path d = fresh("values");
    const Dataset ds = parse(d,
                             "features: [age, sex, site]\n"
                             "images:\n"
                             "  - location: a.png\n"
                             "    values: [42, ~, torso]\n"
                             "  - location: b.png\n"
                             "    values: {site: head, age: 7.5, sex: ~}\n"
                             "  - location: c.png\n"
                             "    values: [~, F]\n"
                             "  - location: d.png\n"
                             "    values: {sex: ''}\n");
    EXPECT_EQ(ds.samples_[0].values_, (std::map<int, std::string>{{0, "42"}, {2, "torso"}}));
    EXPECT_EQ(ds.samples_[1].values_, (std::map<int, std::string>{{0, "7.5"}, {2, "head"}}));
    EXPECT_EQ(ds.samples_[2].values_, (std::map<int, std::string>{{1, "F"}}));
    EXPECT_EQ(ds.samples_[3].values_, (std::map<int, std::string>{{1, ""}}));
    EXPECT_EQ(ds.task_, Task::segmentation);  // no classes, nothing labelled
}

// A bare list of paths, or location: [...], is one sample that LoadImage stacks into a volume.
TEST(Dataset, MultiLocationSamplesStack) {
    const fs::path d = fresh("multi");
    gray_png(d / "s0.png", 0);
    gray_png(d / "s1.png", 50);
    gray_png(d / "s2.png", 100);
    bgr_png(d / "c0.png", 10, 20, 30);
    bgr_png(d / "c1.png", 40, 50, 60);
    gray_png(d / "big.png", 0, 8, 8);
    const Dataset ds = parse(d,
                             "images:\n"
                             "  - [s0.png, s1.png, s2.png]\n"
                             "  - location: [c0.png, c1.png]\n"
                             "  - [s0.png, big.png]\n"
                             "  - [s0.png, missing.png]\n");
    ASSERT_EQ(ds.samples_[0].location_.size(), 3u);
    const Image v = ds.samples_[0].LoadImage(ColorType::GRAY);
    EXPECT_EQ(v.channels_, "xyzc");
    EXPECT_EQ(v.dims_, (std::vector<int>{4, 3, 3, 1}));
    EXPECT_EQ(v.Get({1, 2, 0, 0}), 21);
    EXPECT_EQ(v.Get({1, 2, 2, 0}), 121);

    const Image c = ds.samples_[1].LoadImage(ColorType::RGB);  // files are BGR: converted per slice
    EXPECT_EQ(c.dims_, (std::vector<int>{4, 3, 2, 3}));
    EXPECT_EQ(c.colortype_, ColorType::RGB);
    EXPECT_EQ(c.Get({0, 0, 0, 0}), 30);
    EXPECT_EQ(c.Get({0, 0, 1, 0}), 60);
    EXPECT_EQ(c.Get({3, 2, 1, 2}), 40);
    const Image b = ds.samples_[1].LoadImage(ColorType::BGR);
    EXPECT_EQ(b.Get({0, 0, 1, 0}), 40);
    const Image asis = ds.samples_[1].LoadImage(ColorType::none);
    EXPECT_EQ(asis.colortype_, ColorType::BGR);

    expect_ecvl_error([&] { ds.samples_[2].LoadImage(ColorType::GRAY); }, "LoadImage: cannot stack '" + (d / "s0.png").string() + "', '" + (d / "big.png").string() + "'");
    expect_ecvl_error([&] { ds.samples_[3].LoadImage(); }, "missing.png");
}

TEST(Dataset, LoadMaskAndItsErrors) {
    const fs::path d = fresh("mask");
    gray_png(d / "img.png", 0);
    gray_png(d / "gt/img.png", 200);
    const Dataset ds = parse(d, "images:\n  - {location: img.png, label: gt/img.png}\n  - img.png\n", true);
    const Image m = ds.samples_[0].LoadImage(ColorType::GRAY, true);
    EXPECT_EQ(m.dims_, (std::vector<int>{4, 3, 1}));
    EXPECT_EQ(m.Get({0, 0, 0}), 200);
    expect_ecvl_error([&] { ds.samples_[1].LoadImage(ColorType::GRAY, true); },
                      "LoadImage: the sample '" + (d / "img.png").string() + "' has no mask");
    Sample empty;
    expect_ecvl_error([&] { empty.LoadImage(); }, "LoadImage: the sample has no location");
}

// Everything the format holds, dumped and read back: equal, also from another folder.
TEST(Dataset, DumpRoundTrip) {
    const fs::path d = fresh("dump");
    gray_png(d / "a.png", 0);
    const Dataset ds = parse(d,
                             "name: 'Round: trip'\n"
                             "description: >\n  folded\n  text\n"
                             "classes: [0, cat, '~', 'yes', 'a: b']\n"
                             "features: [age, note]\n"
                             "images:\n"
                             "  - {location: a.png, label: 1, values: [3, 'x, y']}\n"
                             "  - {location: [sub/b.png, sub/c.png], label: [0, 4]}\n"
                             "  - {location: /elsewhere/d.png, label: masks/d.png, values: {note: ''}}\n"
                             "  - e.png\n"
                             "split:\n"
                             "  training: [1, 0]\n"
                             "  test: [3]\n"
                             "  extra: []\n");
    EXPECT_EQ(ds.split_[2].split_type_, std::nullopt);
    EXPECT_TRUE(ds.split_[1].no_label_);
    EXPECT_TRUE(ds.split_[2].no_label_);
    EXPECT_EQ(ds.samples_[1].location_, (std::vector<fs::path>{d / "sub/b.png", d / "sub/c.png"}));

    ds.Dump(d / "copy.yml");
    const Dataset back(d / "copy.yml");
    EXPECT_TRUE(back == ds) << read_text(d / "copy.yml");
    const std::string text = read_text(d / "copy.yml");
    EXPECT_NE(text.find("location: a.png"), std::string::npos) << text;           // relative inside the folder
    EXPECT_NE(text.find("/elsewhere/d.png"), std::string::npos) << text;          // absolute outside it

    const fs::path other = fresh("dump_other");
    ds.Dump(other / "moved.yml");
    EXPECT_TRUE(Dataset(other / "moved.yml") == ds) << read_text(other / "moved.yml");

    // Built in memory: masks named like a class or a number, values for named features only.
    Dataset mem;
    mem.name_ = "";
    mem.classes_ = {"12", "mask"};
    mem.features_ = {"f"};
    Sample s1;
    s1.location_ = {d / "x.png"};
    s1.label_path_ = d / "12";
    Sample s2;
    s2.location_ = {d / "y.png"};
    s2.label_path_ = d / "mask";
    s2.values_ = {{0, "null"}};
    mem.samples_ = {s1, s2};
    mem.task_ = Task::segmentation;
    Split sp;
    sp.split_name_ = "validation";
    sp.split_type_ = SplitType::validation;
    sp.samples_indices_ = {0, 1};
    mem.split_ = {sp};
    mem.Dump(d / "mem.yml");
    EXPECT_TRUE(Dataset(d / "mem.yml") == mem) << read_text(d / "mem.yml");

    // operator== looks at content, not at the current split.
    Dataset moved = back;
    moved.SetSplit("test");
    EXPECT_TRUE(moved == ds);
    moved.samples_[0].values_[1] = "changed";
    EXPECT_FALSE(moved == ds);
}

// A failed Dump leaves what was there; nothing half-written, no temporary left behind.
TEST(Dataset, DumpIsAtomic) {
    const fs::path d = fresh("atomic");
    Dataset ds = parse(d, "classes: [a]\nimages:\n  - {location: a.png, label: 0}\n");
    write_text(d / "old.yml", "previous content\n");

    fs::create_directories(d / "in_the_way.yml");
    expect_ecvl_error([&] { ds.Dump(d / "in_the_way.yml"); }, "Dump: cannot write '" + (d / "in_the_way.yml").string() + "'");
    EXPECT_TRUE(fs::is_directory(d / "in_the_way.yml"));
    expect_ecvl_error([&] { ds.Dump(d / "no_such_folder/x.yml"); }, "Dump: cannot create");
    expect_ecvl_error([&] { ds.Dump(d / "old.yml/x.yml"); }, "Dump: cannot create");

    Dataset bad = ds;
    bad.samples_[0].label_ = std::vector<int>{3};
    expect_ecvl_error([&] { bad.Dump(d / "old.yml"); }, "Dump: sample 0 has label 3 but there are 1 classes");
    bad = ds;
    bad.samples_[0].values_[0] = "v";
    expect_ecvl_error([&] { bad.Dump(d / "old.yml"); }, "Dump: sample 0 has a value for feature 0 but features lists 0");
    bad = ds;
    bad.samples_[0].label_path_ = "m.png";
    expect_ecvl_error([&] { bad.Dump(d / "old.yml"); }, "has both class labels and a mask");
    bad = ds;
    bad.classes_ = {"a", "a"};
    expect_ecvl_error([&] { bad.Dump(d / "old.yml"); }, "Dump: class 'a' is listed twice");
    bad = ds;
    bad.samples_[0].location_.push_back("");
    expect_ecvl_error([&] { bad.Dump(d / "old.yml"); }, "Dump: sample 0 has an empty path");
    bad = ds;
    bad.split_ = {Split{"s", std::nullopt, {0, 0}}};
    expect_ecvl_error([&] { bad.Dump(d / "old.yml"); }, "Dump: split 's' lists index 0 twice or outside 1 images");
    EXPECT_EQ(read_text(d / "old.yml"), "previous content\n");

    ds.Dump(d / "old.yml");  // a good Dump replaces it
    EXPECT_TRUE(Dataset(d / "old.yml") == ds);
    for (const auto& e : fs::directory_iterator(d))
        EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
}

TEST(Dataset, FromStream) {
    std::istringstream in("classes: [a, b]\nimages:\n  - {location: x.png, label: b}\n");
    const Dataset ds(in, "inline", "/data/set");
    EXPECT_EQ(ds.samples_[0].location_[0], fs::path("/data/set/x.png"));
    std::istringstream rel("images: [x.png]\n");
    EXPECT_EQ(Dataset(rel, "inline").samples_[0].location_[0], fs::path("x.png"));
    std::istringstream bad("images: [x.png\n");
    expect_ecvl_error([&] { Dataset(bad, "inline"); }, "inline:2: malformed YAML: ");
}

// Each error names the file, the line (1-based) and the entry.
TEST(Dataset, ParseErrors) {
    const std::string f = "data.yml:";
    expect_parse_error("name: x\nimages: [a.png,\n  b.png\nsplit: {}\n", f + "4: malformed YAML: ");
    expect_parse_error("name: x\n", f + "1: missing the 'images' key");
    expect_parse_error("", f + "1: the file is empty");
    expect_parse_error("- a.png\n- b.png\n", f + "1: the top level must be a map");
    expect_parse_error("images: [a.png]\nimagse: [b.png]\n", f + "2: unknown key 'imagse'");
    expect_parse_error("images: [a.png]\nimages: [b.png]\n", f + "2: duplicate key 'images' (also on line 1)");

    // labels
    expect_parse_error("classes: [cat, dog]\nimages:\n  - {location: a.png, label: cat}\n  - {location: b.png, label: dog}\n"
                       "  - {location: c.png, label: dog}\n  - location: d.png\n    label: kat\n",
                       f + "7: images[3].label: label 'kat' is not among classes [cat, dog]");
    expect_parse_error("classes: [cat, dog]\nimages:\n  - {location: a.png, label: 2}\n",
                       f + "3: images[0].label: label index 2 is out of range: 2 classes [cat, dog]");
    expect_parse_error("classes: [cat, dog]\nimages:\n  - {location: a.png, label: -1}\n",
                       "images[0].label: label index -1 is out of range");
    expect_parse_error("classes: [10, 20]\nimages:\n  - {location: a.png, label: 20}\n",
                       "label index 20 is out of range: 2 classes [10, 20] (to name the class '20', quote it)");
    expect_parse_error("images:\n  - {location: a.png, label: 0}\n", "label index 0 is out of range: 0 classes []");
    expect_parse_error("classes: [cat, dog]\nimages:\n  - location: a.png\n    label: [cat,\n      mouse.png]\n",
                       f + "5: images[0].label[1]: label 'mouse.png' is not among classes [cat, dog]");
    expect_parse_error("classes: [cat, dog]\nimages:\n  - {location: a.png, label: [1, dog]}\n",
                       "images[0].label[1]: class 1 ('dog') is listed twice");
    expect_parse_error("classes: [cat, dog]\nimages:\n  - {location: a.png, label: {cat: 1}}\n",
                       f + "3: images[0].label: expected a class index, a class name, a list of them or a mask path, got a map");
    expect_parse_error("classes: [cat, cat]\nimages: []\n", f + "1: classes[1]: duplicate name 'cat' (also classes[0])");

    // split
    expect_parse_error("images: [a.png, b.png, c.png]\nsplit:\n  training: [0, 1, 7]\n",
                       f + "3: split.training[2]: index 7 is outside images [0, 3)");
    expect_parse_error("images: [a.png]\nsplit:\n  training: [-1]\n", "split.training[0]: index -1 is outside images [0, 1)");
    expect_parse_error("images: [a.png, b.png]\nsplit:\n  training: [0]\n  test: [1]\n  training: [1]\n",
                       f + "5: split.training: duplicate split name 'training' (also on line 3)");
    expect_parse_error("images: [a.png, b.png]\nsplit:\n  test:\n    - 0\n    - 1\n    - 0\n",
                       f + "6: split.test[2]: index 0 is listed twice (also split.test[0])");
    expect_parse_error("images: [a.png]\nsplit:\n  test: [first]\n", f + "3: split.test[0]: expected an image index, got 'first'");
    expect_parse_error("images: [a.png]\nsplit: [0]\n", f + "2: split: expected a map {split name: [image indices]}, got a list");
    expect_parse_error("images: [a.png]\nsplit:\n  test: 0\n", f + "3: split.test: expected a list of image indices, got '0'");
    expect_parse_error("classes: [a]\nimages:\n  - {location: a.png, label: a}\n  - b.png\nsplit:\n  training: [0, 1]\n",
                       f + "6: split.training: image 1 has no label but image 0 has one");

    // values
    expect_parse_error("features: [age, sex]\nimages:\n  - location: a.png\n    values: {age: 3, height: 170}\n",
                       f + "4: images[0].values: unknown feature 'height' (features: [age, sex])");
    expect_parse_error("features: [age]\nimages:\n  - {location: a.png, values: [1, 2]}\n",
                       f + "3: images[0].values[1]: no feature at position 1: features lists 1 [age]");
    expect_parse_error("features: [age]\nimages:\n  - {location: a.png, values: 3}\n",
                       "images[0].values: expected a list of values or a map {feature: value}, got '3'");
    expect_parse_error("features: [age]\nimages:\n  - {location: a.png, values: {age: [1]}}\n",
                       "images[0].values.age: expected a string, got a list");

    // wrong node types
    expect_parse_error("images:\n  - location: {path: a.png}\n",
                       f + "2: images[0].location: expected a path or a list of paths, got a map");
    expect_parse_error("images:\n  - [a.png, [b.png]]\n", f + "2: images[0][1]: expected a path (a string), got a list");
    expect_parse_error("images:\n  - location:\n      - a.png\n      - {p: b.png}\n",
                       f + "4: images[0].location[1]: expected a path (a string), got a map");
    expect_parse_error("images:\n  - {location: []}\n", "images[0].location: an empty list of paths");
    expect_parse_error("images:\n  - {label: ~}\n", f + "2: images[0]: missing 'location'");
    expect_parse_error("images:\n  - {location: a.png, lable: 0}\n", "images[0]: unknown key 'lable' (known keys: [location, label, values])");
    expect_parse_error("images:\n  -\n", "images[0]: expected a path, a list of paths or a map with 'location', got nothing");
    expect_parse_error("images: a.png\n", f + "1: images: expected a list of images, got 'a.png'");
    expect_parse_error("images:\n", "images: expected a list of images, got nothing");
    expect_parse_error("classes: {a: 1}\nimages: []\n", f + "1: classes: expected a list of names, got a map");
    expect_parse_error("name: [x]\nimages: []\n", f + "1: name: expected a string, got a list");
    expect_parse_error("images: ['']\n", "images[0]: empty path");
    expect_parse_error("images:\n  - https://example.org/a.png\n",
                       f + "2: images[0]: 'https://example.org/a.png' is a URL; downloading is not supported");

    // verify: missing files are errors only when asked for
    const fs::path d = fresh("verify");
    gray_png(d / "a.png", 0);
    const std::string yaml = "images:\n  - a.png\n  - location: [a.png, b.png]\n  - {location: a.png, label: gt/a.png}\n";
    write_text(d / "data.yml", yaml);
    EXPECT_NO_THROW(Dataset(d / "data.yml", false));
    expect_ecvl_error([&] { Dataset(d / "data.yml", true); },
                      "data.yml:3: images[1].location[1]: file '" + (d / "b.png").string() + "' does not exist");
    gray_png(d / "b.png", 0);
    expect_ecvl_error([&] { Dataset(d / "data.yml", true); }, "data.yml:4: images[2].label: file '" + (d / "gt/a.png").string() + "' does not exist");
    fs::create_directories(d / "gt/a.png");
    expect_ecvl_error([&] { Dataset(d / "data.yml", true); }, "is a folder, not an image file");

    // A relative file name: messages use it as given, paths resolve against its folder.
    const fs::path cwd = fs::current_path();
    fs::current_path(d.parent_path());
    const std::string rel = d.filename().string() + "/data.yml";
    try {
        Dataset(rel, true);
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()).rfind(rel + ":4: images[2].label: ", 0), 0u) << e.what();
    }
    EXPECT_EQ(Dataset(rel).samples_[0].location_[0], d / "a.png");
    fs::current_path(cwd);

    expect_ecvl_error([&] { Dataset(d / "nope.yml"); }, "Dataset: cannot open '" + (d / "nope.yml").string() + "'");
    expect_ecvl_error([&] { Dataset ds(d); }, "is a folder, not a YAML file");
}

// Garbage and mutilated files: an ecvl::Error or a dataset, never a crash or another exception.
TEST(Dataset, GarbageNeverCrashes) {
    const std::string valid =
        "name: MNIST\nclasses: [0, 1, 2]\nfeatures: [age]\nimages:\n  - location: a.png\n    label: 1\n"
        "    values: {age: 3}\n  - {location: [b.png, c.png], label: [0, 2]}\n  - d.png\nsplit:\n  training: [0, 1]\n  test: [2]\n";
    std::vector<std::string> inputs = {std::string(100000, '['), std::string(100000, '{'), "a:\n" + std::string(5000, ' ') + "b",
                                       std::string("\0\1\2\xff\xfe", 5), "images: &a [*a]\n", "\t\t- : :", "images: !!binary AAAA\n",
                                       "%YAML 9.9\n---\nimages: []\n", "images: []\n---\nimages: []\n", "? [a]\n: b\n"};
    std::mt19937 rng(42);
    const std::string alphabet = "[]{}:-,'\"&*!|>#\n\t ~0123abc";
    for (int i = 0; i < 400; ++i) {
        std::string s = valid;
        const int edits = 1 + int(rng() % 4);
        for (int e = 0; e < edits; ++e) {
            const size_t pos = rng() % s.size();
            switch (rng() % 3) {
                case 0: s.erase(pos, 1 + rng() % 3); break;
                case 1: s.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
                default: s[pos] = alphabet[rng() % alphabet.size()];
            }
        }
        inputs.push_back(s);
    }
    int parsed = 0, refused = 0;
    for (const std::string& s : inputs) {
        std::istringstream in(s);
        try {
            Dataset ds(in, "garbage", "/base");
            ++parsed;
        } catch (const Error& e) {
            ++refused;
            EXPECT_EQ(std::string(e.what()).rfind("garbage", 0), 0u) << e.what();  // names the source first
        } catch (const std::exception& e) {
            ADD_FAILURE() << "not an ecvl::Error: " << e.what() << "\ninput:\n" << s;
        }
    }
    EXPECT_GT(refused, 0);
    EXPECT_GT(parsed, 0);
}

TEST(Dataset, SplitLookup) {
    const fs::path d = fresh("splits");
    Dataset ds = parse(d, "images: [a.png, b.png, c.png]\nsplit:\n  training: [0, 1]\n  test: [2]\n  fold2: [1]\n");
    EXPECT_EQ(ds.GetSplit(0).split_name_, "training");
    EXPECT_EQ(ds.GetSplit("fold2").samples_indices_, std::vector<int>{1});
    EXPECT_EQ(ds.GetSplit(SplitType::test).split_name_, "test");
    EXPECT_FALSE(ds.GetSplit("fold2").split_type_);
    expect_ecvl_error([&] { ds.GetSplit(); }, "GetSplit: no current split; call SetSplit first (splits: [training, test, fold2])");
    expect_ecvl_error([&] { ds.GetSplit(3); }, "GetSplit: split index 3 is out of range: 3 splits [training, test, fold2]");
    expect_ecvl_error([&] { ds.GetSplit("validation"); }, "GetSplit: no split named 'validation' (splits: [training, test, fold2])");
    expect_ecvl_error([&] { ds.GetSplit(SplitType::validation); }, "GetSplit: no validation split (splits: [training, test, fold2])");

    ds.SetSplit(SplitType::test);
    EXPECT_EQ(ds.current_split_, 1);
    EXPECT_EQ(ds.GetSplit().split_name_, "test");
    ds.SetSplit("fold2");
    EXPECT_EQ(ds.current_split_, 2);
    ds.SetSplit(0);
    EXPECT_EQ(ds.GetSplit(-1).split_name_, "training");
    ds.GetSplit().drop_last_ = true;  // a reference into the dataset
    EXPECT_TRUE(ds.split_[0].drop_last_);
    const Dataset& cds = ds;
    EXPECT_EQ(cds.GetSplit("test").samples_indices_, std::vector<int>{2});
    EXPECT_EQ(cds.GetSplit(SplitType::training).split_name_, "training");
    EXPECT_EQ(&cds.GetSplit(), &ds.split_[0]);
    expect_ecvl_error([&] { ds.SetSplit(-1); }, "SetSplit: split index -1 is out of range");
    expect_ecvl_error([&] { ds.SetSplit("x"); }, "SetSplit: no split named 'x'");
    expect_ecvl_error([&] { ds.SetSplit(SplitType::validation); }, "SetSplit: no validation split");
    EXPECT_EQ(ds.current_split_, 0);  // unchanged by the failures
    EXPECT_EQ(SplitTypeName(SplitType::validation), std::string("validation"));
}

TEST(Generator, ClassificationWithSplits) {
    const fs::path r = fresh("gen_cls");
    gray_png(r / "training/dog/b.png", 1);
    gray_png(r / "training/dog/a.png", 2);
    gray_png(r / "training/cat/z.png", 3);
    write_text(r / "training/cat/.DS_Store", "hidden");
    gray_png(r / "validation/cat/v.png", 4);
    gray_png(r / "test/bird/t.png", 5);
    gray_png(r / "test/cat/t.png", 6);
    gray_png(r / "aux/dog/x.png", 7);
    const Dataset ds = GenerateClassificationDataset(r);
    EXPECT_EQ(ds.task_, Task::classification);
    EXPECT_EQ(ds.classes_, (std::vector<std::string>{"bird", "cat", "dog"}));
    ASSERT_EQ(ds.split_.size(), 4u);
    EXPECT_EQ(ds.split_[0].split_name_, "training");
    EXPECT_EQ(ds.split_[1].split_name_, "validation");
    EXPECT_EQ(ds.split_[2].split_name_, "test");
    EXPECT_EQ(ds.split_[3].split_name_, "aux");
    EXPECT_FALSE(ds.split_[3].split_type_);
    EXPECT_EQ(ds.split_[0].samples_indices_, (std::vector<int>{0, 1, 2}));
    ASSERT_EQ(ds.samples_.size(), 7u);
    EXPECT_EQ(ds.samples_[0].location_[0], r / "training/cat/z.png");
    EXPECT_EQ(ds.samples_[1].location_[0], r / "training/dog/a.png");
    EXPECT_EQ(ds.samples_[2].location_[0], r / "training/dog/b.png");
    EXPECT_EQ(ds.samples_[0].label_, labels({1}));
    EXPECT_EQ(ds.samples_[1].label_, labels({2}));
    EXPECT_EQ(ds.samples_[4].location_[0], r / "test/bird/t.png");
    EXPECT_EQ(ds.samples_[4].label_, labels({0}));
    EXPECT_EQ(ds.GetSplit(SplitType::test).samples_indices_, (std::vector<int>{4, 5}));

    ds.Dump(r / "dataset.yml");
    EXPECT_TRUE(Dataset(r / "dataset.yml", true) == ds) << read_text(r / "dataset.yml");
    EXPECT_TRUE(GenerateClassificationDataset(r) == ds);  // the YAML beside it changes nothing
}

TEST(Generator, ClassificationWithoutSplitsAndErrors) {
    const fs::path r = fresh("gen_cls_flat");
    gray_png(r / "neg/1.png", 1);
    gray_png(r / "pos/2.png", 2);
    gray_png(r / "pos/1.png", 3);
    const Dataset ds = GenerateClassificationDataset(r.string() + "/");
    EXPECT_TRUE(ds.split_.empty());
    EXPECT_EQ(ds.classes_, (std::vector<std::string>{"neg", "pos"}));
    ASSERT_EQ(ds.samples_.size(), 3u);
    EXPECT_EQ(ds.samples_[1].location_[0], r / "pos/1.png");
    EXPECT_EQ(ds.samples_[2].label_, labels({1}));

    fs::create_directories(r / "empty");
    expect_ecvl_error([&] { GenerateClassificationDataset(r); },
                      "GenerateClassificationDataset: class folder '" + (r / "empty").string() + "' is empty");
    const fs::path s = fresh("gen_cls_empty_split");
    gray_png(s / "training/a/1.png", 1);
    fs::create_directories(s / "test/a");
    expect_ecvl_error([&] { GenerateClassificationDataset(s); }, "class folder '" + (s / "test/a").string() + "' is empty");
    expect_ecvl_error([&] { GenerateClassificationDataset(r / "missing"); },
                      "GenerateClassificationDataset: root '" + (r / "missing").string() + "' does not exist or is not a folder");
    const fs::path e = fresh("gen_cls_none");
    expect_ecvl_error([&] { GenerateClassificationDataset(e); }, "has no sub-folders");
}

// images/ + ground_truth/ per split; training skips images without masks, test has none at all.
TEST(Generator, SegmentationImagesAndGroundTruth) {
    const fs::path r = fresh("gen_seg");
    gray_png(r / "training/images/b.png", 1);
    gray_png(r / "training/images/a.png", 2);
    gray_png(r / "training/images/c.png", 3);  // no mask: skipped
    gray_png(r / "training/ground_truth/a.png", 4);
    gray_png(r / "training/ground_truth/b.bmp", 5);  // same stem, another extension
    gray_png(r / "validation/images/v.png", 6);
    gray_png(r / "validation/ground_truth/v.png", 7);
    gray_png(r / "test/images/t1.png", 8);
    gray_png(r / "test/images/t2.png", 9);
    const Dataset ds = GenerateSegmentationDataset(r);
    EXPECT_EQ(ds.task_, Task::segmentation);
    EXPECT_TRUE(ds.classes_.empty());
    ASSERT_EQ(ds.split_.size(), 3u);
    EXPECT_EQ(ds.split_[0].split_name_, "training");
    ASSERT_EQ(ds.split_[0].samples_indices_.size(), 2u);
    EXPECT_EQ(ds.samples_[0].location_[0], r / "training/images/a.png");
    EXPECT_EQ(ds.samples_[0].label_path_, r / "training/ground_truth/a.png");
    EXPECT_EQ(ds.samples_[1].label_path_, r / "training/ground_truth/b.bmp");
    EXPECT_EQ(ds.samples_[2].label_path_, r / "validation/ground_truth/v.png");
    EXPECT_FALSE(ds.split_[1].no_label_);
    EXPECT_TRUE(ds.split_[2].no_label_);
    EXPECT_EQ(ds.split_[2].samples_indices_, (std::vector<int>{3, 4}));
    EXPECT_TRUE(ds.samples_[4].label_path_.empty());
    EXPECT_EQ(ds.samples_[2].LoadImage(ColorType::GRAY, true).Get({0, 0, 0}), 7);

    ds.Dump(r / "dataset.yml");
    EXPECT_TRUE(Dataset(r / "dataset.yml", true) == ds) << read_text(r / "dataset.yml");

    gray_png(r / "training/ground_truth/a.bmp", 4);
    expect_ecvl_error([&] { GenerateSegmentationDataset(r); },
                      "image '" + (r / "training/images/a.png").string() + "' matches two masks");
    fs::remove(r / "training/ground_truth/a.bmp");
    fs::remove_all(r / "validation/ground_truth");
    expect_ecvl_error([&] { GenerateSegmentationDataset(r); },
                      "GenerateSegmentationDataset: no image in '" + (r / "validation").string() + "' has a mask");
    fs::remove_all(r / "validation/images");
    expect_ecvl_error([&] { GenerateSegmentationDataset(r); }, "GenerateSegmentationDataset: no images in '" + (r / "validation").string() + "'");
    expect_ecvl_error([&] { GenerateSegmentationDataset(r / "nope"); }, "root '" + (r / "nope").string() + "' does not exist");
}

// Images and masks side by side, told apart by a suffix (ISIC style); no split folders.
TEST(Generator, SegmentationSuffixAndSharedMask) {
    const fs::path r = fresh("gen_seg_suffix");
    gray_png(r / "ISIC_2.png", 1);
    gray_png(r / "ISIC_2_segmentation.png", 2);
    gray_png(r / "ISIC_1.png", 3);
    gray_png(r / "ISIC_1_segmentation.png", 4);
    gray_png(r / "ISIC_3.png", 5);  // no mask: skipped
    const Dataset ds = GenerateSegmentationDataset(r, "_segmentation.png");
    EXPECT_TRUE(ds.split_.empty());
    ASSERT_EQ(ds.samples_.size(), 2u);
    EXPECT_EQ(ds.samples_[0].location_[0], r / "ISIC_1.png");
    EXPECT_EQ(ds.samples_[0].label_path_, r / "ISIC_1_segmentation.png");
    EXPECT_EQ(ds.samples_[1].label_path_, r / "ISIC_2_segmentation.png");
    expect_ecvl_error([&] { GenerateSegmentationDataset(r); }, "no image in '" + r.string() + "' has a mask");

    // The suffix with images/ground_truth folders, in splits.
    const fs::path s = fresh("gen_seg_suffix_split");
    gray_png(s / "training/images/x.png", 1);
    gray_png(s / "training/ground_truth/x_mask.png", 2);
    gray_png(s / "training/ground_truth/x.png", 3);  // not the mask: the suffix decides
    const Dataset sd = GenerateSegmentationDataset(s, "_mask.png");
    ASSERT_EQ(sd.samples_.size(), 1u);
    EXPECT_EQ(sd.samples_[0].label_path_, s / "training/ground_truth/x_mask.png");

    // One folder per case, every image in it sharing the mask gt_name; then with splits.
    const fs::path c = fresh("gen_seg_cases");
    gray_png(c / "case2/scan.png", 1);
    gray_png(c / "case2/mask.png", 2);
    gray_png(c / "case1/t1.png", 3);
    gray_png(c / "case1/t2.png", 4);
    gray_png(c / "case1/mask.png", 5);
    const Dataset cd = GenerateSegmentationDataset(c, "", "mask.png");
    EXPECT_TRUE(cd.split_.empty());
    ASSERT_EQ(cd.samples_.size(), 3u);
    EXPECT_EQ(cd.samples_[0].location_[0], c / "case1/t1.png");
    EXPECT_EQ(cd.samples_[1].label_path_, c / "case1/mask.png");
    EXPECT_EQ(cd.samples_[2].label_path_, c / "case2/mask.png");
    const fs::path cs = fresh("gen_seg_cases_split");
    gray_png(cs / "training/p1/img.png", 1);
    gray_png(cs / "training/p1/gt.png", 2);
    gray_png(cs / "test/p9/img.png", 3);
    const Dataset csd = GenerateSegmentationDataset(cs, "", "gt.png");
    ASSERT_EQ(csd.split_.size(), 2u);
    EXPECT_EQ(csd.samples_[0].label_path_, cs / "training/p1/gt.png");
    EXPECT_TRUE(csd.split_[1].no_label_);
    csd.Dump(cs / "d.yml");
    EXPECT_TRUE(Dataset(cs / "d.yml", true) == csd);
}
