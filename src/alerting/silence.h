// Silence: matchers over alert labels and a time range. A silenced alert still goes
// through its lifecycle (and its resolution is recorded) but declares no incident and
// will page nobody. Matchers follow Alertmanager: name=value, name!=value, name=~regex,
// name!~regex (regexes anchored at both ends).
#pragma once

#include <cstdint>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "core/status.h"

namespace vigil::alerting {

struct Matcher {
  std::string name;
  std::string value;
  bool equal = true;   // = / =~ (false: != / !~)
  bool regex = false;  // =~ / !~
  std::regex compiled;

  bool Matches(const std::map<std::string, std::string>& labels) const;
  std::string ToString() const;
};

// "model=~ir.*" -> Matcher; InvalidArgument naming the text on a bad operator or regex.
Result<Matcher> ParseMatcher(const std::string& text);
Result<Matcher> MakeMatcher(std::string name, std::string value, bool equal, bool regex);

struct Silence {
  std::string id;  // SIL-xxxxxxxx
  std::vector<Matcher> matchers;
  int64_t starts_ms = 0, ends_ms = 0;  // unix milliseconds, [starts, ends)
  std::string created_by, comment;

  bool ActiveAt(int64_t ms) const { return ms >= starts_ms && ms < ends_ms; }
  bool Matches(const std::map<std::string, std::string>& labels) const;
};

}  // namespace vigil::alerting
