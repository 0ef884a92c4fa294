// EDDL's one exception type and the CHECK macro that raises it with context.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace eddl {

/// Every error EDDL reports is an eddl::Error. what() names the failed condition, the values
/// involved (shapes, paths, layer names) and the source location that detected it.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

namespace detail {
[[noreturn]] void throw_error(const char* file, int line, const char* cond, const std::string& msg);
}  // namespace detail

}  // namespace eddl

/// EDDL_CHECK(cond, msg << stream << args): throws eddl::Error with file:line, the condition and msg.
#define EDDL_CHECK(cond, ...)                                                          \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            std::ostringstream eddl_check_os_;                                         \
            eddl_check_os_ << __VA_ARGS__;                                             \
            ::eddl::detail::throw_error(__FILE__, __LINE__, #cond, eddl_check_os_.str()); \
        }                                                                              \
    } while (0)

/// EDDL_FAIL(msg): unconditional form of EDDL_CHECK.
#define EDDL_FAIL(...)                                                                 \
    do {                                                                               \
        std::ostringstream eddl_check_os_;                                             \
        eddl_check_os_ << __VA_ARGS__;                                                 \
        ::eddl::detail::throw_error(__FILE__, __LINE__, nullptr, eddl_check_os_.str()); \
    } while (0)
