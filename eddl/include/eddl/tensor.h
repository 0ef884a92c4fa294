// eddl::Tensor: float32, N-dimensional, row-major, on one device.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "eddl/error.h"

namespace eddl {

using Shape = std::vector<int>;  ///< dimensions, outermost first (NCHW for images)

/// Where a tensor's storage lives. CPU today; CUDA slots in without changing any op code.
enum class DeviceType { CPU = 0, CUDA = 1 };
struct Device {
    DeviceType type = DeviceType::CPU;
    int index = 0;
    bool operator==(const Device&) const = default;
    std::string str() const;  ///< "cpu", "cuda:0"
};

class Tensor;
using tensor = std::shared_ptr<Tensor>;  ///< handle type of Listing 1; owns its tensor
using vtensor = std::vector<tensor>;

/// A float32 tensor with contiguous row-major storage aligned to 64 bytes.
///
/// Three forms per operation, as in EDDL: in-place `op_()` returning *this, `op()` returning a
/// new tensor, and static `Tensor::op(A, B, C)` writing into a preallocated C. Shapes are
/// checked on every call; a mismatch throws eddl::Error naming both shapes.
/// Reshape shares storage (a view); every other shape op (permute, select, concat) copies.
class Tensor {
public:
    Tensor();                                                     ///< empty, shape {}
    explicit Tensor(const Shape& shape, Device dev = {});         ///< uninitialized values
    Tensor(const std::vector<float>& data, const Shape& shape, Device dev = {});

    // ---- creation (static, return handles) ---------------------------------------------
    static tensor empty(const Shape& shape, Device dev = {});
    static tensor zeros(const Shape& shape, Device dev = {});
    static tensor ones(const Shape& shape, Device dev = {});
    static tensor full(const Shape& shape, float value, Device dev = {});
    static tensor arange(float start, float end, float step = 1.0f, Device dev = {});  ///< [start, end)
    static tensor range(float start, float end, float step = 1.0f, Device dev = {});   ///< [start, end]
    static tensor linspace(float start, float end, int steps = 100, Device dev = {});
    static tensor eye(int rows, int offset = 0, Device dev = {});
    static tensor randn(const Shape& shape, uint64_t seed = 1234, Device dev = {});  ///< N(0, 1)
    static tensor randu(const Shape& shape, uint64_t seed = 1234, Device dev = {});  ///< U[0, 1)
    /// One-hot encoding of integer class ids (any shape) -> shape + {num_classes}.
    static tensor onehot(const Tensor& labels, int num_classes);
    tensor clone() const;

    // ---- information ---------------------------------------------------------------
    const Shape& getShape() const { return shape; }
    int64_t numel() const { return size; }
    bool isCPU() const { return device.type == DeviceType::CPU; }
    float* data() { return ptr; }
    const float* data() const { return ptr; }
    std::vector<float> to_std() const;                ///< values, row-major, copied to the host
    float item() const;                               ///< the value of a one-element tensor
    float get(const std::vector<int>& index) const;   ///< one element, bounds-checked
    void set(const std::vector<int>& index, float v);
    std::string info() const;                         ///< "Tensor shape=(2, 3) device=cpu"
    void print(int precision = 4) const;
    static bool sameShape(const Tensor& a, const Tensor& b) { return a.shape == b.shape; }
    /// True when shapes match and |a-b| <= atol + rtol*|b| elementwise.
    static bool equivalent(const Tensor& a, const Tensor& b, float atol = 1e-5f, float rtol = 1e-5f);

    // ---- fill -------------------------------------------------------------------------
    Tensor& fill_(float v);
    Tensor& fill_rand_uniform_(float low, float high, uint64_t seed);
    Tensor& fill_rand_normal_(float mean, float stdev, uint64_t seed);
    void copy_from(const Tensor& src);  ///< same number of elements; shapes may differ

    // ---- element-wise math, in place -----------------------------------------------
    Tensor& abs_();   Tensor& neg_();    Tensor& exp_();   Tensor& log_();   Tensor& log2_();
    Tensor& log10_(); Tensor& sqrt_();   Tensor& rsqrt_(); Tensor& sqr_();   Tensor& inv_();
    Tensor& sin_();   Tensor& cos_();    Tensor& tan_();   Tensor& asin_();  Tensor& acos_();
    Tensor& atan_();  Tensor& sinh_();   Tensor& cosh_();  Tensor& tanh_();  Tensor& sigmoid_();
    Tensor& relu_();  Tensor& ceil_();   Tensor& floor_(); Tensor& round_(); Tensor& trunc_();
    Tensor& sign_();
    Tensor& clamp_(float lo, float hi);
    Tensor& pow_(float exponent);
    Tensor& add_(float v);  Tensor& sub_(float v);  Tensor& mult_(float v);  Tensor& div_(float v);
    Tensor& add_(const Tensor& B);  ///< broadcasting B onto this shape
    Tensor& sub_(const Tensor& B);
    Tensor& mult_(const Tensor& B);
    Tensor& div_(const Tensor& B);

