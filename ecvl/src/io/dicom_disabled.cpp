// DICOM support left out at configure time (ECVL_WITH_DICOM=OFF): the functions exist and say so.
#include "ecvl/io.h"

namespace ecvl {
namespace {
[[noreturn]] void off(const char* who, const std::string& path) {
    ECVL_FAIL(who << ": '" << path << "': this ECVL was built without DICOM support (ECVL_WITH_DICOM=OFF)");
}
}  // namespace
bool DicomRead(const std::string& f, Image&) { off("DicomRead", f); }
bool DicomReadSeries(const std::string& f, Image&) { off("DicomReadSeries", f); }
bool DicomWrite(const std::string& f, const Image&) { off("DicomWrite", f); }
}  // namespace ecvl
