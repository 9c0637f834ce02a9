// ModelManager on a copy of the example repository.
#include "serving/model_manager.h"

#include <gtest/gtest.h>

#include <fstream>

namespace vigil {
namespace {

class ModelManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = std::filesystem::temp_directory_path() /
            ("vigil_mm_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(repo_);
    std::filesystem::create_directories(repo_);
    std::filesystem::copy(std::filesystem::path(VIGIL_EXAMPLES_DIR) / "iris", repo_ / "iris",
                          std::filesystem::copy_options::recursive);
  }
  void TearDown() override { std::filesystem::remove_all(repo_); }

  std::filesystem::path repo_;
  ServingMetrics metrics_{""};
};

TEST_F(ModelManagerTest, LoadsVersionsAndDefaultsToProductionVersion) {
  ModelManager mm(repo_, ModelDefaults{}, metrics_);
  auto report = mm.ReloadAll();
  EXPECT_TRUE(report.errors.empty());
  auto h = mm.Acquire("iris", std::nullopt);
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ((*h)->version, 1);  // production_version: 1 in config.yaml
  auto v2 = mm.Acquire("iris", 2);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ((*v2)->version, 2);
  EXPECT_EQ(mm.Acquire("iris", 9).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(mm.Acquire("nope", std::nullopt).status().code(), StatusCode::kNotFound);
}

TEST_F(ModelManagerTest, NewVersionAppearsOnReloadAndHandlesOutliveUnload) {
  ModelManager mm(repo_, ModelDefaults{}, metrics_);
  mm.ReloadAll();
  auto held = mm.Acquire("iris", 1);
  ASSERT_TRUE(held.ok());
  std::filesystem::copy(repo_ / "iris" / "2", repo_ / "iris" / "3",
                        std::filesystem::copy_options::recursive);
  auto report = mm.ReloadAll();
  EXPECT_EQ(report.loaded, std::vector<std::string>{"iris:3"});
  EXPECT_TRUE(mm.Acquire("iris", 3).ok());
  ASSERT_TRUE(mm.UnloadModel("iris").ok());
  EXPECT_EQ(mm.Acquire("iris", 1).status().code(), StatusCode::kFailedPrecondition);
  // The handle taken before the unload still works.
  EXPECT_EQ((*held)->version, 1);
  EXPECT_NE((*held)->batcher, nullptr);
}

TEST_F(ModelManagerTest, BadConfigIsReportedAndOtherModelsStillLoad) {
  std::filesystem::create_directories(repo_ / "broken" / "1");
  std::ofstream(repo_ / "broken" / "config.yaml") << "backend: torchscript\ninputs: 3\n";
  ModelManager mm(repo_, ModelDefaults{}, metrics_);
  auto report = mm.ReloadAll();
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_NE(report.errors[0].find("broken/config.yaml: inputs: expected a non-empty list"),
            std::string::npos);
  EXPECT_TRUE(mm.Acquire("iris", std::nullopt).ok());
  EXPECT_EQ(mm.Acquire("broken", std::nullopt).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(ModelManagerTest, CorruptVersionFailsAndServingVersionKeepsServing) {
  ModelManager mm(repo_, ModelDefaults{}, metrics_);
  mm.ReloadAll();
  std::filesystem::create_directories(repo_ / "iris" / "4");
  std::ofstream(repo_ / "iris" / "4" / "model.pt") << "truncated";
  auto report = mm.ReloadAll();
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_NE(report.errors[0].find("iris:4"), std::string::npos);
  EXPECT_TRUE(mm.Acquire("iris", 1).ok());
  EXPECT_EQ(mm.Acquire("iris", 4).status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace vigil
