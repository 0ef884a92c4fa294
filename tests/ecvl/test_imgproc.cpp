// Image processing: every function against OpenCV called directly on the same pixels, in planar
// ("xyc", processed plane by plane) and interleaved ("cxy") layouts, several element types; and
// the errors for layouts and types that cannot be processed.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <opencv2/imgproc.hpp>
#include <opencv2/photo.hpp>

#include "ecvl/ecvl.h"
#include "ecvl/support_opencv.h"
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

TEST(ImgProc, RotateFullImage2DMatchesOpenCV) {
    // OpenCV with the matrix moved so the centre lands in the middle of the enlarged box
    auto full = [](double angle, double scale) {
        return [=](const cv::Mat& s, cv::Mat& d) {
            const int w = s.cols, h = s.rows;
            cv::Mat m = cv::getRotationMatrix2D(cv::Point2f((w - 1) / 2.0f, (h - 1) / 2.0f), angle, scale);
            const double rad = angle * CV_PI / 180, c = std::fabs(std::cos(rad)) * scale, sn = std::fabs(std::sin(rad)) * scale;
            const int nw = int(std::ceil(w * c + h * sn - 1e-9)), nh = int(std::ceil(w * sn + h * c - 1e-9));
            m.at<double>(0, 2) += (nw - w) / 2.0;
            m.at<double>(1, 2) += (nh - h) / 2.0;
            cv::warpAffine(s, d, m, cv::Size(nw, nh));
        };
    };
    same_as_opencv("RotateFullImage2D 30", [](const Image& s, Image& d) { RotateFullImage2D(s, d, 30.0); }, full(30.0, 1.0), 1);
    same_as_opencv("RotateFullImage2D -110 x0.7", [](const Image& s, Image& d) { RotateFullImage2D(s, d, -110.0, 0.7); },
                   full(-110.0, 0.7), 1);
    const Image img = picture(DataType::uint8);
    Image r;
    RotateFullImage2D(img, r, 30.0);
    EXPECT_EQ(r.dims_, (std::vector<int>{51, 46, 3}));  // 41 cos30 + 29 sin30 = 50.01; 41 sin30 + 29 cos30 = 45.6
    // a quarter turn is exact: the whole image, turned
    RotateFullImage2D(img, r, 90.0, 1.0, InterpolationType::nearest);
    ASSERT_EQ(r.dims_, (std::vector<int>{29, 41, 3}));
    cv::Mat want;
    cv::rotate(as_mat(img), want, cv::ROTATE_90_COUNTERCLOCKWISE);
    EXPECT_EQ(diff(r, want), 0.0);
    // in place; spacings scale with the content
    Image same = img;
    RotateFullImage2D(same, same, 45.0, 2.0);
    EXPECT_EQ(same.dims_[0], int(std::ceil(2 * (41 + 29) * std::sqrt(0.5))));
    EXPECT_FLOAT_EQ(same.spacings_[0], 0.25f);
    EXPECT_FLOAT_EQ(same.spacings_[1], 0.125f);
    expect_ecvl_error([&] { RotateFullImage2D(img, r, 10.0, 0.0); }, "scale must be > 0");
}

