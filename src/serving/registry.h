// Registry: adds a model version to the repository and records it in the store.
//
// The artifact (a file, or a folder of files) is copied into a staging folder of the
// model, hashed, and renamed into place as <repo>/<model>/<version>/ in one step, then
// recorded (SHA-256 and size of every file, creation time, source, description,
// metrics) with a "register" history entry. A failure leaves no half-written version.
// Used by the server's upload endpoint and by the offline `vigil models register`.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "core/status.h"
#include "store/store.h"

namespace vigil {

struct RegisterOptions {
  std::optional<int64_t> version;  // default: one above the highest known
  std::string description;
  std::map<std::string, double> metrics;
  std::string actor = "cli";
  std::string source_label;  // recorded as the source; default: the source path
  std::string file_name;     // when `source` is a file: its name in the version folder
};

Result<int64_t> RegisterVersion(const std::filesystem::path& repository, Store& store,
                                const std::string& model, const std::filesystem::path& source,
                                const RegisterOptions& options);

// "accuracy=0.93,f1=0.9" -> {accuracy: 0.93, f1: 0.9}; InvalidArgument naming the bad pair.
Result<std::map<std::string, double>> ParseMetrics(std::string_view text);

}  // namespace vigil
