# Finds OpenCV's core, imgproc, imgcodecs and photo from Debian's split -dev packages, which ship
# headers and libraries but no OpenCVConfig.cmake (that comes with the full libopencv-dev and its
# ~150 extra packages). Defines the imported target OpenCV::codecs.
find_path(OpenCVCodecs_INCLUDE_DIR opencv2/imgcodecs.hpp PATH_SUFFIXES opencv4)
find_library(OpenCVCodecs_CORE opencv_core)
find_library(OpenCVCodecs_IMGPROC opencv_imgproc)
find_library(OpenCVCodecs_IMGCODECS opencv_imgcodecs)
find_library(OpenCVCodecs_PHOTO opencv_photo)  # cv::inpaint (libopencv-photo-dev)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(OpenCVCodecs
  REQUIRED_VARS OpenCVCodecs_INCLUDE_DIR OpenCVCodecs_CORE OpenCVCodecs_IMGPROC OpenCVCodecs_IMGCODECS
                OpenCVCodecs_PHOTO)
if(OpenCVCodecs_FOUND AND NOT TARGET OpenCV::codecs)
  add_library(OpenCV::codecs INTERFACE IMPORTED)
  set_target_properties(OpenCV::codecs PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${OpenCVCodecs_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES
      "${OpenCVCodecs_PHOTO};${OpenCVCodecs_IMGCODECS};${OpenCVCodecs_IMGPROC};${OpenCVCodecs_CORE}")
endif()
mark_as_advanced(OpenCVCodecs_INCLUDE_DIR OpenCVCodecs_CORE OpenCVCodecs_IMGPROC OpenCVCodecs_IMGCODECS
                 OpenCVCodecs_PHOTO)
