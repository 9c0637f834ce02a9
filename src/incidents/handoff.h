// The on-call shift handoff (lecture 003): who is on call, open incidents with their latest
// steps, firing alerts, active silences, and what happened in the last `lookback`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "alerting/evaluator.h"
#include "alerting/silence.h"
#include "oncall/schedule.h"
#include "store/store.h"

namespace vigil::incidents {

struct HandoffInput {
  int64_t now_ms = 0;
  int64_t lookback_ms = 24 * 3600'000LL;
  const oncall::OnCallConfig* oncall = nullptr;
  std::vector<IncidentRecord> incidents;  // with timelines, newest first
  std::vector<alerting::Alert> alerts;
  std::vector<alerting::Silence> silences;
};

std::string HandoffMarkdown(const HandoffInput& in);

}  // namespace vigil::incidents
