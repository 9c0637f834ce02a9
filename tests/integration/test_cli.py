"""The vigil CLI against a running server, and its usage errors (exit 2)."""
import json
import subprocess

from conftest import VIGIL_BIN


def run(*args, env=None):
    return subprocess.run([VIGIL_BIN, *args], capture_output=True, text=True, timeout=60,
                          env=env)


def test_version_and_help():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("vigil ")
    for cmd in ([], ["serve"], ["predict"], ["models"], ["models", "list"], ["models", "status"]):
        h = run(*cmd, "--help")
        assert h.returncode == 0, (cmd, h.stderr)
        assert "Usage" in h.stdout


def test_usage_errors_exit_2():
    assert run().returncode == 2
    assert run("bogus").returncode == 2
    r = run("serve", "--model-repository", "/definitely/not/here")
    assert r.returncode == 2 and "model-repository" in (r.stderr + r.stdout)
    r = run("predict", "iris", "--data", "not json")
    assert r.returncode == 2 and "--data" in r.stderr


def test_predict_and_models(server):
    url = f"http://127.0.0.1:{server.port}"
    r = run("predict", "iris", "--data", "[[5.1, 3.5, 1.4, 0.2]]", "--url", url)
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    assert body["predictions"][0]["label"] == "setosa"
    r = run("predict", "iris", "--version", "2", "--data", "[[6.7, 3.0, 5.2, 2.3]]", "--url", url)
    assert json.loads(r.stdout)["predictions"][0]["label"] == "virginica"
    r = run("predict", "ghost", "--data", "[[1]]", "--url", url)
    assert r.returncode == 2 and "unknown model 'ghost'" in r.stderr
    listing = run("models", "list", "--url", url)
    assert listing.returncode == 0
    lines = listing.stdout.splitlines()
    assert lines[0].split()[:3] == ["MODEL", "STATE", "BACKEND"]
    assert any(l.split()[:4] == ["iris", "READY", "torchscript", "1"] for l in lines)
    status = run("models", "status", "--url", url)
    assert "READY" in status.stdout and " s, " in status.stdout


def test_server_unreachable_exits_1():
    r = run("models", "list", "--url", "http://127.0.0.1:1")
    assert r.returncode == 1 and "cannot reach the Vigil server" in r.stderr
