#include "incidents/handoff.h"

#include <ctime>
#include <sstream>

namespace vigil::incidents {
namespace {

std::string Utc(int64_t ms) {
  if (ms <= 0) return "-";
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

std::string Cell(std::string s) {
  for (char& c : s) {
    if (c == '|' || c == '\n') c = ' ';
  }
  return s;
}

}  // namespace

std::string HandoffMarkdown(const HandoffInput& in) {
  std::ostringstream md;
  md << "# Shift handoff — " << Utc(in.now_ms) << " UTC\n\n";
  md << "## On call\n\n";
  if (!in.oncall || in.oncall->schedules.empty()) {
    md << "No schedules configured (VIGIL_ONCALL).\n\n";
  } else {
    md << "| Schedule | Now | Until | Next |\n|---|---|---|---|\n";
    for (const auto& s : in.oncall->schedules) {
      const int64_t ends = s.ShiftEndsAt(in.now_ms);
      const std::string now = s.OnCallAt(in.now_ms);
      md << "| " << s.name << " | " << (now.empty() ? "(nobody)" : now) << " | " << Utc(ends)
         << " | " << (ends ? s.OnCallAt(ends) : "-") << " |\n";
    }
    md << "\n";
  }

  md << "## Open incidents\n\n";
  bool any = false;
  for (const auto& r : in.incidents) {
    if (r.status == "resolved") continue;
    if (!any) {
      md << "| ID | Severity | Status | Service | Declared | Acknowledged | Title | Latest |\n"
            "|---|---|---|---|---|---|---|---|\n";
    }
    any = true;
    const std::string latest = r.timeline.empty() ? "-" : r.timeline.back().text;
    md << "| " << r.id << " | " << r.severity << " | " << r.status << " | "
       << (r.service.empty() ? "-" : r.service) << " | " << Utc(r.declared_ms) << " | "
       << (r.acknowledged_ms ? Utc(r.acknowledged_ms) : "**no**") << " | " << Cell(r.title) << " | "
       << Cell(latest) << " |\n";
  }
  if (!any) md << "None.\n";
  md << "\n## Firing alerts\n\n";
  any = false;
  for (const auto& a : in.alerts) {
    if (a.state != alerting::AlertState::kFiring) continue;
    if (!any)
      md << "| Alert | Model | Severity | Since | Condition | Notes |\n|---|---|---|---|---|---|\n";
    any = true;
    std::string notes;
    if (!a.silenced_by.empty()) notes += "silenced ";
    if (!a.acknowledged_by.empty()) notes += "acked by " + a.acknowledged_by;
    md << "| " << a.name << " | " << (a.labels.count("model") ? a.labels.at("model") : "-") << " | "
       << (a.labels.count("severity") ? a.labels.at("severity") : "-") << " | "
       << Utc(a.fired_at_ms) << " | " << Cell(a.condition) << " | " << (notes.empty() ? "-" : notes)
       << " |\n";
  }
  if (!any) md << "None.\n";
  md << "\n## Active silences\n\n";
  any = false;
  for (const auto& s : in.silences) {
    if (!s.ActiveAt(in.now_ms)) continue;
    any = true;
    std::string matchers;
    for (const auto& m : s.matchers) matchers += (matchers.empty() ? "" : ", ") + m.ToString();
    md << "- " << s.id << ": " << matchers << " until " << Utc(s.ends_ms) << " (" << s.created_by
       << (s.comment.empty() ? "" : ": " + s.comment) << ")\n";
  }
  if (!any) md << "None.\n";
  md << "\n## Last " << in.lookback_ms / 3600'000 << " h: actions and resolutions\n\n";
  any = false;
  const int64_t since = in.now_ms - in.lookback_ms;
  for (const auto& r : in.incidents) {
    for (const auto& e : r.timeline) {
      if (e.at_ms < since) continue;
      const bool wanted = e.kind == "action" || e.kind == "note" || e.kind == "page" ||
                          (e.kind == "status" && e.text.find("resolved") != std::string::npos);
      if (!wanted) continue;
      any = true;
      md << "- " << Utc(e.at_ms) << " " << r.id << " (" << r.severity << ") " << e.kind << ": "
         << e.text << (e.author.empty() || e.author == "vigil" ? "" : " — " + e.author) << "\n";
    }
  }
  if (!any) md << "Nothing.\n";
  return md.str();
}

}  // namespace vigil::incidents
