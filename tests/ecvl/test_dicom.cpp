// DICOM: round trips (grey 8/16-bit signed and unsigned, RGB, multi-frame), files made by DCMTK's
// own img2dcm (uncompressed and JPEG-compressed), series folders assembled by slice position with
// rescale applied, and bad input named in errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "ecvl/ecvl.h"
#include "ecvl_test_util.h"

using namespace ecvl;
using ecvl_test::expect_ecvl_error;
namespace fs = std::filesystem;

namespace {

std::string dir() {
    static const std::string d = ecvl_test::scratch_dir("ecvl_dicom");
    return d;
}
std::string path(const std::string& name) { return dir() + "/" + name; }

Image slice(int w, int h, DataType t, int seed) {
    Image img({w, h, 1}, t, "xyc", ColorType::GRAY, {0.7f, 0.6f, 1.0f});
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const int v = (x * 37 + y * 11 + seed * 101) % 400 - (t == DataType::int16 ? 200 : 0);
            if (t == DataType::int16) img.At<int16_t>({x, y, 0}) = int16_t(v * 7);
            else if (t == DataType::uint16) img.At<uint16_t>({x, y, 0}) = uint16_t(v * 150);
            else img.At<uint8_t>({x, y, 0}) = uint8_t(v % 256);
        }
    return img;
}

double max_abs_diff(const Image& a, const Image& b) {
    EXPECT_EQ(a.Elements(), b.Elements());
    double m = 0;
    for (int c = 0; c < a.dims_.back(); ++c)
        for (int y = 0; y < a.dims_[1]; ++y)
            for (int x = 0; x < a.dims_[0]; ++x)
                m = std::max(m, std::fabs(a.Get({x, y, c}) - b.Get({x, y, c})));
    return m;
}

bool have_img2dcm() { return std::system("command -v img2dcm > /dev/null 2>&1") == 0; }

}  // namespace

TEST(Dicom, RoundTrips) {
    for (DataType t : {DataType::uint8, DataType::uint16, DataType::int16}) {
        SCOPED_TRACE(DataTypeName(t));
        Image img = slice(13, 9, t, 1);
        img.SetMeta("PatientID", std::string("anon-42"));
        img.SetMeta("Modality", std::string("CT"));
        img.SetMeta("WindowCenter", 40.0);
        img.SetMeta("WindowWidth", 400.0);
        DicomWrite(path("s.dcm"), img);
        Image back;
        DicomRead(path("s.dcm"), back);
        EXPECT_EQ(back.channels_, "xyc");
        EXPECT_EQ(back.colortype_, ColorType::GRAY);
        EXPECT_EQ(back.elemtype_, t);
        EXPECT_EQ(max_abs_diff(back, img), 0.0);
        EXPECT_NEAR(back.spacings_[0], 0.7f, 1e-6);
        EXPECT_NEAR(back.spacings_[1], 0.6f, 1e-6);
        EXPECT_EQ(std::get<std::string>(back.GetMeta("PatientID")), "anon-42");
        EXPECT_EQ(std::get<std::string>(back.GetMeta("Modality")), "CT");
        EXPECT_EQ(std::get<double>(back.GetMeta("WindowWidth")), 400.0);
        EXPECT_FALSE(std::get<std::string>(back.GetMeta("SeriesInstanceUID")).empty());
    }
    // RGB (and BGR, reordered to DICOM's RGB)
    Image rgb({6, 4, 3}, DataType::uint8, "xyc", ColorType::RGB);
    for (size_t i = 0; i < rgb.Elements(); ++i) rgb.data_[i] = uint8_t(i * 5);
    DicomWrite(path("rgb.dcm"), rgb);
    Image back;
    DicomRead(path("rgb.dcm"), back);
    EXPECT_EQ(back.colortype_, ColorType::RGB);
    EXPECT_EQ(max_abs_diff(back, rgb), 0.0);
    Image bgr = rgb;
    bgr.colortype_ = ColorType::BGR;
    DicomWrite(path("bgr.dcm"), bgr);
    DicomRead(path("bgr.dcm"), back);
    EXPECT_EQ(back.Get({2, 1, 0}), bgr.Get({2, 1, 2}));
    // multi-frame int16 volume
    Image vol({5, 4, 3, 1}, DataType::int16, "xyzc", ColorType::GRAY, {0.5f, 0.5f, 2.0f, 1.0f});
    for (size_t i = 0; i < vol.Elements(); ++i) reinterpret_cast<int16_t*>(vol.data_)[i] = int16_t(int(i) * 97 - 1000);
    DicomWrite(path("multi.dcm"), vol);
    DicomRead(path("multi.dcm"), back);
    EXPECT_EQ(back.channels_, "xyzc");
    EXPECT_EQ(back.dims_, vol.dims_);
    EXPECT_EQ(std::memcmp(back.data_, vol.data_, vol.datasize_), 0);
    EXPECT_NEAR(back.spacings_[2], 2.0f, 1e-6);
}

