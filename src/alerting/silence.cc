#include "alerting/silence.h"

namespace vigil::alerting {

bool Matcher::Matches(const std::map<std::string, std::string>& labels) const {
  auto it = labels.find(name);
  const std::string& v = it == labels.end() ? std::string() : it->second;
  const bool hit = regex ? std::regex_match(v, compiled) : v == value;
  return hit == equal;
}

std::string Matcher::ToString() const {
  return name + (equal ? (regex ? "=~" : "=") : (regex ? "!~" : "!=")) + value;
}

Result<Matcher> MakeMatcher(std::string name, std::string value, bool equal, bool regex) {
  if (name.empty()) return InvalidArgument("matcher: the label name is empty");
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
      return InvalidArgument("matcher '" + name + "': a label name has letters, digits and _");
    }
  }
  Matcher m;
  m.name = std::move(name);
  m.value = std::move(value);
  m.equal = equal;
  m.regex = regex;
  if (regex) {
    try {
      m.compiled = std::regex(m.value, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return InvalidArgument("matcher '" + m.ToString() + "': bad regular expression: " + e.what());
    }
  }
  return m;
}

Result<Matcher> ParseMatcher(const std::string& text) {
  // The first operator wins: name is [A-Za-z0-9_]+.
  size_t i = 0;
  while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_')) {
    ++i;
  }
  const std::string name = text.substr(0, i);
  const std::string rest = text.substr(i);
  auto starts = [&](const char* op) { return rest.rfind(op, 0) == 0; };
  std::string value;
  if (starts("=~")) return MakeMatcher(name, rest.substr(2), true, true);
  if (starts("!~")) return MakeMatcher(name, rest.substr(2), false, true);
  if (starts("!=")) return MakeMatcher(name, rest.substr(2), false, false);
  if (starts("=")) return MakeMatcher(name, rest.substr(1), true, false);
  return InvalidArgument("matcher '" + text +
                         "': expected name=value, name!=value, name=~regex or name!~regex");
}

bool Silence::Matches(const std::map<std::string, std::string>& labels) const {
  if (matchers.empty()) return false;
  for (const auto& m : matchers) {
    if (!m.Matches(labels)) return false;
  }
  return true;
}

}  // namespace vigil::alerting