namespace {
// A volume whose values vary along x, y, z and c
Image volume(DataType t, int w, int h, int d, int nc) {
    Image v(nc ? std::vector<int>{w, h, d, nc} : std::vector<int>{w, h, d}, t, nc ? "xyzc" : "xyz", ColorType::none,
            nc ? std::vector<float>{1.0f, 2.0f, 3.0f, 1.0f} : std::vector<float>{1.0f, 2.0f, 3.0f});
    for (int c = 0; c < std::max(nc, 1); ++c)
        for (int z = 0; z < d; ++z)
            for (int y = 0; y < h; ++y)
                for (int x = 0; x < w; ++x) {
                    const double val = std::fmod(x * 17.0 + y * 5.0 + z * 31.0 + c * 60.0 + (x * z) % 13, 256.0);
                    uint8_t* p = v.Ptr(nc ? std::vector<int>{x, y, z, c} : std::vector<int>{x, y, z});
                    if (t == DataType::uint8) *p = uint8_t(val);
                    else *reinterpret_cast<float*>(p) = float(val / 255.0);
                }
    return v;
}

// Where output index i samples an axis of n inputs resized to m, by cv::resize's rules: nearest
// floor(i * n / m); linear the pixel centre (i + 0.5) * n / m - 0.5, clamped to the edges.
void sample(int i, int n, int m, bool linear, int& i0, int& i1, double& f) {
    const double s = double(n) / m;
    f = 0;
    if (!linear) {
        i0 = std::min(int(std::floor(i * s)), n - 1);
    } else {
        const double at = (i + 0.5) * s - 0.5;
        i0 = int(std::floor(at));
        f = at - i0;
        if (i0 < 0) i0 = 0, f = 0;
        if (i0 >= n - 1) i0 = n - 1, f = 0;
    }
    i1 = std::min(i0 + 1, n - 1);
}

// The plain trilinear (or nearest) resample of channel c, the reference for ResizeDim on volumes
double resampled(const Image& v, int c, int x, int y, int z, int W, int H, int D, bool linear) {
    int x0, x1, y0, y1, z0, z1;
    double fx, fy, fz;
    sample(x, v.dims_[0], W, linear, x0, x1, fx);
    sample(y, v.dims_[1], H, linear, y0, y1, fy);
    sample(z, v.dims_[2], D, linear, z0, z1, fz);
    auto at = [&](int i, int j, int k) {
        return v.dims_.size() == 4 ? v.Get({i, j, k, c}) : v.Get({i, j, k});
    };
    double r = 0;
    for (int k = 0; k < 2; ++k)
        for (int j = 0; j < 2; ++j)
            for (int i = 0; i < 2; ++i)
                r += (i ? fx : 1 - fx) * (j ? fy : 1 - fy) * (k ? fz : 1 - fz) * at(i ? x1 : x0, j ? y1 : y0, k ? z1 : z0);
    return r;
}

double worst_volume_diff(const Image& out, const Image& src, bool linear) {
    const int W = out.dims_[0], H = out.dims_[1], D = out.dims_[2], nc = out.dims_.size() == 4 ? out.dims_[3] : 1;
    double worst = 0;
    for (int c = 0; c < nc; ++c)
        for (int z = 0; z < D; ++z)
            for (int y = 0; y < H; ++y)
                for (int x = 0; x < W; ++x) {
                    double want = resampled(src, c, x, y, z, W, H, D, linear);
                    if (src.elemtype_ == DataType::uint8) want = std::nearbyint(want);
                    const double got = nc > 1 || out.dims_.size() == 4 ? out.Get({x, y, z, c}) : out.Get({x, y, z});
                    worst = std::max(worst, std::fabs(got - want));
                }
    return worst;
}
}  // namespace

TEST(ImgProc, ResizeVolumesAlongZ) {
    for (DataType t : {DataType::uint8, DataType::float32})
        for (int nc : {0, 2}) {
            SCOPED_TRACE(std::string(DataTypeName(t)) + (nc ? " xyzc" : " xyz"));
            const Image v = volume(t, 13, 11, 7, nc);
            const double tol = t == DataType::uint8 ? 1.0 : 1e-6;  // uint8: the rounding of values near .5
            Image out;
            ResizeDim(v, out, {20, 6, 12});
            EXPECT_EQ(out.dims_[2], 12);
            EXPECT_EQ(out.elemtype_, t);
            EXPECT_EQ(out.channels_, v.channels_);
            EXPECT_LE(worst_volume_diff(out, v, true), tol);
            ResizeDim(v, out, {9, 15, 4}, InterpolationType::nearest);
            EXPECT_EQ(worst_volume_diff(out, v, false), 0.0);
            ResizeScale(v, out, {1.0, 2.0, 0.5});
            EXPECT_EQ(out.dims_[0], 13);
            EXPECT_EQ(out.dims_[1], 22);
            EXPECT_EQ(out.dims_[2], 4);  // 3.5 rounded away from 0
            EXPECT_FLOAT_EQ(out.spacings_[1], 1.0f);
            EXPECT_FLOAT_EQ(out.spacings_[2], 3.0f * 7 / 4);
            EXPECT_LE(worst_volume_diff(out, v, true), tol);
        }
    // {width, height} on a volume keeps the depth: each slice as cv::resize makes it
    const Image v = volume(DataType::float32, 13, 11, 5, 0);
    Image out;
    ResizeDim(v, out, {7, 16}, InterpolationType::cubic);
    ASSERT_EQ(out.dims_, (std::vector<int>{7, 16, 5}));
    const cv::Mat slice(11, 13, CV_32F, const_cast<uint8_t*>(v.Ptr({0, 0, 3})));
    cv::Mat want;
    cv::resize(slice, want, cv::Size(7, 16), 0, 0, cv::INTER_CUBIC);
    double worst = 0;
    for (int y = 0; y < 16; ++y)
        for (int x = 0; x < 7; ++x) worst = std::max(worst, std::fabs(out.Get({x, y, 3}) - want.at<float>(y, x)));
    EXPECT_LE(worst, 1e-6);
    // in place
    Image same = v;
    ResizeDim(same, same, {13, 11, 10}, InterpolationType::nearest);
    EXPECT_EQ(same.Get({4, 5, 9}), v.Get({4, 5, 4}));
    expect_ecvl_error([&] { ResizeDim(v, out, {7, 16, 3}, InterpolationType::cubic); },
                      "along z only nearest and linear interpolation exist, got cubic");
    expect_ecvl_error([&] { ResizeDim(picture(DataType::uint8), out, {7, 16, 3}); }, "new_dims must be {width, height} > 0");
    expect_ecvl_error([&] { ResizeScale(v, out, {1.0, 0.0, 1.0}); }, "got {1, 0, 1} for \"xyz\"");
}

