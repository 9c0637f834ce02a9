"""Monitoring end to end: input validation, drift against the reference profile, delayed
labels and accuracy, training/serving skew, and the offline CLI (profile build, drift
--reference/--current checked against SciPy)."""
import csv
import json
import os
import random
import statistics
import subprocess

from scipy import stats as scipy_stats

from conftest import EXAMPLES, VIGIL_BIN, oip_body, wait_for

MONITOR_ENV = {"VIGIL_MONITOR_INTERVAL": "50ms"}


def fraud_rows():
    with open(os.path.join(EXAMPLES, "fraud", "train.csv")) as f:
        rows = list(csv.DictReader(f))
    features = [k for k in rows[0] if k != "label"]
    return rows, features


def predict(server, model, instances):
    r = server.post("/v1/predict", {"model": model, "instances": instances})
    assert r.status == 200, r
    return r.json()


def test_fraud_drift_is_detected_on_the_shifted_features_only(start_server):
    server = start_server(env=MONITOR_ENV, models=("fraud",))
    rows, features = fraud_rows()
    rng = random.Random(7)
    sample = rng.sample(rows, 2000)
    for i in range(0, len(sample), 50):
        predict(server, "fraud", [[float(r[f]) for f in features] for r in sample[i:i + 50]])
    d = server.get("/api/v1/models/fraud/drift?window=1h").json()
    assert d["rows"] == 2000
    assert d["evaluated_features"] == 30
    assert [f["feature"] for f in d["features"] if f["drifted"]] == []
    assert d["dataset_drift"] is False
    assert d["prediction"]["evaluated"] and not d["prediction"]["drifted"]

    shifted = {"amount", "merchant_risk"}
    sd = {f: statistics.pstdev(float(r[f]) for r in rows) for f in shifted}
    for i in range(0, len(sample), 50):
        predict(server, "fraud", [[float(r[f]) + (1.5 * sd[f] if f in shifted else 0.0)
                                   for f in features] for r in sample[i:i + 50]])
    d = server.get("/api/v1/models/fraud/drift?window=1h").json()
    drifted = {f["feature"] for f in d["features"] if f["drifted"]}
    assert drifted == shifted, d
    for f in d["features"]:
        assert f["method"] == "wasserstein" and f["score_kind"] == "distance"
    # The gauges follow on the monitor's own schedule.
    wait_for(lambda: server.metric("ml_feature_drift_detected", model="fraud",
                                   feature="amount") == 1, what="the drift gauge")
    assert server.metric("ml_feature_drift_detected", model="fraud", feature="hour_of_day") == 0
    assert server.metric("ml_feature_drift_score", model="fraud", feature="amount",
                         method="wasserstein") > 0.1
    share = server.metric("ml_dataset_drift_share", model="fraud", version="1")
    assert abs(share - 2 / 30) < 1e-9

    # The CLI prints the same verdicts as a table.
    out = subprocess.run([VIGIL_BIN, "drift", "fraud", "--window", "1h", "--url",
                          f"http://127.0.0.1:{server.port}"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    lines = {l.split()[0]: l for l in out.stdout.splitlines() if l and l.split()[0] in features}
    assert "DRIFT" in lines["amount"] and "DRIFT" in lines["merchant_risk"]
    assert "DRIFT" not in lines["hour_of_day"]


def test_small_windows_use_statistical_tests(start_server):
    server = start_server(env=MONITOR_ENV, models=("iris",))
    with open(os.path.join(EXAMPLES, "iris", "train.csv")) as f:
        rows = [[float(x) for x in r[:4]] for r in csv.reader(f) if r[0] != "sepal_length"]
    predict(server, "iris", rows[:100])
    d = server.get("/api/v1/models/iris/drift").json()
    assert {f["method"] for f in d["features"]} == {"ks"}
    assert all(f["score_kind"] == "p_value" for f in d["features"])
    assert d["prediction"]["method"] == "chisquare"
    assert d["correction"] == "bh"


def test_accuracy_from_delayed_labels_follows_the_truth(start_server):
    server = start_server(env=MONITOR_ENV, models=("iris",))
    with open(os.path.join(EXAMPLES, "iris", "train.csv")) as f:
        data = [(list(map(float, r[:4])), r[4]) for r in csv.reader(f) if r[0] != "sepal_length"]
    served = []
    for x, truth in data:
        body = predict(server, "iris", [x])
        served.append((body["predictions"][0]["prediction_id"], truth,
                       body["predictions"][0]["label"]))
    # Labels arrive later, in batches: the true labels (iris v1 is ~95 % right).
    r = server.post("/api/v1/feedback",
                    {"feedback": [{"prediction_id": p, "label": t} for p, t, _ in served]})
    assert r.status == 200, r
    assert r.json() == {"accepted": 150, "versions": {"iris:1": 150}}
    before = server.metric("ml_model_accuracy", model="iris", version="1")
    assert before >= 0.9
    perf = server.get("/api/v1/models/iris/performance").json()
    assert perf["labelled"] == 150 and abs(perf["accuracy"] - before) < 1e-12
    assert sum(map(sum, perf["confusion_matrix"]["matrix"])) == 150

    # Then the world changes: new traffic whose labels disagree with the model.
    wrong = []
    for x, truth in data[:100]:
        body = predict(server, "iris", [x])
        label = body["predictions"][0]["label"]
        other = "virginica" if label != "virginica" else "setosa"
        wrong.append({"prediction_id": body["predictions"][0]["prediction_id"], "label": other})
    assert server.post("/api/v1/feedback", {"feedback": wrong}).status == 200
    after = server.metric("ml_model_accuracy", model="iris", version="1")
    assert after <= 0.8
    assert server.get("/api/v1/models/iris/performance").json()["labelled"] == 250

    # A restart keeps the labels: accuracy is rebuilt from the store.
    server.stop()
    again = start_server(env=MONITOR_ENV, repo=server.repo, data_dir=server.data_dir)
    perf = again.get("/api/v1/models/iris/performance").json()
    assert perf["labelled"] == 250 and abs(perf["accuracy"] - after) < 1e-12


def test_feedback_errors_name_the_bad_items_and_store_nothing(server):
    body = predict(server, "iris", [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]])
    pid = body["prediction_id"]
    r = server.post("/api/v1/feedback", {"feedback": [
        {"prediction_id": pid, "label": "setosa"}, {"prediction_id": "nope", "label": "setosa"}]})
    assert r.status == 404 and "unknown prediction_id 'nope'" in r.json()["error"]
    r = server.post("/api/v1/feedback", {"prediction_id": f"{pid}:1", "label": "rose"})
    assert r.status == 400 and "'rose' is not one of iris's labels" in r.json()["error"]
    for bad, msg in [({"label": "setosa"}, "prediction_id: missing"),
                     ({"prediction_id": pid}, "label: missing"),
                     ({"prediction_id": pid, "label": [1]}, "label: expected"),
                     ({"id": "x", "row": -1, "label": "setosa"}, "row: expected"),
                     ({"feedback": []}, "feedback: expected a non-empty array")]:
        r = server.post("/api/v1/feedback", bad)
        assert r.status == 400 and msg in r.json()["error"], (bad, r)
    assert server.get("/api/v1/models/iris/performance").json()["labelled"] == 0
    # By the client's request id and row, and by class index.
    r = server.post("/v2/models/iris/infer", oip_body([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]],
                                                      id="order-17"))
    assert r.status == 200
    r = server.post("/api/v1/feedback", {"feedback": [{"id": "order-17", "row": 1, "label": 2},
                                                      {"prediction_id": pid, "label": "setosa"}]})
    assert r.status == 200 and r.json()["accepted"] == 2
    perf = server.get("/api/v1/models/iris/performance").json()
    assert perf["labelled"] == 2
    # A label sent again corrects its row: still two labelled rows.
    wrong_first = perf["accuracy"]
    r = server.post("/api/v1/feedback", {"prediction_id": pid, "label": "virginica"})
    assert r.status == 200
    perf = server.get("/api/v1/models/iris/performance").json()
    assert perf["labelled"] == 2 and perf["accuracy"] == wrong_first - 0.5
    for path in ("/api/v1/models/nope/drift", "/api/v1/models/nope/performance"):
        assert server.get(path).status == 404
    assert server.get("/api/v1/models/iris/drift?window=soon").status == 400
    assert server.get("/api/v1/models/iris/quality?version=x").status == 400


