// Tensor files: round trips, and every malformed or truncated input is a clear exception.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "eddl/tensor.h"

using namespace eddl;
namespace fs = std::filesystem;

namespace {

std::string tmp(const std::string& name) { return (fs::temp_directory_path() / ("eddl_io_" + name)).string(); }

void write(const std::string& path, const std::string& bytes) {
    std::ofstream f(path, std::ios::binary);
    f << bytes;
}

std::string read(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
}

void write_gz(const std::string& path, const std::string& bytes) {
    gzFile f = gzopen(path.c_str(), "wb");
    gzwrite(f, bytes.data(), unsigned(bytes.size()));
    gzclose(f);
}

void expect_load_error(const std::string& path, const std::string& needle, const std::string& fmt = "") {
    try {
        Tensor::load(path, fmt);
        FAIL() << "expected an error loading " << path;
    } catch (const Error& e) {
        const std::string w = e.what();
        EXPECT_NE(w.find(needle), std::string::npos) << w;
        EXPECT_NE(w.find(path), std::string::npos) << "message must name the file: " << w;
    }
}

template <class T>
std::string bytes_of(T v) {
    return std::string(reinterpret_cast<const char*>(&v), sizeof v);
}

std::string be32(uint32_t v) {
    std::string s(4, 0);
    for (int i = 0; i < 4; ++i) s[i] = char((v >> (24 - 8 * i)) & 0xff);
    return s;
}

}  // namespace

TEST(TensorIO, BinRoundTripAndLayout) {
    auto t = Tensor::randn({3, 4, 2}, 5);
    const auto p = tmp("a.bin");
    t->save(p);
    const std::string b = read(p);
    ASSERT_EQ(b.size(), 4 + 3 * 4 + 24 * 4u);  // int32 ndim, int32 shape[3], float32 data
    EXPECT_EQ(b.substr(0, 4), bytes_of<int32_t>(3));
    EXPECT_EQ(b.substr(4, 4), bytes_of<int32_t>(3));
    auto u = Tensor::load(p);
    EXPECT_EQ(u->shape, t->shape);
    EXPECT_EQ(u->to_std(), t->to_std());
    u = eddlT::load(p, "bin");
    EXPECT_EQ(u->to_std(), t->to_std());
}

TEST(TensorIO, BinBadInput) {
    const auto p = tmp("bad.bin");
    write(p, std::string(2, 0));
    expect_load_error(p, "too short");
    write(p, bytes_of<int32_t>(99));
    expect_load_error(p, "ndim field is 99");
    write(p, bytes_of<int32_t>(2) + bytes_of<int32_t>(3));
    expect_load_error(p, "truncated in the shape header");
    write(p, bytes_of<int32_t>(1) + bytes_of<int32_t>(-4));
    expect_load_error(p, "invalid shape");
    write(p, bytes_of<int32_t>(1) + bytes_of<int32_t>(4) + std::string(8, 0));
    expect_load_error(p, "truncated: shape (4) needs 24 bytes, file has 16");
    write(p, bytes_of<int32_t>(1) + bytes_of<int32_t>(1) + std::string(12, 0));
    expect_load_error(p, "unexpected bytes");
    expect_load_error(tmp("does_not_exist.bin"), "cannot open");
    expect_load_error(tmp("x.weird"), "cannot tell the format");
}

TEST(TensorIO, NpyRoundTripAndDtypes) {
    auto t = Tensor::randn({2, 5}, 1);
    const auto p = tmp("a.npy");
    t->save(p);
    const std::string b = read(p);
    EXPECT_EQ(b.substr(0, 6), "\x93NUMPY");
    EXPECT_EQ((b.size() - 2 * 5 * 4) % 64, 0u);  // header padded to 64 bytes like NumPy
    EXPECT_NE(b.find("'shape': (2, 5)"), std::string::npos);
    EXPECT_EQ(Tensor::load(p)->to_std(), t->to_std());
    auto v = Tensor::arange(0, 3);
    v->save(tmp("v.npy"));
    EXPECT_NE(read(tmp("v.npy")).find("(3, )"), std::string::npos);
    EXPECT_EQ(Tensor::load(tmp("v.npy"))->shape, (Shape{3}));
    // a NumPy float64 / int64 / uint8 file, as np.save writes it
    auto npy = [](const std::string& descr, const std::string& shape, const std::string& data) {
        std::string h = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
        while ((10 + h.size() + 1) % 64) h += ' ';
        h += '\n';
        return std::string("\x93NUMPY\x01\x00", 8) + bytes_of<uint16_t>(uint16_t(h.size())) + h + data;
    };
    write(p, npy("<f8", "(2,)", bytes_of<double>(1.5) + bytes_of<double>(-2.0)));
    EXPECT_EQ(Tensor::load(p)->to_std(), (std::vector<float>{1.5f, -2.0f}));
    write(p, npy("<i8", "(1, 2)", bytes_of<int64_t>(7) + bytes_of<int64_t>(-3)));
    EXPECT_EQ(Tensor::load(p)->to_std(), (std::vector<float>{7, -3}));
    write(p, npy("|u1", "(3,)", "\x01\x02\xff"));
    EXPECT_EQ(Tensor::load(p)->to_std(), (std::vector<float>{1, 2, 255}));
    write(p, npy("<c8", "(1,)", std::string(8, 0)));
    expect_load_error(p, "unsupported .npy dtype '<c8'");
    write(p, npy("<f4", "(4,)", std::string(8, 0)));
    expect_load_error(p, "truncated: shape (4)");
    write(p, "\x93NUMPX garbage");
    expect_load_error(p, "bad magic");
    std::string fo = npy("<f4", "(1,)", std::string(4, 0));
    fo.replace(fo.find("False"), 5, "True ");
    write(p, fo);
    expect_load_error(p, "Fortran-ordered");
}

