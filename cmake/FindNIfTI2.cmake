# Finds nifticlib's NIfTI-2 I/O library (Debian: libnifti2-dev), which reads and writes NIfTI-1 and
# NIfTI-2 and ships no CMake package. Defines the imported target NIfTI::nifti2.
find_path(NIfTI2_INCLUDE_DIR nifti/nifti2_io.h)
find_library(NIfTI2_LIBRARY nifti2)
find_library(NIfTI2_ZNZ_LIBRARY znz)
find_package(ZLIB)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(NIfTI2 REQUIRED_VARS NIfTI2_INCLUDE_DIR NIfTI2_LIBRARY NIfTI2_ZNZ_LIBRARY ZLIB_FOUND)
if(NIfTI2_FOUND AND NOT TARGET NIfTI::nifti2)
  add_library(NIfTI::nifti2 INTERFACE IMPORTED)
  set_target_properties(NIfTI::nifti2 PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${NIfTI2_INCLUDE_DIR};${NIfTI2_INCLUDE_DIR}/nifti"
    INTERFACE_LINK_LIBRARIES "${NIfTI2_LIBRARY};${NIfTI2_ZNZ_LIBRARY};ZLIB::ZLIB;m")
endif()
mark_as_advanced(NIfTI2_INCLUDE_DIR NIfTI2_LIBRARY NIfTI2_ZNZ_LIBRARY)
