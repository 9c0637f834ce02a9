// The `vigil` command line: serve, predict, models, --version (DESIGN.md §9.4).
// Usage errors exit 2, server or connection errors 1.
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <CLI/CLI.hpp>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "app/app.h"
#include "app/server_config.h"
#include "cli/http_client.h"
#include "cli/incident_commands.h"
#include "cli/monitor_commands.h"
#include "core/strings.h"
#include "core/version.h"
#include "serving/registry.h"
#include "store/store.h"

namespace {

constexpr int kUsageError = 2;
constexpr int kServerError = 1;

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '=' || c == ',') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string Pretty(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  if (doc.HasParseError()) return json;
  rapidjson::StringBuffer sb;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(sb);
  w.SetIndent(' ', 2);
  doc.Accept(w);
  return sb.GetString();
}

// Prints the server's answer; returns the exit code.
int PrintReply(const vigil::Result<vigil::HttpReply>& reply) {
  if (!reply.ok()) {
    std::cerr << "error: " << reply.status().message() << "\n";
    return kServerError;
  }
  if (reply->status >= 400) {
    std::cerr << "error: server answered " << reply->status << ": " << reply->body << "\n";
    return reply->status < 500 ? kUsageError : kServerError;
  }
  std::cout << Pretty(reply->body) << "\n";
  return 0;
}

