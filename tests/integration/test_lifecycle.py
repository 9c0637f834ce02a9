"""Model lifecycle on the embedded SQLite store: checksums, production alias, promote,
rollback, history; state survives a restart and a kill -9."""
import json
import signal
import subprocess

from conftest import IRIS_ROW, VIGIL_BIN, oip_body


def production(server):
    return server.post("/v2/models/iris/infer", oip_body([IRIS_ROW])).json()["model_version"]


def test_versions_list_checksums_and_aliases(server):
    r = server.get("/api/v1/models/iris/versions")
    assert r.status == 200, r
    body = r.json()
    assert body["aliases"] == {"production": "1"}
    versions = {v["version"]: v for v in body["versions"]}
    assert versions["1"]["state"] == "READY" and versions["1"]["aliases"] == ["production"]
    files = versions["2"]["files"]
    assert [f["path"] for f in files] == ["model.pt"]
    assert len(files[0]["sha256"]) == 64 and files[0]["size"] > 0
    assert server.get("/api/v1/models/ghost/versions").status == 404
    assert "unregistered, checksums recorded" in server.logs()


def test_promote_rollback_history_and_metrics(server):
    assert production(server) == "1"
    r = server.post("/api/v1/models/iris/promote", {"version": 2, "reason": "MLP is better"},
                    headers={"X-Vigil-Actor": "alice"})
    assert r.status == 200, r
    assert r.json() == {"model": "iris", "production": "2", "previous": "1"}
    assert production(server) == "2"
    assert server.post("/api/v1/models/iris/promote", {"version": 2}).status == 409
    assert server.post("/api/v1/models/iris/promote", {"version": 9}).status == 404
    assert server.post("/api/v1/models/iris/promote", {}).status == 400
    assert server.post("/api/v1/models/iris/promote", "{oops").status == 400
    assert server.metric("ml_model_version_info", model="iris", alias="production",
                         version="2") == 1
    r = server.post("/api/v1/models/iris/rollback", {"reason": "accuracy dropped"})
    assert r.status == 200, r
    assert r.json()["production"] == "1"
    assert production(server) == "1"
    assert server.metric("ml_rollback_total", model="iris") == 1
    history = server.get("/api/v1/models/iris/history").json()["history"]
    actions = [(h["action"], h["from"], h["to"]) for h in history]
    assert actions[:3] == [("rollback", "2", "1"), ("promote", "1", "2"), ("initial", None, "1")]
    assert history[1]["actor"] == "alice" and history[1]["reason"] == "MLP is better"
    assert history[0]["reason"] == "accuracy dropped"


def test_requests_may_name_an_alias(server):
    assert server.post("/api/v1/models/iris/promote", {"version": 2}).status == 200
    r = server.post("/v2/models/iris/versions/previous/infer", oip_body([IRIS_ROW]))
    assert r.status == 200 and r.json()["model_version"] == "1"
    r = server.post("/v2/models/iris/versions/production/infer", oip_body([IRIS_ROW]))
    assert r.json()["model_version"] == "2"
    r = server.post("/v1/predict", {"model": "iris", "version": "previous", "instances": [IRIS_ROW]})
    assert r.status == 200 and r.json()["version"] == "1"


def test_rollback_without_previous_is_a_clear_error(server):
    r = server.post("/api/v1/models/fraud/rollback")
    assert r.status == 503 and "no previous version" in r.json()["error"]


def test_production_survives_restart_and_kill_9(start_server):
    s = start_server(models=("iris",))
    assert s.post("/api/v1/models/iris/promote", {"version": 2}).status == 200
    assert s.stop() == 0
    s2 = start_server(repo=s.repo, data_dir=s.data_dir)
    assert production(s2) == "2"
    assert s2.post("/api/v1/models/iris/rollback").status == 200
    s2.proc.send_signal(signal.SIGKILL)
    s2.proc.wait()
    s3 = start_server(repo=s.repo, data_dir=s.data_dir)
    assert production(s3) == "1"
    assert [h["action"] for h in s3.get("/api/v1/models/iris/history").json()["history"]][:2] == \
        ["rollback", "promote"]


def test_modified_artifact_is_refused_after_restart(start_server):
    s = start_server(models=("iris",))
    assert s.stop() == 0  # checksums of versions 1 and 2 are recorded
    (s.repo / "iris" / "2" / "model.pt").write_bytes(
        (s.repo / "iris" / "1" / "model.pt").read_bytes())  # swapped artifact
    s2 = start_server(repo=s.repo, data_dir=s.data_dir)
    r = s2.post("/v2/models/iris/versions/2/infer", oip_body([IRIS_ROW]))
    assert r.status == 503 and "integrity check failed: model.pt has sha256" in r.json()["error"]
    assert production(s2) == "1"  # what was serving keeps serving
    r = s2.post("/api/v1/models/iris/promote", {"version": 2})
    assert r.status == 503 and "integrity check failed" in r.json()["error"], r


