// PredictionStore: served predictions and the labels that arrive for them later.
//
// The monitor appends every served row (bounded retention: by age and by count per
// model), feedback joins labels to them by prediction id or by the client's request id,
// and rolling accuracy is rebuilt from the latest labels after a restart.
//
// Kept in its own SQLite file (<data_dir>/predictions.db, WAL, synchronous=NORMAL): it is
// written continuously and must not contend with the lifecycle store; after a power
// loss its last transactions may be missing, never corrupted. Thread-safe.
//
// Rows are written in segments: one SQLite row per Append and model, holding the rows
// packed, with the smallest and largest prediction id. A row per prediction cost ~4 us of
// SQLite work, a tenth of a core at serving rates; a segment costs one insert. Lookups
// rely on prediction ids that start with 12 hex digits of Unix milliseconds
// (TimeOrderedHex128, how the server makes them): the segments holding an id are found
// through the id-ordered segment key, at most `kMaxIdLagMs` before it.
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

// A label joined to its prediction: what accuracy needs, kept without the features.
struct LabelRecord {
  std::string prediction_id;
  int64_t row = 0;
  std::string model;
  int64_t version = 0;
  std::string predicted_label;  // classifiers: what the model answered
  double predicted_value = 0;   // regressors: what the model answered
  std::string label;            // classifiers: the truth
  double value = 0;             // regressors: the truth
  int64_t received_ms = 0;
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
  // The `limit` most recently received labels of a model version, newest first.
  virtual Result<std::vector<LabelRecord>> RecentLabels(const std::string& model, int64_t version,
                                                        size_t limit) = 0;
  // Drops a model's rows (and labels) older than `before_ms`, then its oldest segments
  // while more than `keep` rows remain.
  virtual Status Prune(const std::string& model, int64_t before_ms, int64_t keep) = 0;
  virtual Result<int64_t> Count(const std::string& model) = 0;

  // How long after its id was made a prediction may still be appended (the longest
  // request plus the monitor's buffering); lookups search that far back.
  static constexpr int64_t kMaxIdLagMs = 15 * 60 * 1000;
};

Result<std::unique_ptr<PredictionStore>> OpenSqlitePredictionStore(
    const std::filesystem::path& data_dir);

}  // namespace vigil
