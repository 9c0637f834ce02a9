"""Integration-test harness: starts the real `vigil` binary on a free loopback port.

The binary is found through VIGIL_BIN and the example models through VIGIL_EXAMPLES
(CTest sets both). Each server gets its own copy of the model repository, so tests may
add versions or break files. Readiness is signalled by `--ready-file` (DESIGN §9.10):
no sleeps are used as synchronisation; waits poll for a state with a bounded timeout.
"""
import http.client
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

VIGIL_BIN = os.environ.get("VIGIL_BIN", os.path.join(os.path.dirname(__file__), "../../build/vigil"))
EXAMPLES = os.environ.get("VIGIL_EXAMPLES",
                          os.path.join(os.path.dirname(__file__), "../../examples/models"))

IRIS_ROW = [5.1, 3.5, 1.4, 0.2]


def wait_for(predicate, timeout=60.0, what="condition"):
    """Polls `predicate` until it returns a truthy value (bounded, never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Server:
    def __init__(self, repo, proc, port, log_path):
        self.repo = repo
        self.proc = proc
        self.port = port
        self.log_path = log_path

    def call(self, method, path, body=None, headers=None, timeout=60):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            if body is not None and not isinstance(body, (bytes, str)):
                body = json.dumps(body)
            conn.request(method, path, body=body, headers=headers or {})
            res = conn.getresponse()
            raw = res.read()
            return Response(res.status, dict(res.getheaders()), raw)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body=body, **kw)

    def logs(self):
        with open(self.log_path) as f:
            return f.read()

    def metric(self, name, **labels):
        """Sum of the samples of `name` whose labels include `labels`."""
        total = 0.0
        found = False
        for line in self.get("/metrics").text.splitlines():
            if line.startswith("#") or not line.startswith(name):
                continue
            series, value = line.rsplit(" ", 1)
            metric_name = series.split("{", 1)[0]
            if metric_name != name:
                continue
            if all(f'{k}="{v}"' in series for k, v in labels.items()):
                total += float(value)
                found = True
        return total if found else None

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=timeout)


class Response:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.raw = raw
        self.text = raw.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.raw)

    def __repr__(self):
        return f"<{self.status} {self.text[:300]}>"


def copy_examples(dest, models=("iris", "fraud")):
    for m in models:
        shutil.copytree(os.path.join(EXAMPLES, m), os.path.join(dest, m),
                        ignore=shutil.ignore_patterns("*.csv"))


@pytest.fixture
def start_server(tmp_path):
    """Factory: start_server(env={}, args=[], models=(...), prepare=fn(repo)) -> Server."""
    servers = []

    def start(env=None, args=None, models=("iris", "fraud"), prepare=None, repo=None,
              data_dir=None):
        """repo/data_dir: reuse those of an earlier server (a restart)."""
        if repo is None:
            repo = tmp_path / f"repo{len(servers)}"
            repo.mkdir()
            copy_examples(str(repo), models)
            if prepare:
                prepare(repo)
        if data_dir is None:
            data_dir = tmp_path / f"data{len(servers)}"
        ready = tmp_path / f"ready{len(servers)}"
        log_path = tmp_path / f"vigil{len(servers)}.log"
        full_env = {k: v for k, v in os.environ.items()
                    if not k.startswith("VIGIL_") and k not in ("API_KEYS", "MAX_BATCH_SIZE",
                                                                  "BATCH_TIMEOUT_MS")}
        full_env.update(env or {})
        cmd = [VIGIL_BIN, "serve", "--model-repository", str(repo), "--host", "127.0.0.1",
               "--port", "0", "--ready-file", str(ready), "--data-dir", str(data_dir)
               ] + list(args or [])
        log = open(log_path, "w")
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=full_env,
                                stdin=subprocess.DEVNULL)

        def is_ready():
            if proc.poll() is not None:
                raise AssertionError(f"vigil exited with {proc.returncode}:\n{open(log_path).read()}")
            return ready.exists() and ready.read_text().strip()

        port = int(wait_for(is_ready, what="the ready file"))
        server = Server(repo, proc, port, log_path)
        server.data_dir = data_dir
        servers.append(server)
        return server

    yield start
    for s in servers:
        if s.proc.poll() is None:
            s.proc.send_signal(signal.SIGKILL)
            s.proc.wait()


@pytest.fixture
def server(start_server):
    return start_server()


def oip_body(rows, name="input", datatype="FP32", **extra):
    body = {"inputs": [{"name": name, "shape": [len(rows), len(rows[0])], "datatype": datatype,
                        "data": rows}]}
    body.update(extra)
    return body


def send_wrong_iris_labels(server):
    """Serves 30 iris flowers from the training distribution (no drift) and sends a wrong
    label for each: the production version's accuracy becomes 0."""
    import csv
    with open(os.path.join(EXAMPLES, "iris", "train.csv")) as f:
        rows = [[float(x) for x in r[:4]] for r in csv.reader(f) if r[0] != "sepal_length"]
    wrong = []
    for x in rows[::5]:
        p = server.post("/v1/predict", {"model": "iris", "instances": [x]}).json()["predictions"][0]
        wrong.append({"prediction_id": p["prediction_id"],
                      "label": "virginica" if p["label"] != "virginica" else "setosa"})
    r = server.post("/api/v1/feedback", {"feedback": wrong})
    assert r.status == 200, r


