// Image processing: every function against OpenCV called directly on the same pixels, in planar
// ("xyc", processed plane by plane) and interleaved ("cxy") layouts, several element types; and
// the errors for layouts and types that cannot be processed.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <opencv2/imgproc.hpp>

#include "ecvl/ecvl.h"
#include "ecvl_test_util.h"

using namespace ecvl;
using ecvl_test::expect_ecvl_error;

namespace {

// 3-channel test picture, "xyc", of the given type (values spread over the type's range)
Image picture(DataType t, int w = 41, int h = 29, ColorType ct = ColorType::BGR) {
    Image img({w, h, 3}, t, "xyc", ct, {0.5f, 0.25f, 1.0f});
    for (int c = 0; c < 3; ++c)
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) {
                const double v = std::fmod(x * 13.0 + y * 7.0 + c * 71.0 + (x * y) % 17, 256.0);
                const uint8_t* p = img.Ptr({x, y, c});
                if (t == DataType::uint8) *const_cast<uint8_t*>(p) = uint8_t(v);
                else if (t == DataType::uint16) *reinterpret_cast<uint16_t*>(const_cast<uint8_t*>(p)) = uint16_t(v * 200);
                else *reinterpret_cast<float*>(const_cast<uint8_t*>(p)) = float(v / 255.0);
            }
    return img;
}

// The same pixels as an interleaved cv::Mat (a copy)
cv::Mat as_mat(const Image& img) {
    Image inter;
    RearrangeChannels(img, inter, "cxy");
    const int depth = img.elemtype_ == DataType::uint8 ? CV_8U : img.elemtype_ == DataType::uint16 ? CV_16U : CV_32F;
    return cv::Mat(inter.dims_[2], inter.dims_[1], CV_MAKETYPE(depth, inter.dims_[0]), inter.data_).clone();
}

// max |ecvl - opencv| over all pixels; ecvl image in any layout
double diff(const Image& e, const cv::Mat& m) {
    Image inter;
    RearrangeChannels(e, inter, "cxy");
    EXPECT_EQ(inter.dims_[1], m.cols);
    EXPECT_EQ(inter.dims_[2], m.rows);
    EXPECT_EQ(inter.dims_[0], m.channels());
    cv::Mat md;
    m.convertTo(md, CV_64F);
    double worst = 0;
    for (int y = 0; y < m.rows; ++y)
        for (int x = 0; x < m.cols; ++x)
            for (int c = 0; c < m.channels(); ++c)
                worst = std::max(worst, std::fabs(inter.Get({c, x, y}) - md.ptr<double>(y)[x * m.channels() + c]));
    return worst;
}

template <class E, class C>
void same_as_opencv(const std::string& what, E ecvl_op, C cv_op, double tol = 0) {
    for (DataType t : {DataType::uint8, DataType::uint16, DataType::float32}) {
        const Image planar = picture(t);
        Image inter;
        RearrangeChannels(planar, inter, "cxy");
        cv::Mat want;
        cv_op(as_mat(planar), want);
        for (const Image* src : {&planar, static_cast<const Image*>(&inter)}) {
            Image out;
            ecvl_op(*src, out);
            EXPECT_EQ(out.channels_, src->channels_) << what;
            EXPECT_EQ(out.elemtype_, t) << what;
            EXPECT_LE(diff(out, want), tol * (t == DataType::uint16 ? 200 : t == DataType::float32 ? 1.0 / 255 : 1))
                << what << " " << DataTypeName(t) << " " << src->channels_;
        }
    }
}

}  // namespace

