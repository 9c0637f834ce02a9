#include "app/server_config.h"

#include <yaml-cpp/yaml.h>

#include <charconv>

#include "core/duration.h"
#include "core/logging.h"
#include "core/strings.h"

namespace vigil {
namespace {

// One setting: its config-file key, its environment variables, and how to apply text.
struct Setting {
  const char* key;
  std::vector<const char*> env;
  const char* help;
  std::function<Status(const std::string&, ServerConfig&)> apply;
};

Result<int64_t> ParseInt(const std::string& s, int64_t lo, int64_t hi) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi) {
    return InvalidArgument("expected an integer in [" + std::to_string(lo) + ", " +
                           std::to_string(hi) + "], got '" + s + "'");
  }
  return v;
}

Result<bool> ParseBool(const std::string& s) {
  if (s == "true" || s == "1" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "0" || s == "no" || s == "off") return false;
  return InvalidArgument("expected true or false, got '" + s + "'");
}

template <typename T, typename F>
std::function<Status(const std::string&, ServerConfig&)> Int(int64_t lo, int64_t hi, F set) {
  return [lo, hi, set](const std::string& s, ServerConfig& c) -> Status {
    auto v = ParseInt(s, lo, hi);
    if (!v.ok()) return v.status();
    set(c, static_cast<T>(*v));
    return Status::Ok();
  };
}

template <typename F>
std::function<Status(const std::string&, ServerConfig&)> PositiveDuration(F set) {
  return [set](const std::string& s, ServerConfig& c) -> Status {
    auto d = ParseDuration(s);
    if (!d.ok()) return d.status();
    if (d->count() <= 0) return InvalidArgument("expected a positive duration");
    set(c, *d);
    return Status::Ok();
  };
}

template <typename F>
std::function<Status(const std::string&, ServerConfig&)> Bool(F set) {
  return [set](const std::string& s, ServerConfig& c) -> Status {
    auto v = ParseBool(s);
    if (!v.ok()) return v.status();
    set(c, *v);
    return Status::Ok();
  };
}

