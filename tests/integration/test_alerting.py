"""Alerts end to end: built-in rules from the model's slo: section fire on Vigil's own
signals (accuracy from delayed labels, load failures), show in /api/v1/alerts, the CLI
and ALERTS{...}, and resolve; custom rules come from a YAML file."""
import json
import signal
import subprocess

from conftest import IRIS_ROW, VIGIL_BIN, oip_body, send_wrong_iris_labels, wait_for

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
    send_wrong_iris_labels(s)
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

    # The alert declared a SEV2 incident, which resolved with it.
    incidents = s.get("/api/v1/incidents").json()["incidents"]
    assert len(incidents) == 1
    inc = s.get(f"/api/v1/incidents/{incidents[0]['id']}").json()
    assert inc["id"].startswith("INC-") and len(inc["id"]) == 12
    assert inc["severity"] == "SEV2" and inc["automatic"] and inc["service"] == "iris"
    assert inc["status"] == "resolved" and alert["fingerprint"] in inc["alerts"]
    assert inc["policy"] == {"respond_minutes": 15, "escalate_minutes": 30,
                             "channels": ["pager", "chat"]}
    for k in ("time_to_detect_seconds", "time_to_resolve_seconds"):
        assert inc["metrics"][k] is not None and inc["metrics"][k] >= 0
    texts = [e["text"] for e in inc["timeline"]]
    assert any(t.startswith("Alert firing: ModelAccuracyLow on iris") for t in texts), texts
    assert any(t.startswith("Alert resolved: ModelAccuracyLow on iris") for t in texts), texts
    # actions.rollback defaults to suggest: the exact command, since v2 was just promoted.
    assert any(t.startswith("Suggested (actions.rollback: suggest): vigil rollback iris")
               for t in texts), texts
    assert s.metric("incidents_total", severity="SEV2", service="iris") == 1
    assert s.metric("incident_time_to_resolve_seconds_count") == 1
    pm = subprocess.run([VIGIL_BIN, "incident", "postmortem", inc["id"], "--url",
                         f"http://127.0.0.1:{s.port}"], capture_output=True, text=True, timeout=60)
    assert pm.returncode == 0, pm.stderr
    assert pm.stdout.startswith("# Incident Postmortem: iris: accuracy below 90 %")
    assert f"**Incident ID**: {inc['id']}" in pm.stdout and "**Severity**: SEV-2" in pm.stdout
    assert "Alert firing: ModelAccuracyLow on iris" in pm.stdout
    assert "## Root Cause" in pm.stdout and "## Action Items" in pm.stdout


def test_automatic_rollback_after_a_bad_deployment(start_server):
    def auto(repo):
        fast_slo(repo)
        cfg = repo / "iris" / "config.yaml"
        cfg.write_text(cfg.read_text() + "actions: {rollback: auto, recent_deploy: 1h}\n")

    s = start_server(env=ALERT_ENV, models=("iris",), prepare=auto)
    assert s.post("/api/v1/models/iris/promote", {"version": 2, "reason": "v2"}).status == 200
    send_wrong_iris_labels(s)

    def resolved_incident():
        incs = s.get("/api/v1/incidents?status=resolved").json()["incidents"]
        return incs and s.get(f"/api/v1/incidents/{incs[0]['id']}").json()

    inc = wait_for(resolved_incident, what="the incident to resolve after the rollback")
    actions = [e for e in inc["timeline"] if e["kind"] == "action"]
    assert len(actions) == 1 and actions[0]["author"] == "vigil", inc["timeline"]
    assert actions[0]["text"].startswith("Rolled back iris 2 -> 1 (automatic: ModelAccuracyLow")
    assert inc["severity"] == "SEV2" and inc["metrics"]["time_to_resolve_seconds"] is not None
    versions = s.get("/api/v1/models/iris/versions").json()
    assert versions["aliases"]["production"] == "1"
    history = s.get("/api/v1/models/iris/history").json()["history"]
    assert history[0]["action"] == "rollback" and history[0]["actor"] == "vigil"
    assert "automatic rollback: ModelAccuracyLow" in history[0]["reason"]
    pm = s.get(f"/api/v1/incidents/{inc['id']}/postmortem").text
    assert "Rolled back iris 2 -> 1" in pm  # under Resolution


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


