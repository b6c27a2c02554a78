"""TF Serving's REST JSON <-> arrays, without TensorFlow.

Follows tensorflow_serving/util/json_tensor.cc: the row format
(`{"instances": [...]}` -> `{"predictions": [...]}`), the columnar format
(`{"inputs": ...}` -> `{"outputs": ...}`), `{"b64": "..."}` for bytes, the
same type rules (a float input takes numbers, not strings or booleans) and
the same error wording where a client may match on it.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import math
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from imgpipe.serving.errors import invalid_argument

DEFAULT_SIGNATURE = "serving_default"
BYTES_SUFFIX = "_bytes"   # string outputs named so are sent as {"b64": ...}

_NUMPY_DTYPES = {
    "DT_FLOAT": np.float32, "DT_DOUBLE": np.float64, "DT_HALF": np.float16,
    "DT_INT8": np.int8, "DT_INT16": np.int16, "DT_INT32": np.int32,
    "DT_INT64": np.int64, "DT_UINT8": np.uint8, "DT_UINT16": np.uint16,
    "DT_UINT32": np.uint32, "DT_UINT64": np.uint64, "DT_BOOL": np.bool_,
    "DT_STRING": object,
}
_FLOAT_TYPES = {"DT_FLOAT", "DT_DOUBLE", "DT_HALF"}
MAX_RANK = 32             # numpy's (and so this server's) dimension limit


@dataclasses.dataclass(frozen=True)
class InputSpec:
    """One signature input: TF dtype name and shape (None: unknown)."""
    dtype: str
    shape: Optional[Tuple[Optional[int], ...]]


@dataclasses.dataclass(frozen=True)
class ParsedRequest:
    signature_name: str
    columnar: bool
    payload: Any            # the "instances" list or the "inputs" value


def _show(value: Any) -> str:
    return json.dumps(value)[:200]


def parse_predict_body(body: bytes) -> ParsedRequest:
    """The JSON document: signature name and which of the two formats."""
    if not body.strip():
        raise invalid_argument("JSON Parse error: The document is empty")
    try:
        doc = json.loads(body)   # accepts NaN/Infinity, as TF Serving does
    except (ValueError, UnicodeDecodeError) as error:
        raise invalid_argument(f"JSON Parse error: {error}") from None
    if not isinstance(doc, dict):
        raise invalid_argument(f"JSON Value: {_show(doc)} Is not object")
    signature = doc.get("signature_name", DEFAULT_SIGNATURE)
    if not isinstance(signature, str):
        raise invalid_argument(
            f"JSON Value: {_show(doc)} not formatted correctly. "
            "'signature_name' key must be a string value.")
    if "instances" in doc and "inputs" in doc:
        raise invalid_argument("Not formatted correctly: expecting only one "
                               "of 'inputs' or 'instances' keys to exist")
    if "instances" in doc:
        instances = doc["instances"]
        if not isinstance(instances, list):
            raise invalid_argument("Expecting 'instances' to be an list/array")
        if not instances:
            raise invalid_argument("No values in 'instances' array")
        return ParsedRequest(signature or DEFAULT_SIGNATURE, False, instances)
    if "inputs" in doc:
        return ParsedRequest(signature or DEFAULT_SIGNATURE, True, doc["inputs"])
    raise invalid_argument("Missing 'inputs' or 'instances' key")


def _is_b64(value: Any) -> bool:
    return (isinstance(value, dict) and len(value) == 1
            and isinstance(value.get("b64"), str))


def _is_named_object(value: Any) -> bool:
    return isinstance(value, dict) and not _is_b64(value)


def _decode_b64(value: dict) -> bytes:
    text = value["b64"]
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise invalid_argument("Unable to base64 decode") from None


def _type_error(value: Any, dtype: str) -> Exception:
    kind = {dict: "Object", list: "Array", str: "String", bool: "Bool",
            type(None): "Null"}.get(type(value), "Number")
    return invalid_argument(f"JSON Value: {_show(value)} Type: {kind} is not "
                            f"of expected type: {dtype[3:].lower()}")


def _fits_float(value: Any, info: np.finfo) -> bool:
    """TF Serving's IsLosslessDecimal: integers up to 2**mantissa bits, and
    decimals within the type's range (infinities and NaN pass)."""
    if isinstance(value, int):
        return abs(value) < 2 ** (info.nmant + 1)
    return not math.isfinite(value) or float(info.min) <= value <= float(info.max)


