// NIfTI: round trips of every layout (versions 1 and 2, plain and gzipped), spacings, orientation
// and scaling metadata, axis reordering on write, RGB24, files made and rewritten by nifticlib's own
// nifti_tool, and bad files named in errors.
#include <gtest/gtest.h>
#include <nifti/nifti2_io.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "ecvl/ecvl.h"
#include "ecvl_test_util.h"

using namespace ecvl;
using ecvl_test::expect_ecvl_error;
namespace fs = std::filesystem;

namespace {

std::string path(const std::string& name) {
    static const std::string d = ecvl_test::scratch_dir("ecvl_nifti");
    return d + "/" + name;
}

Image volume(DataType t) {
    Image v({6, 5, 4}, t, "xyz", ColorType::none, {0.5f, 0.75f, 2.5f});
    for (int z = 0; z < 4; ++z)
        for (int y = 0; y < 5; ++y)
            for (int x = 0; x < 6; ++x) {
                const double val = x + 10 * y + 100 * z - 150;
                if (t == DataType::int16) v.At<int16_t>({x, y, z}) = int16_t(val);
                else v.At<float>({x, y, z}) = float(val) * 0.25f;
            }
    return v;
}

void expect_same_voxels(const Image& a, const Image& b) {
    ASSERT_EQ(a.dims_, b.dims_);
    ASSERT_EQ(a.elemtype_, b.elemtype_);
    EXPECT_EQ(std::memcmp(a.data_, b.data_, a.datasize_), 0);
}

}  // namespace

TEST(Nifti, RoundTripsEveryVersionAndCompression) {
    const Image v = volume(DataType::int16);
    for (int version : {1, 2})
        for (std::string ext : {".nii", ".nii.gz"}) {
            SCOPED_TRACE("version " + std::to_string(version) + ext);
            const std::string p = path("vol" + std::to_string(version) + ext);
            NiftiWrite(p, v, version);
            Image back;
            ImRead(p, back);  // ImRead hands .nii files to NiftiRead
            EXPECT_EQ(back.channels_, "xyz");
            expect_same_voxels(back, v);
            EXPECT_EQ(back.spacings_, v.spacings_);
            EXPECT_EQ(std::get<int64_t>(back.GetMeta("nifti_version")), version);
        }
    // 4-D float with time spacing
    Image t({3, 2, 2, 5}, DataType::float32, "xyzt", ColorType::none, {1.0f, 1.0f, 3.0f, 2.0f});
    for (size_t i = 0; i < t.Elements(); ++i) reinterpret_cast<float*>(t.data_)[i] = 0.5f * float(i) - 7.0f;
    NiftiWrite(path("t.nii.gz"), t);
    Image back;
    NiftiRead(path("t.nii.gz"), back);
    EXPECT_EQ(back.channels_, "xyzt");
    expect_same_voxels(back, t);
    EXPECT_EQ(back.spacings_, t.spacings_);
}

