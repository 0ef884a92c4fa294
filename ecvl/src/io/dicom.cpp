// DICOM through DCMTK: single and multi-frame files, series folders assembled into volumes, and
// Secondary Capture writing.
#include <dcmtk/config/osconfig.h>  // first, as DCMTK requires
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <sstream>

#include "ecvl/io.h"

namespace ecvl {
namespace {

void register_codecs() {
    static std::once_flag once;
    std::call_once(once, [] {
        DJDecoderRegistration::registerCodecs();
        DJLSDecoderRegistration::registerCodecs();
        DcmRLEDecoderRegistration::registerCodecs();
    });
}

std::string get_string(DcmItem* ds, const DcmTagKey& tag) {
    OFString s;
    return ds->findAndGetOFStringArray(tag, s).good() ? std::string(s.c_str()) : std::string();
}

bool get_number(DcmItem* ds, const DcmTagKey& tag, double& v) {
    Float64 f;
    if (ds->findAndGetFloat64(tag, f).good()) {
        v = f;
        return true;
    }
    return false;
}

std::vector<double> numbers(const std::string& s) {  // "a\b\c"
    std::vector<double> v;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, '\\'))
        if (!item.empty()) v.push_back(std::strtod(item.c_str(), nullptr));
    return v;
}

struct Frames {
    Image img;            // "xyzc" (z = frames), raw values
    double slope = 1, intercept = 0;
    std::string position;  // ImagePositionPatient
    std::vector<double> orientation;
    int64_t instance = 0;
    std::string series;
};

