#include "app/app.h"

#include <csignal>
#include <fstream>
#include <thread>

#include "alerting/alert_service.h"
#include "app/serving_signals.h"
#include "core/logging.h"
#include "core/version.h"
#include "http/api.h"
#include "http/server.h"
#include "incidents/escalation.h"
#include "incidents/incident_manager.h"
#include "incidents/runbook_actions.h"
#include "monitor/monitor.h"
#include "notify/messages.h"
#include "notify/notifier.h"
#include "oncall/schedule.h"
#include "serving/model_actions.h"
#include "serving/model_manager.h"
#include "serving/serving_metrics.h"
#include "store/prediction_store.h"
#include "store/store.h"

namespace vigil {
namespace {

Status WriteReadyFile(const std::filesystem::path& file, uint16_t port) {
  // Write then rename, so a poller never sees a half-written file.
  auto tmp = file;
  tmp += ".tmp";
  {
    std::ofstream out(tmp);
    out << port << "\n";
    if (!out) return Internal(tmp.string() + ": cannot write the ready file");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec) return Internal(file.string() + ": cannot write the ready file: " + ec.message());
  return Status::Ok();
}

// ModelActions over the manager and the store's history (what incident response may do).
class ManagerActions final : public ModelActions {
 public:
  ManagerActions(ModelManager& models, Store& store) : models_(models), store_(store) {}

  std::optional<Deployment> LastDeployment(const std::string& model) override {
    auto history = store_.History(model, 50);
    if (!history.ok()) return std::nullopt;
    for (const HistoryEntry& e : *history) {  // newest first
      if (e.action != "promote" && e.action != "promote (forced)" && e.action != "rollback" &&
          e.action != "initial") {
        continue;
      }
      return Deployment{e.at, e.action, e.from_version, e.to_version};
    }
    return std::nullopt;
  }

  Result<std::string> Rollback(const std::string& model, const std::string& actor,
                               const std::string& reason) override {
    auto change = models_.Rollback(model, std::nullopt, actor, reason);
    if (!change.ok()) return change.status();
    return (change->from ? std::to_string(*change->from) : std::string("-")) + " -> " +
           std::to_string(change->to);
  }

 private:
  ModelManager& models_;
  Store& store_;
};

}  // namespace

int RunServer(const ServerConfig& config) {
  LogLevel level = LogLevel::kInfo;
  ParseLogLevel(config.log_level, level);
  SetLogLevel(level);

  // Signals are taken synchronously by this thread; every thread started below
  // inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  if (config.api_keys.empty()) {
    LogWarn("no API keys configured: every endpoint is open (set API_KEYS to require keys)");
  }
  auto store = OpenSqliteStore(config.data_dir);
  if (!store.ok()) {
    LogError("cannot open the store", {{"error", store.status().message()}});
    FlushLogs();
    return 1;
  }
  ServingMetrics metrics(config.environment);
  auto models = std::make_unique<ModelManager>(config.model_repository, config.model_defaults,
                                               metrics, **store);
  http::ApiOptions api_options;
  api_options.protect_health = config.protect_health;
  api_options.protect_metrics = config.protect_metrics;
  api_options.access_log = config.access_log;
  std::unique_ptr<PredictionStore> predictions;
  std::unique_ptr<monitor::Monitor> monitor;
  if (config.monitor) {
    auto ps = OpenSqlitePredictionStore(config.data_dir);
    if (!ps.ok()) {
      LogError("cannot open the prediction store", {{"error", ps.status().message()}});
      FlushLogs();
      return 1;
    }
    predictions = std::move(*ps);
    monitor::MonitorOptions mo;
    mo.repository = config.model_repository;
    mo.interval = config.monitor_interval;
    mo.environment = config.environment;
    monitor = std::make_unique<monitor::Monitor>(mo, predictions.get(), metrics.registry());
  }
  models->SetQualitySignals(monitor.get());

