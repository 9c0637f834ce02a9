// Backends on the generated example models (make examples).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "backends/model_instance.h"

namespace vigil {
namespace {

const std::filesystem::path kExamples = VIGIL_EXAMPLES_DIR;

Tensor Rows(std::vector<std::vector<float>> rows) {
  Tensor t =
      Tensor::Make("x", DataType::kFp32,
                   {static_cast<int64_t>(rows.size()), static_cast<int64_t>(rows[0].size())});
  size_t k = 0;
  for (auto& r : rows) {
    for (float v : r) t.data<float>()[k++] = v;
  }
  return t;
}

}  // namespace

TEST(TorchScriptBackend, IrisV2ClassifiesSetosaAndBatchesRows) {
  LoadOptions opts;
  opts.version_dir = kExamples / "iris" / "2";
  auto m = LoadModelInstance("torchscript", opts);
  ASSERT_TRUE(m.ok()) << m.status().message();
  std::vector<Tensor> in;
  in.push_back(Rows({{5.1f, 3.5f, 1.4f, 0.2f}, {6.7f, 3.0f, 5.2f, 2.3f}}));
  auto out = (*m)->Infer(in);
  ASSERT_TRUE(out.ok()) << out.status().message();
  const Tensor& p = (*out)[0];
  ASSERT_EQ(p.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_GT(p.data<float>()[0], 0.9f);  // setosa
  EXPECT_GT(p.data<float>()[5], 0.5f);  // virginica
  for (int r = 0; r < 2; ++r) {
    float sum = p.data<float>()[3 * r] + p.data<float>()[3 * r + 1] + p.data<float>()[3 * r + 2];
    EXPECT_NEAR(sum, 1.0f, 1e-5);
  }
}

TEST(XGBoostBackend, FraudGivesTwoColumnProbabilities) {
  LoadOptions opts;
  opts.version_dir = kExamples / "fraud" / "1";
  opts.output_columns = 2;
  auto m = LoadModelInstance("xgboost", opts);
  ASSERT_TRUE(m.ok()) << m.status().message();
  std::vector<Tensor> in;
  in.push_back(Rows(
      {std::vector<float>(30, 0.0f), std::vector<float>(30, 1.0f), std::vector<float>(30, NAN)}));
  auto out = (*m)->Infer(in);
  ASSERT_TRUE(out.ok()) << out.status().message();
  const Tensor& p = (*out)[0];
  ASSERT_EQ(p.shape, (std::vector<int64_t>{3, 2}));
  for (int r = 0; r < 3; ++r) {
    EXPECT_NEAR(p.data<float>()[2 * r] + p.data<float>()[2 * r + 1], 1.0f, 1e-6);
  }
}

TEST(Backends, MissingOrCorruptModelIsAClearError) {
  auto dir = std::filesystem::temp_directory_path() / "vigil_backend_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  LoadOptions opts;
  opts.version_dir = dir;
  auto missing = LoadModelInstance("torchscript", opts);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("no model file"), std::string::npos);
  std::ofstream(dir / "model.pt") << "not a model";
  auto corrupt = LoadModelInstance("torchscript", opts);
  ASSERT_FALSE(corrupt.ok());
  EXPECT_NE(corrupt.status().message().find("not a loadable TorchScript model"), std::string::npos);
  std::ofstream(dir / "model.ubj") << "garbage";
  auto bad_xgb = LoadModelInstance("xgboost", opts);
  ASSERT_FALSE(bad_xgb.ok());
  EXPECT_NE(bad_xgb.status().message().find("xgboost cannot load"), std::string::npos);
  EXPECT_FALSE(LoadModelInstance("onnx", opts).ok());
  std::filesystem::remove_all(dir);
}

}  // namespace vigil
