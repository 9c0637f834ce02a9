// The CLI's incident commands: declare, list, show, update, ack, postmortem, metrics.
// Each returns the exit code (0 ok, 1 server or I/O error, 2 usage or input error).
#pragma once

#include <string>

#include "cli/monitor_commands.h"

namespace vigil::cli {

struct IncidentArgs {
  std::string id;
  std::string title, description, severity, service;  // declare
  std::string status;                                 // list filter, or update
  std::string note, action, commander, communications_lead, technical_lead, responder;
  std::string output;  // postmortem -o
  bool json = false;
};

int IncidentDeclare(const IncidentArgs& a, const ServerTarget& server);
int IncidentList(const IncidentArgs& a, const ServerTarget& server);
int IncidentShow(const IncidentArgs& a, const ServerTarget& server);
int IncidentUpdate(const IncidentArgs& a, const ServerTarget& server);
int IncidentAck(const IncidentArgs& a, const ServerTarget& server);
int IncidentPostmortem(const IncidentArgs& a, const ServerTarget& server);
int IncidentMetrics(const ServerTarget& server);
// `vigil oncall handoff [--lookback 24h] [-o FILE]`.
int OnCallHandoff(const std::string& lookback, const std::string& output,
                  const ServerTarget& server);
// `vigil oncall who [--at TIME] [--json]`.
int OnCallWho(const std::string& at, bool json, const ServerTarget& server);
// `vigil notifications list [--state S] [--json]`: the channels and the outbox.
int NotificationsList(const std::string& state, bool json, const ServerTarget& server);
// `vigil notifications test CHANNEL [--text T]`: queues a test message to one channel.
int NotificationsTest(const std::string& channel, const std::string& text,
                      const ServerTarget& server);

}  // namespace vigil::cli
