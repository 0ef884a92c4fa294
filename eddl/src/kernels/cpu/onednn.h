// The oneDNN engine and per-thread stream shared by the CPU kernels that use oneDNN primitives.
#pragma once
#include <dnnl.hpp>

namespace eddl::cpu {

inline dnnl::engine& onednn_engine() {
    static dnnl::engine e(dnnl::engine::kind::cpu, 0);
    return e;
}

inline dnnl::stream& onednn_stream() {
    thread_local dnnl::stream s(onednn_engine());
    return s;
}

}  // namespace eddl::cpu