namespace {
// The one-channel uint8 image with the given value at each pixel
Image gray(int w, int h, const std::function<int(int, int)>& f) {
    Image g({w, h, 1}, DataType::uint8, "xyc", ColorType::GRAY);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) g.At<uint8_t>({x, y, 0}) = uint8_t(f(x, y));
    return g;
}

// Exhaustive multi-level Otsu: the first (lexicographically smallest) thresholds maximizing the
// sum over classes of S^2 / P, the between-class variance up to constants
std::vector<int> brute_force_otsu(const std::vector<int64_t>& hist, int n, double& best) {
    std::vector<int64_t> P(257, 0), S(257, 0);
    for (int i = 0; i < 256; ++i) {
        P[size_t(i) + 1] = P[size_t(i)] + hist[size_t(i)];
        S[size_t(i) + 1] = S[size_t(i)] + i * hist[size_t(i)];
    }
    auto term = [&](int u, int v) {
        const double p = double(P[size_t(v) + 1] - P[size_t(u)]), s = double(S[size_t(v) + 1] - S[size_t(u)]);
        return p > 0 ? s * s / p : 0.0;
    };
    std::vector<int> t(static_cast<size_t>(n)), found;
    best = -1;
    std::function<void(int, int, double)> search = [&](int k, int from, double acc) {
        if (k == n) {
            const double v = acc + term(from, 255);
            if (v > best) best = v, found = t;
            return;
        }
        for (int s = from; s <= 254 - (n - 1 - k); ++s) {
            t[size_t(k)] = s;
            search(k + 1, s + 1, acc + term(from, s));
        }
    };
    search(0, 0, 0.0);
    return found;
}
}  // namespace

