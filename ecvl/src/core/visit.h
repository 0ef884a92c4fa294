// Internal: run type-generic code on an image's element type.
#pragma once
#include <cstdint>

#include "ecvl/image.h"

namespace ecvl::detail {

/// Calls f(T{}) with the C++ type of t; throws for DataType::none.
template <class F>
decltype(auto) visit(DataType t, F&& f) {
    switch (t) {
        case DataType::int8: return f(int8_t{});
        case DataType::int16: return f(int16_t{});
        case DataType::int32: return f(int32_t{});
        case DataType::int64: return f(int64_t{});
        case DataType::float32: return f(float{});
        case DataType::float64: return f(double{});
        case DataType::uint8: return f(uint8_t{});
        case DataType::uint16: return f(uint16_t{});
        default: ECVL_FAIL("operation on an image of type none (an empty image?)");
    }
}

}  // namespace ecvl::detail
