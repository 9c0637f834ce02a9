// Api: every HTTP endpoint of Vigil (DESIGN.md §5): the Open Inference Protocol v2,
// the runbooks' endpoints, /metrics. Routes requests, checks API keys, runs
// inferences through the ModelManager, records request metrics and access logs.
//
// Thread-safe: Handle() is called concurrently from the HTTP I/O threads.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "http/auth.h"
#include "http/json_codec.h"
#include "http/router.h"
#include "http/server.h"
#include "serving/model_manager.h"
#include "serving/serving_metrics.h"

namespace vigil::http {

struct ApiOptions {
  bool protect_health = false;   // require an API key on health endpoints too
  bool protect_metrics = false;  // and on /metrics
  bool access_log = true;        // one JSON line per request
};

struct Call;
}  // namespace vigil::http
namespace vigil {
class ShadowComparison;
}  // namespace vigil
namespace vigil::monitor {
class Monitor;
}  // namespace vigil::monitor
namespace vigil::alerting {
class AlertService;
}  // namespace vigil::alerting
namespace vigil::incidents {
class IncidentManager;
class Escalator;
}  // namespace vigil::incidents
namespace vigil::notify {
class Notifier;
}  // namespace vigil::notify
namespace vigil::http {

class Api {
 public:
  // `monitor` (nullable: no validation, drift or feedback) must outlive the Api.
  Api(ModelManager& models, ServingMetrics& metrics, ApiKeyAuth auth, ApiOptions options,
      monitor::Monitor* monitor = nullptr);

  void Handle(HttpRequest&& req, Responder&& responder);

  // Serves /api/v1/alerts (nullable; must outlive the Api). Call before serving.
  void SetAlerts(alerting::AlertService* alerts) { alerts_ = alerts; }
  // Serves /api/v1/incidents (nullable; must outlive the Api). Call before serving.
  void SetIncidents(incidents::IncidentManager* incidents) { incidents_ = incidents; }
  // Serves /api/v1/oncall; `now_ms` is incident time (unix ms).
  void SetOnCall(incidents::Escalator* escalator, std::function<int64_t()> now_ms) {
    escalator_ = escalator;
    now_ms_ = std::move(now_ms);
  }
  // Serves /api/v1/notifications (nullable; must outlive the Api). Call before serving.
  void SetNotifier(notify::Notifier* notifier) { notifier_ = notifier; }
  // Enables POST /api/v1/test/clock (vigil serve --test-clock only).
  void SetTestClock(std::function<void(int64_t advance_ms)> advance) {
    advance_clock_ = std::move(advance);
  }

  // /v2/health/ready and /health answer "ready" only after this is set.
  void SetReady(bool ready) { ready_.store(ready); }

 private:
  using Fn = std::function<void(Api&, std::unique_ptr<Call>&)>;
  enum class Access { kOpen, kHealth, kMetrics, kProtected };
  struct Entry {
    Access access;
    Fn fn;
  };

  void Route(boost::beast::http::verb m, std::string_view pattern, Access a, Fn fn);