def test_cli_promote_rollback_versions_history(server):
    url = f"http://127.0.0.1:{server.port}"

    def run(*args):
        return subprocess.run([VIGIL_BIN, *args, "--url", url], capture_output=True, text=True,
                              timeout=60)

    r = run("promote", "iris", "2", "--reason", "tour")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["production"] == "2"
    r = run("rollback", "iris", "--to", "1")
    assert r.returncode == 0, r.stderr
    history = json.loads(run("models", "history", "iris").stdout)["history"]
    assert history[0]["action"] == "rollback" and history[0]["actor"]
    versions = json.loads(run("models", "versions", "iris").stdout)
    assert versions["aliases"]["production"] == "1" and versions["aliases"]["previous"] == "2"
    r = run("promote", "iris", "1")
    assert r.returncode == 2 and "already the production version" in r.stderr


def test_promote_and_rollback_under_load_lose_no_request(server):
    """Concurrent clients keep sending unversioned requests while production moves
    1 -> 2 -> 1 -> 2 and the repository is reloaded: every request must succeed."""
    import concurrent.futures
    import threading

    stop = threading.Event()
    seen_versions = set()
    lock = threading.Lock()

    def client():
        statuses = []
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        body = json.dumps(oip_body([IRIS_ROW]))
        while not stop.is_set() or len(statuses) < 20:
            conn.request("POST", "/v2/models/iris/infer", body=body)
            res = conn.getresponse()
            data = res.read()
            statuses.append(res.status)
            if res.status == 200:
                with lock:
                    seen_versions.add(json.loads(data)["model_version"])
            if len(statuses) >= 5000:
                break
        conn.close()
        return statuses

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        futures = [pool.submit(client) for _ in range(16)]
        for step, expected in (({"version": 2}, "2"), (None, "1"), ({"version": 2}, "2"),
                               (None, "1")):
            if step:
                r = server.post("/api/v1/models/iris/promote", step)
            else:
                r = server.post("/api/v1/models/iris/rollback")
            assert r.status == 200, r
            assert production(server) == expected
            assert server.post("/models/reload").status == 200
        stop.set()
        statuses = [s for f in futures for s in f.result()]
    assert len(statuses) >= 16 * 20
    assert set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
    assert seen_versions <= {"1", "2"}


def test_register_upload_then_promote_with_accuracy_gate(start_server):
    def prepare(repo):
        cfg = repo / "iris" / "config.yaml"
        cfg.write_text(cfg.read_text() + "promotion_gate: accuracy\n")

    s = start_server(models=("iris",), prepare=prepare)
    url = f"http://127.0.0.1:{s.port}"
    artifact = s.repo / "iris" / "2" / "model.pt"

    def cli(*args):
        return subprocess.run([VIGIL_BIN, *args, "--url", url], capture_output=True, text=True,
                              timeout=60)

    # Upload through the CLI: version 3, with metrics and a description.
    r = cli("models", "register", "iris", str(artifact), "--description", "MLP retrained",
            "--metrics", "accuracy=0.95")
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    assert body == {"model": "iris", "version": "3", "state": "READY"}
    versions = {v["version"]: v for v in s.get("/api/v1/models/iris/versions").json()["versions"]}
    assert versions["3"]["metrics"] == {"accuracy": 0.95}
    assert versions["3"]["description"] == "MLP retrained"
    assert versions["3"]["source"] == "upload"
    assert versions["3"]["files"][0]["path"] == "model.pt"
    assert versions["3"]["files"][0]["sha256"] == versions["2"]["files"][0]["sha256"]
    # Production (v1) has no recorded accuracy: v3 passes the gate.
    assert cli("promote", "iris", "3").returncode == 0
    # A worse candidate is refused with the numbers, unless forced.
    r = s.call("POST", "/api/v1/models/iris/versions?metrics=accuracy%3D0.80&version=7",
               body=artifact.read_bytes(), headers={"Content-Type": "application/octet-stream"})
    assert r.status == 201, r
    r = cli("promote", "iris", "7")
    assert r.returncode == 2 and "accuracy 0.800000 is below production version 3's 0.950000" in r.stderr
    assert production(s) == "3"
    r = cli("promote", "iris", "7", "--force", "--reason", "hotfix")
    assert r.returncode == 0, r.stderr
    assert production(s) == "7"
    assert s.get("/api/v1/models/iris/history").json()["history"][0]["action"] == "promote (forced)"
    # Versions are immutable; a bad upload is refused.
    r = s.call("POST", "/api/v1/models/iris/versions?version=7", body=b"x")
    assert r.status == 409 and "already has a version 7" in r.json()["error"]
    assert s.post("/api/v1/models/iris/versions", "").status == 400
    assert s.call("POST", "/api/v1/models/ghost/versions", body=b"x").status == 404
    r = s.call("POST", "/api/v1/models/iris/versions?metrics=accuracy", body=b"x")
    assert r.status == 400 and "NAME=NUMBER" in r.json()["error"]


