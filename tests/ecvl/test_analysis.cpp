// Shape analysis written natively (labelling, contours, thinning): checked against OpenCV's own
// functions (labels equal up to renumbering, contours equal) and, for thinning, a plain per-pixel
// reference kept here; on random blob and noise images of awkward sizes, in every element type and
// layout, and with the errors for what cannot be analysed.
#include <gtest/gtest.h>

#include <map>
#include <opencv2/imgproc.hpp>
#include <set>

#include "binary_images.h"
#include "ecvl/ecvl.h"
#include "ecvl_test_util.h"

using namespace ecvl;
using ecvl_test::binary_image;
using ecvl_test::expect_ecvl_error;

namespace {

// A one-channel uint8 "xy" image holding the Mat's pixels.
Image to_image(const cv::Mat& m) {
    Image img({m.cols, m.rows}, DataType::uint8, "xy", ColorType::none);
    for (int y = 0; y < m.rows; ++y) std::memcpy(img.Ptr({0, y}), m.ptr(y), size_t(m.cols));
    return img;
}

int32_t label_at(const Image& labels, int x, int y) {
    const size_t xi = labels.channels_.find('x'), yi = labels.channels_.find('y');
    return *reinterpret_cast<const int32_t*>(labels.data_ + x * labels.strides_[xi] + y * labels.strides_[yi]);
}

// Our labels and OpenCV's describe the same partition: a bijection between label values, 0 <-> 0.
void expect_same_partition(const Image& ours, const cv::Mat& theirs, int n_ours, int n_theirs, const std::string& what) {
    ASSERT_EQ(n_ours, n_theirs) << what;
    std::vector<int> fwd(size_t(n_ours), -1), bwd(size_t(n_ours), -1);
    fwd[0] = bwd[0] = 0;
    for (int y = 0; y < theirs.rows; ++y)
        for (int x = 0; x < theirs.cols; ++x) {
            const int a = label_at(ours, x, y), b = theirs.at<int32_t>(y, x);
            ASSERT_TRUE(a >= 0 && a < n_ours) << what << " label " << a << " at " << x << "," << y;
            if (fwd[size_t(a)] < 0 && bwd[size_t(b)] < 0) fwd[size_t(a)] = b, bwd[size_t(b)] = a;
            ASSERT_EQ(fwd[size_t(a)], b) << what << " at " << x << "," << y;
        }
}

struct Case {
    int w, h;
    double density, blur;
};
// Sizes around the 64-pixel words and odd sizes (half blocks), densities from sparse to full.
const Case kCases[] = {{1, 1, 1, 0},     {1, 1, 0, 0},     {7, 1, .5, 0},    {1, 9, .5, 0},    {63, 17, .5, 0},
                       {64, 64, .3, 0},  {65, 33, .7, 0},  {127, 31, .5, 2}, {129, 65, .2, 3}, {200, 150, .5, 4},
                       {333, 211, .1, 0}, {257, 255, .9, 0}, {300, 301, .4, 1.5}, {64, 3, 1, 0}, {3, 64, 0, 0}};

}  // namespace

TEST(Labeling, MatchesOpenCVOnBlobsAndNoise) {
    uint32_t seed = 1;
    for (const Case& c : kCases)
        for (int conn : {4, 8}) {
            const cv::Mat bin = binary_image(c.w, c.h, c.density, c.blur, seed++);
            cv::Mat want;
            const int n_want = cv::connectedComponents(bin, want, conn, CV_32S);
            Image labels;
            const int n = ConnectedComponentsLabeling(to_image(bin), labels, conn);
            const std::string what = std::to_string(c.w) + "x" + std::to_string(c.h) + " d" + std::to_string(c.density) +
                                     " blur" + std::to_string(c.blur) + " conn" + std::to_string(conn);
            EXPECT_EQ(labels.elemtype_, DataType::int32);
            EXPECT_EQ(labels.dims_, (std::vector<int>{c.w, c.h}));
            expect_same_partition(labels, want, n, n_want, what);
            // Same numbering too: both scan in the same order.
            for (int y = 0; y < c.h; ++y)
                for (int x = 0; x < c.w; ++x) ASSERT_EQ(label_at(labels, x, y), want.at<int32_t>(y, x)) << what;
        }
}