def cli(server, *args):
    return subprocess.run([VIGIL_BIN, *args, "--url", f"http://127.0.0.1:{server.port}"],
                          capture_output=True, text=True, timeout=60)


def test_incident_by_hand_through_the_cli_and_bad_input(server):
    out = cli(server, "incident", "declare", "--sev", "1", "--title", "Fraud scoring down",
              "--description", "all requests fail", "--service", "fraud", "--json")
    assert out.returncode == 0, out.stderr
    inc = json.loads(out.stdout)
    assert inc["severity"] == "SEV1" and inc["status"] == "investigating"
    assert inc["policy"]["respond_minutes"] == 5 and inc["policy"]["escalate_minutes"] == 15
    iid = inc["id"]
    assert cli(server, "incident", "ack", iid).returncode == 0
    out = cli(server, "incident", "update", iid, "--status", "identified", "--commander", "ann",
              "--note", "xgboost file truncated")
    assert out.returncode == 0, out.stderr
    out = cli(server, "incident", "update", iid, "--status", "resolved", "--action",
              "restored model.ubj from the registry")
    assert out.returncode == 0, out.stderr
    shown = json.loads(cli(server, "incident", "show", iid, "--json").stdout)
    kinds = [e["kind"] for e in shown["timeline"]]
    assert kinds == ["declared", "ack", "status", "role", "note", "status", "action"], kinds
    assert shown["roles"]["incident_commander"] == "ann"
    assert shown["milestones"]["acknowledged"] and shown["milestones"]["resolved"]
    figures = json.loads(cli(server, "incident", "metrics").stdout)
    assert figures["total"] == 1 and figures["open"] == 0 and figures["mttr_seconds"] >= 0
    listing = cli(server, "incident", "list", "--status", "resolved")
    assert listing.returncode == 0 and iid in listing.stdout

    # Bad input: a 4xx that names the problem, and nothing changes.
    for path, body, code, msg in [
            ("/api/v1/incidents", {"title": "x", "severity": "SEV7"}, 400, "severity"),
            ("/api/v1/incidents", {"severity": "SEV2"}, 400, "title"),
            (f"/api/v1/incidents/{iid}/update", {"status": "done"}, 400, "status"),
            (f"/api/v1/incidents/{iid}/update", {"stauts": "resolved"}, 400, "did you mean"),
            (f"/api/v1/incidents/{iid}/update", {"note": 5}, 400, "note"),
            ("/api/v1/incidents/INC-00000000/ack", {}, 404, "unknown incident"),
            (f"/api/v1/incidents/{iid}/explode", {}, 404, "unknown incident action")]:
        r = server.post(path, body)
        assert r.status == code and msg in r.json()["error"], (path, body, r)
    assert server.get("/api/v1/incidents/INC-00000000").status == 404
    assert server.get("/api/v1/incidents?status=bogus").status == 400
    after = json.loads(cli(server, "incident", "show", iid, "--json").stdout)
    assert after["timeline"] == shown["timeline"] and after["status"] == "resolved"
    assert cli(server, "incident", "show", "INC-00000000").returncode == 2
    assert cli(server, "incident", "declare", "--sev", "9", "--title", "x").returncode == 2


