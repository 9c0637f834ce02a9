#include <gtest/gtest.h>

#include <sqlite3.h>

#include "store/store.h"

namespace vigil {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vigil_store_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

VersionRecord Record(int64_t version) {
  VersionRecord r;
  r.model = "iris";
  r.version = version;
  r.files = {{"model.pt", std::string(64, 'a'), 123}, {"sub/extra.bin", std::string(64, 'b'), 7}};
  r.created_at = 1700000000;
  r.source = "/tmp/x";
  r.description = "MLP";
  r.metrics = {{"accuracy", 0.93}};
  return r;
}

}  // namespace

TEST_F(SqliteStoreTest, VersionsAliasesAndHistorySurviveReopen) {
  {
    auto store = OpenSqliteStore(dir_);
    ASSERT_TRUE(store.ok()) << store.status().message();
    HistoryEntry reg;
    reg.model = "iris";
    reg.actor = "alice";
    reg.action = "register";
    reg.to_version = 2;
    ASSERT_TRUE((*store)->PutVersion(Record(2), reg).ok());
    HistoryEntry promote;
    promote.model = "iris";
    promote.actor = "alice";
    promote.action = "promote";
    promote.from_version = 1;
    promote.to_version = 2;
    promote.reason = "better";
    ASSERT_TRUE(
        (*store)->UpdateAliases("iris", {{"production", 2}, {"previous", 1}}, promote).ok());
  }
  auto store = OpenSqliteStore(dir_);  // reopen: nothing lost, migrations not re-applied
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto r = (*store)->GetVersion("iris", 2);
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((**r).files.size(), 2u);
  EXPECT_EQ((**r).files[1].path, "sub/extra.bin");
  EXPECT_EQ((**r).metrics.at("accuracy"), 0.93);
  EXPECT_EQ((**r).description, "MLP");
  EXPECT_FALSE((*(*store)->GetVersion("iris", 3)).has_value());
  auto aliases = (*store)->GetAliases("iris");
  ASSERT_TRUE(aliases.ok());
  EXPECT_EQ(aliases->at("production"), 2);
  EXPECT_EQ(aliases->at("previous"), 1);
  auto history = (*store)->History("iris", 10);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].action, "promote");  // newest first
  EXPECT_EQ((*history)[0].from_version, 1);
  EXPECT_EQ((*history)[1].action, "register");
  EXPECT_FALSE((*history)[1].from_version.has_value());
  EXPECT_GT((*history)[1].at, 0);
}

TEST_F(SqliteStoreTest, AliasRemovalAndReplaceVersion) {
  auto store = OpenSqliteStore(dir_);
  ASSERT_TRUE(store.ok());
  HistoryEntry e;
  e.model = "iris";
  e.action = "test";
  ASSERT_TRUE((*store)->UpdateAliases("iris", {{"canary", 3}}, e).ok());
  ASSERT_TRUE((*store)->UpdateAliases("iris", {{"canary", std::nullopt}}, e).ok());
  EXPECT_TRUE((*store)->GetAliases("iris")->empty());
  VersionRecord r = Record(1);
  ASSERT_TRUE((*store)->PutVersion(r, std::nullopt).ok());
  r.files.pop_back();
  ASSERT_TRUE((*store)->PutVersion(r, std::nullopt).ok());
  EXPECT_EQ((*(*store)->GetVersion("iris", 1))->files.size(), 1u);
  EXPECT_EQ((*store)->ListVersions("iris")->size(), 1u);
}

TEST_F(SqliteStoreTest, NewerSchemaIsRefused) {
  ASSERT_TRUE(OpenSqliteStore(dir_).ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "vigil.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (999, 0)", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  auto again = OpenSqliteStore(dir_);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("newer than this vigil knows"), std::string::npos);
}

}  // namespace vigil
