#include "backends/model_instance.h"

#include <algorithm>
#include <system_error>

namespace vigil {

Result<std::unique_ptr<ModelInstance>> LoadModelInstance(std::string_view backend,
                                                         const LoadOptions& options) {
  if (backend == "torchscript") return LoadTorchScriptModel(options);
  if (backend == "xgboost") return LoadXGBoostModel(options);
  return InvalidArgument("unknown backend '" + std::string(backend) +
                         "' (expected torchscript or xgboost)");
}

Result<std::filesystem::path> FindModelFile(const std::filesystem::path& dir,
                                            std::span<const std::string_view> extensions) {
  std::error_code ec;
  for (auto ext : extensions) {
    auto p = dir / ("model" + std::string(ext));
    if (std::filesystem::is_regular_file(p, ec)) return p;
  }
  std::vector<std::filesystem::path> found;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (!e.is_regular_file(ec)) continue;
    for (auto ext : extensions) {
      if (e.path().extension() == ext) found.push_back(e.path());
    }
  }
  if (ec) return NotFound(dir.string() + ": cannot list the folder: " + ec.message());
  std::string wanted;
  for (auto ext : extensions) wanted += (wanted.empty() ? "" : ", ") + std::string(ext);
  if (found.empty()) return NotFound(dir.string() + ": no model file (expected *" + wanted + ")");
  if (found.size() > 1) {
    return InvalidArgument(dir.string() + ": several model files; name the one to serve model" +
                           std::string(extensions[0]));
  }
  return found[0];
}

}  // namespace vigil