TEST(ImgProc, MultiThresholdAndMultiLevelOtsu) {
    const Image img = picture(DataType::uint8);
    Image q;
    MultiThreshold(img, q, {50, 100, 200});
    for (int c = 0; c < 3; ++c)
        for (int y = 0; y < 29; y += 2)
            for (int x = 0; x < 41; x += 3) {
                const double v = img.Get({x, y, c});
                EXPECT_EQ(q.Get({x, y, c}), v <= 50 ? 0.0 : v <= 100 ? 85.0 : v <= 200 ? 170.0 : 255.0);
            }
    const Image f = picture(DataType::float32);  // values in [0, 1]: thresholds 0 and 1 split at the ends
    MultiThreshold(f, q, {0}, -3, 5);
    EXPECT_EQ(q.elemtype_, DataType::float32);
    EXPECT_EQ(q.Get({0, 0, 0}), f.Get({0, 0, 0}) > 0 ? 5.0 : -3.0);
    expect_ecvl_error([&] { MultiThreshold(img, q, {100, 100}); }, "thresholds must be strictly increasing, got {100, 100}");
    expect_ecvl_error([&] { MultiThreshold(img, q, {}); }, "no thresholds");

    // one threshold: OpenCV's Otsu, on a picture with every level and on a noisy two-population one
    const Image g1 = View(img, {0, 0, 2}, {-1, -1, 1}).Clone();
    const Image g2 = gray(64, 40, [](int x, int y) { return x < 25 ? 60 + (x * 7 + y * 3) % 41 : 150 + (x * y) % 60; });
    for (const Image* g : {&g1, &g2}) EXPECT_EQ(OtsuMultiThreshold(*g, 1), std::vector<int>{OtsuThreshold(*g)});
    // three levels with spread: the thresholds fall between them, as the exhaustive search finds
    const Image g3 = gray(90, 40, [](int x, int y) { return (x < 30 ? 40 : x < 60 ? 120 : 210) + (x * 3 + y * 7) % 21 - 10; });
    const std::vector<int> t = OtsuMultiThreshold(g3);
    ASSERT_EQ(t.size(), 2u);
    EXPECT_GE(t[0], 50);
    EXPECT_LT(t[0], 110);
    EXPECT_GE(t[1], 130);
    EXPECT_LT(t[1], 200);
    double best = 0;
    EXPECT_EQ(t, brute_force_otsu(CalcHist(g3), 2, best));
    MultiThreshold(g3, q, t);
    EXPECT_EQ(q.Get({5, 5, 0}), 0.0);
    EXPECT_EQ(q.Get({45, 5, 0}), 128.0);  // 127.5, rounded to even
    EXPECT_EQ(q.Get({85, 5, 0}), 255.0);
    // and on a histogram without plateaus, with three thresholds
    EXPECT_EQ(OtsuMultiThreshold(g1, 3), brute_force_otsu(CalcHist(g1), 3, best));
    EXPECT_EQ(OtsuMultiThreshold(g2, 2), brute_force_otsu(CalcHist(g2), 2, best));
    expect_ecvl_error([&] { OtsuMultiThreshold(img); }, "OtsuMultiThreshold: needs a one-channel uint8 image");
    expect_ecvl_error([&] { OtsuMultiThreshold(g1, 0); }, "n_thresholds must be in 1..255, got 0");
}

namespace {
// mean and (population) variance of a - b over all elements
void added(const Image& a, const Image& b, double& mean, double& var) {
    Image d;
    Sub(a, b, d, DataType::float64);
    std::vector<double> m, s;
    MeanStdDev(d, m, s);
    mean = 0, var = 0;
    for (size_t k = 0; k < m.size(); ++k) mean += m[k] / double(m.size()), var += s[k] * s[k] / double(m.size());
}

bool same_pixels(const Image& a, const Image& b) {
    Image d;
    Sub(a, b, d, DataType::float64);
    std::vector<double> m, s;
    MeanStdDev(d, m, s);
    for (size_t k = 0; k < m.size(); ++k)
        if (m[k] != 0 || s[k] != 0) return false;
    return true;
}

// fraction of the pixels of a 3-channel planar uint8 image whose channels all equal v, and of the elements
void fractions(const Image& img, double v, double& pixels, double& elements) {
    int64_t px = 0, el = 0;
    const int w = img.dims_[0], h = img.dims_[1];
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            int k = 0;
            for (int c = 0; c < 3; ++c) k += img.Get({x, y, c}) == v;
            px += k == 3;
            el += k;
        }
    pixels = double(px) / (w * h);
    elements = double(el) / (3.0 * w * h);
}
}  // namespace