def test_validation_flag_counts_and_reject_refuses(start_server):
    def reject_mode(repo):
        cfg = repo / "iris" / "config.yaml"
        cfg.write_text(cfg.read_text() + "monitor: {validation: reject}\n")

    flag = start_server(models=("iris",))
    assert flag.post("/v1/predict", {"model": "iris", "instances": [[9.5, 3.0, 5.0, 1.0]]}).status == 200
    assert flag.metric("ml_input_validation_errors_total", model="iris", feature="sepal_length",
                       reason="out_of_range") == 1
    q = flag.get("/api/v1/models/iris/quality").json()
    assert q["validation"] == "flag"
    by = {f["feature"]: f for f in q["features"]}
    assert by["sepal_length"]["out_of_range"] == 1 and by["sepal_width"]["out_of_range"] == 0
    # A missing value cannot be served, in either mode.
    r = flag.post("/v1/predict", {"model": "iris", "instances": [[5.1, None, 1.4, 0.2]]})
    assert r.status == 400 and "feature 'sepal_width': value is missing" in r.json()["error"]
    assert flag.metric("ml_input_validation_errors_total", model="iris", feature="sepal_width",
                       reason="missing") == 1
    r = flag.post("/v2/models/iris/infer", oip_body([[5.1, 3.5, 1.4]]))
    assert r.status == 400
    assert flag.metric("ml_input_validation_errors_total", model="iris", feature="_request",
                       reason="schema") == 1

    strict = start_server(models=("iris",), prepare=reject_mode)
    r = strict.post("/v2/models/iris/infer", oip_body([[5.1, 3.5, 1.4, 0.2], [5.0, 9.0, 1.4, 0.2]]))
    assert r.status == 400
    assert "row 1, feature 'sepal_width': 9 is out of range [2, 4.5] (out_of_range)" in r.json()["error"]
    assert strict.post("/v2/models/iris/infer", oip_body([[5.1, 3.5, 1.4, 0.2]])).status == 200
    assert strict.metric("ml_inference_errors_total", model="iris", category="validation") == 1


