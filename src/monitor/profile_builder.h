// Builds a model's reference profile from its training data (`vigil profile build`).
//
// Columns are matched to the model's input features by name (config.yaml's
// inputs[].features); features declared categorical in monitor.features get category
// frequencies, the others percentile bins. With a model instance, the data is also run
// through the model and the predictions (labels for classifiers, values for regressors)
// are profiled the same way.
#pragma once

#include <functional>
#include <string>

#include "backends/model_instance.h"
#include "core/status.h"
#include "monitor/dataset.h"
#include "monitor/profile.h"
#include "serving/model_config.h"

namespace vigil::monitor {

struct ProfileBuildOptions {
  int bins = kDefaultBins;
  int64_t batch_rows = 512;                          // rows per model call
  std::function<void(const std::string&)> progress;  // one line per step (nullable)
};

// `model` may be null (no prediction profile); `version` is recorded in the profile.
Result<Profile> BuildReferenceProfile(const ModelConfig& config, const Dataset& data,
                                      ModelInstance* model, int64_t version,
                                      const ProfileBuildOptions& options = {});

}  // namespace vigil::monitor