TEST(Dicom, FilesMadeByDcmtkImg2dcm) {
    if (!have_img2dcm()) GTEST_SKIP() << "img2dcm (Debian package dcmtk) is not installed";
    Image gray = slice(31, 17, DataType::uint8, 3), color({31, 17, 3}, DataType::uint8, "xyc", ColorType::BGR);
    for (size_t i = 0; i < color.Elements(); ++i) color.data_[i] = uint8_t((i * 7) % 251);
    ImWrite(path("g.bmp"), gray);
    ImWrite(path("c.bmp"), color);
    Image smooth({32, 24, 3}, DataType::uint8, "xyc", ColorType::BGR);
    for (int k = 0; k < 3; ++k)
        for (int y = 0; y < 24; ++y)
            for (int x = 0; x < 32; ++x) smooth.At<uint8_t>({x, y, k}) = uint8_t(40 + 4 * x + 3 * y + 30 * k);
    ImWrite(path("s.jpg"), smooth);
    for (const char* cmd : {"img2dcm -i BMP %s/g.bmp %s/g.dcm", "img2dcm -i BMP %s/c.bmp %s/c.dcm",
                            "img2dcm -i JPEG %s/s.jpg %s/s.dcm"}) {
        char buf[1024];
        std::snprintf(buf, sizeof(buf), cmd, dir().c_str(), dir().c_str());
        ASSERT_EQ(std::system(buf), 0) << buf;
    }
    Image back;
    DicomRead(path("g.dcm"), back);
    EXPECT_EQ(back.colortype_, ColorType::GRAY);
    EXPECT_EQ(max_abs_diff(back, gray), 0.0);
    DicomRead(path("c.dcm"), back);  // RGB in DICOM: our BGR image's channels reversed
    EXPECT_EQ(back.colortype_, ColorType::RGB);
    EXPECT_EQ(back.Get({4, 3, 0}), color.Get({4, 3, 2}));
    EXPECT_EQ(back.Get({4, 3, 2}), color.Get({4, 3, 0}));
    // JPEG-compressed (encapsulated) pixel data: decoded by DCMTK; equal to OpenCV's decoding up
    // to the decoders' rounding
    DicomRead(path("s.dcm"), back);
    Image viaCv, rgb;
    ImRead(path("s.jpg"), viaCv);
    ASSERT_EQ(back.dims_, viaCv.dims_);
    double worst = 0;
    for (int y = 0; y < 24; ++y)
        for (int x = 0; x < 32; ++x)
            for (int k = 0; k < 3; ++k) worst = std::max(worst, std::fabs(back.Get({x, y, k}) - viaCv.Get({x, y, 2 - k})));
    EXPECT_LE(worst, 3.0) << "photometric " << std::get<std::string>(back.GetMeta("PhotometricInterpretation"));
}

