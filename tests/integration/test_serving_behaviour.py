"""Concurrency, batching, overload, deadlines, reload without restart, SIGTERM drain, bad configs."""
import shutil
import signal
import threading
import concurrent.futures

from conftest import IRIS_ROW, oip_body, wait_for

SLOW_QUEUE_CONFIG = """backend: torchscript
inputs:
  - {name: input, dtype: FP32, shape: [-1, 4]}
outputs:
  - {name: probabilities, dtype: FP32, shape: [-1, 3], labels: [setosa, versicolor, virginica]}
batching: {max_batch_size: 64, max_queue_delay_ms: %d, max_queue_size: %d}
"""


def test_200_concurrent_clients_all_answered_correctly(server):
    # Each client sends its own row; the answer must be the label of that row.
    rows = {"setosa": [5.1, 3.5, 1.4, 0.2], "virginica": [6.7, 3.0, 5.2, 2.3]}
    barrier = threading.Barrier(200)

    def client(i):
        label = "setosa" if i % 2 == 0 else "virginica"
        barrier.wait(timeout=60)
        r = server.post("/v2/models/iris/versions/2/infer",
                        oip_body([rows[label]], id=f"c{i}"))
        body = r.json()
        return r.status, body.get("id"), body["outputs"][1]["data"][0], label

    with concurrent.futures.ThreadPoolExecutor(max_workers=200) as pool:
        results = list(pool.map(client, range(200)))
    for i, (status, rid, got, want) in enumerate(results):
        assert status == 200
        assert rid == f"c{i}"
        assert got == want
    # Every row went through the batcher exactly once (how they were grouped depends on
    # timing; the grouping itself is tested deterministically in the unit tests).
    assert server.metric("model_serving_batch_size_sum", model="iris", version="2") == 200
    assert server.metric("model_serving_batch_size_count", model="iris", version="2") <= 200


def test_queue_full_answers_503_with_retry_after(start_server):
    def prepare(repo):
        (repo / "iris" / "config.yaml").write_text(SLOW_QUEUE_CONFIG % (60000, 2))

    s = start_server(models=("iris",), prepare=prepare)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        waiting = [pool.submit(s.post, "/v2/models/iris/infer", oip_body([IRIS_ROW]))
                   for _ in range(2)]
        wait_for(lambda: s.metric("model_serving_queue_size", model="iris") == 2,
                 what="two queued requests")
        r = s.post("/v2/models/iris/infer", oip_body([IRIS_ROW]))
        assert r.status == 503, r
        assert r.headers["retry-after"] == "1"
        assert "queue full" in r.json()["error"]
        assert s.metric("ml_inference_errors_total", model="iris", category="overload") == 1
        # SIGTERM drains the two queued requests: they are answered, not dropped.
        assert s.stop() == 0
        assert [f.result().status for f in waiting] == [200, 200]


def test_deadline_passed_in_queue_answers_504(start_server):
    def prepare(repo):
        (repo / "iris" / "config.yaml").write_text(SLOW_QUEUE_CONFIG % (60000, 10))

    s = start_server(models=("iris",), prepare=prepare)
    r = s.post("/v2/models/iris/infer", oip_body([IRIS_ROW], parameters={"timeout_ms": 50}))
    assert r.status == 504, r
    assert "deadline" in r.json()["error"]
    assert s.metric("ml_inference_errors_total", model="iris", category="timeout") == 1


def test_sigterm_finishes_in_flight_requests_and_exits_0(start_server):
    def prepare(repo):
        (repo / "iris" / "config.yaml").write_text(SLOW_QUEUE_CONFIG % (60000, 100))

    s = start_server(models=("iris",), prepare=prepare)
    with concurrent.futures.ThreadPoolExecutor(max_workers=5) as pool:
        futures = [pool.submit(s.post, "/v2/models/iris/infer", oip_body([IRIS_ROW], id=str(i)))
                   for i in range(5)]
        wait_for(lambda: s.metric("model_serving_queue_size", model="iris") == 5,
                 what="five in-flight requests")
        s.proc.send_signal(signal.SIGTERM)
        results = [f.result() for f in futures]
    assert [r.status for r in results] == [200] * 5
    assert sorted(r.json()["id"] for r in results) == ["0", "1", "2", "3", "4"]
    assert s.proc.wait(timeout=60) == 0
    assert "shutting down" in s.logs()


