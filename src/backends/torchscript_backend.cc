// TorchScript backend (libtorch). The only translation unit that includes libtorch
// headers: they are heavy to compile.
#include <ATen/Parallel.h>
#include <torch/script.h>

#include <array>
#include <mutex>

#include "backends/model_instance.h"

namespace vigil {
namespace {

c10::ScalarType ToTorch(DataType t) {
  switch (t) {
    case DataType::kBool:
      return c10::ScalarType::Bool;
    case DataType::kInt32:
      return c10::ScalarType::Int;
    case DataType::kInt64:
      return c10::ScalarType::Long;
    case DataType::kFp32:
      return c10::ScalarType::Float;
    case DataType::kFp64:
      return c10::ScalarType::Double;
  }
  return c10::ScalarType::Float;
}

Result<DataType> FromTorch(c10::ScalarType t) {
  switch (t) {
    case c10::ScalarType::Bool:
      return DataType::kBool;
    case c10::ScalarType::Int:
      return DataType::kInt32;
    case c10::ScalarType::Long:
      return DataType::kInt64;
    case c10::ScalarType::Float:
      return DataType::kFp32;
    case c10::ScalarType::Double:
      return DataType::kFp64;
    default:
      return Internal(std::string("model returned unsupported dtype ") + c10::toString(t));
  }
}

Status AppendOutput(const at::Tensor& t, std::vector<Tensor>& out) {
  at::Tensor cpu = t.to(at::kCPU).contiguous();
  auto dtype = FromTorch(cpu.scalar_type());
  if (!dtype.ok()) return dtype.status();
  std::vector<int64_t> shape(cpu.sizes().begin(), cpu.sizes().end());
  Tensor result = Tensor::Make("", *dtype, std::move(shape));
  std::memcpy(result.bytes.data(), cpu.data_ptr(), result.bytes.size());
  out.push_back(std::move(result));
  return Status::Ok();
}

class TorchScriptInstance final : public ModelInstance {
 public:
  TorchScriptInstance(torch::jit::Module module, std::filesystem::path file, c10::Device device)
      : module_(std::move(module)), file_(std::move(file)), device_(device) {}

  Result<std::vector<Tensor>> Infer(std::span<const Tensor> inputs) override {
    try {
      c10::InferenceMode guard;
      std::vector<c10::IValue> args;
      args.reserve(inputs.size());
      for (const Tensor& in : inputs) {
        // from_blob does not copy; the tensor is read-only under InferenceMode.
        at::Tensor t = torch::from_blob(const_cast<std::byte*>(in.bytes.data()), in.shape,
                                        torch::TensorOptions().dtype(ToTorch(in.dtype)));
        args.emplace_back(device_.is_cpu() ? t : t.to(device_));
      }
      c10::IValue result = module_.forward(std::move(args));
      std::vector<Tensor> outputs;
      if (result.isTensor()) {
        VIGIL_RETURN_IF_ERROR(AppendOutput(result.toTensor(), outputs));
      } else if (result.isTuple()) {
        for (const auto& e : result.toTupleRef().elements()) {
          if (!e.isTensor()) return Internal("model returned a tuple holding a non-tensor");
          VIGIL_RETURN_IF_ERROR(AppendOutput(e.toTensor(), outputs));
        }
      } else if (result.isTensorList()) {
        for (const at::Tensor& e : result.toTensorVector()) {
          VIGIL_RETURN_IF_ERROR(AppendOutput(e, outputs));
        }
      } else {
        return Internal("model returned neither a tensor nor a tuple of tensors");
      }
      return outputs;
    } catch (const std::exception& e) {
      return Internal(std::string("torchscript forward failed: ") + LastLine(e.what()));
    }
  }

  std::vector<std::filesystem::path> Files() const override { return {file_}; }

 private:
  // TorchScript runtime errors open with a generic line and end with the real one
  // ("RuntimeError: boom"): keep the last non-empty line.
  static std::string LastLine(const char* what) {
    std::string s(what);
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    auto nl = s.rfind('\n');
    return nl == std::string::npos ? s : s.substr(nl + 1);
  }

  torch::jit::Module module_;
  std::filesystem::path file_;
  c10::Device device_;
};

}  // namespace

Result<std::unique_ptr<ModelInstance>> LoadTorchScriptModel(const LoadOptions& options) {
  static constexpr std::array<std::string_view, 4> kExtensions = {".pt", ".pth", ".torchscript",
                                                                  ".ts"};
  auto file = FindModelFile(options.version_dir, kExtensions);
  if (!file.ok()) return file.status();
  // libtorch's intra-op pool is process-wide: set it once, from the first model loaded
  // (at::set_num_threads after parallel work has started only warns).
  static std::once_flag threads_once;
  std::call_once(threads_once, [&] { at::set_num_threads(options.threads); });
  try {
    c10::Device device(options.device);
    torch::jit::Module module = torch::jit::load(file->string(), device);
    module.eval();
    module = torch::jit::optimize_for_inference(module);
    return std::unique_ptr<ModelInstance>(
        new TorchScriptInstance(std::move(module), *file, device));
  } catch (const std::exception& e) {
    std::string what = e.what();
    auto nl = what.find('\n');
    if (nl != std::string::npos) what.resize(nl);
    return InvalidArgument(file->string() + ": not a loadable TorchScript model: " + what);
  }
}

}  // namespace vigil