TEST(Labeling, StatisticsMatchOpenCV) {
    uint32_t seed = 100;
    for (const Case& c : kCases)
        for (int conn : {4, 8}) {
            const cv::Mat bin = binary_image(c.w, c.h, c.density, c.blur, seed++);
            cv::Mat want, st, cen;
            const int n_want = cv::connectedComponentsWithStats(bin, want, st, cen, conn, CV_32S);
            Image labels;
            std::vector<ComponentStats> stats;
            const int n = ConnectedComponentsLabeling(to_image(bin), labels, stats, conn);
            ASSERT_EQ(n, n_want);
            ASSERT_EQ(stats.size(), size_t(n));
            for (int l = 0; l < n; ++l) {
                const std::string what = std::to_string(c.w) + "x" + std::to_string(c.h) + " label " + std::to_string(l);
                if (st.at<int>(l, cv::CC_STAT_AREA) == 0) {  // an image without background
                    EXPECT_EQ(stats[l].area, 0) << what;
                    continue;
                }
                EXPECT_EQ(stats[l].x, st.at<int>(l, cv::CC_STAT_LEFT)) << what;
                EXPECT_EQ(stats[l].y, st.at<int>(l, cv::CC_STAT_TOP)) << what;
                EXPECT_EQ(stats[l].width, st.at<int>(l, cv::CC_STAT_WIDTH)) << what;
                EXPECT_EQ(stats[l].height, st.at<int>(l, cv::CC_STAT_HEIGHT)) << what;
                EXPECT_EQ(stats[l].area, st.at<int>(l, cv::CC_STAT_AREA)) << what;
                EXPECT_NEAR(stats[l].cx, cen.at<double>(l, 0), 1e-9) << what;
                EXPECT_NEAR(stats[l].cy, cen.at<double>(l, 1), 1e-9) << what;
            }
        }
}

TEST(Labeling, EveryElementTypeAndLayout) {
    const cv::Mat bin = binary_image(77, 45, 0.45, 1.5, 7);
    cv::Mat want;
    const int n_want = cv::connectedComponents(bin, want, 8, CV_32S);
    const Image u8 = to_image(bin);
    for (DataType t : {DataType::int8, DataType::int16, DataType::int32, DataType::int64, DataType::float32,
                       DataType::float64, DataType::uint8, DataType::uint16}) {
        // foreground values that a careless "> 0" or truncating test would lose: -1 and 0.25
        Image img({77, 45}, t, "xy", ColorType::none);
        const bool is_signed = t == DataType::int8 || t == DataType::int16 || t == DataType::int32 || t == DataType::int64;
        const bool is_real = t == DataType::float32 || t == DataType::float64;
        for (int y = 0; y < 45; ++y)
            for (int x = 0; x < 77; ++x) {
                const double v = bin.at<uint8_t>(y, x) ? (is_signed ? -1 : is_real ? 0.25 : 1) : 0;
                Image one({1, 1}, DataType::float64, "xy", ColorType::none);
                one.At<double>({0, 0}) = v;
                one.ConvertTo(t, false);
                std::memcpy(img.Ptr({x, y}), one.data_, img.elemsize_);
            }
        Image labels;
        expect_same_partition(labels, want, ConnectedComponentsLabeling(img, labels), n_want, DataTypeName(t));
    }
    // Layouts: one-channel "xyc" and "cxy", and a strided view (every other column).
    Image xyc({77, 45, 1}, DataType::uint8, "xyc", ColorType::GRAY), cxy({1, 77, 45}, DataType::uint8, "cxy", ColorType::GRAY);
    for (int y = 0; y < 45; ++y)
        for (int x = 0; x < 77; ++x) xyc.At<uint8_t>({x, y, 0}) = cxy.At<uint8_t>({0, x, y}) = bin.at<uint8_t>(y, x);
    for (const Image* img : {&xyc, &cxy}) {
        Image labels;
        expect_same_partition(labels, want, ConnectedComponentsLabeling(*img, labels), n_want, img->channels_);
        EXPECT_EQ(labels.channels_, img->channels_);
        EXPECT_EQ(labels.colortype_, ColorType::none);
    }
    Image wide({154, 45}, DataType::uint8, "xy", ColorType::none);
    for (int y = 0; y < 45; ++y)
        for (int x = 0; x < 77; ++x) wide.At<uint8_t>({2 * x, y}) = bin.at<uint8_t>(y, x);
    Image strided = View(wide, {0, 0}, {-1, -1});
    strided.dims_[0] = 77;
    strided.strides_[0] = 2;
    strided.contiguous_ = false;
    Image labels;
    expect_same_partition(labels, want, ConnectedComponentsLabeling(strided, labels), n_want, "strided view");
    // In place: the source becomes its labels.
    Image same = u8;
    ConnectedComponentsLabeling(same, same);
    expect_same_partition(same, want, n_want, n_want, "in place");
}

