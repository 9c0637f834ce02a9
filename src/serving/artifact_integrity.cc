#include "serving/artifact_integrity.h"

#include <algorithm>

#include "core/sha256.h"

namespace vigil {

Result<std::vector<FileRecord>> HashVersionFolder(const std::filesystem::path& dir) {
  std::vector<FileRecord> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    auto digest = Sha256File(it->path());
    if (!digest.ok()) return digest.status();
    FileRecord f;
    f.path = std::filesystem::relative(it->path(), dir).generic_string();
    f.sha256 = std::move(*digest);
    f.size = it->file_size(ec);
    out.push_back(std::move(f));
  }
  if (ec) return Internal(dir.string() + ": cannot list: " + ec.message());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return out;
}

Status CompareWithRecord(const std::vector<FileRecord>& actual,
                         const std::vector<FileRecord>& recorded) {
  for (const auto& r : recorded) {
    auto it = std::find_if(actual.begin(), actual.end(),
                           [&](const FileRecord& a) { return a.path == r.path; });
    if (it == actual.end()) {
      return FailedPrecondition("integrity check failed: " + r.path +
                                " is missing (recorded sha256 " + r.sha256 + ")");
    }
    if (it->size != r.size || it->sha256 != r.sha256) {
      return FailedPrecondition("integrity check failed: " + r.path + " has sha256 " + it->sha256 +
                                " (" + std::to_string(it->size) + " bytes), recorded " + r.sha256 +
                                " (" + std::to_string(r.size) + " bytes)");
    }
  }
  for (const auto& a : actual) {
    bool known = std::any_of(recorded.begin(), recorded.end(),
                             [&](const FileRecord& r) { return r.path == a.path; });
    if (!known) {
      return FailedPrecondition("integrity check failed: unexpected file " + a.path +
                                " (not in the version's record)");
    }
  }
  return Status::Ok();
}

}  // namespace vigil
