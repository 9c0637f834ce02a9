// Helpers for reading YAML configuration with errors that name the field (DESIGN §9.5:
// an unknown key is an error naming it, with the closest known key). Header-only; for
// modules that link yaml-cpp.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/strings.h"

namespace vigil {

inline Status FieldError(const std::string& where, const std::string& msg) {
  return InvalidArgument(where + ": " + msg);
}

// InvalidArgument "<where>.<key>: unknown key (did you mean '...'?)" for the first key of
// the mapping `n` that is not in `known`.
inline Status CheckYamlKeys(const YAML::Node& n, const std::string& where,
                            const std::vector<std::string_view>& known) {
  for (const auto& kv : n) {
    const std::string key = kv.first.Scalar();
    bool ok = false;
    for (auto k : known) ok = ok || k == key;
    if (ok) continue;
    const std::string hint = ClosestMatch(key, known);
    return FieldError(where + "." + key,
                      "unknown key" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  }
  return Status::Ok();
}

// Parses YAML text; InvalidArgument "<file>: not valid YAML: ..." otherwise.
inline Result<YAML::Node> LoadYaml(const std::string& text, const std::string& file) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(file + ": not valid YAML: " + e.what());
  }
}

inline bool HasScalar(const YAML::Node& n, const char* key) {
  return n[key].IsDefined() && n[key].IsScalar();
}

}  // namespace vigil
