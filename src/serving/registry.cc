#include "serving/registry.h"

#include <charconv>
#include <chrono>

#include "core/clock.h"
#include "core/strings.h"
#include "serving/artifact_integrity.h"
#include "serving/model_repository.h"

namespace vigil {

Result<std::map<std::string, double>> ParseMetrics(std::string_view text) {
  std::map<std::string, double> out;
  for (const auto& pair : SplitAndTrim(text, ',')) {
    auto eq = pair.find('=');
    double v = 0;
    bool ok = eq != std::string::npos && eq > 0;
    if (ok) {
      const std::string value = pair.substr(eq + 1);
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      ok = ec == std::errc() && end == value.data() + value.size();
    }
    if (!ok) {
      return InvalidArgument("metrics: expected NAME=NUMBER pairs such as accuracy=0.93, got '" +
                             pair + "'");
    }
    out[pair.substr(0, eq)] = v;
  }
  return out;
}

Result<int64_t> RegisterVersion(const std::filesystem::path& repository, Store& store,
                                const std::string& model, const std::filesystem::path& source,
                                const RegisterOptions& options) {
  auto scanned = ScanModel(repository, model);
  if (!scanned.ok()) return scanned.status();
  std::error_code ec;
  if (!std::filesystem::exists(scanned->dir / "config.yaml", ec)) {
    return FailedPrecondition((scanned->dir / "config.yaml").string() +
                              ": missing; write the model's config before registering versions");
  }
  if (!std::filesystem::exists(source, ec)) {
    return NotFound(source.string() + ": no such file or folder");
  }
  auto known = store.ListVersions(model);
  if (!known.ok()) return known.status();
  int64_t version = 0;
  if (options.version) {
    version = *options.version;
    if (version <= 0) return InvalidArgument("version: expected a positive integer");
    bool taken = std::filesystem::exists(scanned->dir / std::to_string(version), ec);
    for (const auto& r : *known) taken = taken || r.version == version;
    if (taken) {
      return AlreadyExists("model '" + model + "' already has a version " +
                           std::to_string(version) +
                           "; versions are immutable, register a new one");
    }
  } else {
    int64_t highest = scanned->versions.empty() ? 0 : scanned->versions.back();
    for (const auto& r : *known) highest = std::max(highest, r.version);
    version = highest + 1;
  }

  const auto staging = scanned->dir / (".staging-" + std::to_string(version));
  const auto target = scanned->dir / std::to_string(version);
  std::filesystem::remove_all(staging, ec);
  std::filesystem::create_directories(staging, ec);
  if (ec) return Internal(staging.string() + ": cannot create: " + ec.message());
  auto cleanup = [&] { std::filesystem::remove_all(staging, ec); };
  if (std::filesystem::is_directory(source, ec)) {
    std::filesystem::copy(source, staging, std::filesystem::copy_options::recursive, ec);
  } else {
    const std::string name =
        options.file_name.empty() ? source.filename().string() : options.file_name;
    if (name.empty() || name.find('/') != std::string::npos || name[0] == '.') {
      cleanup();
      return InvalidArgument("file name: expected a plain file name such as model.pt, got '" +
                             name + "'");
    }
    std::filesystem::copy_file(source, staging / name, ec);
  }
  if (ec) {
    cleanup();
    return Internal("cannot copy " + source.string() + ": " + ec.message());
  }
  auto files = HashVersionFolder(staging);
  if (!files.ok()) {
    cleanup();
    return files.status();
  }
  if (files->empty()) {
    cleanup();
    return InvalidArgument(source.string() + ": no files to register");
  }
  std::filesystem::rename(staging, target, ec);
  if (ec) {
    cleanup();
    return Internal(target.string() + ": cannot move the version into place: " + ec.message());
  }
  VersionRecord r;
  r.model = model;
  r.version = version;
  r.files = std::move(*files);
  r.created_at = UnixSeconds();
  r.source = options.source_label.empty() ? source.string() : options.source_label;
  r.description = options.description;
  r.metrics = options.metrics;
  HistoryEntry e;
  e.model = model;
  e.actor = options.actor;
  e.action = "register";
  e.to_version = version;
  e.reason = options.description;
  Status st = store.PutVersion(r, e);
  if (!st.ok()) {
    std::filesystem::remove_all(target, ec);
    return st;
  }
  return version;
}

}  // namespace vigil