  // Alert rules: each model's built-ins (from its config) plus the custom file.
  std::vector<alerting::AlertRule> custom_rules;
  if (!config.alert_rules.empty()) {
    auto rules = alerting::LoadRulesFile(config.alert_rules);
    if (!rules.ok()) {
      LogError("cannot load the alert rules", {{"error", rules.status().message()}});
      FlushLogs();
      return 2;
    }
    custom_rules = std::move(*rules);
  }
  // Incident time: the wall clock, moved forward by POST /api/v1/test/clock under
  // --test-clock (escalation after 15/30/60 min is tested that way).
  OffsetClock vigil_clock(SteadyClock::Instance());
  auto now_ms = [&vigil_clock] { return vigil_clock.UnixMillis(); };
  oncall::OnCallConfig oncall_config = oncall::DefaultOnCallConfig();
  if (!config.oncall.empty()) {
    auto loaded = oncall::LoadOnCallFile(config.oncall);
    if (!loaded.ok()) {
      LogError("cannot load the on-call file", {{"error", loaded.status().message()}});
      FlushLogs();
      return 2;
    }
    oncall_config = std::move(*loaded);
  }
  incidents::SetSeverityPolicies(oncall_config.severities);
  notify::NotifyConfig notify_config;
  if (!config.notifications.empty()) {
    auto loaded = notify::LoadNotifyFile(config.notifications);
    if (!loaded.ok()) {
      LogError("cannot load the notifications file", {{"error", loaded.status().message()}});
      FlushLogs();
      return 2;
    }
    notify_config = std::move(*loaded);
  }
  if (notify_config.channels.empty()) {
    LogInfo(
        "no notification channels configured: pages and alerts go to the incident timeline "
        "and the API only (set notifications, docs/alerting.md)");
  }
  notify::Notifier notifier(**store, notify_config, notify::MakeHttpSender(), metrics.registry(),
                            config.environment, now_ms);
  notify::IncidentNotifications incident_outbox(notifier);
  incidents::IncidentManager incident_manager(**store, metrics.registry(), config.environment,
                                              now_ms);
  incident_manager.SetOutbox(&incident_outbox);
  incidents::Escalator escalator(incident_manager, oncall_config, now_ms);
  ServingSignals alert_signals(vigil_clock, *models, monitor.get());
  alert_signals.SetServiceStats([&notifier, &monitor, &now_ms] {
    ServiceStats s;
    s.monitor_dropped = monitor ? static_cast<double>(monitor->dropped()) : 0;
    s.notifications_failed = static_cast<double>(notifier.failed_total());
    if (auto oldest = notifier.OldestPendingMs()) {
      s.notification_backlog_s = std::max<double>(0, (now_ms() - *oldest) / 1000.0);
    }
    return s;
  });
  ModelManager* manager = models.get();
  auto alerts = std::make_unique<alerting::AlertService>(
      vigil_clock, alert_signals,
      [manager, custom_rules] {
        std::vector<alerting::AlertRule> rules = alerting::ServiceRules();
        for (const auto& [name, snap] : *manager->Snapshot()) {
          if (snap->unloaded) continue;
          if (!snap->config) {  // the config did not parse: only its load failure is known
            rules.push_back(alerting::LoadFailureRule(name));
            continue;
          }
          auto builtin = alerting::BuiltinRules(*snap->config);
          rules.insert(rules.end(), builtin.begin(), builtin.end());
        }
        rules.insert(rules.end(), custom_rules.begin(), custom_rules.end());
        return rules;
      },
      metrics.registry(), config.environment, &**store);
  incident_manager.RestoreFiring(alerts->Alerts());
  ManagerActions model_actions(*models, **store);
  incidents::RunbookActions runbook(
      model_actions, incident_manager,
      [manager](const std::string& model) {
        auto table = manager->Snapshot();
        auto it = table->find(model);
        return it == table->end() ? std::shared_ptr<const ModelConfig>() : it->second->config;
      },
      [&now_ms] { return now_ms() / 1000; });
  alerts->SetUnixClock(now_ms);
  alerts->SetNotificationPolicy(
      notify_config.grouping, notify_config.inhibit_rules,
      [&notifier, &now_ms](std::vector<alerting::AlertGroup> groups) {
        for (const auto& g : groups) {
          Status st = notifier.Enqueue(
              notify::AlertGroupMessage(g, notifier.config().external_url, now_ms()));
          if (!st.ok()) LogError("alert notification not queued", {{"error", st.message()}});
        }
      });
  runbook.SetMetrics([&alert_signals](const std::string& model) {
    return DescribeModelNow(alert_signals, model);
  });
  alerts->SetAfterEvaluation([&runbook] { runbook.Verify(); });
  alerts->SetTransitionHandler([&incident_manager, &runbook](const alerting::AlertTransition& t) {
    incident_manager.OnAlert(t);
    runbook.OnAlert(t);
  });
  http::Api api(*models, metrics, http::ApiKeyAuth(config.api_keys), api_options, monitor.get());
  api.SetAlerts(alerts.get());
  api.SetIncidents(&incident_manager);
  api.SetOnCall(&escalator, now_ms);
  api.SetNotifier(&notifier);
  if (config.test_clock) {
    LogWarn("test clock on: POST /api/v1/test/clock moves incident time (never in production)");
    // Moving the clock runs what time drives, in order: escalations due by then, an alert
    // evaluation (with its grouping), the escalations that evaluation made due. Tests set
    // a long alert_eval_interval and step the pipeline through this deterministically.
    api.SetTestClock([&vigil_clock, &escalator, &alerts](int64_t advance_ms) {
      vigil_clock.Advance(std::chrono::milliseconds(advance_ms));
      escalator.Tick();
      alerts->EvaluateOnce();
      escalator.Tick();
    });
  }