TEST(ImgProc, GeometryMatchesOpenCV) {
    same_as_opencv("ResizeDim linear", [](const Image& s, Image& d) { ResizeDim(s, d, {23, 57}); },
                   [](const cv::Mat& s, cv::Mat& d) { cv::resize(s, d, cv::Size(23, 57), 0, 0, cv::INTER_LINEAR); }, 1);
    same_as_opencv("ResizeDim nearest", [](const Image& s, Image& d) { ResizeDim(s, d, {60, 20}, InterpolationType::nearest); },
                   [](const cv::Mat& s, cv::Mat& d) { cv::resize(s, d, cv::Size(60, 20), 0, 0, cv::INTER_NEAREST); });
    same_as_opencv("ResizeScale cubic", [](const Image& s, Image& d) { ResizeScale(s, d, {1.5, 0.5}, InterpolationType::cubic); },
                   [](const cv::Mat& s, cv::Mat& d) { cv::resize(s, d, cv::Size(62, 15), 0, 0, cv::INTER_CUBIC); }, 1);
    same_as_opencv("Flip2D", [](const Image& s, Image& d) { Flip2D(s, d); },
                   [](const cv::Mat& s, cv::Mat& d) { cv::flip(s, d, 0); });
    same_as_opencv("Mirror2D", [](const Image& s, Image& d) { Mirror2D(s, d); },
                   [](const cv::Mat& s, cv::Mat& d) { cv::flip(s, d, 1); });
    same_as_opencv("Rotate2D", [](const Image& s, Image& d) { Rotate2D(s, d, 30.0, {10.0, 12.0}, 1.2); },
                   [](const cv::Mat& s, cv::Mat& d) {
                       cv::warpAffine(s, d, cv::getRotationMatrix2D(cv::Point2f(10, 12), 30.0, 1.2), s.size());
                   }, 1);
    // spacings follow the size; the image can be its own destination
    Image img = picture(DataType::uint8);
    ResizeDim(img, img, {82, 58});
    EXPECT_EQ(img.dims_, (std::vector<int>{82, 58, 3}));
    EXPECT_FLOAT_EQ(img.spacings_[0], 0.25f);
    EXPECT_FLOAT_EQ(img.spacings_[1], 0.125f);
    // a view with rows at the parent's stride is processed in place of the parent's memory
    Image big = picture(DataType::uint8, 64, 48);
    Image v = View(big, {5, 7, 0}, {30, 20, -1});
    Image flipped;
    Flip2D(v, flipped);
    EXPECT_EQ(flipped.Get({3, 0, 1}), big.Get({8, 26, 1}));
}

TEST(ImgProc, FiltersAndThresholdsMatchOpenCV) {
    same_as_opencv("GaussianBlur 5x3", [](const Image& s, Image& d) { GaussianBlur(s, d, 5, 3, 1.2, 0.8); },
                   [](const cv::Mat& s, cv::Mat& d) { cv::GaussianBlur(s, d, cv::Size(5, 3), 1.2, 0.8, cv::BORDER_REFLECT_101); }, 1);
    same_as_opencv("GaussianBlur sigma", [](const Image& s, Image& d) { GaussianBlur(s, d, 2.0); },
                   [](const cv::Mat& s, cv::Mat& d) { cv::GaussianBlur(s, d, cv::Size(0, 0), 2.0, 2.0, cv::BORDER_REFLECT_101); }, 1);
    const Image img = picture(DataType::uint8);
    Image t;
    Threshold(img, t, 100, 255);
    for (int c = 0; c < 3; ++c)
        for (int y = 0; y < 29; y += 3)
            for (int x = 0; x < 41; x += 3) EXPECT_EQ(t.Get({x, y, c}), img.Get({x, y, c}) > 100 ? 255.0 : 0.0);
    Threshold(img, t, 100, 7, ThresholdingType::BINARY_INV);
    EXPECT_EQ(t.Get({0, 0, 0}), img.Get({0, 0, 0}) <= 100 ? 7.0 : 0.0);
    expect_ecvl_error([&] { GaussianBlur(img, t, 4, 3, 1.0); }, "kernel sizes must be odd");
}

