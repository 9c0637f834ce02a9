// Artifact integrity: every file of a model version is recorded with its SHA-256 and
// size; a version whose files no longer match (truncated, corrupted, swapped, missing,
// added) is refused at load.
#pragma once

#include <filesystem>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace vigil {

// Every regular file under `dir`, recursively, sorted by relative path.
Result<std::vector<FileRecord>> HashVersionFolder(const std::filesystem::path& dir);

// OK when `actual` matches `recorded` exactly; else FailedPrecondition naming the file.
Status CompareWithRecord(const std::vector<FileRecord>& actual,
                         const std::vector<FileRecord>& recorded);

}  // namespace vigil
