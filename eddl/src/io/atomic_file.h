// Files EDDL writes appear whole or not at all: written beside the target, flushed, renamed.
#pragma once
#include <string>

namespace eddl::io {

/// Writes `bytes` to `path` atomically (temp file in the same folder + fsync + rename).
void write_file_atomic(const std::string& path, const std::string& bytes);
/// Reads a whole file (transparently gunzipped when it is gzip data); throws naming the path.
std::string read_file(const std::string& path);

}  // namespace eddl::io