  // Handlers.
  void ServerLive(std::unique_ptr<Call>& c);
  void ServerReady(std::unique_ptr<Call>& c);
  void ServerMetadata(std::unique_ptr<Call>& c);
  void ModelMetadata(std::unique_ptr<Call>& c);
  void ModelReady(std::unique_ptr<Call>& c);
  void OipInfer(std::unique_ptr<Call>& c);
  void RepositoryIndex(std::unique_ptr<Call>& c);
  void RepositoryLoad(std::unique_ptr<Call>& c);
  void RepositoryUnload(std::unique_ptr<Call>& c);
  void Health(std::unique_ptr<Call>& c);
  void HealthDetailed(std::unique_ptr<Call>& c);
  void ModelsReload(std::unique_ptr<Call>& c);
  void V1Load(std::unique_ptr<Call>& c);
  void V1Predict(std::unique_ptr<Call>& c);
  void Metrics(std::unique_ptr<Call>& c);
  void ListVersions(std::unique_ptr<Call>& c);
  void RegisterUpload(std::unique_ptr<Call>& c);
  void Promote(std::unique_ptr<Call>& c);
  void Rollback(std::unique_ptr<Call>& c);
  void History(std::unique_ptr<Call>& c);
  void SetAlias(std::unique_ptr<Call>& c);
  void RemoveAlias(std::unique_ptr<Call>& c);
  void StartRollout(std::unique_ptr<Call>& c);
  void ListRollouts(std::unique_ptr<Call>& c);
  void RolloutAction(std::unique_ptr<Call>& c);
  // Monitoring (monitor_api.cc).
  void Drift(std::unique_ptr<Call>& c);
  void Quality(std::unique_ptr<Call>& c);
  void Performance(std::unique_ptr<Call>& c);
  void Feedback(std::unique_ptr<Call>& c);
  void Skew(std::unique_ptr<Call>& c);
  // Alerting (alerting_api.cc).
  void ListAlerts(std::unique_ptr<Call>& c);
  void AckAlert(std::unique_ptr<Call>& c);
  void PostAlerts(std::unique_ptr<Call>& c);
  void ListSilences(std::unique_ptr<Call>& c);
  void AddSilence(std::unique_ptr<Call>& c);
  void ExpireSilence(std::unique_ptr<Call>& c);
  void AlertmanagerWebhook(std::unique_ptr<Call>& c);
  // Incidents (incidents_api.cc).
  Result<incidents::IncidentManager*> IncidentsOrError();
  void DeclareIncident(std::unique_ptr<Call>& c);
  void ListIncidents(std::unique_ptr<Call>& c);
  void IncidentFigures(std::unique_ptr<Call>& c);
  void GetIncident(std::unique_ptr<Call>& c);
  void IncidentPostmortem(std::unique_ptr<Call>& c);
  void IncidentAction(std::unique_ptr<Call>& c);
  void OnCall(std::unique_ptr<Call>& c);
  void ListNotifications(std::unique_ptr<Call>& c);
  void TestNotification(std::unique_ptr<Call>& c);
  void Handoff(std::unique_ptr<Call>& c);
  void AdvanceTestClock(std::unique_ptr<Call>& c);

  // Monitoring on the hot path: checks the inputs (a 400 in reject mode) and prepares the
  // sample the monitor gets when the inference succeeds.
  Status MonitorInputs(Call& c, const VersionHandle& handle, const std::vector<Tensor>& inputs,
                       int64_t rows, std::string request_id);
  // The monitored model's config and version named by the path and ?version=.
  struct MonitoredVersion {
    std::shared_ptr<const ModelConfig> config;
    int64_t version = 0;
  };
  Result<MonitoredVersion> MonitoredFromPath(Call& c);

  // Answers and logs the call.
  void Reply(std::unique_ptr<Call>& c, int status, std::string body,
             std::string_view content_type = "application/json");
  void ReplyError(std::unique_ptr<Call>& c, const Status& st);

  // Resolves {model} and optional {version} path parameters.
  Result<VersionHandle> AcquireFromPath(Call& c);
  // Like AcquireBySelector, but a model that is not ready is answered by its fallback.
  Result<VersionHandle> AcquireForInference(Call& c, std::string_view selector);
  // The primary's fallback version, checked to take the same inputs; records it in `c`.
  Result<VersionHandle> AcquireFallback(Call& c, const ModelConfig& primary,
                                        const std::string& reason);
  // Submits an inference; `write` renders the 200 body from the outputs.
  // Renders the 200 body; `answered` is the version that ran (the fallback's, if one did).
  using WriteFn = std::function<void(std::string& body, const LoadedVersion& answered,
                                     const std::vector<Tensor>& outputs,
                                     std::string_view prediction_id, const FallbackInfo* fallback)>;
  void Submit(std::unique_ptr<Call>& c, VersionHandle handle, std::vector<Tensor> inputs,
              int64_t rows, std::optional<int64_t> timeout_ms, WriteFn write);
  // Mirrors a request to another version; its answer only feeds `shadow` (and `metrics`'
  // latency when not null).
  void SubmitShadow(const VersionHandle& candidate, const std::vector<Tensor>& inputs, int64_t rows,
                    std::shared_ptr<ShadowComparison> shadow, ShadowMetrics* metrics);

  ModelManager& models_;
  ServingMetrics& metrics_;
  ApiKeyAuth auth_;
  ApiOptions options_;
  monitor::Monitor* monitor_;
  alerting::AlertService* alerts_ = nullptr;
  incidents::IncidentManager* incidents_ = nullptr;
  incidents::Escalator* escalator_ = nullptr;
  notify::Notifier* notifier_ = nullptr;
  std::function<int64_t()> now_ms_;
  std::function<void(int64_t)> advance_clock_;
  Router<Entry> router_;
  std::atomic<bool> ready_{false};
  std::mutex register_mu_;  // serialises version registration
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace vigil::http
