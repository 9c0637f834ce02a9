// ModelActions: what incident response may do to a model (DESIGN.md §2: incidents act on
// models only through this narrow interface, which serving defines and app injects).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/status.h"

namespace vigil {

class ModelActions {
 public:
  virtual ~ModelActions() = default;

  // The latest change of the model's production version.
  struct Deployment {
    int64_t at_unix_s = 0;
    std::string action;  // promote, rollback, initial, rollout ...
    std::optional<int64_t> from, to;
  };
  virtual std::optional<Deployment> LastDeployment(const std::string& model) = 0;

  // Production back to the `previous` alias; returns "FROM -> TO".
  virtual Result<std::string> Rollback(const std::string& model, const std::string& actor,
                                       const std::string& reason) = 0;
};

}  // namespace vigil
