#include "http/json_codec.h"

#include <rapidjson/error/en.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace vigil::http {
namespace {

const char* JsonTypeName(const rapidjson::Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return "boolean";
  if (v.IsString()) return "string";
  if (v.IsArray()) return "array";
  if (v.IsObject()) return "object";
  if (v.IsInt64() || v.IsUint64()) return "integer";
  return "number";
}

Status IntegerError(const std::string& where, DataType t, const rapidjson::Value& v) {
  const bool integral = v.IsInt64() || v.IsUint64();
  return InvalidArgument(where + ": expected " + std::string(DataTypeName(t)) + " integer, got " +
                         (integral ? "an out-of-range integer"
                                   : (v.IsNumber() ? "a non-integer number" : JsonTypeName(v))));
}

// Writes one JSON element into slot `i` of a tensor of type `t`.
// `missing_ok`: null and NaN are stored as NaN (a missing value) for the model's input
// validation to judge, instead of being refused here.
Status StoreElement(const rapidjson::Value& v, DataType t, std::byte* base, size_t i,
                    const std::string& where, bool missing_ok) {
  switch (t) {
    case DataType::kFp32:
    case DataType::kFp64: {
      if (missing_ok && (v.IsNull() || (v.IsNumber() && std::isnan(v.GetDouble())))) {
        if (t == DataType::kFp32) {
          reinterpret_cast<float*>(base)[i] = std::numeric_limits<float>::quiet_NaN();
        } else {
          reinterpret_cast<double*>(base)[i] = std::numeric_limits<double>::quiet_NaN();
        }
        return Status::Ok();
      }
      if (!v.IsNumber()) {
        return InvalidArgument(where + ": expected " + std::string(DataTypeName(t)) +
                               " number, got " + JsonTypeName(v));
      }
      double d = v.GetDouble();
      if (!std::isfinite(d)) {
        return InvalidArgument(where + ": " + (std::isnan(d) ? "NaN" : "Infinity") +
                               " is not allowed");
      }
      if (t == DataType::kFp32) {
        if (std::fabs(d) > std::numeric_limits<float>::max()) {
          return InvalidArgument(where + ": " + std::to_string(d) + " is out of FP32 range");
        }
        reinterpret_cast<float*>(base)[i] = static_cast<float>(d);
      } else {
        reinterpret_cast<double*>(base)[i] = d;
      }
      return Status::Ok();
    }
    case DataType::kInt32:
      if (!v.IsInt()) return IntegerError(where, t, v);
      reinterpret_cast<int32_t*>(base)[i] = v.GetInt();
      return Status::Ok();
    case DataType::kInt64:
      if (!v.IsInt64()) return IntegerError(where, t, v);
      reinterpret_cast<int64_t*>(base)[i] = v.GetInt64();
      return Status::Ok();
    case DataType::kBool:
      if (!v.IsBool()) {
        return InvalidArgument(where + ": expected BOOL (true/false), got " +
                               std::string(JsonTypeName(v)));
      }
      reinterpret_cast<uint8_t*>(base)[i] = v.GetBool() ? 1 : 0;
      return Status::Ok();
  }
  return Internal("unknown dtype");
}

// Missing values (null, NaN, an absent named feature) reach the model only when its input
// validation is on to count or refuse them.
bool MissingAllowed(const ModelConfig& c) {
  return c.monitor.enabled && c.monitor.validation != ValidationMode::kOff;
}

// Flattens nested arrays of `data` into the tensor, counting elements.
Status Flatten(const rapidjson::Value& data, Tensor& t, size_t capacity, size_t& count,
               const std::string& where, int depth, bool missing_ok) {
  if (depth > 32) return InvalidArgument(where + ": nested too deeply");
  for (rapidjson::SizeType i = 0; i < data.Size(); ++i) {
    const rapidjson::Value& e = data[i];
    if (e.IsArray()) {
      VIGIL_RETURN_IF_ERROR(Flatten(e, t, capacity, count, where, depth + 1, missing_ok));
      continue;
    }
    if (count >= capacity) {
      return InvalidArgument(where + ": has more elements than shape " + ShapeToString(t.shape) +
                             " holds (" + std::to_string(capacity) + ")");
    }
    VIGIL_RETURN_IF_ERROR(StoreElement(e, t.dtype, t.bytes.data(), count,
                                       where + "[" + std::to_string(count) + "]", missing_ok));
    ++count;
  }
  return Status::Ok();
}

// Leaf elements of (nested) `data`, counted before any tensor is allocated, so a small
// request cannot make the server allocate what its shape claims.
size_t CountElements(const rapidjson::Value& data, int depth) {
  if (!data.IsArray()) return 1;
  if (depth > 32) return 0;
  size_t n = 0;
  for (const auto& e : data.GetArray()) n += CountElements(e, depth + 1);
  return n;
}

Status ParseShape(const rapidjson::Value& v, const std::string& where, std::vector<int64_t>& out) {
  if (!v.IsArray() || v.Empty()) {
    return InvalidArgument(where + ": expected a non-empty array of integers");
  }
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    if (!v[i].IsInt64() || v[i].GetInt64() < 0 || v[i].GetInt64() > (1LL << 31)) {
      return InvalidArgument(where + "[" + std::to_string(i) +
                             "]: expected a non-negative integer");
    }
    out.push_back(v[i].GetInt64());
  }
  return Status::Ok();
}

