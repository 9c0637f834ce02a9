#include "incidents/runbook_actions.h"

#include <chrono>

#include "core/clock.h"
#include "core/logging.h"

namespace vigil::incidents {
namespace {

std::string HumanSeconds(int64_t s) {
  if (s < 120) return std::to_string(s) + " s";
  if (s < 7200) return std::to_string(s / 60) + " min";
  return std::to_string(s / 3600) + " h";
}

bool ChangedProduction(const std::string& action) {
  return action == "promote" || action == "promote (forced)" || action == "register" ||
         action == "initial";
}

}  // namespace

RunbookActions::RunbookActions(ModelActions& models, IncidentManager& incidents, ConfigFn configs,
                               NowFn now)
    : models_(models),
      incidents_(incidents),
      configs_(std::move(configs)),
      now_(now ? std::move(now) : NowFn(UnixSeconds)) {}

void RunbookActions::OnAlert(const alerting::AlertTransition& t) {
  const alerting::Alert& a = t.alert;
  if (a.state != alerting::AlertState::kFiring) return;
  auto model_it = a.labels.find("model");
  if (model_it == a.labels.end()) return;
  const std::string& model = model_it->second;
  auto incident = incidents_.IncidentForAlert(a.fingerprint);
  if (!incident) return;
  auto config = configs_(model);
  if (!config) return;
  IncidentUpdate u;
  u.author = "vigil";

  if (a.signal == "breaker_open") {
    u.note = config->fallback_model.empty()
                 ? "Circuit breaker open and no fallback configured: requests to " + model +
                       " fail with 503 until it closes (runbook 000: add `fallback:` to its "
                       "config)"
                 : "Circuit breaker open: the fallback " + config->fallback_model +
                       (config->fallback_version ? ":" + std::to_string(*config->fallback_version)
                                                 : "") +
                       " answers " + model + "'s requests meanwhile";
    incidents_.Apply(*incident, u).ok();
    if (!config->fallback_model.empty()) {
      ScheduleVerification(*incident, model, "the breaker opened", *config);
    }
    return;
  }
  if (a.signal != "accuracy" && a.signal != "error_rate" && a.signal != "drift_share") return;
  const ActionsConfig& policy = config->actions;
  if (policy.rollback == ActionMode::kOff) return;
  {
    std::lock_guard lock(mu_);
    if (!handled_.insert(*incident).second) return;  // one triage per incident
  }
  const auto dep = models_.LastDeployment(model);
  const int64_t now = now_();
  const int64_t window =
      std::chrono::duration_cast<std::chrono::seconds>(policy.recent_deploy).count();
  const bool recent =
      dep && ChangedProduction(dep->action) && dep->from && now - dep->at_unix_s <= window;
  if (!recent) {
    u.note = "Triage: no deployment of " + model + " in the last " + HumanSeconds(window) +
             ", so no rollback; investigate the data: vigil drift " + model +
             " --window 24h; vigil quality " + model + "; vigil skew " + model +
             " --data offline.csv";
    incidents_.Apply(*incident, u).ok();
    return;
  }
  const std::string why = a.name + " fired " + HumanSeconds(now - dep->at_unix_s) + " after " +
                          model + " version " + std::to_string(dep->to.value_or(0)) +
                          " became production";
  if (policy.rollback == ActionMode::kSuggest) {
    u.note = "Suggested (actions.rollback: suggest): vigil rollback " + model + " --reason \"" +
             why + "\"";
    incidents_.Apply(*incident, u).ok();
    return;
  }
  auto done = models_.Rollback(model, "vigil", "automatic rollback: " + why);
  if (done.ok()) {
    u.action = "Rolled back " + model + " " + *done + " (automatic: " + why + ")";
    LogInfo("automatic rollback", {{"model", model}, {"change", *done}, {"incident", *incident}});
    ScheduleVerification(*incident, model, "the rollback", *config);
  } else {
    u.note = "Automatic rollback of " + model + " failed: " + done.status().message();
    LogError("automatic rollback failed", {{"model", model}, {"error", done.status().message()}});
  }
  incidents_.Apply(*incident, u).ok();
}

void RunbookActions::ScheduleVerification(const std::string& incident, const std::string& model,
                                          const std::string& what, const ModelConfig& config) {
  if (!metrics_) return;
  const int64_t after =
      std::chrono::duration_cast<std::chrono::seconds>(config.actions.verify_after).count();
  std::lock_guard lock(mu_);
  pending_.push_back({incident, model, what + ", " + HumanSeconds(after) + " on", now_() + after});
}

int RunbookActions::Verify() {
  std::vector<Pending> due;
  {
    std::lock_guard lock(mu_);
    const int64_t now = now_();
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->due_s <= now) {
        due.push_back(std::move(*it));
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const Pending& p : due) {
    incidents_.Record(p.incident, "verify", "vigil", "After " + p.what + ": " + metrics_(p.model))
        .ok();
  }
  return static_cast<int>(due.size());
}

}  // namespace vigil::incidents