TEST(Labeling, ErrorsNameTheProblem) {
    Image rgb({8, 8, 3}, DataType::uint8, "xyc", ColorType::RGB), labels;
    expect_ecvl_error([&] { ConnectedComponentsLabeling(rgb, labels); }, "axis 'c' of \"xyc\" has size 3");
    Image gray({8, 8}, DataType::uint8, "xy", ColorType::none);
    expect_ecvl_error([&] { ConnectedComponentsLabeling(gray, labels, 6); }, "connectivity must be 4 or 8, got 6");
    expect_ecvl_error([&] { ConnectedComponentsLabeling(Image(), labels); }, "empty");
    Image vol({4, 4, 3}, DataType::uint8, "xyz", ColorType::none);
    expect_ecvl_error([&] { ConnectedComponentsLabeling(vol, labels); }, "axis 'z'");
}

namespace {

// Nested rings, so that the contour tree is several levels deep, plus specks and a thin line.
cv::Mat rings(int w, int h) {
    cv::Mat m = cv::Mat::zeros(h, w, CV_8U);
    for (int r = std::min(w, h) / 2 - 2, k = 0; r > 2; r -= 4, ++k)
        cv::circle(m, cv::Point(w / 2, h / 2), r, cv::Scalar(k % 2 ? 0 : 255), cv::FILLED);
    m.at<uint8_t>(0, 0) = m.at<uint8_t>(h - 1, w - 1) = 255;  // on the image's edge
    cv::line(m, cv::Point(1, h - 3), cv::Point(w - 2, 3), cv::Scalar(255));
    return m;
}

using Contours = std::vector<std::vector<Point2i>>;

// Contour i of each side, matched by their point sequences (the two order their lists differently).
void expect_same_contours(const Contours& ours, const std::vector<ContourHierarchy>& oh,
                          const std::vector<std::vector<cv::Point>>& theirs, const std::vector<cv::Vec4i>& th,
                          const std::string& what) {
    ASSERT_EQ(ours.size(), theirs.size()) << what;
    std::map<std::vector<std::pair<int, int>>, int> index_of_theirs;
    for (size_t i = 0; i < theirs.size(); ++i) {
        std::vector<std::pair<int, int>> key;
        for (const cv::Point& p : theirs[i]) key.emplace_back(p.x, p.y);
        index_of_theirs[key] = int(i);
    }
    std::vector<int> to_theirs(ours.size());
    for (size_t i = 0; i < ours.size(); ++i) {
        std::vector<std::pair<int, int>> key;
        for (const Point2i& p : ours[i]) key.emplace_back(p.x, p.y);
        const auto it = index_of_theirs.find(key);
        ASSERT_NE(it, index_of_theirs.end()) << what << ": our contour " << i << " (from " << ours[i][0].x << ","
                                             << ours[i][0].y << ", " << ours[i].size() << " points) is not OpenCV's";
        to_theirs[i] = it->second;
    }
    if (oh.empty()) return;
    ASSERT_EQ(oh.size(), ours.size());
    for (size_t i = 0; i < ours.size(); ++i) {
        const cv::Vec4i& t = th[size_t(to_theirs[i])];
        EXPECT_EQ(oh[i].parent < 0 ? -1 : to_theirs[size_t(oh[i].parent)], t[3]) << what << " parent of " << i;
        // The same children (OpenCV lists siblings in reverse order of discovery).
        std::set<int> ours_children, their_children;
        for (int c = oh[i].first_child; c >= 0; c = oh[size_t(c)].next) ours_children.insert(to_theirs[size_t(c)]);
        for (int c = t[2]; c >= 0; c = th[size_t(c)][0]) their_children.insert(c);
        EXPECT_EQ(ours_children, their_children) << what << " children of " << i;
        if (oh[i].next >= 0) EXPECT_EQ(oh[size_t(oh[i].next)].previous, int(i));
    }
}

}  // namespace

