"""Every endpoint and every bad input, against the real server and model.

One server for the module: version 1 from the pipeline run and version 2
(a copy), labelled stable=1 and canary=2 in a models.config written by the
promotion code, as after a push.
"""
from __future__ import annotations

import base64
import concurrent.futures
import threading

import numpy as np
import pytest

from imgpipe_components.model_store import register_pushed_version
from tests.serving.helpers import b64, push_copy, running_server

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def client(tmp_path_factory, pushed_version):
    base = tmp_path_factory.mktemp("api") / "serving" / "digits"
    base.mkdir(parents=True)
    push_copy(pushed_version, base, 1)
    register_pushed_version(base, 1)
    push_copy(pushed_version, base, 2)
    register_pushed_version(base, 2)
    with running_server(base, max_body_bytes=256 * 1024) as client:
        yield client


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()["error"]


def test_status_has_tf_servings_json_shape(client):
    assert client.get("/v1/models/digits").json() == {"model_version_status": [
        {"version": str(v), "state": "AVAILABLE",
         "status": {"error_code": "OK", "error_message": ""}} for v in (2, 1)]}
    one = client.get("/v1/models/digits/versions/1").json()
    assert [row["version"] for row in one["model_version_status"]] == ["1"]
    by_label = client.get("/v1/models/digits/labels/stable").json()
    assert [row["version"] for row in by_label["model_version_status"]] == ["1"]


def test_status_errors(client):
    assert error_of(client.get("/v1/models/nope"), 404) == \
        "Could not find any versions of model nope"
    assert error_of(client.get("/v1/models/digits/versions/9"), 404) == \
        "Could not find version 9 of model digits"
    assert "Unrecognized servable version label: gold" in error_of(
        client.get("/v1/models/digits/labels/gold"), 400)
    assert error_of(client.get("/v1/models"), 400) == \
        "Missing model name in request."


@pytest.mark.parametrize("path, version", [
    ("/v1/models/digits/metadata", "2"),
    ("/v1/models/digits/versions/1/metadata", "1"),
    ("/v1/models/digits/labels/canary/metadata", "2"),
])
def test_metadata_lists_the_signatures(client, path, version):
    body = client.get(path).json()
    assert body["model_spec"] == {"name": "digits", "version": version,
                                  "signature_name": ""}
    signatures = body["metadata"]["signature_def"]["signature_def"]
    assert {"serving_default", "serving_pixels", "serving_examples"} <= set(signatures)
    default = signatures["serving_default"]
    assert default["method_name"] == "tensorflow/serving/predict"
    image = default["inputs"]["image_bytes"]
    assert image["dtype"] == "DT_STRING"
    assert image["tensor_shape"]["dim"] == [{"size": "-1", "name": ""}]
    assert default["outputs"]["probabilities"]["tensor_shape"]["dim"][1][
        "size"] == "10"


def test_row_format_predicts_every_digit_like_the_saved_model(
        client, digit_pngs, pushed_version):
    import tensorflow as tf
    names = sorted(digit_pngs)
    response = client.post("/v1/models/digits:predict", json={
        "instances": [b64(digit_pngs[n]) for n in names]})
    assert response.status_code == 200, response.text
    predictions = response.json()["predictions"]
    assert len(predictions) == 10
    assert set(predictions[0]) == {"probabilities", "classes", "predicted_class"}
    assert predictions[0]["classes"] == [str(d) for d in range(10)]
    local = tf.saved_model.load(str(pushed_version)).signatures[
        "serving_default"](image_bytes=tf.constant([digit_pngs[n] for n in names]))
    np.testing.assert_allclose([p["probabilities"] for p in predictions],
                               local["probabilities"].numpy(), atol=1e-6)
    assert [p["predicted_class"] for p in predictions] == \
        [c.decode() for c in local["predicted_class"].numpy()]


def test_columnar_format_and_the_pixel_signature_agree(client, digit_pngs):
    from PIL import Image
    import io
    png = digit_pngs["3"]
    columnar = client.post("/v1/models/digits:predict", json={
        "inputs": {"image_bytes": [b64(png)]}}).json()["outputs"]
    pixels = np.asarray(Image.open(io.BytesIO(png)), np.float32)[:, :, None]
    by_pixels = client.post("/v1/models/digits:predict", json={
        "signature_name": "serving_pixels",
        "instances": [pixels.tolist()]}).json()["predictions"][0]
    assert columnar["predicted_class"] == [by_pixels["predicted_class"]]
    np.testing.assert_allclose(columnar["probabilities"][0],
                               by_pixels["probabilities"], atol=1e-5)


