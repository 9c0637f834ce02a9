#include "http/json_codec.h"

#include <gtest/gtest.h>

#include <cmath>

namespace vigil::http {
namespace {

ModelConfig Iris() {
  ModelConfig c;
  c.name = "iris";
  c.backend = "torchscript";
  TensorSpec in;
  in.name = "input";
  in.shape = {-1, 4};
  in.features = {"sepal_length", "sepal_width", "petal_length", "petal_width"};
  c.inputs.push_back(in);
  TensorSpec out;
  out.name = "probabilities";
  out.shape = {-1, 3};
  out.labels = {"setosa", "versicolor", "virginica"};
  c.outputs.push_back(out);
  c.monitor.validation = ValidationMode::kOff;  // the codec alone refuses missing values
  return c;
}

Status ParseOip(std::string body, OipRequest& req, const ModelConfig& c = Iris()) {
  rapidjson::Document doc;
  VIGIL_RETURN_IF_ERROR(ParseJson(body, doc));
  return ParseOipInferRequest(doc, c, req);
}

std::string OipError(const std::string& body) {
  OipRequest req;
  Status st = ParseOip(body, req);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << body;
  return st.message();
}

}  // namespace

TEST(OipRequest, FlatAndNestedDataGiveTheSameTensor) {
  OipRequest flat, nested;
  ASSERT_TRUE(ParseOip(R"({"id":"r1","inputs":[{"name":"input","shape":[2,4],"datatype":"FP32",
      "data":[1,2,3,4,5,6,7,8]}]})",
                       flat)
                  .ok());
  ASSERT_TRUE(ParseOip(R"({"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32",
      "data":[[1,2,3,4],[5,6,7,8]]}]})",
                       nested)
                  .ok());
  EXPECT_EQ(flat.id, "r1");
  EXPECT_EQ(flat.data.rows, 2);
  EXPECT_EQ(flat.data.inputs[0].bytes, nested.data.inputs[0].bytes);
  EXPECT_EQ(flat.data.inputs[0].data<float>()[7], 8.0f);
}

TEST(OipRequest, AllDatatypesConvert) {
  ModelConfig c = Iris();
  const std::pair<DataType, const char*> cases[] = {
      {DataType::kFp64, R"("FP64","data":[1.5,2,3,4])"},
      {DataType::kInt32, R"("INT32","data":[1,-2,3,4])"},
      {DataType::kInt64, R"("INT64","data":[1,2,3,9007199254740993])"},
      {DataType::kBool, R"("BOOL","data":[true,false,true,true])"}};
  for (const auto& [dtype, tail] : cases) {
    c.inputs[0].dtype = dtype;
    OipRequest req;
    std::string body =
        std::string(R"({"inputs":[{"name":"input","shape":[1,4],"datatype":)") + tail + "}]}";
    Status st = ParseOip(body, req, c);
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(req.data.inputs[0].dtype, dtype);
  }
  c.inputs[0].dtype = DataType::kInt64;
  OipRequest req;
  ASSERT_TRUE(
      ParseOip(
          R"({"inputs":[{"name":"input","shape":[1,4],"datatype":"INT64","data":[1,2,3,9007199254740993]}]})",
          req, c)
          .ok());
  EXPECT_EQ(req.data.inputs[0].data<int64_t>()[3], 9007199254740993LL);
}

TEST(OipRequest, BadInputsNameTheProblem) {
  EXPECT_NE(OipError("{").find("malformed JSON"), std::string::npos);
  EXPECT_NE(OipError("").find("empty request body"), std::string::npos);
  EXPECT_NE(OipError("[1]").find("JSON object"), std::string::npos);
  EXPECT_NE(OipError(R"({"inputs":[]})").find("inputs: expected a non-empty array"),
            std::string::npos);
  EXPECT_NE(
      OipError(R"({"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]})")
          .find("unknown input 'x'"),
      std::string::npos);
  EXPECT_NE(
      OipError(R"({"inputs":[{"name":"input","shape":[1,4],"datatype":"INT32","data":[1,2,3,4]}]})")
          .find("input 'input' is FP32, got INT32"),
      std::string::npos);
  EXPECT_NE(
      OipError(
          R"({"inputs":[{"name":"input","shape":[1,5],"datatype":"FP32","data":[1,2,3,4,5]}]})")
          .find("does not match input 'input' shape [-1, 4]"),
      std::string::npos);
  EXPECT_NE(
      OipError(R"({"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[1,2,3,4]}]})")
          .find("has 4 elements, shape [2, 4] needs 8"),
      std::string::npos);
  EXPECT_NE(
      OipError(
          R"({"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4,5]}]})")
          .find("has 5 elements, shape [1, 4] needs 4"),
      std::string::npos);
  EXPECT_NE(
      OipError(
          R"({"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,"a",3,4]}]})")
          .find("inputs[0].data[1]: expected FP32 number, got string"),
      std::string::npos);
  EXPECT_NE(
      OipError(
          R"({"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,NaN,3,4]}]})")
          .find("NaN is not allowed"),
      std::string::npos);
  EXPECT_NE(
      OipError(R"({"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}],
      "outputs":[{"name":"nope"}]})")
          .find("unknown output 'nope'"),
      std::string::npos);
  EXPECT_NE(
      OipError(
          R"({"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]} trailing)")
          .find("malformed JSON"),
      std::string::npos);
}

