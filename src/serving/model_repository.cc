#include "serving/model_repository.h"

#include <algorithm>
#include <charconv>

namespace vigil {
namespace {

std::vector<int64_t> ListVersions(const std::filesystem::path& dir) {
  std::vector<int64_t> versions;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (!e.is_directory(ec)) continue;
    const std::string n = e.path().filename().string();
    int64_t v = 0;
    auto [end, err] = std::from_chars(n.data(), n.data() + n.size(), v);
    if (err == std::errc() && end == n.data() + n.size() && v > 0) versions.push_back(v);
  }
  std::sort(versions.begin(), versions.end());
  return versions;
}

}  // namespace

bool IsValidModelName(std::string_view name) {
  if (name.empty() || name.size() > 128 || name[0] == '.') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

Result<std::vector<RepositoryModel>> ScanRepository(const std::filesystem::path& repo) {
  std::error_code ec;
  if (!std::filesystem::is_directory(repo, ec)) {
    return NotFound(repo.string() + ": model repository is not a readable folder");
  }
  std::vector<RepositoryModel> models;
  for (const auto& e : std::filesystem::directory_iterator(repo, ec)) {
    if (!e.is_directory(ec)) continue;
    std::string name = e.path().filename().string();
    if (!IsValidModelName(name)) continue;
    models.push_back({name, e.path(), ListVersions(e.path())});
  }
  if (ec) return Internal(repo.string() + ": cannot list: " + ec.message());
  std::sort(models.begin(), models.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return models;
}

Result<RepositoryModel> ScanModel(const std::filesystem::path& repo, const std::string& name) {
  if (!IsValidModelName(name)) return InvalidArgument("invalid model name '" + name + "'");
  std::error_code ec;
  auto dir = repo / name;
  if (!std::filesystem::is_directory(dir, ec)) {
    return NotFound("model '" + name + "' is not in the repository (" + dir.string() + ")");
  }
  return RepositoryModel{name, dir, ListVersions(dir)};
}

}  // namespace vigil
