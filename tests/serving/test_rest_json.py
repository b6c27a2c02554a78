"""TF Serving's REST JSON <-> arrays, without a model or TensorFlow."""
from __future__ import annotations

import json

import numpy as np
import pytest

from imgpipe.serving import rest_json
from imgpipe.serving.errors import ServingError
from imgpipe.serving.rest_json import InputSpec

BYTES = {"image_bytes": InputSpec("DT_STRING", (None,))}
PIXELS = {"pixels": InputSpec("DT_FLOAT", (None, None, None, None))}
TWO = {"a": InputSpec("DT_FLOAT", (None, 2)), "b": InputSpec("DT_INT64", (None,))}


def arrays(body, specs):
    request = rest_json.parse_predict_body(json.dumps(body).encode())
    return request, rest_json.request_arrays(request, specs)


def refusal(body, specs=BYTES) -> str:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(ServingError) as caught:
        rest_json.request_arrays(rest_json.parse_predict_body(raw), specs)
    assert caught.value.http_status == 400
    return caught.value.message


def test_row_format_with_b64_and_plain_strings():
    request, got = arrays({"instances": [{"b64": "aGk="}, "text"]}, BYTES)
    assert request.signature_name == "serving_default" and not request.columnar
    assert got["image_bytes"].tolist() == [b"hi", b"text"]


def test_row_format_named_objects_and_several_inputs():
    _, got = arrays({"instances": [{"a": [1, 2.5], "b": 3},
                                   {"a": [0, -1], "b": 4}]}, TWO)
    assert got["a"].dtype == np.float32 and got["a"].shape == (2, 2)
    assert got["b"].tolist() == [3, 4] and got["b"].dtype == np.int64


def test_columnar_format_single_and_named():
    request, got = arrays({"signature_name": "serving_pixels",
                           "inputs": [[[[0], [255]]]]}, PIXELS)
    assert request.columnar and request.signature_name == "serving_pixels"
    assert got["pixels"].shape == (1, 1, 2, 1)
    _, got = arrays({"inputs": {"a": [[1, 2]], "b": [7], "extra": 1}}, TWO)
    assert got["b"].tolist() == [7]


@pytest.mark.parametrize("body, message", [
    (b"", "The document is empty"),
    (b"{not json", "JSON Parse error"),
    (b"\xff\xfe", "JSON Parse error"),
    (b"[1, 2]", "Is not object"),
    ({"instances": []}, "No values in 'instances' array"),
    ({"instances": {"b64": "aGk="}}, "to be an list/array"),
    ({"instances": ["x"], "inputs": ["x"]}, "only one of"),
    ({"signature_name": 3, "instances": ["x"]}, "must be a string value"),
    ({"nothing": 1}, "Missing 'inputs' or 'instances' key"),
    ({"instances": [{"b64": "***"}]}, "Unable to base64 decode"),
    ({"instances": [1.5]}, "is not of expected type: string"),
    ({"instances": [True]}, "is not of expected type: string"),
    ({"instances": [{"wrong": "x"}]}, "keys must be equal to: image_bytes"),
    ({"instances": [["x"]]}, "has shape [1, 1] but signature"),
])
def test_bad_bodies_are_refused_with_tf_serving_wording(body, message):
    assert message in refusal(body)


@pytest.mark.parametrize("body, message", [
    ({"instances": [[[["a"]]]]}, "is not of expected type: float"),
    ({"instances": [[[[True]]]]}, "is not of expected type: float"),
    ({"instances": [[[[1]], [[2, 3]]]]}, "unexpected size"),
    ({"instances": [[[[1]]], [[[1, 2]]]]}, "Expecting shape"),
    ({"instances": [[[1]]]}, "has shape [1, 1, 1] but signature"),
    ({"inputs": [[[[1e39]]]]}, "without loss of precision"),
    ({"inputs": [[[[16777217]]]]}, "without loss of precision"),
])
def test_wrong_types_and_shapes_for_a_float_input(body, message):
    assert message in refusal(body, PIXELS)


def test_several_inputs_need_objects():
    assert "expecting list of objects" in refusal({"instances": [[1, 2]]}, TWO)
    assert "Missing named input: b" in refusal({"inputs": {"a": [[1, 2]]}}, TWO)
    assert "expecting an object" in refusal({"inputs": [[1, 2]]}, TWO)


def test_row_and_columnar_responses():
    outputs = {"probabilities": np.array([[0.2, 0.8], [1.0, 0.0]], np.float32),
               "predicted_class": np.array([b"b", b"a"], dtype=object)}
    rows = rest_json.predictions_json(outputs, columnar=False)
    # float32 printed as its shortest form (0.2, not 0.2000000029...).
    assert rows == {"predictions": [
        {"predicted_class": "b", "probabilities": [0.2, 0.8]},
        {"predicted_class": "a", "probabilities": [1.0, 0.0]}]}
    columns = rest_json.predictions_json(outputs, columnar=True)
    assert columns["outputs"]["predicted_class"] == ["b", "a"]
    single = rest_json.predictions_json(
        {"probabilities": outputs["probabilities"]}, columnar=False)
    assert single == {"predictions": [[0.2, 0.8], [1.0, 0.0]]}


def test_outputs_named_bytes_are_base64_and_batches_must_agree():
    got = rest_json.predictions_json(
        {"thumb_bytes": np.array([b"\x00\xff"], dtype=object)}, columnar=True)
    assert got == {"outputs": [{"b64": "AP8="}]}
    with pytest.raises(ServingError, match="inconsistent batch size"):
        rest_json.predictions_json({"a": np.zeros([2]), "b": np.zeros([3])},
                                   columnar=False)


def test_error_codes_map_to_tf_serving_http_statuses():
    from imgpipe.serving import errors
    assert errors.invalid_argument("x").http_status == 400
    assert errors.not_found("x").http_status == 404
    assert errors.unavailable("x").http_status == 503
    assert errors.ServingError("INTERNAL", "x").http_status == 500
    assert errors.ServingError("FAILED_PRECONDITION", "x").http_status == 400
    assert errors.body_too_large(10, 5).http_status == 413
