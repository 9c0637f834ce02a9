// PredictionStore: served predictions and the labels that arrive for them later.
//
// The monitor appends every served row (bounded retention: by age and by count per
// model), feedback joins labels to them by prediction id or by the client's request id,
// and rolling accuracy is rebuilt from the latest labelled rows after a restart.
//
// Kept in its own SQLite file (<data_dir>/predictions.db, WAL, synchronous=NORMAL): it is
// written continuously and must not contend with the lifecycle store; after a power
// loss its last transactions may be missing, never corrupted. Thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace vigil {

struct StoredPrediction {
  std::string prediction_id;  // the response's id; rows of a batch share it
  int64_t row = 0;
  std::string model;
  int64_t version = 0;
  int64_t created_ms = 0;  // unix milliseconds
  std::string request_id;  // the client's OIP request id ("" when none)
  std::string label;       // classifiers: the predicted label ("" for regressors)
  double value = 0;        // regressors: the value; classifiers: the label's score
  std::vector<float> features;
};

struct LabelRecord {
  std::string prediction_id;
  int64_t row = 0;
  std::string label;  // classifiers
  double value = 0;   // regressors
  int64_t received_ms = 0;
};

struct LabelledPrediction {
  StoredPrediction prediction;
  LabelRecord label;
};

// A row named by prediction id, or by the client's request id.
struct PredictionKey {
  std::string prediction_id;  // when set
  std::string request_id;     // otherwise
  int64_t row = 0;
};

class PredictionStore {
 public:
  virtual ~PredictionStore() = default;

  virtual Status Append(const std::vector<StoredPrediction>& rows) = 0;
  // One entry per key, nullopt for unknown ones. A request id shared by several
  // predictions resolves to the newest.
  virtual Result<std::vector<std::optional<StoredPrediction>>> Find(
      const std::vector<PredictionKey>& keys) = 0;
  // Inserts or replaces labels, all or none.
  virtual Status PutLabels(const std::vector<LabelRecord>& labels) = 0;
  // The `limit` most recently labelled rows of a model version, newest first.
  virtual Result<std::vector<LabelledPrediction>> RecentLabelled(const std::string& model,
                                                                 int64_t version, size_t limit) = 0;
  // Drops a model's rows older than `before_ms`, then all but its newest `keep` rows.
  virtual Status Prune(const std::string& model, int64_t before_ms, int64_t keep) = 0;
  virtual Result<int64_t> Count(const std::string& model) = 0;
};

Result<std::unique_ptr<PredictionStore>> OpenSqlitePredictionStore(
    const std::filesystem::path& data_dir);

}  // namespace vigil
