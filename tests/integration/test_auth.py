"""API keys: Authorization: Bearer; health and metrics stay open unless configured."""
from conftest import IRIS_ROW, oip_body


def test_keys_required_on_inference_and_admin(start_server):
    s = start_server(env={"API_KEYS": "key-one, key-two"}, models=("iris",))
    r = s.post("/v2/models/iris/infer", oip_body([IRIS_ROW]))
    assert r.status == 401 and "missing API key" in r.json()["error"]
    r = s.post("/v2/models/iris/infer", oip_body([IRIS_ROW]), headers={"Authorization": "Bearer nope"})
    assert r.status == 401 and "invalid API key" in r.json()["error"]
    for key in ("key-one", "key-two"):
        r = s.post("/v2/models/iris/infer", oip_body([IRIS_ROW]),
                   headers={"Authorization": f"Bearer {key}"})
        assert r.status == 200, r
    assert s.post("/models/reload").status == 401
    assert s.post("/v1/predict", {"model": "iris", "instances": [IRIS_ROW]}).status == 401
    # Health and metrics stay open.
    assert s.get("/health").status == 200
    assert s.get("/v2/health/ready").status == 200
    assert s.get("/metrics").status == 200


def test_protected_health_and_metrics(start_server):
    s = start_server(env={"API_KEYS": "k", "VIGIL_PROTECT_HEALTH": "true",
                          "VIGIL_PROTECT_METRICS": "true"}, models=("iris",))
    assert s.get("/health").status == 401
    assert s.get("/metrics").status == 401
    assert s.get("/metrics", headers={"Authorization": "Bearer k"}).status == 200


def test_no_keys_means_open_with_warning(server):
    assert server.post("/v1/predict", {"model": "iris", "instances": [IRIS_ROW]}).status == 200
    assert "no API keys configured" in server.logs()


def test_config_file_settings_and_flag_precedence(start_server, tmp_path):
    config = tmp_path / "vigil.yaml"
    config.write_text("api_keys: [file-key]\nenvironment: staging\naccess_log: false\n")
    s = start_server(args=["--config", str(config)], models=("iris",))
    assert s.post("/v1/predict", {"model": "iris", "instances": [IRIS_ROW]}).status == 401
    r = s.post("/v1/predict", {"model": "iris", "instances": [IRIS_ROW]},
               headers={"Authorization": "Bearer file-key"})
    assert r.status == 200, r
    assert s.metric("ml_inference_total", model="iris", environment="staging",
                    status="success") == 1
    # A flag beats the file.
    s2 = start_server(args=["--config", str(config), "--environment", "prod"], models=("iris",))
    s2.post("/v1/predict", {"model": "iris", "instances": [IRIS_ROW]},
            headers={"Authorization": "Bearer file-key"})
    assert s2.metric("ml_inference_total", model="iris", environment="prod",
                     status="success") == 1


def test_bad_config_file_exits_2_naming_the_key(tmp_path):
    import subprocess
    from conftest import VIGIL_BIN, EXAMPLES
    config = tmp_path / "vigil.yaml"
    config.write_text("max_batch_sise: 8\n")
    r = subprocess.run([VIGIL_BIN, "serve", "--model-repository", EXAMPLES, "--config", str(config)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "max_batch_sise: unknown key (did you mean 'max_batch_size'?)" in r.stderr