TEST(ImgProc, AdditiveNoiseIsSeededWithTheRightStatistics) {
    const Image zero({256, 256}, DataType::float64, "xy", ColorType::none);
    Image a, b;
    double mean = 0, var = 0;
    AdditiveGaussianNoise(zero, a, 2.0, 7);
    added(a, zero, mean, var);
    EXPECT_NEAR(mean, 0.0, 0.03);  // 3 standard errors
    EXPECT_NEAR(var, 4.0, 0.12);
    AdditiveGaussianNoise(zero, b, 2.0, 7);
    EXPECT_TRUE(same_pixels(a, b));
    AdditiveGaussianNoise(zero, b, 2.0, 8);
    EXPECT_FALSE(same_pixels(a, b));
    AdditiveGaussianNoise(zero, a, 2.0);  // seeds from random_device
    AdditiveGaussianNoise(zero, b, 2.0);
    EXPECT_FALSE(same_pixels(a, b));

    AdditiveLaplaceNoise(zero, a, 2.0, 7);
    added(a, zero, mean, var);
    EXPECT_NEAR(mean, 0.0, 0.03);
    EXPECT_NEAR(var, 4.0, 0.2);
    double mean_abs = 0;  // sqrt(2) for Laplace with sd 2 (a Gaussian's would be 1.60)
    for (int y = 0; y < 256; ++y)
        for (int x = 0; x < 256; ++x) mean_abs += std::fabs(a.Get({x, y})) / 65536;
    EXPECT_NEAR(mean_abs, std::sqrt(2.0), 0.02);
    AdditiveLaplaceNoise(zero, b, 2.0, 7);
    EXPECT_TRUE(same_pixels(a, b));
    AdditiveLaplaceNoise(zero, b, 2.0, 9);
    EXPECT_FALSE(same_pixels(a, b));

    for (double lambda : {5.0, 40.0}) {  // by inversion, and by transformed rejection
        SCOPED_TRACE(lambda);
        AdditivePoissonNoise(zero, a, lambda, 11);
        added(a, zero, mean, var);
        EXPECT_NEAR(mean, lambda, 0.03 * lambda);
        EXPECT_NEAR(var, lambda, 0.05 * lambda);
        EXPECT_EQ(a.Get({3, 4}), std::floor(a.Get({3, 4})));
        AdditivePoissonNoise(zero, b, lambda, 11);
        EXPECT_TRUE(same_pixels(a, b));
        AdditivePoissonNoise(zero, b, lambda, 12);
        EXPECT_FALSE(same_pixels(a, b));
    }
    // integer types saturate and round; planar and interleaved copies get the same noise
    const Image img = picture(DataType::uint8);
    AdditiveGaussianNoise(img, a, 40.0, 3);
    double lo = 1e9, hi = -1e9;
    for (int y = 0; y < 29; ++y)
        for (int x = 0; x < 41; ++x) lo = std::min(lo, a.Get({x, y, 0})), hi = std::max(hi, a.Get({x, y, 0}));
    EXPECT_EQ(lo, 0.0);
    EXPECT_EQ(hi, 255.0);
    Image inter, noisy_inter, back;
    RearrangeChannels(img, inter, "cxy");
    AdditiveGaussianNoise(inter, noisy_inter, 40.0, 3);
    RearrangeChannels(noisy_inter, back, "xyc");
    EXPECT_TRUE(same_pixels(a, back));
    // in place
    Image same = img;
    AdditiveGaussianNoise(same, same, 40.0, 3);
    EXPECT_TRUE(same_pixels(a, same));
    expect_ecvl_error([&] { AdditiveGaussianNoise(img, a, -1.0, 1); }, "std_dev must be >= 0, got -1");
    expect_ecvl_error([&] { AdditivePoissonNoise(img, a, -2.0, 1); }, "lambda must be in [0, 1e9), got -2");
}

// A seed in per_channel's place does not compile (it would silently mean per_channel = true)
template <class I>
concept seed_as_per_channel = requires(const I& i, I& o) { Salt(i, o, 0.1, 42); };
template <class I>
concept seed_after_per_channel = requires(const I& i, I& o) { Salt(i, o, 0.1, false, 42); };
static_assert(!seed_as_per_channel<Image> && seed_after_per_channel<Image>);