TEST(OipRequest, HugeShapeOrDeepNestingIsRefusedBeforeAllocating) {
  // 2^31 rows of 4 floats would be 32 GiB: refused by counting the data first.
  EXPECT_NE(
      OipError(
          R"({"inputs":[{"name":"input","shape":[2147483648,4],"datatype":"FP32","data":[]}]})")
          .find("has 0 elements, shape [2147483648, 4] needs 8589934592"),
      std::string::npos);
  std::string deep = R"({"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":)" +
                     std::string(100000, '[') + std::string(100000, ']') + "}]}";
  OipRequest req;
  EXPECT_EQ(ParseOip(deep, req).code(), StatusCode::kInvalidArgument);  // no stack overflow
}

TEST(OipRequest, MissingInputOfMultiInputModel) {
  ModelConfig c = Iris();
  TensorSpec second = c.inputs[0];
  second.name = "extra";
  c.inputs.push_back(second);
  OipRequest req;
  Status st = ParseOip(
      R"({"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]})", req, c);
  EXPECT_NE(st.message().find("missing input 'extra' of model 'iris'"), std::string::npos);
}

TEST(OipResponse, WritesOutputsLabelAndPredictionId) {
  ModelConfig c = Iris();
  OipRequest req;
  req.id = "abc";
  Tensor probs = Tensor::Make("probabilities", DataType::kFp32, {1, 3});
  probs.data<float>()[0] = 0.1f;
  probs.data<float>()[1] = 0.7f;
  probs.data<float>()[2] = 0.2f;
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  WriteOipInferResponse(w, c, 2, req, {probs}, "pid");
  EXPECT_EQ(
      std::string(sb.GetString()),
      R"({"model_name":"iris","model_version":"2","id":"abc","parameters":{"prediction_id":"pid"},)"
      R"("outputs":[{"name":"probabilities","datatype":"FP32","shape":[1,3],"data":[0.1,0.7,0.2]},)"
      R"({"name":"label","datatype":"BYTES","shape":[1],"data":["versicolor"]}]})");
}

TEST(Instances, ArraysAndNamedFeatures) {
  ModelConfig c = Iris();
  rapidjson::Document doc;
  std::string body =
      R"({"a":[[5.1,3.5,1.4,0.2],{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}]})";
  ASSERT_TRUE(ParseJson(body, doc).ok());
  InferInputs in;
  ASSERT_TRUE(ParseInstances(doc["a"], c, in).ok());
  EXPECT_EQ(in.rows, 2);
  EXPECT_EQ(in.inputs[0].data<float>()[0], in.inputs[0].data<float>()[4]);
  EXPECT_EQ(in.inputs[0].data<float>()[3], in.inputs[0].data<float>()[7]);

  std::string missing = R"({"a":[{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4}]})";
  ASSERT_TRUE(ParseJson(missing, doc).ok());
  Status st = ParseInstances(doc["a"], c, in);
  EXPECT_NE(st.message().find("missing feature 'petal_width'"), std::string::npos);
  std::string unknown =
      R"({"a":[{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":1,"x":1}]})";
  ASSERT_TRUE(ParseJson(unknown, doc).ok());
  EXPECT_NE(ParseInstances(doc["a"], c, in).message().find("unknown feature 'x'"),
            std::string::npos);
  std::string short_row = R"({"a":[[1,2,3]]})";
  ASSERT_TRUE(ParseJson(short_row, doc).ok());
  EXPECT_NE(ParseInstances(doc["a"], c, in).message().find("has 3 values, model 'iris' expects 4"),
            std::string::npos);
}

TEST(PredictResponse, LabelsAndProbabilitiesPerRow) {
  ModelConfig c = Iris();
  Tensor probs = Tensor::Make("probabilities", DataType::kFp32, {1, 3});
  probs.data<float>()[0] = 0.9f;
  probs.data<float>()[1] = 0.05f;
  probs.data<float>()[2] = 0.05f;
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  WritePredictResponse(w, c, 1, {probs}, "p");
  EXPECT_EQ(
      std::string(sb.GetString()),
      R"({"model":"iris","version":"1","prediction_id":"p","predictions":[{"label":"setosa",)"
      R"("probabilities":{"setosa":0.9,"versicolor":0.05,"virginica":0.05},"prediction_id":"p:0"}]})");
}

TEST(OipRequest, MissingValuesBecomeNaNWhenValidationJudgesThem) {
  ModelConfig c = Iris();
  c.monitor.validation = ValidationMode::kFlag;
  OipRequest req;
  ASSERT_TRUE(ParseOip(R"({"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32",
      "data":[1,null,NaN,4]}]})",
                       req, c)
                  .ok());
  const float* d = req.data.inputs[0].data<float>();
  EXPECT_EQ(d[0], 1.0f);
  EXPECT_TRUE(std::isnan(d[1]));
  EXPECT_TRUE(std::isnan(d[2]));

  rapidjson::Document doc;
  std::string body = R"({"a":[{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4}]})";
  ASSERT_TRUE(ParseJson(body, doc).ok());
  InferInputs in;
  ASSERT_TRUE(ParseInstances(doc["a"], c, in).ok());
  EXPECT_TRUE(std::isnan(in.inputs[0].data<float>()[3]));
}

}  // namespace vigil::http