AM_ALERT = {
    "version": "4", "groupKey": "{}:{alertname=\"GPUMemoryHigh\"}", "truncatedAlerts": 0,
    "status": "firing", "receiver": "vigil", "groupLabels": {"alertname": "GPUMemoryHigh"},
    "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://alertmanager:9093",
    "alerts": [{
        "status": "firing",
        "labels": {"alertname": "GPUMemoryHigh", "severity": "critical", "model": "fraud",
                   "instance": "gpu-0"},
        "annotations": {"summary": "GPU memory over 90 %"},
        "startsAt": "2026-11-23T10:00:00.000+01:00", "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus/graph", "fingerprint": "a1b2c3d4e5f60718"}]}


def test_alertmanager_webhook_feeds_alerts_and_incidents(server):
    r = server.post("/api/v1/alertmanager", AM_ALERT)
    assert r.status == 200 and r.json() == {"received": 1}
    a = [x for x in alerts(server, state="firing") if x["name"] == "GPUMemoryHigh"]
    assert len(a) == 1 and a[0]["source"] == "alertmanager"
    assert a[0]["fingerprint"] == "a1b2c3d4e5f60718" and a[0]["labels"]["instance"] == "gpu-0"
    assert a[0]["active_since"] == "2026-11-23T09:00:00Z"
    inc = server.get("/api/v1/incidents?status=open").json()["incidents"]
    assert len(inc) == 1 and inc[0]["severity"] == "SEV2" and inc[0]["service"] == "fraud"
    assert inc[0]["title"] == "GPU memory over 90 %"
    # Alertmanager sends the same group again: nothing new.
    assert server.post("/api/v1/alertmanager", AM_ALERT).status == 200
    assert len(server.get("/api/v1/incidents").json()["incidents"]) == 1
    resolved = json.loads(json.dumps(AM_ALERT))
    resolved["status"] = resolved["alerts"][0]["status"] = "resolved"
    resolved["alerts"][0]["endsAt"] = "2026-11-23T09:30:00Z"
    assert server.post("/api/v1/alertmanager", resolved).status == 200
    assert [x for x in alerts(server, state="resolved") if x["name"] == "GPUMemoryHigh"]
    inc = server.get(f"/api/v1/incidents/{inc[0]['id']}").json()
    assert inc["status"] == "resolved"
    for bad, msg in [({"version": "3", "alerts": []}, "version"),
                     ({"version": "4"}, "alerts"),
                     ({"version": "4", "alerts": [{"status": "odd", "labels": {}}]}, "status"),
                     ({"version": "4", "alerts": [{"status": "firing", "labels": {}}]},
                      "alertname"),
                     ({"version": "4", "alerts": [{"status": "firing", "labels": {"alertname": "x"},
                                                   "startsAt": "yesterday"}]}, "startsAt")]:
        r = server.post("/api/v1/alertmanager", bad)
        assert r.status == 400 and msg in r.json()["error"], (bad, r)