TEST(Dicom, SeriesFolderBecomesAVolume) {
    const std::string folder = path("series");
    fs::create_directories(folder);
    // 6 slices written in a shuffled order, positions 2.5 mm apart along z, CT rescale
    const int order[] = {3, 0, 5, 1, 4, 2};
    for (int i = 0; i < 6; ++i) {
        const int k = order[i];
        Image s = slice(8, 7, DataType::int16, k);
        s.SetMeta("SeriesInstanceUID", std::string("1.2.826.0.1.3680043.2.1125.1.42"));
        s.SetMeta("StudyInstanceUID", std::string("1.2.826.0.1.3680043.2.1125.1.41"));
        s.SetMeta("ImagePositionPatient", "-100\\-80\\" + std::to_string(10.0 + 2.5 * k));
        s.SetMeta("ImageOrientationPatient", std::string("1\\0\\0\\0\\1\\0"));
        s.SetMeta("InstanceNumber", int64_t(100 - k));  // deliberately not the slice order
        s.SetMeta("RescaleSlope", 1.0);
        s.SetMeta("RescaleIntercept", -1024.0);
        DicomWrite(folder + "/img" + std::to_string(i) + ".dcm", s);
    }
    {
        std::ofstream(folder + "/README.txt") << "not a DICOM file";
    }
    Image vol;
    DicomReadSeries(folder, vol);
    EXPECT_EQ(vol.channels_, "xyzc");
    EXPECT_EQ(vol.dims_, (std::vector<int>{8, 7, 6, 1}));
    EXPECT_EQ(vol.elemtype_, DataType::float32);  // rescale applied
    EXPECT_NEAR(vol.spacings_[2], 2.5f, 1e-5);
    for (int k = 0; k < 6; ++k) {
        const Image s = slice(8, 7, DataType::int16, k);
        EXPECT_EQ(vol.Get({5, 4, k, 0}), s.Get({5, 4, 0}) - 1024.0) << "slice " << k;
    }
    // errors: a second series, a duplicate position, a gap, an empty folder
    Image extra = slice(8, 7, DataType::int16, 9);
    extra.SetMeta("SeriesInstanceUID", std::string("1.2.3.4.999"));
    DicomWrite(folder + "/other.dcm", extra);
    expect_ecvl_error([&] { DicomReadSeries(folder, vol); }, "2 series in one folder");
    fs::remove(folder + "/other.dcm");
    fs::copy_file(folder + "/img0.dcm", folder + "/copy.dcm");
    expect_ecvl_error([&] { DicomReadSeries(folder, vol); }, "are at the same position");
    fs::remove(folder + "/copy.dcm");
    fs::remove(folder + "/img1.dcm");  // slice 0 of 0..5: the first one, no gap
    fs::remove(folder + "/img5.dcm");  // slice 2: a gap
    expect_ecvl_error([&] { DicomReadSeries(folder, vol); }, "uneven slice spacing");
    fs::create_directories(path("empty"));
    expect_ecvl_error([&] { DicomReadSeries(path("empty"), vol); }, "no DICOM images among 0 files");
}

TEST(Dicom, BadInputIsAnError) {
    Image img;
    expect_ecvl_error([&] { DicomRead(path("none.dcm"), img); }, "none.dcm': no such file");
    Image png = slice(8, 8, DataType::uint8, 1);
    ImWrite(path("x.png"), png);
    fs::copy_file(path("x.png"), path("x.dcm"), fs::copy_options::overwrite_existing);
    expect_ecvl_error([&] { DicomRead(path("x.dcm"), img); }, "x.dcm': not a readable DICOM file");
    DicomWrite(path("whole.dcm"), slice(64, 64, DataType::uint16, 2));
    fs::copy_file(path("whole.dcm"), path("cut.dcm"), fs::copy_options::overwrite_existing);
    fs::resize_file(path("cut.dcm"), fs::file_size(path("whole.dcm")) - 3000);
    expect_ecvl_error([&] { DicomRead(path("cut.dcm"), img); }, "cut.dcm'");
    Image f({4, 4, 1}, DataType::float32, "xyc", ColorType::GRAY);
    expect_ecvl_error([&] { DicomWrite(path("f.dcm"), f); }, "float32 pixels cannot be written");
    Image two({4, 4, 2}, DataType::uint8, "xyc", ColorType::none);
    expect_ecvl_error([&] { DicomWrite(path("two.dcm"), two); }, "2 channels");
    expect_ecvl_error([&] { DicomWrite(path("no/dir/a.dcm"), png); }, "cannot write");
    expect_ecvl_error([&] { DicomReadSeries(path("none"), img); }, "is not a folder");
}