def test_register_offline_into_repository(tmp_path):
    from conftest import copy_examples
    repo = tmp_path / "repo"
    repo.mkdir()
    copy_examples(str(repo), ("iris",))
    data = tmp_path / "data"
    r = subprocess.run([VIGIL_BIN, "models", "register", "iris", str(repo / "iris" / "2"),
                        "--model-repository", str(repo), "--data-dir", str(data),
                        "--metrics", "accuracy=0.97"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "registered iris version 3" in r.stdout
    assert (repo / "iris" / "3" / "model.pt").exists()
    assert not any(p.name.startswith(".staging") for p in (repo / "iris").iterdir())
    r = subprocess.run([VIGIL_BIN, "models", "register", "iris", str(repo / "iris" / "2"),
                        "--model-repository", str(repo), "--data-dir", str(data),
                        "--version", "3"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "already has a version 3" in r.stderr


def test_kill_9_during_promotes_leaves_consistent_state(start_server):
    """Promote/rollback in a loop, kill -9 at an arbitrary moment: after a restart the
    production version is the one the newest production change in the history names."""
    import threading
    from conftest import wait_for

    s = start_server(models=("iris",))
    stop = threading.Event()

    def flip():
        i = 0
        while not stop.is_set():
            try:
                if i % 2 == 0:
                    s.post("/api/v1/models/iris/promote", {"version": 2})
                else:
                    s.post("/api/v1/models/iris/rollback")
            except OSError:
                return  # the server is gone
            i += 1

    t = threading.Thread(target=flip)
    t.start()
    wait_for(lambda: len(s.get("/api/v1/models/iris/history").json()["history"]) >= 8,
             what="several promotes")
    s.proc.send_signal(signal.SIGKILL)
    s.proc.wait()
    stop.set()
    t.join(timeout=60)
    s2 = start_server(repo=s.repo, data_dir=s.data_dir)
    history = s2.get("/api/v1/models/iris/history").json()["history"]
    last = next(h for h in history if h["action"] in ("promote", "rollback", "initial"))
    assert production(s2) == last["to"]
    versions = s2.get("/api/v1/models/iris/versions").json()
    assert versions["aliases"]["production"] == last["to"]


def test_user_defined_aliases(server):
    url = f"http://127.0.0.1:{server.port}"
    r = server.post("/api/v1/models/iris/aliases", {"alias": "champion", "version": 2})
    assert r.status == 200, r
    r = server.post("/v2/models/iris/versions/champion/infer", oip_body([IRIS_ROW]))
    assert r.status == 200 and r.json()["model_version"] == "2"
    assert server.metric("ml_model_version_info", model="iris", alias="champion",
                         version="2") == 1
    assert server.get("/api/v1/models/iris/versions").json()["aliases"]["champion"] == "2"
    for body, status, needle in [
        ({"alias": "production", "version": 2}, 400, "moves only with promote"),
        ({"alias": "Bad Name", "version": 2}, 400, "alias: expected lowercase"),
        ({"alias": "x", "version": 9}, 404, "no version 9"),
        ({"alias": "x"}, 400, "version: required"),
    ]:
        r = server.post("/api/v1/models/iris/aliases", body)
        assert r.status == status and needle in r.json()["error"], (body, r)
    r = subprocess.run([VIGIL_BIN, "models", "alias", "iris", "champion", "--remove", "--url", url],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert server.post("/v2/models/iris/versions/champion/infer", oip_body([IRIS_ROW])).status == 404
    assert server.call("DELETE", "/api/v1/models/iris/aliases/champion").status == 404
    actions = [h["action"] for h in server.get("/api/v1/models/iris/history").json()["history"]]
    assert actions[:2] == ["alias remove", "alias set"]
