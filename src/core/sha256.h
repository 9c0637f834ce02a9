// SHA-256 of files (model artifact integrity).
#pragma once

#include <filesystem>
#include <string>

#include "core/status.h"

namespace vigil {

// Lowercase hex digest of the file's bytes.
Result<std::string> Sha256File(const std::filesystem::path& file);

}  // namespace vigil
