// RunbookActions: the on-call runbook's first step, taken by Vigil (`auto`) or written
// into the incident as the exact command (`suggest`), per model's `actions:` config.
//
// Lecture 003's triage for a quality alert (accuracy, error rate, drift): a deployment in
// the last `recent_deploy` -> roll back to `previous`; otherwise -> investigate drift.
// A circuit breaker alert records what answers meanwhile (the fallback, or nothing).
// Every action, its outcome, or the suggestion goes into the incident's timeline; the
// model's metrics `actions.verify_after` an action go there too (`verify`), so the
// timeline says whether it helped. Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "alerting/evaluator.h"
#include "incidents/incident_manager.h"
#include "serving/model_actions.h"
#include "serving/model_config.h"

namespace vigil::incidents {

class RunbookActions {
 public:
  using ConfigFn = std::function<std::shared_ptr<const ModelConfig>(const std::string& model)>;
  using NowFn = std::function<int64_t()>;  // unix seconds

  // All must outlive this.
  RunbookActions(ModelActions& models, IncidentManager& incidents, ConfigFn configs,
                 NowFn now = nullptr);

  // Call after IncidentManager::OnAlert (the incident exists by then).
  void OnAlert(const alerting::AlertTransition& transition);

  // What the model's metrics say now, one line (for the verification entries). Call
  // before alerts are evaluated.
  using MetricsFn = std::function<std::string(const std::string& model)>;
  void SetMetrics(MetricsFn metrics) { metrics_ = std::move(metrics); }
  // Records the verifications that are due; returns how many. Runs on the thread that may
  // call MetricsFn (the alert evaluator's).
  int Verify();

 private:
  ModelActions& models_;
  IncidentManager& incidents_;
  ConfigFn configs_;
  NowFn now_;
  struct Pending {
    std::string incident, model, what;
    int64_t due_s = 0;
  };
  void ScheduleVerification(const std::string& incident, const std::string& model,
                            const std::string& what, const ModelConfig& config);

  MetricsFn metrics_;
  std::mutex mu_;
  std::set<std::string> handled_;  // incident ids whose rollback step was taken
  std::vector<Pending> pending_;   // verifications not yet due (in memory)
};

}  // namespace vigil::incidents
