// What Vigil says, and to which routes: the messages an incident's timeline and the alert
// groups send (the channels render them).
//
// Incidents (dedup key = the incident id, so a receiver keeps one incident per INC-…):
//   page                -> trigger, on the severity's channels (SEV1 pager + chat + email,
//                          SEV2 pager + chat, SEV3 chat + email, SEV4 ticket)
//   ack                 -> acknowledge, same routes
//   status -> resolved  -> resolve, same routes; "Reopened" -> trigger
//   action, sla, other status changes -> info, chat only (when the severity has chat)
// Alert groups (dedup key from the group's key): trigger while any alert fires, resolve
// when the last one resolved; route "alerts".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "alerting/grouping.h"
#include "incidents/incident_manager.h"
#include "notify/channel.h"
#include "notify/notifier.h"

namespace vigil::notify {

// The message one timeline entry sends (nullopt: none).
std::optional<Message> IncidentMessage(const IncidentRecord& incident, const IncidentEvent& event,
                                       const std::string& external_url);

Message AlertGroupMessage(const alerting::AlertGroup& group, const std::string& external_url,
                          int64_t now_ms);

// The incident manager's outbox, over a Notifier. Thread-safe.
class IncidentNotifications final : public incidents::IncidentOutbox {
 public:
  explicit IncidentNotifications(Notifier& notifier) : notifier_(notifier) {}
  std::vector<NotificationRecord> Plan(const IncidentRecord& incident,
                                       const std::vector<IncidentEvent>& events) override;
  void Queued(size_t count) override { notifier_.Queued(count); }

 private:
  Notifier& notifier_;
};

}  // namespace vigil::notify