TEST(ImgProc, ColourSpaces) {
    for (DataType dt : {DataType::uint8, DataType::float32}) {
        SCOPED_TRACE(DataTypeName(dt));
        const Image bgr = picture(dt);
        const cv::Mat m = as_mat(bgr);
        const double unit = dt == DataType::uint8 ? 1.0 : 1.0 / 255;
        Image out;
        cv::Mat want;
        ChangeColorSpace(bgr, out, ColorType::GRAY);
        cv::cvtColor(m, want, cv::COLOR_BGR2GRAY);
        EXPECT_EQ(out.colortype_, ColorType::GRAY);
        EXPECT_EQ(out.dims_, (std::vector<int>{41, 29, 1}));
        EXPECT_LE(diff(out, want), 0.5 * unit);
        ChangeColorSpace(bgr, out, ColorType::RGBA);
        EXPECT_EQ(out.dims_[2], 4);
        EXPECT_EQ(out.Get({3, 4, 0}), bgr.Get({3, 4, 2}));
        ChangeColorSpace(bgr, out, ColorType::HSV);
        cv::cvtColor(m, want, cv::COLOR_BGR2HSV_FULL);
        EXPECT_LE(diff(out, want), 0.5 * unit);
        // YCbCr: Y, Cb, Cr order (OpenCV's YCrCb has them swapped)
        ChangeColorSpace(bgr, out, ColorType::YCbCr);
        cv::cvtColor(m, want, cv::COLOR_BGR2YCrCb);
        std::vector<cv::Mat> ch;
        cv::split(want, ch);
        EXPECT_LE(diff(View(out, {0, 0, 1}, {-1, -1, 1}), ch[2]), 0.5 * unit);
        // round trips through every space come back close
        for (ColorType via : {ColorType::RGB, ColorType::HSV, ColorType::YCbCr, ColorType::RGBA}) {
            Image there, back;
            ChangeColorSpace(bgr, there, via);
            ChangeColorSpace(there, back, ColorType::BGR);
            EXPECT_LE(diff(back, m), (via == ColorType::HSV ? 6.0 : 2.0) * unit) << ColorTypeName(via);
        }
    }
    Image inter;
    RearrangeChannels(picture(DataType::uint8), inter, "cxy");
    Image gray;
    ChangeColorSpace(inter, gray, ColorType::GRAY);
    EXPECT_EQ(gray.channels_, "cxy");
    EXPECT_EQ(gray.dims_, (std::vector<int>{1, 41, 29}));
    Image plain({4, 4, 3}, DataType::uint8, "xyc", ColorType::none);
    expect_ecvl_error([&] { ChangeColorSpace(plain, gray, ColorType::GRAY); }, "both need a colour type");
    Image wide({4, 4, 3}, DataType::int16, "xyc", ColorType::BGR);
    expect_ecvl_error([&] { ChangeColorSpace(wide, gray, ColorType::GRAY); }, "int16 images (uint8 or float32 only)");
}

TEST(ImgProc, UnsupportedInputIsNamed) {
    Image vol({4, 4, 4}, DataType::uint8, "xyz", ColorType::none), out;
    expect_ecvl_error([&] { Flip2D(vol, out); }, "got \"xyz\"");
    Image i64({4, 4}, DataType::int64, "xy", ColorType::none);
    expect_ecvl_error([&] { Mirror2D(i64, out); }, "no int64 matrices");
    Image i8({8, 8}, DataType::int32, "xy", ColorType::none);
    expect_ecvl_error([&] { ResizeDim(i8, out, {4, 4}, InterpolationType::lanczos4); }, "ResizeDim");
    expect_ecvl_error([&] { ResizeDim(vol, out, {0, 4}); }, "new_dims must be {width, height} > 0");
    Image img = picture(DataType::uint8);
    Image xstrided = View(img, {0, 0, 0}, {-1, -1, -1});
    RearrangeChannels(img, xstrided, "cxy");
    Image rows = View(xstrided, {0, 2, 2}, {-1, 5, 5});  // whole pixels, rows at the parent's stride: fine
    Flip2D(rows, out);
    EXPECT_EQ(out.Get({2, 1, 0}), xstrided.Get({2, 2 + 1, 2 + 4}));  // row 0 of the flip is the view's last
    Image part = View(xstrided, {0, 2, 2}, {2, 5, 5});  // two of three channels: pixels not contiguous
    expect_ecvl_error([&] { Flip2D(part, out); }, "interleaved pixels must be contiguous");
}