TEST(ImgProc, SaltPepperAndCoarseDropout) {
    const Image img = picture(DataType::uint8, 200, 150);  // 30000 pixels
    Image out, again;
    double px = 0, el = 0;
    Salt(img, out, 0.1, false, 5);
    fractions(out, 255, px, el);
    EXPECT_NEAR(px, 0.1, 0.006);  // 3.5 standard errors
    Salt(img, again, 0.1, false, 5);
    EXPECT_TRUE(same_pixels(out, again));
    Salt(img, again, 0.1, false, 6);
    EXPECT_FALSE(same_pixels(out, again));
    Salt(img, out, 0.1, true, 5);  // channels apart: rarely all three
    fractions(out, 255, px, el);
    EXPECT_NEAR(el, 0.1, 0.006);
    EXPECT_LT(px, 0.004);
    Pepper(img, out, 0.2, false, 5);
    fractions(out, 0, px, el);
    EXPECT_NEAR(px, 0.2, 0.008);
    SaltAndPepper(img, out, 0.2, false, 5);
    double salt = 0, pepper = 0;
    fractions(out, 255, salt, el);
    fractions(out, 0, pepper, el);
    EXPECT_NEAR(salt, 0.1, 0.006);
    EXPECT_NEAR(pepper, 0.1, 0.006);
    // the same pixels in a planar and an interleaved copy; reals get salt 1
    Image inter, back;
    RearrangeChannels(img, inter, "cxy");
    SaltAndPepper(inter, again, 0.2, false, 5);
    RearrangeChannels(again, back, "xyc");
    EXPECT_TRUE(same_pixels(out, back));
    const Image f = picture(DataType::float32);
    Salt(f, out, 1.0, false, 1);
    EXPECT_EQ(out.Get({4, 4, 1}), 1.0);
    Salt(img, out, 0.1);  // seeds from random_device
    Salt(img, again, 0.1);
    EXPECT_FALSE(same_pixels(out, again));

    // dropout: 10 x 8-pixel cells (drop_size 0.1 of 100 x 80), each all dropped or all kept
    const Image ones = Image({100, 80, 3}, DataType::uint8, "xyc", ColorType::BGR) + 7.0;
    CoarseDropout(ones, out, 0.5, 0.1, false, 21);
    int dropped = 0;
    for (int cy = 0; cy < 10; ++cy)
        for (int cx = 0; cx < 10; ++cx) {
            const double v = out.Get({cx * 10, cy * 8, 0});
            dropped += v == 0;
            for (int c = 0; c < 3; ++c)
                for (int y = cy * 8; y < cy * 8 + 8; y += 7)
                    for (int x = cx * 10; x < cx * 10 + 10; x += 9) EXPECT_EQ(out.Get({x, y, c}), v);
        }
    EXPECT_GT(dropped, 30);
    EXPECT_LT(dropped, 70);
    CoarseDropout(ones, again, 0.5, 0.1, false, 21);
    EXPECT_TRUE(same_pixels(out, again));
    CoarseDropout(ones, again, 0.5, 0.1, true, 21);  // channels drawn apart
    int differ = 0;
    for (int cy = 0; cy < 10; ++cy)
        for (int cx = 0; cx < 10; ++cx) differ += again.Get({cx * 10, cy * 8, 0}) != again.Get({cx * 10, cy * 8, 2});
    EXPECT_GT(differ, 25);
    expect_ecvl_error([&] { Salt(img, out, 1.5, false, 1); }, "Salt: p must be in [0, 1], got 1.5");
    expect_ecvl_error([&] { CoarseDropout(img, out, 0.5, 0.0, false, 1); }, "drop_size must be in (0, 1], got 0");
    const Image yx({4, 5}, DataType::uint8, "yx", ColorType::none);
    expect_ecvl_error([&] { CoarseDropout(yx, out, 0.5, 0.5, false, 1); }, "needs x and y as the first axes besides c, got \"yx\"");
}

