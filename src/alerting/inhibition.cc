#include "alerting/inhibition.h"

namespace vigil::alerting {
namespace {

bool All(const std::vector<Matcher>& matchers, const std::map<std::string, std::string>& labels) {
  for (const Matcher& m : matchers) {
    if (!m.Matches(labels)) return false;
  }
  return true;
}

std::string LabelOrEmpty(const std::map<std::string, std::string>& labels, const std::string& k) {
  auto it = labels.find(k);
  return it == labels.end() ? std::string() : it->second;
}

}  // namespace

std::vector<std::string> InhibitedBy(const Alert& a, const std::vector<Alert>& alerts,
                                     const std::vector<InhibitRule>& rules) {
  std::vector<std::string> out;
  if (a.state == AlertState::kResolved) return out;
  for (const InhibitRule& rule : rules) {
    if (!All(rule.target, a.labels)) continue;
    for (const Alert& s : alerts) {
      if (s.state != AlertState::kFiring || s.fingerprint == a.fingerprint) continue;
      if (!All(rule.source, s.labels)) continue;
      bool same = true;
      for (const std::string& k : rule.equal) {
        same = same && LabelOrEmpty(s.labels, k) == LabelOrEmpty(a.labels, k);
      }
      if (!same) continue;
      bool known = false;
      for (const auto& fp : out) known = known || fp == s.fingerprint;
      if (!known) out.push_back(s.fingerprint);
    }
  }
  return out;
}

}  // namespace vigil::alerting
