// ModelManager on a copy of the example repository.
#include "serving/model_manager.h"

#include <gtest/gtest.h>

#include <fstream>

#include "store/store.h"

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
    std::filesystem::remove(repo_ / "iris" / "train.csv");
    auto store = OpenSqliteStore(repo_ / ".data");
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
  }
  void TearDown() override { std::filesystem::remove_all(repo_); }

  std::filesystem::path repo_;
  ServingMetrics metrics_{""};
  std::unique_ptr<Store> store_;
};

TEST_F(ModelManagerTest, LoadsVersionsAndDefaultsToProductionVersion) {
  ModelManager mm(repo_, ModelDefaults{}, metrics_, *store_);
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
  ModelManager mm(repo_, ModelDefaults{}, metrics_, *store_);
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
  ModelManager mm(repo_, ModelDefaults{}, metrics_, *store_);
  auto report = mm.ReloadAll();
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_NE(report.errors[0].find("broken/config.yaml: inputs: expected a non-empty list"),
            std::string::npos);
  EXPECT_TRUE(mm.Acquire("iris", std::nullopt).ok());
  EXPECT_EQ(mm.Acquire("broken", std::nullopt).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(ModelManagerTest, CorruptVersionFailsAndServingVersionKeepsServing) {
  ModelManager mm(repo_, ModelDefaults{}, metrics_, *store_);
  mm.ReloadAll();
  std::filesystem::create_directories(repo_ / "iris" / "4");
  std::ofstream(repo_ / "iris" / "4" / "model.pt") << "truncated";
  auto report = mm.ReloadAll();
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_NE(report.errors[0].find("iris:4"), std::string::npos);
  EXPECT_TRUE(mm.Acquire("iris", 1).ok());
  EXPECT_EQ(mm.Acquire("iris", 4).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(ModelManagerTest, PromoteAndRollbackMoveProductionAndPersist) {
  {
    ModelManager mm(repo_, ModelDefaults{}, metrics_, *store_);
    mm.ReloadAll();
    auto change = mm.Promote("iris", 2, "alice", "better accuracy");
    ASSERT_TRUE(change.ok()) << change.status().message();
    EXPECT_EQ(change->from, 1);
    EXPECT_EQ((*mm.Acquire("iris", std::nullopt))->version, 2);
    EXPECT_EQ(mm.Promote("iris", 2, "alice", "").status().code(), StatusCode::kAlreadyExists);
    EXPECT_EQ(mm.Promote("iris", 7, "alice", "").status().code(), StatusCode::kNotFound);
  }
  {
    // A new manager on the same store (a restart) keeps the promoted version.
    ModelManager mm(repo_, ModelDefaults{}, metrics_, *store_);
    mm.ReloadAll();
    EXPECT_EQ((*mm.Acquire("iris", std::nullopt))->version, 2);
    auto back = mm.Rollback("iris", std::nullopt, "bob", "accuracy dropped");
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->to, 1);
    EXPECT_EQ((*mm.Acquire("iris", std::nullopt))->version, 1);
  }
  auto history = store_->History("iris", 10);
  ASSERT_TRUE(history.ok());
  ASSERT_GE(history->size(), 3u);
  EXPECT_EQ((*history)[0].action, "rollback");
  EXPECT_EQ((*history)[0].actor, "bob");
  EXPECT_EQ((*history)[0].from_version, 2);
  EXPECT_EQ((*history)[0].to_version, 1);
  EXPECT_EQ((*history)[1].action, "promote");
  EXPECT_EQ((*history)[1].reason, "better accuracy");
}

TEST_F(ModelManagerTest, ModifiedArtifactIsRefusedAndServingVersionKeepsServing) {
  ModelManager mm(repo_, ModelDefaults{}, metrics_, *store_);
  mm.ReloadAll();  // records the checksums of versions 1 and 2
  ASSERT_TRUE(mm.UnloadModel("iris").ok());
  // Swap version 2's file for version 1's: a valid model, but not the recorded one.
  std::filesystem::copy_file(repo_ / "iris" / "1" / "model.pt", repo_ / "iris" / "2" / "model.pt",
                             std::filesystem::copy_options::overwrite_existing);
  mm.ReloadAll();
  auto v2 = mm.Acquire("iris", 2);
  ASSERT_EQ(v2.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(v2.status().message().find("integrity check failed: model.pt has sha256"),
            std::string::npos);
  EXPECT_TRUE(mm.Acquire("iris", std::nullopt).ok());  // production v1 still serves
}

}  // namespace
}  // namespace vigil