class Receiver:
    """A real local HTTP receiver for notifications (Slack, PagerDuty, webhooks).

    Records every POST as (path, parsed JSON body). `fail[path] = n` answers the next n
    requests to that path with 503, as a receiver that is down for a while; `down = True`
    answers every request with 503 until it is set back."""

    def __init__(self):
        import http.server
        import threading

        self.requests = []
        self.fail = {}
        self.down = False
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    failing = receiver.down or receiver.fail.get(self.path, 0) > 0
                    if failing and not receiver.down:
                        receiver.fail[self.path] -= 1
                    if not failing:
                        receiver.requests.append((self.path, json.loads(body),
                                                  dict(self.headers)))
                self.send_response(503 if failing else 202)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def received(self, path):
        with self.lock:
            return [body for p, body, _ in self.requests if p == path]

    def headers(self, path):
        with self.lock:
            return [h for p, _, h in self.requests if p == path]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


class SmtpReceiver:
    """A real local SMTP server (enough of RFC 5321 for Vigil's mail): records
    (from, recipients, message). `fail = n` answers the next n MAIL FROM with 451."""

    def __init__(self):
        import socketserver
        import threading

        self.messages = []
        self.fail = 0
        self.lock = threading.Lock()
        rcv = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                def w(s):
                    self.wfile.write((s + "\r\n").encode())

                w("220 test ESMTP")
                mail_from, rcpts = None, []
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    cmd = line.decode().rstrip("\r\n")
                    up = cmd.upper()
                    if up.startswith("EHLO"):
                        w("250-test")
                        w("250 8BITMIME")
                    elif up.startswith("MAIL FROM:"):
                        with rcv.lock:
                            failing = rcv.fail > 0
                            rcv.fail -= 1 if failing else 0
                        if failing:
                            w("451 try again later")
                            continue
                        mail_from, rcpts = cmd[10:].strip("<> "), []
                        w("250 ok")
                    elif up.startswith("RCPT TO:"):
                        rcpts.append(cmd[8:].strip("<> "))
                        w("250 ok")
                    elif up == "DATA":
                        w("354 go ahead")
                        data = []
                        while True:
                            part = self.rfile.readline().decode()
                            if part in (".\r\n", ""):
                                break
                            data.append(part[1:] if part.startswith("..") else part)
                        with rcv.lock:
                            rcv.messages.append((mail_from, rcpts, "".join(data)))
                        w("250 queued")
                    elif up == "QUIT":
                        w("221 bye")
                        return
                    else:
                        w("502 not implemented")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def received(self):
        with self.lock:
            return list(self.messages)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def smtp():
    r = SmtpReceiver()
    yield r
    r.close()
