#include "tensor/dispatch.h"

#include <mutex>

namespace eddl {

namespace detail {
void throw_error(const char* file, int line, const char* cond, const std::string& msg) {
    std::ostringstream os;
    os << msg;
    if (cond) os << " [check '" << cond << "' failed]";
    const char* base = file;
    for (const char* p = file; *p; ++p)
        if (*p == '/') base = p + 1;
    os << " (" << base << ":" << line << ")";
    throw Error(os.str());
}
}  // namespace detail

std::string Device::str() const {
    return type == DeviceType::CPU ? "cpu" : "cuda:" + std::to_string(index);
}

const KernelTable& kernels(Device dev) {
    static KernelTable cpu_table;
    static std::once_flag once;
    std::call_once(once, [] { cpu::register_kernels(cpu_table); });
    if (dev.type == DeviceType::CPU) return cpu_table;
    EDDL_FAIL("device " << dev.str() << " requested, but this EDDL was built without a CUDA backend "
                        "(configure with -DEDDL_WITH_CUDA=ON on a machine with the CUDA toolkit)");
}

}  // namespace eddl
