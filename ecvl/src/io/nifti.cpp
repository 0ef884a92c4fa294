// NIfTI-1 and NIfTI-2 volumes through nifticlib (Debian's libnifti2-dev reads and writes both).
#include <nifti/nifti2_io.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include "ecvl/io.h"

namespace ecvl {
namespace {

struct NimFree {
    void operator()(nifti_image* n) const { nifti_image_free(n); }
};
using Nim = std::unique_ptr<nifti_image, NimFree>;

DataType from_nifti(int dt, const std::string& what) {
    switch (dt) {
        case DT_UINT8: case DT_RGB24: return DataType::uint8;
        case DT_INT8: return DataType::int8;
        case DT_UINT16: return DataType::uint16;
        case DT_INT16: return DataType::int16;
        case DT_INT32: return DataType::int32;
        case DT_INT64: return DataType::int64;
        case DT_FLOAT32: return DataType::float32;
        case DT_FLOAT64: return DataType::float64;
        default:
            ECVL_FAIL("NiftiRead: " << what << ": voxel type " << nifti_datatype_string(dt)
                                    << " has no ECVL element type");
    }
}

int to_nifti(DataType t) {
    switch (t) {
        case DataType::uint8: return DT_UINT8;
        case DataType::int8: return DT_INT8;
        case DataType::uint16: return DT_UINT16;
        case DataType::int16: return DT_INT16;
        case DataType::int32: return DT_INT32;
        case DataType::int64: return DT_INT64;
        case DataType::float32: return DT_FLOAT32;
        default: return DT_FLOAT64;
    }
}

double to_mm(int units) {
    switch (units) {
        case NIFTI_UNITS_METER: return 1000.0;
        case NIFTI_UNITS_MICRON: return 0.001;
        default: return 1.0;  // mm, or unknown
    }
}

double to_seconds(int units) {
    switch (units) {
        case NIFTI_UNITS_MSEC: return 0.001;
        case NIFTI_UNITS_USEC: return 1e-6;
        default: return 1.0;
    }
}

const char* kSrow[3] = {"srow_x", "srow_y", "srow_z"};

double meta_number(const Image& img, const std::string& key, double fallback) {
    auto it = img.meta_.find(key);
    if (it == img.meta_.end()) return fallback;
    if (auto* d = std::get_if<double>(&it->second)) return *d;
    if (auto* i = std::get_if<int64_t>(&it->second)) return double(*i);
    return fallback;
}

}  // namespace

bool NiftiRead(const std::string& filename, Image& dst) {
    const std::string what = "'" + filename + "'";
    std::error_code ec;
    ECVL_CHECK(std::filesystem::is_regular_file(filename, ec), "NiftiRead: " << what << ": no such file");
    nifti_set_debug_level(0);  // errors become our exceptions, not lines on stderr
    int version = 0;
    void* header = nifti_read_header(filename.c_str(), &version, 1);  // is_nifti_file misses NIfTI-2
    const bool is_nifti = header != nullptr && (version == 1 || version == 2);
    free(header);
    ECVL_CHECK(is_nifti, "NiftiRead: " << what << ": not a NIfTI-1 or NIfTI-2 file");
    Nim nim(nifti_image_read(filename.c_str(), 1));
    ECVL_CHECK(nim && nim->data, "NiftiRead: " << what << ": unreadable NIfTI data (truncated or corrupt)");
    const int64_t ndim = nim->dim[0];
    ECVL_CHECK(ndim >= 1 && ndim <= 5, "NiftiRead: " << what << ": " << ndim << " dimensions (ECVL reads 1 to 5)");
    const DataType t = from_nifti(nim->datatype, what);
    std::vector<int> dims;
    std::vector<float> spacings;
    const std::string axes = std::string("xyzto").substr(0, size_t(ndim));
    const double mm = to_mm(nim->xyz_units), sec = to_seconds(nim->time_units);
    for (int64_t a = 1; a <= ndim; ++a) {
        ECVL_CHECK(nim->dim[a] >= 1 && nim->dim[a] <= INT32_MAX, "NiftiRead: " << what << ": dimension " << a << " is "
                                                                              << nim->dim[a]);
        dims.push_back(int(nim->dim[a]));
        const double p = nim->pixdim[a] > 0 ? nim->pixdim[a] : 1.0;
        spacings.push_back(float(a <= 3 ? p * mm : a == 4 ? p * sec : p));
    }
    Image img;
    if (nim->datatype == DT_RGB24) {  // interleaved r, g, b per voxel: read as "c..." then planar
        std::vector<int> cd{3};
        cd.insert(cd.end(), dims.begin(), dims.end());
        std::vector<float> cs{1.0f};
        cs.insert(cs.end(), spacings.begin(), spacings.end());
        Image inter(cd, t, "c" + axes, ColorType::RGB, cs);
        std::memcpy(inter.data_, nim->data, inter.datasize_);
        RearrangeChannels(inter, img, axes + "c");
    } else {
        img = Image(dims, t, axes, ColorType::none, spacings);
        std::memcpy(img.data_, nim->data, img.datasize_);
    }
    const double slope = nim->scl_slope, inter = nim->scl_inter;
    if (nim->datatype != DT_RGB24 && slope != 0 && (slope != 1 || inter != 0)) {
        img.ConvertTo(t == DataType::float64 ? DataType::float64 : DataType::float32);
        if (img.elemtype_ == DataType::float64) {
            auto* p = reinterpret_cast<double*>(img.data_);
            for (size_t i = 0; i < img.Elements(); ++i) p[i] = p[i] * slope + inter;
        } else {
            auto* p = reinterpret_cast<float*>(img.data_);
            for (size_t i = 0; i < img.Elements(); ++i) p[i] = float(p[i] * slope + inter);
        }
    }
    img.SetMeta("scl_slope", slope);
    img.SetMeta("scl_inter", inter);
    img.SetMeta("nifti_version", int64_t(version));  // nim->nifti_type says 1 for both
    img.SetMeta("descrip", std::string(nim->descrip, strnlen(nim->descrip, sizeof(nim->descrip))));
    img.SetMeta("qform_code", int64_t(nim->qform_code));
    img.SetMeta("sform_code", int64_t(nim->sform_code));
    img.SetMeta("quatern_b", nim->quatern_b);
    img.SetMeta("quatern_c", nim->quatern_c);
    img.SetMeta("quatern_d", nim->quatern_d);
    img.SetMeta("qoffset_x", nim->qoffset_x);
    img.SetMeta("qoffset_y", nim->qoffset_y);
    img.SetMeta("qoffset_z", nim->qoffset_z);
    img.SetMeta("qfac", nim->qfac);
    for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 4; ++c) img.SetMeta(kSrow[r] + std::to_string(c), nim->sto_xyz.m[r][c]);
    dst = std::move(img);
    return true;
}

