#!/usr/bin/env bash
# Installs the Debian 12 packages the toolkit builds and tests with. Idempotent: when every
# package is already present it changes nothing and touches no network.
set -euo pipefail

packages=(
  build-essential cmake ninja-build
  libdnnl-dev              # oneDNN: JIT sgemm (and later conv/pool/norm), OpenMP-threaded like our loops
  ocl-icd-opencl-dev       # only a Recommends of libdnnl-dev, but its CMake config does find_package(OpenCL)
  libeigen3-dev            # vectorized element-wise math
  libgtest-dev
  libyaml-cpp-dev          # computing-service files
  zlib1g-dev               # gzipped IDX files
  libopencv-core-dev libopencv-imgcodecs-dev libopencv-imgproc-dev  # ECVL: PNG/JPEG/BMP/PNM/TIFF codecs
  libopencv-photo-dev      # ECVL: Inpaint (cv::inpaint)
  libnifti2-dev            # ECVL: NIfTI-1 and NIfTI-2 volumes
  nifti-bin                # nifticlib's nifti_tool: the tests read files it writes
  libdcmtk-dev dcmtk       # ECVL: DICOM (the tools make test files no one here wrote)
  libopenslide-dev         # ECVL: whole-slide images
  libvips-tools            # tests: pyramidal tiled TIFFs made by an outside tool (vips tiffsave)
  libtiff-tools            # tiffcp/tiffset: the tests assemble an Aperio slide with associated images
  dataset-fashion-mnist    # the examples' and tests' real data
  libonnx-dev libprotobuf-dev  # EDDL: ONNX import/export (the ONNX protobuf definitions, protobuf runtime)
  libonnx-testdata         # EDDL: the ONNX backend node tests, run by the conformance ctest
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install_deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
