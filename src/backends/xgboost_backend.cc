// XGBoost backend: C API, in-place prediction from dense float rows
// (XGBoosterPredictFromDense), no DMatrix per request.
#include <xgboost/c_api.h>

#include <array>
#include <cstdio>

#include "backends/model_instance.h"

namespace vigil {
namespace {

class XGBoostInstance final : public ModelInstance {
 public:
  XGBoostInstance(BoosterHandle booster, std::filesystem::path file, int64_t output_columns)
      : booster_(booster), file_(std::move(file)), output_columns_(output_columns) {}
  ~XGBoostInstance() override { XGBoosterFree(booster_); }

  Result<std::vector<Tensor>> Infer(std::span<const Tensor> inputs) override {
    if (inputs.size() != 1 || inputs[0].dtype != DataType::kFp32 || inputs[0].shape.size() != 2) {
      return Internal("xgboost backend expects one FP32 input of shape [rows, features]");
    }
    const Tensor& in = inputs[0];
    const int64_t rows = in.shape[0];
    char array_interface[256];
    std::snprintf(
        array_interface, sizeof array_interface,
        R"({"data": [%llu, true], "shape": [%lld, %lld], "typestr": "<f4", "version": 3})",
        static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(in.bytes.data())),
        static_cast<long long>(rows), static_cast<long long>(in.shape[1]));
    static constexpr const char* kConfig =
        R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": true, "missing": NaN, "cache_id": 0})";
    const bst_ulong* out_shape = nullptr;
    bst_ulong out_dim = 0;
    const float* out = nullptr;
    if (XGBoosterPredictFromDense(booster_, array_interface, kConfig, nullptr, &out_shape, &out_dim,
                                  &out) != 0) {
      return Internal(std::string("xgboost prediction failed: ") + XGBGetLastError());
    }
    int64_t produced = 1;
    for (bst_ulong i = 1; i < out_dim; ++i) produced *= static_cast<int64_t>(out_shape[i]);
    if (out_dim == 0 || static_cast<int64_t>(out_shape[0]) != rows) {
      return Internal("xgboost returned an unexpected shape");
    }
    const int64_t cols = output_columns_ > 0 ? output_columns_ : produced;
    Tensor result = Tensor::Make("", DataType::kFp32, {rows, cols});
    float* dst = result.data<float>();
    if (produced == cols) {
      std::copy(out, out + rows * cols, dst);
    } else if (produced == 1 && cols == 2) {
      // binary:logistic gives P(class 1); callers declared [P(class 0), P(class 1)].
      for (int64_t r = 0; r < rows; ++r) {
        dst[2 * r] = 1.0f - out[r];
        dst[2 * r + 1] = out[r];
      }
    } else {
      return Internal("xgboost produced " + std::to_string(produced) +
                      " values per row, the config declares " + std::to_string(cols));
    }
    std::vector<Tensor> outputs;
    outputs.push_back(std::move(result));
    return outputs;
  }

  std::vector<std::filesystem::path> Files() const override { return {file_}; }

 private:
  BoosterHandle booster_;
  std::filesystem::path file_;
  int64_t output_columns_;
};

}  // namespace

Result<std::unique_ptr<ModelInstance>> LoadXGBoostModel(const LoadOptions& options) {
  static constexpr std::array<std::string_view, 3> kExtensions = {".ubj", ".json", ".bst"};
  auto file = FindModelFile(options.version_dir, kExtensions);
  if (!file.ok()) return file.status();
  BoosterHandle booster = nullptr;
  if (XGBoosterCreate(nullptr, 0, &booster) != 0) {
    return Internal(std::string("xgboost: cannot create a booster: ") + XGBGetLastError());
  }
  if (XGBoosterLoadModel(booster, file->c_str()) != 0) {
    std::string err = XGBGetLastError();
    XGBoosterFree(booster);
    return InvalidArgument(file->string() + ": xgboost cannot load the model: " + err);
  }
  XGBoosterSetParam(booster, "nthread", std::to_string(options.threads).c_str());
  return std::unique_ptr<ModelInstance>(
      new XGBoostInstance(booster, *file, options.output_columns));
}

}  // namespace vigil
