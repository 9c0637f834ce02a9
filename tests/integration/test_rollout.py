"""Canary rollouts: a share of unversioned traffic to a candidate, sticky per routing key,
persisted, with promote / abort / pause / resume."""
import json
import subprocess

from conftest import IRIS_ROW, VIGIL_BIN, oip_body


def version_for(server, key=None):
    headers = {"X-Vigil-Routing-Key": key} if key else {}
    r = server.post("/v2/models/iris/infer", oip_body([IRIS_ROW]), headers=headers)
    assert r.status == 200, r
    return r.json()["model_version"]


def test_canary_split_is_sticky_per_key_and_persisted(start_server):
    s = start_server(models=("iris",))
    r = s.post("/api/v1/rollouts", {"model": "iris", "version": 2, "percent": 50})
    assert r.status == 201, r
    body = r.json()
    assert body["strategy"] == "canary" and body["percent"] == 50 and body["state"] == "running"
    # The same key always lands on the same variant; over many keys both variants serve.
    chosen = {f"user-{i}": version_for(s, f"user-{i}") for i in range(200)}
    for key, v in list(chosen.items())[:50]:
        assert version_for(s, key) == v
    share = sum(v == "2" for v in chosen.values()) / len(chosen)
    assert 0.3 < share < 0.7, share  # FNV-1a buckets of 200 fixed keys: deterministic
    assert s.metric("ml_rollout_traffic_percent", model="iris", version="2") == 50
    status = s.get("/api/v1/rollouts/iris").json()
    variants = {v["role"]: v for v in status["variants"]}
    assert variants["production"]["version"] == "1" and variants["candidate"]["version"] == "2"
    assert variants["candidate"]["success"] > 0
    # Restart: the rollout is still there and routes the same keys the same way.
    assert s.stop() == 0
    s2 = start_server(repo=s.repo, data_dir=s.data_dir)
    for key, v in list(chosen.items())[:20]:
        assert version_for(s2, key) == v


def test_pause_resume_abort_and_promote(start_server):
    s = start_server(models=("iris",))
    assert s.post("/api/v1/rollouts", {"model": "iris", "version": 2, "percent": 100}).status == 201
    assert version_for(s, "k") == "2"
    assert s.post("/api/v1/rollouts/iris/pause").json()["state"] == "paused"
    assert version_for(s, "k") == "1"
    assert s.metric("ml_rollout_traffic_percent", model="iris", version="2") == 0
    assert s.post("/api/v1/rollouts/iris/resume").json()["state"] == "running"
    assert version_for(s, "k") == "2"
    r = s.post("/api/v1/rollouts/iris/abort", {"reason": "p95 up"})
    assert r.status == 200 and r.json()["rollout"] is None
    assert version_for(s, "k") == "1"
    assert s.get("/api/v1/rollouts/iris").status == 404
    assert s.post("/api/v1/rollouts/iris/promote").status == 503  # no rollout
    assert s.post("/api/v1/rollouts", {"model": "iris", "version": 2, "percent": 10}).status == 201
    r = s.post("/api/v1/rollouts/iris/promote")
    assert r.status == 200 and r.json()["production"] == "2"
    assert version_for(s) == "2"
    actions = [h["action"] for h in s.get("/api/v1/models/iris/history").json()["history"]]
    assert actions[:7] == ["promote", "rollout end", "rollout start", "rollout abort",
                           "rollout resume", "rollout pause", "rollout start"]


def test_rollout_bad_requests(server):
    cases = [
        ({"version": 2, "percent": 5}, 400, "model"),
        ({"model": "iris", "percent": 5}, 400, "version: required"),
        ({"model": "iris", "version": 2}, 400, "percent"),
        ({"model": "iris", "version": 2, "percent": 150}, 400, "percent"),
        ({"model": "iris", "version": 2, "percent": 5, "strategy": "blue-green"}, 400,
         "strategy: expected canary, shadow, gradual or ab"),
        ({"model": "iris", "version": 1, "percent": 5}, 409, "already production"),
        ({"model": "iris", "version": 9, "percent": 5}, 404, "no version 9"),
        ({"model": "ghost", "version": 2, "percent": 5}, 404, "unknown model"),
        ({"model": "iris", "version": 2, "strategy": "gradual", "steps": [50, 20]}, 400,
         "steps: expected increasing percentages"),
        ({"model": "iris", "version": 2, "strategy": "gradual", "hold": "soon"}, 400, "hold"),
    ]
    for body, status, needle in cases:
        r = server.post("/api/v1/rollouts", body)
        assert r.status == status, (body, r)
        assert needle in r.json()["error"], (body, r)
    assert server.post("/api/v1/rollouts/iris/explode").status == 404


