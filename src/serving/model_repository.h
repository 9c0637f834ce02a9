// Model repository layout: <repo>/<model>/config.yaml and <repo>/<model>/<version>/.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/status.h"

namespace vigil {

struct RepositoryModel {
  std::string name;
  std::filesystem::path dir;
  std::vector<int64_t> versions;  // numeric sub-folders, ascending
};

// Lists the models of `repo` (every sub-folder; hidden ones are skipped).
Result<std::vector<RepositoryModel>> ScanRepository(const std::filesystem::path& repo);

// The one model `name` of `repo` (NotFound when the folder is missing).
Result<RepositoryModel> ScanModel(const std::filesystem::path& repo, const std::string& name);

// Model names are path components: letters, digits, '-', '_', '.', not starting with '.'.
bool IsValidModelName(std::string_view name);

}  // namespace vigil
