#include "http/api.h"
#include "core/clock.h"
#include "http/api_internal.h"

#include <charconv>

#include "core/duration.h"
#include "core/ids.h"
#include "core/logging.h"
#include "core/strings.h"
#include "core/version.h"
#include "serving/model_repository.h"
#include "serving/registry.h"
#include "serving/rollout_policy.h"
#include "serving/shadow.h"

#include <fstream>
#include "http/json_codec.h"

namespace vigil::http {

using boost::beast::http::field;
using boost::beast::http::verb;

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kTooLarge:
      return 413;
    case StatusCode::kFailedPrecondition:
    case StatusCode::kResourceExhausted:
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kDeadlineExceeded:
      return 504;
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

ErrorCategory CategoryFor(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
      return ErrorCategory::kValidation;
    case StatusCode::kDeadlineExceeded:
      return ErrorCategory::kTimeout;
    case StatusCode::kResourceExhausted:
    case StatusCode::kUnavailable:
      return ErrorCategory::kOverload;
    default:
      return ErrorCategory::kBackend;
  }
}

Result<std::optional<int64_t>> ParseVersion(std::string_view text) {
  if (text.empty()) return std::optional<int64_t>();
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v <= 0) {
    return InvalidArgument("version must be a positive integer, got '" + std::string(text) + "'");
  }
  return std::optional<int64_t>(v);
}

std::string Render(const std::function<void(JsonWriter&)>& fn) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  fn(w);
  return std::string(sb.GetString(), sb.GetSize());
}