int PrintModelsTable(const vigil::Result<vigil::HttpReply>& reply, bool detailed) {
  if (!reply.ok() || reply->status >= 400) return PrintReply(reply);
  rapidjson::Document doc;
  doc.Parse(reply->body.c_str());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("models")) {
    std::cerr << "error: unexpected answer from the server\n";
    return kServerError;
  }
  std::printf("%-20s %-12s %-12s %-8s %s\n", "MODEL", "STATE", "BACKEND", "DEFAULT",
              detailed ? "VERSIONS (state, load s, queue)" : "VERSIONS");
  for (const auto& m : doc["models"].GetArray()) {
    std::string versions;
    for (const auto& v : m["versions"].GetArray()) {
      if (!versions.empty()) versions += ", ";
      versions += v["version"].GetString();
      if (detailed) {
        versions += std::string(" (") + v["state"].GetString();
        if (v.HasMember("load_time_seconds")) {
          char buf[64];
          std::snprintf(buf, sizeof buf, ", %.3f s, %u", v["load_time_seconds"].GetDouble(),
                        v["queue_depth"].GetUint());
          versions += buf;
        }
        versions += ")";
      }
    }
    std::printf("%-20s %-12s %-12s %-8s %s\n", m["name"].GetString(), m["state"].GetString(),
                m.HasMember("backend") ? m["backend"].GetString() : "-",
                m["default_version"].IsString() ? m["default_version"].GetString() : "-",
                versions.c_str());
    if (detailed && m["last_error"].IsString()) {
      std::printf("    last error: %s\n", m["last_error"].GetString());
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Vigil: a model server that runs the ML on-call runbook itself.", "vigil"};
  app.set_version_flag("--version", std::string("vigil ") + vigil::kVersion);
  app.require_subcommand(1);

  std::string url = EnvOr("VIGIL_URL", "http://127.0.0.1:8000");
  std::string token = EnvOr("VIGIL_TOKEN", "");
  auto add_client_options = [&](CLI::App* cmd) {
    cmd->add_option("--url", url, "Vigil server URL (env VIGIL_URL)")->capture_default_str();
    cmd->add_option("--token", token, "API key (env VIGIL_TOKEN)");
  };

  // serve
  auto* serve = app.add_subcommand("serve", "Serve the models of a model repository");
  std::string repo, config_file, host, ready_file, environment, log_level;
  int port = -1, io_threads = -1;
  serve->add_option("--model-repository", repo, "Model repository folder")
      ->check(CLI::ExistingDirectory);
  serve->add_option("--port", port, "Listen port (default 8000; 0 = any free port)")
      ->check(CLI::Range(0, 65535));
  serve->add_option("--host", host, "Listen address (default 0.0.0.0)");
  std::string data_dir;
  serve->add_option("--data-dir", data_dir, "Folder of the embedded store (default ./vigil-data)");
  serve->add_option("--config", config_file, "Server config file (YAML)")->check(CLI::ExistingFile);
  serve->add_option("--ready-file", ready_file,
                    "Write the bound port to this file once the models are loaded");
  serve->add_option("--environment", environment, "'environment' label on every metric");
  serve->add_option("--io-threads", io_threads, "HTTP I/O threads (default: one per core)")
      ->check(CLI::Range(1, 256));
  serve->add_option("--log-level", log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  bool test_clock = false;
  serve->add_flag("--test-clock", test_clock,
                  "Enable POST /api/v1/test/clock to move incident time forward (tests only)");
  serve->footer(vigil::EnvironmentHelp());

  // predict
  auto* predict = app.add_subcommand("predict", "Run a prediction on a running server");
  std::string model, data;
  int64_t version = 0;
  predict->add_option("MODEL", model, "Model name")->required();
  predict->add_option("--data", data, "Rows as JSON, e.g. '[[5.1, 3.5, 1.4, 0.2]]'")->required();
  predict->add_option("--version", version, "Model version (default: production)")
      ->check(CLI::PositiveNumber);
  add_client_options(predict);

  // models
  auto* models = app.add_subcommand("models", "Inspect the models of a running server");
  models->require_subcommand(1);
  auto* models_list = models->add_subcommand("list", "List models and versions");
  auto* models_status = models->add_subcommand("status", "Per-version state, load time, queue");
  add_client_options(models_list);
  add_client_options(models_status);
  std::string lifecycle_model;
  auto* models_versions =
      models->add_subcommand("versions", "A model's versions: state, aliases, checksums, metrics");
  models_versions->add_option("MODEL", lifecycle_model, "Model name")->required();
  add_client_options(models_versions);
  auto* models_history =
      models->add_subcommand("history", "A model's lifecycle history (who, when, why, from -> to)");
  models_history->add_option("MODEL", lifecycle_model, "Model name")->required();
  add_client_options(models_history);

  // models alias
  std::string alias_name;
  int64_t alias_version = 0;
  bool alias_remove = false;
  auto* models_alias = models->add_subcommand(
      "alias", "Point a user-defined alias (e.g. champion) at VERSION, or --remove it");
  models_alias->add_option("MODEL", lifecycle_model, "Model name")->required();
  models_alias->add_option("NAME", alias_name, "Alias name")->required();
  models_alias->add_option("VERSION", alias_version, "Version")->check(CLI::PositiveNumber);
  models_alias->add_flag("--remove", alias_remove, "Remove the alias");
  add_client_options(models_alias);

  // models register
  std::string register_path, register_repo, register_data_dir, description, metrics_text;
  int64_t register_version = 0;
  auto* models_register = models->add_subcommand(
      "register", "Add a version: copy the artifact, record SHA-256 of every file and metadata");
  models_register->add_option("MODEL", lifecycle_model, "Model name")->required();
  models_register->add_option("PATH", register_path, "Artifact file (or folder, offline)")
      ->required()
      ->check(CLI::ExistingPath);
  models_register->add_option("--version", register_version, "Version number (default: next)")
      ->check(CLI::PositiveNumber);
  models_register->add_option("--description", description, "What this version is");
  models_register->add_option("--metrics", metrics_text,
                              "Offline metrics, e.g. accuracy=0.93,f1=0.9");
  models_register
      ->add_option("--model-repository", register_repo,
                   "Write into this repository directly (no server)")
      ->check(CLI::ExistingDirectory);
  models_register->add_option("--data-dir", register_data_dir,
                              "Store folder for --model-repository (default ./vigil-data)");
  add_client_options(models_register);

  // promote / rollback
  std::string reason;
  bool force = false;
  int64_t promote_version = 0, rollback_to = 0;
  auto* promote = app.add_subcommand(
      "promote", "Make VERSION the production version (loaded, verified and warmed up first)");
  promote->add_option("MODEL", lifecycle_model, "Model name")->required();
  promote->add_option("VERSION", promote_version, "Version to promote")
      ->required()
      ->check(CLI::PositiveNumber);
  promote->add_option("--reason", reason, "Why (recorded in the history)");
  promote->add_flag("--force", force, "Skip the config's promotion_gate (recorded as forced)");
  add_client_options(promote);
  auto* rollback =
      app.add_subcommand("rollback", "Return production to the previous version (or --to VERSION)");
  rollback->add_option("MODEL", lifecycle_model, "Model name")->required();
  rollback->add_option("--to", rollback_to, "Version to roll back to (default: previous)")
      ->check(CLI::PositiveNumber);
  rollback->add_option("--reason", reason, "Why (recorded in the history)");
  add_client_options(rollback);

  // rollout
  auto* rollout =
      app.add_subcommand("rollout", "Canary rollouts: a share of traffic to a candidate");
  rollout->require_subcommand(1);
  double percent = -1;
  int64_t rollout_version = 0;
  auto* rollout_start =
      rollout->add_subcommand("start", "Send PERCENT of unversioned traffic to VERSION");
  rollout_start->add_option("MODEL", lifecycle_model, "Model name")->required();
  rollout_start->add_option("VERSION", rollout_version, "Candidate version")
      ->required()
      ->check(CLI::PositiveNumber);
  rollout_start->add_option("--percent", percent, "Share of traffic, 0-100 (canary, shadow)")
      ->check(CLI::Range(0.0, 100.0));
  std::string steps_text, hold_text;
  double max_error_rate_increase = -1, max_p95_ratio = -1;
  int64_t min_requests = -1;
  rollout_start->add_option("--steps", steps_text, "gradual: percentages, e.g. 5,25,50,100");
  rollout_start->add_option("--hold", hold_text, "gradual: how long each step lasts, e.g. 5m");
  rollout_start->add_option("--max-error-rate-increase", max_error_rate_increase,
                            "gradual guardrail (default 0.01)");
  rollout_start->add_option("--max-p95-ratio", max_p95_ratio, "gradual guardrail (default 1.5)");
  double max_disagreement = -1, max_accuracy_drop = -1;
  int64_t min_labels = -1;
  rollout_start->add_option("--max-accuracy-drop", max_accuracy_drop,
                            "gradual guardrail: accuracy from delayed labels at most this much "
                            "below production's (default 0.05)");
  rollout_start->add_option("--min-labels", min_labels,
                            "gradual: labels per variant in a step before accuracy is judged "
                            "(default 20)");
  rollout_start->add_option("--max-disagreement", max_disagreement,
                            "gradual guardrail: share of rows answered differently (default 0.1)");
  rollout_start->add_option("--min-requests", min_requests,
                            "gradual: candidate requests per step before judging (default 20)");
  rollout_start->add_option("--reason", reason, "Why (recorded in the history)");
  std::string strategy = "canary";
  rollout_start
      ->add_option("--strategy", strategy,
                   "canary (answers PERCENT of traffic), shadow (sees a copy of PERCENT, "
                   "answers nothing), gradual (--steps, --hold, guardrails) or ab (a fixed "
                   "split with per-variant metrics)")
      ->check(CLI::IsMember({"canary", "shadow", "gradual", "ab"}));
  add_client_options(rollout_start);
  auto* rollout_status = rollout->add_subcommand("status", "Rollouts and their variants' counts");
  rollout_status->add_option("MODEL", lifecycle_model, "Model name (default: all)");
  add_client_options(rollout_status);
  std::vector<std::pair<std::string, CLI::App*>> rollout_actions;
  for (const char* action : {"pause", "resume", "promote", "abort"}) {
    auto* cmd = rollout->add_subcommand(action, std::string(action) + " the model's rollout");
    cmd->add_option("MODEL", lifecycle_model, "Model name")->required();
    cmd->add_option("--reason", reason, "Why (recorded in the history)");
    add_client_options(cmd);
    rollout_actions.emplace_back(action, cmd);
  }

  // profile
  auto* profile = app.add_subcommand("profile", "Reference profiles (training-data distributions)");
  profile->require_subcommand(1);
  vigil::cli::ProfileBuildArgs profile_args;
  profile_args.repository = EnvOr("VIGIL_MODEL_REPOSITORY", "");
  auto* profile_build = profile->add_subcommand(
      "build", "Profile a CSV/JSON-lines file into <repo>/<model>/reference.json (offline)");
  profile_build->add_option("MODEL", profile_args.model, "Model name")->required();
  profile_build
      ->add_option("--data", profile_args.data,
                   "Training data: CSV with a header, or "
                   ".jsonl")
      ->required()
      ->check(CLI::ExistingFile);
  profile_build
      ->add_option("--model-repository", profile_args.repository,
                   "Model repository folder (env VIGIL_MODEL_REPOSITORY)")
      ->check(CLI::ExistingDirectory);
  profile_build
      ->add_option("--version", profile_args.version,
                   "Version whose predictions are profiled (default: production_version, "
                   "else the newest)")
      ->check(CLI::PositiveNumber);
  profile_build->add_option("-o,--output", profile_args.output,
                            "Output file (default <repo>/<model>/reference.json)");
  bool no_predictions = false;
  profile_build->add_flag("--no-predictions", no_predictions,
                          "Do not run the model (no prediction profile)");
  profile_build->add_option("--bins", profile_args.bins, "Percentile bins per numeric feature")
      ->check(CLI::Range(2, 1000));

  // drift
  vigil::cli::DriftArgs drift_args;
  auto* drift = app.add_subcommand(
      "drift", "Feature and prediction drift of a served model, or of two files offline");
  drift->add_option("MODEL", drift_args.model, "Model name (online)");
  drift->add_option("--version", drift_args.version, "Version (default: production)")
      ->check(CLI::PositiveNumber);
  drift->add_option("--window", drift_args.window,
                    "Window, e.g. 1h or 24h (default: the "
                    "model's monitor.drift.window)");
  drift->add_option("--reference", drift_args.reference, "Offline: reference CSV/JSON lines")
      ->check(CLI::ExistingFile);
  drift->add_option("--current", drift_args.current, "Offline: current CSV/JSON lines")
      ->check(CLI::ExistingFile);
  drift->add_option("--method", drift_args.method, "Offline: drift method")
      ->check(CLI::IsMember({"auto", "ks", "psi", "wasserstein", "jensenshannon", "chisquare"}));
  drift->add_option("--correction", drift_args.correction, "Offline: p-value correction")
      ->check(CLI::IsMember({"bh", "bonferroni", "none"}));
  drift->add_option("--threshold", drift_args.threshold, "Offline: threshold for --method")
      ->check(CLI::PositiveNumber);
  drift->add_flag("--json", drift_args.json, "Print JSON instead of a table");
  add_client_options(drift);

  // quality / performance / feedback / skew
  bool json_out = false;
  std::string window_text;
  auto* quality = app.add_subcommand("quality", "Data quality of a model's recent inputs");
  quality->add_option("MODEL", lifecycle_model, "Model name")->required();
  quality->add_option("--version", version, "Version (default: production)")
      ->check(CLI::PositiveNumber);
  quality->add_option("--window", window_text, "Window, e.g. 1h");
  quality->add_flag("--json", json_out, "Print JSON");
  add_client_options(quality);
  auto* performance =
      app.add_subcommand("performance", "Accuracy (or MAE/RMSE) from delayed labels");
  performance->add_option("MODEL", lifecycle_model, "Model name")->required();
  performance->add_option("--version", version, "Version (default: production)")
      ->check(CLI::PositiveNumber);
  performance->add_flag("--json", json_out, "Print JSON");
  add_client_options(performance);
  vigil::cli::FeedbackArgs feedback_args;
  auto* feedback = app.add_subcommand(
      "feedback", "Send labels for served predictions (PREDICTION_ID LABEL, or --file)");
  feedback->add_option("PREDICTION_ID", feedback_args.prediction_id, "A response's prediction_id");
  feedback->add_option("LABEL", feedback_args.label, "The true label (or value)");
  feedback
      ->add_option("--file", feedback_args.file,
                   "CSV/JSON lines with prediction_id (or id [+ row]) and label columns")
      ->check(CLI::ExistingFile);
  add_client_options(feedback);
  vigil::cli::SkewArgs skew_args;
  auto* skew = app.add_subcommand(
      "skew", "Training/serving skew: offline features vs what the server received, per id");
  skew->add_option("MODEL", skew_args.model, "Model name")->required();
  skew->add_option("--data", skew_args.data,
                   "Offline features (CSV/JSON lines) with a prediction_id or id column")
      ->required()
      ->check(CLI::ExistingFile);
  skew->add_option("--id-column", skew_args.id_column,
                   "Column of ids: prediction_id (default when present) or id (the request id)");
  skew->add_option("--tolerance", skew_args.tolerance, "Relative tolerance (default 1e-6)")
      ->check(CLI::NonNegativeNumber);
  skew->add_flag("--json", skew_args.json, "Print JSON");
  add_client_options(skew);

  // alerts
  auto* alerts = app.add_subcommand("alerts", "Alerts from the built-in and custom rules");
  alerts->require_subcommand(1);
  auto* alerts_list = alerts->add_subcommand("list", "Pending, firing and resolved alerts");
  std::string alert_state, alert_model;
  alerts_list->add_option("--state", alert_state, "pending, firing, active or resolved")
      ->check(CLI::IsMember({"pending", "firing", "active", "resolved"}));
  alerts_list->add_option("--model", alert_model, "Only this model's alerts");
  alerts_list->add_flag("--json", json_out, "Print JSON");
  add_client_options(alerts_list);
  std::vector<std::string> silence_matchers;
  std::string silence_duration, silence_comment, silence_id, ack_fingerprint;
  auto* alerts_silence = alerts->add_subcommand(
      "silence", "Silence alerts matching every --matcher (name=value, name!=value, name=~re)");
  alerts_silence->add_option("-m,--matcher", silence_matchers, "A label matcher (repeatable)")
      ->required();
  alerts_silence->add_option("--duration", silence_duration, "How long, e.g. 2h")->required();
  alerts_silence->add_option("--comment", silence_comment, "Why (recorded)");
  auto* alerts_silences = alerts->add_subcommand("silences", "Silences not yet ended");
  auto* alerts_expire = alerts->add_subcommand("expire", "End a silence now");
  alerts_expire->add_option("ID", silence_id, "SIL-xxxxxxxx")->required();
  auto* alerts_ack = alerts->add_subcommand(
      "ack", "Acknowledge an alert (and its incident): stops escalation, keeps it visible");
  alerts_ack->add_option("FINGERPRINT", ack_fingerprint, "The alert's fingerprint")->required();
  for (auto* cmd : {alerts_silence, alerts_silences, alerts_expire, alerts_ack}) {
    add_client_options(cmd);
  }

  // incident
  vigil::cli::IncidentArgs inc;
  auto* incident = app.add_subcommand("incident", "Incidents: declare, track, resolve, postmortem");
  incident->require_subcommand(1);
  auto* inc_declare = incident->add_subcommand("declare", "Declare an incident by hand");
  inc_declare->add_option("--title", inc.title, "What is happening")->required();
  inc_declare->add_option("--description", inc.description, "Details and impact");
  inc_declare->add_option("--sev,--severity", inc.severity, "1-4 (SEV1 most severe)")
      ->required()
      ->check(CLI::IsMember({"1", "2", "3", "4", "SEV1", "SEV2", "SEV3", "SEV4"}));
  inc_declare->add_option("--service", inc.service, "The model concerned");
  inc_declare->add_flag("--json", inc.json, "Print JSON");
  auto* inc_list = incident->add_subcommand("list", "Incidents, newest first");
  inc_list->add_option("--status", inc.status,
                       "open, investigating, identified, monitoring, resolved");
  inc_list->add_flag("--json", inc.json, "Print JSON");
  auto* inc_show = incident->add_subcommand("show", "An incident with its timeline");
  inc_show->add_option("ID", inc.id, "INC-xxxxxxxx")->required();
  inc_show->add_flag("--json", inc.json, "Print JSON");
  auto* inc_update =
      incident->add_subcommand("update", "Change status, severity or roles; add a note or action");
  inc_update->add_option("ID", inc.id, "INC-xxxxxxxx")->required();
  inc_update->add_option("--status", inc.status, "investigating, identified, monitoring, resolved");
  inc_update->add_option("--severity", inc.severity, "1-4");
  inc_update->add_option("--note", inc.note, "A note for the timeline");
  inc_update->add_option("--action", inc.action, "Something done (e.g. rolled back)");
  inc_update->add_option("--commander", inc.commander, "Incident commander");
  inc_update->add_option("--comms-lead", inc.communications_lead, "Communications lead");
  inc_update->add_option("--tech-lead", inc.technical_lead, "Technical lead");
  inc_update->add_option("--responder", inc.responder, "Add a responder");
  auto* inc_ack = incident->add_subcommand("ack", "Acknowledge (stops escalation)");
  inc_ack->add_option("ID", inc.id, "INC-xxxxxxxx")->required();
  auto* inc_pm = incident->add_subcommand("postmortem", "The postmortem draft (Markdown)");
  inc_pm->add_option("ID", inc.id, "INC-xxxxxxxx")->required();
  inc_pm->add_option("-o,--output", inc.output, "Write to FILE instead of stdout");
  auto* inc_metrics = incident->add_subcommand("metrics", "MTTD, MTTA, MTTR, MTBF");
  for (auto* cmd : {inc_declare, inc_list, inc_show, inc_update, inc_ack, inc_pm, inc_metrics}) {
    add_client_options(cmd);
  }

  // oncall
  auto* oncall = app.add_subcommand("oncall", "On-call schedules and escalation");
  oncall->require_subcommand(1);
  auto* oncall_who = oncall->add_subcommand("who", "Who is on call (now, or --at TIME)");
  std::string oncall_at;
  oncall_who->add_option("--at", oncall_at, "A time such as 2026-11-23T09:00:00Z");
  oncall_who->add_flag("--json", json_out, "Print JSON");
  add_client_options(oncall_who);
  auto* oncall_handoff = oncall->add_subcommand(
      "handoff", "The shift handoff: on call, open incidents, firing alerts, recent actions");
  std::string handoff_lookback, handoff_output;
  oncall_handoff->add_option("--lookback", handoff_lookback, "How far back, e.g. 12h (24h)");
  oncall_handoff->add_option("-o,--output", handoff_output, "Write to FILE");
  add_client_options(oncall_handoff);

  // notifications
  auto* notifications =
      app.add_subcommand("notifications", "Notification channels and the delivery outbox");
  notifications->require_subcommand(1);
  auto* notifications_list =
      notifications->add_subcommand("list", "Configured channels and recent notifications");
  std::string notification_state, notification_channel, notification_text;
  notifications_list->add_option("--state", notification_state, "pending, sent or failed")
      ->check(CLI::IsMember({"pending", "sent", "failed"}));
  notifications_list->add_flag("--json", json_out, "Print JSON");
  add_client_options(notifications_list);
  auto* notifications_test =
      notifications->add_subcommand("test", "Send a test message to one channel");
  notifications_test->add_option("channel", notification_channel, "The channel's name")->required();
  notifications_test->add_option("--text", notification_text, "The message (optional)");
  add_client_options(notifications_test);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kUsageError;
  }

  if (serve->parsed()) {
    vigil::ServerConfig config;
    if (!config_file.empty()) {
      vigil::Status st = vigil::ApplyConfigFile(config_file, config);
      if (!st.ok()) {
        std::cerr << "error: " << st.message() << "\n";
        return kUsageError;
      }
    }
    vigil::Status st =
        vigil::ApplyEnvironment(config, [](const char* n) { return std::getenv(n); });
    if (!st.ok()) {
      std::cerr << "error: " << st.message() << "\n";
      return kUsageError;
    }
    if (!repo.empty()) config.model_repository = repo;
    if (!data_dir.empty()) config.data_dir = data_dir;
    if (port >= 0) config.port = static_cast<uint16_t>(port);
    if (!host.empty()) config.host = host;
    if (!ready_file.empty()) config.ready_file = ready_file;
    if (!environment.empty()) config.environment = environment;
    if (io_threads > 0) config.io_threads = io_threads;
    if (!log_level.empty()) config.log_level = log_level;
    if (test_clock) config.test_clock = true;
    if (config.model_repository.empty()) {
      std::cerr << "error: --model-repository: required (or VIGIL_MODEL_REPOSITORY, or "
                   "model_repository in --config)\n";
      return kUsageError;
    }
    return vigil::RunServer(config);
  }
  if (predict->parsed()) {
    rapidjson::Document rows;
    rows.Parse(data.c_str());
    if (rows.HasParseError() || !rows.IsArray()) {
      std::cerr << "error: --data: expected a JSON array of rows, e.g. '[[5.1, 3.5, 1.4, 0.2]]'\n";
      return kUsageError;
    }
    std::string body = "{\"model\":" + vigil::JsonQuote(model) + ",";
    if (version > 0) body += "\"version\":" + std::to_string(version) + ",";
    body += "\"instances\":" + data + "}";
    return PrintReply(vigil::HttpCall(url, "POST", "/v1/predict", body, token));
  }
  if (models_versions->parsed()) {
    return PrintReply(
        vigil::HttpCall(url, "GET", "/api/v1/models/" + lifecycle_model + "/versions", "", token));
  }
  if (models_history->parsed()) {
    return PrintReply(
        vigil::HttpCall(url, "GET", "/api/v1/models/" + lifecycle_model + "/history", "", token));
  }
  if (models_alias->parsed()) {
    if (alias_remove) {
      return PrintReply(vigil::HttpCall(
          url, "DELETE", "/api/v1/models/" + lifecycle_model + "/aliases/" + alias_name, "",
          token));
    }
    if (alias_version <= 0) {
      std::cerr << "error: VERSION: required (or --remove)\n";
      return kUsageError;
    }
    return PrintReply(vigil::HttpCall(url, "POST", "/api/v1/models/" + lifecycle_model + "/aliases",
                                      "{\"alias\":" + vigil::JsonQuote(alias_name) +
                                          ",\"version\":" + std::to_string(alias_version) + "}",
                                      token));
  }
  if (models_register->parsed()) {
    auto metrics = vigil::ParseMetrics(metrics_text);
    if (!metrics.ok()) {
      std::cerr << "error: --" << metrics.status().message() << "\n";
      return kUsageError;
    }
    if (!register_repo.empty()) {
      auto store =
          vigil::OpenSqliteStore(register_data_dir.empty() ? "vigil-data" : register_data_dir);
      if (!store.ok()) {
        std::cerr << "error: " << store.status().message() << "\n";
        return kServerError;
      }
      vigil::RegisterOptions options;
      if (register_version > 0) options.version = register_version;
      options.description = description;
      options.metrics = *metrics;
      const char* user = std::getenv("USER");
      options.actor = user && *user ? user : "cli";
      auto v =
          vigil::RegisterVersion(register_repo, **store, lifecycle_model, register_path, options);
      if (!v.ok()) {
        std::cerr << "error: " << v.status().message() << "\n";
        return v.status().code() == vigil::StatusCode::kInternal ? kServerError : kUsageError;
      }
      std::cout << "registered " << lifecycle_model << " version " << *v << " in " << register_repo
                << " (POST /models/reload on a running server loads it)\n";
      return 0;
    }
    if (std::filesystem::is_directory(register_path)) {
      std::cerr << "error: PATH: a folder can only be registered offline (--model-repository); "
                   "upload a single artifact file\n";
      return kUsageError;
    }
    std::ifstream in(register_path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string query =
        "?file=" + UrlEncode(std::filesystem::path(register_path).filename().string());
    if (register_version > 0) query += "&version=" + std::to_string(register_version);
    if (!description.empty()) query += "&description=" + UrlEncode(description);
    if (!metrics_text.empty()) query += "&metrics=" + UrlEncode(metrics_text);
    return PrintReply(vigil::HttpCall(url, "POST",
                                      "/api/v1/models/" + lifecycle_model + "/versions" + query,
                                      bytes, token, "application/octet-stream"));
  }
  if (promote->parsed()) {
    std::string body = "{\"version\":" + std::to_string(promote_version) +
                       ",\"reason\":" + vigil::JsonQuote(reason) +
                       (force ? ",\"force\":true}" : "}");
    return PrintReply(vigil::HttpCall(url, "POST", "/api/v1/models/" + lifecycle_model + "/promote",
                                      body, token));
  }
  if (rollback->parsed()) {
    std::string body = "{\"reason\":" + vigil::JsonQuote(reason);
    if (rollback_to > 0) body += ",\"to\":" + std::to_string(rollback_to);
    body += "}";
    return PrintReply(vigil::HttpCall(
        url, "POST", "/api/v1/models/" + lifecycle_model + "/rollback", body, token));
  }
  if (rollout_start->parsed()) {
    char pct[32];
    std::snprintf(pct, sizeof pct, "%g", percent);
    std::string extra;
    if (strategy == "gradual") {
      if (!steps_text.empty()) extra += ",\"steps\":[" + steps_text + "]";
      if (!hold_text.empty()) extra += ",\"hold\":" + vigil::JsonQuote(hold_text);
      if (max_error_rate_increase >= 0) {
        extra += ",\"max_error_rate_increase\":" + std::to_string(max_error_rate_increase);
      }
      if (max_p95_ratio > 0) extra += ",\"max_p95_ratio\":" + std::to_string(max_p95_ratio);
      if (min_requests >= 0) extra += ",\"min_requests\":" + std::to_string(min_requests);
      if (max_accuracy_drop >= 0) {
        extra += ",\"max_accuracy_drop\":" + std::to_string(max_accuracy_drop);
      }
      if (min_labels >= 0) extra += ",\"min_labels\":" + std::to_string(min_labels);
      if (max_disagreement >= 0) {
        extra += ",\"max_disagreement\":" + std::to_string(max_disagreement);
      }
    } else if (percent < 0) {
      std::cerr << "error: --percent: required for the " << strategy << " strategy\n";
      return kUsageError;
    }
    std::string body = "{\"model\":" + vigil::JsonQuote(lifecycle_model) + extra +
                       ",\"version\":" + std::to_string(rollout_version) + ",\"percent\":" + pct +
                       ",\"strategy\":\"" + strategy + "\",\"reason\":" + vigil::JsonQuote(reason) +
                       "}";
    return PrintReply(vigil::HttpCall(url, "POST", "/api/v1/rollouts", body, token));
  }
  if (rollout_status->parsed()) {
    return PrintReply(vigil::HttpCall(
        url, "GET", "/api/v1/rollouts" + (lifecycle_model.empty() ? "" : "/" + lifecycle_model), "",
        token));
  }
  for (const auto& [action, cmd] : rollout_actions) {
    if (!cmd->parsed()) continue;
    return PrintReply(vigil::HttpCall(url, "POST",
                                      "/api/v1/rollouts/" + lifecycle_model + "/" + action,
                                      "{\"reason\":" + vigil::JsonQuote(reason) + "}", token));
  }
  const vigil::cli::ServerTarget target{url, token};
  if (profile_build->parsed()) {
    profile_args.predictions = !no_predictions;
    return vigil::cli::ProfileBuild(profile_args);
  }
  if (drift->parsed()) return vigil::cli::Drift(drift_args, target);
  if (quality->parsed()) {
    return vigil::cli::Quality(lifecycle_model, version, window_text, json_out, target);
  }
  if (performance->parsed()) {
    return vigil::cli::Performance(lifecycle_model, version, json_out, target);
  }
  if (feedback->parsed()) return vigil::cli::Feedback(feedback_args, target);
  if (skew->parsed()) return vigil::cli::Skew(skew_args, target);
  if (oncall_who->parsed()) return vigil::cli::OnCallWho(oncall_at, json_out, target);
  if (notifications_list->parsed()) {
    return vigil::cli::NotificationsList(notification_state, json_out, target);
  }
  if (notifications_test->parsed()) {
    return vigil::cli::NotificationsTest(notification_channel, notification_text, target);
  }
  if (oncall_handoff->parsed()) {
    return vigil::cli::OnCallHandoff(handoff_lookback, handoff_output, target);
  }
  if (inc_declare->parsed()) return vigil::cli::IncidentDeclare(inc, target);
  if (inc_list->parsed()) return vigil::cli::IncidentList(inc, target);
  if (inc_show->parsed()) return vigil::cli::IncidentShow(inc, target);
  if (inc_update->parsed()) return vigil::cli::IncidentUpdate(inc, target);
  if (inc_ack->parsed()) return vigil::cli::IncidentAck(inc, target);
  if (inc_pm->parsed()) return vigil::cli::IncidentPostmortem(inc, target);
  if (inc_metrics->parsed()) return vigil::cli::IncidentMetrics(target);
  if (alerts_silence->parsed()) {
    return vigil::cli::AlertsSilence(silence_matchers, silence_duration, silence_comment, target);
  }
  if (alerts_silences->parsed()) return vigil::cli::AlertsSilences(target);
  if (alerts_expire->parsed()) return vigil::cli::AlertsExpire(silence_id, target);
  if (alerts_ack->parsed()) return vigil::cli::AlertsAck(ack_fingerprint, target);
  if (alerts_list->parsed()) {
    return vigil::cli::AlertsList(alert_state, alert_model, json_out, target);
  }
  if (models_list->parsed() || models_status->parsed()) {
    return PrintModelsTable(vigil::HttpCall(url, "GET", "/models/status", "", token),
                            models_status->parsed());
  }
  return kUsageError;
}
