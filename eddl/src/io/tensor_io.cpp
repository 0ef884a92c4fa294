// Tensor files: EDDL .bin, NumPy .npy and IDX (MNIST's format), each validated before use.
#include <algorithm>
#include <bit>
#include <cstring>

#include "eddl/tensor.h"
#include "io/atomic_file.h"

namespace eddl {
namespace {

bool ends_with(const std::string& s, const std::string& suf) {
    return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

std::string format_of(const std::string& path) {
    std::string p = path;
    if (ends_with(p, ".gz")) p.resize(p.size() - 3);
    if (ends_with(p, ".bin")) return "bin";
    if (ends_with(p, ".npy")) return "npy";
    if (ends_with(p, ".idx") || ends_with(p, "-ubyte") || p.find("-idx") != std::string::npos) return "idx";
    EDDL_FAIL("cannot tell the format of '" << path << "' from its name; pass format \"bin\", \"npy\" or \"idx\"");
}

int64_t checked_numel(const Shape& s, const std::string& path) {
    int64_t n = 1;
    for (int d : s) {
        EDDL_CHECK(d > 0, "'" << path << "': invalid shape " << shape_str(s));
        EDDL_CHECK(n <= (int64_t(1) << 40) / d, "'" << path << "': shape " << shape_str(s) << " is implausibly large");
        n *= d;
    }
    return n;
}

template <class T>
T read_le(const std::string& b, size_t off) {
    T v;
    std::memcpy(&v, b.data() + off, sizeof(T));
    return v;
}

uint32_t read_be32(const std::string& b, size_t off) {
    const auto* p = reinterpret_cast<const unsigned char*>(b.data() + off);
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

tensor load_bin(const std::string& path, const std::string& b) {
    EDDL_CHECK(b.size() >= 4, "'" << path << "': too short for an EDDL .bin header (" << b.size() << " bytes)");
    const int32_t ndim = read_le<int32_t>(b, 0);
    EDDL_CHECK(ndim >= 1 && ndim <= 8, "'" << path << "': not an EDDL .bin tensor (ndim field is " << ndim << ")");
    const size_t header = 4 + 4 * size_t(ndim);
    EDDL_CHECK(b.size() >= header, "'" << path << "': truncated in the shape header");
    Shape s(ndim);
    for (int i = 0; i < ndim; ++i) s[i] = read_le<int32_t>(b, 4 + 4 * i);
    const int64_t n = checked_numel(s, path);
    const size_t want = header + size_t(n) * 4;
    EDDL_CHECK(b.size() >= want, "'" << path << "': truncated: shape " << shape_str(s) << " needs " << want
                                     << " bytes, file has " << b.size());
    EDDL_CHECK(b.size() == want, "'" << path << "': " << b.size() - want << " unexpected bytes after the data of shape "
                                     << shape_str(s));
    auto t = Tensor::empty(s);
    std::memcpy(t->ptr, b.data() + header, size_t(n) * 4);
    return t;
}

template <class T>
void convert(const char* src, float* dst, int64_t n, bool swap) {
    for (int64_t i = 0; i < n; ++i) {
        T v;
        std::memcpy(&v, src + i * sizeof(T), sizeof(T));
        if (swap) {
            if constexpr (sizeof(T) == 2) v = std::bit_cast<T>(__builtin_bswap16(std::bit_cast<uint16_t>(v)));
            if constexpr (sizeof(T) == 4) v = std::bit_cast<T>(__builtin_bswap32(std::bit_cast<uint32_t>(v)));
            if constexpr (sizeof(T) == 8) v = std::bit_cast<T>(__builtin_bswap64(std::bit_cast<uint64_t>(v)));
        }
        dst[i] = float(v);
    }
}

tensor load_idx(const std::string& path, const std::string& b) {
    EDDL_CHECK(b.size() >= 4 && b[0] == 0 && b[1] == 0,
               "'" << path << "': not an IDX file (bad magic number)");
    const int type = static_cast<unsigned char>(b[2]), ndim = static_cast<unsigned char>(b[3]);
    EDDL_CHECK(ndim >= 1 && ndim <= 8, "'" << path << "': IDX file with " << ndim << " dimensions");
    size_t esize;
    switch (type) {
        case 0x08: case 0x09: esize = 1; break;
        case 0x0B: esize = 2; break;
        case 0x0C: case 0x0D: esize = 4; break;
        case 0x0E: esize = 8; break;
        default: EDDL_FAIL("'" << path << "': unknown IDX element type 0x" << std::hex << type);
    }
    const size_t header = 4 + 4 * size_t(ndim);
    EDDL_CHECK(b.size() >= header, "'" << path << "': truncated in the IDX header");
    Shape s(ndim);
    for (int i = 0; i < ndim; ++i) {
        const uint32_t d = read_be32(b, 4 + 4 * i);
        EDDL_CHECK(d > 0 && d < (1u << 31), "'" << path << "': IDX dimension " << i << " is " << d);
        s[i] = int(d);
    }
    const int64_t n = checked_numel(s, path);
    const size_t want = header + size_t(n) * esize;
    EDDL_CHECK(b.size() >= want, "'" << path << "': truncated: IDX shape " << shape_str(s) << " needs " << want
                                     << " bytes, file has " << b.size());
    EDDL_CHECK(b.size() == want, "'" << path << "': " << b.size() - want << " unexpected bytes after the IDX data");
    auto t = Tensor::empty(s);
    const char* d = b.data() + header;
    const bool swap = std::endian::native == std::endian::little;  // IDX is big-endian
    switch (type) {
        case 0x08: convert<uint8_t>(d, t->ptr, n, false); break;
        case 0x09: convert<int8_t>(d, t->ptr, n, false); break;
        case 0x0B: convert<int16_t>(d, t->ptr, n, swap); break;
        case 0x0C: convert<int32_t>(d, t->ptr, n, swap); break;
        case 0x0D: convert<float>(d, t->ptr, n, swap); break;
        case 0x0E: convert<double>(d, t->ptr, n, swap); break;
    }
    return t;
}

// Value of `key` in a NumPy header dict like {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
std::string npy_field(const std::string& h, const std::string& key, const std::string& path) {
    const auto k = h.find("'" + key + "'");
    EDDL_CHECK(k != std::string::npos, "'" << path << "': .npy header has no '" << key << "'");
    auto p = h.find(':', k);
    EDDL_CHECK(p != std::string::npos, "'" << path << "': malformed .npy header");
    ++p;
    while (p < h.size() && h[p] == ' ') ++p;
    EDDL_CHECK(p < h.size(), "'" << path << "': malformed .npy header");
    size_t e;
    if (h[p] == '\'') {
        e = h.find('\'', p + 1);
        EDDL_CHECK(e != std::string::npos, "'" << path << "': malformed .npy header");
        return h.substr(p + 1, e - p - 1);
    }
    if (h[p] == '(') {
        e = h.find(')', p);
        EDDL_CHECK(e != std::string::npos, "'" << path << "': malformed .npy header");
        return h.substr(p, e - p + 1);
    }
    e = h.find_first_of(",}", p);
    EDDL_CHECK(e != std::string::npos, "'" << path << "': malformed .npy header");
    return h.substr(p, e - p);
}

tensor load_npy(const std::string& path, const std::string& b) {
    EDDL_CHECK(b.size() >= 10 && b.compare(0, 6, "\x93NUMPY") == 0, "'" << path << "': not a .npy file (bad magic)");
    const int major = static_cast<unsigned char>(b[6]);
    EDDL_CHECK(major >= 1 && major <= 3, "'" << path << "': unsupported .npy version " << major);
    size_t hlen, hoff;
    if (major == 1) {
        hlen = read_le<uint16_t>(b, 8);
        hoff = 10;
    } else {
        EDDL_CHECK(b.size() >= 12, "'" << path << "': truncated .npy header");
        hlen = read_le<uint32_t>(b, 8);
        hoff = 12;
    }
    EDDL_CHECK(b.size() >= hoff + hlen, "'" << path << "': truncated .npy header");
    const std::string h = b.substr(hoff, hlen);
    const std::string descr = npy_field(h, "descr", path);
    EDDL_CHECK(npy_field(h, "fortran_order", path) == "False",
               "'" << path << "': Fortran-ordered arrays are not supported; save with np.ascontiguousarray");
    const std::string st = npy_field(h, "shape", path);
    Shape s;
    std::string num;
    for (char c : st.substr(1)) {
        if (std::isdigit(static_cast<unsigned char>(c))) num += c;
        else if (c == ',' || c == ')') {
            if (!num.empty()) s.push_back(std::stoi(num));
            num.clear();
        } else EDDL_CHECK(c == ' ', "'" << path << "': malformed shape " << st);
    }
    if (s.empty()) s = {1};  // a 0-d array holds one value
    const int64_t n = checked_numel(s, path);
    EDDL_CHECK(descr.size() >= 3, "'" << path << "': unknown dtype '" << descr << "'");
    const char order = descr[0], kind = descr[1];
    const int esize = std::atoi(descr.c_str() + 2);
    const bool swap = (order == '>' && std::endian::native == std::endian::little) ||
                      (order == '<' && std::endian::native == std::endian::big);
    const size_t want = hoff + hlen + size_t(n) * size_t(esize);
    EDDL_CHECK(b.size() >= want, "'" << path << "': truncated: shape " << shape_str(s) << " of " << descr << " needs "
                                     << want << " bytes, file has " << b.size());
    auto t = Tensor::empty(s);
    const char* d = b.data() + hoff + hlen;
    if (kind == 'f' && esize == 4) convert<float>(d, t->ptr, n, swap);
    else if (kind == 'f' && esize == 8) convert<double>(d, t->ptr, n, swap);
    else if (kind == 'u' && esize == 1) convert<uint8_t>(d, t->ptr, n, false);
    else if (kind == 'i' && esize == 1) convert<int8_t>(d, t->ptr, n, false);
    else if (kind == 'i' && esize == 2) convert<int16_t>(d, t->ptr, n, swap);
    else if (kind == 'u' && esize == 2) convert<uint16_t>(d, t->ptr, n, swap);
    else if (kind == 'i' && esize == 4) convert<int32_t>(d, t->ptr, n, swap);
    else if (kind == 'i' && esize == 8) convert<int64_t>(d, t->ptr, n, swap);
    else if (kind == 'b' && esize == 1) convert<uint8_t>(d, t->ptr, n, false);
    else EDDL_FAIL("'" << path << "': unsupported .npy dtype '" << descr << "'");
    return t;
}

}  // namespace

tensor Tensor::load(const std::string& path, std::string format) {
    if (format.empty()) format = format_of(path);
    const std::string bytes = io::read_file(path);
    if (format == "bin") return load_bin(path, bytes);
    if (format == "npy") return load_npy(path, bytes);
    if (format == "idx") return load_idx(path, bytes);
    EDDL_FAIL("load '" << path << "': unknown format '" << format << "' (use bin, npy or idx)");
}

void Tensor::save(const std::string& path, std::string format) const {
    if (format.empty()) format = format_of(path);
    EDDL_CHECK(isCPU(), "save '" << path << "': tensor is on " << device.str() << "; copy it to the CPU first");
    std::string out;
    if (format == "bin") {
        const int32_t nd = ndim;
        out.append(reinterpret_cast<const char*>(&nd), 4);
        for (int d : shape) {
            const int32_t v = d;
            out.append(reinterpret_cast<const char*>(&v), 4);
        }
    } else if (format == "npy") {
        std::string h = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
        for (int d : shape) h += std::to_string(d) + ", ";
        if (ndim > 1) h.resize(h.size() - 1);
        if (ndim > 1) h.back() = ')'; else h += ")";
        h += ", }";
        // pad so that the data starts on a 64-byte boundary, as NumPy does
        while ((10 + h.size() + 1) % 64) h += ' ';
        h += '\n';
        out = std::string("\x93NUMPY\x01\x00", 8);
        const uint16_t hl = uint16_t(h.size());
        out.append(reinterpret_cast<const char*>(&hl), 2);
        out += h;
    } else {
        EDDL_FAIL("save '" << path << "': unknown format '" << format << "' (use bin or npy)");
    }
    out.append(reinterpret_cast<const char*>(ptr), size_t(size) * sizeof(float));
    io::write_file_atomic(path, out);
}

}  // namespace eddl