// Loads one file's pixels and metadata (no rescale yet).
Frames load(const std::string& filename) {
    const std::string what = "'" + filename + "'";
    register_codecs();
    DcmFileFormat ff;
    OFCondition st = ff.loadFile(filename.c_str());
    ECVL_CHECK(st.good(), "DicomRead: " << what << ": not a readable DICOM file (" << st.text() << ")");
    DcmDataset* ds = ff.getDataset();
    const E_TransferSyntax xfer = ds->getOriginalXfer();
    if (DcmXfer(xfer).isEncapsulated()) {
        st = ds->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
        ECVL_CHECK(st.good() && ds->canWriteXfer(EXS_LittleEndianExplicit),
                   "DicomRead: " << what << ": cannot decode the compressed pixel data ("
                                 << DcmXfer(xfer).getXferName() << ": " << st.text() << ")");
    }
    Uint16 rows = 0, cols = 0, spp = 1, alloc = 0, stored = 0, rep = 0, planar = 0;
    ECVL_CHECK(ds->findAndGetUint16(DCM_Rows, rows).good() && ds->findAndGetUint16(DCM_Columns, cols).good() &&
                   rows > 0 && cols > 0,
               "DicomRead: " << what << ": no image (Rows/Columns missing)");
    ds->findAndGetUint16(DCM_SamplesPerPixel, spp);
    ECVL_CHECK(ds->findAndGetUint16(DCM_BitsAllocated, alloc).good(), "DicomRead: " << what << ": BitsAllocated missing");
    if (ds->findAndGetUint16(DCM_BitsStored, stored).bad()) stored = alloc;
    ds->findAndGetUint16(DCM_PixelRepresentation, rep);
    ds->findAndGetUint16(DCM_PlanarConfiguration, planar);
    Sint32 nframes = 1;
    if (ds->findAndGetSint32(DCM_NumberOfFrames, nframes).bad() || nframes < 1) nframes = 1;
    ECVL_CHECK(alloc == 8 || alloc == 16 || alloc == 32,
               "DicomRead: " << what << ": " << alloc << " bits per sample (ECVL reads 8, 16 and 32)");
    ECVL_CHECK(spp == 1 || spp == 3, "DicomRead: " << what << ": " << spp << " samples per pixel");
    const std::string photometric = get_string(ds, DCM_PhotometricInterpretation);
    ColorType ct = ColorType::GRAY;
    if (spp == 3) {
        ECVL_CHECK(photometric == "RGB" || photometric == "YBR_FULL",
                   "DicomRead: " << what << ": photometric interpretation " << photometric << " is not supported");
        ct = photometric == "RGB" ? ColorType::RGB : ColorType::YCbCr;
    }
    DcmElement* pe = nullptr;
    ECVL_CHECK(ds->findAndGetElement(DCM_PixelData, pe).good() && pe, "DicomRead: " << what << ": no pixel data");
    Uint8* bytes = nullptr;
    ECVL_CHECK(pe->getUint8Array(bytes).good() && bytes, "DicomRead: " << what << ": pixel data unreadable");
    const size_t bpp = alloc / 8, per_frame = size_t(rows) * cols * spp * bpp, need = per_frame * size_t(nframes);
    ECVL_CHECK(pe->getLength() >= need, "DicomRead: " << what << ": truncated pixel data (" << pe->getLength() << " of "
                                                      << need << " bytes)");
    const DataType t = alloc == 8 ? (rep ? DataType::int8 : DataType::uint8)
                       : alloc == 16 ? (rep ? DataType::int16 : DataType::uint16)
                                     : (rep ? DataType::int32 : DataType::int64);
    Frames f;
    f.img = Image({int(cols), int(rows), int(nframes), int(spp)}, t, "xyzc", ct);
    // DICOM: frame, row, column, sample (interleaved) or frame, sample, row, column (planar)
    for (int64_t z = 0; z < nframes; ++z)
        for (int64_t s = 0; s < spp; ++s)
            for (int64_t y = 0; y < rows; ++y)
                for (int64_t x = 0; x < cols; ++x) {
                    const int64_t src = planar ? ((z * spp + s) * rows + y) * cols + x : ((z * rows + y) * cols + x) * spp + s;
                    int64_t v;
                    if (alloc == 8) v = rep ? int64_t(int8_t(bytes[src])) : int64_t(bytes[src]);
                    else if (alloc == 16) {
                        uint16_t u;
                        std::memcpy(&u, bytes + 2 * src, 2);
                        v = u;
                    } else {
                        uint32_t u;
                        std::memcpy(&u, bytes + 4 * src, 4);
                        v = u;
                    }
                    if (stored < alloc) {  // keep the stored bits, sign-extend when signed
                        const int64_t mask = (int64_t(1) << stored) - 1;
                        v &= mask;
                        if (rep && (v >> (stored - 1)) & 1) v -= int64_t(1) << stored;
                    } else if (rep && alloc == 16) {
                        v = int16_t(uint16_t(v));
                    } else if (rep && alloc == 32) {
                        v = int32_t(uint32_t(v));
                    }
                    const int64_t di = ((s * nframes + z) * rows + y) * cols + x;
                    switch (t) {
                        case DataType::uint8: f.img.data_[di] = uint8_t(v); break;
                        case DataType::int8: reinterpret_cast<int8_t*>(f.img.data_)[di] = int8_t(v); break;
                        case DataType::uint16: reinterpret_cast<uint16_t*>(f.img.data_)[di] = uint16_t(v); break;
                        case DataType::int16: reinterpret_cast<int16_t*>(f.img.data_)[di] = int16_t(v); break;
                        case DataType::int32: reinterpret_cast<int32_t*>(f.img.data_)[di] = int32_t(v); break;
                        default: reinterpret_cast<int64_t*>(f.img.data_)[di] = v; break;
                    }
                }
    // spacings: PixelSpacing is row spacing (y) \ column spacing (x)
    const auto ps = numbers(get_string(ds, DCM_PixelSpacing));
    double thick = 0, between = 0;
    get_number(ds, DCM_SliceThickness, thick);
    get_number(ds, DCM_SpacingBetweenSlices, between);
    f.img.spacings_ = {float(ps.size() == 2 ? ps[1] : 1.0), float(ps.size() == 2 ? ps[0] : 1.0),
                       float(between > 0 ? between : thick > 0 ? thick : 1.0), 1.0f};
    get_number(ds, DCM_RescaleSlope, f.slope);
    get_number(ds, DCM_RescaleIntercept, f.intercept);
    for (const auto& [tag, key] : std::vector<std::pair<DcmTagKey, const char*>>{
             {DCM_PatientID, "PatientID"}, {DCM_PatientName, "PatientName"}, {DCM_StudyInstanceUID, "StudyInstanceUID"},
             {DCM_SeriesInstanceUID, "SeriesInstanceUID"}, {DCM_SOPInstanceUID, "SOPInstanceUID"},
             {DCM_Modality, "Modality"}, {DCM_PhotometricInterpretation, "PhotometricInterpretation"},
             {DCM_ImagePositionPatient, "ImagePositionPatient"}, {DCM_ImageOrientationPatient, "ImageOrientationPatient"}}) {
        const std::string v = get_string(ds, tag);
        if (!v.empty()) f.img.SetMeta(key, v);
    }
    for (const auto& [tag, key] : std::vector<std::pair<DcmTagKey, const char*>>{
             {DCM_WindowCenter, "WindowCenter"}, {DCM_WindowWidth, "WindowWidth"}, {DCM_RescaleSlope, "RescaleSlope"},
             {DCM_RescaleIntercept, "RescaleIntercept"}, {DCM_SliceThickness, "SliceThickness"}}) {
        double v;
        if (get_number(ds, tag, v)) f.img.SetMeta(key, v);
    }
    Sint32 inst;
    if (ds->findAndGetSint32(DCM_InstanceNumber, inst).good()) {
        f.instance = inst;
        f.img.SetMeta("InstanceNumber", int64_t(inst));
    }
    f.position = get_string(ds, DCM_ImagePositionPatient);
    f.orientation = numbers(get_string(ds, DCM_ImageOrientationPatient));
    f.series = get_string(ds, DCM_SeriesInstanceUID);
    return f;
}

