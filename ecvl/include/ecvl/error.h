// ECVL's one exception type and the CHECK macro that raises it with context.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace ecvl {

/// Every error ECVL reports is an ecvl::Error. what() names the failed condition, the values
/// involved (dimensions, types, paths) and the source location that detected it.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

namespace detail {
[[noreturn]] void throw_error(const char* file, int line, const char* cond, const std::string& msg);
}  // namespace detail

}  // namespace ecvl

/// ECVL_CHECK(cond, msg << stream << args): throws ecvl::Error with file:line, the condition and msg.
#define ECVL_CHECK(cond, ...)                                                           \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            std::ostringstream ecvl_check_os_;                                          \
            ecvl_check_os_ << __VA_ARGS__;                                              \
            ::ecvl::detail::throw_error(__FILE__, __LINE__, #cond, ecvl_check_os_.str()); \
        }                                                                               \
    } while (0)

/// ECVL_FAIL(msg): unconditional form of ECVL_CHECK.
#define ECVL_FAIL(...)                                                                  \
    do {                                                                                \
        std::ostringstream ecvl_check_os_;                                              \
        ecvl_check_os_ << __VA_ARGS__;                                                  \
        ::ecvl::detail::throw_error(__FILE__, __LINE__, nullptr, ecvl_check_os_.str()); \
    } while (0)
