#!/usr/bin/python3
"""Vigil's serving benchmark (make bench). Starts, in one run on loopback:
  - Vigil with the example models,
  - a FastAPI + uvicorn server of the same iris TorchScript model (the Python baseline),
  - nginx answering a fixed 200 JSON (this machine's HTTP ceiling),
drives each with wrk (POST, keep-alive) at 1, 16 and 64 connections, and prints
requests/s, p50, p99 and the ratios. Also: fraud with dynamic batching vs
max_batch_size 1, time to ready, and Vigil's resident memory under load.
Results go to stdout and bench/results/latest.md (copy them into docs/benchmarks.md)."""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
IRIS_BODY = json.dumps({"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32",
                                    "data": [5.1, 3.5, 1.4, 0.2]}]})
FRAUD_BODY = json.dumps({"inputs": [{"name": "features", "shape": [1, 30], "datatype": "FP32",
                                     "data": [round(0.1 * i, 2) for i in range(30)]}]})


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"port {port} not open after {timeout}s")


def wrk(url, body, connections, duration, tmp):
    script = os.path.join(tmp, "post.lua")
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                f"wrk.body = {json.dumps(body)}\n")
    threads = min(2, connections)
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s",
                          "--latency", "-s", script, url], capture_output=True, text=True,
                         check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else (v * 1000 if unit == "s" else v)

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    total = re.search(r"(\d+) requests in", out)
    return {"rps": rps, "p50_ms": pct(50), "p99_ms": pct(99), "non2xx": errors,
            "requests": int(total.group(1)) if total else 0}


def cpu_seconds(pid):
    """User + system CPU time of a process so far (all threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def start_vigil(binary, repo, tmp, name, extra_env=None):
    port = free_port()
    data = os.path.join(tmp, f"{name}-data")
    ready = os.path.join(tmp, f"{name}.ready")
    log = open(os.path.join(tmp, f"{name}.log"), "w")
    env = dict(os.environ, VIGIL_ACCESS_LOG="true", **(extra_env or {}))
    start = time.monotonic()
    proc = subprocess.Popen([binary, "serve", "--model-repository", repo, "--host", "127.0.0.1",
                             "--port", str(port), "--ready-file", ready, "--data-dir", data],
                            stdout=log,
                            stderr=subprocess.STDOUT, env=env)
    while not os.path.exists(ready):
        if proc.poll() is not None:
            raise RuntimeError(f"vigil exited: see {log.name}")
        time.sleep(0.005)
    return proc, port, time.monotonic() - start


def start_nginx(tmp):
    port = free_port()
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 2;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/nginx-body;
  server {{
    listen 127.0.0.1:{port};
    keepalive_requests 1000000;
    location / {{ default_type application/json; return 200 '{{"ok":true}}'; }}
  }}
}}
""")
    proc = subprocess.Popen(["nginx", "-c", conf, "-p", tmp], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_port(port, proc)
    return proc, port


def start_fastapi(model):
    port = free_port()
    proc = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "fastapi_server.py"),
                             "--model", model, "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, proc)
    return proc, port


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


