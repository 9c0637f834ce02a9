// A ModelInstance for tests: output row r = input row r * 2 (FP32, same width);
// records every batch size it ran; can be told to fail.
#pragma once

#include <atomic>
#include <mutex>
#include <vector>

#include "backends/model_instance.h"

namespace vigil::testing {

class DoublingInstance : public ModelInstance {
 public:
  Result<std::vector<Tensor>> Infer(std::span<const Tensor> inputs) override {
    const int now_running = running_.fetch_add(1) + 1;
    int seen = max_running_.load();
    while (now_running > seen && !max_running_.compare_exchange_weak(seen, now_running)) {
    }
    {
      std::lock_guard lock(mu_);
      batch_rows_.push_back(inputs[0].shape[0]);
    }
    struct Done {
      std::atomic<int>& r;
      ~Done() { r.fetch_sub(1); }
    } done{running_};
    if (fail_.load()) return Internal("injected failure");
    Tensor out = Tensor::Make("", DataType::kFp32, inputs[0].shape);
    for (int64_t i = 0; i < inputs[0].elements(); ++i) {
      out.data<float>()[i] = inputs[0].data<float>()[i] * 2;
    }
    std::vector<Tensor> v;
    v.push_back(std::move(out));
    return v;
  }
  std::vector<std::filesystem::path> Files() const override { return {}; }

  std::vector<int64_t> batch_rows() {
    std::lock_guard lock(mu_);
    return batch_rows_;
  }
  void set_fail(bool f) { fail_.store(f); }
  // Most Infer() calls ever running at the same time.
  int max_running() const { return max_running_.load(); }

 private:
  std::mutex mu_;
  std::vector<int64_t> batch_rows_;
  std::atomic<bool> fail_{false};
  std::atomic<int> running_{0};
  std::atomic<int> max_running_{0};
};

inline TensorSpec Fp32Spec(const std::string& name, int64_t width) {
  TensorSpec s;
  s.name = name;
  s.dtype = DataType::kFp32;
  s.shape = {-1, width};
  return s;
}

// A request of `rows` rows of width 2 whose values are `base`, `base + 1`, ...
inline std::unique_ptr<InferenceRequest> MakeRequest(int64_t rows, float base, TimePoint now,
                                                     std::function<void(InferenceResult&&)> done) {
  auto r = std::make_unique<InferenceRequest>();
  Tensor t = Tensor::Make("x", DataType::kFp32, {rows, 2});
  for (int64_t i = 0; i < rows * 2; ++i) t.data<float>()[i] = base + static_cast<float>(i);
  r->inputs.push_back(std::move(t));
  r->rows = rows;
  r->enqueued = now;
  r->done = std::move(done);
  return r;
}

}  // namespace vigil::testing
