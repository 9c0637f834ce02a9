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

  // `path` excludes the query string.
  Outcome Match(boost::beast::http::verb method, std::string_view path, const Fn*& fn,
                PathParams& params) const {
    const auto parts = Split(path);
    bool path_matched = false;
    for (const auto& r : routes_) {
      PathParams p;
      if (!MatchSegments(r.segments, parts, p)) continue;
      path_matched = true;
      if (r.method != method) continue;
      fn = &r.fn;
      params = std::move(p);
      return Outcome::kFound;
    }
    return path_matched ? Outcome::kMethodNotAllowed : Outcome::kNotFound;
  }

 private:
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

  static bool MatchSegments(const std::vector<std::string>& pattern,
                            const std::vector<std::string>& parts, PathParams& p) {
    if (pattern.size() != parts.size()) return false;
    for (size_t i = 0; i < pattern.size(); ++i) {
      const auto& s = pattern[i];
      if (s.size() > 2 && s.front() == '{' && s.back() == '}') {
        p.values.emplace_back(s.substr(1, s.size() - 2), parts[i]);
      } else if (s != parts[i]) {
        return false;
      }
    }
    return true;
  }

  std::vector<Route> routes_;
};

}  // namespace vigil::http