TEST(ImgProc, FiltersAndMorphologyMatchOpenCV) {
    const cv::Mat k3 = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 5));
    same_as_opencv("Morphology erode", [](const Image& s, Image& d) { Morphology(s, d, MorphType::MORPH_ERODE, 3, 5); },
                   [&](const cv::Mat& s, cv::Mat& d) { cv::erode(s, d, k3); });
    same_as_opencv("Morphology gradient x2",
                   [](const Image& s, Image& d) { Morphology(s, d, MorphType::MORPH_GRADIENT, 3, 5, 2); },
                   [&](const cv::Mat& s, cv::Mat& d) { cv::morphologyEx(s, d, cv::MORPH_GRADIENT, k3, cv::Point(-1, -1), 2); });
    same_as_opencv("MedianBlur 5", [](const Image& s, Image& d) { MedianBlur(s, d, 5); },
                   [](const cv::Mat& s, cv::Mat& d) { cv::medianBlur(s, d, 5); });
    same_as_opencv("BoxBlur 3x7", [](const Image& s, Image& d) { BoxBlur(s, d, 3, 7); },
                   [](const cv::Mat& s, cv::Mat& d) { cv::blur(s, d, cv::Size(3, 7)); }, 1);
    Image kernel({3, 3}, DataType::float32, "xy", ColorType::none);
    const float kv[] = {0, -1, 0, -1, 5, -1, 0, -1, 0};  // sharpen
    std::memcpy(kernel.data_, kv, sizeof(kv));
    const cv::Mat km(3, 3, CV_32F, const_cast<float*>(kv));
    same_as_opencv("Filter2D sharpen", [&](const Image& s, Image& d) { Filter2D(s, d, kernel); },
                   [&](const cv::Mat& s, cv::Mat& d) { cv::filter2D(s, d, -1, km); }, 1);
    const std::vector<double> kx{0.25, 0.5, 0.25}, ky{-1, 0, 1};
    same_as_opencv("SeparableFilter2D", [&](const Image& s, Image& d) { SeparableFilter2D(s, d, kx, ky); },
                   [&](const cv::Mat& s, cv::Mat& d) { cv::sepFilter2D(s, d, -1, cv::Mat(kx).t(), cv::Mat(ky).t()); }, 1);
    same_as_opencv("Transpose", [](const Image& s, Image& d) { Transpose(s, d); },
                   [](const cv::Mat& s, cv::Mat& d) { cv::transpose(s, d); });
    // a structuring element as an image: a plus sign
    Image plus({3, 3}, DataType::uint8, "xy", ColorType::none);
    for (int i = 0; i < 3; ++i) plus.At<uint8_t>({1, i}) = plus.At<uint8_t>({i, 1}) = 1;
    const cv::Mat pk = cv::getStructuringElement(cv::MORPH_CROSS, cv::Size(3, 3));
    same_as_opencv("Morphology dilate cross", [&](const Image& s, Image& d) { Morphology(s, d, MorphType::MORPH_DILATE, plus); },
                   [&](const cv::Mat& s, cv::Mat& d) { cv::dilate(s, d, pk); });
    expect_ecvl_error([&] { MedianBlur(picture(DataType::float32), kernel, 7); }, "ksize 7 needs uint8");
    expect_ecvl_error([&] { Morphology(picture(DataType::uint8), kernel, MorphType::MORPH_OPEN, 4, 3); }, "must be odd");
}

TEST(ImgProc, OtsuCropConcat) {
    // two populations: Otsu's threshold lies between them, as OpenCV's
    Image g({64, 32, 1}, DataType::uint8, "xyc", ColorType::GRAY);
    for (int y = 0; y < 32; ++y)
        for (int x = 0; x < 64; ++x) g.At<uint8_t>({x, y, 0}) = uint8_t(x < 40 ? 50 + (x * y) % 20 : 180 + (x + y) % 30);
    const int t = OtsuThreshold(g);
    cv::Mat tmp;
    const cv::Mat gm(32, 64, CV_8UC1, g.data_);
    EXPECT_EQ(t, int(cv::threshold(gm, tmp, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU)));
    EXPECT_GE(t, 69);  // everything <= t is the dark class: 50..69
    EXPECT_LT(t, 180);
    expect_ecvl_error([&] { OtsuThreshold(picture(DataType::uint8)); }, "needs a one-channel uint8 image");
    const Image img = picture(DataType::uint16);
    Image c;
    CenterCrop(img, c, {11, 9});
    EXPECT_EQ(c.dims_, (std::vector<int>{11, 9, 3}));
    EXPECT_EQ(c.Get({0, 0, 1}), img.Get({15, 10, 1}));
    Image h, v;
    expect_ecvl_error([&] { HConcat({img, c}, h); }, "sizes differ along 'y'");
    const Image right = picture(DataType::uint16, 7, 29);
    HConcat({img, right}, h);
    EXPECT_EQ(h.dims_, (std::vector<int>{48, 29, 3}));
    EXPECT_EQ(h.Get({41 + 3, 5, 2}), right.Get({3, 5, 2}));
    EXPECT_EQ(h.Get({40, 5, 2}), img.Get({40, 5, 2}));
    VConcat({img, img}, v);
    EXPECT_EQ(v.dims_, (std::vector<int>{41, 58, 3}));
    EXPECT_EQ(v.Get({7, 29 + 4, 0}), img.Get({7, 4, 0}));
}