std::string Names(const std::vector<TensorSpec>& specs) {
  std::string s;
  for (const auto& spec : specs) s += (s.empty() ? "" : ", ") + spec.name;
  return s;
}

// Element i of a numeric tensor, FP32 printed at float precision.
void WriteElement(JsonWriter& w, const Tensor& t, size_t i) {
  if (t.dtype == DataType::kFp32) {
    WriteFloat(w, t.data<float>()[i]);
  } else {
    WriteDouble(w, t.AsDouble(i));
  }
}

void WriteTensorData(JsonWriter& w, const Tensor& t) {
  w.StartArray();
  const size_t n = static_cast<size_t>(t.elements());
  switch (t.dtype) {
    case DataType::kFp32:
      for (size_t i = 0; i < n; ++i) WriteFloat(w, t.data<float>()[i]);
      break;
    case DataType::kFp64:
      for (size_t i = 0; i < n; ++i) WriteDouble(w, t.data<double>()[i]);
      break;
    case DataType::kInt32:
      for (size_t i = 0; i < n; ++i) w.Int(t.data<int32_t>()[i]);
      break;
    case DataType::kInt64:
      for (size_t i = 0; i < n; ++i) w.Int64(t.data<int64_t>()[i]);
      break;
    case DataType::kBool:
      for (size_t i = 0; i < n; ++i) w.Bool(t.data<uint8_t>()[i] != 0);
      break;
  }
  w.EndArray();
}

}  // namespace

Status ParseJson(std::string& body, rapidjson::Document& doc) {
  VIGIL_RETURN_IF_ERROR(ParseJsonValue(body, doc));
  if (!doc.IsObject()) return InvalidArgument("expected a JSON object at the top level");
  return Status::Ok();
}

Status ParseJsonValue(std::string& body, rapidjson::Document& doc) {
  if (body.empty()) return InvalidArgument("empty request body (expected JSON)");
  // Iterative parsing: a deeply nested body cannot exhaust the I/O thread's stack.
  doc.ParseInsitu<rapidjson::kParseNanAndInfFlag | rapidjson::kParseIterativeFlag>(body.data());
  if (doc.HasParseError()) {
    return InvalidArgument(std::string("malformed JSON at offset ") +
                           std::to_string(doc.GetErrorOffset()) + ": " +
                           rapidjson::GetParseError_En(doc.GetParseError()));
  }
  return Status::Ok();
}