TEST(ImgProc, BrightnessAndContrast) {
    const Image img = picture(DataType::uint8);
    Image out;
    Brightness(img, out, 30);
    for (int x = 0; x < 41; x += 5) EXPECT_EQ(out.Get({x, 3, 1}), std::min(255.0, img.Get({x, 3, 1}) + 30));
    Brightness(img, out, -300);
    EXPECT_EQ(out.Get({7, 3, 1}), 0.0);
    Contrast(img, out, 2.0);  // about 127.5, rounded (to even at .5), saturated
    for (int x = 0; x < 41; x += 3) {
        const double v = img.Get({x, 5, 2});
        EXPECT_EQ(out.Get({x, 5, 2}), std::clamp(std::nearbyint(127.5 + 2 * (v - 127.5)), 0.0, 255.0)) << v;
    }
    Contrast(img, out, 0.0);
    EXPECT_EQ(out.Get({3, 3, 0}), 128.0);
    const Image f = picture(DataType::float32);
    Contrast(f, out, 0.5);  // about 0.5
    EXPECT_NEAR(out.Get({6, 2, 1}), 0.5 + 0.5 * (f.Get({6, 2, 1}) - 0.5), 1e-6);
    Image s16({3, 2}, DataType::int16, "xy", ColorType::none);
    s16.At<int16_t>({1, 1}) = -100;
    Contrast(s16, out, 3.0);  // about 0
    EXPECT_EQ(out.Get({1, 1}), -300.0);
    Image same = img;
    Brightness(same, same, 10);
    EXPECT_EQ(same.Get({1, 1, 1}), std::min(255.0, img.Get({1, 1, 1}) + 10));
    expect_ecvl_error([&] { Contrast(img, out, -1.0); }, "Contrast: alpha must be >= 0, got -1");
}

TEST(ImgProc, InpaintMatchesOpenCV) {
    const Image img = picture(DataType::uint8);
    Image mask({41, 29}, DataType::uint8, "xy", ColorType::none);
    for (int y = 10; y < 16; ++y)
        for (int x = 12; x < 20; ++x) mask.At<uint8_t>({x, y}) = 1;
    for (int x = 0; x < 41; ++x) mask.At<uint8_t>({x, 22}) = 200;  // a scratch across
    const cv::Mat mm = cv::Mat(29, 41, CV_8UC1, mask.data_) != 0;
    for (InpaintType type : {InpaintType::INPAINT_TELEA, InpaintType::INPAINT_NS}) {
        const int flag = type == InpaintType::INPAINT_TELEA ? cv::INPAINT_TELEA : cv::INPAINT_NS;
        cv::Mat want;
        cv::inpaint(as_mat(img), mm, want, 3, flag);
        Image inter, out;
        RearrangeChannels(img, inter, "cxy");
        for (const Image* src : {&img, static_cast<const Image*>(&inter)}) {
            Inpaint(*src, out, mask, 3, type);
            EXPECT_EQ(out.channels_, src->channels_);
            EXPECT_EQ(diff(out, want), 0.0) << src->channels_;
        }
        // one float channel, the mask as a one-channel float "xyc" image
        const Image g = View(picture(DataType::float32), {0, 0, 1}, {-1, -1, 1}).Clone();
        Image fmask;
        ConvertTo(mask, fmask, DataType::float32);
        cv::Mat gw;
        cv::inpaint(cv::Mat(29, 41, CV_32FC1, g.data_), mm, gw, 5, flag);
        Inpaint(g, out, fmask, 5, type);
        EXPECT_LE(diff(out, gw), 1e-6);
    }
    Image same = img, out;
    Inpaint(same, same, mask, 3);
    Inpaint(img, out, mask, 3);
    EXPECT_TRUE(diff(same, as_mat(out)) == 0.0);
    EXPECT_EQ(same.Get({15, 12, 0}), out.Get({15, 12, 0}));
    Image small({40, 29}, DataType::uint8, "xy", ColorType::none);
    expect_ecvl_error([&] { Inpaint(img, out, small, 3); }, "the mask is 40x29, the image 41x29");
    Image inter16;
    RearrangeChannels(picture(DataType::uint16), inter16, "cxy");
    expect_ecvl_error([&] { Inpaint(inter16, out, mask, 3); }, "uint16 \"cxy\" with 3 channels per pixel");
    expect_ecvl_error([&] { Inpaint(img, out, mask, 0); }, "radius must be > 0");
}