def _leaf(value: Any, dtype: str) -> Any:
    """One JSON scalar as a value of `dtype`, with TF Serving's type rules."""
    if dtype == "DT_STRING":
        if isinstance(value, str):
            return value.encode("utf-8")
        if _is_b64(value):
            return _decode_b64(value)
        raise _type_error(value, dtype)
    if dtype == "DT_BOOL":
        if isinstance(value, bool):
            return value
        raise _type_error(value, dtype)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _type_error(value, dtype)
    if dtype in _FLOAT_TYPES:
        if not _fits_float(value, np.finfo(_NUMPY_DTYPES[dtype])):
            raise invalid_argument(f"Cannot convert JSON value: {value} to "
                                   f"{dtype[3:].lower()} without loss of "
                                   "precision.")
        return value
    if not isinstance(value, int):
        raise _type_error(value, dtype)
    info = np.iinfo(_NUMPY_DTYPES[dtype])
    if not info.min <= value <= info.max:
        raise invalid_argument(f"JSON Value: {value} is out of range for "
                               f"{dtype[3:].lower()}")
    return value


def _shape_of(value: Any) -> List[int]:
    """The dense shape implied by the first element at each level."""
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return shape


def _flatten(value: Any, shape: List[int], level: int, dtype: str,
             out: list) -> None:
    if not isinstance(value, list):
        if level != len(shape):
            raise invalid_argument(
                f"JSON Value: {_show(value)} found at incorrect level: "
                f"{level + 1} in the JSON DOM. Expected at level: {len(shape)}")
        out.append(_leaf(value, dtype))
        return
    if level >= len(shape):
        raise invalid_argument(f"Encountered list at unexpected level: {level}"
                               f" expected < {len(shape)}")
    if len(value) != shape[level]:
        raise invalid_argument(
            f"Encountered list at unexpected size: {len(value)} at level: "
            f"{level} expected size: {shape[level]}")
    for item in value:
        _flatten(item, shape, level + 1, dtype, out)


def to_array(value: Any, dtype: str) -> np.ndarray:
    """A nested JSON list (or scalar) as a dense array of `dtype`."""
    if dtype not in _NUMPY_DTYPES:
        raise invalid_argument(f"Conversion of JSON to type {dtype} is not "
                               "supported")
    shape, flat = _shape_of(value), []
    if len(shape) > MAX_RANK:
        raise invalid_argument(f"JSON Value nested {len(shape)} lists deep: "
                               f"a tensor has at most {MAX_RANK} dimensions; "
                               "send the signature's shape.")
    _flatten(value, shape, 0, dtype, flat)
    if dtype == "DT_STRING":
        array = np.empty(len(flat), dtype=object)
        array[:] = flat
        return array.reshape(shape)
    return np.asarray(flat, dtype=_NUMPY_DTYPES[dtype]).reshape(shape)


def _stack_instances(instances: list, specs: Dict[str, InputSpec]
                     ) -> Dict[str, np.ndarray]:
    """Row format: one element per example, batched on a new first axis."""
    named = _is_named_object(instances[0])
    if not named and len(specs) > 1:
        raise invalid_argument(
            "instances is a plain list, but expecting list of objects as "
            "multiple input tensors required as per tensorinfo_map")
    rows: Dict[str, List[np.ndarray]] = {name: [] for name in specs}
    for index, element in enumerate(instances):
        if named != _is_named_object(element):
            kind = "object" if named else "value/list"
            raise invalid_argument(f"Expecting {kind} at item {index} of "
                                   "input list")
        items = element if named else {next(iter(specs)): element}
        if set(items) != set(specs):
            raise invalid_argument(
                f"Failed to process element: {index} of 'instances' list. "
                f"JSON object: {_show(element)} keys must be equal to: "
                f"{','.join(sorted(specs))}")
        for name, value in items.items():
            array = to_array(value, specs[name].dtype)
            if rows[name] and rows[name][0].shape != array.shape:
                raise invalid_argument(
                    f"Failed to process element: {index} of 'instances' list."
                    f" Expecting shape {list(rows[name][0].shape)} but got: "
                    f"{list(array.shape)}")
            rows[name].append(array)
    return {name: np.stack(arrays) for name, arrays in rows.items()}


