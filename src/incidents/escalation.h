// Escalator: pages the people an open incident's escalation policy names, level by level,
// until someone acknowledges it (lecture 003, runbook 000's 15/30/60-minute ladder).
//
// Every level whose delay (after the incident was declared) has passed is paged once, as a
// `page` entry in the incident's timeline ("Level 1: paged ml-team (SEV2, pager)"), so the
// state survives restarts. SEV1/SEV2 climb the whole ladder; SEV3/SEV4 notify level 0 only
// (chat/e-mail, ticket). A response SLA that passes unacknowledged is recorded once.
// Thread-safe; Tick() runs on its own thread every `interval` and may be called directly.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "incidents/incident_manager.h"
#include "oncall/schedule.h"

namespace vigil::incidents {

class Escalator {
 public:
  using NowFn = std::function<int64_t()>;  // unix milliseconds

  Escalator(IncidentManager& incidents, oncall::OnCallConfig config, NowFn now);
  ~Escalator();
  Escalator(const Escalator&) = delete;
  Escalator& operator=(const Escalator&) = delete;

  void Start(std::chrono::milliseconds interval);
  // One pass over the open incidents; returns how many pages were made.
  int Tick();

  const oncall::OnCallConfig& config() const { return config_; }

 private:
  IncidentManager& incidents_;
  const oncall::OnCallConfig config_;
  NowFn now_;
  std::mutex tick_mu_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace vigil::incidents