TEST(TensorIO, IdxPlainAndGzip) {
    // 2x3 uint8 IDX, big-endian header
    const std::string idx = std::string("\x00\x00\x08\x02", 4) + be32(2) + be32(3) + std::string("\x00\x01\x02\x03\x04\xff", 6);
    write(tmp("a-idx2-ubyte"), idx);
    auto t = Tensor::load(tmp("a-idx2-ubyte"));
    EXPECT_EQ(t->shape, (Shape{2, 3}));
    EXPECT_EQ(t->to_std(), (std::vector<float>{0, 1, 2, 3, 4, 255}));
    write_gz(tmp("a-idx2-ubyte.gz"), idx);
    EXPECT_EQ(Tensor::load(tmp("a-idx2-ubyte.gz"))->to_std(), t->to_std());
    // int32 big-endian
    const std::string i32 = std::string("\x00\x00\x0c\x01", 4) + be32(2) + be32(0xfffffffe) + be32(300);
    write(tmp("b.idx"), i32);
    EXPECT_EQ(Tensor::load(tmp("b.idx"))->to_std(), (std::vector<float>{-2, 300}));
}

TEST(TensorIO, IdxBadInput) {
    const auto p = tmp("bad.idx");
    write(p, std::string("\x01\x02\x08\x01", 4));
    expect_load_error(p, "bad magic");
    write(p, std::string("\x00\x00\x07\x01", 4) + be32(1) + "x");
    expect_load_error(p, "unknown IDX element type");
    write(p, std::string("\x00\x00\x08\x02", 4) + be32(2));
    expect_load_error(p, "truncated in the IDX header");
    write(p, std::string("\x00\x00\x08\x01", 4) + be32(10) + "abc");
    expect_load_error(p, "truncated: IDX shape (10) needs 18 bytes, file has 11");
    // a gzip stream cut in half
    const std::string idx = std::string("\x00\x00\x08\x01", 4) + be32(5000) + std::string(5000, 'a');
    write_gz(tmp("cut-idx1-ubyte.gz"), idx);
    const std::string gz = read(tmp("cut-idx1-ubyte.gz"));
    write(tmp("cut-idx1-ubyte.gz"), gz.substr(0, gz.size() / 2));
    expect_load_error(tmp("cut-idx1-ubyte.gz"), "truncated");
}

TEST(TensorIO, SaveIsAtomic) {
    const auto p = tmp("atomic.bin");
    Tensor::ones({3})->save(p);
    // a save into a folder that does not exist fails cleanly and leaves no temporary file
    const auto bad = tmp("no_such_dir") + "/x.bin";
    EXPECT_THROW(Tensor::ones({3})->save(bad), Error);
    for (const auto& e : fs::directory_iterator(fs::temp_directory_path()))
        EXPECT_EQ(e.path().filename().string().find("eddl_io_atomic.bin.tmp"), std::string::npos);
    EXPECT_EQ(Tensor::load(p)->to_std(), (std::vector<float>{1, 1, 1}));
}

TEST(TensorIO, RealFashionMnist) {
    const std::string dir = "/usr/share/datasets/fashion-mnist/";
    if (!fs::exists(dir + "t10k-labels-idx1-ubyte.gz")) GTEST_SKIP() << "dataset-fashion-mnist not installed";
    auto y = Tensor::load(dir + "t10k-labels-idx1-ubyte.gz");
    EXPECT_EQ(y->shape, (Shape{10000}));
    EXPECT_EQ(y->min(), 0.0f);
    EXPECT_EQ(y->max(), 9.0f);
    auto x = Tensor::load(dir + "t10k-images-idx3-ubyte.gz");
    EXPECT_EQ(x->shape, (Shape{10000, 28, 28}));
    EXPECT_EQ(x->max(), 255.0f);
}