    // ---- element-wise math, returning new tensors ----------------------------------
    tensor abs() const;  tensor neg() const;  tensor exp() const;  tensor log() const;
    tensor sqrt() const; tensor sqr() const;  tensor tanh() const; tensor sigmoid() const;
    tensor relu() const; tensor clamp(float lo, float hi) const;   tensor pow(float e) const;

    // ---- broadcasting binary ops (NumPy rules) --------------------------------------
    static tensor add(const Tensor& A, const Tensor& B);
    static tensor sub(const Tensor& A, const Tensor& B);
    static tensor mult(const Tensor& A, const Tensor& B);  ///< element-wise
    static tensor div(const Tensor& A, const Tensor& B);
    static tensor maximum(const Tensor& A, const Tensor& B);
    static tensor minimum(const Tensor& A, const Tensor& B);
    static void add(const Tensor& A, const Tensor& B, Tensor& C);
    static void sub(const Tensor& A, const Tensor& B, Tensor& C);
    static void mult(const Tensor& A, const Tensor& B, Tensor& C);
    static void div(const Tensor& A, const Tensor& B, Tensor& C);

    // ---- reductions -------------------------------------------------------------------
    float sum() const;  float mean() const;  float max() const;  float min() const;
    float var() const;  float std() const;   int argmax() const;  ///< over all elements
    tensor sum(const std::vector<int>& axes, bool keepdims = false) const;
    tensor mean(const std::vector<int>& axes, bool keepdims = false) const;
    tensor max(const std::vector<int>& axes, bool keepdims = false) const;
    tensor min(const std::vector<int>& axes, bool keepdims = false) const;
    tensor var(const std::vector<int>& axes, bool keepdims = false) const;  ///< population var
    tensor argmax(int axis, bool keepdims = false) const;                   ///< indices as floats

    // ---- shape ----------------------------------------------------------------------------
    tensor reshape(const Shape& new_shape) const;  ///< shares storage; one dim may be -1
    Tensor& reshape_(const Shape& new_shape);
    tensor flatten() const;                        ///< 1-D view
    tensor permute(const std::vector<int>& dims) const;
    tensor transpose() const;                      ///< swaps the last two dimensions
    /// NumPy-like slicing, one string per dimension: "3", ":5", "2:7", ":" (missing = ":").
    /// A single index keeps its dimension with size 1, as in EDDL.
    tensor select(const std::vector<std::string>& ranges) const;
    /// Rows (indices along axis 0) gathered into dst; dst has shape {indices.size(), ...}.
    static void select_rows(const Tensor& src, const std::vector<int>& indices, Tensor& dst,
                            int64_t dst_row_offset = 0);
    static tensor concat(const vtensor& ts, int axis = 0);

    // ---- linear algebra ---------------------------------------------------------------
    /// C = op(A) x op(B) for 2-D, or batched over equal leading dimensions.
    static tensor matmul(const Tensor& A, const Tensor& B, bool transA = false, bool transB = false);

    // ---- files ------------------------------------------------------------------------
    /// Loads "bin" (EDDL layout: int32 ndim, int32 shape[ndim], float32 data), "npy", or "idx"
    /// (optionally gzipped, any IDX element type, converted to float). Format "" picks by
    /// extension (.bin, .npy, .idx/-ubyte, with or without .gz). Any malformed or truncated file
    /// throws eddl::Error naming the file and the problem.
    static tensor load(const std::string& path, std::string format = "");
    /// Saves as "bin" or "npy" (format "" picks by extension). Written atomically.
    void save(const std::string& path, std::string format = "") const;

    // ---- fields (EDDL names) ----------------------------------------------------------
    Shape shape;
    std::vector<int64_t> stride;
    int ndim = 0;
    int64_t size = 0;
    float* ptr = nullptr;
    Device device;

private:
    std::shared_ptr<float> storage_;  // 64-byte aligned; shared between reshape views
    void alloc_();
};

std::string shape_str(const Shape& s);  ///< "(2, 3, 4)"

}  // namespace eddl

/// EDDL 0.x tensor namespace used by Listing 1 (`eddlT::load("mnist_trX.bin")`).
namespace eddlT {
using eddl::tensor;
inline tensor load(const std::string& path, const std::string& format = "") { return eddl::Tensor::load(path, format); }
inline void save(const tensor& t, const std::string& path, const std::string& format = "") { t->save(path, format); }
inline tensor zeros(const eddl::Shape& s) { return eddl::Tensor::zeros(s); }
inline tensor ones(const eddl::Shape& s) { return eddl::Tensor::ones(s); }
inline tensor randn(const eddl::Shape& s, uint64_t seed = 1234) { return eddl::Tensor::randn(s, seed); }
inline tensor randu(const eddl::Shape& s, uint64_t seed = 1234) { return eddl::Tensor::randu(s, seed); }
inline void div_(const tensor& t, float v) { t->div_(v); }
inline tensor select(const tensor& t, const std::vector<std::string>& r) { return t->select(r); }
}  // namespace eddlT

/// EDDL 1.x spelled the class at global scope (`Tensor::load`, `Tensor::randn`).
using eddl::Tensor;