TEST(ImgProc, StatisticsHistogramsAndShapes) {
    const Image img = picture(DataType::uint8);
    std::vector<double> mean, sd;
    MeanStdDev(img, mean, sd);
    ASSERT_EQ(mean.size(), 3u);
    cv::Scalar cm, cs;
    cv::meanStdDev(as_mat(img), cm, cs);
    for (int k = 0; k < 3; ++k) {
        EXPECT_NEAR(mean[size_t(k)], cm[k], 1e-9);
        EXPECT_NEAR(sd[size_t(k)], cs[k], 1e-9);
    }
    Image n;
    Normalize(img, n, mean, sd);
    std::vector<double> m2, s2;
    MeanStdDev(n, m2, s2);
    for (int k = 0; k < 3; ++k) {
        EXPECT_NEAR(m2[size_t(k)], 0.0, 1e-5);
        EXPECT_NEAR(s2[size_t(k)], 1.0, 1e-5);
    }
    Image inter, ni;
    RearrangeChannels(img, inter, "cxy");
    Normalize(inter, ni, mean, sd);  // the same per channel in the interleaved layout
    EXPECT_NEAR(ni.Get({2, 5, 7}), n.Get({5, 7, 2}), 1e-6);
    Image st;
    ScaleTo(img, st, 10, 20);
    std::vector<double> lo(3), hi(3);
    double mn = 1e9, mx = -1e9;
    for (int k = 0; k < 3; ++k)
        for (int y = 0; y < 29; ++y)
            for (int x = 0; x < 41; ++x) {
                mn = std::min(mn, st.Get({x, y, k}));
                mx = std::max(mx, st.Get({x, y, k}));
            }
    EXPECT_EQ(mn, 10.0);
    EXPECT_EQ(mx, 20.0);
    // histogram and equalization of one channel
    const Image g = View(img, {0, 0, 1}, {-1, -1, 1}).Clone();
    const auto h = CalcHist(g);
    int64_t total = 0;
    for (auto c : h) total += c;
    EXPECT_EQ(total, 41 * 29);
    EXPECT_EQ(h[size_t(g.Get({3, 4, 0}))] > 0, true);
    Image eq;
    EqualizeHist(g, eq);
    cv::Mat want;
    const cv::Mat gm(29, 41, CV_8UC1, g.data_);
    cv::equalizeHist(gm, want);
    EXPECT_EQ(diff(eq, want), 0.0);
    Image integral;
    IntegralImage(g, integral);
    EXPECT_EQ(integral.dims_, (std::vector<int>{42, 30}));
    double sum = 0;
    for (int y = 0; y < 29; ++y)
        for (int x = 0; x < 41; ++x) sum += g.Get({x, y, 0});
    EXPECT_EQ(integral.Get({41, 29}), sum);
    Image gam;
    GammaContrast(g, gam, 0.5);
    EXPECT_EQ(gam.Get({3, 4, 0}), std::nearbyint(255 * std::sqrt(g.Get({3, 4, 0}) / 255)));
    Image padded;
    Pad(img, padded, {1, 2, 3, 4}, 9);
    EXPECT_EQ(padded.dims_, (std::vector<int>{48, 32, 3}));
    EXPECT_EQ(padded.Get({0, 0, 2}), 9.0);
    EXPECT_EQ(padded.Get({3, 1, 2}), img.Get({0, 0, 2}));
    EXPECT_EQ(padded.spacings_, img.spacings_);
    Image vol;
    expect_ecvl_error([&] { Stack({img, padded}, vol); }, "image 1 differs from image 0");
    Stack({img, st, img}, vol);
    EXPECT_EQ(vol.channels_, "xyzc");
    EXPECT_EQ(vol.dims_, (std::vector<int>{41, 29, 3, 3}));
    EXPECT_EQ(vol.Get({6, 5, 1, 2}), st.Get({6, 5, 2}));
    EXPECT_EQ(vol.Get({6, 5, 2, 0}), img.Get({6, 5, 0}));
    expect_ecvl_error([&] { CalcHist(img); }, "needs a one-channel uint8 image");
}