def test_skew_compares_offline_features_with_what_was_served(server, tmp_path):
    rows, features = fraud_rows()
    sent = rows[:20]
    ids = []
    for r in sent:
        ids.append(predict(server, "fraud", [[float(r[f]) for f in features]])["prediction_id"])
    offline = tmp_path / "offline.csv"
    with open(offline, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["prediction_id"] + features)
        for i, (pid, r) in enumerate(zip(ids, sent)):
            values = [float(r[f]) for f in features]
            if i < 5:
                values[features.index("txn_count_24h")] += 1.0  # the offline pipeline differs
            w.writerow([pid] + values)
    out = subprocess.run([VIGIL_BIN, "skew", "fraud", "--data", str(offline), "--json", "--url",
                          f"http://127.0.0.1:{server.port}"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["matched"] == 20 and report["unknown"] == 0
    by = {f["feature"]: f for f in report["features"]}
    assert by["txn_count_24h"]["mismatches"] == 5
    assert abs(by["txn_count_24h"]["mismatch_rate"] - 0.25) < 1e-12
    assert all(f["mismatches"] == 0 for name, f in by.items() if name != "txn_count_24h")


def run_cli(*args):
    return subprocess.run([VIGIL_BIN, *args], capture_output=True, text=True, timeout=120)


def test_offline_drift_matches_scipy(tmp_path):
    rng = random.Random(3)
    ref = [rng.gauss(0, 1) for _ in range(400)]
    cur = [rng.gauss(0.3, 1.2) for _ in range(300)]
    for path, values in ((tmp_path / "ref.csv", ref), (tmp_path / "cur.csv", cur)):
        with open(path, "w") as f:
            f.write("x,color\n")
            for i, v in enumerate(values):
                f.write(f"{v!r},{'red' if i % 3 else 'blue'}\n")
    out = run_cli("drift", "--reference", str(tmp_path / "ref.csv"), "--current",
                  str(tmp_path / "cur.csv"), "--json")
    assert out.returncode == 0, out.stderr
    report = {f["feature"]: f for f in json.loads(out.stdout)["features"]}
    ks = scipy_stats.ks_2samp(ref, cur)
    assert report["x"]["method"] == "ks"
    assert abs(report["x"]["statistic"] - ks.statistic) < 1e-12
    # Two features tested: the p-values are Benjamini-Hochberg adjusted.
    assert report["color"]["method"] == "chisquare"
    out = run_cli("drift", "--reference", str(tmp_path / "ref.csv"), "--current",
                  str(tmp_path / "cur.csv"), "--json", "--correction", "none", "--method",
                  "wasserstein")
    report = {f["feature"]: f for f in json.loads(out.stdout)["features"]}
    w = scipy_stats.wasserstein_distance(ref, cur)
    assert abs(report["x"]["statistic"] - w) < 1e-9
    import numpy
    assert abs(report["x"]["score"] - w / numpy.std(ref)) < 1e-9
    out = run_cli("drift", "--reference", str(tmp_path / "ref.csv"), "--current",
                  str(tmp_path / "cur.csv"), "--correction", "none")
    assert out.returncode == 0 and "x" in out.stdout and "dataset drift:" in out.stdout
    bad = run_cli("drift", "--reference", str(tmp_path / "ref.csv"))
    assert bad.returncode == 2 and "--current" in bad.stderr


def test_profile_build_writes_the_reference_and_names_bad_columns(tmp_path):
    import shutil
    repo = tmp_path / "repo"
    shutil.copytree(os.path.join(EXAMPLES, "iris"), repo / "iris")
    (repo / "iris" / "reference.json").unlink(missing_ok=True)
    out = run_cli("profile", "build", "iris", "--data", os.path.join(EXAMPLES, "iris", "train.csv"),
                  "--model-repository", str(repo))
    assert out.returncode == 0, out.stderr
    prof = json.loads((repo / "iris" / "reference.json").read_text())
    assert [f["name"] for f in prof["features"]] == ["sepal_length", "sepal_width",
                                                     "petal_length", "petal_width"]
    assert prof["rows"] == 150 and prof["prediction"]["kind"] == "categorical"
    assert sum(prof["prediction"]["counts"]) == 150
    bad = tmp_path / "bad.csv"
    bad.write_text("sepal_length,sepal_width,petal_length\n1,2,3\n")
    out = run_cli("profile", "build", "iris", "--data", str(bad), "--model-repository", str(repo))
    assert out.returncode == 2 and "column 'petal_width'" in out.stderr
    out = run_cli("profile", "build", "iris", "--data", str(bad))
    assert out.returncode == 2 and "--model-repository" in out.stderr