// Applies RescaleSlope/Intercept (float32 result) when they change the values.
void rescale(Image& img, double slope, double intercept) {
    if (slope == 1 && intercept == 0) return;
    img.ConvertTo(DataType::float32);
    auto* p = reinterpret_cast<float*>(img.data_);
    for (size_t i = 0; i < img.Elements(); ++i) p[i] = float(p[i] * slope + intercept);
}

// "xyzc" with one frame becomes "xyc"
Image squeeze_frames(const Image& v) {
    if (v.dims_[2] != 1) return v;
    // the same memory seen without the z axis, copied while v holds it
    const Image flat = Image::Wrap({v.dims_[0], v.dims_[1], v.dims_[3]}, v.elemtype_, "xyc", v.colortype_, v.data_,
                                   std::shared_ptr<void>());
    Image out = flat.Clone();
    out.spacings_ = {v.spacings_[0], v.spacings_[1], 1.0f};
    out.meta_ = v.meta_;
    return out;
}

}  // namespace

bool DicomRead(const std::string& filename, Image& dst) {
    std::error_code ec;
    ECVL_CHECK(std::filesystem::is_regular_file(filename, ec), "DicomRead: '" << filename << "': no such file");
    Frames f = load(filename);
    rescale(f.img, f.slope, f.intercept);
    dst = squeeze_frames(f.img);
    return true;
}

