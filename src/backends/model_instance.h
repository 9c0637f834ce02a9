// ModelInstance: one loaded model version inside one backend (TorchScript, XGBoost).
//
// A backend knows nothing of HTTP, batching or model repositories: it is handed a
// version folder and options, and runs batches of rows. Backends are selected by name
// with LoadModelInstance().
//
// Thread-safety: Infer() may be called from several threads, but Vigil calls it from
// the model version's single batch worker. Destroying an instance while Infer() runs
// is not allowed (the serving layer's ref-counted handles prevent it).
#pragma once

#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"

namespace vigil {

struct LoadOptions {
  std::filesystem::path version_dir;  // <repo>/<model>/<version>/
  int threads = 1;                    // intra-op threads
  std::string device = "cpu";         // "cpu" or "cuda[:N]" (TorchScript only)
  // Columns the first output must have; lets a binary XGBoost classifier that
  // produces one probability per row be returned as [1 - p, p] when 2 are declared.
  int64_t output_columns = 0;
};

class ModelInstance {
 public:
  virtual ~ModelInstance() = default;

  // `inputs` hold one tensor per declared input, in declared order, each with the
  // batch as its first dimension. Returns one tensor per output, batch first.
  virtual Result<std::vector<Tensor>> Infer(std::span<const Tensor> inputs) = 0;

  // Files the instance was loaded from (for integrity records and status pages).
  virtual std::vector<std::filesystem::path> Files() const = 0;
};

// backend: "torchscript" or "xgboost".
Result<std::unique_ptr<ModelInstance>> LoadModelInstance(std::string_view backend,
                                                         const LoadOptions& options);

// The backends, one translation unit each (only torchscript_backend.cc includes libtorch).
Result<std::unique_ptr<ModelInstance>> LoadTorchScriptModel(const LoadOptions& options);
Result<std::unique_ptr<ModelInstance>> LoadXGBoostModel(const LoadOptions& options);

// The model file in `dir` with one of `extensions` (model.<ext> preferred).
Result<std::filesystem::path> FindModelFile(const std::filesystem::path& dir,
                                            std::span<const std::string_view> extensions);

}  // namespace vigil
