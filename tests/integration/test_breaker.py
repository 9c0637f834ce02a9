"""Circuit breaker per model version and fallback (runbook 000: 5 failures, 30 s, 3 calls)."""
import os
import subprocess

from conftest import IRIS_ROW, oip_body

FLAKY_CONFIG = """backend: torchscript
inputs:
  - {name: input, dtype: FP32, shape: [-1, 4]}
outputs:
  - {name: probabilities, dtype: FP32, shape: [-1, 3], labels: [setosa, versicolor, virginica]}
circuit_breaker: {failure_threshold: 2, recovery_timeout: 1h, half_open_max_calls: 1}
fallback: iris:1
"""


def prepare_flaky(repo):
    (repo / "flaky" / "1").mkdir(parents=True)
    (repo / "flaky" / "config.yaml").write_text(FLAKY_CONFIG)
    script = os.path.join(os.path.dirname(__file__), "make_flaky_model.py")
    subprocess.run(["/usr/bin/python3", script, str(repo / "flaky" / "1" / "model.pt")],
                   check=True, timeout=120)


def breaker_state(server, model):
    models = {m["name"]: m for m in server.get("/models/status").json()["models"]}
    return models[model]["versions"][0]["circuit_breaker"]


def test_breaker_opens_on_backend_failures_and_fallback_answers(start_server):
    s = start_server(models=("iris",), prepare=prepare_flaky)
    assert breaker_state(s, "flaky") == "closed"
    # Client mistakes do not trip the breaker.
    for _ in range(5):
        assert s.post("/v2/models/flaky/infer", oip_body([[1, 2, 3]])).status == 400
    assert breaker_state(s, "flaky") == "closed"
    assert s.post("/v2/models/flaky/infer", oip_body([IRIS_ROW])).status == 200
    # Two backend failures in a row open it.
    for _ in range(2):
        r = s.post("/v2/models/flaky/infer", oip_body([[1000, 1, 1, 1]]))
        assert r.status == 500 and "boom" in r.json()["error"], r
    assert breaker_state(s, "flaky") == "open"
    assert s.metric("ml_circuit_breaker_state", model="flaky", version="1") == 1
    assert s.metric("ml_inference_errors_total", model="flaky", category="backend") == 2
    # While open, the fallback answers and says so.
    r = s.post("/v2/models/flaky/infer", oip_body([IRIS_ROW]))
    assert r.status == 200, r
    assert r.headers["x-vigil-fallback"] == "iris:1"
    body = r.json()
    assert body["model_name"] == "iris" and body["model_version"] == "1"
    fb = body["parameters"]["fallback"]
    assert fb["model"] == "iris" and fb["version"] == "1"
    assert "circuit breaker open for flaky:1" in fb["reason"]
    r = s.post("/v1/predict", {"model": "flaky", "instances": [IRIS_ROW]})
    assert r.status == 200 and r.json()["fallback"]["model"] == "iris"
    assert r.json()["predictions"][0]["label"] == "setosa"


def test_fallback_answers_while_model_is_unloaded(start_server):
    s = start_server(models=("iris",), prepare=prepare_flaky)
    assert s.post("/v1/models/flaky/unload").status == 200
    r = s.post("/v2/models/flaky/infer", oip_body([IRIS_ROW]))
    assert r.status == 200, r
    assert r.headers["x-vigil-fallback"] == "iris:1"
    assert "unloaded" in r.json()["parameters"]["fallback"]["reason"]


def test_no_fallback_means_503_naming_the_breaker(start_server):
    def prepare(repo):
        prepare_flaky(repo)
        cfg = repo / "flaky" / "config.yaml"
        cfg.write_text(cfg.read_text().replace("fallback: iris:1\n", ""))

    s = start_server(models=("iris",), prepare=prepare)
    for _ in range(2):
        s.post("/v2/models/flaky/infer", oip_body([[1000, 1, 1, 1]]))
    r = s.post("/v2/models/flaky/infer", oip_body([IRIS_ROW]))
    assert r.status == 503 and r.headers["retry-after"] == "1"
    assert "circuit breaker open for flaky:1; no fallback configured" in r.json()["error"]
