"""Notifications end to end, with real local HTTP receivers started by the test: the
issue's whole story (a bad deployment pages the on-call through PagerDuty and Slack,
escalates, is rolled back automatically, resolves, and the postmortem lists it), a
receiver that fails for a while and recovers, an outbox that survives a crash, inhibition
and grouping of Alertmanager alerts, and bad input.

Time is driven by `--test-clock` with a long alert_eval_interval: each
POST /api/v1/test/clock runs escalations and one alert evaluation, so nothing depends on
how fast the machine is."""
import json
import os
import signal
import subprocess

from conftest import VIGIL_BIN, send_wrong_iris_labels, wait_for

NOTIFY = """
external_url: http://vigil.test:8000
channels:
  - {name: team-slack, type: slack, url: "URL/slack"}
  - {name: pagerduty, type: pagerduty, url: "URL/pd", routing_key: R0UTING}
  - name: audit-hook
    type: webhook
    url: URL/hook
    headers: {X-Token: s3cret}
    body: '{"summary": "{{title}}", "event": "{{event}}", "key": "{{dedup_key}}"}'
route: {group_wait: 0s}
retry: {initial: 50ms, max: 200ms}
"""

ONCALL = """
schedules:
  - name: ml-primary
    layers:
      - {name: weekly, start: 2026-01-05T09:00:00Z, rotation: 168h, members: [alice, bob]}
"""


def write(tmp_path, name, text, receiver):
    path = tmp_path / name
    path.write_text(text.replace("URL", receiver.url))
    return str(path)


def step(s, advance="0s"):
    r = s.post("/api/v1/test/clock", {"advance": advance})
    assert r.status == 200, r


def outbox(s, **query):
    q = "&".join(f"{k}={v}" for k, v in query.items())
    r = s.get("/api/v1/notifications" + (f"?{q}" if q else ""))
    assert r.status == 200, r
    return r.json()["notifications"]


def delivered(s):
    rows = outbox(s, limit=1000)
    return rows if rows and all(r["state"] == "sent" for r in rows) else None