def test_cli_rollout(server):
    url = f"http://127.0.0.1:{server.port}"

    def cli(*args):
        return subprocess.run([VIGIL_BIN, "rollout", *args, "--url", url], capture_output=True,
                              text=True, timeout=60)

    r = cli("start", "iris", "2", "--percent", "25", "--reason", "try the MLP")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["percent"] == 25
    assert json.loads(cli("status").stdout)["rollouts"][0]["model"] == "iris"
    assert cli("pause", "iris").returncode == 0
    assert json.loads(cli("promote", "iris").stdout)["production"] == "2"
    assert cli("start", "iris", "1", "--percent", "500").returncode == 2


def test_shadow_sees_copies_never_answers_and_records_agreement(start_server):
    from conftest import wait_for
    s = start_server(models=("iris",))
    r = s.post("/api/v1/rollouts", {"model": "iris", "version": 2, "percent": 100,
                                    "strategy": "shadow"})
    assert r.status == 201, r
    assert r.json()["shadow"] == {"agree": 0, "disagree": 0, "error": 0, "agreement": None}
    rows = [IRIS_ROW, [6.7, 3.0, 5.2, 2.3]]
    for i in range(20):
        r = s.post("/v2/models/iris/infer", oip_body([rows[i % 2]]))
        assert r.status == 200 and r.json()["model_version"] == "1"  # production answers
    # Requests naming a version are not mirrored.
    assert s.post("/v2/models/iris/versions/1/infer", oip_body([IRIS_ROW])).status == 200

    def compared():
        agree = s.metric("ml_shadow_predictions_total", model="iris", version="2", result="agree")
        disagree = s.metric("ml_shadow_predictions_total", model="iris", version="2",
                            result="disagree")
        return (agree or 0) + (disagree or 0) == 20

    wait_for(compared, timeout=30, what="20 shadow comparisons")
    shadow = s.get("/api/v1/rollouts/iris").json()["shadow"]
    assert shadow["agree"] + shadow["disagree"] == 20 and shadow["error"] == 0
    assert shadow["agreement"] == 1.0  # v1 and v2 agree on these two flowers
    assert s.metric("ml_shadow_latency_seconds_count", model="iris", version="2") == 20
    # A shadow rollout can be promoted like a canary.
    assert s.post("/api/v1/rollouts/iris/promote").json()["production"] == "2"


def drive_until(server, path, body, done, what, limit=20000):
    """Sends requests until done() holds (bounded): gradual steps advance on traffic."""
    for i in range(limit):
        server.post(path, body)
        if i % 10 == 0 and done():
            return
    raise AssertionError(f"gave up after {limit} requests waiting for {what}")


GRADUAL_ENV = {"VIGIL_ROLLOUT_EVAL_INTERVAL": "20ms"}


def test_gradual_rollout_steps_through_and_promotes(start_server):
    s = start_server(models=("iris",), env=GRADUAL_ENV)
    r = s.post("/api/v1/rollouts", {"model": "iris", "version": 2, "strategy": "gradual",
                                    "steps": [30, 60], "hold": "100ms", "min_requests": 5})
    assert r.status == 201, r
    body = r.json()
    assert body["step"] == 1 and body["steps"] == [30, 60, 100] and body["percent"] == 30
    assert s.metric("ml_rollout_step", model="iris", version="2") == 1
    drive_until(s, "/v2/models/iris/infer", oip_body([IRIS_ROW]),
                lambda: s.get("/api/v1/rollouts/iris").status == 404, "the promotion")
    assert version_for(s) == "2"
    history = s.get("/api/v1/models/iris/history").json()["history"]
    actions = [h["action"] for h in history]
    assert actions[:5] == ["promote", "rollout end", "rollout step", "rollout step",
                           "rollout start"], actions
    assert history[0]["actor"] == "vigil" and "passed every step" in history[0]["reason"]


def prepare_flaky_pair(repo):
    """flaky:1 = iris v1's model; flaky:2 raises on inputs above 100 and otherwise answers
    softmax of the first three features (so it disagrees with v1 on most flowers)."""
    import os
    import shutil
    (repo / "flaky" / "1").mkdir(parents=True)
    (repo / "flaky" / "2").mkdir(parents=True)
    shutil.copy(repo / "iris" / "1" / "model.pt", repo / "flaky" / "1" / "model.pt")
    from test_breaker import FLAKY_CONFIG
    (repo / "flaky" / "config.yaml").write_text(
        FLAKY_CONFIG.replace("fallback: iris:1\n", "production_version: 1\nversions: all\n"))
    script = os.path.join(os.path.dirname(__file__), "make_flaky_model.py")
    subprocess.run(["/usr/bin/python3", script, str(repo / "flaky" / "2" / "model.pt")],
                   check=True, timeout=120)


