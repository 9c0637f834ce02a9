"""Every endpoint of the serving core, on the example models."""
import math
import shutil
import subprocess


from conftest import IRIS_ROW, oip_body


def test_health_lists_models(server):
    r = server.get("/health")
    assert r.status == 200, r
    body = r.json()
    assert body["status"] == "healthy"
    assert sorted(body["models_loaded"]) == ["fraud", "iris"]
    assert "uptime_seconds" in body and "version" in body


def test_oip_server_endpoints(server):
    assert server.get("/v2/health/live").json() == {"live": True}
    assert server.get("/v2/health/ready").json() == {"ready": True}
    meta = server.get("/v2").json()
    assert meta["name"] == "vigil" and "model_repository" in meta["extensions"]


def test_model_metadata_and_ready(server):
    meta = server.get("/v2/models/iris").json()
    assert meta["name"] == "iris"
    assert meta["platform"] == "torchscript"
    assert sorted(meta["versions"]) == ["1", "2"]
    assert meta["inputs"][0] == {"name": "input", "datatype": "FP32", "shape": [-1, 4],
                                 "features": ["sepal_length", "sepal_width", "petal_length",
                                              "petal_width"]}
    assert meta["outputs"][0]["labels"] == ["setosa", "versicolor", "virginica"]
    assert server.get("/v2/models/iris/versions/2").json()["name"] == "iris"
    assert server.get("/v2/models/iris/ready").json() == {"name": "iris", "ready": True}
    assert server.get("/v2/models/iris/versions/2/ready").status == 200
    assert server.get("/v2/models/fraud").json()["platform"] == "xgboost"


def test_oip_infer_flat_nested_id_and_label(server):
    flat = server.post("/v2/models/iris/infer",
                       {"id": "req-1", "inputs": [{"name": "input", "shape": [1, 4],
                                                   "datatype": "FP32", "data": IRIS_ROW}]})
    assert flat.status == 200, flat
    body = flat.json()
    assert body["id"] == "req-1"
    assert body["model_name"] == "iris" and body["model_version"] == "1"
    assert len(body["parameters"]["prediction_id"]) == 32
    assert flat.headers["x-prediction-id"] == body["parameters"]["prediction_id"]
    outputs = {o["name"]: o for o in body["outputs"]}
    probs = outputs["probabilities"]
    assert probs["shape"] == [1, 3] and probs["datatype"] == "FP32"
    assert math.isclose(sum(probs["data"]), 1.0, rel_tol=1e-5)
    assert outputs["label"]["data"] == ["setosa"]
    nested = server.post("/v2/models/iris/infer", oip_body([IRIS_ROW]))
    assert nested.json()["outputs"][0]["data"] == probs["data"]


def test_oip_infer_version_and_output_selection(server):
    rows = [IRIS_ROW, [6.7, 3.0, 5.2, 2.3]]
    r = server.post("/v2/models/iris/versions/2/infer",
                    oip_body(rows, outputs=[{"name": "label"}], parameters={"timeout_ms": 5000}))
    assert r.status == 200, r
    body = r.json()
    assert body["model_version"] == "2"
    assert [o["name"] for o in body["outputs"]] == ["label"]
    assert body["outputs"][0]["data"] == ["setosa", "virginica"]
    r = server.post("/v2/models/iris/infer", oip_body(rows, outputs=[{"name": "probabilities"}]))
    assert [o["name"] for o in r.json()["outputs"]] == ["probabilities"]


def test_fraud_xgboost_infer(server):
    r = server.post("/v2/models/fraud/infer",
                    oip_body([[0.0] * 30, [1.0] * 30], name="features"))
    assert r.status == 200, r
    probs = r.json()["outputs"][0]
    assert probs["shape"] == [2, 2]
    assert math.isclose(probs["data"][0] + probs["data"][1], 1.0, rel_tol=1e-6)


def test_v1_predict_arrays_and_named_features(server):
    r = server.post("/v1/predict", {"model": "iris", "instances": [IRIS_ROW]})
    assert r.status == 200, r
    body = r.json()
    assert body["model"] == "iris" and body["version"] == "1"
    pred = body["predictions"][0]
    assert pred["label"] == "setosa"
    assert set(pred["probabilities"]) == {"setosa", "versicolor", "virginica"}
    assert pred["prediction_id"].endswith(":0")
    named = server.post("/v1/predict", {"model": "iris", "version": 2, "instances": [
        {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}]})
    assert named.status == 200, named
    assert named.json()["version"] == "2"
    assert named.json()["predictions"][0]["label"] == "setosa"


