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