TEST(Nifti, AxisOrderRgbAndOrientation) {
    // "zyx" in memory: written in NIfTI's x, y, z order, read back as "xyz"
    const Image v = volume(DataType::float32);
    Image zyx;
    RearrangeChannels(v, zyx, "zyx");
    NiftiWrite(path("zyx.nii"), zyx);
    Image back;
    NiftiRead(path("zyx.nii"), back);
    expect_same_voxels(back, v);
    // RGB uint8 volume <-> RGB24
    Image rgb({4, 3, 2, 3}, DataType::uint8, "xyzc", ColorType::RGB);
    for (size_t i = 0; i < rgb.Elements(); ++i) rgb.data_[i] = uint8_t(i * 7);
    NiftiWrite(path("rgb.nii"), rgb);
    NiftiRead(path("rgb.nii"), back);
    EXPECT_EQ(back.channels_, "xyzc");
    EXPECT_EQ(back.colortype_, ColorType::RGB);
    expect_same_voxels(back, rgb);
    // orientation: qform and sform survive a round trip
    Image o = volume(DataType::int16);
    o.SetMeta("qform_code", int64_t(1));
    o.SetMeta("sform_code", int64_t(2));
    o.SetMeta("quatern_b", 0.0);
    o.SetMeta("quatern_c", 1.0);
    o.SetMeta("quatern_d", 0.0);
    o.SetMeta("qoffset_x", 12.5);
    o.SetMeta("qoffset_y", -30.0);
    o.SetMeta("qoffset_z", 4.0);
    o.SetMeta("qfac", -1.0);
    const double srow[3][4] = {{-0.5, 0, 0, 90}, {0, 0.75, 0.1, -126}, {0, 0, 2.5, -72}};
    const char* rows[] = {"srow_x", "srow_y", "srow_z"};
    for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 4; ++c) o.SetMeta(rows[r] + std::to_string(c), srow[r][c]);
    o.SetMeta("descrip", std::string("phantom"));
    for (int version : {1, 2}) {
        NiftiWrite(path("o.nii"), o, version);
        NiftiRead(path("o.nii"), back);
        EXPECT_EQ(std::get<int64_t>(back.GetMeta("qform_code")), 1);
        EXPECT_EQ(std::get<int64_t>(back.GetMeta("sform_code")), 2);
        EXPECT_NEAR(std::get<double>(back.GetMeta("quatern_c")), 1.0, 1e-6);
        EXPECT_NEAR(std::get<double>(back.GetMeta("qoffset_x")), 12.5, 1e-6);
        EXPECT_EQ(std::get<double>(back.GetMeta("qfac")), -1.0);
        for (int r = 0; r < 3; ++r)
            for (int c = 0; c < 4; ++c)
                EXPECT_NEAR(std::get<double>(back.GetMeta(rows[r] + std::to_string(c))), srow[r][c], 1e-5)
                    << rows[r] << c;
        EXPECT_EQ(std::get<std::string>(back.GetMeta("descrip")), "phantom");
    }
}

TEST(Nifti, ScaledDataComesBackPhysical) {
    // a CT-like file written by nifticlib itself: int16 with slope 2 and intercept -1024
    int64_t dims[8] = {3, 4, 3, 2, 1, 1, 1, 1};
    nifti_image* nim = nifti_make_new_nim(dims, DT_INT16, 1);
    ASSERT_NE(nim, nullptr);
    for (int64_t i = 0; i < nim->nvox; ++i) static_cast<int16_t*>(nim->data)[i] = int16_t(i * 10);
    nim->scl_slope = 2.0;
    nim->scl_inter = -1024.0;
    nim->pixdim[1] = nim->dx = 0.001;  // metres
    nim->pixdim[2] = nim->dy = 0.002;
    nim->pixdim[3] = nim->dz = 0.003;
    nim->xyz_units = NIFTI_UNITS_METER;
    nim->nifti_type = NIFTI_FTYPE_NIFTI1_1;
    ASSERT_EQ(nifti_set_filenames(nim, path("ct.nii").c_str(), 0, 1), 0);
    nifti_image_write(nim);
    nifti_image_free(nim);
    Image back;
    NiftiRead(path("ct.nii"), back);
    EXPECT_EQ(back.elemtype_, DataType::float32);
    EXPECT_EQ(back.Get({1, 0, 0}), 10 * 2.0 - 1024.0);
    EXPECT_EQ(back.Get({3, 2, 1}), 230 * 2.0 - 1024.0);
    EXPECT_EQ(std::get<double>(back.GetMeta("scl_slope")), 2.0);
    EXPECT_EQ(std::get<double>(back.GetMeta("scl_inter")), -1024.0);
    EXPECT_NEAR(back.spacings_[0], 1.0f, 1e-5);  // mm
    EXPECT_NEAR(back.spacings_[2], 3.0f, 1e-5);
}

