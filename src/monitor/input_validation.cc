#include "monitor/input_validation.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "monitor/profile.h"

namespace vigil::monitor {
namespace {

double ElementAt(const Tensor& t, size_t i) {
  switch (t.dtype) {
    case DataType::kFp32:
      return t.data<float>()[i];
    case DataType::kFp64:
      return t.data<double>()[i];
    case DataType::kInt32:
      return t.data<int32_t>()[i];
    case DataType::kInt64:
      return static_cast<double>(t.data<int64_t>()[i]);
    case DataType::kBool:
      return t.data<uint8_t>()[i];
  }
  return 0;
}

}  // namespace

std::string_view ValidationReasonName(ValidationReason r) {
  switch (r) {
    case ValidationReason::kMissing:
      return "missing";
    case ValidationReason::kOutOfRange:
      return "out_of_range";
    case ValidationReason::kUnknownCategory:
      return "unknown_category";
  }
  return "missing";
}

InputValidator::InputValidator(const ModelConfig& config,
                               prometheus::Family<prometheus::Counter>* counters)
    : mode_(config.monitor.enabled ? config.monitor.validation : ValidationMode::kOff) {
  for (size_t i = 0; i < config.inputs.size(); ++i) {
    const TensorSpec& spec = config.inputs[i];
    const int64_t width = spec.shape.size() >= 2 ? spec.row_elements() : 1;
    for (int64_t col = 0; col < width; ++col) {
      FeatureRule r;
      r.input = i;
      r.column = static_cast<size_t>(col);
      r.name = static_cast<size_t>(col) < spec.features.size()
                   ? spec.features[col]
                   : spec.name + "[" + std::to_string(col) + "]";
      if (static_cast<size_t>(col) < spec.ranges.size()) {
        r.lo = spec.ranges[col].first;
        r.hi = spec.ranges[col].second;
      }
      if (const FeatureMonitorConfig* f = config.monitor.Find(r.name)) {
        if (f->range) {
          r.lo = f->range->first;
          r.hi = f->range->second;
        }
        r.categories = f->categories;
        std::sort(r.categories.begin(), r.categories.end());
        r.allow_missing = f->allow_missing;
      }
      rules_.push_back(std::move(r));
    }
  }
  counters_.resize(rules_.size(), {nullptr, nullptr, nullptr});
  if (counters && mode_ != ValidationMode::kOff) {
    for (size_t i = 0; i < rules_.size(); ++i) {
      for (size_t k = 0; k < kValidationReasons; ++k) {
        counters_[i][k] = &counters->Add(
            {{"model", config.name},
             {"feature", rules_[i].name},
             {"reason", std::string(ValidationReasonName(static_cast<ValidationReason>(k)))}});
      }
    }
  }
}

std::optional<ValidationReason> InputValidator::Classify(size_t i, double v) const {
  const FeatureRule& r = rules_[i];
  if (std::isnan(v)) {
    return r.allow_missing ? std::nullopt : std::optional(ValidationReason::kMissing);
  }
  if (!r.categories.empty()) {
    if (!std::binary_search(r.categories.begin(), r.categories.end(), v)) {
      return ValidationReason::kUnknownCategory;
    }
    return std::nullopt;
  }
  if (v < r.lo || v > r.hi) return ValidationReason::kOutOfRange;
  return std::nullopt;
}

std::optional<InputValidator::Violation> InputValidator::Check(const std::vector<Tensor>& inputs,
                                                               int64_t rows) const {
  if (mode_ == ValidationMode::kOff || rows <= 0) return std::nullopt;
  std::optional<Violation> first, first_missing;
  for (size_t i = 0; i < rules_.size(); ++i) {
    const FeatureRule& r = rules_[i];
    if (r.input >= inputs.size()) continue;
    const Tensor& t = inputs[r.input];
    const size_t width = static_cast<size_t>(t.elements() / rows);
    if (r.column >= width) continue;
    for (int64_t row = 0; row < rows; ++row) {
      const double v = ElementAt(t, static_cast<size_t>(row) * width + r.column);
      auto reason = Classify(i, v);
      if (!reason) continue;
      if (auto* c = counters_[i][static_cast<size_t>(*reason)]) c->Increment();
      const Violation found{row, i, *reason, v};
      if (!first) first = found;
      if (mode_ == ValidationMode::kReject) return first;
      if (*reason == ValidationReason::kMissing && !first_missing) first_missing = found;
    }
  }
  return first_missing ? first_missing : first;
}

std::string InputValidator::Describe(const Violation& v) const {
  const FeatureRule& r = rules_[v.rule];
  std::ostringstream os;
  os << "row " << v.row << ", feature '" << r.name << "': ";
  switch (v.reason) {
    case ValidationReason::kMissing:
      os << "value is missing";
      break;
    case ValidationReason::kOutOfRange:
      os << CategoryText(v.value) << " is out of range [" << CategoryText(r.lo) << ", "
         << CategoryText(r.hi) << "]";
      break;
    case ValidationReason::kUnknownCategory: {
      os << CategoryText(v.value) << " is not an allowed category (allowed: ";
      for (size_t i = 0; i < r.categories.size(); ++i) {
        os << (i ? ", " : "") << CategoryText(r.categories[i]);
      }
      os << ")";
      break;
    }
  }
  os << " (" << ValidationReasonName(v.reason) << ")";
  return os.str();
}

}  // namespace vigil::monitor