def test_health_detailed_and_models_status(server):
    for path in ("/health/detailed", "/models/status"):
        body = server.get(path).json()
        models = {m["name"]: m for m in body["models"]}
        iris = models["iris"]
        assert iris["state"] == "READY" and iris["default_version"] == "1"
        v = {x["version"]: x for x in iris["versions"]}
        assert v["1"]["state"] == "READY" and v["1"]["load_time_seconds"] > 0
        assert v["1"]["queue_depth"] == 0 and "loaded_at" in v["1"]
        assert iris["last_error"] is None


def test_repository_index_load_unload(server):
    index = server.post("/v2/repository/index").json()
    assert {"name": "iris", "version": "2", "state": "READY", "reason": ""} in index
    assert server.post("/v2/repository/models/iris/unload").status == 200
    r = server.post("/v2/models/iris/infer", oip_body([IRIS_ROW]))
    assert r.status == 503 and "unloaded" in r.json()["error"]
    assert "iris" not in server.get("/health").json()["models_loaded"]
    assert server.post("/v2/repository/models/iris/load").status == 200
    assert server.post("/v2/models/iris/infer", oip_body([IRIS_ROW])).status == 200
    assert server.post("/v2/repository/models/nope/load").status == 404


def test_v1_load_unload_runbook_endpoints(server):
    r = server.post("/v1/models/fraud/load?model_format=xgboost")
    assert r.status == 200, r
    body = r.json()
    assert body["model"] == "fraud" and body["format"] == "xgboost"
    assert body["status"] == "loaded" and body["load_time_seconds"] >= 0
    wrong = server.post("/v1/models/fraud/load?model_format=torchscript")
    assert wrong.status == 400 and "xgboost" in wrong.json()["error"]
    assert server.post("/v1/models/fraud/load?model_format=tensorrt").status == 400
    assert server.post("/v1/models/fraud/unload").json()["status"] == "unloaded"
    assert "fraud" not in server.get("/health").json()["models_loaded"]
    assert server.post("/v1/models/fraud/load?model_format=xgboost").status == 200
    assert "fraud" in server.get("/health").json()["models_loaded"]


def test_metrics_names_labels_and_promtool(server, tmp_path):
    server.post("/v2/models/iris/infer", oip_body([IRIS_ROW]))
    server.post("/v1/predict", {"model": "iris", "instances": [IRIS_ROW]})
    server.post("/v2/models/iris/infer", "{bad json")
    text = server.get("/metrics").text
    assert server.metric("ml_inference_total", model="iris", version="1", status="success") == 2
    assert server.metric("ml_inference_total", model="iris", version="1", status="error") == 1
    assert server.metric("ml_inference_errors_total", model="iris", category="validation") == 1
    assert server.metric("model_serving_requests_total", model="iris", code="200") == 2
    assert server.metric("model_serving_requests_total", model="iris", code="400") == 1
    for name in ("model_serving_request_duration_seconds_bucket", "model_serving_batch_size_bucket",
                 "ml_inference_latency_seconds_bucket", "ml_model_loading_duration_seconds_bucket",
                 "model_serving_queue_size"):
        assert name in text, name
    assert 'le="0.2"' in text and 'le="0.0005"' in text
    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian package prometheus) must be installed"
    check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_environment_label(start_server):
    s = start_server(env={"VIGIL_ENVIRONMENT": "production"}, models=("iris",))
    s.post("/v2/models/iris/infer", oip_body([IRIS_ROW]))
    assert s.metric("ml_inference_total", model="iris", status="success",
                    environment="production") == 1


def test_json_logs_carry_trace_id(server):
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    r = server.post("/v2/models/iris/infer", oip_body([IRIS_ROW]),
                    headers={"traceparent": f"00-{trace}-00f067aa0ba902b7-01"})
    assert r.headers["x-trace-id"] == trace
    import json as _json

    def logged():
        for line in server.logs().splitlines():
            rec = _json.loads(line)
            if rec.get("trace_id") == trace:
                return rec
        return None

    # Logs are flushed at least every 200 ms; poll for the line.
    from conftest import wait_for
    rec = wait_for(logged, timeout=10, what="the access log line")
    assert rec["level"] == "info" and rec["model"] == "iris" and rec["version"] == "1"
    assert rec["status"] == 200 and rec["latency_ms"] >= 0