def test_silences_keep_alerts_visible_but_declare_nothing_and_ack(start_server):
    s = start_server(env=ALERT_ENV)
    out = cli(s, "alerts", "silence", "-m", "alertname=GPUMemoryHigh", "-m", "model=~fr.*",
              "--duration", "2h", "--comment", "maintenance")
    assert out.returncode == 0, out.stderr
    silence = json.loads(out.stdout)
    assert silence["id"].startswith("SIL-") and silence["matchers"] == [
        "alertname=GPUMemoryHigh", "model=~fr.*"]
    assert s.post("/api/v1/alertmanager", AM_ALERT).status == 200
    a = [x for x in alerts(s, state="firing") if x["name"] == "GPUMemoryHigh"][0]
    assert a["silenced_by"] == [silence["id"]]
    assert s.get("/api/v1/incidents").json()["incidents"] == []  # silenced: no incident
    # Silences survive a restart (they are in the store).
    s.stop()
    s = start_server(env=ALERT_ENV, repo=s.repo, data_dir=s.data_dir)
    listed = json.loads(cli(s, "alerts", "silences").stdout)["silences"]
    assert [x["id"] for x in listed] == [silence["id"]] and listed[0]["comment"] == "maintenance"
    assert cli(s, "alerts", "expire", silence["id"]).returncode == 0
    assert s.get("/api/v1/silences").json()["silences"] == []
    assert s.call("DELETE", f"/api/v1/silences/{silence['id']}").status == 409
    assert s.call("DELETE", "/api/v1/silences/SIL-nope").status == 404
    # Not silenced any more: a new alert declares an incident; acknowledging the alert
    # acknowledges the incident.
    other = json.loads(json.dumps(AM_ALERT))
    other["alerts"][0]["fingerprint"] = "ffff000011112222"
    assert s.post("/api/v1/alertmanager", other).status == 200
    inc = wait_for(lambda: s.get("/api/v1/incidents").json()["incidents"], what="the incident")
    acked = json.loads(cli(s, "alerts", "ack", "ffff000011112222").stdout)
    assert acked["incident"] == inc[0]["id"]
    assert s.get(f"/api/v1/incidents/{inc[0]['id']}").json()["milestones"]["acknowledged"]
    a = [x for x in alerts(s, state="firing") if x["fingerprint"] == "ffff000011112222"][0]
    assert a["acknowledged_by"]  # still visible, marked
    assert s.post("/api/v1/alerts/0000000000000000/ack", {}).status == 404
    for bad, msg in [({"matchers": [], "duration": "1h"}, "matchers"),
                     ({"matchers": ["alertname=~("], "duration": "1h"}, "regular expression"),
                     ({"matchers": ["nonsense"], "duration": "1h"}, "expected name=value"),
                     ({"matchers": ["a=b"]}, "endsAt or duration"),
                     ({"matchers": ["a=b"], "duration": "-1h"}, "duration")]:
        r = s.post("/api/v1/silences", bad)
        assert r.status == 400 and msg in r.json()["error"], (bad, r)


ONCALL = """
schedules:
  - name: ml-primary
    layers:
      - {name: weekly, start: 2026-01-05T09:00:00Z, rotation: 168h, members: [alice, bob]}
"""


def test_pages_the_on_call_and_escalates_until_acknowledged(start_server, tmp_path):
    oncall = tmp_path / "oncall.yaml"
    oncall.write_text(ONCALL)
    s = start_server(env=dict(ALERT_ENV, VIGIL_ONCALL=str(oncall)), args=["--test-clock"],
                     models=("iris",))
    who = json.loads(cli(s, "oncall", "who", "--at", "2026-01-06T10:00:00Z", "--json").stdout)
    assert who["schedules"][0]["on_call"] == "alice"
    assert who["schedules"][0]["shift_ends"] == "2026-01-12T09:00:00Z"
    levels = who["escalation_policies"][0]["levels"]
    assert [l["delay_minutes"] for l in levels] == [0, 15, 30, 60]  # runbook 000's ladder
    assert levels[0]["now"] == ["alice"] and levels[3]["now"] == ["vp-ai-ml"]
    assert s.get("/api/v1/oncall?at=soon").status == 400

    inc = json.loads(cli(s, "incident", "declare", "--sev", "2", "--title", "Model down",
                         "--json").stdout)
    now = s.get("/api/v1/oncall").json()["at"]

    def pages():
        return [e["text"] for e in s.get(f"/api/v1/incidents/{inc['id']}").json()["timeline"]
                if e["kind"] == "page"]

    on_call = s.get("/api/v1/oncall").json()["schedules"][0]["on_call"]
    assert wait_for(lambda: pages(), what="the first page") == [
        f"Level 0: notified {on_call} (SEV2, pager, chat)"]
    r = s.post("/api/v1/test/clock", {"advance": "15m"})
    assert r.status == 200 and r.json()["now"] > now
    assert pages()[-1] == "Level 1: escalated to ml-team (SEV2, pager, chat)"
    timeline = s.get(f"/api/v1/incidents/{inc['id']}").json()["timeline"]
    assert any(e["kind"] == "sla" and "not acknowledged within 15 min" in e["text"]
               for e in timeline)
    s.post("/api/v1/test/clock", {"advance": "15m"})
    assert pages()[-1] == "Level 2: escalated to ml-engineering-manager (SEV2, pager, chat)"
    assert cli(s, "incident", "ack", inc["id"]).returncode == 0
    s.post("/api/v1/test/clock", {"advance": "1h"})
    assert len(pages()) == 3  # acknowledged: the VP is not paged
    assert s.post("/api/v1/test/clock", {"advance": "-5m"}).status == 400

    handoff = cli(s, "oncall", "handoff")
    assert handoff.returncode == 0, handoff.stderr
    md = handoff.stdout
    assert md.startswith("# Shift handoff")
    assert "| ml-primary | " in md and inc["id"] in md and "| SEV2 |" in md
    assert "Level 2: escalated to ml-engineering-manager" in md
    assert s.get("/api/v1/oncall/handoff?lookback=never").status == 400