def test_gradual_rollout_breaching_a_guardrail_rolls_back(start_server):
    s = start_server(models=("iris",), env=GRADUAL_ENV, prepare=prepare_flaky_pair)
    r = s.post("/api/v1/rollouts", {"model": "flaky", "version": 2, "strategy": "gradual",
                                    "steps": [50], "hold": "1h", "min_requests": 5})
    assert r.status == 201, r
    drive_until(s, "/v2/models/flaky/infer", oip_body([[1000, 1, 1, 1]]),
                lambda: s.get("/api/v1/rollouts/flaky").status == 404, "the guardrail")
    history = s.get("/api/v1/models/flaky/history").json()["history"]
    assert history[0]["action"] == "rollout abort" and history[0]["actor"] == "vigil"
    assert "guardrail: error rate" in history[0]["reason"]
    assert s.metric("ml_rollback_total", model="flaky") == 1
    # Production never moved, and all traffic is back on it.
    for _ in range(10):
        r = s.post("/v2/models/flaky/infer", oip_body([[1000, 1, 1, 1]]))
        assert r.status == 200 and r.json()["model_version"] == "1"


def test_gradual_rollout_disagreement_guardrail(start_server):
    s = start_server(models=("iris",), env=GRADUAL_ENV, prepare=prepare_flaky_pair)
    r = s.post("/api/v1/rollouts", {"model": "flaky", "version": 2, "strategy": "gradual",
                                    "steps": [50], "hold": "1h", "min_requests": 5,
                                    "max_disagreement": 0.2})
    assert r.status == 201 and r.json()["guardrails"]["max_disagreement"] == 0.2, r
    # v1 calls this flower setosa; v2 answers versicolor: every compared row disagrees.
    drive_until(s, "/v2/models/flaky/infer", oip_body([[1, 9, 1, 0.1]]),
                lambda: s.get("/api/v1/rollouts/flaky").status == 404, "the guardrail")
    history = s.get("/api/v1/models/flaky/history").json()["history"]
    assert history[0]["action"] == "rollout abort"
    assert "guardrail: disagreement with production" in history[0]["reason"], history[0]


def test_gradual_rollout_accuracy_guardrail_uses_delayed_labels(start_server):
    s = start_server(models=("iris",), env=GRADUAL_ENV)
    r = s.post("/api/v1/rollouts", {"model": "iris", "version": 2, "strategy": "gradual",
                                    "steps": [50], "hold": "1h", "min_requests": 5,
                                    "max_disagreement": 1, "min_labels": 5,
                                    "max_accuracy_drop": 0.1})
    assert r.status == 201, r
    assert r.json()["guardrails"]["min_labels"] == 5
    # Labels arrive: production's answers turn out right, the candidate's wrong.
    for i in range(2000):
        r = s.post("/v2/models/iris/infer", oip_body([IRIS_ROW]))
        assert r.status == 200, r
        body = r.json()
        pid = body["parameters"]["prediction_id"]
        label = "setosa" if body["model_version"] == "1" else "virginica"
        assert s.post("/api/v1/feedback", {"prediction_id": pid, "label": label}).status == 200
        if i % 10 == 0 and s.get("/api/v1/rollouts/iris").status == 404:
            break
    else:
        raise AssertionError("the accuracy guardrail never fired")
    history = s.get("/api/v1/models/iris/history").json()["history"]
    assert history[0]["action"] == "rollout abort" and history[0]["actor"] == "vigil"
    assert "guardrail: accuracy 0.0000 < production 1.0000 - 0.1000" in history[0]["reason"], \
        history[0]


def test_ab_test_fixed_split_with_per_variant_metrics(server):
    r = server.post("/api/v1/rollouts", {"model": "iris", "version": 2, "percent": 50,
                                         "strategy": "ab"})
    assert r.status == 201, r
    seen = {version_for(server, f"visitor-{i}") for i in range(60)}
    assert seen == {"1", "2"}
    a = server.metric("ml_ab_requests_total", model="iris", variant="A", version="1",
                      status="success")
    b = server.metric("ml_ab_requests_total", model="iris", variant="B", version="2",
                      status="success")
    assert a + b == 60 and a > 0 and b > 0
    assert server.metric("ml_ab_latency_seconds_count", model="iris", variant="B") == b
    # Requests naming a version are outside the test.
    server.post("/v2/models/iris/versions/1/infer", oip_body([IRIS_ROW]))
    assert server.metric("ml_ab_requests_total", model="iris", variant="A") == a
    assert server.post("/api/v1/rollouts/iris/abort").status == 200
