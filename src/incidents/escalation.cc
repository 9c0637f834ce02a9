#include "incidents/escalation.h"

#include <set>

#include "core/logging.h"

namespace vigil::incidents {
namespace {

bool Pages(const std::string& severity) { return severity == "SEV1" || severity == "SEV2"; }

}  // namespace

Escalator::Escalator(IncidentManager& incidents, oncall::OnCallConfig config, NowFn now)
    : incidents_(incidents), config_(std::move(config)), now_(std::move(now)) {}

Escalator::~Escalator() {
  {
    std::lock_guard lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Escalator::Start(std::chrono::milliseconds interval) {
  thread_ = std::thread([this, interval] {
    std::unique_lock lock(stop_mu_);
    while (!stop_) {
      lock.unlock();
      Tick();
      lock.lock();
      stop_cv_.wait_for(lock, interval, [this] { return stop_; });
    }
  });
}

int Escalator::Tick() {
  std::lock_guard tick_lock(tick_mu_);
  const oncall::EscalationPolicy* policy = config_.FindPolicy("default");
  if (!policy) return 0;
  auto open = incidents_.List("open", 1000);
  if (!open.ok()) return 0;
  const int64_t now = now_();
  int pages = 0;
  for (const IncidentRecord& summary : *open) {
    if (summary.acknowledged_ms) continue;
    auto r = incidents_.Get(summary.id);
    if (!r.ok()) continue;
    std::set<size_t> paged;
    bool sla_recorded = false;
    for (const IncidentEvent& e : r->timeline) {
      if (e.kind == "page" && e.text.rfind("Level ", 0) == 0) {
        paged.insert(static_cast<size_t>(std::strtoul(e.text.c_str() + 6, nullptr, 10)));
      }
      if (e.kind == "sla") sla_recorded = true;
    }
    const SeverityPolicy& sev = PolicyFor(r->severity);
    std::string channels;
    for (const auto& c : sev.channels) channels += (channels.empty() ? "" : ", ") + c;
    const int64_t elapsed = now - r->declared_ms;
    const size_t levels = Pages(r->severity) ? policy->levels.size() : 1;
    for (size_t level = 0; level < levels; ++level) {
      const auto& l = policy->levels[level];
      if (paged.count(level) || elapsed < l.delay.count()) continue;
      std::string who;
      for (const auto& t : l.targets) {
        const auto people = config_.Resolve(t, now);
        for (const auto& p : people) who += (who.empty() ? "" : ", ") + p;
        if (people.empty()) {
          who += (who.empty() ? "" : ", ") + std::string("nobody on call in ") + t.name;
        }
      }
      const std::string text = "Level " + std::to_string(level) + ": " +
                               (level == 0 ? "notified " : "escalated to ") + who + " (" +
                               r->severity + ", " + channels + ")";
      if (incidents_.Record(r->id, "page", "vigil", text).ok()) {
        ++pages;
        LogInfo("incident page",
                {{"id", r->id}, {"level", static_cast<int64_t>(level)}, {"to", who}});
      }
    }
    if (!sla_recorded && elapsed >= static_cast<int64_t>(sev.respond_minutes) * 60'000) {
      incidents_
          .Record(r->id, "sla", "vigil",
                  "Response SLA breached: not acknowledged within " +
                      std::to_string(sev.respond_minutes) + " min (" + r->severity + ")")
          .ok();
    }
  }
  return pages;
}

}  // namespace vigil::incidents
