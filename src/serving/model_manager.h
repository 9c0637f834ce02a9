// ModelManager: which model versions are loaded, and handles to them.
//
// The hot path calls Acquire(): it reads an immutable ModelTable snapshot (atomic
// shared_ptr load, no lock) and returns a ref-counted handle. A version replaced or
// unloaded meanwhile stays alive, and its batcher keeps running, until the last handle
// is gone; it is then destroyed on the manager's reaper thread, never on a request or
// batcher thread.
//
// Writers (ReloadAll, LoadModel, UnloadModel) are serialised by one mutex, build a new
// table and publish it atomically. A model whose config or files are bad is recorded
// with its error and the other models still load; a version that was serving keeps
// serving when a reload of its model fails.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "backends/model_instance.h"
#include "serving/batcher.h"
#include "serving/circuit_breaker.h"
#include "serving/model_config.h"
#include "serving/quality_signals.h"
#include "serving/rollout_policy.h"
#include "serving/serving_metrics.h"
#include "store/store.h"

namespace vigil {

enum class VersionState { kReady, kFailed };
std::string_view VersionStateName(VersionState s);

// A loaded model version. Immutable after construction, apart from its batcher's queue.
struct LoadedVersion {
  std::string model;
  int64_t version = 0;
  std::shared_ptr<const ModelConfig> config;
  std::unique_ptr<ModelInstance> instance;
  std::unique_ptr<Batcher> batcher;  // destroyed before `instance`
  std::unique_ptr<CircuitBreaker> breaker;
  VersionMetrics* metrics = nullptr;
  double load_seconds = 0;
  std::chrono::system_clock::time_point loaded_at;

  ~LoadedVersion() { batcher.reset(); }
};

using VersionHandle = std::shared_ptr<LoadedVersion>;

struct VersionStatus {
  int64_t version = 0;
  VersionState state = VersionState::kReady;
  std::string error;  // kFailed: why
  double load_seconds = 0;
  std::chrono::system_clock::time_point loaded_at;
};

struct ModelSnapshot {
  std::string name;
  std::shared_ptr<const ModelConfig> config;  // null when it never parsed
  std::string config_text;                    // to notice edits on reload
  std::map<int64_t, VersionHandle> ready;
  std::vector<VersionStatus> versions;     // every version tried, ascending
  std::map<std::string, int64_t> aliases;  // from the store: production, previous, ...
  std::optional<int64_t> default_version;  // what unversioned requests get (production)
  std::optional<RolloutRecord> rollout;    // a canary share of unversioned traffic
  std::string last_error;                  // config or load error; "" when none
  bool unloaded = false;                   // unloaded on request

  bool is_ready() const { return !ready.empty(); }
};

using ModelTable = std::map<std::string, std::shared_ptr<const ModelSnapshot>, std::less<>>;

struct ReloadReport {
  std::vector<std::string> loaded;    // "iris:2" for each version newly loaded
  std::vector<std::string> unloaded;  // versions no longer served
  std::vector<std::string> errors;    // one line per problem
};

class ModelManager {
 public:
  // `store` keeps checksums, aliases and history; it must outlive the manager.
  ModelManager(std::filesystem::path repository, ModelDefaults defaults, ServingMetrics& metrics,
               Store& store);
  ~ModelManager();
  ModelManager(const ModelManager&) = delete;
  ModelManager& operator=(const ModelManager&) = delete;

  // Scans the repository and makes the loaded versions match it. Thread-safe.
  ReloadReport ReloadAll();

  // Loads (or reloads) one model from the repository; `expect_backend`, when set,
  // must match its config. Returns the error text when nothing of it could be loaded.
  Status LoadModel(const std::string& name, const std::string& expect_backend = "");
  Status UnloadModel(const std::string& name);

  struct AliasChange {
    std::optional<int64_t> from;  // production before
    int64_t to = 0;               // production after
  };
  // Makes `version` the production version (loading and checking it first when it is
  // not loaded); the old production becomes "previous". Recorded in the history.
  // With the config's promotion_gate, the candidate's recorded metric must be >= the
  // production version's (AlreadyExists = HTTP 409 otherwise) unless `force`.
  Result<AliasChange> Promote(const std::string& model, int64_t version, const std::string& actor,
                              const std::string& reason, bool force = false);
  // Back to `to`, or to the "previous" alias when not given.
  Result<AliasChange> Rollback(const std::string& model, std::optional<int64_t> to,
                               const std::string& actor, const std::string& reason);

  // Canary: `percent` of unversioned traffic to `version` (loaded, verified and warmed
  // up first). Calling it again changes the percentage. Persisted; in the history.
  // strategy "shadow": `percent` of unversioned requests are also sent to `version`,
  // whose answers are only compared with production's, never returned.
  // strategy "gradual": `plan`'s steps replace `percent`; the evaluator advances them,
  // aborts on a breached guardrail and promotes after the last step.
  Result<RolloutRecord> StartRollout(const std::string& model, int64_t version, double percent,
                                     const std::string& actor, const std::string& reason,
                                     const std::string& strategy = "canary",
                                     const GradualPlan& plan = {});

  // User-defined alias (e.g. "champion"): set to `version` (loaded and verified first) or
  // removed (nullopt). production and previous move only by promote and rollback.
  Status SetAlias(const std::string& model, const std::string& alias,
                  std::optional<int64_t> version, const std::string& actor);