TEST(Contours, MatchOpenCVWithHierarchy) {
    std::vector<std::pair<std::string, cv::Mat>> inputs = {{"rings", rings(97, 83)}, {"rings wide", rings(300, 41)}};
    uint32_t seed = 500;
    for (const Case& c : kCases) inputs.push_back({std::to_string(c.w) + "x" + std::to_string(c.h) + " d" + std::to_string(c.density),
                                                   binary_image(c.w, c.h, c.density, c.blur, seed++)});
    for (const auto& [what, bin] : inputs) {
        std::vector<std::vector<cv::Point>> cs;
        std::vector<cv::Vec4i> hier;
        cv::findContours(bin, cs, hier, cv::RETR_TREE, cv::CHAIN_APPROX_NONE);
        Contours ours;
        std::vector<ContourHierarchy> oh;
        FindContours(to_image(bin), ours, oh);
        expect_same_contours(ours, oh, cs, hier, what);
        Contours flat;
        FindContours(to_image(bin), flat);
        EXPECT_EQ(flat.size(), ours.size());
        for (size_t i = 0; i < flat.size() && i < ours.size(); ++i) EXPECT_TRUE(flat[i] == ours[i]) << what;
    }
}

TEST(Contours, TypesLayoutsAndErrors) {
    const cv::Mat bin = rings(60, 50);
    std::vector<std::vector<cv::Point>> cs;
    std::vector<cv::Vec4i> hier;
    cv::findContours(bin, cs, hier, cv::RETR_TREE, cv::CHAIN_APPROX_NONE);
    for (DataType t : {DataType::float32, DataType::int16, DataType::uint16}) {
        Image img;
        ConvertTo(to_image(bin), img, t);
        Image cxy;
        RearrangeChannels(Image({60, 50, 1}, t, "xyc", ColorType::none), cxy, "cxy");
        for (int y = 0; y < 50; ++y)
            for (int x = 0; x < 60; ++x) std::memcpy(cxy.Ptr({0, x, y}), img.Ptr({x, y}), img.elemsize_);
        for (const Image* im : {&img, &cxy}) {
            Contours ours;
            std::vector<ContourHierarchy> oh;
            FindContours(*im, ours, oh);
            expect_same_contours(ours, oh, cs, hier, std::string(DataTypeName(t)) + " " + im->channels_);
        }
    }
    Contours none;
    FindContours(Image({5, 4}, DataType::uint8, "xy", ColorType::none), none);
    EXPECT_TRUE(none.empty());
    Image full({5, 4}, DataType::uint8, "xy", ColorType::none);
    full.SetTo(1);
    FindContours(full, none);
    ASSERT_EQ(none.size(), 1u);
    EXPECT_EQ(none[0].size(), 14u);  // the image's edge, once round
    Image rgb({8, 8, 3}, DataType::uint8, "xyc", ColorType::RGB);
    expect_ecvl_error([&] { FindContours(rgb, none); }, "FindContours: needs a one-channel 2-D image");
}

namespace {

// Plain textbook thinning, kept here as the reference: every interior pixel examined with the
// papers' formulas in every sub-iteration, until an iteration changes nothing.
cv::Mat reference_thinning(const cv::Mat& src, bool guo_hall) {
    cv::Mat img = src >= 128;
    img /= 255;
    for (bool changed = true; changed;) {
        changed = false;
        for (int it = 0; it < 2; ++it) {
            cv::Mat marker = cv::Mat::zeros(img.size(), CV_8U);
            for (int i = 1; i < img.rows - 1; ++i)
                for (int j = 1; j < img.cols - 1; ++j) {
                    if (!img.at<uint8_t>(i, j)) continue;
                    const int p2 = img.at<uint8_t>(i - 1, j), p3 = img.at<uint8_t>(i - 1, j + 1), p4 = img.at<uint8_t>(i, j + 1),
                              p5 = img.at<uint8_t>(i + 1, j + 1), p6 = img.at<uint8_t>(i + 1, j), p7 = img.at<uint8_t>(i + 1, j - 1),
                              p8 = img.at<uint8_t>(i, j - 1), p9 = img.at<uint8_t>(i - 1, j - 1);
                    bool del;
                    if (!guo_hall) {
                        const int a = (!p2 && p3) + (!p3 && p4) + (!p4 && p5) + (!p5 && p6) + (!p6 && p7) + (!p7 && p8) +
                                      (!p8 && p9) + (!p9 && p2);
                        const int b = p2 + p3 + p4 + p5 + p6 + p7 + p8 + p9;
                        const int m1 = it == 0 ? p2 * p4 * p6 : p2 * p4 * p8, m2 = it == 0 ? p4 * p6 * p8 : p2 * p6 * p8;
                        del = a == 1 && b >= 2 && b <= 6 && m1 == 0 && m2 == 0;
                    } else {
                        const int c = (!p2 & (p3 | p4)) + (!p4 & (p5 | p6)) + (!p6 & (p7 | p8)) + (!p8 & (p9 | p2));
                        const int n1 = (p9 | p2) + (p3 | p4) + (p5 | p6) + (p7 | p8), n2 = (p2 | p3) + (p4 | p5) + (p6 | p7) + (p8 | p9);
                        const int n = std::min(n1, n2);
                        const int m = it == 0 ? ((p6 | p7 | !p9) & p8) : ((p2 | p3 | !p5) & p4);
                        del = c == 1 && n >= 2 && n <= 3 && m == 0;
                    }
                    if (del) marker.at<uint8_t>(i, j) = 1, changed = true;
                }
            img &= ~marker;
        }
    }
    return img * 255;
}

}  // namespace

