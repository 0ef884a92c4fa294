// Reading and writing standard image files: PNG, JPEG, BMP, PPM/PGM/PBM, TIFF (multi-page too).
//
// Images come back planar "xyc": grey images with a c axis of 1 and ColorType::GRAY, colour images
// BGR (OpenCV's and the original ECVL's order), images with alpha (read with UNCHANGED) RGBA.
// Every failure is an ecvl::Error naming the file and the reason; nothing is returned half-filled.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ecvl/image.h"

namespace ecvl {

/// OpenCV's read modes. ANYCOLOR keeps grey images grey and colour images colour, and keeps 16-bit
/// depth; COLOR forces 3 channels; GRAYSCALE forces 1; UNCHANGED also keeps an alpha channel.
enum class ImReadMode { UNCHANGED = -1, GRAYSCALE = 0, COLOR = 1, ANYCOLOR = 4 };

/// Reads an image file into dst (.nii and .nii.gz go to NiftiRead). Returns true (the original
/// returned false on failure; here every failure throws: missing or unreadable file, unknown
/// format, corrupt or truncated data).
bool ImRead(const std::string& filename, Image& dst, ImReadMode mode = ImReadMode::ANYCOLOR);
/// The same from an encoded file held in memory; `what` names it in error messages.
bool ImRead(const std::vector<uint8_t>& buffer, Image& dst, ImReadMode mode = ImReadMode::ANYCOLOR,
            const std::string& what = "memory buffer");
/// Every page of a multi-page file (TIFF), in order.
bool ImReadMulti(const std::string& filename, std::vector<Image>& dst, ImReadMode mode = ImReadMode::ANYCOLOR);
/// The pages of a multi-page file stacked as one volume "xyzc" (z = page); every page must have
/// the same size, type and channels (an error names the first page that differs).
bool ImReadStack(const std::string& filename, Image& dst, ImReadMode mode = ImReadMode::ANYCOLOR);

/// Writes img in the format of the file's extension (.png .jpg/.jpeg .bmp .ppm/.pgm/.pbm .tif/.tiff).
/// Accepts 2-D images with channels "xy", "xyc" or "cxy": GRAY (or no colour type with one
/// channel), BGR, RGB (reordered on the way, so it reads back as the same BGR pixels), RGBA. Element
/// types as the format holds them exactly: uint8 everywhere, uint16 in PNG, PPM/PGM and TIFF,
/// float32 in TIFF (LZW-compressed, lossless); anything else is an error, never a silent
/// conversion. The file is written atomically: encoded in memory, written beside the target, then
/// renamed; a failed write leaves any previous file untouched.
bool ImWrite(const std::string& filename, const Image& img);

}  // namespace ecvl

namespace ecvl {

/// Reads a NIfTI-1 or NIfTI-2 file (.nii or .nii.gz) into dst: axes "xy", "xyz", "xyzt" or "xyzto"
/// (as many as the file has), RGB24 volumes as planar "xyzc" RGB. Spacings in mm (and seconds
/// for t), converted from the file's units. When the file scales its data (scl_slope not 0 or 1,
/// or scl_inter not 0), the values are scaled to their physical meaning and come back float32
/// (float64 if stored so). Metadata keeps the file's "scl_slope", "scl_inter", "nifti_version",
/// "descrip", "qform_code", "sform_code", the quaternion ("quatern_b", "quatern_c",
/// "quatern_d", "qoffset_x", "qoffset_y", "qoffset_z", "qfac") and the sform rows ("srow_x0" ..
/// "srow_z3"), which NiftiWrite writes back. Errors name the file: missing, not NIfTI, truncated,
/// or an element type ECVL lacks.
bool NiftiRead(const std::string& filename, Image& dst);
/// Writes src as NIfTI (version 1 or 2; .nii or .nii.gz by the name) atomically. Axes x, y, z, t
/// and o in any order (a missing one has size 1), plus a c axis of size 1, or of 3 for an RGB
/// uint8 image (written as RGB24). Spacings and the orientation metadata above are written; the
/// data is written unscaled (slope 0).
bool NiftiWrite(const std::string& filename, const Image& src, int version = 1);

}  // namespace ecvl

namespace ecvl {

/// Reads a DICOM file: one frame as "xyc", several frames as "xyzc" (z = frame); MONOCHROME as
/// GRAY (c = 1), RGB and YBR_FULL as RGB / YCbCr. Compressed transfer syntaxes (JPEG, JPEG-LS,
/// RLE) are decoded. Bits stored below bits allocated are masked and sign-extended. When
/// RescaleSlope/RescaleIntercept are not 1/0 they are applied and the values come back float32
/// (Hounsfield units for CT). Spacings: x and y from PixelSpacing, z from SpacingBetweenSlices or
/// SliceThickness, in mm. Metadata: PatientID, PatientName, StudyInstanceUID, SeriesInstanceUID,
/// SOPInstanceUID, Modality, PhotometricInterpretation, ImagePositionPatient and
/// ImageOrientationPatient (text), InstanceNumber (integer), WindowCenter, WindowWidth,
/// RescaleSlope, RescaleIntercept, SliceThickness (numbers), whichever the file has.
bool DicomRead(const std::string& filename, Image& dst);
/// Reads every single-frame DICOM file of one series in `folder` (other files are skipped) into an
/// "xyzc" volume ordered by slice position along the slice normal (InstanceNumber when positions
/// are absent); z spacing from the positions. Errors name the folder and the problem: no DICOM
/// files, several series (listed), slices of different sizes, two slices at one position, or
/// uneven spacing (a missing slice).
bool DicomReadSeries(const std::string& folder, Image& dst);
/// Writes a Secondary Capture DICOM file (multi-frame for "xyzc"/"xyz" images) atomically:
/// uint8, uint16 or int16 grey, uint8 RGB. PixelSpacing and slice spacing come from the spacings;
/// the metadata tags above are written when present (UIDs are generated otherwise). Real-valued
/// images must be converted first (e.g. to int16 with RescaleSlope/RescaleIntercept metadata).
bool DicomWrite(const std::string& filename, const Image& src);

}  // namespace ecvl
