// NIfTI support left out at configure time (ECVL_WITH_NIFTI=OFF): the functions exist and say so.
#include "ecvl/io.h"

namespace ecvl {
bool NiftiRead(const std::string& filename, Image&) {
    ECVL_FAIL("NiftiRead: '" << filename << "': this ECVL was built without NIfTI support (ECVL_WITH_NIFTI=OFF)");
}
bool NiftiWrite(const std::string& filename, const Image&, int) {
    ECVL_FAIL("NiftiWrite: '" << filename << "': this ECVL was built without NIfTI support (ECVL_WITH_NIFTI=OFF)");
}
}  // namespace ecvl