const std::vector<Setting>& Settings() {
  static const std::vector<Setting> kSettings = {
      {"host",
       {"VIGIL_HOST"},
       "listen address (default 0.0.0.0)",
       [](const std::string& s, ServerConfig& c) {
         c.host = s;
         return Status::Ok();
       }},
      {"port",
       {"VIGIL_PORT"},
       "listen port (default 8000; 0 = any free port)",
       Int<uint16_t>(0, 65535, [](ServerConfig& c, uint16_t v) { c.port = v; })},
      {"model_repository",
       {"VIGIL_MODEL_REPOSITORY"},
       "model repository folder",
       [](const std::string& s, ServerConfig& c) {
         c.model_repository = s;
         return Status::Ok();
       }},
      {"data_dir",
       {"VIGIL_DATA_DIR"},
       "folder of the embedded store (default ./vigil-data)",
       [](const std::string& s, ServerConfig& c) {
         c.data_dir = s;
         return Status::Ok();
       }},
      {"api_keys",
       {"VIGIL_API_KEYS", "API_KEYS"},
       "comma-separated API keys (none: open)",
       [](const std::string& s, ServerConfig& c) {
         c.api_keys = SplitAndTrim(s, ',');
         return Status::Ok();
       }},
      {"protect_health",
       {"VIGIL_PROTECT_HEALTH"},
       "require an API key on health endpoints",
       Bool([](ServerConfig& c, bool v) { c.protect_health = v; })},
      {"protect_metrics",
       {"VIGIL_PROTECT_METRICS"},
       "require an API key on /metrics",
       Bool([](ServerConfig& c, bool v) { c.protect_metrics = v; })},
      {"max_body_bytes",
       {"VIGIL_MAX_BODY_BYTES"},
       "request body limit (413 above; default 8 MiB)",
       Int<uint64_t>(1, 1LL << 32, [](ServerConfig& c, uint64_t v) { c.max_body_bytes = v; })},
      {"io_threads",
       {"VIGIL_IO_THREADS"},
       "HTTP I/O threads (default: one per core)",
       Int<int>(0, 256, [](ServerConfig& c, int v) { c.io_threads = v; })},
      {"environment",
       {"VIGIL_ENVIRONMENT"},
       "value of the 'environment' label on every series",
       [](const std::string& s, ServerConfig& c) {
         c.environment = s;
         return Status::Ok();
       }},
      {"max_batch_size",
       {"VIGIL_MAX_BATCH_SIZE", "MAX_BATCH_SIZE"},
       "default max rows per batch (default 64)",
       Int<int>(1, 65536,
                [](ServerConfig& c, int v) { c.model_defaults.batching.max_batch_size = v; })},
      {"batch_timeout_ms",
       {"VIGIL_BATCH_TIMEOUT_MS", "BATCH_TIMEOUT_MS"},
       "default max queue delay in ms (default 0)",
       Int<int>(0, 60000,
                [](ServerConfig& c, int v) {
                  c.model_defaults.batching.max_queue_delay = std::chrono::milliseconds(v);
                })},
      {"max_queue_size",
       {"VIGIL_MAX_QUEUE_SIZE"},
       "default queued requests per model (503 above)",
       Int<int>(1, 1 << 22,
                [](ServerConfig& c, int v) { c.model_defaults.batching.max_queue_size = v; })},
      {"request_timeout",
       {"VIGIL_REQUEST_TIMEOUT"},
       "default request deadline (504 past it; 10s)",
       PositiveDuration([](ServerConfig& c, std::chrono::milliseconds d) {
         c.model_defaults.request_timeout = d;
       })},
      {"model_threads",
       {"VIGIL_MODEL_THREADS"},
       "intra-op threads per model (default 1)",
       Int<int>(1, 256, [](ServerConfig& c, int v) { c.model_defaults.threads = v; })},
      {"device",
       {"VIGIL_DEVICE"},
       "cpu or cuda[:N] for TorchScript models (default cpu)",
       [](const std::string& s, ServerConfig& c) -> Status {
         if (s != "cpu" && s.rfind("cuda", 0) != 0) {
           return InvalidArgument("expected cpu or cuda[:N], got '" + s + "'");
         }
         c.device = s;
         c.model_defaults.device = s;
         return Status::Ok();
       }},
      {"gpu_memory_fraction",
       {"VIGIL_GPU_MEMORY_FRACTION", "GPU_MEMORY_FRACTION"},
       "GPU memory fraction (0..1; CPU builds ignore it)",
       [](const std::string& s, ServerConfig& c) -> Status {
         double v = 0;
         auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
         if (ec != std::errc() || end != s.data() + s.size() || v < 0 || v > 1) {
           return InvalidArgument("expected a number in [0, 1], got '" + s + "'");
         }
         c.gpu_memory_fraction = v;
         return Status::Ok();
       }},
      {"ready_file",
       {"VIGIL_READY_FILE"},
       "file to write the bound port to once models are loaded",
       [](const std::string& s, ServerConfig& c) {
         c.ready_file = s;
         return Status::Ok();
       }},
      {"log_level",
       {"VIGIL_LOG_LEVEL"},
       "debug, info, warn or error (default info)",
       [](const std::string& s, ServerConfig& c) -> Status {
         LogLevel l;
         if (!ParseLogLevel(s, l))
           return InvalidArgument("expected debug, info, warn or error, got '" + s + "'");
         c.log_level = s;
         return Status::Ok();
       }},
      {"access_log",
       {"VIGIL_ACCESS_LOG"},
       "one JSON log line per request (default true)",
       Bool([](ServerConfig& c, bool v) { c.access_log = v; })},
      {"rollout_eval_interval",
       {"VIGIL_ROLLOUT_EVAL_INTERVAL"},
       "how often gradual rollouts are evaluated (default 1s)",
       PositiveDuration(
           [](ServerConfig& c, std::chrono::milliseconds d) { c.rollout_eval_interval = d; })},
      {"monitor",
       {"VIGIL_MONITOR"},
       "input validation, drift and feedback accuracy (default true)",
       Bool([](ServerConfig& c, bool v) { c.monitor = v; })},
      {"monitor_interval",
       {"VIGIL_MONITOR_INTERVAL"},
       "how often drift gauges are recomputed (default 10s)",
       PositiveDuration(
           [](ServerConfig& c, std::chrono::milliseconds d) { c.monitor_interval = d; })},
      {"alert_rules",
       {"VIGIL_ALERT_RULES"},
       "custom alert rules file (YAML, docs/alerting.md)",
       [](const std::string& s, ServerConfig& c) -> Status {
         c.alert_rules = s;
         return Status::Ok();
       }},
      {"notifications",
       {"VIGIL_NOTIFICATIONS"},
       "notification channels (Slack, PagerDuty, webhook), alert grouping and inhibition "
       "(YAML, docs/alerting.md)",
       [](const std::string& s, ServerConfig& c) -> Status {
         c.notifications = s;
         return Status::Ok();
       }},
      {"oncall",
       {"VIGIL_ONCALL"},
       "on-call schedules and escalation policies (YAML, docs/incidents.md)",
       [](const std::string& s, ServerConfig& c) -> Status {
         c.oncall = s;
         return Status::Ok();
       }},
      {"alert_eval_interval",
       {"VIGIL_ALERT_EVAL_INTERVAL"},
       "how often alert rules are evaluated (default 15s)",
       PositiveDuration(
           [](ServerConfig& c, std::chrono::milliseconds d) { c.alert_eval_interval = d; })},
      {"shutdown_grace",
       {"VIGIL_SHUTDOWN_GRACE"},
       "how long SIGTERM waits for in-flight requests (30s)",
       [](const std::string& s, ServerConfig& c) -> Status {
         auto d = ParseDuration(s);
         if (!d.ok()) return d.status();
         c.shutdown_grace = *d;
         return Status::Ok();
       }},
  };
  return kSettings;
}

}  // namespace

