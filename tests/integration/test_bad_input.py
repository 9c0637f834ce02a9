"""Bad input never crashes the server: every case gets a 4xx with {"error": ...} naming it."""

import pytest

from conftest import IRIS_ROW, oip_body

INFER = "/v2/models/iris/infer"


@pytest.mark.parametrize("body,status,needle", [
    ("{not json", 400, "malformed JSON"),
    ("", 400, "empty request body"),
    ("[1, 2]", 400, "JSON object"),
    ({"inputs": [{"name": "input", "shape": [1, 4], "datatype": "INT64", "data": [1, 2, 3, 4]}]},
     400, "input 'input' is FP32, got INT64"),
    ({"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP16", "data": [1, 2, 3, 4]}]},
     400, "unsupported datatype 'FP16'"),
    ({"inputs": [{"name": "input", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}]},
     400, "does not match input 'input' shape [-1, 4]"),
    ({"inputs": [{"name": "input", "shape": [2, 4], "datatype": "FP32", "data": IRIS_ROW}]},
     400, "has 4 elements, shape [2, 4] needs 8"),
    ({"inputs": [{"name": "pixels", "shape": [1, 4], "datatype": "FP32", "data": IRIS_ROW}]},
     400, "unknown input 'pixels'"),
    ({"inputs": []}, 400, "inputs: expected a non-empty array"),
    ({"id": "x"}, 400, "inputs: expected a non-empty array"),
    ('{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,NaN,3,4]}]}',
     400, "feature 'sepal_width': value is missing"),
    ('{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,Infinity,3,4]}]}',
     400, "Infinity is not allowed"),
    ({"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32",
                  "data": [1, "x", 3, 4]}]}, 400, "expected FP32 number, got string"),
    (oip_body([IRIS_ROW], outputs=[{"name": "logits"}]), 400, "unknown output 'logits'"),
])
def test_bad_infer_bodies(server, body, status, needle):
    r = server.post(INFER, body)
    assert r.status == status, r
    assert needle in r.json()["error"], r


def test_unknown_model_and_version(server):
    r = server.post("/v2/models/nope/infer", oip_body([IRIS_ROW]))
    assert r.status == 404 and "unknown model 'nope'" in r.json()["error"]
    r = server.post("/v2/models/iris/versions/9/infer", oip_body([IRIS_ROW]))
    assert r.status == 404 and "has no version 9" in r.json()["error"]
    r = server.post("/v2/models/iris/versions/2x/infer", oip_body([IRIS_ROW]))
    assert r.status == 400 and "version must be a positive integer" in r.json()["error"]
    r = server.post("/v2/models/iris/versions/canary/infer", oip_body([IRIS_ROW]))
    assert r.status == 404 and "no version or alias 'canary'" in r.json()["error"]
    assert server.get("/v2/models/nope").status == 404
    assert server.get("/v2/models/nope/ready").status == 404


def test_config_not_matching_model_is_refused_at_load(start_server):
    # Two declared inputs for a one-input model: the warm-up inference fails, the version
    # is marked FAILED with the backend's reason and takes no traffic.
    config = """backend: torchscript
inputs:
  - {name: a, dtype: FP32, shape: [-1, 4]}
  - {name: b, dtype: FP32, shape: [-1, 4]}
outputs:
  - {name: probabilities, dtype: FP32, shape: [-1, 3]}
"""

    def prepare(repo):
        (repo / "iris" / "config.yaml").write_text(config)

    s = start_server(models=("iris",), prepare=prepare)
    r = s.post("/v2/models/iris/infer", oip_body([IRIS_ROW], name="a"))
    assert r.status == 503, r
    assert "warm-up inference failed" in r.json()["error"], r


def test_v1_predict_bad_bodies(server):
    cases = [
        ({"instances": [IRIS_ROW]}, 400, "model: expected the model name"),
        ({"model": "iris"}, 400, "instances: missing"),
        ({"model": "iris", "instances": [[1, 2, 3]]}, 400, "has 3 values, model 'iris' expects 4"),
        ({"model": "iris", "instances": [{"sepal_length": 1}]}, 400,
         "feature 'sepal_width': value is missing"),
        ({"model": "iris", "instances": [dict(zip(["a", "b", "c", "d"], IRIS_ROW))]}, 400,
         "unknown feature 'a'"),
        ({"model": "ghost", "instances": [IRIS_ROW]}, 404, "unknown model 'ghost'"),
        ({"model": "iris", "version": 0, "instances": [IRIS_ROW]}, 400, "version"),
    ]
    for body, status, needle in cases:
        r = server.post("/v1/predict", body)
        assert r.status == status, (body, r)
        assert needle in r.json()["error"], (body, r)


def test_oversized_body_is_413(start_server):
    s = start_server(env={"VIGIL_MAX_BODY_BYTES": "1024"}, models=("iris",))
    r = s.post(INFER, oip_body([IRIS_ROW] * 200))
    assert r.status == 413 and "larger than the limit of 1024 bytes" in r.json()["error"]
    assert s.get("/health").status == 200  # still serving


def test_unknown_endpoint_and_method(server):
    r = server.get("/v3/whatever")
    assert r.status == 404 and "no such endpoint" in r.json()["error"]
    r = server.get(INFER)
    assert r.status == 405 and "not allowed" in r.json()["error"]


def test_hostile_bodies_do_not_crash(server):
    deep = '{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":' + \
        "[" * 200000 + "]" * 200000 + "}]}"
    assert server.post(INFER, deep).status == 400
    r = server.post(INFER, {"inputs": [{"name": "input", "shape": [2147483648, 4],
                                        "datatype": "FP32", "data": []}]})
    assert r.status == 400 and "needs 8589934592" in r.json()["error"]
    r = server.post(INFER, oip_body([IRIS_ROW], parameters={"timeout_ms": 10**15}))
    assert r.status == 400 and "timeout_ms" in r.json()["error"]
    assert server.get("/health").status == 200


def test_garbage_http_does_not_crash(server):
    import socket
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"THIS IS NOT HTTP\r\n\r\n")
        data = sock.recv(4096)
    assert b"400" in data.split(b"\r\n", 1)[0]
    assert server.get("/health").status == 200
