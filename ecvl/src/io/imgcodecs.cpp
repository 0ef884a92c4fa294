// ImRead / ImWrite through OpenCV's codecs, with the checks OpenCV does not make: a missing file,
// a truncated JPEG (libjpeg fills the missing rows with grey and only warns), a short BMP or PNG.
#include "ecvl/io.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/opencv_bridge.h"

namespace ecvl {
namespace {

int cv_flags(ImReadMode m) {
    switch (m) {
        case ImReadMode::UNCHANGED: return cv::IMREAD_UNCHANGED;
        case ImReadMode::GRAYSCALE: return cv::IMREAD_GRAYSCALE | cv::IMREAD_ANYDEPTH;
        case ImReadMode::COLOR: return cv::IMREAD_COLOR | cv::IMREAD_ANYDEPTH;
        default: return cv::IMREAD_ANYCOLOR | cv::IMREAD_ANYDEPTH;
    }
}

std::vector<uint8_t> read_file(const std::string& path, const char* who) {
    std::error_code ec;
    const auto st = std::filesystem::status(path, ec);
    ECVL_CHECK(std::filesystem::exists(st), who << ": '" << path << "': no such file");
    ECVL_CHECK(std::filesystem::is_regular_file(st), who << ": '" << path << "' is not a regular file");
    std::ifstream f(path, std::ios::binary);
    ECVL_CHECK(f, who << ": '" << path << "' cannot be opened: " << std::strerror(errno));
    std::vector<uint8_t> buf((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    ECVL_CHECK(!f.bad(), who << ": reading '" << path << "' failed: " << std::strerror(errno));
    ECVL_CHECK(!buf.empty(), who << ": '" << path << "' is empty");
    return buf;
}

bool starts_with(const std::vector<uint8_t>& b, std::initializer_list<uint8_t> sig) {
    return b.size() >= sig.size() && std::equal(sig.begin(), sig.end(), b.begin());
}

// Structural checks that catch truncation the decoders let through or report only as warnings.
void check_complete(const std::vector<uint8_t>& b, const std::string& what) {
    if (starts_with(b, {0xFF, 0xD8, 0xFF})) {  // JPEG: must end with the end-of-image marker
        size_t end = b.size();
        while (end > 2 && b[end - 1] == 0) --end;  // some writers pad
        ECVL_CHECK(end >= 2 && b[end - 2] == 0xFF && b[end - 1] == 0xD9,
                   "ImRead: " << what << ": truncated JPEG (no end-of-image marker)");
    } else if (starts_with(b, {0x89, 'P', 'N', 'G'})) {  // PNG: the IEND chunk closes the file
        static const uint8_t iend[] = {'I', 'E', 'N', 'D'};
        ECVL_CHECK(std::search(b.begin(), b.end(), std::begin(iend), std::end(iend)) != b.end(),
                   "ImRead: " << what << ": truncated PNG (no IEND chunk)");
    } else if (starts_with(b, {'B', 'M'}) && b.size() >= 6) {  // BMP: the header states the size
        const uint32_t size = uint32_t(b[2]) | uint32_t(b[3]) << 8 | uint32_t(b[4]) << 16 | uint32_t(b[5]) << 24;
        ECVL_CHECK(b.size() >= size, "ImRead: " << what << ": truncated BMP (" << b.size() << " of " << size << " bytes)");
    }
}

// A decoded Mat as a planar "xyc" image: GRAY, BGR, or RGBA (OpenCV's BGRA reordered).
Image planar(const cv::Mat& decoded, const std::string& what) {
    cv::Mat m = decoded;
    const int c = m.channels();
    ECVL_CHECK(c == 1 || c == 3 || c == 4, "ImRead: " << what << ": " << c << " channels (expected 1, 3 or 4)");
    if (c == 4) cv::cvtColor(decoded, m, cv::COLOR_BGRA2RGBA);
    const ColorType ct = c == 1 ? ColorType::GRAY : c == 3 ? ColorType::BGR : ColorType::RGBA;
    Image out;
    if (c == 1) {
        const Image gray = detail::MatToImage(m, ColorType::none);  // "xy", sharing m
        out = Image({gray.dims_[0], gray.dims_[1], 1}, gray.elemtype_, "xyc", ColorType::GRAY);
        std::memcpy(out.data_, gray.data_, gray.datasize_);
    } else {
        RearrangeChannels(detail::MatToImage(m, ct), out, "xyc");
    }
    return out;
}

Image decode(const std::vector<uint8_t>& buf, ImReadMode mode, const std::string& what) {
    check_complete(buf, what);
    cv::Mat m;
    try {
        m = cv::imdecode(cv::_InputArray(buf.data(), int(buf.size())), cv_flags(mode));
    } catch (const cv::Exception& e) {
        ECVL_FAIL("ImRead: " << what << ": the decoder failed: " << e.what());
    }
    ECVL_CHECK(!m.empty(), "ImRead: " << what << ": not a readable image (unknown format, or corrupt data)");
    return planar(m, what);
}

std::string lower_extension(const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
    return ext;
}

// Writes bytes to a temporary beside `path`, flushes it to disk and renames it over `path`.
void write_atomically(const std::string& path, const std::vector<uint8_t>& bytes) {
    const std::string tmp = path + ".tmp" + std::to_string(::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ECVL_CHECK(fd >= 0, "ImWrite: cannot create '" << tmp << "': " << std::strerror(errno));
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int err = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            ECVL_FAIL("ImWrite: writing '" << tmp << "' failed: " << std::strerror(err));
        }
        done += size_t(n);
    }
    const bool synced = ::fsync(fd) == 0;
    const int err = errno;
    ::close(fd);
    if (!synced || std::rename(tmp.c_str(), path.c_str()) != 0) {
        ::unlink(tmp.c_str());
        ECVL_FAIL("ImWrite: cannot write '" << path << "': " << std::strerror(synced ? errno : err));
    }
}

}  // namespace

bool ImRead(const std::string& filename, Image& dst, ImReadMode mode) {
    const std::string name = std::filesystem::path(filename).filename().string();
    auto ends = [&](const std::string& e) { return name.size() > e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0; };
    if (ends(".nii") || ends(".nii.gz")) return NiftiRead(filename, dst);  // volumes: the mode does not apply
    dst = decode(read_file(filename, "ImRead"), mode, "'" + filename + "'");
    return true;
}

bool ImRead(const std::vector<uint8_t>& buffer, Image& dst, ImReadMode mode, const std::string& what) {
    ECVL_CHECK(!buffer.empty(), "ImRead: " << what << " is empty");
    dst = decode(buffer, mode, what);
    return true;
}

bool ImReadMulti(const std::string& filename, std::vector<Image>& dst, ImReadMode mode) {
    const std::string what = "'" + filename + "'";
    check_complete(read_file(filename, "ImReadMulti"), what);
    std::vector<cv::Mat> pages;
    bool ok = false;
    try {
        ok = cv::imreadmulti(filename, pages, cv_flags(mode));
    } catch (const cv::Exception& e) {
        ECVL_FAIL("ImReadMulti: " << what << ": the decoder failed: " << e.what());
    }
    ECVL_CHECK(ok && !pages.empty(), "ImReadMulti: " << what << ": not a readable image (unknown format, or corrupt data)");
    std::vector<Image> out;
    for (size_t i = 0; i < pages.size(); ++i) out.push_back(planar(pages[i], what + " page " + std::to_string(i)));
    dst = std::move(out);
    return true;
}

bool ImReadStack(const std::string& filename, Image& dst, ImReadMode mode) {
    std::vector<Image> pages;
    ImReadMulti(filename, pages, mode);
    const Image& first = pages[0];
    const int w = first.dims_[0], h = first.dims_[1], c = first.dims_[2];
    Image vol({w, h, int(pages.size()), c}, first.elemtype_, "xyzc", first.colortype_);
    const size_t plane = size_t(w) * h * first.elemsize_;
    for (size_t z = 0; z < pages.size(); ++z) {
        const Image& p = pages[z];
        ECVL_CHECK(p.dims_ == first.dims_ && p.elemtype_ == first.elemtype_,
                   "ImReadStack: '" << filename << "': page " << z << " is " << p.dims_[0] << "x" << p.dims_[1] << "x"
                                    << p.dims_[2] << " " << DataTypeName(p.elemtype_) << ", page 0 is " << w << "x" << h
                                    << "x" << c << " " << DataTypeName(first.elemtype_));
        for (int ch = 0; ch < c; ++ch)  // planar pages: plane ch of page z -> (z, ch) of the volume
            std::memcpy(vol.Ptr({0, 0, int(z), ch}), p.data_ + ch * plane, plane);
    }
    dst = std::move(vol);
    return true;
}

bool ImWrite(const std::string& filename, const Image& img) {
    const std::string ext = lower_extension(filename);
    static const std::vector<std::string> known = {".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".pgm", ".pbm", ".tif", ".tiff"};
    ECVL_CHECK(std::find(known.begin(), known.end(), ext) != known.end(),
               "ImWrite: '" << filename << "': unknown extension '" << ext
                            << "' (use .png, .jpg, .jpeg, .bmp, .ppm, .pgm, .pbm, .tif or .tiff)");
    ECVL_CHECK(!img.IsEmpty(), "ImWrite: '" << filename << "': the image is empty");
    const ColorType ct = img.colortype_;
    ECVL_CHECK(ct == ColorType::none || ct == ColorType::GRAY || ct == ColorType::BGR || ct == ColorType::RGB ||
                   ct == ColorType::RGBA,
               "ImWrite: '" << filename << "': colour type " << ColorTypeName(ct)
                            << " cannot be written; convert to BGR, RGB or GRAY first");
    // what each format holds without silent conversion (OpenCV would squeeze a float into 8 bits)
    const DataType t = img.elemtype_;
    const bool tiff = ext == ".tif" || ext == ".tiff";
    const bool ok_type = t == DataType::uint8 ||
                         (t == DataType::uint16 && (ext == ".png" || ext == ".ppm" || ext == ".pgm" || tiff)) ||
                         (t == DataType::float32 && tiff);
    ECVL_CHECK(ok_type, "ImWrite: '" << filename << "': " << ext << " cannot hold " << DataTypeName(t)
                                     << " pixels (uint8 everywhere; uint16 in .png, .ppm, .pgm, .tiff; float32 in .tiff)");
    cv::Mat m;
    try {
        m = detail::ImageToMat(img);
    } catch (const Error& e) {
        ECVL_FAIL("ImWrite: '" << filename << "': " << e.what());
    }
    if (ct == ColorType::RGB) cv::cvtColor(m, m, cv::COLOR_RGB2BGR);
    if (ct == ColorType::RGBA) cv::cvtColor(m, m, cv::COLOR_RGBA2BGRA);
    std::vector<uint8_t> bytes;
    bool ok = false;
    try {
        // TIFF: LZW, lossless for every type (OpenCV's default for 3-channel float is lossy LogLuv)
        ok = cv::imencode(ext, m, bytes, tiff ? std::vector<int>{cv::IMWRITE_TIFF_COMPRESSION, 5} : std::vector<int>{});
    } catch (const cv::Exception& e) {
        ECVL_FAIL("ImWrite: '" << filename << "': cannot encode " << m.channels() << "-channel "
                               << DataTypeName(img.elemtype_) << " as " << ext << ": " << e.err);
    }
    ECVL_CHECK(ok, "ImWrite: '" << filename << "': cannot encode " << m.channels() << "-channel "
                                << DataTypeName(img.elemtype_) << " as " << ext);
    write_atomically(filename, bytes);
    return true;
}

}  // namespace ecvl