Status ApplyConfigFile(const std::filesystem::path& file, ServerConfig& config) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file.string());
  } catch (const YAML::BadFile&) {
    return NotFound(file.string() + ": cannot read the config file");
  } catch (const YAML::Exception& e) {
    return InvalidArgument(file.string() + ": not valid YAML: " + e.what());
  }
  if (root.IsNull()) return Status::Ok();
  if (!root.IsMap()) return InvalidArgument(file.string() + ": expected a mapping of settings");
  std::vector<std::string_view> keys;
  for (const auto& s : Settings()) keys.push_back(s.key);
  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();
    const Setting* setting = nullptr;
    for (const auto& s : Settings()) {
      if (key == s.key) setting = &s;
    }
    if (!setting) {
      std::string hint = ClosestMatch(key, keys);
      return InvalidArgument(file.string() + ": " + key + ": unknown key" +
                             (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    }
    std::string text;
    if (kv.second.IsSequence()) {
      for (const auto& e : kv.second) text += (text.empty() ? "" : ",") + e.Scalar();
    } else if (kv.second.IsScalar()) {
      text = kv.second.Scalar();
    } else {
      return InvalidArgument(file.string() + ": " + key + ": expected a value, got a mapping");
    }
    Status st = setting->apply(text, config);
    if (!st.ok()) return st.WithPrefix(file.string() + ": " + key);
  }
  return Status::Ok();
}

Status ApplyEnvironment(ServerConfig& config,
                        const std::function<const char*(const char*)>& getenv) {
  for (const auto& s : Settings()) {
    // The VIGIL_* name wins over the runbook's name when both are set.
    for (auto it = s.env.rbegin(); it != s.env.rend(); ++it) {
      const char* v = getenv(*it);
      if (!v) continue;
      Status st = s.apply(v, config);
      if (!st.ok()) return st.WithPrefix(std::string("environment variable ") + *it);
    }
  }
  return Status::Ok();
}

std::string EnvironmentHelp() {
  std::string out = "Settings (config-file key / environment variables):\n";
  for (const auto& s : Settings()) {
    std::string envs;
    for (auto e : s.env) envs += (envs.empty() ? "" : ", ") + std::string(e);
    out += "  " + std::string(s.key) + " / " + envs + "\n      " + s.help + "\n";
  }
  return out;
}

}  // namespace vigil