def test_a_bad_deployment_pages_escalates_rolls_back_and_resolves(start_server, receiver,
                                                                   tmp_path):
    def prepare(repo):
        cfg = repo / "iris" / "config.yaml"
        cfg.write_text(cfg.read_text() + "slo: {accuracy_min: 0.9, window: 1m, for: 0s}\n"
                       "actions: {rollback: auto, recent_deploy: 1h}\n")

    receiver.fail["/hook"] = 3  # the webhook is down for its first three requests
    env = {"VIGIL_ALERT_EVAL_INTERVAL": "1h", "VIGIL_MONITOR_INTERVAL": "50ms",
           "VIGIL_NOTIFICATIONS": write(tmp_path, "notify.yaml", NOTIFY, receiver),
           "VIGIL_ONCALL": write(tmp_path, "oncall.yaml", ONCALL, receiver)}
    s = start_server(env=env, args=["--test-clock"], models=("iris",), prepare=prepare)
    on_call = s.get("/api/v1/oncall").json()["schedules"][0]["on_call"]
    assert on_call in ("alice", "bob")

    # Deploy version 2; its labelled answers come back wrong (accuracy 0).
    assert s.post("/api/v1/models/iris/promote", {"version": 2, "reason": "deploy"}).status == 200
    send_wrong_iris_labels(s)
    wait_for(lambda: s.get("/api/v1/models/iris/performance?version=2").json()["labelled"] == 30,
             what="the labels")

    # One evaluation: the alert fires, a SEV2 incident opens, the rollback is automatic and
    # the on-call of the schedule is paged.
    step(s)
    fired = [a for a in s.get("/api/v1/alerts").json()["alerts"] if a["name"] == "ModelAccuracyLow"]
    assert fired and fired[0]["state"] == "firing"
    incs = s.get("/api/v1/incidents?status=open").json()["incidents"]
    assert len(incs) == 1 and incs[0]["severity"] == "SEV2"
    inc_id = incs[0]["id"]
    assert s.get("/api/v1/models/iris/versions").json()["aliases"]["production"] == "1"

    def pd_events():
        return [(e["event_action"], e["dedup_key"]) for e in receiver.received("/pd")]

    wait_for(lambda: len(pd_events()) == 1, what="the page at PagerDuty")
    page = receiver.received("/pd")[0]
    assert page["routing_key"] == "R0UTING" and page["dedup_key"] == f"vigil/{inc_id}"
    assert page["payload"]["summary"].startswith(f"[SEV2] {inc_id}: ")
    assert page["payload"]["severity"] == "error" and page["payload"]["source"] == "iris"
    assert page["payload"]["custom_details"]["text"] == \
        f"Level 0: notified {on_call} (SEV2, pager, chat)"
    assert page["links"][0]["href"] == f"http://vigil.test:8000/api/v1/incidents/{inc_id}"

    # Fifteen minutes without an acknowledgement: level 1 is paged. The same step's
    # evaluation sees version 1 in production with no bad labels: the alert resolves and
    # so does the incident.
    step(s, "15m")
    inc = s.get(f"/api/v1/incidents/{inc_id}").json()
    pages = [e["text"] for e in inc["timeline"] if e["kind"] == "page"]
    assert pages == [f"Level 0: notified {on_call} (SEV2, pager, chat)",
                     "Level 1: escalated to ml-team (SEV2, pager, chat)"]
    assert inc["status"] == "resolved"
    # The rollback's effect, read back actions.verify_after (5 min) later.
    verify = [e["text"] for e in inc["timeline"] if e["kind"] == "verify"]
    assert len(verify) == 1 and verify[0].startswith(
        "After the rollback, 5 min on: iris production v1, "), verify
    assert "breaker closed" in verify[0]
    assert inc["metrics"]["time_to_detect_seconds"] is not None
    assert inc["metrics"]["time_to_resolve_seconds"] is not None
    wait_for(lambda: len(pd_events()) == 3, what="the escalation and resolution at PagerDuty")
    assert pd_events() == [("trigger", f"vigil/{inc_id}"), ("trigger", f"vigil/{inc_id}"),
                           ("resolve", f"vigil/{inc_id}")]
    assert receiver.received("/pd")[1]["payload"]["custom_details"]["text"] == \
        "Level 1: escalated to ml-team (SEV2, pager, chat)"

    # Everything is delivered, the webhook included once it came back.
    rows = wait_for(lambda: delivered(s), what="every notification to be delivered")
    hook_rows = [r for r in rows if r["channel"] == "audit-hook"]
    assert sum(r["attempts"] - 1 for r in hook_rows) == 3  # its three 503s, retried
    assert len(receiver.received("/hook")) == len(hook_rows)  # each message once
    assert all(h["X-Token"] == "s3cret" for h in receiver.headers("/hook"))
    assert s.metric("vigil_notifications_total", channel="audit-hook", outcome="retried") == 3
    assert s.metric("vigil_notifications_pending") == 0

    slack = [m["text"] for m in receiver.received("/slack")]
    assert any(t.startswith(":rotating_light: *[SEV2] " + inc_id) and on_call in t for t in slack)
    assert any("Rolled back iris 2 -> 1" in t for t in slack), slack
    assert any("[FIRING:1] ModelAccuracyLow iris" in t for t in slack), slack
    assert any("[RESOLVED] ModelAccuracyLow iris" in t for t in slack), slack
    assert any(t.startswith(":white_check_mark: *Resolved [SEV2] " + inc_id) for t in slack)

    pm = subprocess.run([VIGIL_BIN, "incident", "postmortem", inc_id, "--url",
                         f"http://127.0.0.1:{s.port}"], capture_output=True, text=True,
                        timeout=60).stdout
    for fact in (f"Level 0: notified {on_call}", "Level 1: escalated to ml-team",
                 "Rolled back iris 2 -> 1", "After the rollback, 5 min on: iris production v1",
                 "Alert firing: ModelAccuracyLow on iris",
                 "Alert resolved: ModelAccuracyLow on iris"):
        assert fact in pm, fact