TEST(ImgProc, MomentsMatchOpenCV) {
    const Image g = View(picture(DataType::uint8), {0, 0, 0}, {-1, -1, 1}).Clone();
    const cv::Mat gm(29, 41, CV_8UC1, g.data_);
    const cv::Moments cm = cv::moments(gm);
    Image gf, gi;
    ConvertTo(g, gf, DataType::float32);
    RearrangeChannels(g, gi, "cxy");
    for (const Image* src : {&g, static_cast<const Image*>(&gf), static_cast<const Image*>(&gi)}) {
        SCOPED_TRACE(std::string(DataTypeName(src->elemtype_)) + " " + src->channels_);
        std::vector<double> m, mu;
        Moments(*src, m);
        ASSERT_EQ(m.size(), 16u);
        auto at = [](const std::vector<double>& v, int p, int q) { return v[size_t(p * 4 + q)]; };
        const double raw[][3] = {{0, 0, cm.m00}, {1, 0, cm.m10}, {0, 1, cm.m01}, {2, 0, cm.m20}, {1, 1, cm.m11},
                                 {0, 2, cm.m02}, {3, 0, cm.m30}, {2, 1, cm.m21}, {1, 2, cm.m12}, {0, 3, cm.m03}};
        for (const auto& r : raw) EXPECT_NEAR(at(m, int(r[0]), int(r[1])), r[2], 1e-12 * std::fabs(r[2])) << r[0] << r[1];
        EXPECT_EQ(at(m, 2, 2), 0.0);  // p + q > order
        CentralMoments(*src, mu);  // about the centroid
        const double central[][3] = {{2, 0, cm.mu20}, {1, 1, cm.mu11}, {0, 2, cm.mu02}, {3, 0, cm.mu30},
                                     {2, 1, cm.mu21}, {1, 2, cm.mu12}, {0, 3, cm.mu03}};
        for (const auto& r : central)
            EXPECT_NEAR(at(mu, int(r[0]), int(r[1])), r[2], 1e-9 * std::fabs(r[2]) + 1e-6) << r[0] << r[1];
        EXPECT_NEAR(at(mu, 1, 0), 0.0, 1e-6 * cm.m10);
        EXPECT_NEAR(at(mu, 0, 0), cm.m00, 1e-9);
    }
    // about the origin they are the raw moments; a higher order by hand
    std::vector<double> m, mu;
    Moments(g, m, 5);
    CentralMoments(g, mu, {0.0, 0.0}, 5);
    EXPECT_EQ(m, mu);
    double m41 = 0;
    for (int y = 0; y < 29; ++y)
        for (int x = 0; x < 41; ++x) m41 += std::pow(x, 4) * y * g.Get({x, y, 0});
    EXPECT_NEAR(m[4 * 6 + 1], m41, 1e-12 * m41);
    Moments(g, m, 1);
    EXPECT_EQ(m.size(), 4u);
    expect_ecvl_error([&] { Moments(picture(DataType::uint8), m); }, "Moments: needs a one-channel image");
    expect_ecvl_error([&] { Moments(g, m, -1); }, "order must be in 0..32, got -1");
    const Image black({4, 4}, DataType::float32, "xy", ColorType::none);
    expect_ecvl_error([&] { CentralMoments(black, mu); }, "no centroid");
}

TEST(ImgProc, ZeroCopyExchangeWithOpenCV) {
    // interleaved: the Mat is a header over the image's pixels
    Image inter({3, 40, 30}, DataType::uint8, "cxy", ColorType::BGR);
    cv::Mat m = ImageToMat(inter);
    EXPECT_EQ(m.data, inter.data_);
    EXPECT_EQ(m.rows, 30);
    EXPECT_EQ(m.cols, 40);
    EXPECT_EQ(m.channels(), 3);
    m.at<cv::Vec3b>(5, 7)[2] = 99;
    EXPECT_EQ(inter.At<uint8_t>({2, 7, 5}), 99);
    // planar: an interleaved copy
    const Image planar = picture(DataType::uint8);
    const cv::Mat pm = ImageToMat(planar);
    EXPECT_NE(pm.data, planar.data_);
    EXPECT_EQ(diff(planar, pm), 0);
    // Mat -> Image without copy; the image keeps the Mat's memory alive
    Image wrapped;
    const uchar* pixels;
    {
        cv::Mat f(12, 16, CV_32FC1, cv::Scalar(2.5f));
        pixels = f.data;
        wrapped = MatToImage(f);
    }
    EXPECT_EQ(wrapped.data_, pixels);
    EXPECT_EQ(wrapped.channels_, "xy");
    EXPECT_EQ(wrapped.elemtype_, DataType::float32);
    EXPECT_EQ(wrapped.Get({15, 11}), 2.5);
    expect_ecvl_error([] { ImageToMat(Image({4, 4}, DataType::int64, "xy", ColorType::none)); }, "int64");
}