TEST(Nifti, BadFilesAndImagesAreErrors) {
    Image img;
    expect_ecvl_error([&] { NiftiRead(path("none.nii"), img); }, "none.nii': no such file");
    {
        std::ofstream f(path("fake.nii"), std::ios::binary);
        f << std::string(400, 'x');
    }
    expect_ecvl_error([&] { NiftiRead(path("fake.nii"), img); }, "fake.nii': not a NIfTI-1 or NIfTI-2 file");
    NiftiWrite(path("whole.nii"), volume(DataType::int16));
    const auto size = fs::file_size(path("whole.nii"));
    fs::copy_file(path("whole.nii"), path("cut.nii"), fs::copy_options::overwrite_existing);
    fs::resize_file(path("cut.nii"), size - 50);
    expect_ecvl_error([&] { NiftiRead(path("cut.nii"), img); }, "cut.nii': unreadable NIfTI data (truncated or corrupt)");
    expect_ecvl_error([&] { NiftiWrite(path("vol.img"), volume(DataType::int16)); }, "must end in .nii or .nii.gz");
    Image two({4, 4, 2}, DataType::uint8, "xyc", ColorType::none);
    expect_ecvl_error([&] { NiftiWrite(path("two.nii"), two); }, "a colour axis of 2");
    expect_ecvl_error([&] { NiftiWrite(path("no/dir/v.nii"), volume(DataType::int16)); }, "writing failed");
    expect_ecvl_error([&] { NiftiWrite(path("v.nii"), volume(DataType::int16), 3); }, "version must be 1 or 2");
    for (const auto& e : fs::directory_iterator(fs::path(path("x")).parent_path()))
        EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << "left behind: " << e.path();
}

namespace {

// Runs a command line; the test fails (it does not skip) when it fails: scripts/install_deps.sh
// installs nifticlib's tools (Debian nifti-bin).
void run(const std::string& cmd) {
    ASSERT_EQ(std::system((cmd + " > " + path("tool.log") + " 2>&1").c_str()), 0)
        << cmd << "\n(nifti_tool comes with Debian's nifti-bin, which scripts/install_deps.sh installs)";
}

}  // namespace

TEST(Nifti, FilesWrittenByNiftiTool) {
    // A volume made by nifti_tool itself: zero-filled int16 10x20x30 with spacings and scaling.
    // (nifti_tool cannot modify a gzipped header in place, so the .nii.gz is its copy of the .nii)
    fs::remove(path("made.nii"));
    fs::remove(path("made.nii.gz"));
    run("nifti_tool -mod_hdr -mod_field pixdim '1 0.5 0.75 2 1 1 1 1' -mod_field scl_slope 2 -mod_field scl_inter 10 "
        "-new_dims 3 10 20 30 0 0 0 0 -new_datatype 4 -prefix " + path("made.nii") + " -infiles MAKE_IM");
    run("nifti_tool -copy_im -prefix " + path("made.nii.gz") + " -infiles " + path("made.nii"));
    for (const std::string name : {"made.nii", "made.nii.gz"}) {
        Image v;
        ImRead(path(name), v);
        EXPECT_EQ(v.dims_, (std::vector<int>{10, 20, 30})) << name;
        EXPECT_EQ(v.channels_, "xyz");
        EXPECT_EQ(v.spacings_, (std::vector<float>{0.5f, 0.75f, 2.0f})) << name;
        EXPECT_EQ(v.elemtype_, DataType::float32) << name;  // scaled: 0 * 2 + 10
        EXPECT_EQ(v.Get({0, 0, 0}), 10.0);
        EXPECT_EQ(v.Get({9, 19, 29}), 10.0);
    }
    // Ours, copied by nifti_tool (read and rewritten by nifticlib), read back: the same voxels.
    for (int version : {1, 2}) {
        const Image vol = volume(DataType::int16);
        const std::string ours = path("ours_v" + std::to_string(version) + ".nii"), copy = path("copy_v" + std::to_string(version) + ".nii.gz");
        NiftiWrite(ours, vol, version);
        fs::remove(copy);
        run("nifti_tool -copy_im -prefix " + copy + " -infiles " + ours);
        Image back;
        NiftiRead(copy, back);
        expect_same_voxels(back, vol);
        EXPECT_EQ(back.spacings_, vol.spacings_);
    }
}
