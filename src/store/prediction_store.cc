#include "store/prediction_store.h"

#include <cstring>
#include <mutex>

#include "store/sqlite_statement.h"

namespace vigil {
namespace {

constexpr std::string_view kColumns =
    "prediction_id, row_index, model, version, created_ms, request_id, label, value, features";
constexpr std::string_view kPrefixedColumns =
    "p.prediction_id, p.row_index, p.model, p.version, p.created_ms, p.request_id, p.label, "
    "p.value, p.features";

std::string Sql(std::string_view a, std::string_view b, std::string_view c = "") {
  return std::string(a) + std::string(b) + std::string(c);
}

// The predictions file's schema; append migrations, never edit one.
constexpr const char* kSchema[] = {
    R"sql(
CREATE TABLE predictions (
  prediction_id TEXT NOT NULL,
  row_index BIGINT NOT NULL,
  model TEXT NOT NULL,
  version BIGINT NOT NULL,
  created_ms BIGINT NOT NULL,
  request_id TEXT NOT NULL,
  label TEXT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  features BLOB,
  PRIMARY KEY (prediction_id, row_index)
);
CREATE INDEX predictions_by_request ON predictions (request_id, row_index);
CREATE INDEX predictions_by_model ON predictions (model, created_ms);
CREATE TABLE labels (
  prediction_id TEXT NOT NULL,
  row_index BIGINT NOT NULL,
  label TEXT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  received_ms BIGINT NOT NULL,
  PRIMARY KEY (prediction_id, row_index)
);
CREATE INDEX labels_by_time ON labels (received_ms);
)sql",
};

class SqlitePredictionStore final : public PredictionStore {
 public:
  SqlitePredictionStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  ~SqlitePredictionStore() override { sqlite3_close(db_); }

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
    std::lock_guard lock(mu_);
    return Transaction([&]() -> Status {
      Stmt ins(db_,
               "INSERT OR REPLACE INTO predictions (prediction_id, row_index, model, version, "
               "created_ms, request_id, label, value, features) VALUES (?,?,?,?,?,?,?,?,?)");
      if (!ins.ok()) return Error("preparing the insert");
      for (const auto& r : rows) {
        ins.Reset();
        ins.Bind(1, r.prediction_id)
            .Bind(2, r.row)
            .Bind(3, r.model)
            .Bind(4, r.version)
            .Bind(5, r.created_ms)
            .Bind(6, r.request_id)
            .Bind(7, r.label)
            .Bind(8, r.value)
            .BindBlob(9, r.features.data(), r.features.size() * sizeof(float));
        if (ins.Step() != SQLITE_DONE) return Error("storing a prediction");
      }
      return Status::Ok();
    });
  }

  Result<std::vector<std::optional<StoredPrediction>>> Find(
      const std::vector<PredictionKey>& keys) override {
    std::lock_guard lock(mu_);
    std::vector<std::optional<StoredPrediction>> out;
    Stmt by_id(
        db_, Sql("SELECT ", kColumns, " FROM predictions WHERE prediction_id = ? AND row_index = ?")
                 .c_str());
    Stmt by_request(db_, Sql("SELECT ", kColumns,
                             " FROM predictions WHERE request_id = ? AND row_index = ? "
                             "ORDER BY created_ms DESC LIMIT 1")
                             .c_str());
    if (!by_id.ok() || !by_request.ok()) return Error("preparing the lookup");
    for (const auto& k : keys) {
      Stmt& q = k.prediction_id.empty() ? by_request : by_id;
      q.Reset();
      q.Bind(1, k.prediction_id.empty() ? k.request_id : k.prediction_id).Bind(2, k.row);
      const int rc = q.Step();
      if (rc == SQLITE_ROW) {
        out.push_back(ReadPrediction(q, 0));
      } else if (rc == SQLITE_DONE) {
        out.push_back(std::nullopt);
      } else {
        return Error("looking up a prediction");
      }
    }
    return out;
  }

  Status PutLabels(const std::vector<LabelRecord>& labels) override {
    if (labels.empty()) return Status::Ok();
    std::lock_guard lock(mu_);
    return Transaction([&]() -> Status {
      Stmt ins(db_,
               "INSERT OR REPLACE INTO labels (prediction_id, row_index, label, value, "
               "received_ms) VALUES (?,?,?,?,?)");
      if (!ins.ok()) return Error("preparing the insert");
      for (const auto& l : labels) {
        ins.Reset();
        ins.Bind(1, l.prediction_id)
            .Bind(2, l.row)
            .Bind(3, l.label)
            .Bind(4, l.value)
            .Bind(5, l.received_ms);
        if (ins.Step() != SQLITE_DONE) return Error("storing a label");
      }
      return Status::Ok();
    });
  }