class Flipper(threading.Thread):
    """Promotes iris 2 and rolls back to 1, alternately, every 0.5 s; records how long each
    call takes (when it returns, every new unversioned request gets the new version)."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.stop = threading.Event()
        self.durations_ms = []

    def run(self):
        flip = 0
        while not self.stop.wait(0.5):
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            if flip % 2 == 0:
                path, body = "/api/v1/models/iris/promote", json.dumps({"version": 2})
            else:
                path, body = "/api/v1/models/iris/rollback", "{}"
            start = time.monotonic()
            conn.request("POST", path, body=body)
            res = conn.getresponse()
            res.read()
            elapsed = (time.monotonic() - start) * 1000
            conn.close()
            if res.status == 200:
                self.durations_ms.append(elapsed)
            flip += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vigil", default="build/vigil")
    ap.add_argument("--models", default="examples/models")
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    ap.add_argument("--connections", default="1,16,64")
    ap.add_argument("--only", choices=["monitoring", "alerting"], help="run one section only")
    args = ap.parse_args()
    conns = [int(c) for c in args.connections.split(",")]
    tmp = tempfile.mkdtemp(prefix="vigil-bench-")
    repo = os.path.join(tmp, "models")
    shutil.copytree(args.models, repo, ignore=shutil.ignore_patterns("*.csv"))
    unbatched = os.path.join(tmp, "models-unbatched")
    shutil.copytree(repo, unbatched)
    cfg = os.path.join(unbatched, "fraud", "config.yaml")
    text = open(cfg).read()
    open(cfg, "w").write(re.sub(r"max_batch_size: \d+", "max_batch_size: 1", text))

    lines = []

    def out(s=""):
        print(s, flush=True)
        lines.append(s)

    procs = []
    if args.only == "monitoring":
        monitoring_section(args, repo, tmp, out, procs)
        write_results(lines, tmp)
        return
    if args.only == "alerting":
        alerting_section(args, repo, tmp, out, procs)
        write_results(lines, tmp)
        return
    try:
        print("starting vigil, nginx, fastapi ...", file=sys.stderr)
        vigil, vport, ready_s = start_vigil(args.vigil, repo, tmp, "vigil")
        procs.append(vigil)
        nginx, nport = start_nginx(tmp)
        procs.append(nginx)
        fastapi, fport = start_fastapi(os.path.join(repo, "iris", "1", "model.pt"))
        procs.append(fastapi)
        idle_rss = rss_mb(vigil.pid)

        out(f"# Vigil benchmark ({time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
            f"wrk {args.duration}s per point)")
        out()
        out("| target | conns | req/s | p50 ms | p99 ms | non-2xx |")
        out("|---|---|---|---|---|---|")
        results = {}
        for c in conns:
            for name, url, body in (
                    ("nginx fixed 200", f"http://127.0.0.1:{nport}/", IRIS_BODY),
                    ("vigil iris OIP infer", f"http://127.0.0.1:{vport}/v2/models/iris/infer", IRIS_BODY),
                    ("fastapi iris infer", f"http://127.0.0.1:{fport}/v2/models/iris/infer", IRIS_BODY)):
                print(f"  {name} at {c} connections ...", file=sys.stderr)
                r = wrk(url, body, c, args.duration, tmp)
                results[(name, c)] = r
                out(f"| {name} | {c} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['non2xx']} |")
        load_rss = rss_mb(vigil.pid)
        stop(fastapi)
        stop(nginx)

        # Lifecycle: p99 while production flips 1 <-> 2 every 0.5 s vs steady state, and
        # how long a promote takes to answer (after it, every new request gets the new version).
        print("  promote under load ...", file=sys.stderr)
        iris_url = f"http://127.0.0.1:{vport}/v2/models/iris/infer"
        steady = wrk(iris_url, IRIS_BODY, 64, args.duration, tmp)
        flipper = Flipper(vport)
        flipper.start()
        during = wrk(iris_url, IRIS_BODY, 64, args.duration, tmp)
        flipper.stop.set()
        flipper.join()

        print("  fraud batched vs max_batch_size 1 ...", file=sys.stderr)
        batched = wrk(f"http://127.0.0.1:{vport}/v2/models/fraud/infer", FRAUD_BODY, 64,
                      args.duration, tmp)
        load_rss = max(load_rss, rss_mb(vigil.pid))
        stop(vigil)
        single, sport, _ = start_vigil(args.vigil, unbatched, tmp, "vigil-unbatched")
        procs.append(single)
        unb = wrk(f"http://127.0.0.1:{sport}/v2/models/fraud/infer", FRAUD_BODY, 64,
                  args.duration, tmp)
        stop(single)

        top = max(conns)
        v, n, f = (results[(k, top)] for k in ("vigil iris OIP infer", "nginx fixed 200", "fastapi iris infer"))
        out()
        out("| fraud at 64 conns | req/s | p50 ms | p99 ms |")
        out("|---|---|---|---|")
        out(f"| dynamic batching (max_batch_size 64) | {batched['rps']:.0f} | {batched['p50_ms']:.2f} | {batched['p99_ms']:.2f} |")
        out(f"| max_batch_size 1 | {unb['rps']:.0f} | {unb['p50_ms']:.2f} | {unb['p99_ms']:.2f} |")
        out()
        out("| target | measured | goal |")
        out("|---|---|---|")
        out(f"| iris @{top}: vigil / nginx | {v['rps'] / n['rps']:.2f} | >= 0.5 |")
        out(f"| iris @{top}: vigil / fastapi | {v['rps'] / f['rps']:.1f} | >= 30 |")
        out(f"| iris @{top}: vigil p99 | {v['p99_ms']:.2f} ms | <= 5 ms |")
        out(f"| fraud: batched / max_batch_size 1 | {batched['rps'] / unb['rps']:.2f} | >= 4 |")
        out(f"| ready after start (both models) | {ready_s:.2f} s | <= 1 s |")
        out(f"| vigil RSS idle / under load | {idle_rss:.0f} MB / {load_rss:.0f} MB | <= 300 MB |")
        promote_ms = sorted(flipper.durations_ms)
        out()
        out("| iris @64 | req/s | p50 ms | p99 ms | non-2xx |")
        out("|---|---|---|---|---|")
        out(f"| steady | {steady['rps']:.0f} | {steady['p50_ms']:.2f} | {steady['p99_ms']:.2f} | {steady['non2xx']} |")
        out(f"| production flipped every 0.5 s ({len(promote_ms)} promotes/rollbacks) | {during['rps']:.0f} | {during['p50_ms']:.2f} | {during['p99_ms']:.2f} | {during['non2xx']} |")
        out()
        out("| target | measured | goal |")
        out("|---|---|---|")
        out(f"| p99 during promote / steady | {during['p99_ms'] / steady['p99_ms']:.2f} | <= 2 |")
        if promote_ms:
            out(f"| promote/rollback call -> 100 % on the new version (median, max) | "
                f"{promote_ms[len(promote_ms) // 2]:.1f} ms, {promote_ms[-1]:.1f} ms | - |")
    finally:
        for p in procs:
            stop(p)
    monitoring_section(args, repo, tmp, out, procs)
    alerting_section(args, repo, tmp, out, procs)
    write_results(lines, tmp)


def write_results(lines, tmp):
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "latest.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    shutil.rmtree(tmp, ignore_errors=True)


def monitoring_section(args, repo, tmp, out, procs):
    """Serving throughput with monitoring on vs off (alternating runs, same machine, same
    minute), then the drift benchmark binary (1M rows x 30 features, memory)."""
    out()
    out("## Monitoring cost")
    out()
    out("Alternating runs (on, off, on, off, ...) of one server each; req/s is noisy on a shared")
    out("2-core machine, so Vigil's CPU time per request (all threads, from /proc) is reported too:")
    out("its ratio is what monitoring costs per request, independent of what wrk got.")
    out()
    out("| model @64 conns | monitoring | req/s (runs) | median req/s | median p99 ms | median CPU us/request |")
    out("|---|---|---|---|---|---|")
    ratios = {}
    for model, body in (("fraud", FRAUD_BODY), ("iris", IRIS_BODY)):
        runs = {"on": [], "off": []}
        for i in range(3):
            for mode in ("on", "off"):
                name = f"vigil-mon-{mode}-{model}-{i}"
                proc, port, _ = start_vigil(args.vigil, repo, tmp, name,
                                            {"VIGIL_MONITOR": "true" if mode == "on" else "false"})
                procs.append(proc)
                print(f"  {model} monitoring {mode} (run {i + 1}) ...", file=sys.stderr)
                cpu0 = cpu_seconds(proc.pid)
                r = wrk(f"http://127.0.0.1:{port}/v2/models/{model}/infer", body, 64,
                        args.duration, tmp)
                r["cpu_us"] = (cpu_seconds(proc.pid) - cpu0) * 1e6 / max(r["requests"], 1)
                runs[mode].append(r)
                stop(proc)
        med = {}
        for mode in ("on", "off"):
            def median(key):
                v = sorted(r[key] for r in runs[mode])
                return v[len(v) // 2]
            med[mode] = {k: median(k) for k in ("rps", "p99_ms", "cpu_us")}
            rps = ", ".join(f"{r['rps']:.0f}" for r in runs[mode])
            out(f"| {model} | {mode} | {rps} | {med[mode]['rps']:.0f} | {med[mode]['p99_ms']:.2f} | "
                f"{med[mode]['cpu_us']:.1f} |")
        ratios[model] = (med["on"]["rps"] / med["off"]["rps"],
                         med["off"]["cpu_us"] / med["on"]["cpu_us"])
    out()
    out("| target | measured | goal |")
    out("|---|---|---|")
    for model, (r, c) in ratios.items():
        out(f"| {model} @64: throughput monitoring on / off (median req/s) | {r:.3f} "
            f"({(1 - r) * 100:.1f} % loss) | loss <= 5 % |")
        out(f"| {model} @64: CPU per request off / on (the throughput a CPU-bound server keeps) | "
            f"{c:.3f} ({(1 - c) * 100:.1f} % loss) | loss <= 5 % |")
    bench = os.path.join(os.path.dirname(os.path.abspath(args.vigil)), "vigil_drift_bench")
    if os.path.exists(bench):
        print("  drift evaluation 1M x 30 ...", file=sys.stderr)
        res = subprocess.run(["taskset", "-c", "0", bench, "--fraud",
                              os.path.join(args.models, "fraud")],
                             capture_output=True, text=True, timeout=600)
        for line in res.stdout.splitlines():
            out(line)
        if res.returncode != 0:
            out(f"(drift bench failed: {res.stderr.strip()})")


class _Receiver:
    """A local webhook receiver answering 202, counting what it got."""

    def __init__(self):
        import http.server
        import threading
        self.count = 0
        self.lock = threading.Lock()
        rcv = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with rcv.lock:
                    rcv.count += 1
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def _call(port, method, path, body=None):
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request(method, path, body=json.dumps(body) if body is not None else None,
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def alerting_section(args, repo, tmp, out, procs):
    """Notification delivery through the durable outbox, against posting the same messages
    straight to the same receiver; one alert-pipeline step against a /health round trip."""
    import http.client
    out()
    out("## Alerting and notifications")
    out()
    rcv = _Receiver()
    notify = os.path.join(tmp, "notify.yaml")
    with open(notify, "w") as f:
        f.write(f"channels:\n  - {{name: hook, type: webhook, url: "
                f"'http://127.0.0.1:{rcv.port}/hook'}}\n")
    proc, port, _ = start_vigil(args.vigil, repo, tmp, "vigil-alerting",
                                {"VIGIL_NOTIFICATIONS": notify, "VIGIL_ALERT_EVAL_INTERVAL": "1h"})
    procs.append(proc)
    # Baseline: the same number of POSTs straight to the receiver, one connection each (as
    # Vigil's sender does).
    n = 2000
    body = json.dumps({"event": "trigger", "title": "x" * 80, "text": "y" * 200})
    print(f"  baseline: {n} POSTs to the receiver ...", file=sys.stderr)
    t0 = time.monotonic()
    for _ in range(n):
        c = http.client.HTTPConnection("127.0.0.1", rcv.port, timeout=60)
        c.request("POST", "/hook", body=body, headers={"Content-Type": "application/json"})
        c.getresponse().read()
        c.close()
    base_s = time.monotonic() - t0
    print(f"  vigil: {n} notifications through the outbox ...", file=sys.stderr)
    before = rcv.count
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    t0 = time.monotonic()
    for _ in range(n):
        conn.request("POST", "/api/v1/notifications/test", body='{"channel": "hook"}',
                     headers={"Content-Type": "application/json"})
        conn.getresponse().read()
    queued_s = time.monotonic() - t0
    while rcv.count - before < n:
        time.sleep(0.01)
    vigil_s = time.monotonic() - t0
    status, data = _call(port, "GET", "/api/v1/notifications?state=pending&limit=10")
    pending = len(json.loads(data)["notifications"])
    # One pipeline step (escalations, an alert evaluation of every rule, escalations)
    # through the test clock's endpoint, against the /health round trip.
    stop(proc)
    log = open(os.path.join(tmp, "vigil-step.log"), "w")
    ready = os.path.join(tmp, "vigil-step.ready")
    port = free_port()
    proc = subprocess.Popen([args.vigil, "serve", "--model-repository", repo, "--host",
                             "127.0.0.1", "--port", str(port), "--ready-file", ready,
                             "--data-dir", os.path.join(tmp, "step-data"), "--test-clock"],
                            stdout=log, stderr=subprocess.STDOUT,
                            env=dict(os.environ, VIGIL_ALERT_EVAL_INTERVAL="1h"))
    procs.append(proc)
    while not os.path.exists(ready):
        time.sleep(0.005)

    def timed(method, path, body=None, k=300):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        ts = []
        for _ in range(k):
            t = time.monotonic()
            c.request(method, path, body=body, headers={"Content-Type": "application/json"})
            c.getresponse().read()
            ts.append((time.monotonic() - t) * 1000)
        ts.sort()
        return ts[len(ts) // 2], ts[int(len(ts) * 0.99)]

    health = timed("GET", "/health")
    step = timed("POST", "/api/v1/test/clock", '{"advance": "0s"}')
    stop(proc)
    rcv.httpd.shutdown()
    out("| measure | Vigil | baseline | ratio |")
    out("|---|---|---|---|")
    out(f"| {n} webhook notifications: queued through the API, stored, delivered (msg/s) | "
        f"{n / vigil_s:.0f} | {n / base_s:.0f} (direct POSTs, Python client) | "
        f"{(n / vigil_s) / (n / base_s):.2f} |")
    out(f"| time to queue them (API calls, msg/s) | {n / queued_s:.0f} | | |")
    out(f"| still pending after the last arrived | {pending} | 0 | |")
    out(f"| alert pipeline step (2 models' rules + service rules), p50 / p99 ms | "
        f"{step[0]:.2f} / {step[1]:.2f} | {health[0]:.2f} / {health[1]:.2f} (GET /health) | "
        f"{step[0] / health[0]:.1f} |")


if __name__ == "__main__":
    main()