bool NiftiWrite(const std::string& filename, const Image& src, int version) {
    const std::string what = "'" + filename + "'";
    ECVL_CHECK(version == 1 || version == 2, "NiftiWrite: " << what << ": version must be 1 or 2, got " << version);
    ECVL_CHECK(!src.IsEmpty(), "NiftiWrite: " << what << ": the image is empty");
    const std::string name = std::filesystem::path(filename).filename().string();
    const bool gz = name.size() > 7 && name.compare(name.size() - 7, 7, ".nii.gz") == 0;
    ECVL_CHECK(gz || (name.size() > 4 && name.compare(name.size() - 4, 4, ".nii") == 0),
               "NiftiWrite: " << what << ": the name must end in .nii or .nii.gz");
    // the image's axes in NIfTI's order x, y, z, t, o (missing ones size 1); c only as RGB or size 1
    const size_t c = src.channels_.find('c');
    const bool rgb = c != std::string::npos && src.dims_[c] == 3 && src.elemtype_ == DataType::uint8 &&
                     src.colortype_ == ColorType::RGB;
    ECVL_CHECK(c == std::string::npos || src.dims_[c] == 1 || rgb,
               "NiftiWrite: " << what << ": a colour axis of " << src.dims_[c]
                              << " is writable only as RGB uint8 (RGB24); split the channels or convert");
    std::string order;
    for (char a : std::string("xyzto"))
        if (src.channels_.find(a) != std::string::npos) order += a;
    ECVL_CHECK(order.size() + (c != std::string::npos) == src.channels_.size(),
               "NiftiWrite: " << what << ": axes \"" << src.channels_ << "\" are not x, y, z, t, o and c");
    Image data;
    RearrangeChannels(src, data, (rgb ? "c" : "") + order + (c != std::string::npos && !rgb ? "c" : ""));
    int64_t dims[8] = {0, 1, 1, 1, 1, 1, 1, 1};
    double pix[8] = {0, 1, 1, 1, 1, 1, 1, 1};
    int last = 1;
    for (size_t i = 0; i < order.size(); ++i) {
        const int k = int(std::string("xyzto").find(order[i])) + 1;
        const size_t s = src.channels_.find(order[i]);
        dims[k] = src.dims_[s];
        pix[k] = src.spacings_[s];
        last = std::max(last, k);
    }
    dims[0] = last;
    nifti_set_debug_level(0);
    Nim nim(nifti_make_new_nim(dims, rgb ? DT_RGB24 : to_nifti(src.elemtype_), 0));
    ECVL_CHECK(nim, "NiftiWrite: " << what << ": nifticlib could not make a header for these dimensions");
    for (int k = 1; k <= 7; ++k) nim->pixdim[k] = pix[k];
    nim->dx = pix[1]; nim->dy = pix[2]; nim->dz = pix[3]; nim->dt = pix[4]; nim->du = pix[5];
    nim->xyz_units = NIFTI_UNITS_MM;
    nim->time_units = NIFTI_UNITS_SEC;
    nim->scl_slope = 0;
    nim->scl_inter = 0;
    nim->qform_code = int(meta_number(src, "qform_code", 0));
    nim->sform_code = int(meta_number(src, "sform_code", 0));
    nim->quatern_b = meta_number(src, "quatern_b", 0);
    nim->quatern_c = meta_number(src, "quatern_c", 0);
    nim->quatern_d = meta_number(src, "quatern_d", 0);
    nim->qoffset_x = meta_number(src, "qoffset_x", 0);
    nim->qoffset_y = meta_number(src, "qoffset_y", 0);
    nim->qoffset_z = meta_number(src, "qoffset_z", 0);
    nim->qfac = meta_number(src, "qfac", 1) < 0 ? -1 : 1;
    for (int r = 0; r < 3; ++r)
        for (int k = 0; k < 4; ++k)
            nim->sto_xyz.m[r][k] = meta_number(src, kSrow[r] + std::to_string(k), r == k ? pix[r + 1] : 0.0);
    if (auto it = src.meta_.find("descrip"); it != src.meta_.end())
        if (auto* s = std::get_if<std::string>(&it->second))
            std::snprintf(nim->descrip, sizeof(nim->descrip), "%s", s->c_str());
    nim->nifti_type = version == 2 ? NIFTI_FTYPE_NIFTI2_1 : NIFTI_FTYPE_NIFTI1_1;
    // Header, the 4-byte "no extensions" flag and the voxels, written by us through znzlib:
    // nifticlib 3.0's nifti_image_write cannot write single-file NIfTI-2. Into a temporary beside
    // the target, renamed when complete.
    const std::string stem = filename.substr(0, filename.size() - (gz ? 7 : 4));
    const std::string tmp = stem + ".tmp" + std::to_string(::getpid()) + (gz ? ".nii.gz" : ".nii");
    nifti_1_header h1;
    nifti_2_header h2;
    const void* hdr = nullptr;
    size_t hsize = 0;
    if (version == 2) {
        ECVL_CHECK(nifti_convert_nim2n2hdr(nim.get(), &h2) == 0, "NiftiWrite: " << what << ": cannot make a NIfTI-2 header");
        h2.vox_offset = sizeof(h2) + 4;
        hdr = &h2;
        hsize = sizeof(h2);
    } else {
        ECVL_CHECK(nifti_convert_nim2n1hdr(nim.get(), &h1) == 0,
                   "NiftiWrite: " << what << ": cannot make a NIfTI-1 header (a dimension over 32767? use version 2)");
        h1.vox_offset = float(sizeof(h1) + 4);
        hdr = &h1;
        hsize = sizeof(h1);
    }
    const char no_extensions[4] = {0, 0, 0, 0};
    znzFile f = znzopen(tmp.c_str(), "wb", gz ? 1 : 0);
    bool ok = !znz_isnull(f);
    ok = ok && znzwrite(hdr, hsize, 1, f) == 1 && znzwrite(no_extensions, 4, 1, f) == 1 &&
         znzwrite(data.data_, 1, data.datasize_, f) == data.datasize_;
    if (!znz_isnull(f)) ok = znzclose(f) == 0 && ok;
    std::error_code ec;
    if (!ok || std::rename(tmp.c_str(), filename.c_str()) != 0) {
        std::filesystem::remove(tmp, ec);
        ECVL_FAIL("NiftiWrite: " << what << ": writing failed (directory missing or not writable, or disk full?)");
    }
    return true;
}

}  // namespace ecvl
