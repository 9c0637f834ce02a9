#include "app/server_config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

namespace vigil {

TEST(ServerConfig, RunbookEnvironmentNamesSetDefaults) {
  std::map<std::string, std::string> env = {
      {"MAX_BATCH_SIZE", "32"}, {"BATCH_TIMEOUT_MS", "7"}, {"API_KEYS", "a, b"}};
  ServerConfig c;
  ASSERT_TRUE(ApplyEnvironment(c, [&](const char* n) -> const char* {
                auto it = env.find(n);
                return it == env.end() ? nullptr : it->second.c_str();
              }).ok());
  EXPECT_EQ(c.model_defaults.batching.max_batch_size, 32);
  EXPECT_EQ(c.model_defaults.batching.max_queue_delay, std::chrono::milliseconds(7));
  EXPECT_EQ(c.api_keys, (std::vector<std::string>{"a", "b"}));
}

TEST(ServerConfig, VigilNameWinsAndBadValueNamesVariable) {
  std::map<std::string, std::string> env = {{"MAX_BATCH_SIZE", "32"},
                                            {"VIGIL_MAX_BATCH_SIZE", "8"}};
  auto get = [&](const char* n) -> const char* {
    auto it = env.find(n);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  ServerConfig c;
  ASSERT_TRUE(ApplyEnvironment(c, get).ok());
  EXPECT_EQ(c.model_defaults.batching.max_batch_size, 8);
  env["VIGIL_PORT"] = "http";
  Status st = ApplyEnvironment(c, get);
  EXPECT_NE(st.message().find("environment variable VIGIL_PORT"), std::string::npos);
}

TEST(ServerConfig, FileUnknownKeySuggestsClosest) {
  auto file = std::filesystem::temp_directory_path() / "vigil_server_config_test.yaml";
  std::ofstream(file) << "port: 9000\nenviroment: production\n";
  ServerConfig c;
  Status st = ApplyConfigFile(file, c);
  EXPECT_NE(st.message().find("enviroment: unknown key (did you mean 'environment'?)"),
            std::string::npos);
  std::ofstream(file) << "port: 9000\nenvironment: production\napi_keys: [k1, k2]\n";
  ServerConfig ok;
  ASSERT_TRUE(ApplyConfigFile(file, ok).ok());
  EXPECT_EQ(ok.port, 9000);
  EXPECT_EQ(ok.environment, "production");
  EXPECT_EQ(ok.api_keys.size(), 2u);
  std::filesystem::remove(file);
}

}  // namespace vigil