def test_reload_picks_up_new_version_without_restart(server):
    shutil.copytree(server.repo / "iris" / "2", server.repo / "iris" / "3")
    assert server.post("/v2/models/iris/versions/3/infer", oip_body([IRIS_ROW])).status == 404
    r = server.post("/models/reload")
    assert r.status == 200, r
    assert "iris:3" in r.json()["loaded"]
    r = server.post("/v2/models/iris/versions/3/infer", oip_body([IRIS_ROW]))
    assert r.status == 200 and r.json()["model_version"] == "3"
    # Unversioned traffic stays on the production version (DESIGN §9.1).
    assert server.post("/v2/models/iris/infer", oip_body([IRIS_ROW])).json()["model_version"] == "1"


def test_bad_config_is_refused_and_other_models_load(start_server):
    def prepare(repo):
        shutil.copytree(repo / "iris", repo / "broken")
        (repo / "broken" / "config.yaml").write_text(
            (repo / "iris" / "config.yaml").read_text().replace("dtype: FP32", "dtype: FLOAT", 1))

    s = start_server(prepare=prepare)
    health = s.get("/health").json()
    assert health["status"] == "degraded"
    assert sorted(health["models_loaded"]) == ["fraud", "iris"]
    detailed = {m["name"]: m for m in s.get("/health/detailed").json()["models"]}
    err = detailed["broken"]["last_error"]
    assert "broken/config.yaml: inputs[0].dtype: expected one of BOOL, INT32, INT64, FP32, FP64, got 'FLOAT'" in err
    r = s.post("/v2/models/broken/infer", oip_body([IRIS_ROW]))
    assert r.status == 503 and "not ready" in r.json()["error"]


def test_corrupt_version_fails_and_production_keeps_serving(start_server):
    def prepare(repo):
        (repo / "iris" / "2" / "model.pt").write_bytes(b"truncated")

    s = start_server(models=("iris",), prepare=prepare)
    detailed = s.get("/health/detailed").json()["models"][0]
    versions = {v["version"]: v for v in detailed["versions"]}
    assert versions["2"]["state"] == "FAILED"
    assert "not a loadable TorchScript model" in versions["2"]["last_error"]
    assert s.post("/v2/models/iris/infer", oip_body([IRIS_ROW])).status == 200
    assert s.post("/v2/models/iris/versions/2/infer", oip_body([IRIS_ROW])).status == 503
    assert s.metric("ml_model_load_failures_total", model="iris", version="2") == 1


def test_failing_smoke_test_keeps_version_out_of_traffic(start_server):
    def prepare(repo):
        cfg = repo / "iris" / "config.yaml"
        cfg.write_text(cfg.read_text().replace(
            "{input: [6.7, 3.0, 5.2, 2.3], expect_label: virginica}",
            "{input: [6.7, 3.0, 5.2, 2.3], expect_label: versicolor}"))

    s = start_server(models=("iris",), prepare=prepare)
    model = s.get("/health/detailed").json()["models"][0]
    assert model["state"] == "FAILED"
    errors = [v["last_error"] for v in model["versions"]]
    assert all("smoke test 2 failed: expected label 'versicolor', got 'virginica'" in e
               for e in errors), errors
    r = s.post("/v2/models/iris/infer", oip_body([IRIS_ROW]))
    assert r.status == 503


def test_batching_environment_defaults(start_server):
    def prepare(repo):
        cfg = (repo / "iris" / "config.yaml").read_text()
        (repo / "iris" / "config.yaml").write_text(
            "\n".join(l for l in cfg.splitlines() if not l.startswith("batching")) + "\n")

    s = start_server(env={"MAX_BATCH_SIZE": "2", "BATCH_TIMEOUT_MS": "0"}, models=("iris",),
                     prepare=prepare)
    r = s.post("/v2/models/iris/infer", oip_body([IRIS_ROW] * 5))
    assert r.status == 200
    # One request of 5 rows runs alone even above MAX_BATCH_SIZE.
    assert s.metric("model_serving_batch_size_bucket", model="iris", le="4") == 0
    assert s.metric("model_serving_batch_size_bucket", model="iris", le="8") == 1
