// Conversion between JSON bodies and tensors: Open Inference Protocol v2 infer
// requests/responses and the runbooks' /v1/predict format.
//
// Parsing validates everything against the model's config and returns
// InvalidArgument naming the offending field ("inputs[0].data[5]: expected FP32 number,
// got string"); nothing here throws.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "serving/model_config.h"

namespace vigil::http {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// Parses `body` (modified in place). NaN/Infinity literals are accepted by the parser
// so validation can name them.
Status ParseJson(std::string& body, rapidjson::Document& doc);
// Like ParseJson, but any top-level value (an array) is accepted.
Status ParseJsonValue(std::string& body, rapidjson::Document& doc);

struct InferInputs {
  std::vector<Tensor> inputs;  // declared order
  int64_t rows = 0;
};

// Set when a fallback model answered instead of the requested one (DESIGN §9.3).
struct FallbackInfo {
  std::string model;
  int64_t version = 0;
  std::string reason;
};

struct OipRequest {
  std::optional<std::string> id;
  InferInputs data;
  std::vector<size_t> outputs;        // selected output indices; empty = all
  bool label_requested = false;       // "label" named in outputs
  std::optional<int64_t> timeout_ms;  // parameters.timeout_ms
};

Status ParseOipInferRequest(const rapidjson::Value& doc, const ModelConfig& config,
                            OipRequest& out);

// `config`/`version`: the model that answered; `fallback` (nullable): why it was not the
// requested one.
void WriteOipInferResponse(JsonWriter& w, const ModelConfig& config, int64_t version,
                           const OipRequest& req, const std::vector<Tensor>& outputs,
                           std::string_view prediction_id, const FallbackInfo* fallback = nullptr);

// /v1/predict "instances": rows as arrays ([[5.1, 3.5, 1.4, 0.2]]) or as objects keyed
// by feature name ([{"sepal_length": 5.1, ...}]). Models with exactly one input only.
Status ParseInstances(const rapidjson::Value& instances, const ModelConfig& config,
                      InferInputs& out);

void WritePredictResponse(JsonWriter& w, const ModelConfig& config, int64_t version,
                          const std::vector<Tensor>& outputs, std::string_view prediction_id,
                          const FallbackInfo* fallback = nullptr);

// Shortest round-trip text of a float/double (so 0.1f prints as 0.1).
void WriteFloat(JsonWriter& w, float v);
void WriteDouble(JsonWriter& w, double v);

// Index of the largest of `n` values of row `row` of a [rows, n] tensor.
size_t ArgMaxRow(const Tensor& t, int64_t row, int64_t n);

}  // namespace vigil::http