def test_undelivered_notifications_survive_a_crash(start_server, receiver, tmp_path):
    notify = write(tmp_path, "notify.yaml", """
channels:
  - {name: hook, type: webhook, url: "URL/hook"}
retry: {initial: 50ms, max: 100ms}
""", receiver)
    env = {"VIGIL_ALERT_EVAL_INTERVAL": "50ms", "VIGIL_NOTIFICATIONS": notify}
    receiver.down = True
    s = start_server(env=env, models=("iris",))
    r = s.post("/api/v1/incidents", {"severity": "SEV2", "title": "Fraud scoring down"})
    assert r.status == 201
    inc_id = r.json()["id"]
    row = wait_for(lambda: [x for x in outbox(s) if x["attempts"] >= 2], what="failed attempts")[0]
    assert row["state"] == "pending" and row["last_error"].startswith("HTTP 503")
    assert row["dedup_key"] == f"vigil/{inc_id}" and row["next_attempt"]
    s.stop(signal.SIGKILL)  # a crash: nothing gets to flush or say goodbye

    receiver.down = False
    s = start_server(env=env, models=("iris",), repo=s.repo, data_dir=s.data_dir)
    got = wait_for(lambda: receiver.received("/hook"), what="the delivery after the restart")
    assert got[0]["dedup_key"] == f"vigil/{inc_id}" and got[0]["event"] == "trigger"
    assert got[0]["subject"] == inc_id and "Level 0: notified" in got[0]["text"]
    sent = wait_for(lambda: outbox(s, state="sent"), what="the sent mark")
    assert sent[0]["id"] == row["id"] and sent[0]["attempts"] > row["attempts"]


AM = {"version": "4", "status": "firing", "receiver": "vigil", "groupKey": "{}",
      "alerts": [
          {"status": "firing", "fingerprint": "00000000000000aa",
           "labels": {"alertname": "ModelDown", "model": "iris", "severity": "critical"},
           "annotations": {"summary": "iris is down"}, "startsAt": "2026-11-23T10:00:00Z"},
          {"status": "firing", "fingerprint": "00000000000000bb",
           "labels": {"alertname": "LatencyHigh", "model": "iris", "severity": "warning"},
           "annotations": {"summary": "iris p95 over 200 ms"},
           "startsAt": "2026-11-23T10:00:00Z"}]}


def test_inhibition_grouping_and_acknowledged_groups(start_server, receiver, tmp_path):
    notify = write(tmp_path, "notify.yaml", """
channels:
  - {name: team-slack, type: slack, url: "URL/slack", routes: [alerts]}
route: {group_by: [model], group_wait: 0s, group_interval: 5m, repeat_interval: 4h}
inhibit_rules:
  - source_matchers: [alertname=ModelDown]
    target_matchers: [severity=warning]
    equal: [model]
""", receiver)
    s = start_server(env={"VIGIL_ALERT_EVAL_INTERVAL": "1h", "VIGIL_NOTIFICATIONS": notify},
                     args=["--test-clock"], models=("iris",))
    assert s.post("/api/v1/alertmanager", AM).status == 200
    by_name = {a["name"]: a for a in s.get("/api/v1/alerts?state=firing").json()["alerts"]}
    assert by_name["LatencyHigh"]["inhibited_by"] == ["00000000000000aa"]
    assert by_name["ModelDown"]["inhibited_by"] == []
    incs = s.get("/api/v1/incidents").json()["incidents"]
    assert len(incs) == 1 and incs[0]["title"] == "iris is down"  # the inhibited one declared nothing

    # One message for the model's group, naming only what is not inhibited.
    first = wait_for(lambda: receiver.received("/slack"), what="the group message")
    assert len(first) == 1
    assert first[0]["text"].startswith(":rotating_light: *[FIRING:1] iris*")
    assert "iris is down" in first[0]["text"] and "p95" not in first[0]["text"]

    # Unchanged for more than repeat_interval: one reminder ...
    step(s, "4h")
    assert [r["event"] for r in outbox(s, limit=1000)] == ["trigger", "trigger"]
    assert "(still firing)" in outbox(s)[0]["body"]
    # ... but not once the alert is acknowledged (it stays visible, marked).
    assert s.post("/api/v1/alerts/00000000000000aa/ack", {}).status == 200
    step(s, "5h")
    assert len(outbox(s, limit=1000)) == 2
    assert s.get("/api/v1/alerts?state=firing").json()["alerts"][0]["acknowledged_by"]

    resolved = json.loads(json.dumps(AM))
    for a in resolved["alerts"]:
        a["status"] = "resolved"
    assert s.post("/api/v1/alertmanager", resolved).status == 200
    assert len(outbox(s, limit=1000)) == 2  # news wait for the group's next group_interval
    step(s, "5m")
    rows = outbox(s, limit=1000)
    assert [r["event"] for r in rows] == ["resolve", "trigger", "trigger"]
    assert "[RESOLVED] iris" in rows[0]["body"]
    assert len({r["dedup_key"] for r in rows}) == 1


