# Finds OpenSlide (Debian: libopenslide-dev, which ships a pkg-config file but no CMake package;
# this avoids needing pkg-config itself). Defines the imported target OpenSlide::openslide.
find_path(OpenSlide_INCLUDE_DIR openslide/openslide.h)
find_library(OpenSlide_LIBRARY openslide)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(OpenSlide REQUIRED_VARS OpenSlide_INCLUDE_DIR OpenSlide_LIBRARY)
if(OpenSlide_FOUND AND NOT TARGET OpenSlide::openslide)
  add_library(OpenSlide::openslide INTERFACE IMPORTED)
  set_target_properties(OpenSlide::openslide PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${OpenSlide_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${OpenSlide_LIBRARY}")
endif()
mark_as_advanced(OpenSlide_INCLUDE_DIR OpenSlide_LIBRARY)
