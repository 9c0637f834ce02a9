// Tensor: a named, typed, shaped, contiguous (row-major) buffer.
//
// Tensors are plain values that move between the HTTP layer, the batcher and the
// backends. They own their bytes; nothing here knows about JSON or libtorch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

enum class DataType : uint8_t { kBool, kInt32, kInt64, kFp32, kFp64 };

// "BOOL", "INT32", "INT64", "FP32", "FP64" (the Open Inference Protocol names).
std::string_view DataTypeName(DataType t);
std::optional<DataType> ParseDataType(std::string_view name);
size_t DataTypeSize(DataType t);

// Number of elements of a shape; -1 entries are not allowed here.
int64_t ElementCount(std::span<const int64_t> shape);

std::string ShapeToString(std::span<const int64_t> shape);

struct Tensor {
  std::string name;
  DataType dtype = DataType::kFp32;
  std::vector<int64_t> shape;
  std::vector<std::byte> bytes;  // ElementCount(shape) * DataTypeSize(dtype) bytes

  static Tensor Make(std::string name, DataType dtype, std::vector<int64_t> shape) {
    Tensor t{std::move(name), dtype, std::move(shape), {}};
    t.bytes.resize(static_cast<size_t>(ElementCount(t.shape)) * DataTypeSize(dtype));
    return t;
  }

  int64_t elements() const { return ElementCount(shape); }

  template <typename T>
  T* data() {
    return reinterpret_cast<T*>(bytes.data());
  }
  template <typename T>
  const T* data() const {
    return reinterpret_cast<const T*>(bytes.data());
  }

  // Element i converted to double (for post-processing and JSON output).
  double AsDouble(size_t i) const;
};

}  // namespace vigil
