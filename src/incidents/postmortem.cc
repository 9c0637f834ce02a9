// The postmortem draft: lecture 003's template, prefilled with what the incident recorded.
// Root cause, contributing factors, impact in users and money, and the lessons are left
// for people, marked with [brackets].
#include <cstdio>
#include <ctime>
#include <sstream>

#include "incidents/incident_manager.h"

namespace vigil::incidents {
namespace {

std::string Utc(int64_t ms, const char* format) {
  if (ms <= 0) return "-";
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

std::string Duration(std::optional<double> seconds) {
  if (!seconds) return "-";
  const int64_t s = static_cast<int64_t>(*seconds + 0.5);
  char buf[64];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld hours %lld minutes", static_cast<long long>(s / 3600),
                  static_cast<long long>(s % 3600 / 60));
  } else if (s >= 60) {
    std::snprintf(buf, sizeof buf, "%lld minutes %lld seconds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lld seconds", static_cast<long long>(s));
  }
  return buf;
}

std::string Cell(std::string s) {
  for (char& c : s) {
    if (c == '|') c = '/';
    if (c == '\n') c = ' ';
  }
  return s;
}

}  // namespace

std::string PostmortemMarkdown(const IncidentRecord& r) {
  std::ostringstream md;
  const bool resolved = r.resolved_ms > 0;
  const auto duration = Seconds(r.started_ms, resolved ? r.resolved_ms : 0);
  // SEV2 -> SEV-2, as the template writes (built by appends: GCC 12's -Wrestrict trips on
  // insert here).
  std::string severity = r.severity.size() == 4 ? std::string("SEV-") : r.severity;
  if (r.severity.size() == 4) severity += r.severity.back();
  md << "# Incident Postmortem: " << r.title << "\n\n";
  md << "**Incident ID**: " << r.id << "\n";
  md << "**Date**: " << Utc(r.started_ms, "%Y-%m-%d") << "\n";
  md << "**Duration**: " << (resolved ? Duration(duration) : "ongoing (not resolved)") << "\n";
  md << "**Severity**: " << severity << "\n";
  md << "**Author**: [Name]\n";
  md << "**Reviewed**: [Date]\n\n";

  md << "## Executive Summary\n";
  md << (r.description.empty() ? "[2-3 sentence summary of what happened and impact]"
                               : r.description)
     << "\n\n";

  md << "## Impact\n";
  md << "- **Users Affected**: [number/percentage]\n";
  md << "- **Services Impacted**: " << (r.service.empty() ? "[list]" : r.service) << "\n";
  md << "- **Duration**: " << (resolved ? Duration(duration) : "ongoing") << "\n";
  md << "- **Revenue Impact**: [$amount if applicable]\n\n";

  md << "## Timeline (all times in UTC)\n\n";
  md << "| Time | Event |\n|------|-------|\n";
  for (const auto& e : r.timeline) {
    md << "| " << Utc(e.at_ms, "%Y-%m-%d %H:%M:%S") << " | " << Cell(e.text)
       << (e.author.empty() || e.author == "vigil" ? "" : " (" + Cell(e.author) + ")") << " |\n";
  }
  md << "\n";

  md << "## Detection, Response and Recovery\n\n";
  md << "| Milestone | Time (UTC) | Since start |\n|---|---|---|\n";
  auto row = [&](const char* name, int64_t ms) {
    md << "| " << name << " | " << Utc(ms, "%Y-%m-%d %H:%M:%S") << " | "
       << Duration(Seconds(r.started_ms, ms)) << " |\n";
  };
  row("Started", r.started_ms);
  row("Detected", r.detected_ms);
  row("Declared", r.declared_ms);
  row("Acknowledged", r.acknowledged_ms);
  row("Mitigated", r.mitigated_ms);
  row("Resolved", r.resolved_ms);
  md << "\n- **Time to detect**: " << Duration(Seconds(r.started_ms, r.detected_ms)) << "\n";
  md << "- **Time to acknowledge**: " << Duration(Seconds(r.declared_ms, r.acknowledged_ms))
     << "\n";
  md << "- **Time to mitigate**: " << Duration(Seconds(r.started_ms, r.mitigated_ms)) << "\n";
  md << "- **Time to resolve**: " << Duration(Seconds(r.started_ms, r.resolved_ms)) << "\n";
  md << "- **Detected by**: "
     << (r.automatic ? "Vigil's alert rules (alerts " : "declared by " + r.created_by);
  if (r.automatic) {
    for (size_t i = 0; i < r.alerts.size(); ++i) md << (i ? ", " : "") << r.alerts[i];
    md << ")";
  }
  md << "\n";
  md << "- **Roles**: incident commander " << (r.commander.empty() ? "[-]" : r.commander)
     << ", communications lead " << (r.communications_lead.empty() ? "[-]" : r.communications_lead)
     << ", technical lead " << (r.technical_lead.empty() ? "[-]" : r.technical_lead) << "\n";
  md << "- **Responders**: ";
  if (r.responders.empty()) md << "[-]";
  for (size_t i = 0; i < r.responders.size(); ++i) md << (i ? ", " : "") << r.responders[i];
  md << "\n\n";

  md << "## Root Cause\n[Detailed explanation of what caused the incident]\n\n";
  md << "## Contributing Factors\n[What made it possible, worse or slower to fix]\n\n";
  md << "## Resolution\n";
  bool any_action = false;
  for (const auto& e : r.timeline) {
    if (e.kind != "action") continue;
    md << "- " << Utc(e.at_ms, "%H:%M:%S") << " " << e.text
       << (e.author.empty() ? "" : " (" + e.author + ")") << "\n";
    any_action = true;
  }
  if (!any_action) md << "[How was the incident resolved?]\n";
  md << "\n## What Went Well\n- [Things that worked well during the incident]\n\n";
  md << "## What Went Wrong\n- [Things that didn't work well]\n\n";
  md << "## Action Items\n\n| Action | Owner | Ticket | Due Date |\n"
        "|--------|-------|--------|----------|\n| [ ] | | | |\n\n";
  md << "## Lessons Learned\n1. [Lesson]\n\n";
  md << "## Appendix\n- Vigil: `vigil incident show " << r.id << "`, `GET /api/v1/incidents/"
     << r.id << "`\n";
  if (!r.service.empty()) {
    md << "- Model history: `vigil models history " << r.service << "`\n";
  }
  return md.str();
}

}  // namespace vigil::incidents
