#include "serving/model_manager.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "core/logging.h"
#include "serving/artifact_integrity.h"
#include "serving/model_repository.h"

namespace vigil {
namespace {

std::string ReadFile(const std::filesystem::path& p, bool& ok) {
  std::ifstream in(p, std::ios::binary);
  ok = static_cast<bool>(in);
  std::stringstream ss;
  if (ok) ss << in.rdbuf();
  return ss.str();
}

std::vector<int64_t> WantedVersions(const ModelConfig& c, const std::vector<int64_t>& found) {
  std::set<int64_t> wanted;
  switch (c.version_policy.kind) {
    case VersionPolicy::Kind::kAll:
      wanted.insert(found.begin(), found.end());
      break;
    case VersionPolicy::Kind::kLatest:
      if (!found.empty()) wanted.insert(found.back());
      break;
    case VersionPolicy::Kind::kSpecific:
      for (int64_t v : c.version_policy.versions) {
        if (std::find(found.begin(), found.end(), v) != found.end()) wanted.insert(v);
      }
      break;
  }
  // The declared production version is always served (DESIGN §9.1).
  if (c.production_version &&
      std::find(found.begin(), found.end(), *c.production_version) != found.end()) {
    wanted.insert(*c.production_version);
  }
  return {wanted.begin(), wanted.end()};
}

// One row of input `spec` holding `values` (or zeros), converted to its dtype.
Tensor OneRow(const TensorSpec& spec, const std::vector<double>& values) {
  std::vector<int64_t> shape = spec.shape;
  shape[0] = 1;
  Tensor t = Tensor::Make(spec.name, spec.dtype, std::move(shape));
  for (size_t i = 0; i < values.size() && i < static_cast<size_t>(t.elements()); ++i) {
    switch (t.dtype) {
      case DataType::kBool:
        t.data<uint8_t>()[i] = values[i] != 0;
        break;
      case DataType::kInt32:
        t.data<int32_t>()[i] = static_cast<int32_t>(values[i]);
        break;
      case DataType::kInt64:
        t.data<int64_t>()[i] = static_cast<int64_t>(values[i]);
        break;
      case DataType::kFp32:
        t.data<float>()[i] = static_cast<float>(values[i]);
        break;
      case DataType::kFp64:
        t.data<double>()[i] = values[i];
        break;
    }
  }
  return t;
}

Status CheckOutputs(const std::vector<Tensor>& out, const ModelConfig& c) {
  if (out.size() < c.outputs.size()) {
    return FailedPrecondition("the model produced " + std::to_string(out.size()) +
                              " outputs, the config declares " + std::to_string(c.outputs.size()));
  }
  for (size_t o = 0; o < c.outputs.size(); ++o) {
    const Tensor& t = out[o];
    const TensorSpec& spec = c.outputs[o];
    if (t.dtype != spec.dtype || t.shape.empty() || t.shape[0] != 1 ||
        ElementCount(t.shape) != spec.row_elements()) {
      return FailedPrecondition(
          "output '" + spec.name + "' is " + std::string(DataTypeName(t.dtype)) + " " +
          ShapeToString(t.shape) + " for one row, the config declares " +
          std::string(DataTypeName(spec.dtype)) + " " + ShapeToString(spec.shape));
    }
  }
  return Status::Ok();
}

// Before a version takes traffic: `warmup_requests` one-row requests of zeros (they
// also trigger libtorch's lazy initialisation) and every smoke test of the config.
Status WarmUpAndSmokeTest(ModelInstance& instance, const ModelConfig& c) {
  std::vector<Tensor> zeros;
  for (const auto& spec : c.inputs) zeros.push_back(OneRow(spec, {}));
  for (int i = 0; i < std::max(1, c.warmup_requests); ++i) {
    auto out = instance.Infer(zeros);
    if (!out.ok()) return out.status().WithPrefix("warm-up inference failed");
    VIGIL_RETURN_IF_ERROR(CheckOutputs(*out, c).WithPrefix("warm-up"));
  }
  for (size_t k = 0; k < c.smoke_tests.size(); ++k) {
    const SmokeTest& test = c.smoke_tests[k];
    const std::string name = "smoke test " + std::to_string(k + 1);
    std::vector<Tensor> in;
    in.push_back(OneRow(c.inputs[0], test.input));
    auto out = instance.Infer(in);
    if (!out.ok()) return out.status().WithPrefix(name + " failed");
    VIGIL_RETURN_IF_ERROR(CheckOutputs(*out, c).WithPrefix(name));
    const Tensor& first = (*out)[0];
    if (!test.expect_label.empty()) {
      const auto& labels = c.outputs[0].labels;
      size_t best = 0;
      for (size_t j = 1; j < labels.size(); ++j) {
        if (first.AsDouble(j) > first.AsDouble(best)) best = j;
      }
      if (labels[best] != test.expect_label) {
        return FailedPrecondition(name + " failed: expected label '" + test.expect_label +
                                  "', got '" + labels[best] + "'");
      }
    }
    if (test.expect_range) {
      for (int64_t j = 0; j < first.elements(); ++j) {
        const double v = first.AsDouble(static_cast<size_t>(j));
        if (!(v >= test.expect_range->first && v <= test.expect_range->second)) {
          return FailedPrecondition(name + " failed: output value " + std::to_string(v) +
                                    " outside [" + std::to_string(test.expect_range->first) + ", " +
                                    std::to_string(test.expect_range->second) + "]");
        }
      }
    }
  }
  return Status::Ok();
}

}  // namespace

std::string_view VersionStateName(VersionState s) {
  return s == VersionState::kReady ? "READY" : "FAILED";
}

ModelManager::ModelManager(std::filesystem::path repository, ModelDefaults defaults,
                           ServingMetrics& metrics, Store& store)
    : repository_(std::move(repository)),
      defaults_(std::move(defaults)),
      metrics_(metrics),
      store_(store) {
  table_.store(std::make_shared<const ModelTable>());
  reaper_ = std::thread([this] { ReaperLoop(); });
}

ModelManager::~ModelManager() {
  {
    std::lock_guard lock(eval_mu_);
    eval_stop_ = true;
  }
  eval_cv_.notify_all();
  if (evaluator_.joinable()) evaluator_.join();
  Publish(std::make_shared<const ModelTable>());
  {
    // Handles still held (a batch finishing, a shadow request) come back to the reaper;
    // wait for them so no deleter runs on a destroyed manager.
    std::unique_lock lock(reaper_mu_);
    if (!reaper_cv_.wait_for(lock, std::chrono::seconds(30),
                             [&] { return live_versions_ == 0 && retired_.empty(); })) {
      LogError("model versions still in use at shutdown", {{"count", live_versions_}});
    }
    reaper_stop_ = true;
  }
  reaper_cv_.notify_all();
  reaper_.join();
}

void ModelManager::Publish(std::shared_ptr<const ModelTable> table) {
  // The old table may hold the last handles: drop it outside any lock.
  auto old = table_.exchange(std::move(table));
  old.reset();
}

void ModelManager::PublishModel(const ModelTable& current, const std::string& model,
                                std::shared_ptr<const ModelSnapshot> snap) {
  auto next = std::make_shared<ModelTable>(current);
  (*next)[model] = std::move(snap);
  Publish(std::move(next));
}

void ModelManager::Retire(LoadedVersion* v) {
  {
    std::lock_guard lock(reaper_mu_);
    retired_.push_back(v);
  }
  reaper_cv_.notify_one();
}

void ModelManager::ReaperLoop() {
  std::unique_lock lock(reaper_mu_);
  while (true) {
    reaper_cv_.wait(lock, [&] { return reaper_stop_ || !retired_.empty(); });
    while (!retired_.empty()) {
      LoadedVersion* v = retired_.front();
      retired_.pop_front();
      lock.unlock();
      LogInfo("model version unloaded", {{"model", v->model}, {"version", v->version}});
      delete v;  // drains the batcher, then frees the backend
      lock.lock();
      --live_versions_;
      reaper_cv_.notify_all();
    }
    if (reaper_stop_) return;
  }
}

Result<VersionHandle> ModelManager::LoadVersion(const std::shared_ptr<const ModelConfig>& config,
                                                const std::filesystem::path& dir, int64_t version) {
  const std::string vname = std::to_string(version);
  const auto start = std::chrono::steady_clock::now();
  Status integrity = CheckIntegrity(config->name, dir / vname, version);
  if (!integrity.ok()) {
    metrics_.ObserveLoad(config->name, vname, 0, false);
    return integrity;
  }
  LoadOptions opts;
  opts.version_dir = dir / vname;
  opts.threads = config->threads;
  opts.device = config->device;
  if (config->outputs[0].shape.size() == 2) opts.output_columns = config->outputs[0].shape[1];
  auto instance = LoadModelInstance(config->backend, opts);
  Status st = instance.ok() ? WarmUpAndSmokeTest(**instance, *config) : instance.status();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics_.ObserveLoad(config->name, vname, seconds, st.ok());
  if (!st.ok()) return st;

  auto* raw = new LoadedVersion();
  raw->model = config->name;
  raw->version = version;
  raw->config = config;
  raw->instance = std::move(*instance);
  raw->metrics = &metrics_.ForVersion(config->name, vname);
  raw->batcher = std::make_unique<Batcher>(config->batching, raw->instance.get(), config->outputs,
                                           raw->metrics);
  raw->breaker = std::make_unique<CircuitBreaker>(config->circuit_breaker, SteadyClock::Instance());
  raw->load_seconds = seconds;
  raw->loaded_at = std::chrono::system_clock::now();
  LogInfo("model version loaded", {{"model", config->name},
                                   {"version", version},
                                   {"backend", config->backend},
                                   {"load_time_ms", seconds * 1000}});
  {
    std::lock_guard lock(reaper_mu_);
    ++live_versions_;
  }
  return VersionHandle(raw, [this](LoadedVersion* v) { Retire(v); });
}

Status ModelManager::CheckIntegrity(const std::string& model,
                                    const std::filesystem::path& version_dir, int64_t version) {
  auto files = HashVersionFolder(version_dir);
  if (!files.ok()) return files.status();
  auto record = store_.GetVersion(model, version);
  if (!record.ok()) return record.status();
  if (*record) return CompareWithRecord(*files, (*record)->files);
  VersionRecord r;
  r.model = model;
  r.version = version;
  r.files = std::move(*files);
  r.created_at = UnixSeconds();
  r.source = version_dir.string();
  HistoryEntry e;
  e.model = model;
  e.actor = "vigil";
  e.action = "record";
  e.to_version = version;
  e.reason = "unregistered version found in the repository; checksums recorded";
  VIGIL_RETURN_IF_ERROR(store_.PutVersion(r, e));
  LogInfo("unregistered, checksums recorded",
          {{"model", model}, {"version", version}, {"files", static_cast<int>(r.files.size())}});
  return Status::Ok();
}

void ModelManager::ResolveProduction(ModelSnapshot& snap) {
  auto prod = snap.aliases.find("production");
  if (prod == snap.aliases.end() && !snap.ready.empty()) {
    // First sight: config's production_version if it loaded, else the latest.
    int64_t v = snap.ready.rbegin()->first;
    if (snap.config && snap.config->production_version &&
        snap.ready.count(*snap.config->production_version)) {
      v = *snap.config->production_version;
    }
    HistoryEntry e;
    e.model = snap.name;
    e.actor = "vigil";
    e.action = "initial";
    e.to_version = v;
    e.reason = "first time this model was served";
    Status st = store_.UpdateAliases(snap.name, {{"production", v}}, e);
    if (!st.ok()) {
      LogError("cannot record the production version",
               {{"model", snap.name}, {"error", st.message()}});
    }
    snap.aliases["production"] = v;
    prod = snap.aliases.find("production");
  }
  snap.default_version.reset();
  if (prod != snap.aliases.end() && snap.ready.count(prod->second)) {
    snap.default_version = prod->second;
  } else if (prod != snap.aliases.end()) {
    const std::string msg = "production version " + std::to_string(prod->second) + " is not loaded";
    if (snap.last_error.empty()) snap.last_error = msg;
  }
  metrics_.SetAliases(snap.name, snap.aliases);
  metrics_.SetRollout(snap.name, snap.rollout);
}

std::shared_ptr<ModelSnapshot> ModelManager::BuildModel(const std::string& name,
                                                        const std::filesystem::path& dir,
                                                        const std::vector<int64_t>& found,
                                                        const ModelSnapshot* old,
                                                        ReloadReport& report) {
  auto snap = std::make_shared<ModelSnapshot>();
  snap->name = name;
  const auto config_file = dir / "config.yaml";
  bool readable = false;
  std::string text = ReadFile(config_file, readable);
  Result<ModelConfig> parsed =
      readable ? ParseModelConfigText(text, config_file.string(), name, defaults_)
               : Result<ModelConfig>(NotFound(config_file.string() +
                                              ": missing (every model needs a config.yaml)"));
  if (!parsed.ok()) {
    // Keep serving what was serving; report the problem.
    if (old) *snap = *old;
    snap->unloaded = false;
    snap->last_error = parsed.status().message();
    report.errors.push_back(snap->last_error);
    LogError("model config refused", {{"model", name}, {"error", snap->last_error}});
    return snap;
  }
  const bool config_changed = !old || !old->config || old->config_text != text;
  auto config =
      config_changed ? std::make_shared<const ModelConfig>(std::move(*parsed)) : old->config;
  snap->config = config;
  snap->config_text = std::move(text);

  auto aliases = store_.GetAliases(name);
  if (aliases.ok()) {
    snap->aliases = std::move(*aliases);
  } else {
    report.errors.push_back(aliases.status().message());
  }
  auto rollout = store_.GetRollout(name);
  if (rollout.ok()) {
    snap->rollout = std::move(*rollout);
  } else {
    report.errors.push_back(rollout.status().message());
  }
  std::vector<int64_t> wanted = WantedVersions(*config, found);
  if (snap->rollout) wanted.push_back(snap->rollout->version);
  // Versions an alias names are kept loaded, so a rollback is instant.
  for (const auto& [alias, v] : snap->aliases) wanted.push_back(v);
  std::erase_if(wanted,
                [&](int64_t v) { return std::find(found.begin(), found.end(), v) == found.end(); });
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  if (wanted.empty()) {
    snap->last_error =
        dir.string() + ": no version folders (expected " + dir.string() + "/<version number>/)";
    report.errors.push_back(snap->last_error);
  }
  for (int64_t v : wanted) {
    const std::string label = name + ":" + std::to_string(v);
    if (!config_changed && old && !old->unloaded) {
      auto it = old->ready.find(v);
      if (it != old->ready.end()) {
        snap->ready[v] = it->second;
        for (const auto& s : old->versions) {
          if (s.version == v) snap->versions.push_back(s);
        }
        continue;
      }
    }
    auto loaded = LoadVersion(config, dir, v);
    VersionStatus status;
    status.version = v;
    if (loaded.ok()) {
      status.load_seconds = (*loaded)->load_seconds;
      status.loaded_at = (*loaded)->loaded_at;
      snap->ready[v] = std::move(*loaded);
      report.loaded.push_back(label);
    } else {
      status.state = VersionState::kFailed;
      status.error = loaded.status().message();
      snap->last_error = label + ": " + status.error;
      report.errors.push_back(snap->last_error);
      LogError("model version failed to load",
               {{"model", name}, {"version", v}, {"error", status.error}});
      // A version that was serving keeps serving when its reload fails.
      if (old && !old->unloaded) {
        auto it = old->ready.find(v);
        if (it != old->ready.end()) snap->ready[v] = it->second;
      }
    }
    snap->versions.push_back(std::move(status));
  }
  if (old && !old->unloaded) {
    for (const auto& [v, h] : old->ready) {
      if (!snap->ready.count(v)) report.unloaded.push_back(name + ":" + std::to_string(v));
    }
  }
  ResolveProduction(*snap);
  return snap;
}

ReloadReport ModelManager::ReloadAll() {
  std::lock_guard lock(write_mu_);
  ReloadReport report;
  auto scanned = ScanRepository(repository_);
  if (!scanned.ok()) {
    report.errors.push_back(scanned.status().message());
    LogError("model repository scan failed", {{"error", scanned.status().message()}});
    return report;
  }
  auto current = table_.load();
  auto next = std::make_shared<ModelTable>();
  for (const auto& m : *scanned) {
    auto it = current->find(m.name);
    const ModelSnapshot* old = it == current->end() ? nullptr : it->second.get();
    (*next)[m.name] = BuildModel(m.name, m.dir, m.versions, old, report);
  }
  for (const auto& [name, snap] : *current) {
    if (next->count(name)) continue;
    for (const auto& [v, h] : snap->ready)
      report.unloaded.push_back(name + ":" + std::to_string(v));
  }
  Publish(std::move(next));
  return report;
}

Status ModelManager::LoadModel(const std::string& name, const std::string& expect_backend) {
  std::lock_guard lock(write_mu_);
  auto scanned = ScanModel(repository_, name);
  if (!scanned.ok()) return scanned.status();
  auto current = table_.load();
  auto it = current->find(name);
  const ModelSnapshot* old = it == current->end() ? nullptr : it->second.get();
  ReloadReport report;
  auto snap = BuildModel(name, scanned->dir, scanned->versions, old, report);
  if (snap->config && !expect_backend.empty() && snap->config->backend != expect_backend) {
    return InvalidArgument("model '" + name + "' is a " + snap->config->backend +
                           " model (config.yaml backend), not " + expect_backend);
  }
  PublishModel(*current, name, snap);
  if (!snap->is_ready()) {
    return FailedPrecondition(snap->last_error.empty()
                                  ? "model '" + name + "' has no loadable version"
                                  : snap->last_error);
  }
  return Status::Ok();
}

Status ModelManager::UnloadModel(const std::string& name) {
  std::lock_guard lock(write_mu_);
  auto current = table_.load();
  auto it = current->find(name);
  if (it == current->end()) return NotFound("unknown model '" + name + "'");
  auto snap = std::make_shared<ModelSnapshot>();
  snap->name = name;
  snap->config = it->second->config;
  snap->config_text = it->second->config_text;
  snap->unloaded = true;
  PublishModel(*current, name, std::move(snap));
  return Status::Ok();
}

Result<ModelManager::AliasChange> ModelManager::Promote(const std::string& model, int64_t version,
                                                        const std::string& actor,
                                                        const std::string& reason, bool force) {
  std::lock_guard lock(write_mu_);
  if (!force) {
    auto table = table_.load();
    auto it = table->find(model);
    if (it != table->end()) VIGIL_RETURN_IF_ERROR(CheckPromotionGate(*it->second, version));
  }
  return SetProduction(model, version, force ? "promote (forced)" : "promote", actor, reason);
}

Status ModelManager::CheckPromotionGate(const ModelSnapshot& snap, int64_t candidate) {
  if (!snap.config || snap.config->promotion_gate.empty()) return Status::Ok();
  const std::string& metric = snap.config->promotion_gate;
  auto prod = snap.aliases.find("production");
  if (prod == snap.aliases.end() || prod->second == candidate) return Status::Ok();
  auto cand = store_.GetVersion(snap.name, candidate);
  auto cur = store_.GetVersion(snap.name, prod->second);
  if (!cand.ok()) return cand.status();
  if (!cur.ok()) return cur.status();
  auto value = [&](const std::optional<VersionRecord>& r) -> std::optional<double> {
    if (!r) return std::nullopt;
    auto m = r->metrics.find(metric);
    return m == r->metrics.end() ? std::nullopt : std::optional<double>(m->second);
  };
  const auto c = value(*cand), p = value(*cur);
  const std::string label = snap.name + ":" + std::to_string(candidate);
  if (!c) {
    return AlreadyExists("promotion gate: " + label + " has no recorded " + metric +
                         " (register it with --metrics " + metric + "=...; or --force)");
  }
  if (p && *c < *p) {
    return AlreadyExists("promotion gate: " + label + " " + metric + " " + std::to_string(*c) +
                         " is below production version " + std::to_string(prod->second) + "'s " +
                         std::to_string(*p) + " (use --force to promote anyway)");
  }
  return Status::Ok();
}

Result<ModelManager::AliasChange> ModelManager::Rollback(const std::string& model,
                                                         std::optional<int64_t> to,
                                                         const std::string& actor,
                                                         const std::string& reason) {
  std::lock_guard lock(write_mu_);
  if (!to) {
    auto table = table_.load();
    auto it = table->find(model);
    if (it == table->end()) return NotFound("unknown model '" + model + "'");
    auto prev = it->second->aliases.find("previous");
    if (prev == it->second->aliases.end()) {
      return FailedPrecondition("model '" + model +
                                "' has no previous version to roll back to; name one with --to");
    }
    to = prev->second;
  }
  auto change = SetProduction(model, *to, "rollback", actor, reason);
  if (change.ok()) metrics_.CountRollback(model);
  return change;
}

Status ModelManager::EnsureLoaded(ModelSnapshot& snap, int64_t version) {
  if (snap.ready.count(version)) return Status::Ok();
  std::error_code ec;
  if (!std::filesystem::is_directory(repository_ / snap.name / std::to_string(version), ec)) {
    return NotFound("model '" + snap.name + "' has no version " + std::to_string(version) +
                    " in the repository");
  }
  // Load, verify and warm up before it takes any traffic.
  auto loaded = LoadVersion(snap.config, repository_ / snap.name, version);
  if (!loaded.ok()) {
    return FailedPrecondition("version " + std::to_string(version) +
                              " cannot take traffic: " + loaded.status().message());
  }
  VersionStatus vs;
  vs.version = version;
  vs.load_seconds = (*loaded)->load_seconds;
  vs.loaded_at = (*loaded)->loaded_at;
  snap.ready[version] = std::move(*loaded);
  std::erase_if(snap.versions, [&](const VersionStatus& s) { return s.version == version; });
  snap.versions.push_back(vs);
  std::sort(snap.versions.begin(), snap.versions.end(),
            [](const auto& a, const auto& b) { return a.version < b.version; });
  return Status::Ok();
}

Result<RolloutRecord> ModelManager::StartRollout(const std::string& model, int64_t version,
                                                 double percent, const std::string& actor,
                                                 const std::string& reason,
                                                 const std::string& strategy,
                                                 const GradualPlan& plan) {
  if (strategy == "gradual") percent = plan.steps.front();
  if (!(percent >= 0 && percent <= 100)) {
    return InvalidArgument("percent: expected a number in [0, 100]");
  }
  if (strategy != "canary" && strategy != "shadow" && strategy != "gradual" && strategy != "ab") {
    return InvalidArgument("strategy: expected canary, shadow, gradual or ab, got '" + strategy +
                           "'");
  }
  std::lock_guard lock(write_mu_);
  auto current = table_.load();
  auto it = current->find(model);
  if (it == current->end()) return NotFound("unknown model '" + model + "'");
  const ModelSnapshot& old = *it->second;
  if (old.unloaded || !old.config) return FailedPrecondition("model '" + model + "' is not loaded");
  if (auto p = old.aliases.find("production"); p != old.aliases.end() && p->second == version) {
    return AlreadyExists("version " + std::to_string(version) + " is already production");
  }
  if (old.rollout && (old.rollout->version != version || old.rollout->strategy != strategy)) {
    return AlreadyExists("model '" + model + "' already has a rollout of version " +
                         std::to_string(old.rollout->version) + "; promote or abort it first");
  }
  auto snap = std::make_shared<ModelSnapshot>(old);
  VIGIL_RETURN_IF_ERROR(EnsureLoaded(*snap, version));
  RolloutRecord r = old.rollout.value_or(RolloutRecord{});
  if (r.started_at == 0) r.started_at = UnixSeconds();
  r.model = model;
  r.version = version;
  r.strategy = strategy;
  r.plan = strategy == "gradual" ? plan.Serialize() : "";
  r.step = 0;
  r.percent = percent;
  r.state = "running";
  HistoryEntry e;
  e.model = model;
  e.actor = actor.empty() ? "api" : actor;
  e.action = old.rollout ? "rollout update" : "rollout start";
  e.to_version = version;
  char pct[32];
  std::snprintf(pct, sizeof pct, "%s %g%%", strategy.c_str(), percent);
  e.reason = (reason.empty() ? "" : reason + "; ") + pct;
  VIGIL_RETURN_IF_ERROR(store_.UpdateRollout(model, r, e));
  snap->rollout = r;
  metrics_.SetRollout(model, snap->rollout);
  PublishModel(*current, model, std::move(snap));
  return r;
}

Status ModelManager::EndRollout(const std::string& model, const std::string& outcome,
                                const std::string& actor, const std::string& reason) {
  std::lock_guard lock(write_mu_);
  return EndRolloutLocked(model, outcome, actor, reason);
}

bool ModelManager::RolloutStillAt(const std::string& model, int64_t version, int64_t step) const {
  auto table = table_.load();
  auto it = table->find(model);
  return it != table->end() && it->second->rollout && it->second->rollout->version == version &&
         it->second->rollout->step == step && it->second->rollout->state == "running" &&
         it->second->rollout->strategy == "gradual";
}

Status ModelManager::EndRolloutLocked(const std::string& model, const std::string& outcome,
                                      const std::string& actor, const std::string& reason) {
  auto current = table_.load();
  auto it = current->find(model);
  if (it == current->end()) return NotFound("unknown model '" + model + "'");
  const ModelSnapshot& old = *it->second;
  if (!old.rollout) return FailedPrecondition("model '" + model + "' has no rollout");
  if (outcome == "promote") {
    return SetProduction(model, old.rollout->version, "promote", actor,
                         reason.empty() ? "rollout promoted" : reason)
        .status();
  }
  auto snap = std::make_shared<ModelSnapshot>(old);
  HistoryEntry e;
  e.model = model;
  e.actor = actor.empty() ? "api" : actor;
  e.to_version = old.rollout->version;
  e.reason = reason;
  if (outcome == "abort") {
    e.action = "rollout abort";
    VIGIL_RETURN_IF_ERROR(store_.UpdateRollout(model, std::nullopt, e));
    snap->rollout.reset();
  } else if (outcome == "pause" || outcome == "resume") {
    RolloutRecord r = *old.rollout;
    r.state = outcome == "pause" ? "paused" : "running";
    e.action = "rollout " + outcome;
    VIGIL_RETURN_IF_ERROR(store_.UpdateRollout(model, r, e));
    snap->rollout = r;
  } else {
    return InvalidArgument("unknown rollout action '" + outcome + "'");
  }
  metrics_.SetRollout(model, snap->rollout);
  PublishModel(*current, model, std::move(snap));
  return Status::Ok();
}

Result<ModelManager::AliasChange> ModelManager::SetProduction(const std::string& model,
                                                              int64_t version,
                                                              const std::string& action,
                                                              const std::string& actor,
                                                              const std::string& reason) {
  auto current = table_.load();
  auto it = current->find(model);
  if (it == current->end()) return NotFound("unknown model '" + model + "'");
  const ModelSnapshot& old = *it->second;
  if (old.unloaded || !old.config) {
    return FailedPrecondition("model '" + model + "' is not loaded");
  }
  AliasChange change;
  if (auto p = old.aliases.find("production"); p != old.aliases.end()) change.from = p->second;
  change.to = version;
  if (change.from == version) {
    return AlreadyExists("model '" + model + "' version " + std::to_string(version) +
                         " is already the production version");
  }
  auto snap = std::make_shared<ModelSnapshot>(old);
  VIGIL_RETURN_IF_ERROR(EnsureLoaded(*snap, version));
  if (snap->rollout && snap->rollout->version == version) {
    // Promoting the rollout's candidate ends the rollout.
    snap->rollout.reset();
    HistoryEntry end;
    end.model = model;
    end.actor = actor.empty() ? "api" : actor;
    end.action = "rollout end";
    end.to_version = version;
    end.reason = "candidate promoted";
    VIGIL_RETURN_IF_ERROR(store_.UpdateRollout(model, std::nullopt, end));
  }
  HistoryEntry e;
  e.model = model;
  e.actor = actor.empty() ? "api" : actor;
  e.action = action;
  e.from_version = change.from;
  e.to_version = version;
  e.reason = reason;
  std::map<std::string, std::optional<int64_t>> updates = {{"production", version}};
  if (change.from) updates["previous"] = *change.from;
  VIGIL_RETURN_IF_ERROR(store_.UpdateAliases(model, updates, e));
  snap->aliases["production"] = version;
  if (change.from) snap->aliases["previous"] = *change.from;
  snap->last_error.clear();
  ResolveProduction(*snap);
  PublishModel(*current, model, std::move(snap));
  LogInfo("production version changed", {{"model", model},
                                         {"action", action},
                                         {"from", change.from ? *change.from : int64_t{0}},
                                         {"to", version},
                                         {"actor", e.actor},
                                         {"reason", reason}});
  return change;
}

VariantStats ModelManager::StatsOf(const LoadedVersion& v) const {
  VariantStats s;
  s.success = v.metrics->success->Value();
  s.error = v.metrics->error->Value();
  ShadowMetrics& compared = metrics_.ForShadow(v.model, std::to_string(v.version));
  s.agree = compared.agree->Value();
  s.disagree = compared.disagree->Value();
  if (const QualitySignals* q = quality_.load()) {
    const QualitySignals::LabelCounts labels = q->Labels(v.model, v.version);
    s.labelled = labels.labelled;
    s.correct = labels.correct;
  }
  const auto collected = v.metrics->inference_latency->Collect();
  for (const auto& b : collected.histogram.bucket) {
    s.bounds.push_back(b.upper_bound);
    s.cumulative.push_back(static_cast<double>(b.cumulative_count));
  }
  return s;
}

Status ModelManager::AdvanceRollout(const std::string& model, int64_t version, int64_t step,
                                    const std::string& reason) {
  std::lock_guard lock(write_mu_);
  // The operator may have paused, aborted or restarted it since the evaluation.
  if (!RolloutStillAt(model, version, step - 1)) return Status::Ok();
  auto current = table_.load();
  auto it = current->find(model);
  auto plan = GradualPlan::Parse(it->second->rollout->plan);
  if (!plan.ok()) return plan.status();
  if (step < 0 || static_cast<size_t>(step) >= plan->steps.size()) {
    return Internal("rollout step " + std::to_string(step) + " out of range");
  }
  auto snap = std::make_shared<ModelSnapshot>(*it->second);
  RolloutRecord r = *snap->rollout;
  r.step = step;
  r.percent = plan->steps[static_cast<size_t>(step)];
  HistoryEntry e;
  e.model = model;
  e.actor = "vigil";
  e.action = "rollout step";
  e.to_version = r.version;
  char pct[64];
  std::snprintf(pct, sizeof pct, "; now step %lld: %g%%", static_cast<long long>(step + 1),
                r.percent);
  e.reason = reason + pct;
  VIGIL_RETURN_IF_ERROR(store_.UpdateRollout(model, r, e));
  snap->rollout = r;
  metrics_.SetRollout(model, snap->rollout);
  PublishModel(*current, model, std::move(snap));
  return Status::Ok();
}

void ModelManager::EvaluateRollouts() {
  auto table = table_.load();
  const TimePoint now = SteadyClock::Instance().Now();
  std::lock_guard eval_lock(eval_mu_);
  for (const auto& [name, snap] : *table) {
    if (!snap->rollout || snap->rollout->strategy != "gradual" || snap->unloaded) {
      step_starts_.erase(name);
      continue;
    }
    const RolloutRecord& r = *snap->rollout;
    auto cand = snap->ready.find(r.version);
    auto prod =
        snap->default_version ? snap->ready.find(*snap->default_version) : snap->ready.end();
    if (cand == snap->ready.end() || prod == snap->ready.end()) continue;
    StepStart& start = step_starts_[name];
    if (start.version != r.version || start.step != r.step) {
      start = {r.version, r.step, now, StatsOf(*cand->second), StatsOf(*prod->second)};
    }
    if (r.state != "running") {
      start.at = now;  // a paused step's hold restarts on resume
      continue;
    }
    auto plan = GradualPlan::Parse(r.plan);
    if (!plan.ok()) continue;
    const auto held = std::chrono::duration_cast<std::chrono::milliseconds>(now - start.at);
    StepDecision d = EvaluateStep(*plan, static_cast<size_t>(r.step), held,
                                  StatsOf(*cand->second).Since(start.candidate),
                                  StatsOf(*prod->second).Since(start.production));
    Status st;
    switch (d.kind) {
      case StepDecision::Kind::kWait:
        break;
      case StepDecision::Kind::kAdvance:
        st = AdvanceRollout(name, r.version, r.step + 1, d.reason);
        break;
      case StepDecision::Kind::kPromote:
      case StepDecision::Kind::kAbort: {
        const bool promote = d.kind == StepDecision::Kind::kPromote;
        std::lock_guard lock(write_mu_);
        if (!RolloutStillAt(name, r.version, r.step)) break;  // changed since evaluated
        st = EndRolloutLocked(name, promote ? "promote" : "abort", "vigil", d.reason);
        if (promote || !st.ok()) break;
        metrics_.CountRollback(name);
        LogWarn("gradual rollout aborted",
                {{"model", name}, {"version", r.version}, {"reason", d.reason}});
        break;
      }
    }
    if (!st.ok()) {
      LogError("rollout evaluation", {{"model", name}, {"error", st.message()}});
    }
  }
}

Status ModelManager::SetAlias(const std::string& model, const std::string& alias,
                              std::optional<int64_t> version, const std::string& actor) {
  bool valid = !alias.empty() && alias.size() <= 64 && !(alias[0] >= '0' && alias[0] <= '9');
  for (char ch : alias) {
    valid =
        valid && ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_');
  }
  if (!valid) {
    return InvalidArgument(
        "alias: expected lowercase letters, digits, '-' or '_', not starting "
        "with a digit, got '" +
        alias + "'");
  }
  if (alias == "production" || alias == "previous") {
    return InvalidArgument("alias '" + alias + "' moves only with promote and rollback");
  }
  std::lock_guard lock(write_mu_);
  auto current = table_.load();
  auto it = current->find(model);
  if (it == current->end()) return NotFound("unknown model '" + model + "'");
  if (it->second->unloaded || !it->second->config) {
    return FailedPrecondition("model '" + model + "' is not loaded");
  }
  auto snap = std::make_shared<ModelSnapshot>(*it->second);
  auto old = snap->aliases.find(alias);
  if (!version && old == snap->aliases.end()) {
    return NotFound("model '" + model + "' has no alias '" + alias + "'");
  }
  if (version) VIGIL_RETURN_IF_ERROR(EnsureLoaded(*snap, *version));
  HistoryEntry e;
  e.model = model;
  e.actor = actor.empty() ? "api" : actor;
  e.action = version ? "alias set" : "alias remove";
  if (old != snap->aliases.end()) e.from_version = old->second;
  e.to_version = version;
  e.reason = alias;
  VIGIL_RETURN_IF_ERROR(store_.UpdateAliases(model, {{alias, version}}, e));
  if (version) {
    snap->aliases[alias] = *version;
  } else {
    snap->aliases.erase(alias);
  }
  metrics_.SetAliases(model, snap->aliases);
  PublishModel(*current, model, std::move(snap));
  return Status::Ok();
}

void ModelManager::StartRolloutEvaluator(std::chrono::milliseconds interval) {
  evaluator_ = std::thread([this, interval] {
    std::unique_lock lock(eval_mu_);
    while (!eval_cv_.wait_for(lock, interval, [&] { return eval_stop_; })) {
      lock.unlock();
      EvaluateRollouts();
      lock.lock();
    }
  });
}

void ModelManager::DrainAll() {
  auto table = table_.load();
  for (const auto& [name, snap] : *table) {
    for (const auto& [v, handle] : snap->ready) handle->batcher->Drain();
  }
}

namespace {

uint32_t RolloutBucket(std::string_view routing_key) {
  if (routing_key.empty()) {
    thread_local std::minstd_rand rng{std::random_device{}()};
    return static_cast<uint32_t>(rng() % 10000);
  }
  uint64_t h = 1469598103934665603ULL;  // FNV-1a: the same key always lands in the same bucket
  for (unsigned char ch : routing_key) {
    h ^= ch;
    h *= 1099511628211ULL;
  }
  return static_cast<uint32_t>(h % 10000);
}

}  // namespace

VersionHandle ModelManager::ShadowFor(std::string_view model) const {
  auto table = table_.load();
  auto it = table->find(model);
  if (it == table->end() || it->second->unloaded || !it->second->rollout) return nullptr;
  const RolloutRecord& r = *it->second->rollout;
  if (r.strategy != "shadow" || r.state != "running") return nullptr;
  auto candidate = it->second->ready.find(r.version);
  if (candidate == it->second->ready.end()) return nullptr;
  if (RolloutBucket({}) >= static_cast<uint32_t>(r.percent * 100 + 0.5)) return nullptr;
  return candidate->second;
}

VersionHandle ModelManager::GradualMirrorFor(std::string_view model,
                                             const LoadedVersion& answered_by) const {
  auto table = table_.load();
  auto it = table->find(model);
  if (it == table->end() || it->second->unloaded || !it->second->rollout) return nullptr;
  const RolloutRecord& r = *it->second->rollout;
  if (r.strategy != "gradual" || r.state != "running" || r.version != answered_by.version ||
      !it->second->default_version) {
    return nullptr;
  }
  auto production = it->second->ready.find(*it->second->default_version);
  return production == it->second->ready.end() ? nullptr : production->second;
}

Result<VersionHandle> ModelManager::AcquireBySelector(std::string_view model,
                                                      std::string_view selector,
                                                      std::string_view routing_key) const {
  if (selector.empty()) {
    auto table = table_.load();
    auto it = table->find(model);
    if (it != table->end() && it->second->rollout && it->second->rollout->state == "running" &&
        it->second->rollout->strategy != "shadow" && !it->second->unloaded) {
      const RolloutRecord& r = *it->second->rollout;
      auto candidate = it->second->ready.find(r.version);
      if (candidate != it->second->ready.end() &&
          RolloutBucket(routing_key) < static_cast<uint32_t>(r.percent * 100 + 0.5)) {
        return candidate->second;
      }
    }
    return Acquire(model, std::nullopt);
  }
  if (selector[0] >= '0' && selector[0] <= '9') {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(selector.data(), selector.data() + selector.size(), v);
    if (ec != std::errc() || end != selector.data() + selector.size() || v <= 0) {
      return InvalidArgument("version must be a positive integer or an alias, got '" +
                             std::string(selector) + "'");
    }
    return Acquire(model, v);
  }
  auto table = table_.load();
  auto it = table->find(model);
  if (it == table->end()) return NotFound("unknown model '" + std::string(model) + "'");
  auto alias = it->second->aliases.find(std::string(selector));
  if (alias == it->second->aliases.end()) {
    std::string known;
    for (const auto& [name, v] : it->second->aliases) known += (known.empty() ? "" : ", ") + name;
    return NotFound("model '" + std::string(model) + "' has no version or alias '" +
                    std::string(selector) + "' (aliases: " + (known.empty() ? "none" : known) +
                    ")");
  }
  return Acquire(model, alias->second);
}

Result<VersionHandle> ModelManager::Acquire(std::string_view model,
                                            std::optional<int64_t> version) const {
  auto table = table_.load();
  auto it = table->find(model);
  if (it == table->end()) return NotFound("unknown model '" + std::string(model) + "'");
  const ModelSnapshot& snap = *it->second;
  if (snap.unloaded) {
    return FailedPrecondition("model '" + std::string(model) + "' is unloaded");
  }
  if (!version) {
    if (!snap.default_version) {
      return FailedPrecondition("model '" + std::string(model) + "' is not ready" +
                                (snap.last_error.empty() ? "" : ": " + snap.last_error));
    }
    version = snap.default_version;
  }
  auto v = snap.ready.find(*version);
  if (v != snap.ready.end()) return v->second;
  for (const auto& s : snap.versions) {
    if (s.version == *version) {
      return FailedPrecondition("model '" + std::string(model) + "' version " +
                                std::to_string(*version) + " is not ready: " + s.error);
    }
  }
  std::string known;
  for (const auto& [n, h] : snap.ready) known += (known.empty() ? "" : ", ") + std::to_string(n);
  return NotFound("model '" + std::string(model) + "' has no version " + std::to_string(*version) +
                  " (ready versions: " + (known.empty() ? "none" : known) + ")");
}

}  // namespace vigil
