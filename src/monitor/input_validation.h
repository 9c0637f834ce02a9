// InputValidator: the data-quality rules of one model config, checked on the hot path.
//
// Rules come from config.yaml: inputs[].ranges, and monitor.features.<name> (range,
// categories, missing). A missing value is a NaN (JSON null in a request). In `flag` mode
// violations are counted and the request is served; in `reject` mode the first violation
// answers 400 naming the row, feature and reason. A missing value in a feature that does
// not say `missing: allow` is refused in both modes: the model cannot answer without it.
//
// Immutable after Build(); Check() is thread-safe and does not allocate unless it fails.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "serving/model_config.h"

namespace prometheus {
class Counter;
template <typename T>
class Family;
}  // namespace prometheus

namespace vigil::monitor {

enum class ValidationReason : uint8_t { kMissing, kOutOfRange, kUnknownCategory };
inline constexpr size_t kValidationReasons = 3;
std::string_view ValidationReasonName(ValidationReason r);

struct FeatureRule {
  std::string name;
  size_t input = 0;   // index of the input tensor
  size_t column = 0;  // element within a row of that input
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  std::vector<double> categories;  // sorted; empty = any value
  bool allow_missing = false;
};

class InputValidator {
 public:
  // `counters` (nullable) is ml_input_validation_errors_total; one series per feature
  // and reason is created up front so that Check() only increments.
  InputValidator(const ModelConfig& config, prometheus::Family<prometheus::Counter>* counters);

  struct Violation {
    int64_t row = 0;
    size_t rule = 0;
    ValidationReason reason = ValidationReason::kMissing;
    double value = 0;
  };

  ValidationMode mode() const { return mode_; }
  const std::vector<FeatureRule>& rules() const { return rules_; }

  // Checks every row of `inputs` (declared order, batch first). In flag mode counts every
  // violation and returns the first missing value, else the first violation; in reject
  // mode stops at the first one (counting it) and returns it.
  std::optional<Violation> Check(const std::vector<Tensor>& inputs, int64_t rows) const;

  // "row 2, feature 'amount': 12000 is out of range [0, 10000]".
  std::string Describe(const Violation& v) const;

  // Classifies one value against rule `i` (nullopt: valid).
  std::optional<ValidationReason> Classify(size_t i, double value) const;

 private:
  ValidationMode mode_;
  std::vector<FeatureRule> rules_;
  std::vector<std::array<prometheus::Counter*, kValidationReasons>> counters_;
};

}  // namespace vigil::monitor
