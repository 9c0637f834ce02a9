"""Alerts end to end: built-in rules from the model's slo: section fire on Vigil's own
signals (accuracy from delayed labels, load failures), show in /api/v1/alerts, the CLI
and ALERTS{...}, and resolve; custom rules come from a YAML file."""
import json
import subprocess

from conftest import IRIS_ROW, VIGIL_BIN, oip_body, wait_for

ALERT_ENV = {"VIGIL_ALERT_EVAL_INTERVAL": "50ms", "VIGIL_MONITOR_INTERVAL": "50ms"}


def fast_slo(repo):
    cfg = repo / "iris" / "config.yaml"
    cfg.write_text(cfg.read_text() + "slo: {accuracy_min: 0.9, window: 1m, for: 0s}\n")


def alerts(server, **query):
    q = "&".join(f"{k}={v}" for k, v in query.items())
    r = server.get("/api/v1/alerts" + (f"?{q}" if q else ""))
    assert r.status == 200, r
    return r.json()["alerts"]


def firing(server, name):
    return [a for a in alerts(server, state="firing") if a["name"] == name]


def test_accuracy_alert_fires_on_bad_labels_and_resolves_after_rollback(start_server):
    s = start_server(env=ALERT_ENV, models=("iris",), prepare=fast_slo)
    assert s.post("/api/v1/models/iris/promote", {"version": 2, "reason": "test"}).status == 200
    wrong = []
    for _ in range(30):
        body = s.post("/v1/predict", {"model": "iris", "instances": [IRIS_ROW]}).json()
        p = body["predictions"][0]
        other = "virginica" if p["label"] != "virginica" else "setosa"
        wrong.append({"prediction_id": p["prediction_id"], "label": other})
    assert s.post("/api/v1/feedback", {"feedback": wrong}).status == 200
    alert = wait_for(lambda: firing(s, "ModelAccuracyLow"), what="the accuracy alert")[0]
    assert alert["labels"] == {"alertname": "ModelAccuracyLow", "model": "iris", "version": "2",
                               "severity": "critical"}
    assert alert["condition"] == "accuracy < 0.9" and alert["value"] == 0
    assert alert["annotations"]["summary"] == "iris: accuracy below 90 %"
    assert s.metric("ALERTS", alertname="ModelAccuracyLow", alertstate="firing", model="iris") == 1
    out = subprocess.run([VIGIL_BIN, "alerts", "list", "--state", "firing", "--url",
                          f"http://127.0.0.1:{s.port}"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "ModelAccuracyLow" in out.stdout and "critical" in out.stdout

    # Roll back: production is version 1 again, which has no bad labels: the alert resolves.
    assert s.post("/api/v1/models/iris/rollback", {"reason": "accuracy"}).status == 200
    resolved = wait_for(lambda: [a for a in alerts(s, state="resolved")
                                 if a["name"] == "ModelAccuracyLow"], what="the resolution")[0]
    assert resolved["fingerprint"] == alert["fingerprint"]
    assert resolved["fired_at"] and resolved["resolved_at"]
    assert firing(s, "ModelAccuracyLow") == []
    assert s.metric("ALERTS", alertname="ModelAccuracyLow") is None


def test_custom_rules_file_and_load_failure(start_server, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("""
rules:
  - name: IrisBusy
    signal: request_rate
    model: iris
    window: 1m
    comparator: ">"
    threshold: 0
    severity: info
    labels: {team: ml-platform}
    annotations: {summary: "iris is serving", runbook_url: "https://runbooks.example/iris"}
""")

    def break_fraud(repo):
        (repo / "fraud" / "config.yaml").write_text("backend: xgboost\ninputs: nope\n")

    s = start_server(env=dict(ALERT_ENV, VIGIL_ALERT_RULES=str(rules)), prepare=break_fraud)
    load = wait_for(lambda: firing(s, "ModelLoadFailure"), what="the load-failure alert")[0]
    assert load["labels"]["model"] == "fraud" and load["labels"]["severity"] == "critical"
    for _ in range(5):
        assert s.post("/v2/models/iris/infer", oip_body([IRIS_ROW])).status == 200
    busy = wait_for(lambda: firing(s, "IrisBusy"), what="the custom rule")[0]
    assert busy["labels"]["team"] == "ml-platform" and busy["labels"]["severity"] == "info"
    assert busy["annotations"]["runbook_url"] == "https://runbooks.example/iris"
    assert busy["value"] > 0
    assert s.get("/api/v1/alerts?state=bogus").status == 400
    only_iris = alerts(s, model="iris")
    assert only_iris and all(a["labels"]["model"] == "iris" for a in only_iris)


def test_bad_rules_file_refuses_to_start(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {name: X, signal: accuracy, threshold: 1, severty: info}\n")
    out = subprocess.run([VIGIL_BIN, "serve", "--model-repository", str(tmp_path), "--port", "0",
                          "--data-dir", str(tmp_path / "data")],
                         env={"VIGIL_ALERT_RULES": str(rules), "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "rules[0].severty: unknown key (did you mean 'severity'?)" in out.stdout + out.stderr
