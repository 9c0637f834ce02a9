// ServerConfig: settings of `vigil serve`, from flags, environment, a config file and
// defaults, in that order of precedence (DESIGN.md §9.5).
//
// Every setting has a VIGIL_* variable; the runbooks' own names are honoured too:
// API_KEYS, MAX_BATCH_SIZE, BATCH_TIMEOUT_MS, GPU_MEMORY_FRACTION.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "serving/model_config.h"

namespace vigil {

struct ServerConfig {
  std::string host = "0.0.0.0";
  uint16_t port = 8000;
  std::filesystem::path model_repository;
  std::filesystem::path data_dir = "vigil-data";  // the embedded store
  std::vector<std::string> api_keys;
  bool protect_health = false;
  bool protect_metrics = false;
  uint64_t max_body_bytes = 8 * 1024 * 1024;
  int io_threads = 0;  // 0: one per core
  std::string environment;
  ModelDefaults model_defaults;
  std::string device = "cpu";
  double gpu_memory_fraction = 0;  // 0: backend default (accepted for runbook 002)
  std::filesystem::path ready_file;
  std::string log_level = "info";
  bool access_log = true;
  std::chrono::milliseconds shutdown_grace{30'000};
  std::chrono::milliseconds rollout_eval_interval{1'000};
  bool monitor = true;
  std::chrono::milliseconds monitor_interval{10'000};
  std::filesystem::path alert_rules;  // custom alert rules (YAML); none by default
  std::chrono::milliseconds alert_eval_interval{15'000};
  std::filesystem::path notifications;  // channels, grouping, inhibition (YAML)
  std::filesystem::path oncall;         // schedules and escalation policies (YAML)
  bool test_clock = false;              // --test-clock: POST /api/v1/test/clock moves incident time
};

// Reads `file` (YAML) into `config`. Unknown keys are errors naming the closest key.
Status ApplyConfigFile(const std::filesystem::path& file, ServerConfig& config);

// Applies environment variables; `getenv` is injectable for tests.
Status ApplyEnvironment(ServerConfig& config,
                        const std::function<const char*(const char*)>& getenv);

// The settings table for `vigil serve --help` and docs/configuration.md.
std::string EnvironmentHelp();

}  // namespace vigil