  // Delayed-label counts for the gradual rollouts' accuracy guardrail (nullable; must
  // outlive the manager). Call before StartRolloutEvaluator.
  void SetQualitySignals(const QualitySignals* signals) { quality_.store(signals); }

  // Runs EvaluateRollouts every `interval` on its own thread until destruction.
  void StartRolloutEvaluator(std::chrono::milliseconds interval);
  // One pass over gradual rollouts: advance, abort (guardrail) or promote. Thread-safe.
  void EvaluateRollouts();
  // The shadow candidate that should also see this request, or null (no shadow rollout
  // running, or not sampled). Thread-safe, lock-free.
  VersionHandle ShadowFor(std::string_view model) const;
  // During a gradual rollout, the production version that should also run a request
  // `answered_by` the candidate (to measure disagreement), or null.
  VersionHandle GradualMirrorFor(std::string_view model, const LoadedVersion& answered_by) const;
  // outcome: "promote" (the candidate becomes production), "abort", "pause", "resume".
  Status EndRollout(const std::string& model, const std::string& outcome, const std::string& actor,
                    const std::string& reason);

  Store& store() { return store_; }

  // Shutdown: every loaded version runs what is queued now, without batching delays.
  void DrainAll();

  // Thread-safe, lock-free. version == nullopt: the model's default version.
  // NotFound: unknown model or version; FailedPrecondition: known but not ready.
  Result<VersionHandle> Acquire(std::string_view model, std::optional<int64_t> version) const;
  // selector: "" (the default version), a version number ("2"), or an alias
  // ("production", "previous", ...). InvalidArgument for a malformed number.
  // With a running rollout, an unversioned request goes to the candidate with the
  // rollout's probability; a non-empty `routing_key` makes that choice sticky per key.
  Result<VersionHandle> AcquireBySelector(std::string_view model, std::string_view selector,
                                          std::string_view routing_key = {}) const;

  std::shared_ptr<const ModelTable> Snapshot() const { return table_.load(); }
  const std::filesystem::path& repository() const { return repository_; }
  const ModelDefaults& defaults() const { return defaults_; }

 private:
  // Loads `model` into a new snapshot, reusing versions of `old` that did not change.
  std::shared_ptr<ModelSnapshot> BuildModel(const std::string& name,
                                            const std::filesystem::path& dir,
                                            const std::vector<int64_t>& found,
                                            const ModelSnapshot* old, ReloadReport& report);
  Result<VersionHandle> LoadVersion(const std::shared_ptr<const ModelConfig>& config,
                                    const std::filesystem::path& dir, int64_t version);
  // Checks the version's files against the store, recording them on first sight.
  Status CheckIntegrity(const std::string& model, const std::filesystem::path& version_dir,
                        int64_t version);
  // Records the initial production version when the store has none (DESIGN §9.1).
  void ResolveProduction(ModelSnapshot& snap);
  Result<AliasChange> SetProduction(const std::string& model, int64_t version,
                                    const std::string& action, const std::string& actor,
                                    const std::string& reason);
  Status CheckPromotionGate(const ModelSnapshot& snap, int64_t candidate);
  // Loads, verifies and warms up `version` into `snap` unless it is ready.
  Status EnsureLoaded(ModelSnapshot& snap, int64_t version);
  VariantStats StatsOf(const LoadedVersion& v) const;
  // Moves a gradual rollout of `version` from step-1 to `step`, unless it changed meanwhile.
  Status AdvanceRollout(const std::string& model, int64_t version, int64_t step,
                        const std::string& reason);
  // REQUIRES: write_mu_ held.
  Status EndRolloutLocked(const std::string& model, const std::string& outcome,
                          const std::string& actor, const std::string& reason);
  // The model's running gradual rollout is still of `version` at `step`.
  bool RolloutStillAt(const std::string& model, int64_t version, int64_t step) const;
  void Publish(std::shared_ptr<const ModelTable> table);
  // Publishes `current` with `model` replaced by `snap`. REQUIRES: write_mu_ held.
  void PublishModel(const ModelTable& current, const std::string& model,
                    std::shared_ptr<const ModelSnapshot> snap);
  void Retire(LoadedVersion* v);
  void ReaperLoop();

  const std::filesystem::path repository_;
  const ModelDefaults defaults_;
  ServingMetrics& metrics_;
  Store& store_;
  std::atomic<const QualitySignals*> quality_{nullptr};

  std::mutex write_mu_;  // serialises writers
  std::atomic<std::shared_ptr<const ModelTable>> table_;

  std::mutex reaper_mu_;
  std::condition_variable reaper_cv_;
  std::deque<LoadedVersion*> retired_;  // guarded by reaper_mu_
  int64_t live_versions_ = 0;           // created and not yet deleted; guarded by reaper_mu_
  bool reaper_stop_ = false;            // guarded by reaper_mu_
  std::thread reaper_;

  // Gradual rollouts: where each model's current step started (evaluator thread only).
  struct StepStart {
    int64_t version = 0;
    int64_t step = -1;
    TimePoint at{};
    VariantStats candidate, production;
  };
  std::map<std::string, StepStart> step_starts_;  // guarded by eval_mu_
  std::mutex eval_mu_;
  std::condition_variable eval_cv_;
  bool eval_stop_ = false;  // guarded by eval_mu_
  std::thread evaluator_;
};

}  // namespace vigil