void WriteStr(JsonWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void WriteMs(JsonWriter& w, const char* key, int64_t ms) {
  w.Key(key);
  if (ms > 0) {
    WriteStr(w, IsoMs(ms));
  } else {
    w.Null();
  }
}

Result<size_t> ParseLimit(std::string_view query, size_t fallback) {
  auto l = QueryValue(query, "limit");
  if (!l) return fallback;
  char* end = nullptr;
  const long long v = std::strtoll(l->c_str(), &end, 10);
  if (l->empty() || *end || v <= 0 || v > 10000) {
    return InvalidArgument("limit: expected an integer in [1, 10000]");
  }
  return static_cast<size_t>(v);
}

std::string IsoMs(int64_t ms) { return FormatUnixMillis(ms); }

std::string Iso8601(std::chrono::system_clock::time_point t) {
  return FormatUnixMillis(
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

namespace {

void WriteTensorSpecs(JsonWriter& w, const std::vector<TensorSpec>& specs) {
  w.StartArray();
  for (const auto& s : specs) {
    w.StartObject();
    w.Key("name");
    WriteStr(w, s.name);
    w.Key("datatype");
    WriteStr(w, DataTypeName(s.dtype));
    w.Key("shape");
    w.StartArray();
    for (int64_t d : s.shape) w.Int64(d);
    w.EndArray();
    if (!s.features.empty()) {
      w.Key("features");
      w.StartArray();
      for (const auto& f : s.features) WriteStr(w, f);
      w.EndArray();
    }
    if (!s.labels.empty()) {
      w.Key("labels");
      w.StartArray();
      for (const auto& l : s.labels) WriteStr(w, l);
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndArray();
}

std::string ModelState(const ModelSnapshot& m) {
  if (m.unloaded) return "UNAVAILABLE";
  if (m.is_ready()) return "READY";
  return m.last_error.empty() ? "UNAVAILABLE" : "FAILED";
}

// Per-model status object shared by /health/detailed, /models/status and the index.
void WriteModelStatus(JsonWriter& w, const ModelSnapshot& m) {
  w.StartObject();
  w.Key("name");
  WriteStr(w, m.name);
  w.Key("state");
  WriteStr(w, ModelState(m));
  if (m.config) {
    w.Key("backend");
    WriteStr(w, m.config->backend);
  }
  w.Key("default_version");
  if (m.default_version) {
    WriteStr(w, std::to_string(*m.default_version));
  } else {
    w.Null();
  }
  w.Key("versions");
  w.StartArray();
  for (const auto& v : m.versions) {
    auto ready = m.ready.find(v.version);
    w.StartObject();
    w.Key("version");
    WriteStr(w, std::to_string(v.version));
    w.Key("state");
    WriteStr(w, m.unloaded ? "UNAVAILABLE" : (ready != m.ready.end() ? "READY" : "FAILED"));
    if (ready != m.ready.end() && !m.unloaded) {
      const LoadedVersion& lv = *ready->second;
      w.Key("load_time_seconds");
      WriteDouble(w, lv.load_seconds);
      w.Key("loaded_at");
      WriteStr(w, Iso8601(lv.loaded_at));
      w.Key("queue_depth");
      w.Uint64(lv.batcher->queue_size());
      w.Key("circuit_breaker");
      WriteStr(w, BreakerStateName(lv.breaker->state()));
    }
    if (!v.error.empty()) {
      w.Key("last_error");
      WriteStr(w, v.error);
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("last_error");
  if (m.last_error.empty()) {
    w.Null();
  } else {
    WriteStr(w, m.last_error);
  }
  w.EndObject();
}

}  // namespace

Api::Api(ModelManager& models, ServingMetrics& metrics, ApiKeyAuth auth, ApiOptions options,
         monitor::Monitor* monitor)
    : models_(models),
      metrics_(metrics),
      auth_(std::move(auth)),
      options_(options),
      monitor_(monitor) {
  Route(verb::get, "/v2/health/live", Access::kHealth, &Api::ServerLive);
  Route(verb::get, "/v2/health/ready", Access::kHealth, &Api::ServerReady);
  Route(verb::get, "/v2", Access::kProtected, &Api::ServerMetadata);
  Route(verb::get, "/v2/models/{model}", Access::kProtected, &Api::ModelMetadata);
  Route(verb::get, "/v2/models/{model}/versions/{version}", Access::kProtected,
        &Api::ModelMetadata);
  Route(verb::get, "/v2/models/{model}/ready", Access::kProtected, &Api::ModelReady);
  Route(verb::get, "/v2/models/{model}/versions/{version}/ready", Access::kProtected,
        &Api::ModelReady);
  Route(verb::post, "/v2/models/{model}/infer", Access::kProtected, &Api::OipInfer);
  Route(verb::post, "/v2/models/{model}/versions/{version}/infer", Access::kProtected,
        &Api::OipInfer);
  Route(verb::post, "/v2/repository/index", Access::kProtected, &Api::RepositoryIndex);
  Route(verb::post, "/v2/repository/models/{model}/load", Access::kProtected, &Api::RepositoryLoad);
  Route(verb::post, "/v2/repository/models/{model}/unload", Access::kProtected,
        &Api::RepositoryUnload);
  Route(verb::get, "/health", Access::kHealth, &Api::Health);
  Route(verb::get, "/health/detailed", Access::kHealth, &Api::HealthDetailed);
  Route(verb::get, "/models/status", Access::kHealth, &Api::HealthDetailed);
  Route(verb::post, "/models/reload", Access::kProtected, &Api::ModelsReload);
  Route(verb::post, "/v1/models/{model}/load", Access::kProtected, &Api::V1Load);
  Route(verb::post, "/v1/models/{model}/unload", Access::kProtected, &Api::RepositoryUnload);
  Route(verb::post, "/v1/predict", Access::kProtected, &Api::V1Predict);
  Route(verb::get, "/metrics", Access::kMetrics, &Api::Metrics);
  Route(verb::get, "/api/v1/models/{model}/versions", Access::kProtected, &Api::ListVersions);
  Route(verb::post, "/api/v1/models/{model}/versions", Access::kProtected, &Api::RegisterUpload);
  Route(verb::post, "/api/v1/models/{model}/promote", Access::kProtected, &Api::Promote);
  Route(verb::post, "/api/v1/models/{model}/rollback", Access::kProtected, &Api::Rollback);
  Route(verb::get, "/api/v1/models/{model}/history", Access::kProtected, &Api::History);
  Route(verb::post, "/api/v1/models/{model}/aliases", Access::kProtected, &Api::SetAlias);
  Route(verb::delete_, "/api/v1/models/{model}/aliases/{alias}", Access::kProtected,
        &Api::RemoveAlias);
  Route(verb::post, "/api/v1/rollouts", Access::kProtected, &Api::StartRollout);
  Route(verb::get, "/api/v1/rollouts", Access::kProtected, &Api::ListRollouts);
  Route(verb::get, "/api/v1/rollouts/{model}", Access::kProtected, &Api::ListRollouts);
  Route(verb::post, "/api/v1/rollouts/{model}/{action}", Access::kProtected, &Api::RolloutAction);
  Route(verb::get, "/api/v1/models/{model}/drift", Access::kProtected, &Api::Drift);
  Route(verb::get, "/api/v1/models/{model}/quality", Access::kProtected, &Api::Quality);
  Route(verb::get, "/api/v1/models/{model}/performance", Access::kProtected, &Api::Performance);
  Route(verb::post, "/api/v1/models/{model}/skew", Access::kProtected, &Api::Skew);
  Route(verb::post, "/api/v1/feedback", Access::kProtected, &Api::Feedback);
  Route(verb::get, "/api/v1/alerts", Access::kProtected, &Api::ListAlerts);
  Route(verb::post, "/api/v1/alerts", Access::kProtected, &Api::PostAlerts);
  Route(verb::post, "/api/v1/alerts/{fingerprint}/ack", Access::kProtected, &Api::AckAlert);
  Route(verb::get, "/api/v1/silences", Access::kProtected, &Api::ListSilences);
  Route(verb::post, "/api/v1/silences", Access::kProtected, &Api::AddSilence);
  Route(verb::delete_, "/api/v1/silences/{id}", Access::kProtected, &Api::ExpireSilence);
  Route(verb::post, "/api/v1/alertmanager", Access::kProtected, &Api::AlertmanagerWebhook);
  Route(verb::post, "/api/v1/incidents", Access::kProtected, &Api::DeclareIncident);
  Route(verb::get, "/api/v1/incidents", Access::kProtected, &Api::ListIncidents);
  Route(verb::get, "/api/v1/incidents/metrics", Access::kProtected, &Api::IncidentFigures);
  Route(verb::get, "/api/v1/incidents/{id}", Access::kProtected, &Api::GetIncident);
  Route(verb::get, "/api/v1/incidents/{id}/postmortem", Access::kProtected,
        &Api::IncidentPostmortem);
  Route(verb::post, "/api/v1/incidents/{id}/{action}", Access::kProtected, &Api::IncidentAction);
  Route(verb::get, "/api/v1/oncall", Access::kProtected, &Api::OnCall);
  Route(verb::get, "/api/v1/notifications", Access::kProtected, &Api::ListNotifications);
  Route(verb::post, "/api/v1/notifications/test", Access::kProtected, &Api::TestNotification);
  Route(verb::get, "/api/v1/oncall/handoff", Access::kProtected, &Api::Handoff);
  Route(verb::post, "/api/v1/test/clock", Access::kProtected, &Api::AdvanceTestClock);
}

void Api::Route(verb m, std::string_view pattern, Access a, Fn fn) {
  router_.Add(m, pattern, Entry{a, std::move(fn)});
}

void Api::Handle(HttpRequest&& req, Responder&& responder) {
  auto c = std::make_unique<Call>();
  c->start = std::chrono::steady_clock::now();
  c->req = std::move(req);
  c->responder = std::move(responder);
  std::string_view target = c->req.target();
  const size_t q = target.find('?');
  c->path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) c->query = std::string(target.substr(q + 1));
  auto tp = c->req.find("traceparent");
  std::optional<std::string> trace;
  if (tp != c->req.end()) trace = TraceIdFromTraceparent(tp->value());
  c->trace_id = trace ? *trace : RandomHex128();

  const Entry* entry = nullptr;
  auto outcome = router_.Match(c->req.method(), c->path, entry, c->params);
  if (outcome == Router<Entry>::Outcome::kNotFound) {
    return ReplyError(c, NotFound("no such endpoint: " + c->path));
  }
  if (outcome == Router<Entry>::Outcome::kMethodNotAllowed) {
    const std::string msg =
        "method " + std::string(c->req.method_string()) + " not allowed on " + c->path;
    return Reply(c, 405, "{\"error\":" + JsonQuote(msg) + "}");
  }
  const bool needs_key = entry->access == Access::kProtected ||
                         (entry->access == Access::kHealth && options_.protect_health) ||
                         (entry->access == Access::kMetrics && options_.protect_metrics);
  if (needs_key && auth_.enabled()) {
    auto h = c->req.find(field::authorization);
    if (h == c->req.end() || !auth_.Check(h->value())) {
      c->headers.emplace_back("WWW-Authenticate", "Bearer");
      return ReplyError(
          c, Unauthenticated(h == c->req.end() ? "missing API key (Authorization: Bearer <key>)"
                                               : "invalid API key"));
    }
  }
  entry->fn(*this, c);
}

void Api::Reply(std::unique_ptr<Call>& c, int status, std::string body,
                std::string_view content_type) {
  HttpResponse res{static_cast<boost::beast::http::status>(status), c->req.version()};
  res.set(field::content_type, content_type);
  res.set("X-Trace-Id", c->trace_id);
  for (auto& [k, v] : c->headers) res.set(k, v);
  res.body() = std::move(body);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - c->start).count();
  if (c->metrics) {
    c->metrics->RequestsWithCode(status).Increment();
    c->metrics->request_duration->Observe(seconds);
  }
  if (options_.access_log || status >= 500) {
    Log(status >= 500 ? LogLevel::kError : (status >= 400 ? LogLevel::kWarn : LogLevel::kInfo),
        "request",
        {{"trace_id", c->trace_id},
         {"method", c->req.method_string()},
         {"path", c->path},
         {"model", c->model},
         {"version", c->version},
         {"status", status},
         {"latency_ms", seconds * 1000.0}});
  }
  Responder responder = std::move(c->responder);
  c.reset();
  responder.Send(std::move(res));
}

void Api::ReplyError(std::unique_ptr<Call>& c, const Status& st) {
  const int status = HttpStatusFor(st.code());
  if (st.code() == StatusCode::kResourceExhausted || st.code() == StatusCode::kUnavailable ||
      st.code() == StatusCode::kFailedPrecondition) {
    c->headers.emplace_back("Retry-After", "1");
  }
  Reply(c, status, "{\"error\":" + JsonQuote(st.message()) + "}");
}

// --- server endpoints --------------------------------------------------------

void Api::ServerLive(std::unique_ptr<Call>& c) { Reply(c, 200, "{\"live\":true}"); }

void Api::ServerReady(std::unique_ptr<Call>& c) {
  const bool ready = ready_.load();
  Reply(c, ready ? 200 : 503, ready ? "{\"ready\":true}" : "{\"ready\":false}");
}

void Api::ServerMetadata(std::unique_ptr<Call>& c) {
  Reply(c, 200, Render([](JsonWriter& w) {
          w.StartObject();
          w.Key("name");
          w.String("vigil");
          w.Key("version");
          w.String(kVersion);
          w.Key("extensions");
          w.StartArray();
          w.String("model_repository");
          w.String("parameters");
          w.EndArray();
          w.EndObject();
        }));
}

Result<VersionHandle> Api::AcquireFromPath(Call& c) {
  c.model = std::string(c.params.Get("model"));
  auto h = models_.AcquireBySelector(c.model, c.params.Get("version"));
  if (h.ok()) c.version = std::to_string((*h)->version);
  return h;
}

void Api::ModelMetadata(std::unique_ptr<Call>& c) {
  auto h = AcquireFromPath(*c);
  if (!h.ok()) return ReplyError(c, h.status());
  const LoadedVersion& lv = **h;
  auto table = models_.Snapshot();
  auto m = table->find(lv.model);
  Reply(c, 200, Render([&](JsonWriter& w) {
          w.StartObject();
          w.Key("name");
          WriteStr(w, lv.model);
          w.Key("versions");
          w.StartArray();
          if (m != table->end()) {
            for (const auto& [v, _] : m->second->ready) WriteStr(w, std::to_string(v));
          }
          w.EndArray();
          w.Key("platform");
          WriteStr(w, lv.config->backend);
          w.Key("inputs");
          WriteTensorSpecs(w, lv.config->inputs);
          w.Key("outputs");
          WriteTensorSpecs(w, lv.config->outputs);
          w.EndObject();
        }));
}

void Api::ModelReady(std::unique_ptr<Call>& c) {
  auto h = AcquireFromPath(*c);
  if (h.status().code() == StatusCode::kNotFound ||
      h.status().code() == StatusCode::kInvalidArgument) {
    return ReplyError(c, h.status());
  }
  const bool ready = h.ok();
  Reply(c, ready ? 200 : 503, Render([&](JsonWriter& w) {
          w.StartObject();
          w.Key("name");
          WriteStr(w, c->model);
          w.Key("ready");
          w.Bool(ready);
          if (!ready) {
            w.Key("error");
            WriteStr(w, h.status().message());
          }
          w.EndObject();
        }));
}

// --- inference ----------------------------------------------------------------

Result<VersionHandle> Api::AcquireFallback(Call& c, const ModelConfig& primary,
                                           const std::string& reason) {
  if (primary.fallback_model.empty()) {
    return Unavailable(reason + "; no fallback configured for model '" + primary.name + "'");
  }
  auto h = models_.Acquire(primary.fallback_model, primary.fallback_version);
  if (!h.ok()) {
    return Unavailable(reason + "; fallback '" + primary.fallback_model +
                       "' is unavailable too: " + h.status().message());
  }
  const auto& fin = (*h)->config->inputs;
  bool same = fin.size() == primary.inputs.size();
  for (size_t i = 0; same && i < fin.size(); ++i) {
    same = fin[i].name == primary.inputs[i].name && fin[i].dtype == primary.inputs[i].dtype &&
           fin[i].shape == primary.inputs[i].shape;
  }
  if (!same) {
    return Unavailable(reason + "; fallback '" + primary.fallback_model +
                       "' takes different inputs");
  }
  c.fallback = FallbackInfo{(*h)->model, (*h)->version, reason};
  c.headers.emplace_back("X-Vigil-Fallback", (*h)->model + ":" + std::to_string((*h)->version));
  LogWarn("answering from the fallback", {{"trace_id", c.trace_id},
                                          {"model", primary.name},
                                          {"fallback", (*h)->model},
                                          {"fallback_version", (*h)->version},
                                          {"reason", reason}});
  return h;
}

Result<VersionHandle> Api::AcquireForInference(Call& c, std::string_view selector) {
  std::string_view routing_key;
  if (auto k = c.req.find("X-Vigil-Routing-Key"); k != c.req.end()) routing_key = k->value();
  auto h = models_.AcquireBySelector(c.model, selector, routing_key);
  c.unversioned = selector.empty();
  if (h.ok() && c.unversioned) {
    auto table = models_.Snapshot();
    auto it = table->find(c.model);
    if (it != table->end() && it->second->rollout && it->second->rollout->strategy == "ab" &&
        it->second->rollout->state == "running") {
      c.ab_variant = (*h)->version == it->second->rollout->version ? "B" : "A";
    }
  }
  if (h.ok()) c.version = std::to_string((*h)->version);
  if (h.ok() || h.status().code() != StatusCode::kFailedPrecondition) return h;
  // Known but not ready (not loaded, failed): the fallback answers when there is one.
  auto table = models_.Snapshot();
  auto it = table->find(c.model);
  if (it == table->end() || !it->second->config || it->second->config->fallback_model.empty()) {
    return h;
  }
  return AcquireFallback(c, *it->second->config, h.status().message());
}

void Api::SubmitShadow(const VersionHandle& candidate, const std::vector<Tensor>& inputs,
                       int64_t rows, std::shared_ptr<ShadowComparison> shadow,
                       ShadowMetrics* metrics) {
  auto req = std::make_unique<InferenceRequest>();
  req->inputs = inputs;  // a copy: the client's request keeps its own
  req->rows = rows;
  req->enqueued = SteadyClock::Instance().Now();
  req->deadline = req->enqueued + candidate->config->request_timeout;
  Batcher* batcher = candidate->batcher.get();
  req->done = [candidate, shadow, metrics, enqueued = req->enqueued](InferenceResult&& r) {
    if (metrics) {
      metrics->latency->Observe(
          std::chrono::duration<double>(SteadyClock::Instance().Now() - enqueued).count());
    }
    shadow->SetShadow(r.status.ok() && !r.outputs.empty() ? std::optional<Tensor>(r.outputs[0])
                                                          : std::nullopt);
  };
  batcher->Submit(std::move(req));
}

void Api::Submit(std::unique_ptr<Call>& c, VersionHandle handle, std::vector<Tensor> inputs,
                 int64_t rows, std::optional<int64_t> timeout_ms, WriteFn write) {
  CircuitBreaker* breaker = nullptr;
  if (!c->fallback) {
    if (handle->breaker->Allow()) {
      breaker = handle->breaker.get();
    } else {
      const std::string reason =
          "circuit breaker open for " + handle->model + ":" + std::to_string(handle->version);
      auto fb = AcquireFallback(*c, *handle->config, reason);
      if (!fb.ok()) {
        handle->metrics->RecordError(ErrorCategory::kOverload);
        return ReplyError(c, fb.status());
      }
      handle = std::move(*fb);
    }
  }
  if (c->tap) {
    c->tap->config = handle->config;  // the fallback's, when it answers
    c->tap->version = handle->version;
    c->tap->rows = rows;
  }
  // Shadow rollout: a copy goes to the candidate; its answer is only compared.
  std::shared_ptr<ShadowComparison> shadow;
  if (c->unversioned && !c->fallback) {
    if (VersionHandle candidate = models_.ShadowFor(handle->model);
        candidate && candidate != handle) {
      ShadowMetrics* sm = &metrics_.ForShadow(candidate->model, std::to_string(candidate->version));
      shadow = std::make_shared<ShadowComparison>(!handle->config->outputs[0].labels.empty(), sm);
      SubmitShadow(candidate, inputs, rows, shadow, sm);
    } else if (VersionHandle production = models_.GradualMirrorFor(handle->model, *handle)) {
      // Gradual rollout: the candidate answers; production runs the same request so the
      // disagreement guardrail can compare them (counted on the candidate's series).
      shadow = std::make_shared<ShadowComparison>(
          !handle->config->outputs[0].labels.empty(),
          &metrics_.ForShadow(handle->model, std::to_string(handle->version)));
      SubmitShadow(production, inputs, rows, shadow, nullptr);
    }
  }
  auto req = std::make_unique<InferenceRequest>();
  req->inputs = std::move(inputs);
  req->rows = rows;
  req->enqueued = SteadyClock::Instance().Now();
  req->deadline = req->enqueued + (timeout_ms ? std::chrono::milliseconds(*timeout_ms)
                                              : handle->config->request_timeout);
  const std::string prediction_id = TimeOrderedHex128();
  c->headers.emplace_back("X-Prediction-Id", prediction_id);
  Batcher* batcher = handle->batcher.get();
  // std::function needs a copyable target: the call travels in a shared holder.
  auto holder = std::make_shared<std::unique_ptr<Call>>(std::move(c));
  const std::string ab_variant = (*holder)->ab_variant;
  req->done = [this, holder, handle = std::move(handle), write = std::move(write), prediction_id,
               breaker, shadow, ab_variant, client_deadline = timeout_ms.has_value(),
               enqueued = req->enqueued](InferenceResult&& r) {
    if (!ab_variant.empty()) {
      metrics_.RecordAbRequest(
          handle->model, ab_variant, std::to_string(handle->version), r.status.ok(),
          std::chrono::duration<double>(SteadyClock::Instance().Now() - enqueued).count());
    }
    if (shadow) {
      shadow->SetPrimary(r.status.ok() && !r.outputs.empty() ? std::optional<Tensor>(r.outputs[0])
                                                             : std::nullopt);
    }
    handle->metrics->inference_latency->Observe(
        std::chrono::duration<double>(SteadyClock::Instance().Now() - enqueued).count());
    if (std::optional<monitor::TapSample>& tap = (*holder)->tap;
        tap && r.status.ok() && !r.outputs.empty()) {
      const Tensor& out = r.outputs[0];
      tap->outputs.resize(static_cast<size_t>(out.elements()));
      for (size_t i = 0; i < tap->outputs.size(); ++i) {
        tap->outputs[i] = static_cast<float>(out.AsDouble(i));
      }
      tap->prediction_id = prediction_id;
      tap->unix_ms = UnixMillis();
      monitor_->Tap(std::move(*tap));
      tap.reset();
    }
    if (breaker) {
      const ErrorCategory category = CategoryFor(r.status.code());
      if (r.status.ok()) {
        breaker->RecordSuccess();
      } else if (category == ErrorCategory::kBackend ||
                 (category == ErrorCategory::kTimeout && !client_deadline)) {
        // A deadline the client chose itself says nothing about the model's health.
        breaker->RecordFailure();
      } else {
        breaker->Cancel();
      }
    }
    // The batcher's worker only runs models: the response is built on the I/O thread.
    Responder& responder = (*holder)->responder;
    responder.Post([this, holder, handle, write, prediction_id, r = std::move(r)]() {
      std::unique_ptr<Call>& call = *holder;
      VersionMetrics& m = *handle->metrics;
      if (!r.status.ok()) {
        m.RecordError(CategoryFor(r.status.code()));
        return ReplyError(call, r.status);
      }
      m.success->Increment();
      std::string body;
      write(body, *handle, r.outputs, prediction_id, call->fallback ? &*call->fallback : nullptr);
      Reply(call, 200, std::move(body));
    });
  };
  batcher->Submit(std::move(req));
}

Status Api::MonitorInputs(Call& c, const VersionHandle& handle, const std::vector<Tensor>& inputs,
                          int64_t rows, std::string request_id) {
  if (!monitor_ || !handle->config->monitor.enabled || rows <= 0) return Status::Ok();
  std::shared_ptr<const monitor::InputValidator> validator;
  VIGIL_RETURN_IF_ERROR(monitor_->Validate(handle->config, inputs, rows, &validator));
  const auto& rules = validator->rules();
  monitor::TapSample& t = c.tap.emplace();
  t.request_id = std::move(request_id);
  t.features.resize(static_cast<size_t>(rows) * rules.size());
  float* dst = t.features.data();
  for (int64_t row = 0; row < rows; ++row) {
    for (const auto& rule : rules) {
      const Tensor& in = inputs[rule.input];
      const size_t width = static_cast<size_t>(in.elements() / rows);
      *dst++ = static_cast<float>(in.AsDouble(static_cast<size_t>(row) * width + rule.column));
    }
  }
  return Status::Ok();
}

void Api::OipInfer(std::unique_ptr<Call>& c) {
  c->model = std::string(c->params.Get("model"));
  auto h = AcquireForInference(*c, c->params.Get("version"));
  if (!h.ok()) {
    c->metrics =
        &metrics_.ForVersion(models_.Snapshot()->count(c->model) ? c->model : "unknown", "");
    return ReplyError(c, h.status());
  }
  VersionHandle handle = std::move(*h);
  c->metrics = handle->metrics;
  rapidjson::Document doc;
  auto oip = std::make_shared<OipRequest>();
  Status st = ParseJson(c->req.body(), doc);
  if (st.ok()) {
    st = ParseOipInferRequest(doc, *handle->config, *oip);
    if (!st.ok() && monitor_) monitor_->CountSchemaError(handle->model);
  }
  if (!st.ok()) {
    handle->metrics->RecordError(ErrorCategory::kValidation);
    return ReplyError(c, st);
  }
  st = MonitorInputs(*c, handle, oip->data.inputs, oip->data.rows, oip->id.value_or(""));
  if (!st.ok()) {
    handle->metrics->RecordError(ErrorCategory::kValidation);
    return ReplyError(c, st);
  }
  auto inputs = std::move(oip->data.inputs);
  const int64_t rows = oip->data.rows;
  Submit(c, std::move(handle), std::move(inputs), rows, oip->timeout_ms,
         [oip](std::string& body, const LoadedVersion& answered, const std::vector<Tensor>& outputs,
               std::string_view prediction_id, const FallbackInfo* fallback) {
           rapidjson::StringBuffer sb;
           JsonWriter w(sb);
           WriteOipInferResponse(w, *answered.config, answered.version, *oip, outputs,
                                 prediction_id, fallback);
           body.assign(sb.GetString(), sb.GetSize());
         });
}

void Api::V1Predict(std::unique_ptr<Call>& c) {
  rapidjson::Document doc;
  Status st = ParseJson(c->req.body(), doc);
  if (!st.ok()) return ReplyError(c, st);
  if (!doc.HasMember("model") || !doc["model"].IsString()) {
    return ReplyError(c, InvalidArgument("model: expected the model name as a string"));
  }
  c->model = doc["model"].GetString();
  std::string selector;  // "" = production
  if (doc.HasMember("version")) {
    const auto& v = doc["version"];
    if (v.IsInt64() && v.GetInt64() > 0) {
      selector = std::to_string(v.GetInt64());
    } else if (v.IsString() && v.GetStringLength() > 0) {
      selector = v.GetString();
    } else {
      return ReplyError(c,
                        InvalidArgument("version: expected a positive integer or an alias such as "
                                        "\"production\""));
    }
  }
  auto h = AcquireForInference(*c, selector);
  if (!h.ok()) {
    c->metrics =
        &metrics_.ForVersion(models_.Snapshot()->count(c->model) ? c->model : "unknown", "");
    return ReplyError(c, h.status());
  }
  VersionHandle handle = std::move(*h);
  c->metrics = handle->metrics;
  if (!doc.HasMember("instances")) {
    handle->metrics->RecordError(ErrorCategory::kValidation);
    return ReplyError(c, InvalidArgument("instances: missing (expected an array of rows)"));
  }
  InferInputs in;
  st = ParseInstances(doc["instances"], *handle->config, in);
  if (!st.ok() && monitor_) monitor_->CountSchemaError(handle->model);
  if (st.ok()) st = MonitorInputs(*c, handle, in.inputs, in.rows, "");
  if (!st.ok()) {
    handle->metrics->RecordError(ErrorCategory::kValidation);
    return ReplyError(c, st);
  }
  Submit(c, std::move(handle), std::move(in.inputs), in.rows, std::nullopt,
         [](std::string& body, const LoadedVersion& answered, const std::vector<Tensor>& outputs,
            std::string_view prediction_id, const FallbackInfo* fallback) {
           rapidjson::StringBuffer sb;
           JsonWriter w(sb);
           WritePredictResponse(w, *answered.config, answered.version, outputs, prediction_id,
                                fallback);
           body.assign(sb.GetString(), sb.GetSize());
         });
}

// --- repository ---------------------------------------------------------------

void Api::RepositoryIndex(std::unique_ptr<Call>& c) {
  auto table = models_.Snapshot();
  Reply(c, 200, Render([&](JsonWriter& w) {
          w.StartArray();
          for (const auto& [name, m] : *table) {
            if (m->versions.empty()) {
              w.StartObject();
              w.Key("name");
              WriteStr(w, name);
              w.Key("state");
              WriteStr(w, ModelState(*m));
              w.Key("reason");
              WriteStr(w, m->unloaded ? "unloaded" : m->last_error);
              w.EndObject();
            }
            for (const auto& v : m->versions) {
              const bool ready = !m->unloaded && m->ready.count(v.version);
              w.StartObject();
              w.Key("name");
              WriteStr(w, name);
              w.Key("version");
              WriteStr(w, std::to_string(v.version));
              w.Key("state");
              WriteStr(w, m->unloaded ? "UNAVAILABLE" : (ready ? "READY" : "FAILED"));
              w.Key("reason");
              WriteStr(w, m->unloaded ? "unloaded" : v.error);
              w.EndObject();
            }
          }
          w.EndArray();
        }));
}

void Api::RepositoryLoad(std::unique_ptr<Call>& c) {
  c->model = std::string(c->params.Get("model"));
  Status st = models_.LoadModel(c->model);
  if (!st.ok()) return ReplyError(c, st);
  Reply(c, 200, "{\"model\":" + JsonQuote(c->model) + ",\"status\":\"loaded\"}");
}

void Api::RepositoryUnload(std::unique_ptr<Call>& c) {
  c->model = std::string(c->params.Get("model"));
  Status st = models_.UnloadModel(c->model);
  if (!st.ok()) return ReplyError(c, st);
  Reply(c, 200, "{\"model\":" + JsonQuote(c->model) + ",\"status\":\"unloaded\"}");
}

void Api::V1Load(std::unique_ptr<Call>& c) {
  c->model = std::string(c->params.Get("model"));
  const std::string format = QueryValue(c->query, "model_format").value_or("");
  if (!format.empty() && format != "torchscript" && format != "xgboost") {
    return ReplyError(
        c, InvalidArgument("model_format: expected torchscript or xgboost, got '" + format + "'"));
  }
  const auto start = std::chrono::steady_clock::now();
  Status st = models_.LoadModel(c->model, format);
  if (!st.ok()) return ReplyError(c, st);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto table = models_.Snapshot();
  auto m = table->find(c->model);
  const std::string backend =
      m != table->end() && m->second->config ? m->second->config->backend : format;
  Reply(c, 200, Render([&](JsonWriter& w) {
          w.StartObject();
          w.Key("model");
          WriteStr(w, c->model);
          w.Key("format");
          WriteStr(w, backend);
          w.Key("status");
          w.String("loaded");
          w.Key("load_time_seconds");
          WriteDouble(w, seconds);
          w.EndObject();
        }));
}

void Api::ModelsReload(std::unique_ptr<Call>& c) {
  ReloadReport report = models_.ReloadAll();
  Reply(c, 200, Render([&](JsonWriter& w) {
          auto list = [&](const char* key, const std::vector<std::string>& items) {
            w.Key(key);
            w.StartArray();
            for (const auto& s : items) WriteStr(w, s);
            w.EndArray();
          };
          w.StartObject();
          w.Key("status");
          w.String(report.errors.empty() ? "ok" : "partial");
          list("loaded", report.loaded);
          list("unloaded", report.unloaded);
          list("errors", report.errors);
          w.EndObject();
        }));
}

// --- health -------------------------------------------------------------------

void Api::Health(std::unique_ptr<Call>& c) {
  auto table = models_.Snapshot();
  size_t ready = 0, total = 0;
  for (const auto& [name, m] : *table) {
    if (m->unloaded) continue;
    ++total;
    ready += m->is_ready() ? 1 : 0;
  }
  const char* status = !ready_.load() || (total > 0 && ready == 0) ? "unhealthy"
                       : ready < total                             ? "degraded"
                                                                   : "healthy";
  const double uptime =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  Reply(c, std::string_view(status) == "unhealthy" ? 503 : 200, Render([&](JsonWriter& w) {
          w.StartObject();
          w.Key("status");
          w.String(status);
          w.Key("models_loaded");
          w.StartArray();
          for (const auto& [name, m] : *table) {
            if (!m->unloaded && m->is_ready()) WriteStr(w, name);
          }
          w.EndArray();
          w.Key("version");
          w.String(kVersion);
          w.Key("uptime_seconds");
          WriteDouble(w, uptime);
          w.EndObject();
        }));
}

void Api::HealthDetailed(std::unique_ptr<Call>& c) {
  auto table = models_.Snapshot();
  Reply(c, 200, Render([&](JsonWriter& w) {
          w.StartObject();
          w.Key("status");
          bool all = true;
          for (const auto& [n, m] : *table) all = all && (m->unloaded || m->is_ready());
          w.String(all ? "healthy" : "degraded");
          w.Key("models");
          w.StartArray();
          for (const auto& [name, m] : *table) WriteModelStatus(w, *m);
          w.EndArray();
          w.EndObject();
        }));
}

void Api::Metrics(std::unique_ptr<Call>& c) {
  // Breakers change state with time (open -> half-open): read them at scrape time.
  for (const auto& [name, m] : *models_.Snapshot()) {
    for (const auto& [v, h] : m->ready) {
      h->metrics->breaker_state->Set(static_cast<double>(h->breaker->state()));
    }
  }
  Reply(c, 200, metrics_.Serialize(), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace vigil::http

namespace vigil::http {

// --- lifecycle (admin API) ------------------------------------------------------

std::string Actor(const HttpRequest& req) {
  auto h = req.find("X-Vigil-Actor");
  return h == req.end() ? "api" : std::string(h->value().substr(0, 128));
}

Status ParseOptionalObject(std::string& body, rapidjson::Document& doc) {
  if (body.empty()) {
    doc.SetObject();
    return Status::Ok();
  }
  return ParseJson(body, doc);
}

std::string OptionalString(const rapidjson::Document& doc, const char* key) {
  return doc.HasMember(key) && doc[key].IsString() ? doc[key].GetString() : "";
}

namespace {

Result<std::optional<int64_t>> OptionalVersionField(const rapidjson::Document& doc,
                                                    const char* key) {
  if (!doc.HasMember(key) || doc[key].IsNull()) return std::optional<int64_t>();
  const auto& v = doc[key];
  if (v.IsInt64() && v.GetInt64() > 0) return std::optional<int64_t>(v.GetInt64());
  if (v.IsString()) return ParseVersion(v.GetString());
  return InvalidArgument(std::string(key) + ": expected a positive version number");
}

void WriteChange(JsonWriter& w, const std::string& model, const ModelManager::AliasChange& change) {
  w.StartObject();
  w.Key("model");
  WriteStr(w, model);
  w.Key("production");
  WriteStr(w, std::to_string(change.to));
  w.Key("previous");
  if (change.from) {
    WriteStr(w, std::to_string(*change.from));
  } else {
    w.Null();
  }
  w.EndObject();
}

}  // namespace

void Api::ListVersions(std::unique_ptr<Call>& c) {
  c->model = std::string(c->params.Get("model"));
  auto table = models_.Snapshot();
  auto m = table->find(c->model);
  if (m == table->end()) return ReplyError(c, NotFound("unknown model '" + c->model + "'"));
  auto records = models_.store().ListVersions(c->model);
  if (!records.ok()) return ReplyError(c, records.status());
  const ModelSnapshot& snap = *m->second;
  Reply(c, 200, Render([&](JsonWriter& w) {
          w.StartObject();
          w.Key("model");
          WriteStr(w, c->model);
          w.Key("aliases");
          w.StartObject();
          for (const auto& [alias, v] : snap.aliases) {
            w.Key(alias.c_str());
            WriteStr(w, std::to_string(v));
          }
          w.EndObject();
          w.Key("versions");
          w.StartArray();
          for (const auto& r : *records) {
            w.StartObject();
            w.Key("version");
            WriteStr(w, std::to_string(r.version));
            std::string state = "NOT_LOADED";
            std::string error;
            for (const auto& s : snap.versions) {
              if (s.version != r.version) continue;
              state = snap.ready.count(r.version) && !snap.unloaded ? "READY" : "FAILED";
              error = s.error;
            }
            w.Key("state");
            WriteStr(w, state);
            if (!error.empty()) {
              w.Key("last_error");
              WriteStr(w, error);
            }
            w.Key("aliases");
            w.StartArray();
            for (const auto& [alias, v] : snap.aliases) {
              if (v == r.version) WriteStr(w, alias);
            }
            w.EndArray();
            w.Key("created_at");
            WriteStr(
                w,
                Iso8601(std::chrono::system_clock::time_point(std::chrono::seconds(r.created_at))));
            w.Key("source");
            WriteStr(w, r.source);
            w.Key("description");
            WriteStr(w, r.description);
            w.Key("metrics");
            w.StartObject();
            for (const auto& [k, v] : r.metrics) {
              w.Key(k.c_str());
              WriteDouble(w, v);
            }
            w.EndObject();
            w.Key("files");
            w.StartArray();
            for (const auto& f : r.files) {
              w.StartObject();
              w.Key("path");
              WriteStr(w, f.path);
              w.Key("sha256");
              WriteStr(w, f.sha256);
              w.Key("size");
              w.Uint64(f.size);
              w.EndObject();
            }
            w.EndArray();
            w.EndObject();
          }
          w.EndArray();
          w.EndObject();
        }));
}

void Api::RegisterUpload(std::unique_ptr<Call>& c) {
  c->model = std::string(c->params.Get("model"));
  if (!IsValidModelName(c->model)) {
    return ReplyError(c, InvalidArgument("invalid model name '" + c->model + "'"));
  }
  // Registrations of a model pick "the next version": one at a time.
  std::lock_guard register_lock(register_mu_);
  if (c->req.body().empty()) {
    return ReplyError(c, InvalidArgument("empty body: send the artifact's bytes"));
  }
  RegisterOptions options;
  options.actor = Actor(c->req);
  options.source_label = "upload";
  if (auto v = QueryValue(c->query, "version")) {
    auto parsed = ParseVersion(*v);
    if (!parsed.ok() || !*parsed) {
      return ReplyError(c,
                        InvalidArgument("version: expected a positive integer, got '" + *v + "'"));
    }
    options.version = *parsed;
  }
  options.description = QueryValue(c->query, "description").value_or("");
  if (auto m = QueryValue(c->query, "metrics")) {
    auto metrics = ParseMetrics(*m);
    if (!metrics.ok()) return ReplyError(c, metrics.status());
    options.metrics = std::move(*metrics);
  }
  options.file_name = QueryValue(c->query, "file").value_or("");
  if (options.file_name.empty()) {
    auto table = models_.Snapshot();
    auto it = table->find(c->model);
    if (it == table->end() || !it->second->config) {
      return ReplyError(c, NotFound("unknown model '" + c->model +
                                    "' (its folder and config.yaml must exist; or pass file=)"));
    }
    options.file_name = it->second->config->backend == "xgboost" ? "model.ubj" : "model.pt";
  }
  // The body goes to a hidden file of the model's folder, then through the registry.
  const auto upload = models_.repository() / c->model / (".upload-" + RandomHex128());
  {
    std::ofstream out(upload, std::ios::binary);
    out.write(c->req.body().data(), static_cast<std::streamsize>(c->req.body().size()));
    if (!out) {
      std::error_code ec;
      std::filesystem::remove(upload, ec);
      return ReplyError(c, NotFound("unknown model '" + c->model + "' (no folder " +
                                    (models_.repository() / c->model).string() + ")"));
    }
  }
  auto version = RegisterVersion(models_.repository(), models_.store(), c->model, upload, options);
  std::error_code ec;
  std::filesystem::remove(upload, ec);
  if (!version.ok()) return ReplyError(c, version.status());
  // Load it (verified and warmed up); it takes unversioned traffic only once promoted.
  Status load = models_.LoadModel(c->model);
  auto handle = models_.Acquire(c->model, *version);
  Reply(c, 201, Render([&](JsonWriter& w) {
          w.StartObject();
          w.Key("model");
          WriteStr(w, c->model);
          w.Key("version");
          WriteStr(w, std::to_string(*version));
          w.Key("state");
          w.String(handle.ok() ? "READY" : "NOT_LOADED");
          if (!handle.ok()) {
            w.Key("error");
            WriteStr(w, load.ok() ? handle.status().message() : load.message());
          }
          w.EndObject();
        }));
}

void Api::Promote(std::unique_ptr<Call>& c) {
  c->model = std::string(c->params.Get("model"));
  rapidjson::Document doc;
  Status st = ParseOptionalObject(c->req.body(), doc);
  if (!st.ok()) return ReplyError(c, st);
  auto version = OptionalVersionField(doc, "version");
  if (!version.ok()) return ReplyError(c, version.status());
  if (!*version)
    return ReplyError(c, InvalidArgument("version: required (the version to promote)"));
  const bool force = doc.HasMember("force") && doc["force"].IsBool() && doc["force"].GetBool();
  auto change =
      models_.Promote(c->model, **version, Actor(c->req), OptionalString(doc, "reason"), force);
  if (!change.ok()) return ReplyError(c, change.status());
  Reply(c, 200, Render([&](JsonWriter& w) { WriteChange(w, c->model, *change); }));
}

void Api::Rollback(std::unique_ptr<Call>& c) {
  c->model = std::string(c->params.Get("model"));
  rapidjson::Document doc;
  Status st = ParseOptionalObject(c->req.body(), doc);
  if (!st.ok()) return ReplyError(c, st);
  auto to = OptionalVersionField(doc, "to");
  if (!to.ok()) return ReplyError(c, to.status());
  auto change = models_.Rollback(c->model, *to, Actor(c->req), OptionalString(doc, "reason"));
  if (!change.ok()) return ReplyError(c, change.status());
  Reply(c, 200, Render([&](JsonWriter& w) { WriteChange(w, c->model, *change); }));
}

void Api::History(std::unique_ptr<Call>& c) {
  c->model = std::string(c->params.Get("model"));
  if (!models_.Snapshot()->count(c->model)) {
    return ReplyError(c, NotFound("unknown model '" + c->model + "'"));
  }
  auto entries = models_.store().History(c->model, 1000);
  if (!entries.ok()) return ReplyError(c, entries.status());
  Reply(c, 200, Render([&](JsonWriter& w) {
          auto version = [&](const std::optional<int64_t>& v) {
            if (v) {
              WriteStr(w, std::to_string(*v));
            } else {
              w.Null();
            }
          };
          w.StartObject();
          w.Key("model");
          WriteStr(w, c->model);
          w.Key("history");
          w.StartArray();
          for (const auto& e : *entries) {
            w.StartObject();
            w.Key("at");
            WriteStr(w, Iso8601(std::chrono::system_clock::time_point(std::chrono::seconds(e.at))));
            w.Key("actor");
            WriteStr(w, e.actor);
            w.Key("action");
            WriteStr(w, e.action);
            w.Key("from");
            version(e.from_version);
            w.Key("to");
            version(e.to_version);
            w.Key("reason");
            WriteStr(w, e.reason);
            w.EndObject();
          }
          w.EndArray();
          w.EndObject();
        }));
}

}  // namespace vigil::http

namespace vigil::http {

namespace {

// A rollout with its variants' success/error counts (per-variant metrics).
void WriteRollout(JsonWriter& w, const ModelSnapshot& m, ServingMetrics& metrics) {
  const RolloutRecord& r = *m.rollout;
  w.StartObject();
  w.Key("model");
  WriteStr(w, m.name);
  w.Key("strategy");
  WriteStr(w, r.strategy);
  w.Key("state");
  WriteStr(w, r.state);
  w.Key("percent");
  WriteDouble(w, r.percent);
  w.Key("started_at");
  WriteStr(w, Iso8601(std::chrono::system_clock::time_point(std::chrono::seconds(r.started_at))));
  if (r.strategy == "gradual") {
    if (auto plan = GradualPlan::Parse(r.plan); plan.ok()) {
      w.Key("step");
      w.Int64(r.step + 1);
      w.Key("steps");
      w.StartArray();
      for (double p : plan->steps) WriteDouble(w, p);
      w.EndArray();
      w.Key("hold_seconds");
      WriteDouble(w, static_cast<double>(plan->hold.count()) / 1000);
      w.Key("guardrails");
      w.StartObject();
      w.Key("max_error_rate_increase");
      WriteDouble(w, plan->max_error_rate_increase);
      w.Key("max_p95_ratio");
      WriteDouble(w, plan->max_p95_ratio);
      w.Key("min_requests");
      w.Int64(plan->min_requests);
      w.Key("max_disagreement");
      WriteDouble(w, plan->max_disagreement);
      w.Key("max_accuracy_drop");
      WriteDouble(w, plan->max_accuracy_drop);
      w.Key("min_labels");
      w.Int64(plan->min_labels);
      w.EndObject();
    }
  }
  w.Key("variants");
  w.StartArray();
  auto variant = [&](const char* role, std::optional<int64_t> v) {
    if (!v) return;
    VersionMetrics& vm = metrics.ForVersion(m.name, std::to_string(*v));
    w.StartObject();
    w.Key("role");
    w.String(role);
    w.Key("version");
    WriteStr(w, std::to_string(*v));
    w.Key("success");
    WriteDouble(w, vm.success->Value());
    w.Key("error");
    WriteDouble(w, vm.error->Value());
    w.EndObject();
  };
  variant("production", m.default_version);
  variant("candidate", r.version);
  w.EndArray();
  if (r.strategy == "shadow") {
    ShadowMetrics& sm = metrics.ForShadow(m.name, std::to_string(r.version));
    const double agree = sm.agree->Value(), disagree = sm.disagree->Value();
    w.Key("shadow");
    w.StartObject();
    w.Key("agree");
    WriteDouble(w, agree);
    w.Key("disagree");
    WriteDouble(w, disagree);
    w.Key("error");
    WriteDouble(w, sm.error->Value());
    w.Key("agreement");
    if (agree + disagree > 0) {
      WriteDouble(w, agree / (agree + disagree));
    } else {
      w.Null();
    }
    w.EndObject();
  }
  w.EndObject();
}

}  // namespace

// {"steps": [5, 25, 50, 100], "hold": "5m", "max_error_rate_increase": 0.01,
//  "max_p95_ratio": 1.5, "min_requests": 20}, every key optional.
Result<GradualPlan> ParseGradualPlan(const rapidjson::Document& doc) {
  GradualPlan plan;
  std::string text;
  if (doc.HasMember("steps")) {
    const auto& steps = doc["steps"];
    if (!steps.IsArray() || steps.Empty()) {
      return InvalidArgument(
          "steps: expected a list of increasing percentages such as [5, 25, 50, 100]");
    }
    text += "steps=";
    for (rapidjson::SizeType i = 0; i < steps.Size(); ++i) {
      if (!steps[i].IsNumber()) return InvalidArgument("steps: expected numbers");
      char buf[32];
      std::snprintf(buf, sizeof buf, "%s%g", i ? "," : "", steps[i].GetDouble());
      text += buf;
    }
    text += ";";
  }
  if (doc.HasMember("hold")) {
    if (!doc["hold"].IsString()) return InvalidArgument("hold: expected a duration such as \"5m\"");
    auto d = ParseDuration(doc["hold"].GetString());
    if (!d.ok()) return d.status().WithPrefix("hold");
    text += "hold_ms=" + std::to_string(d->count()) + ";";
  }
  for (const char* key : {"max_error_rate_increase", "max_p95_ratio", "min_requests",
                          "max_disagreement", "max_accuracy_drop", "min_labels"}) {
    if (!doc.HasMember(key)) continue;
    if (!doc[key].IsNumber()) return InvalidArgument(std::string(key) + ": expected a number");
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s=%g;", key, doc[key].GetDouble());
    text += buf;
  }
  return text.empty() ? Result<GradualPlan>(plan) : GradualPlan::Parse(text);
}

void Api::SetAlias(std::unique_ptr<Call>& c) {
  c->model = std::string(c->params.Get("model"));
  rapidjson::Document doc;
  Status st = ParseJson(c->req.body(), doc);
  if (!st.ok()) return ReplyError(c, st);
  const std::string alias = OptionalString(doc, "alias");
  auto version = OptionalVersionField(doc, "version");
  if (!version.ok()) return ReplyError(c, version.status());
  if (!*version) return ReplyError(c, InvalidArgument("version: required"));
  st = models_.SetAlias(c->model, alias, *version, Actor(c->req));
  if (!st.ok()) return ReplyError(c, st);
  Reply(c, 200,
        "{\"model\":" + JsonQuote(c->model) + ",\"alias\":" + JsonQuote(alias) + ",\"version\":\"" +
            std::to_string(**version) + "\"}");
}

void Api::RemoveAlias(std::unique_ptr<Call>& c) {
  c->model = std::string(c->params.Get("model"));
  const std::string alias(c->params.Get("alias"));
  Status st = models_.SetAlias(c->model, alias, std::nullopt, Actor(c->req));
  if (!st.ok()) return ReplyError(c, st);
  Reply(c, 200,
        "{\"model\":" + JsonQuote(c->model) + ",\"alias\":" + JsonQuote(alias) +
            ",\"version\":null}");
}

void Api::StartRollout(std::unique_ptr<Call>& c) {
  rapidjson::Document doc;
  Status st = ParseJson(c->req.body(), doc);
  if (!st.ok()) return ReplyError(c, st);
  if (!doc.HasMember("model") || !doc["model"].IsString()) {
    return ReplyError(c, InvalidArgument("model: expected the model name as a string"));
  }
  c->model = doc["model"].GetString();
  auto version = OptionalVersionField(doc, "version");
  if (!version.ok()) return ReplyError(c, version.status());
  if (!*version) return ReplyError(c, InvalidArgument("version: required (the candidate version)"));
  std::string strategy = OptionalString(doc, "strategy");
  if (strategy.empty()) strategy = "canary";
  GradualPlan plan;
  double percent = 0;
  if (strategy == "gradual") {
    auto parsed = ParseGradualPlan(doc);
    if (!parsed.ok()) return ReplyError(c, parsed.status());
    plan = std::move(*parsed);
  } else if (!doc.HasMember("percent") || !doc["percent"].IsNumber()) {
    return ReplyError(c, InvalidArgument("percent: expected a number in [0, 100]"));
  } else {
    percent = doc["percent"].GetDouble();
  }
  auto r = models_.StartRollout(c->model, **version, percent, Actor(c->req),
                                OptionalString(doc, "reason"), strategy, plan);
  if (!r.ok()) return ReplyError(c, r.status());
  auto table = models_.Snapshot();
  auto m = table->find(c->model);
  if (m == table->end() || !m->second->rollout) {
    return ReplyError(c, AlreadyExists("the rollout ended while it was being started"));
  }
  Reply(c, 201, Render([&](JsonWriter& w) { WriteRollout(w, *m->second, metrics_); }));
}

void Api::ListRollouts(std::unique_ptr<Call>& c) {
  const std::string model(c->params.Get("model"));
  auto table = models_.Snapshot();
  if (!model.empty()) {
    c->model = model;
    auto m = table->find(model);
    if (m == table->end()) return ReplyError(c, NotFound("unknown model '" + model + "'"));
    if (!m->second->rollout) {
      return ReplyError(c, NotFound("model '" + model + "' has no rollout"));
    }
    return Reply(c, 200, Render([&](JsonWriter& w) { WriteRollout(w, *m->second, metrics_); }));
  }
  Reply(c, 200, Render([&](JsonWriter& w) {
          w.StartObject();
          w.Key("rollouts");
          w.StartArray();
          for (const auto& [name, m] : *table) {
            if (m->rollout) WriteRollout(w, *m, metrics_);
          }
          w.EndArray();
          w.EndObject();
        }));
}

void Api::RolloutAction(std::unique_ptr<Call>& c) {
  c->model = std::string(c->params.Get("model"));
  const std::string action(c->params.Get("action"));
  if (action != "promote" && action != "abort" && action != "pause" && action != "resume") {
    return ReplyError(c, NotFound("no such rollout action '" + action +
                                  "' (expected promote, abort, pause or resume)"));
  }
  rapidjson::Document doc;
  Status st = ParseOptionalObject(c->req.body(), doc);
  if (!st.ok()) return ReplyError(c, st);
  st = models_.EndRollout(c->model, action, Actor(c->req), OptionalString(doc, "reason"));
  if (!st.ok()) return ReplyError(c, st);
  auto table = models_.Snapshot();
  auto m = table->find(c->model);
  Reply(c, 200, Render([&](JsonWriter& w) {
          if (m != table->end() && m->second->rollout) return WriteRollout(w, *m->second, metrics_);
          w.StartObject();
          w.Key("model");
          WriteStr(w, c->model);
          w.Key("rollout");
          w.Null();
          w.Key("production");
          if (m != table->end() && m->second->default_version) {
            WriteStr(w, std::to_string(*m->second->default_version));
          } else {
            w.Null();
          }
          w.EndObject();
        }));
}

}  // namespace vigil::http