  Result<std::vector<LabelledPrediction>> RecentLabelled(const std::string& model, int64_t version,
                                                         size_t limit) override {
    std::lock_guard lock(mu_);
    Stmt q(db_, Sql("SELECT ", kPrefixedColumns,
                    ", l.label, l.value, l.received_ms FROM labels l JOIN predictions p "
                    "ON p.prediction_id = l.prediction_id AND p.row_index = l.row_index "
                    "WHERE p.model = ? AND p.version = ? ORDER BY l.received_ms DESC LIMIT ?")
                    .c_str());
    if (!q.ok()) return Error("preparing the query");
    q.Bind(1, model).Bind(2, version).Bind(3, static_cast<int64_t>(limit));
    std::vector<LabelledPrediction> out;
    while (q.Step() == SQLITE_ROW) {
      LabelledPrediction lp;
      lp.prediction = ReadPrediction(q, 0);
      lp.label.prediction_id = lp.prediction.prediction_id;
      lp.label.row = lp.prediction.row;
      lp.label.label = q.Text(9);
      lp.label.value = q.Double(10);
      lp.label.received_ms = q.Int(11);
      out.push_back(std::move(lp));
    }
    return out;
  }

  Status Prune(const std::string& model, int64_t before_ms, int64_t keep) override {
    std::lock_guard lock(mu_);
    return Transaction([&]() -> Status {
      Stmt old(db_, "DELETE FROM predictions WHERE model = ? AND created_ms < ?");
      old.Bind(1, model).Bind(2, before_ms);
      if (old.Step() != SQLITE_DONE) return Error("pruning old predictions");
      Stmt extra(db_,
                 "DELETE FROM predictions WHERE model = ? AND created_ms < (SELECT created_ms "
                 "FROM predictions WHERE model = ? ORDER BY created_ms DESC LIMIT 1 OFFSET ?)");
      extra.Bind(1, model).Bind(2, model).Bind(3, std::max<int64_t>(keep - 1, 0));
      if (extra.Step() != SQLITE_DONE) return Error("pruning extra predictions");
      Stmt orphans(db_,
                   "DELETE FROM labels WHERE NOT EXISTS (SELECT 1 FROM predictions p WHERE "
                   "p.prediction_id = labels.prediction_id AND p.row_index = labels.row_index)");
      if (orphans.Step() != SQLITE_DONE) return Error("pruning labels");
      return Status::Ok();
    });
  }

  Result<int64_t> Count(const std::string& model) override {
    std::lock_guard lock(mu_);
    Stmt q(db_, "SELECT COUNT(*) FROM predictions WHERE model = ?");
    q.Bind(1, model);
    if (q.Step() != SQLITE_ROW) return Error("counting predictions");
    return q.Int(0);
  }

 private:
  static StoredPrediction ReadPrediction(const Stmt& q, int first) {
    StoredPrediction p;
    p.prediction_id = q.Text(first);
    p.row = q.Int(first + 1);
    p.model = q.Text(first + 2);
    p.version = q.Int(first + 3);
    p.created_ms = q.Int(first + 4);
    p.request_id = q.Text(first + 5);
    p.label = q.Text(first + 6);
    p.value = q.Double(first + 7);
    std::string_view blob = q.Blob(first + 8);
    p.features.resize(blob.size() / sizeof(float));
    if (!p.features.empty()) std::memcpy(p.features.data(), blob.data(), p.features.size() * 4);
    return p;
  }

  Status Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      return Unavailable(path_ + ": " + msg);
    }
    return Status::Ok();
  }

  template <typename Fn>
  Status Transaction(Fn fn) {
    VIGIL_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status st = fn();
    if (!st.ok()) {
      Exec("ROLLBACK").ok();
      return st;
    }
    return Exec("COMMIT");
  }

  Status Error(const std::string& what) const {
    return Unavailable(path_ + ": " + what + ": " + sqlite3_errmsg(db_));
  }

  std::mutex mu_;
  sqlite3* db_;
  std::string path_;
};

}  // namespace

Result<std::unique_ptr<PredictionStore>> OpenSqlitePredictionStore(
    const std::filesystem::path& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) {
    return Unavailable(data_dir.string() + ": cannot create the data folder: " + ec.message());
  }
  const std::string path = (data_dir / "predictions.db").string();
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Unavailable(path + ": cannot open the prediction store: " + msg);
  }
  auto store = std::make_unique<SqlitePredictionStore>(db, path);
  VIGIL_RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<PredictionStore>(std::move(store));
}

}  // namespace vigil