TEST(Skeletonization, EqualsTheTextbookIterations) {
    std::vector<std::pair<std::string, cv::Mat>> inputs = {{"rings", rings(97, 83)}};
    cv::Mat shapes = cv::Mat::zeros(120, 160, CV_8U);
    cv::rectangle(shapes, cv::Rect(10, 10, 60, 40), cv::Scalar(255), cv::FILLED);
    cv::ellipse(shapes, cv::Point(110, 70), cv::Size(40, 25), 30, 0, 360, cv::Scalar(200), cv::FILLED);  // >= 128: foreground
    cv::putText(shapes, "ECVL", cv::Point(5, 110), cv::FONT_HERSHEY_SIMPLEX, 1.5, cv::Scalar(255), 7);
    cv::rectangle(shapes, cv::Rect(0, 0, 160, 5), cv::Scalar(255), cv::FILLED);  // touching the edge
    cv::circle(shapes, cv::Point(40, 80), 12, cv::Scalar(100), cv::FILLED);       // < 128: background
    inputs.push_back({"shapes", shapes});
    uint32_t seed = 900;
    for (const Case& c : kCases) inputs.push_back({std::to_string(c.w) + "x" + std::to_string(c.h) + " d" + std::to_string(c.density),
                                                   binary_image(c.w, c.h, c.density, c.blur, seed++)});
    for (const auto& [what, bin] : inputs)
        for (ThinningType t : {ThinningType::ZHANGSUEN, ThinningType::GUOHALL}) {
            const bool gh = t == ThinningType::GUOHALL;
            const cv::Mat want = reference_thinning(bin, gh);
            Image out;
            Skeletonization(to_image(bin), out, t);
            ASSERT_EQ(out.elemtype_, DataType::uint8);
            int wrong = 0;
            for (int y = 0; y < bin.rows; ++y)
                for (int x = 0; x < bin.cols; ++x) wrong += out.At<uint8_t>({x, y}) != want.at<uint8_t>(y, x);
            EXPECT_EQ(wrong, 0) << what << (gh ? " Guo-Hall" : " Zhang-Suen");
            if (what == "shapes") EXPECT_LT(cv::countNonZero(want), cv::countNonZero(bin) / 5) << "thinning removed little";
        }
    // Interleaved one-channel input, and in place.
    Image cxy({1, 97, 83}, DataType::uint8, "cxy", ColorType::GRAY);
    const cv::Mat r = rings(97, 83);
    for (int y = 0; y < 83; ++y)
        for (int x = 0; x < 97; ++x) cxy.At<uint8_t>({0, x, y}) = r.at<uint8_t>(y, x);
    Skeletonization(cxy, cxy);
    const cv::Mat want = reference_thinning(r, false);
    EXPECT_EQ(cxy.channels_, "cxy");
    for (int y = 0; y < 83; ++y)
        for (int x = 0; x < 97; ++x) ASSERT_EQ(cxy.At<uint8_t>({0, x, y}), want.at<uint8_t>(y, x));
    Image f32({8, 8}, DataType::float32, "xy", ColorType::none), out;
    expect_ecvl_error([&] { Skeletonization(f32, out); }, "needs a uint8 image, got float32");
}