def _columns(inputs: Any, specs: Dict[str, InputSpec]) -> Dict[str, np.ndarray]:
    """Columnar format: each input given whole, batch axis included."""
    if not _is_named_object(inputs):
        if len(specs) > 1:
            raise invalid_argument(
                "inputs is a plain value/list, but expecting an object as "
                "multiple input tensors required as per tensorinfo_map")
        name, spec = next(iter(specs.items()))
        return {name: to_array(inputs, spec.dtype)}
    arrays = {}
    for name, spec in specs.items():
        if name not in inputs:
            raise invalid_argument(f"Missing named input: {name} in 'inputs' "
                                   "object.")
        arrays[name] = to_array(inputs[name], spec.dtype)
    return arrays


def _check_shape(name: str, array: np.ndarray, spec: InputSpec,
                 signature: str) -> None:
    """Reject what TensorFlow would reject, with a message a client can act
    on instead of a tf.function binding error."""
    if spec.shape is None:
        return
    fits = len(array.shape) == len(spec.shape) and all(
        want is None or want == got for want, got in zip(spec.shape, array.shape))
    if not fits:
        expected = ", ".join("?" if d is None else str(d) for d in spec.shape)
        raise invalid_argument(
            f"Input '{name}' has shape {list(array.shape)} but signature "
            f"'{signature}' expects [{expected}]")


def request_arrays(request: ParsedRequest, specs: Dict[str, InputSpec]
                   ) -> Dict[str, np.ndarray]:
    """The signature's inputs as arrays, validated against its specs."""
    if not specs:
        raise invalid_argument("Failed to get input map for signature: "
                               f"{request.signature_name}")
    arrays = (_columns(request.payload, specs) if request.columnar
              else _stack_instances(request.payload, specs))
    for name, array in arrays.items():
        _check_shape(name, array, specs[name], request.signature_name)
    return arrays


def _as_b64(data: bytes) -> dict:
    return {"b64": base64.b64encode(data).decode("ascii")}


def _as_text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _json_values(name: str, array: np.ndarray) -> Any:
    """Nested lists ready for json.dumps, as TF Serving writes them."""
    if array.dtype == object or array.dtype.kind == "S":
        encode = _as_b64 if name.endswith(BYTES_SUFFIX) else _as_text
        flat = [encode(item) for item in array.reshape(-1)]
        return np.array(flat, dtype=object).reshape(array.shape).tolist() \
            if array.ndim else flat[0]
    if array.dtype.kind == "f":
        # The shortest text that reads back as the same float32 ("0.2", not
        # 0.20000000298...), which is what TF Serving prints.
        array = array.astype(str).astype(np.float64)
    return array.tolist()


def predictions_json(outputs: Dict[str, np.ndarray], columnar: bool) -> dict:
    """`{"outputs": ...}` for columnar requests, `{"predictions": [...]}` for
    row requests (one value per example, or one object when several)."""
    if not outputs:
        raise invalid_argument("Cannot convert empty tensor map to JSON")
    names = sorted(outputs)
    if columnar:
        if len(names) == 1:
            return {"outputs": _json_values(names[0], outputs[names[0]])}
        return {"outputs": {n: _json_values(n, outputs[n]) for n in names}}
    batch = None
    for name in names:
        if outputs[name].ndim == 0:
            raise invalid_argument(f"Tensor name: {name} has no shape "
                                   "information ")
        if batch is not None and outputs[name].shape[0] != batch:
            raise invalid_argument(
                f"Tensor name: {name} has inconsistent batch size: "
                f"{outputs[name].shape[0]} expecting: {batch}")
        batch = outputs[name].shape[0]
    columns = {n: _json_values(n, outputs[n]) for n in names}
    if len(names) == 1:
        return {"predictions": columns[names[0]]}
    return {"predictions": [{n: columns[n][row] for n in names}
                            for row in range(batch)]}