void WriteFloat(JsonWriter& w, float v) {
  if (!std::isfinite(v)) {
    w.Null();
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  w.RawValue(buf, static_cast<size_t>(end - buf), rapidjson::kNumberType);
}

void WriteDouble(JsonWriter& w, double v) {
  if (!std::isfinite(v)) {
    w.Null();
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  w.RawValue(buf, static_cast<size_t>(end - buf), rapidjson::kNumberType);
}

size_t ArgMaxRow(const Tensor& t, int64_t row, int64_t n) {
  size_t best = 0;
  double best_v = t.AsDouble(static_cast<size_t>(row * n));
  for (int64_t j = 1; j < n; ++j) {
    double v = t.AsDouble(static_cast<size_t>(row * n + j));
    if (v > best_v) {
      best_v = v;
      best = static_cast<size_t>(j);
    }
  }
  return best;
}

Status ParseOipInferRequest(const rapidjson::Value& doc, const ModelConfig& config,
                            OipRequest& out) {
  if (doc.HasMember("id")) {
    const auto& id = doc["id"];
    if (!id.IsString()) return InvalidArgument("id: expected a string");
    out.id = std::string(id.GetString(), id.GetStringLength());
  }
  if (doc.HasMember("parameters")) {
    const auto& p = doc["parameters"];
    if (!p.IsObject()) return InvalidArgument("parameters: expected an object");
    if (p.HasMember("timeout_ms")) {
      if (!p["timeout_ms"].IsInt64() || p["timeout_ms"].GetInt64() <= 0 ||
          p["timeout_ms"].GetInt64() > 3'600'000) {
        return InvalidArgument(
            "parameters.timeout_ms: expected a positive integer of milliseconds, at most 3600000");
      }
      out.timeout_ms = p["timeout_ms"].GetInt64();
    }
  }
  auto it = doc.FindMember("inputs");
  if (it == doc.MemberEnd() || !it->value.IsArray() || it->value.Empty()) {
    return InvalidArgument("inputs: expected a non-empty array of tensors (model '" + config.name +
                           "' has inputs: " + Names(config.inputs) + ")");
  }
  const auto& inputs = it->value;
  out.data.inputs.clear();
  out.data.inputs.resize(config.inputs.size());
  std::vector<bool> seen(config.inputs.size(), false);
  int64_t rows = -1;
  for (rapidjson::SizeType k = 0; k < inputs.Size(); ++k) {
    const std::string where = "inputs[" + std::to_string(k) + "]";
    const auto& in = inputs[k];
    if (!in.IsObject()) return InvalidArgument(where + ": expected an object");
    if (!in.HasMember("name") || !in["name"].IsString()) {
      return InvalidArgument(where + ".name: expected a string");
    }
    const std::string name = in["name"].GetString();
    size_t idx = config.inputs.size();
    for (size_t j = 0; j < config.inputs.size(); ++j) {
      if (config.inputs[j].name == name) idx = j;
    }
    if (idx == config.inputs.size()) {
      return InvalidArgument(where + ".name: unknown input '" + name + "' (model '" + config.name +
                             "' has inputs: " + Names(config.inputs) + ")");
    }
    if (seen[idx]) return InvalidArgument(where + ".name: input '" + name + "' given twice");
    seen[idx] = true;
    const TensorSpec& spec = config.inputs[idx];
    if (!in.HasMember("datatype") || !in["datatype"].IsString()) {
      return InvalidArgument(where + ".datatype: expected a string such as \"" +
                             std::string(DataTypeName(spec.dtype)) + "\"");
    }
    const std::string dt = in["datatype"].GetString();
    auto dtype = ParseDataType(dt);
    if (!dtype) {
      return InvalidArgument(where + ".datatype: unsupported datatype '" + dt +
                             "' (expected BOOL, INT32, INT64, FP32 or FP64)");
    }
    if (*dtype != spec.dtype) {
      return InvalidArgument(where + ".datatype: input '" + name + "' is " +
                             std::string(DataTypeName(spec.dtype)) + ", got " + dt);
    }
    if (!in.HasMember("shape")) return InvalidArgument(where + ".shape: missing");
    std::vector<int64_t> shape;
    VIGIL_RETURN_IF_ERROR(ParseShape(in["shape"], where + ".shape", shape));
    // A single row may be sent without its batch dimension ([4] for [-1, 4]).
    if (shape.size() + 1 == spec.shape.size()) shape.insert(shape.begin(), 1);
    bool shape_ok = shape.size() == spec.shape.size() && shape[0] >= 1;
    for (size_t d = 1; shape_ok && d < shape.size(); ++d) shape_ok = shape[d] == spec.shape[d];
    if (!shape_ok) {
      return InvalidArgument(where + ".shape: " + ShapeToString(shape) + " does not match input '" +
                             name + "' shape " + ShapeToString(spec.shape) +
                             " (-1 = any batch size >= 1)");
    }
    if (rows >= 0 && shape[0] != rows) {
      return InvalidArgument(where + ".shape: batch size " + std::to_string(shape[0]) +
                             " differs from the other inputs' " + std::to_string(rows));
    }
    rows = shape[0];
    if (!in.HasMember("data") || !in["data"].IsArray()) {
      return InvalidArgument(where + ".data: expected an array (flat or nested)");
    }
    const size_t given = CountElements(in["data"], 0);
    const size_t wanted = static_cast<size_t>(shape[0]) * static_cast<size_t>(spec.row_elements());
    if (given != wanted) {
      return InvalidArgument(where + ".data: has " + std::to_string(given) + " elements, shape " +
                             ShapeToString(shape) + " needs " + std::to_string(wanted));
    }
    Tensor t = Tensor::Make(name, spec.dtype, shape);
    const size_t capacity = static_cast<size_t>(t.elements());
    size_t count = 0;
    VIGIL_RETURN_IF_ERROR(
        Flatten(in["data"], t, capacity, count, where + ".data", 0, MissingAllowed(config)));
    if (count != capacity) {
      return InvalidArgument(where + ".data: has " + std::to_string(count) + " elements, shape " +
                             ShapeToString(shape) + " needs " + std::to_string(capacity));
    }
    out.data.inputs[idx] = std::move(t);
  }
  for (size_t j = 0; j < seen.size(); ++j) {
    if (!seen[j]) {
      return InvalidArgument("inputs: missing input '" + config.inputs[j].name + "' of model '" +
                             config.name + "'");
    }
  }
  out.data.rows = rows;

  if (doc.HasMember("outputs")) {
    const auto& outs = doc["outputs"];
    if (!outs.IsArray()) return InvalidArgument("outputs: expected an array of {\"name\": ...}");
    for (rapidjson::SizeType k = 0; k < outs.Size(); ++k) {
      const std::string where = "outputs[" + std::to_string(k) + "]";
      if (!outs[k].IsObject() || !outs[k].HasMember("name") || !outs[k]["name"].IsString()) {
        return InvalidArgument(where + ".name: expected a string");
      }
      const std::string name = outs[k]["name"].GetString();
      if (name == "label") {
        out.label_requested = true;
        continue;
      }
      size_t idx = config.outputs.size();
      for (size_t j = 0; j < config.outputs.size(); ++j) {
        if (config.outputs[j].name == name) idx = j;
      }
      if (idx == config.outputs.size()) {
        return InvalidArgument(where + ".name: unknown output '" + name + "' (model '" +
                               config.name + "' has outputs: " + Names(config.outputs) +
                               (config.outputs[0].labels.empty() ? "" : ", label") + ")");
      }
      out.outputs.push_back(idx);
    }
    if (out.outputs.empty() && !out.label_requested) {
      return InvalidArgument("outputs: empty selection (omit the field for all outputs)");
    }
  }
  return Status::Ok();
}

static void WriteFallback(JsonWriter& w, const FallbackInfo& f) {
  w.Key("fallback");
  w.StartObject();
  w.Key("model");
  w.String(f.model.c_str());
  w.Key("version");
  w.String(std::to_string(f.version).c_str());
  w.Key("reason");
  w.String(f.reason.c_str());
  w.EndObject();
}

void WriteOipInferResponse(JsonWriter& w, const ModelConfig& config, int64_t version,
                           const OipRequest& req, const std::vector<Tensor>& outputs,
                           std::string_view prediction_id, const FallbackInfo* fallback) {
  w.StartObject();
  w.Key("model_name");
  w.String(config.name.data(), static_cast<rapidjson::SizeType>(config.name.size()));
  w.Key("model_version");
  const std::string v = std::to_string(version);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  if (req.id) {
    w.Key("id");
    w.String(req.id->data(), static_cast<rapidjson::SizeType>(req.id->size()));
  }
  w.Key("parameters");
  w.StartObject();
  w.Key("prediction_id");
  w.String(prediction_id.data(), static_cast<rapidjson::SizeType>(prediction_id.size()));
  if (fallback) WriteFallback(w, *fallback);
  w.EndObject();
  w.Key("outputs");
  w.StartArray();
  const bool all = req.outputs.empty() && !req.label_requested;
  for (size_t o = 0; o < outputs.size(); ++o) {
    bool selected = all;
    for (size_t s : req.outputs) selected = selected || s == o;
    if (!selected) continue;
    const Tensor& t = outputs[o];
    w.StartObject();
    w.Key("name");
    w.String(config.outputs[o].name.c_str());
    w.Key("datatype");
    w.String(DataTypeName(t.dtype).data());
    w.Key("shape");
    w.StartArray();
    for (int64_t d : t.shape) w.Int64(d);
    w.EndArray();
    w.Key("data");
    WriteTensorData(w, t);
    w.EndObject();
  }
  // Classifiers: the label of the most probable class, per row.
  const TensorSpec& first = config.outputs[0];
  if (!first.labels.empty() && (all || req.label_requested)) {
    const Tensor& t = outputs[0];
    const int64_t n = static_cast<int64_t>(first.labels.size());
    w.StartObject();
    w.Key("name");
    w.String("label");
    w.Key("datatype");
    w.String("BYTES");
    w.Key("shape");
    w.StartArray();
    w.Int64(t.shape[0]);
    w.EndArray();
    w.Key("data");
    w.StartArray();
    for (int64_t r = 0; r < t.shape[0]; ++r) w.String(first.labels[ArgMaxRow(t, r, n)].c_str());
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

Status ParseInstances(const rapidjson::Value& instances, const ModelConfig& config,
                      InferInputs& out) {
  if (config.inputs.size() != 1) {
    return InvalidArgument("model '" + config.name + "' has " +
                           std::to_string(config.inputs.size()) +
                           " inputs; use the Open Inference Protocol endpoint "
                           "/v2/models/" +
                           config.name + "/infer");
  }
  const TensorSpec& spec = config.inputs[0];
  if (!instances.IsArray() || instances.Empty()) {
    return InvalidArgument("instances: expected a non-empty array of rows");
  }
  const int64_t rows = instances.Size();
  const int64_t per_row = spec.row_elements();
  std::vector<int64_t> shape = spec.shape;
  shape[0] = rows;
  Tensor t = Tensor::Make(spec.name, spec.dtype, std::move(shape));
  for (rapidjson::SizeType r = 0; r < instances.Size(); ++r) {
    const std::string where = "instances[" + std::to_string(r) + "]";
    const auto& row = instances[r];
    if (row.IsObject()) {
      if (spec.features.empty()) {
        return InvalidArgument(where + ": model '" + config.name +
                               "' declares no feature names; send rows as arrays");
      }
      for (auto m = row.MemberBegin(); m != row.MemberEnd(); ++m) {
        std::string_view key(m->name.GetString(), m->name.GetStringLength());
        bool known = false;
        for (const auto& f : spec.features) known = known || f == key;
        if (!known) {
          return InvalidArgument(where + ": unknown feature '" + std::string(key) + "'");
        }
      }
      for (size_t f = 0; f < spec.features.size(); ++f) {
        auto it = row.FindMember(spec.features[f].c_str());
        if (it == row.MemberEnd()) {
          if (!MissingAllowed(config)) {
            return InvalidArgument(where + ": missing feature '" + spec.features[f] + "'");
          }
          static const rapidjson::Value kNull;
          VIGIL_RETURN_IF_ERROR(StoreElement(kNull, spec.dtype, t.bytes.data(),
                                             static_cast<size_t>(r * per_row) + f,
                                             where + "." + spec.features[f], true));
          continue;
        }
        VIGIL_RETURN_IF_ERROR(StoreElement(it->value, spec.dtype, t.bytes.data(),
                                           static_cast<size_t>(r * per_row) + f,
                                           where + "." + spec.features[f], MissingAllowed(config)));
      }
      continue;
    }
    if (!row.IsArray()) {
      return InvalidArgument(where + ": expected an array of " + std::to_string(per_row) +
                             " values or an object of named features");
    }
    Tensor row_t = Tensor::Make(spec.name, spec.dtype, {per_row});
    size_t count = 0;
    VIGIL_RETURN_IF_ERROR(
        Flatten(row, row_t, static_cast<size_t>(per_row), count, where, 0, MissingAllowed(config)));
    if (static_cast<int64_t>(count) != per_row) {
      return InvalidArgument(where + ": has " + std::to_string(count) + " values, model '" +
                             config.name + "' expects " + std::to_string(per_row) +
                             (spec.features.empty() ? "" : " (" + [&] {
                               std::string s;
                               for (const auto& f : spec.features) s += (s.empty() ? "" : ", ") + f;
                               return s;
                             }() + ")"));
    }
    std::memcpy(t.bytes.data() + static_cast<size_t>(r) * row_t.bytes.size(), row_t.bytes.data(),
                row_t.bytes.size());
  }
  out.inputs.clear();
  out.inputs.push_back(std::move(t));
  out.rows = rows;
  return Status::Ok();
}

void WritePredictResponse(JsonWriter& w, const ModelConfig& config, int64_t version,
                          const std::vector<Tensor>& outputs, std::string_view prediction_id,
                          const FallbackInfo* fallback) {
  const TensorSpec& spec = config.outputs[0];
  const Tensor& t = outputs[0];
  const int64_t rows = t.shape[0];
  const int64_t per_row = rows > 0 ? t.elements() / rows : 0;
  w.StartObject();
  w.Key("model");
  w.String(config.name.c_str());
  w.Key("version");
  w.String(std::to_string(version).c_str());
  w.Key("prediction_id");
  w.String(prediction_id.data(), static_cast<rapidjson::SizeType>(prediction_id.size()));
  if (fallback) WriteFallback(w, *fallback);
  w.Key("predictions");
  w.StartArray();
  for (int64_t r = 0; r < rows; ++r) {
    w.StartObject();
    if (!spec.labels.empty()) {
      w.Key("label");
      w.String(spec.labels[ArgMaxRow(t, r, per_row)].c_str());
      w.Key("probabilities");
      w.StartObject();
      for (int64_t j = 0; j < per_row; ++j) {
        w.Key(spec.labels[static_cast<size_t>(j)].c_str());
        WriteElement(w, t, static_cast<size_t>(r * per_row + j));
      }
      w.EndObject();
    } else {
      w.Key("value");
      if (per_row == 1) {
        WriteElement(w, t, static_cast<size_t>(r));
      } else {
        w.StartArray();
        for (int64_t j = 0; j < per_row; ++j)
          WriteElement(w, t, static_cast<size_t>(r * per_row + j));
        w.EndArray();
      }
    }
    const std::string pid = std::string(prediction_id) + ":" + std::to_string(r);
    w.Key("prediction_id");
    w.String(pid.c_str());
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

}  // namespace vigil::http