bool DicomReadSeries(const std::string& folder, Image& dst) {
    const std::string what = "'" + folder + "'";
    std::error_code ec;
    ECVL_CHECK(std::filesystem::is_directory(folder, ec), "DicomReadSeries: " << what << " is not a folder");
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(folder, ec))
        if (e.is_regular_file()) files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    std::vector<std::pair<std::string, Frames>> slices;
    for (const auto& f : files) {
        DcmFileFormat probe;
        if (probe.loadFile(f.c_str(), EXS_Unknown, EGL_noChange, 0 /* header only */).bad()) continue;  // not DICOM
        DcmDataset* ds = probe.getDataset();
        if (!ds->tagExists(DCM_PixelData)) continue;  // DICOMDIR, reports...
        slices.emplace_back(f, load(f));
    }
    ECVL_CHECK(!slices.empty(), "DicomReadSeries: " << what << ": no DICOM images among " << files.size() << " files");
    std::map<std::string, int> series;
    for (const auto& s : slices) ++series[s.second.series];
    if (series.size() > 1) {
        std::ostringstream os;
        for (const auto& [uid, n] : series) os << " " << (uid.empty() ? "(none)" : uid) << " (" << n << " files)";
        ECVL_FAIL("DicomReadSeries: " << what << ": " << series.size() << " series in one folder:" << os.str());
    }
    const Image& first = slices[0].second.img;
    for (const auto& [name, s] : slices)
        ECVL_CHECK(s.img.dims_[2] == 1 && s.img.dims_[0] == first.dims_[0] && s.img.dims_[1] == first.dims_[1] &&
                       s.img.dims_[3] == first.dims_[3] && s.img.elemtype_ == first.elemtype_,
                   "DicomReadSeries: " << what << ": '" << name << "' is " << s.img.dims_[0] << "x" << s.img.dims_[1]
                                       << " with " << s.img.dims_[2] << " frame(s) " << DataTypeName(s.img.elemtype_)
                                       << ", '" << slices[0].first << "' is " << first.dims_[0] << "x" << first.dims_[1]
                                       << " " << DataTypeName(first.elemtype_));
    // order along the slice normal (row x column direction cosines); InstanceNumber without positions
    std::vector<double> key(slices.size());
    bool positions = true;
    for (const auto& s : slices) positions = positions && numbers(s.second.position).size() == 3;
    const auto& o = slices[0].second.orientation;
    double n[3] = {0, 0, 1};
    if (o.size() == 6) {
        n[0] = o[1] * o[5] - o[2] * o[4];
        n[1] = o[2] * o[3] - o[0] * o[5];
        n[2] = o[0] * o[4] - o[1] * o[3];
    }
    for (size_t i = 0; i < slices.size(); ++i) {
        if (positions) {
            const auto p = numbers(slices[i].second.position);
            key[i] = p[0] * n[0] + p[1] * n[1] + p[2] * n[2];
        } else {
            key[i] = double(slices[i].second.instance);
        }
    }
    std::vector<size_t> order(slices.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key[a] < key[b]; });
    double spacing = first.spacings_[2];
    if (order.size() > 1) {
        std::vector<double> gaps;
        for (size_t i = 1; i < order.size(); ++i) {
            const double g = key[order[i]] - key[order[i - 1]];
            ECVL_CHECK(g > 1e-6, "DicomReadSeries: " << what << ": '" << slices[order[i - 1]].first << "' and '"
                                                     << slices[order[i]].first << "' are at the same "
                                                     << (positions ? "position" : "instance number"));
            gaps.push_back(g);
        }
        const double lo = *std::min_element(gaps.begin(), gaps.end()), hi = *std::max_element(gaps.begin(), gaps.end());
        ECVL_CHECK(hi - lo <= 0.01 * lo + 1e-4, "DicomReadSeries: " << what << ": uneven slice spacing (" << lo
                                                                    << " to " << hi << "; a slice missing?)");
        if (positions) spacing = (key[order.back()] - key[order.front()]) / double(order.size() - 1);
    }
    const int w = first.dims_[0], h = first.dims_[1], c = first.dims_[3], nz = int(order.size());
    Image vol({w, h, nz, c}, first.elemtype_, "xyzc", first.colortype_,
              {first.spacings_[0], first.spacings_[1], float(spacing), 1.0f});
    vol.meta_ = slices[order[0]].second.img.meta_;  // the first slice's tags (position of the first slice)
    const size_t plane = size_t(w) * h * first.elemsize_;
    for (int z = 0; z < nz; ++z)
        for (int ch = 0; ch < c; ++ch)
            std::memcpy(vol.Ptr({0, 0, z, ch}), slices[order[size_t(z)]].second.img.Ptr({0, 0, 0, ch}), plane);
    const Frames& f0 = slices[order[0]].second;
    for (const auto& [name, s] : slices)
        ECVL_CHECK(s.slope == f0.slope && s.intercept == f0.intercept,
                   "DicomReadSeries: " << what << ": '" << name << "' has another rescale slope/intercept");
    rescale(vol, f0.slope, f0.intercept);
    dst = std::move(vol);
    return true;
}

