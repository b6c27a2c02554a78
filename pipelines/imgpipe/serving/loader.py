"""One SavedModel version, loaded and warmed up, ready to answer requests.

A version counts as loaded only after its warm-up requests ran: the first
real request must not pay for tracing and kernel set-up, and a model that
cannot answer its own warm-up must never replace one that can. The warm-up
records are TF Serving's own format (`assets.extra/tf_serving_warmup_requests`,
a TFRecord of PredictionLog), so the real server warms up the same way.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Dict, Iterator, Tuple

import numpy as np

from imgpipe.serving.errors import ServingError, invalid_argument
from imgpipe.serving.fast_call import SignatureCaller
from imgpipe.serving.rest_json import DEFAULT_SIGNATURE, InputSpec

WARMUP_FILE = Path("assets.extra") / "tf_serving_warmup_requests"
MAX_WARMUP_RECORDS = 1000          # TF Serving reads at most this many
SERVE_TAG = "serve"

log = logging.getLogger("imgpipe.serve")


def concise_error(message: str) -> str:
    """TF's eager errors open with 'Graph execution error' and a stack
    preamble; a client needs the line that says what was wrong."""
    noise = ("Graph execution error", "Detected at node", "<stack traces")
    lines = [line.strip() for line in message.splitlines()]
    useful = [line for line in lines if line and not line.startswith(noise)
              and not line.startswith("[[")]
    return useful[0] if useful else message.strip()


def serving_error(error: Exception) -> ServingError:
    """Any exception from TensorFlow as a TF Serving status."""
    import tensorflow as tf
    from tensorflow.core.protobuf import error_codes_pb2

    if isinstance(error, ServingError):
        return error
    if isinstance(error, tf.errors.OpError):
        return ServingError(error_codes_pb2.Code.Name(error.error_code),
                            concise_error(error.message))
    if isinstance(error, (TypeError, ValueError)):
        return invalid_argument(concise_error(str(error)))
    return ServingError("INTERNAL", f"{type(error).__name__}: {error}")


def _load_error_code(error: Exception) -> str:
    """A saved_model.pb that is not a protobuf is lost data; otherwise the
    code TensorFlow gave."""
    from google.protobuf.message import DecodeError
    return ("DATA_LOSS" if isinstance(error, DecodeError)
            else serving_error(error).code)


def _signature_defs(saved_model_pb: Path):
    """The SignatureDefs exactly as stored, for the metadata endpoint."""
    from tensorflow.core.protobuf import saved_model_pb2
    from tensorflow_serving.apis import get_model_metadata_pb2

    saved_model = saved_model_pb2.SavedModel.FromString(
        saved_model_pb.read_bytes())
    for meta_graph in saved_model.meta_graphs:
        if SERVE_TAG in meta_graph.meta_info_def.tags:
            signature_map = get_model_metadata_pb2.SignatureDefMap()
            for name, signature in meta_graph.signature_def.items():
                signature_map.signature_def[name].CopyFrom(signature)
            return signature_map
    raise ServingError("NOT_FOUND", f"No MetaGraphDef tagged '{SERVE_TAG}' in "
                                    f"{saved_model_pb}")


def _input_specs(signature_map) -> Dict[str, Dict[str, InputSpec]]:
    from tensorflow.core.framework import types_pb2

    specs = {}
    for name, signature in signature_map.signature_def.items():
        specs[name] = {
            key: InputSpec(
                types_pb2.DataType.Name(info.dtype),
                None if info.tensor_shape.unknown_rank else tuple(
                    d.size if d.size >= 0 else None
                    for d in info.tensor_shape.dim))
            for key, info in signature.inputs.items()}
    return specs


class LoadedVersion:
    """A servable: the loaded SavedModel and what the REST layer needs."""

    def __init__(self, model_name: str, version: int, path: Path):
        import tensorflow as tf

        self.model_name, self.version, self.path = model_name, version, path
        pb = path / "saved_model.pb"
        if not pb.exists():
            raise ServingError(
                "NOT_FOUND", "Could not find SavedModel .pb or .pbtxt at "
                             f"supplied export directory path: {path}")
        try:
            self._signature_map = _signature_defs(pb)
            self._saved_model = tf.saved_model.load(str(path), tags=[SERVE_TAG])
        except ServingError:
            raise
        except Exception as error:  # noqa: BLE001 - any failure refuses it
            raise ServingError(
                _load_error_code(error),
                f"Could not load {path}: {concise_error(str(error))}"
            ) from None
        self._functions = {name: SignatureCaller(function) for name, function
                           in self._saved_model.signatures.items()}
        self.input_specs = _input_specs(self._signature_map)

    def predict(self, signature_name: str, arrays: Dict[str, np.ndarray]
                ) -> Dict[str, np.ndarray]:
        import tensorflow as tf

        function = self._functions.get(signature_name)
        if function is None:
            raise invalid_argument(f'Serving signature name: "{signature_name}"'
                                   " not found in signature def")
        try:
            return function({name: tf.constant(value)
                             for name, value in arrays.items()})
        except Exception as error:  # noqa: BLE001 - reported as a status
            raise serving_error(error) from None

    @property
    def flat_call_signatures(self) -> Tuple[str, ...]:
        """The signatures whose warm-up verified the flat call."""
        return tuple(sorted(name for name, caller in self._functions.items()
                            if caller.uses_flat_call))

    def metadata_json(self) -> dict:
        """GetModelMetadata's REST answer: the model spec and every
        SignatureDef, field names as in the protos."""
        from google.protobuf import json_format
        from tensorflow_serving.apis import model_pb2

        spec = model_pb2.ModelSpec(name=self.model_name, signature_name="")
        spec.version.value = self.version
        as_dict = lambda message: json_format.MessageToDict(  # noqa: E731
            message, preserving_proto_field_name=True,
            including_default_value_fields=True)
        return {"model_spec": as_dict(spec),
                "metadata": {"signature_def": as_dict(self._signature_map)}}


def recorded_warmup(path: Path) -> Iterator[Tuple[str, Dict[str, np.ndarray]]]:
    """(signature, inputs) of each PredictRequest in a warm-up file."""
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    for record in tf.data.TFRecordDataset(str(path)).take(MAX_WARMUP_RECORDS):
        entry = prediction_log_pb2.PredictionLog.FromString(record.numpy())
        if entry.WhichOneof("log_type") != "predict_log":
            # classify/regress/multi_inference: this server has no such API.
            log.warning("Skipping a %s warm-up record in %s",
                        entry.WhichOneof("log_type"), path)
            continue
        request = entry.predict_log.request
        yield (request.model_spec.signature_name or DEFAULT_SIGNATURE,
               {name: tf.make_ndarray(tensor)
                for name, tensor in request.inputs.items()})


def synthetic_warmup(version: LoadedVersion
                     ) -> Iterator[Tuple[str, Dict[str, np.ndarray]]]:
    """A one-example request for `serving_default` when no records came with
    the model: a blank PNG for string inputs, zeros for numbers."""
    import tensorflow as tf

    specs = version.input_specs.get(DEFAULT_SIGNATURE)
    if not specs or any(spec.shape is None for spec in specs.values()):
        return
    png = tf.io.encode_png(tf.zeros([8, 8, 1], tf.uint8)).numpy()
    arrays = {}
    for name, spec in specs.items():
        shape = [1 if dim is None else dim for dim in spec.shape]
        arrays[name] = (np.full(shape, png, dtype=object)
                        if spec.dtype == "DT_STRING" else
                        np.zeros(shape, dtype=np.float32))
    yield DEFAULT_SIGNATURE, arrays


def load_version(model_name: str, version: int, path: Path) -> LoadedVersion:
    """Load and warm up; raises ServingError if either fails."""
    loaded = LoadedVersion(model_name, version, path)
    warmup_file = path / WARMUP_FILE
    requests = (recorded_warmup(warmup_file) if warmup_file.exists()
                else synthetic_warmup(loaded))
    count = 0
    try:
        for signature, arrays in requests:
            loaded.predict(signature, arrays)
            count += 1
    except ServingError as error:
        raise ServingError(error.code, f"Warm-up request {count + 1} for "
                                       f"{path} failed: {error.message}"
                           ) from None
    except Exception as error:  # noqa: BLE001 - e.g. a corrupt TFRecord
        failure = serving_error(error)
        raise ServingError(failure.code, f"Reading warm-up records of {path} "
                                         f"failed: {failure.message}"
                           ) from None
    log.info("Loaded %s version %d from %s (%d warm-up requests)",
             model_name, version, path, count)
    return loaded
