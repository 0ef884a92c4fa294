// ecvl::Image: one type for 2-D images, volumes and slides of any pixel type.
//
// Layout: dims_[0] varies fastest, as in ECVL. The channel string names each axis: x (width),
// y (height), z (depth), c (colour), t (time), o (any other). "xyc" is planar (what readers
// return), "cxy" interleaved (OpenCV's), "xyz" a volume, "xyzc", "xyzt". Strides are in bytes.
//
// Ownership: pixel memory is shared and reference-counted. A view (View) is an Image that shares
// its source's memory, with the source's strides; it stays valid while it lives, even after the
// source is destroyed or reassigned. Copying an Image (constructor or assignment) makes a deep,
// contiguous copy; moving steals the memory.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "ecvl/error.h"

namespace ecvl {

/// Pixel types. Signed types first, as in ECVL.
enum class DataType : uint8_t { int8, int16, int32, int64, float32, float64, uint8, uint16, none };
size_t DataTypeSize(DataType t);       ///< bytes per element; 0 for none
const char* DataTypeName(DataType t);  ///< "uint8", "float32", ...

/// Colour model of the `c` axis; none when the image has no colour axis (or it is not colour).
enum class ColorType { none, GRAY, RGB, RGBA, BGR, HSV, YCbCr };
const char* ColorTypeName(ColorType t);
int ColorTypeChannels(ColorType t);  ///< 1, 3 or 4; 0 for none

/// Where the pixels live. CPU only in this build; GPU is reserved (asking for it throws).
enum class Device { NONE, CPU, GPU };

/// A metadata value: text (patient id, modality), a whole number, or a real number.
using MetaData = std::variant<std::string, int64_t, double>;

class Image {
public:
    DataType elemtype_ = DataType::none;
    uint8_t elemsize_ = 0;
    std::vector<int> dims_;           ///< size of each axis, axis 0 fastest
    std::vector<int64_t> strides_;    ///< bytes between neighbours along each axis
    std::string channels_;            ///< one letter per axis (see above)
    ColorType colortype_ = ColorType::none;
    std::vector<float> spacings_;     ///< physical size of a step along each axis (mm), 1 when unknown
    uint8_t* data_ = nullptr;         ///< first element
    size_t datasize_ = 0;             ///< bytes spanned by the elements
    bool contiguous_ = true;          ///< strides are the dense ones
    std::map<std::string, MetaData> meta_;
    Device dev_ = Device::NONE;

    Image() = default;
    /// A new contiguous image, zero-filled. Throws if the channel string and the dimensions
    /// disagree, if a dimension is not positive, or if the colour type does not match the size
    /// of the `c` axis (GRAY 1, RGB/BGR/HSV/YCbCr 3, RGBA 4).
    Image(const std::vector<int>& dims, DataType elemtype, const std::string& channels, ColorType colortype,
          const std::vector<float>& spacings = {}, Device dev = Device::CPU,
          const std::map<std::string, MetaData>& meta = {});
    Image(const Image& other);             ///< deep, contiguous copy
    Image& operator=(const Image& other);  ///< deep, contiguous copy
    Image(Image&& other) noexcept;
    Image& operator=(Image&& other) noexcept;
    ~Image() = default;

    bool IsEmpty() const { return data_ == nullptr; }
    /// False for views (they share another image's memory).
    bool IsOwner() const { return !view_; }
    size_t Elements() const;  ///< product of the dimensions

    int Width() const;     ///< size of x (throws if absent)
    int Height() const;    ///< size of y (throws if absent)
    int Channels() const;  ///< size of c, else z, else o, else 1

    /// Address of the element at coords (one per axis); throws if out of range.
    uint8_t* Ptr(const std::vector<int>& coords);
    const uint8_t* Ptr(const std::vector<int>& coords) const;
    /// The element at coords as T; T must be the image's type.
    template <class T>
    T& At(const std::vector<int>& coords) {
        check_type(type_of<T>());
        return *reinterpret_cast<T*>(Ptr(coords));
    }
    template <class T>
    const T& At(const std::vector<int>& coords) const {
        check_type(type_of<T>());
        return *reinterpret_cast<const T*>(Ptr(coords));
    }
    /// The element at coords converted to double, whatever the type.
    double Get(const std::vector<int>& coords) const;

    /// Every element set to v (saturated to the type).
    void SetTo(double v);
    /// Converts the pixels in place. saturate: clamp to the new type's range and round to nearest
    /// (NaN becomes 0); otherwise C++ truncation toward zero, wrapping modulo the integer width.
    void ConvertTo(DataType dtype, bool saturate = true);