def test_bad_notification_input(start_server, receiver, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("channels:\n  - {name: x, type: sms, url: 'http://x'}\n")
    data, repo = tmp_path / "data", tmp_path / "empty-repo"
    repo.mkdir()
    out = subprocess.run([VIGIL_BIN, "serve", "--model-repository", str(repo),
                          "--data-dir", str(data), "--port", "0"],
                         capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                         env=dict(os.environ, VIGIL_NOTIFICATIONS=str(bad)))
    assert out.returncode == 2
    assert "channels[0].type: expected slack, pagerduty, webhook or email" in out.stdout + out.stderr

    notify = write(tmp_path, "notify.yaml", NOTIFY, receiver)
    s = start_server(env={"VIGIL_NOTIFICATIONS": notify}, models=("iris",))
    listed = s.get("/api/v1/notifications").json()
    assert [(c["name"], c["type"]) for c in listed["channels"]] == [
        ("team-slack", "slack"), ("pagerduty", "pagerduty"), ("audit-hook", "webhook")]
    assert "R0UTING" not in json.dumps(listed["channels"])  # keys and URLs are secrets
    for path, status, msg in [("/api/v1/notifications?state=lost", 400, "state"),
                              ("/api/v1/notifications?limit=0", 400, "limit")]:
        r = s.get(path)
        assert r.status == status and msg in r.json()["error"], (path, r)
    for body, status, msg in [({}, 400, "channel: required"),
                              ({"channel": "nope"}, 404, "unknown channel 'nope'")]:
        r = s.post("/api/v1/notifications/test", body)
        assert r.status == status and msg in r.json()["error"], (body, r)
    r = s.post("/api/v1/notifications/test", {"channel": "team-slack", "text": "hello"})
    assert r.status == 202 and r.json()["queued"] == 1
    got = wait_for(lambda: receiver.received("/slack"), what="the test message")
    assert "Vigil test notification for team-slack" in got[0]["text"] and "hello" in got[0]["text"]
    url = ["--url", f"http://127.0.0.1:{s.port}"]
    out = subprocess.run([VIGIL_BIN, "notifications", "test", "audit-hook", *url],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "queued a test message for audit-hook" in out.stdout
    wait_for(lambda: receiver.received("/hook"), what="the CLI's test message")
    out = subprocess.run([VIGIL_BIN, "notifications", "list", *url], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0 and "team-slack (slack)" in out.stdout and "sent" in out.stdout
    out = subprocess.run([VIGIL_BIN, "notifications", "test", "nope", *url],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "unknown channel 'nope'" in out.stderr
    out = subprocess.run([VIGIL_BIN, "notifications", "list", "--state", "odd", *url],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert s.post("/api/v1/alertmanager", {"version": "4", "alerts": "x"}).status == 400


def test_the_service_alerts_on_its_own_health(start_server, receiver, tmp_path):
    """No model ready is the service down: VigilServiceUnhealthy after 1 minute, a SEV1
    incident (DESIGN 9.8), paged at once."""
    def break_iris(repo):
        (repo / "iris" / "config.yaml").write_text("backend: torchscript\ninputs: nope\n")

    notify = write(tmp_path, "notify.yaml", """
channels:
  - {name: pagerduty, type: pagerduty, url: "URL/pd", routing_key: K}
""", receiver)
    s = start_server(env={"VIGIL_ALERT_EVAL_INTERVAL": "1h", "VIGIL_NOTIFICATIONS": notify},
                     args=["--test-clock"], models=("iris",), prepare=break_iris)
    assert s.get("/health").json()["status"] == "unhealthy"
    step(s)
    pending = [a for a in s.get("/api/v1/alerts?state=pending").json()["alerts"]
               if a["name"] == "VigilServiceUnhealthy"]
    assert pending and pending[0]["labels"]["service"] == "vigil"
    step(s, "1m")
    firing = [a for a in s.get("/api/v1/alerts?state=firing").json()["alerts"]
              if a["name"] == "VigilServiceUnhealthy"]
    assert firing and firing[0]["labels"]["sev"] == "SEV1" and firing[0]["value"] == 2
    incs = [i for i in s.get("/api/v1/incidents").json()["incidents"] if i["severity"] == "SEV1"]
    assert len(incs) == 1 and incs[0]["service"] == "vigil"
    page = wait_for(lambda: [e for e in receiver.received("/pd")
                             if e["dedup_key"] == "vigil/" + incs[0]["id"]], what="the SEV1 page")
    assert page[0]["payload"]["severity"] == "critical"


def test_alerts_pushed_through_the_api_join_the_pipeline_and_time_out(start_server):
    """POST /api/v1/alerts takes Alertmanager's API v2 body (a bare array): any script can
    raise an alert; one not sent again resolves after 5 minutes (resolve_timeout)."""
    s = start_server(env={"VIGIL_ALERT_EVAL_INTERVAL": "1h"}, args=["--test-clock"],
                     models=("iris",))
    body = [{"labels": {"alertname": "FeatureStoreStale", "model": "iris", "severity": "critical"},
             "annotations": {"summary": "feature store 2 h behind"}}]
    r = s.post("/api/v1/alerts", body)
    assert r.status == 200 and r.json() == {"received": 1}
    a = [x for x in s.get("/api/v1/alerts?state=firing").json()["alerts"]
         if x["name"] == "FeatureStoreStale"]
    assert len(a) == 1 and a[0]["source"] == "api"
    incs = s.get("/api/v1/incidents?status=open").json()["incidents"]
    assert len(incs) == 1 and incs[0]["severity"] == "SEV2" and incs[0]["service"] == "iris"
    step(s, "4m")
    assert s.post("/api/v1/alerts", {"alerts": body}).status == 200  # sent again: still firing
    step(s, "4m")
    assert [x for x in s.get("/api/v1/alerts?state=firing").json()["alerts"]
            if x["name"] == "FeatureStoreStale"]
    step(s, "2m")  # 6 minutes since it was last sent
    assert not [x for x in s.get("/api/v1/alerts?state=firing").json()["alerts"]
                if x["name"] == "FeatureStoreStale"]
    assert s.get(f"/api/v1/incidents/{incs[0]['id']}").json()["status"] == "resolved"
    for bad, msg in [({"labels": {}}, "expected an array"),
                     ([{"labels": {"model": "iris"}}], "[0].labels.alertname: required"),
                     ([{"labels": {"alertname": "X"}, "endsAt": "later"}], "[0].endsAt"),
                     ([{"labels": {"alertname": "X", "n": 1}}], "[0].labels.n: expected a string")]:
        r = s.post("/api/v1/alerts", bad)
        assert r.status == 400 and msg in r.json()["error"], (bad, r)


def test_email_pages_over_smtp_with_a_retry(start_server, smtp, tmp_path):
    """SEV3 is chat + e-mail: its page goes out as an e-mail through a real local SMTP
    server that refuses the first attempt with a transient 451."""
    notify = tmp_path / "notify.yaml"
    notify.write_text(f"""
channels:
  - name: oncall-mail
    type: email
    url: smtp://127.0.0.1:{smtp.port}
    from: vigil@example.com
    to: [ml-oncall@example.com, ml-team@example.com]
retry: {{initial: 50ms, max: 100ms}}
""")
    smtp.fail = 1
    s = start_server(env={"VIGIL_ALERT_EVAL_INTERVAL": "50ms", "VIGIL_NOTIFICATIONS": str(notify)},
                     models=("iris",))
    r = s.post("/api/v1/incidents", {"severity": "SEV3", "title": "Drift on fraud: amount",
                                     "description": "PSI 0.31"})
    assert r.status == 201
    inc_id = r.json()["id"]
    mail = wait_for(lambda: smtp.received(), what="the e-mail")[0]
    sender, rcpts, message = mail
    assert sender == "vigil@example.com"
    assert rcpts == ["ml-oncall@example.com", "ml-team@example.com"]
    headers, body = message.split("\r\n\r\n", 1)
    assert f"Subject: [SEV3] {inc_id}: Drift on fraud: amount" in headers
    assert "To: ml-oncall@example.com, ml-team@example.com" in headers
    assert f"X-Vigil-Dedup-Key: vigil/{inc_id}" in headers
    assert "Level 0: notified ml-team (SEV3, chat, email)" in body
    row = wait_for(lambda: outbox(s, state="sent"), what="the sent mark")[0]
    assert row["channel"] == "oncall-mail" and row["attempts"] == 2

    bad = tmp_path / "bad.yaml"
    bad.write_text("channels:\n  - {name: m, type: email, url: 'smtp://x', to: [a@b]}\n")
    out = subprocess.run([VIGIL_BIN, "serve", "--model-repository", str(tmp_path / "repo0"),
                          "--data-dir", str(tmp_path / "d"), "--port", "0"],
                         capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                         env=dict(os.environ, VIGIL_NOTIFICATIONS=str(bad)))
    assert out.returncode == 2 and "channels[0].from: required" in out.stdout + out.stderr
