// AlertGrouper: Alertmanager's dispatcher timing, so a burst of alerts is one message and
// a standing problem is not a message every evaluation.
//
// Alerts that fire (and are neither silenced nor inhibited) are grouped by the values of
// `group_by`. A new group is notified `group_wait` after its first alert, so alerts that
// fire together arrive together; after that the group is looked at every `group_interval`
// and notified when an alert joined it or resolved; a group whose alerts keep firing
// unchanged is notified again every `repeat_interval`, unless every one of them has been
// acknowledged (acknowledgement stops re-notification; the alert stays visible).
//
// Not thread-safe: the alert service's evaluation thread owns it. State is in memory: a
// restart notifies the groups still firing once more (receivers collapse them by the
// group's dedup key).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "alerting/evaluator.h"

namespace vigil::alerting {

struct GroupingConfig {
  std::vector<std::string> group_by{"alertname", "model"};
  std::chrono::milliseconds group_wait{std::chrono::seconds(30)};
  std::chrono::milliseconds group_interval{std::chrono::minutes(5)};
  std::chrono::milliseconds repeat_interval{std::chrono::hours(4)};
};

// One notification about one group.
struct AlertGroup {
  std::string key;                            // "{alertname=\"X\", model=\"iris\"}"
  std::map<std::string, std::string> labels;  // the group_by labels the alerts have
  std::vector<Alert> firing;                  // firing now
  std::vector<Alert> resolved;                // resolved since the last notification
  bool repeat = false;                        // nothing changed: a repeat_interval reminder
};

class AlertGrouper {
 public:
  explicit AlertGrouper(GroupingConfig config) : config_(std::move(config)) {}

  // `alerts`: every alert as AlertService::Alerts() gives them (decorated with silences,
  // inhibitions and acknowledgements). Returns the groups due for a notification.
  std::vector<AlertGroup> Flush(const std::vector<Alert>& alerts, int64_t now_ms);

  const GroupingConfig& config() const { return config_; }

 private:
  struct Group {
    std::map<std::string, std::string> labels;
    int64_t next_flush_ms = 0;
    int64_t last_sent_ms = 0;
    std::map<std::string, Alert> notified;  // firing alerts in the last notification
  };
  GroupingConfig config_;
  std::map<std::string, Group> groups_;
};

}  // namespace vigil::alerting