def test_test_clock_is_off_by_default(server):
    r = server.post("/api/v1/test/clock", {"advance": "15m"})
    assert r.status == 404 and "--test-clock" in r.json()["error"]


def test_error_budget_burn_rate_alerts(start_server):
    s = start_server(env=ALERT_ENV, models=("iris",))
    for _ in range(10):
        assert s.post("/v2/models/iris/infer", oip_body([IRIS_ROW])).status == 200
    for _ in range(20):  # errors: 2 of 3 requests fail, 67x a 99 % SLO's budget
        assert s.post("/v2/models/iris/infer", oip_body([[1, 2, 3]])).status == 400
    fast = wait_for(lambda: firing(s, "ModelErrorBudgetBurnFast"), what="the fast burn alert")[0]
    assert fast["condition"] == "availability_burn > 14.4" and fast["value"] > 14.4
    assert fast["labels"]["severity"] == "critical"
    assert firing(s, "ModelErrorBudgetBurnSlow")
    ticket = wait_for(lambda: firing(s, "ModelErrorBudgetBurnTicket"), what="the ticket")[0]
    assert ticket["labels"]["severity"] == "info"
    assert not firing(s, "ModelLatencyBudgetBurnFast")  # iris answers in well under 200 ms


def test_firing_alerts_survive_a_crash_and_resolve_when_their_condition_ended(start_server,
                                                                              tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {name: IrisBusy, signal: request_rate, model: iris, window: 1m,"
                     " threshold: 0, severity: critical, for: 0s}\n")
    env = dict(ALERT_ENV, VIGIL_ALERT_RULES=str(rules))
    s = start_server(env=env, models=("iris",))
    for _ in range(3):
        assert s.post("/v2/models/iris/infer", oip_body([IRIS_ROW])).status == 200
    alert = wait_for(lambda: firing(s, "IrisBusy"), what="the alert")[0]
    inc = wait_for(lambda: s.get("/api/v1/incidents?status=open").json()["incidents"],
                   what="the incident")[0]
    s.stop(signal.SIGKILL)

    # No traffic after the restart: the restored alert resolves at an evaluation, and its
    # incident with it (not left open forever).
    s = start_server(env=env, models=("iris",), repo=s.repo, data_dir=s.data_dir)
    done = wait_for(lambda: s.get(f"/api/v1/incidents/{inc['id']}").json()["status"] == "resolved",
                    what="the incident to resolve after the restart")
    assert done
    texts = [e["text"] for e in s.get(f"/api/v1/incidents/{inc['id']}").json()["timeline"]]
    assert any(t.startswith("Alert resolved: IrisBusy on iris") for t in texts), texts
    resolved = [a for a in alerts(s, state="resolved") if a["name"] == "IrisBusy"]
    assert resolved and resolved[0]["fingerprint"] == alert["fingerprint"]
    assert len(s.get("/api/v1/incidents").json()["incidents"]) == 1  # nothing declared twice