bool DicomWrite(const std::string& filename, const Image& src) {
    const std::string what = "'" + filename + "'";
    ECVL_CHECK(!src.IsEmpty(), "DicomWrite: " << what << ": the image is empty");
    // to "xyzc": frames along z, samples along c
    Image v;
    std::string ch = src.channels_;
    Image work = src;  // contiguous
    if (ch == "xy" || ch == "xyz") {  // add a c axis of 1
        work.channels_ += "c";
        work.dims_.push_back(1);
        work.spacings_.push_back(1.0f);
        work.strides_.push_back(int64_t(work.datasize_));
        ch = work.channels_;
    }
    if (ch == "xyc") {
        Image planar;
        RearrangeChannels(work, planar, "xyc");
        // the same memory seen as one frame; copied while `planar` still holds it
        const Image frame = Image::Wrap({planar.dims_[0], planar.dims_[1], 1, planar.dims_[2]}, planar.elemtype_,
                                        "xyzc", planar.colortype_, planar.data_, std::shared_ptr<void>());
        v = frame.Clone();
        v.spacings_ = {src.spacings_[0], src.spacings_[1], 1.0f, 1.0f};
    } else {
        ECVL_CHECK(ch.size() == 4 && std::is_permutation(ch.begin(), ch.end(), std::string("xyzc").begin()),
                   "DicomWrite: " << what << ": needs axes x, y (z, c), got \"" << src.channels_ << "\"");
        RearrangeChannels(work, v, "xyzc");
    }
    const int w = v.dims_[0], h = v.dims_[1], nz = v.dims_[2], c = v.dims_[3];
    const DataType t = v.elemtype_;
    ECVL_CHECK(c == 1 || (c == 3 && t == DataType::uint8 && (v.colortype_ == ColorType::RGB || v.colortype_ == ColorType::BGR)),
               "DicomWrite: " << what << ": " << c << " channels (grey, or RGB/BGR uint8)");
    ECVL_CHECK(t == DataType::uint8 || t == DataType::uint16 || t == DataType::int16,
               "DicomWrite: " << what << ": " << DataTypeName(t)
                              << " pixels cannot be written; convert to uint8, uint16 or int16 first"
                                 " (with RescaleSlope/RescaleIntercept metadata for real values)");
    const bool bgr = v.colortype_ == ColorType::BGR;
    DcmFileFormat ff;
    DcmDataset* ds = ff.getDataset();
    auto meta_str = [&](const char* key) -> std::string {
        auto it = src.meta_.find(key);
        if (it == src.meta_.end()) return {};
        if (auto* s = std::get_if<std::string>(&it->second)) return *s;
        if (auto* i = std::get_if<int64_t>(&it->second)) return std::to_string(*i);
        std::ostringstream os;
        os.precision(10);
        os << std::get<double>(it->second);
        return os.str();
    };
    char uid[100];
    auto uid_or = [&](const char* key, const char* root) {
        const std::string s = meta_str(key);
        return s.empty() ? std::string(dcmGenerateUniqueIdentifier(uid, root)) : s;
    };
    const char* sop_class = nz == 1 ? UID_SecondaryCaptureImageStorage
                            : c == 3 ? UID_MultiframeTrueColorSecondaryCaptureImageStorage
                            : t == DataType::uint8 ? UID_MultiframeGrayscaleByteSecondaryCaptureImageStorage
                                                   : UID_MultiframeGrayscaleWordSecondaryCaptureImageStorage;
    std::ostringstream spacing;
    spacing.precision(10);
    spacing << src.spacings_[1] << "\\" << src.spacings_[0];  // row spacing (y) \ column spacing (x)
    bool ok = ds->putAndInsertString(DCM_SOPClassUID, sop_class).good() &&
              ds->putAndInsertString(DCM_SOPInstanceUID, uid_or("SOPInstanceUID", SITE_INSTANCE_UID_ROOT).c_str()).good() &&
              ds->putAndInsertString(DCM_StudyInstanceUID, uid_or("StudyInstanceUID", SITE_STUDY_UID_ROOT).c_str()).good() &&
              ds->putAndInsertString(DCM_SeriesInstanceUID, uid_or("SeriesInstanceUID", SITE_SERIES_UID_ROOT).c_str()).good() &&
              ds->putAndInsertString(DCM_Modality, meta_str("Modality").empty() ? "OT" : meta_str("Modality").c_str()).good() &&
              ds->putAndInsertString(DCM_PatientID, meta_str("PatientID").c_str()).good() &&
              ds->putAndInsertString(DCM_PatientName, meta_str("PatientName").c_str()).good() &&
              ds->putAndInsertUint16(DCM_Rows, Uint16(h)).good() && ds->putAndInsertUint16(DCM_Columns, Uint16(w)).good() &&
              ds->putAndInsertUint16(DCM_SamplesPerPixel, Uint16(c)).good() &&
              ds->putAndInsertString(DCM_PhotometricInterpretation, c == 3 ? "RGB" : "MONOCHROME2").good() &&
              ds->putAndInsertUint16(DCM_BitsAllocated, t == DataType::uint8 ? 8 : 16).good() &&
              ds->putAndInsertUint16(DCM_BitsStored, t == DataType::uint8 ? 8 : 16).good() &&
              ds->putAndInsertUint16(DCM_HighBit, t == DataType::uint8 ? 7 : 15).good() &&
              ds->putAndInsertUint16(DCM_PixelRepresentation, t == DataType::int16 ? 1 : 0).good() &&
              ds->putAndInsertString(DCM_PixelSpacing, spacing.str().c_str()).good();
    ECVL_CHECK(w <= 65535 && h <= 65535, "DicomWrite: " << what << ": " << w << "x" << h << " exceeds 65535");
    if (c == 3) ok = ok && ds->putAndInsertUint16(DCM_PlanarConfiguration, 0).good();
    if (nz > 1) {
        ok = ok && ds->putAndInsertString(DCM_NumberOfFrames, std::to_string(nz).c_str()).good();
        std::ostringstream sb;
        sb.precision(10);
        sb << v.spacings_[2];
        ok = ok && ds->putAndInsertString(DCM_SpacingBetweenSlices, sb.str().c_str()).good();
    }
    for (const auto& [tag, key] : std::vector<std::pair<DcmTagKey, const char*>>{
             {DCM_WindowCenter, "WindowCenter"}, {DCM_WindowWidth, "WindowWidth"}, {DCM_RescaleSlope, "RescaleSlope"},
             {DCM_RescaleIntercept, "RescaleIntercept"}, {DCM_SliceThickness, "SliceThickness"},
             {DCM_ImagePositionPatient, "ImagePositionPatient"}, {DCM_ImageOrientationPatient, "ImageOrientationPatient"},
             {DCM_InstanceNumber, "InstanceNumber"}}) {
        const std::string s = meta_str(key);
        if (!s.empty()) ok = ok && ds->putAndInsertString(tag, s.c_str()).good();
    }
    if (!meta_str("RescaleSlope").empty() || !meta_str("RescaleIntercept").empty())
        ok = ok && ds->putAndInsertString(DCM_RescaleType, "US").good();
    ECVL_CHECK(ok, "DicomWrite: " << what << ": DCMTK refused a tag value");
    // pixels: frame, row, column, sample (interleaved)
    const size_t es = DataTypeSize(t), n = size_t(w) * h * nz * c;
    std::vector<uint8_t> pix(n * es);
    for (int z = 0; z < nz; ++z)
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x)
                for (int s = 0; s < c; ++s) {
                    const int sc = bgr ? 2 - s : s;  // DICOM colour is RGB
                    std::memcpy(&pix[((size_t(z * h + y) * w + x) * c + s) * es], v.Ptr({x, y, z, sc}), es);
                }
    if (es == 1) ok = ds->putAndInsertUint8Array(DCM_PixelData, pix.data(), pix.size()).good();
    else ok = ds->putAndInsertUint16Array(DCM_PixelData, reinterpret_cast<Uint16*>(pix.data()), pix.size() / 2).good();
    ECVL_CHECK(ok, "DicomWrite: " << what << ": cannot store the pixel data");
    const std::string tmp = filename + ".tmp" + std::to_string(::getpid());
    const OFCondition st = ff.saveFile(tmp.c_str(), EXS_LittleEndianExplicit);
    std::error_code ec;
    if (st.bad() || std::rename(tmp.c_str(), filename.c_str()) != 0) {
        std::filesystem::remove(tmp, ec);
        ECVL_FAIL("DicomWrite: " << what << ": cannot write (" << (st.bad() ? st.text() : std::strerror(errno)) << ")");
    }
    return true;
}

}  // namespace ecvl