  http::ServerOptions server_options;
  server_options.host = config.host;
  server_options.port = config.port;
  server_options.max_body_bytes = config.max_body_bytes;
  server_options.threads =
      config.io_threads > 0 ? config.io_threads
                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto server = std::make_unique<http::HttpServer>(
      server_options, [&api](http::HttpRequest&& req, http::Responder&& r) {
        api.Handle(std::move(req), std::move(r));
      });
  auto port = server->Start();
  if (!port.ok()) {
    LogError("cannot start the HTTP server", {{"error", port.status().message()}});
    FlushLogs();
    return 1;
  }
  LogInfo("vigil listening", {{"version", kVersion},
                              {"host", config.host},
                              {"port", static_cast<int>(*port)},
                              {"model_repository", config.model_repository.string()},
                              {"data_dir", config.data_dir.string()}});

  const auto load_start = std::chrono::steady_clock::now();
  ReloadReport report = models->ReloadAll();
  const double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_start)
          .count();
  LogInfo("models loaded", {{"loaded", static_cast<int>(report.loaded.size())},
                            {"errors", static_cast<int>(report.errors.size())},
                            {"load_ms", load_ms}});
  models->StartRolloutEvaluator(config.rollout_eval_interval);
  alerts->Start(config.alert_eval_interval);
  escalator.Start(config.alert_eval_interval);
  notifier.Start(
      std::min<std::chrono::milliseconds>(config.alert_eval_interval, std::chrono::seconds(1)));
  api.SetReady(true);
  if (!config.ready_file.empty()) {
    Status st = WriteReadyFile(config.ready_file, *port);
    if (!st.ok()) LogError("ready file", {{"error", st.message()}});
  }
  FlushLogs();

  int sig = 0;
  while (true) {
    timespec timeout{0, 200'000'000};
    sig = sigtimedwait(&signals, nullptr, &timeout);
    if (sig == SIGTERM || sig == SIGINT) break;
    FlushLogs();
  }
  LogInfo("shutting down: draining in-flight requests",
          {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}, {"in_flight", server->in_flight()}});
  api.SetReady(false);
  models->DrainAll();
  server->Shutdown(config.shutdown_grace);
  // The server goes first: its queued completions hold version handles, which must be
  // handed back while the manager can still retire them. The manager then waits for
  // every version to be released (in-flight batches finish) before it goes.
  server.reset();
  alerts.reset();  // reads the models and the monitor
  // In-flight batches finishing while the manager goes still tap the monitor, and its
  // rollout evaluator reads the monitor's labels: the monitor goes last.
  models.reset();
  monitor.reset();  // stores what it still holds
  LogInfo("stopped");
  FlushLogs();
  return 0;
}

}  // namespace vigil
