#include "monitor/profile_builder.h"

#include <chrono>
#include <cmath>

#include "monitor/input_validation.h"

namespace vigil::monitor {
namespace {

std::string ColumnNames(const Dataset& d) {
  std::string s;
  for (const auto& c : d.columns) s += (s.empty() ? "" : ", ") + c.name;
  return s;
}

void StoreValue(Tensor& t, size_t i, double v) {
  switch (t.dtype) {
    case DataType::kFp32:
      t.data<float>()[i] = static_cast<float>(v);
      break;
    case DataType::kFp64:
      t.data<double>()[i] = v;
      break;
    case DataType::kInt32:
      t.data<int32_t>()[i] = std::isnan(v) ? 0 : static_cast<int32_t>(v);
      break;
    case DataType::kInt64:
      t.data<int64_t>()[i] = std::isnan(v) ? 0 : static_cast<int64_t>(v);
      break;
    case DataType::kBool:
      t.data<uint8_t>()[i] = !std::isnan(v) && v != 0;
      break;
  }
}

}  // namespace

Result<Profile> BuildReferenceProfile(const ModelConfig& config, const Dataset& data,
                                      ModelInstance* model, int64_t version,
                                      const ProfileBuildOptions& options) {
  auto say = [&](const std::string& line) {
    if (options.progress) options.progress(line);
  };
  if (data.rows == 0) return InvalidArgument("the data has no rows");
  const InputValidator layout(config, nullptr);
  const auto& rules = layout.rules();
  std::vector<const Column*> columns;
  for (const auto& r : rules) {
    const Column* c = data.Find(r.name);
    if (!c) {
      return InvalidArgument("column '" + r.name + "' (a feature of input '" +
                             config.inputs[r.input].name +
                             "') is not in the data; columns: " + ColumnNames(data));
    }
    if (c->non_numeric > 0) {
      return InvalidArgument("column '" + r.name + "': " + std::to_string(c->non_numeric) +
                             " value(s) are not numbers (first: '" +
                             [&] {
                               for (size_t i = 0; i < c->texts.size(); ++i) {
                                 if (std::isnan(c->values[i]) && !c->texts[i].empty()) {
                                   return c->texts[i];
                                 }
                               }
                               return std::string();
                             }() +
                             "')");
    }
    columns.push_back(c);
  }
  Profile p;
  p.model = config.name;
  p.version = model ? version : 0;
  p.rows = data.rows;
  for (size_t i = 0; i < rules.size(); ++i) {
    const FeatureMonitorConfig* fc = config.monitor.Find(rules[i].name);
    if (fc && fc->categorical) {
      std::vector<std::string> texts;
      texts.reserve(columns[i]->values.size());
      for (double v : columns[i]->values) texts.push_back(std::isnan(v) ? "" : CategoryText(v));
      std::vector<std::string> allowed;
      for (double v : fc->categories) allowed.push_back(CategoryText(v));
      p.features.push_back(BuildCategoricalProfile(rules[i].name, texts, allowed));
    } else {
      p.features.push_back(BuildNumericProfile(rules[i].name, columns[i]->values, options.bins));
    }
  }
  say("profiled " + std::to_string(rules.size()) + " features over " + std::to_string(data.rows) +
      " rows");
  if (!model) return p;

  const auto start = std::chrono::steady_clock::now();
  const std::vector<std::string>& labels = config.outputs[0].labels;
  std::vector<std::string> predicted_labels;
  std::vector<double> predicted_values;
  const int64_t batch = std::max<int64_t>(options.batch_rows, 1);
  for (int64_t first = 0; first < data.rows; first += batch) {
    const int64_t n = std::min(batch, data.rows - first);
    std::vector<Tensor> inputs;
    for (const auto& spec : config.inputs) {
      std::vector<int64_t> shape = spec.shape;
      shape[0] = n;
      inputs.push_back(Tensor::Make(spec.name, spec.dtype, shape));
    }
    for (size_t k = 0; k < rules.size(); ++k) {
      Tensor& t = inputs[rules[k].input];
      const size_t width = static_cast<size_t>(t.elements() / n);
      for (int64_t r = 0; r < n; ++r) {
        StoreValue(t, static_cast<size_t>(r) * width + rules[k].column,
                   columns[k]->values[static_cast<size_t>(first + r)]);
      }
    }
    auto out = model->Infer(inputs);
    if (!out.ok())
      return out.status().WithPrefix("running the model on rows " + std::to_string(first + 1) +
                                     "-" + std::to_string(first + n));
    const Tensor& o = (*out)[0];
    const size_t width = static_cast<size_t>(o.elements() / n);
    for (int64_t r = 0; r < n; ++r) {
      const size_t base = static_cast<size_t>(r) * width;
      if (!labels.empty()) {
        size_t best = 0;
        for (size_t j = 1; j < width; ++j) {
          if (o.AsDouble(base + j) > o.AsDouble(base + best)) best = j;
        }
        predicted_labels.push_back(best < labels.size() ? labels[best] : std::to_string(best));
      } else {
        predicted_values.push_back(o.AsDouble(base));
      }
    }
  }
  if (!labels.empty()) {
    p.prediction = BuildCategoricalProfile("prediction", predicted_labels, labels);
  } else {
    p.prediction = BuildNumericProfile("prediction", predicted_values, options.bins);
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  say("ran " + config.name + ":" + std::to_string(version) + " on " + std::to_string(data.rows) +
      " rows in " + std::to_string(secs).substr(0, 5) + " s for the prediction profile");
  return p;
}

}  // namespace vigil::monitor
