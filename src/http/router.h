// Router: maps (method, path) to a handler; patterns like "/v2/models/{model}/infer".
//
// Immutable after set-up, so Match() is thread-safe without locks.
#pragma once

#include <boost/beast/http/verb.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil::http {

struct PathParams {
  std::vector<std::pair<std::string, std::string>> values;
  std::string_view Get(std::string_view name) const {
    for (const auto& [k, v] : values) {
      if (k == name) return v;
    }
    return {};
  }
};

template <typename Fn>
class Router {
 public:
  struct Route {
    boost::beast::http::verb method;
    std::vector<std::string> segments;  // "{name}" segments capture
    Fn fn;
  };

  void Add(boost::beast::http::verb method, std::string_view pattern, Fn fn) {
    routes_.push_back({method, Split(pattern), std::move(fn)});
  }

  enum class Outcome { kFound, kNotFound, kMethodNotAllowed };

  // `path` excludes the query string. Allocates only for captured parameters.
  Outcome Match(boost::beast::http::verb method, std::string_view path, const Fn*& fn,
                PathParams& params) const {
    std::string_view parts[kMaxSegments];
    size_t n = 0;
    size_t i = 0;
    while (i < path.size()) {
      while (i < path.size() && path[i] == '/') ++i;
      size_t j = path.find('/', i);
      if (j == std::string_view::npos) j = path.size();
      if (j > i) {
        if (n == kMaxSegments) return Outcome::kNotFound;
        parts[n++] = path.substr(i, j - i);
      }
      i = j;
    }
    bool path_matched = false;
    for (const auto& r : routes_) {
      if (!MatchSegments(r.segments, parts, n)) continue;
      path_matched = true;
      if (r.method != method) continue;
      fn = &r.fn;
      params.values.clear();
      for (size_t k = 0; k < n; ++k) {
        if (IsCapture(r.segments[k])) {
          params.values.emplace_back(r.segments[k].substr(1, r.segments[k].size() - 2), parts[k]);
        }
      }
      return Outcome::kFound;
    }
    return path_matched ? Outcome::kMethodNotAllowed : Outcome::kNotFound;
  }

 private:
  static constexpr size_t kMaxSegments = 16;

  static bool IsCapture(const std::string& s) {
    return s.size() > 2 && s.front() == '{' && s.back() == '}';
  }

  static std::vector<std::string> Split(std::string_view path) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < path.size()) {
      while (i < path.size() && path[i] == '/') ++i;
      size_t j = path.find('/', i);
      if (j == std::string_view::npos) j = path.size();
      if (j > i) out.emplace_back(path.substr(i, j - i));
      i = j;
    }
    return out;
  }

  static bool MatchSegments(const std::vector<std::string>& pattern, const std::string_view* parts,
                            size_t n) {
    if (pattern.size() != n) return false;
    for (size_t i = 0; i < n; ++i) {
      if (!IsCapture(pattern[i]) && pattern[i] != parts[i]) return false;
    }
    return true;
  }

  std::vector<Route> routes_;
};

}  // namespace vigil::http