    void SetMeta(const std::string& key, const MetaData& value) { meta_[key] = value; }
    /// Throws, naming the key and the keys there are, if absent.
    const MetaData& GetMeta(const std::string& key) const;

    /// A deep copy that is contiguous even when this image is a view.
    Image Clone() const { return Image(*this); }

    /// An image over foreign memory (contiguous, axis 0 fastest), without copying: `owner` keeps
    /// that memory alive as long as the image or any view of it lives (pass a shared_ptr whose
    /// deleter releases it). With an empty `owner` the caller keeps the memory alive; call Clone()
    /// on the result for an independent copy (initializing an Image from the returned value does
    /// not copy). Not a view: IsOwner() is true and ConvertTo may replace it.
    static Image Wrap(const std::vector<int>& dims, DataType elemtype, const std::string& channels, ColorType colortype,
                      uint8_t* data, std::shared_ptr<void> owner);

    template <class T>
    static constexpr DataType type_of() {
        if constexpr (std::is_same_v<T, int8_t>) return DataType::int8;
        else if constexpr (std::is_same_v<T, int16_t>) return DataType::int16;
        else if constexpr (std::is_same_v<T, int32_t>) return DataType::int32;
        else if constexpr (std::is_same_v<T, int64_t>) return DataType::int64;
        else if constexpr (std::is_same_v<T, float>) return DataType::float32;
        else if constexpr (std::is_same_v<T, double>) return DataType::float64;
        else if constexpr (std::is_same_v<T, uint8_t>) return DataType::uint8;
        else if constexpr (std::is_same_v<T, uint16_t>) return DataType::uint16;
        else return DataType::none;
    }

private:
    friend Image View(const Image& img, const std::vector<int>& start, const std::vector<int>& size);
    void check_type(DataType t) const;
    std::shared_ptr<void> storage_;  // keeps the memory alive for views
    bool view_ = false;
};

/// A view of the box start .. start + size (one value per axis; size -1 = to the end) sharing
/// img's memory: writing through it writes img. Cropping part of the `c` axis gives GRAY for one
/// plane and no colour type otherwise.
Image View(const Image& img, const std::vector<int>& start, const std::vector<int>& size);

/// dst = src with its axes reordered to `channels` (a permutation of src's channel string), e.g.
/// "xyc" -> "cxy"; spacings follow their axes. dst is contiguous.
void RearrangeChannels(const Image& src, Image& dst, const std::string& channels);
/// dst = src converted to dtype (see Image::ConvertTo); dst is contiguous.
void ConvertTo(const Image& src, Image& dst, DataType dtype, bool saturate = true);
/// Copies src's pixels into dst. If dst owns its memory it is reshaped to src; if dst is a view,
/// sizes must agree and the pixels land in the viewed image (converted to dst's type).
void CopyImage(const Image& src, Image& dst);

}  // namespace ecvl

namespace ecvl {

/// Element-wise arithmetic between two images of the same dimensions and channel string (any
/// element types, views too), or an image and a number. dst_type none = src1's type. saturate:
/// results clamped to the type's range and rounded (integer division by zero gives 0); otherwise
/// truncated and wrapped. dst may be one of the sources.
void Add(const Image& src1, const Image& src2, Image& dst, DataType dst_type = DataType::none, bool saturate = true);
void Sub(const Image& src1, const Image& src2, Image& dst, DataType dst_type = DataType::none, bool saturate = true);
void Mul(const Image& src1, const Image& src2, Image& dst, DataType dst_type = DataType::none, bool saturate = true);
void Div(const Image& src1, const Image& src2, Image& dst, DataType dst_type = DataType::none, bool saturate = true);
void Add(const Image& src, double value, Image& dst, bool saturate = true);
void Sub(const Image& src, double value, Image& dst, bool saturate = true);
void Mul(const Image& src, double value, Image& dst, bool saturate = true);
void Div(const Image& src, double value, Image& dst, bool saturate = true);

/// The same as operators (saturating, result of the left operand's type).
Image operator+(const Image& a, const Image& b);
Image operator-(const Image& a, const Image& b);
Image operator*(const Image& a, const Image& b);
Image operator/(const Image& a, const Image& b);
Image operator+(const Image& a, double v);
Image operator-(const Image& a, double v);
Image operator*(const Image& a, double v);
Image operator/(const Image& a, double v);
Image operator-(const Image& a);  ///< negation (saturated: -128 int8 becomes 127)

}  // namespace ecvl