@pytest.mark.parametrize("path, version", [
    ("/v1/models/digits:predict", "2"),                 # latest
    ("/v1/models/digits/versions/1:predict", "1"),
    ("/v1/models/digits/labels/stable:predict", "1"),
    ("/v1/models/digits/labels/canary:predict", "2"),
    ("/V1/MODELS/digits/LABELS/stable:PREDICT", "1"),  # TF Serving's (?i)
])
def test_versions_and_labels_route_requests(client, digit_pngs, path, version):
    response = client.post(path, json={"instances": [b64(digit_pngs["5"])]})
    assert response.status_code == 200, response.text
    assert response.headers["x-model-version"] == version


NOT_A_PNG = base64.b64encode(b"this is not an image").decode()


@pytest.mark.parametrize("path, body, status, message", [
    ("/v1/models/digits:predict", b"{\"instances\": [", 400, "JSON Parse error"),
    ("/v1/models/digits:predict", b"", 400, "The document is empty"),
    ("/v1/models/digits:predict", b'{"instances": []}', 400,
     "No values in 'instances' array"),
    ("/v1/models/digits:predict", b'{"instances": [["a", "b"]]}', 400,
     "has shape [1, 2] but signature 'serving_default' expects [?]"),
    ("/v1/models/digits:predict", b'{"instances": [3.5]}', 400,
     "is not of expected type: string"),
    ("/v1/models/digits:predict",
     f'{{"instances": [{{"b64": "{NOT_A_PNG}"}}]}}'.encode(), 400,
     "Unknown image file format"),
    ("/v1/models/digits:predict", b'{"instances": [{"b64": "%%%"}]}', 400,
     "Unable to base64 decode"),
    ("/v1/models/digits:predict",
     b'{"signature_name": "serving_pixels", "instances": [[[1.0]]]}', 400,
     "expects [?, ?, ?, ?]"),
    ("/v1/models/digits:predict",
     b'{"signature_name": "nope", "instances": ["x"]}', 400,
     'Serving signature name: "nope" not found in signature def'),
    ("/v1/models/nope:predict", b'{"instances": ["x"]}', 404,
     "Servable not found for request: Latest(nope)"),
    ("/v1/models/digits/versions/7:predict", b'{"instances": ["x"]}', 404,
     "Servable not found for request: Specific(digits, 7)"),
    ("/v1/models/digits/labels/gold:predict", b'{"instances": ["x"]}', 400,
     "Unrecognized servable version label: gold"),
    ("/v1/models/digits/versions/x:predict", b"{}", 400, "Malformed request"),
    ("/v1/models/digits:classify", b"{}", 501, "use :predict"),
    ("/v1/models/digits:predict", b"x" * (256 * 1024 + 1), 413,
     "exceeds the server's limit"),
])
def test_bad_requests_get_clear_errors_and_the_server_keeps_serving(
        client, digit_pngs, path, body, status, message):
    assert message in error_of(client.post(path, content=body), status)
    ok = client.post("/v1/models/digits:predict",
                     json={"instances": [b64(digit_pngs["1"])]})
    assert ok.status_code == 200


def test_unknown_paths_answer_json_errors(client):
    assert "Malformed request: PUT" in error_of(
        client.put("/v1/models/digits"), 400)
    assert error_of(client.get("/elsewhere"), 404) == "Not Found"


def test_prometheus_metrics_count_requests_by_model_version_and_status(client):
    client.post("/v1/models/digits/versions/1:predict", json={"instances": ["x"]})
    page = client.get("/monitoring/prometheus/metrics")
    assert page.status_code == 200
    text = page.text
    assert ('imgpipe_serving_requests_total{api="predict",model="digits",'
            'status="400",version="1"}') in text
    assert 'imgpipe_serving_request_latency_seconds_bucket{api="predict"' in text
    assert 'imgpipe_serving_versions_available{model="digits"} 2.0' in text


def test_overload_answers_503_and_recovers(tmp_path, pushed_version, digit_pngs):
    base = tmp_path / "digits"
    base.mkdir()
    push_copy(pushed_version, base, 1)
    body = {"instances": [b64(digit_pngs[str(d % 10)]) for d in range(256)]}
    with running_server(base, max_predictions_in_flight=1) as client:
        start = threading.Barrier(6)

        def post(_):
            start.wait()
            return client.post("/v1/models/digits:predict", json=body)
        codes = set()
        for _ in range(5):          # overlap is likely, not certain: retry
            with concurrent.futures.ThreadPoolExecutor(6) as pool:
                responses = list(pool.map(post, range(6)))
            codes |= {r.status_code for r in responses}
            if 503 in codes:
                break
        assert codes == {200, 503}
        busy = next(r for r in responses if r.status_code == 503)
        assert "already in flight" in busy.json()["error"]
        assert client.post("/v1/models/digits:predict",
                           json=body).status_code == 200
