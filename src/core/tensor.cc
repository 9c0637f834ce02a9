#include "core/tensor.h"

namespace vigil {

std::string_view DataTypeName(DataType t) {
  switch (t) {
    case DataType::kBool:
      return "BOOL";
    case DataType::kInt32:
      return "INT32";
    case DataType::kInt64:
      return "INT64";
    case DataType::kFp32:
      return "FP32";
    case DataType::kFp64:
      return "FP64";
  }
  return "UNKNOWN";
}

std::optional<DataType> ParseDataType(std::string_view name) {
  if (name == "BOOL") return DataType::kBool;
  if (name == "INT32") return DataType::kInt32;
  if (name == "INT64") return DataType::kInt64;
  if (name == "FP32") return DataType::kFp32;
  if (name == "FP64") return DataType::kFp64;
  return std::nullopt;
}

size_t DataTypeSize(DataType t) {
  switch (t) {
    case DataType::kBool:
      return 1;
    case DataType::kInt32:
      return 4;
    case DataType::kInt64:
      return 8;
    case DataType::kFp32:
      return 4;
    case DataType::kFp64:
      return 8;
  }
  return 0;
}

int64_t ElementCount(std::span<const int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string ShapeToString(std::span<const int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

double Tensor::AsDouble(size_t i) const {
  switch (dtype) {
    case DataType::kBool:
      return data<uint8_t>()[i] ? 1.0 : 0.0;
    case DataType::kInt32:
      return data<int32_t>()[i];
    case DataType::kInt64:
      return static_cast<double>(data<int64_t>()[i]);
    case DataType::kFp32:
      return data<float>()[i];
    case DataType::kFp64:
      return data<double>()[i];
  }
  return 0;
}

}  // namespace vigil
