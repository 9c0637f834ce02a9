// Internals shared by the Api's translation units (api.cc, monitor_api.cc): the per-request
// Call and small JSON/HTTP helpers. Not part of the http module's interface.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/api.h"
#include "http/json_codec.h"
#include "monitor/monitor.h"

namespace vigil::http {

struct Call {
  HttpRequest req;
  Responder responder;
  PathParams params;
  std::string path;
  std::string query;
  std::string trace_id;
  std::chrono::steady_clock::time_point start;
  VersionMetrics* metrics = nullptr;  // inference calls: the version's series
  std::string model, version;         // for the access log
  std::vector<std::pair<std::string, std::string>> headers;  // extra response headers
  std::optional<FallbackInfo> fallback;                      // set when a fallback model answers
  bool unversioned = false;  // the request named no version or alias
  std::string ab_variant;    // "A" or "B" while the model runs an A/B test
  // What the monitor gets once the inference succeeds (monitored models only).
  std::optional<monitor::TapSample> tap;
};

int HttpStatusFor(StatusCode code);
ErrorCategory CategoryFor(StatusCode code);
Result<std::optional<int64_t>> ParseVersion(std::string_view text);
std::string Render(const std::function<void(JsonWriter&)>& fn);
void WriteStr(JsonWriter& w, std::string_view s);
std::string Iso8601(std::chrono::system_clock::time_point t);
// Iso8601 of unix milliseconds.
std::string IsoMs(int64_t ms);
// `key`: the ISO 8601 time of unix milliseconds, or null when 0.
void WriteMs(JsonWriter& w, const char* key, int64_t ms);
// ?limit=N in [1, 10000], `fallback` when absent.
Result<size_t> ParseLimit(std::string_view query, size_t fallback);
// Who acts: the X-Vigil-Actor header (the CLI sends $USER), else "api".
std::string Actor(const HttpRequest& req);
// An optional JSON object body: {} when empty.
Status ParseOptionalObject(std::string& body, rapidjson::Document& doc);
// doc[key] when it is a string, else "".
std::string OptionalString(const rapidjson::Document& doc, const char* key);

}  // namespace vigil::http
