#include "store/prediction_store.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <tuple>

#include "store/sqlite_statement.h"

namespace vigil {
namespace {

// The predictions file's schema; append migrations, never edit a released one.
constexpr const char* kSchema[] = {
    R"sql(
CREATE TABLE prediction_segments (
  id INTEGER PRIMARY KEY,
  first_id TEXT NOT NULL,
  last_id TEXT NOT NULL,
  model TEXT NOT NULL,
  rows BIGINT NOT NULL,
  newest_ms BIGINT NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX segments_by_first_id ON prediction_segments (first_id);
CREATE INDEX segments_by_model ON prediction_segments (model, newest_ms);
CREATE TABLE prediction_requests (
  request_id TEXT NOT NULL,
  row_index BIGINT NOT NULL,
  prediction_id TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  PRIMARY KEY (request_id, row_index, prediction_id)
) WITHOUT ROWID;
CREATE INDEX requests_by_time ON prediction_requests (created_ms);
CREATE TABLE labels (
  prediction_id TEXT NOT NULL,
  row_index BIGINT NOT NULL,
  model TEXT NOT NULL,
  version BIGINT NOT NULL,
  predicted_label TEXT NOT NULL,
  predicted_value DOUBLE PRECISION NOT NULL,
  label TEXT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  received_ms BIGINT NOT NULL,
  PRIMARY KEY (prediction_id, row_index)
);
CREATE INDEX labels_by_version ON labels (model, version, received_ms);
)sql",
    // 2: request ids are pruned per model, like the predictions they point at.
    R"sql(
ALTER TABLE prediction_requests ADD COLUMN model TEXT NOT NULL DEFAULT '';
)sql",
};

// --- segment encoding: native little-endian, length-prefixed strings -------------------

template <typename T>
void Put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

void PutString(std::string& out, const std::string& s) {
  const auto n = static_cast<uint16_t>(std::min<size_t>(s.size(), 65535));
  Put(out, n);
  out.append(s.data(), n);
}

class SegmentReader {
 public:
  explicit SegmentReader(std::string_view data) : data_(data) {}
  template <typename T>
  bool Get(T& v) {
    if (pos_ + sizeof v > data_.size()) return false;
    std::memcpy(&v, data_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return true;
  }
  bool GetString(std::string& s) {
    uint16_t n = 0;
    if (!Get(n) || pos_ + n > data_.size()) return false;
    s.assign(data_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool GetFloats(std::vector<float>& v) {
    uint32_t n = 0;
    if (!Get(n) || pos_ + size_t{n} * sizeof(float) > data_.size()) return false;
    v.resize(n);
    if (n) std::memcpy(v.data(), data_.data() + pos_, size_t{n} * sizeof(float));
    pos_ += size_t{n} * sizeof(float);
    return true;
  }
  bool done() const { return pos_ == data_.size(); }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

std::string EncodeSegment(const std::vector<const StoredPrediction*>& rows) {
  std::string out;
  Put(out, static_cast<uint32_t>(rows.size()));
  for (const StoredPrediction* p : rows) {
    PutString(out, p->prediction_id);
    Put(out, p->row);
    Put(out, p->version);
    Put(out, p->created_ms);
    Put(out, p->value);
    PutString(out, p->label);
    PutString(out, p->request_id);
    Put(out, static_cast<uint32_t>(p->features.size()));
    out.append(reinterpret_cast<const char*>(p->features.data()),
               p->features.size() * sizeof(float));
  }
  return out;
}

// Finds (id, row) in a segment; false when absent, Internal when the blob is damaged.
Result<bool> FindInSegment(std::string_view data, const std::string& model, const std::string& id,
                           int64_t row, StoredPrediction& out) {
  SegmentReader r(data);
  uint32_t n = 0;
  if (!r.Get(n)) return Internal("damaged prediction segment");
  StoredPrediction p;
  for (uint32_t i = 0; i < n; ++i) {
    if (!r.GetString(p.prediction_id) || !r.Get(p.row) || !r.Get(p.version) ||
        !r.Get(p.created_ms) || !r.Get(p.value) || !r.GetString(p.label) ||
        !r.GetString(p.request_id) || !r.GetFloats(p.features)) {
      return Internal("damaged prediction segment");
    }
    if (p.prediction_id == id && p.row == row) {
      p.model = model;
      out = std::move(p);
      return true;
    }
  }
  return false;
}

// The smallest id a segment holding `id` can start with: `kMaxIdLagMs` before the
// id's own time ("" when the id carries no time: search everything).
std::string LowerBoundFor(const std::string& id) {
  if (id.size() < 12) return "";
  uint64_t ms = 0;
  for (size_t i = 0; i < 12; ++i) {
    const char c = id[i];
    const int d = c >= '0' && c <= '9' ? c - '0' : (c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1);
    if (d < 0) return "";
    ms = ms * 16 + static_cast<uint64_t>(d);
  }
  const uint64_t lag = static_cast<uint64_t>(PredictionStore::kMaxIdLagMs);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%012llx",
                static_cast<unsigned long long>(ms > lag ? ms - lag : 0));
  return buf;
}

class SqlitePredictionStore final : public PredictionStore, private SqliteConnection {
 public:
  SqlitePredictionStore(sqlite3* db, std::string path)
      : SqliteConnection(db, std::move(path), StatusCode::kUnavailable) {}

  Status Init() {
    VIGIL_RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL"));
    VIGIL_RETURN_IF_ERROR(Exec("PRAGMA synchronous=NORMAL"));
    VIGIL_RETURN_IF_ERROR(Exec("PRAGMA busy_timeout=5000"));
    int64_t current = 0;
    {
      Stmt q(db_, "PRAGMA user_version");
      if (!q.ok() || q.Step() != SQLITE_ROW) return Error("reading the schema version");
      current = q.Int(0);
    }
    const int64_t newest = static_cast<int64_t>(std::size(kSchema));
    if (current > newest) {
      return FailedPrecondition(path_ + ": schema version " + std::to_string(current) +
                                " is newer than this vigil knows; upgrade vigil");
    }
    for (int64_t v = current; v < newest; ++v) {
      VIGIL_RETURN_IF_ERROR(Transaction([&]() -> Status {
        VIGIL_RETURN_IF_ERROR(Exec(kSchema[v]));
        return Exec(("PRAGMA user_version=" + std::to_string(v + 1)).c_str());
      }));
    }
    return Status::Ok();
  }

  Status Append(const std::vector<StoredPrediction>& rows) override {
    if (rows.empty()) return Status::Ok();
    // One segment per model, rows sorted by id.
    std::map<std::string, std::vector<const StoredPrediction*>> by_model;
    for (const auto& r : rows) by_model[r.model].push_back(&r);
    std::lock_guard lock(mu_);
    return Transaction([&]() -> Status {
      Stmt seg(db_,
               "INSERT INTO prediction_segments (first_id, last_id, model, rows, newest_ms, data) "
               "VALUES (?, ?, ?, ?, ?, ?)");
      Stmt req(db_,
               "INSERT OR REPLACE INTO prediction_requests (request_id, row_index, prediction_id, "
               "created_ms, model) VALUES (?, ?, ?, ?, ?)");
      if (!seg.ok() || !req.ok()) return Error("preparing the insert");
      for (auto& [model, list] : by_model) {
        std::sort(list.begin(), list.end(),
                  [](const StoredPrediction* a, const StoredPrediction* b) {
                    return std::tie(a->prediction_id, a->row) < std::tie(b->prediction_id, b->row);
                  });
        int64_t newest = 0;
        for (const StoredPrediction* p : list) newest = std::max(newest, p->created_ms);
        const std::string data = EncodeSegment(list);
        seg.Reset();
        seg.Bind(1, list.front()->prediction_id)
            .Bind(2, list.back()->prediction_id)
            .Bind(3, model)
            .Bind(4, static_cast<int64_t>(list.size()))
            .Bind(5, newest)
            .BindBlob(6, data.data(), data.size());
        if (seg.Step() != SQLITE_DONE) return Error("storing predictions");
        for (const StoredPrediction* p : list) {
          if (p->request_id.empty()) continue;
          req.Reset();
          req.Bind(1, p->request_id)
              .Bind(2, p->row)
              .Bind(3, p->prediction_id)
              .Bind(4, p->created_ms)
              .Bind(5, model);
          if (req.Step() != SQLITE_DONE) return Error("storing a request id");
        }
      }
      return Status::Ok();
    });
  }

  Result<std::vector<std::optional<StoredPrediction>>> Find(
      const std::vector<PredictionKey>& keys) override {
    std::lock_guard lock(mu_);
    std::vector<std::optional<StoredPrediction>> out;
    Stmt by_request(db_,
                    "SELECT prediction_id FROM prediction_requests WHERE request_id = ? AND "
                    "row_index = ? ORDER BY created_ms DESC LIMIT 1");
    Stmt segments(db_,
                  "SELECT model, data FROM prediction_segments WHERE first_id <= ?1 AND "
                  "first_id >= ?2 AND last_id >= ?1 ORDER BY first_id DESC");
    if (!by_request.ok() || !segments.ok()) return Error("preparing the lookup");
    for (const auto& k : keys) {
      std::string id = k.prediction_id;
      if (id.empty()) {
        by_request.Reset();
        by_request.Bind(1, k.request_id).Bind(2, k.row);
        const int rc = by_request.Step();
        if (rc == SQLITE_DONE) {
          out.push_back(std::nullopt);
          continue;
        }
        if (rc != SQLITE_ROW) return Error("looking up a request id");
        id = by_request.Text(0);
      }
      segments.Reset();
      segments.Bind(1, id).Bind(2, LowerBoundFor(id));
      std::optional<StoredPrediction> found;
      int rc;
      while ((rc = segments.Step()) == SQLITE_ROW) {
        StoredPrediction p;
        auto hit = FindInSegment(segments.Blob(1), segments.Text(0), id, k.row, p);
        if (!hit.ok()) return hit.status().WithPrefix(path_);
        if (*hit) {
          found = std::move(p);
          break;
        }
      }
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error("looking up a prediction");
      out.push_back(std::move(found));
    }
    return out;
  }

  Status PutLabels(const std::vector<LabelRecord>& labels) override {
    if (labels.empty()) return Status::Ok();
    std::lock_guard lock(mu_);
    return Transaction([&]() -> Status {
      Stmt ins(db_,
               "INSERT OR REPLACE INTO labels (prediction_id, row_index, model, version, "
               "predicted_label, predicted_value, label, value, received_ms) "
               "VALUES (?,?,?,?,?,?,?,?,?)");
      if (!ins.ok()) return Error("preparing the insert");
      for (const auto& l : labels) {
        ins.Reset();
        ins.Bind(1, l.prediction_id)
            .Bind(2, l.row)
            .Bind(3, l.model)
            .Bind(4, l.version)
            .Bind(5, l.predicted_label)
            .Bind(6, l.predicted_value)
            .Bind(7, l.label)
            .Bind(8, l.value)
            .Bind(9, l.received_ms);
        if (ins.Step() != SQLITE_DONE) return Error("storing a label");
      }
      return Status::Ok();
    });
  }

  Result<std::vector<LabelRecord>> RecentLabels(const std::string& model, int64_t version,
                                                size_t limit) override {
    std::lock_guard lock(mu_);
    Stmt q(db_,
           "SELECT prediction_id, row_index, predicted_label, predicted_value, label, value, "
           "received_ms FROM labels WHERE model = ? AND version = ? "
           "ORDER BY received_ms DESC LIMIT ?");
    if (!q.ok()) return Error("preparing the query");
    q.Bind(1, model).Bind(2, version).Bind(3, static_cast<int64_t>(limit));
    std::vector<LabelRecord> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      LabelRecord l;
      l.prediction_id = q.Text(0);
      l.row = q.Int(1);
      l.model = model;
      l.version = version;
      l.predicted_label = q.Text(2);
      l.predicted_value = q.Double(3);
      l.label = q.Text(4);
      l.value = q.Double(5);
      l.received_ms = q.Int(6);
      out.push_back(std::move(l));
    }
    if (rc != SQLITE_DONE) return Error("reading labels");
    return out;
  }

  Status Prune(const std::string& model, int64_t before_ms, int64_t keep) override {
    std::lock_guard lock(mu_);
    // Over the row budget: the newest segments that fit stay, older ones go.
    int64_t cutoff = before_ms;
    {
      Stmt q(db_,
             "SELECT newest_ms, rows FROM prediction_segments WHERE model = ? "
             "ORDER BY newest_ms DESC");
      q.Bind(1, model);
      int64_t total = 0;
      while (q.Step() == SQLITE_ROW) {
        total += q.Int(1);
        if (total > keep) {
          cutoff = std::max(cutoff, q.Int(0) + 1);
          break;
        }
      }
    }
    return Transaction([&]() -> Status {
      Stmt seg(db_, "DELETE FROM prediction_segments WHERE model = ? AND newest_ms < ?");
      seg.Bind(1, model).Bind(2, cutoff);
      if (seg.Step() != SQLITE_DONE) return Error("pruning predictions");
      Stmt req(db_, "DELETE FROM prediction_requests WHERE created_ms < ? AND model = ?");
      req.Bind(1, before_ms).Bind(2, model);
      if (req.Step() != SQLITE_DONE) return Error("pruning request ids");
      Stmt lab(db_, "DELETE FROM labels WHERE model = ? AND received_ms < ?");
      lab.Bind(1, model).Bind(2, before_ms);
      if (lab.Step() != SQLITE_DONE) return Error("pruning labels");
      return Status::Ok();
    });
  }

  Result<int64_t> Count(const std::string& model) override {
    std::lock_guard lock(mu_);
    Stmt q(db_, "SELECT COALESCE(SUM(rows), 0) FROM prediction_segments WHERE model = ?");
    q.Bind(1, model);
    if (q.Step() != SQLITE_ROW) return Error("counting predictions");
    return q.Int(0);
  }

 private:
  std::mutex mu_;
};

}  // namespace

Result<std::unique_ptr<PredictionStore>> OpenSqlitePredictionStore(
    const std::filesystem::path& data_dir) {
  auto db = OpenSqliteFile(data_dir, "predictions.db", "prediction store");
  if (!db.ok()) return db.status();
  auto store = std::make_unique<SqlitePredictionStore>(*db, (data_dir / "predictions.db").string());
  VIGIL_RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<PredictionStore>(std::move(store));
}

}  // namespace vigil
