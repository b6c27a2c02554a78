"""Each private API and run-time patch in `imgpipe_components.library_internals`
still exists with the shape it is used with, and still does what the project
relies on. A failure here after an upgrade names the function to revisit."""
from __future__ import annotations

import gc
import inspect
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.transforms import userstate
from apache_beam.transforms.timeutil import TimeDomain
from tfx.dsl.components.base import base_executor

from imgpipe_components import library_internals


def test_importing_the_fence_loads_no_heavy_library():
    code = ("import imgpipe_components.library_internals, sys; print([m for m "
            "in ('tensorflow', 'apache_beam', 'tfx', 'kfp') if m in "
            "sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], check=True,
                         capture_output=True, text=True).stdout
    assert out.strip() == "[]"


def parameters(function) -> list:
    return list(inspect.signature(function).parameters)


# --- TFX: Kubeflow V2 container and compiler ------------------------------

class RecordingExecutor(base_executor.BaseExecutor):
    """Writes what it was given into its output artifact's folder."""

    def Do(self, input_dict, output_dict, exec_properties):
        out = Path(output_dict["out"][0].uri)
        out.mkdir(parents=True)
        (out / "seen.json").write_text(json.dumps(
            {"properties": exec_properties,
             "extra_flags": self._context.extra_flags}))


def test_kubeflow_v2_flags_parse_into_args_and_beam_args():
    from tfx.orchestration.kubeflow.v2.container import \
        kubeflow_v2_run_executor
    assert parameters(kubeflow_v2_run_executor._parse_flags) == ["argv"]
    args, beam_args = library_internals.parse_kubeflow_v2_flags([
        "prog", "--executor_class_path", "a.B",
        "--json_serialized_invocation_args", "{}",
        "--json_serialized_inputs_spec_args", '{"artifacts": {}}',
        "--direct_num_workers=2"])
    assert args.executor_class_path == "a.B"
    assert args.json_serialized_invocation_args == "{}"
    assert args.json_serialized_inputs_spec_args == '{"artifacts": {}}'
    assert "--direct_num_workers=2" in beam_args
    assert not [a for a in beam_args if a.startswith("--json_serialized")]


def test_kubeflow_v2_executor_runs_and_writes_the_executor_output(tmp_path):
    from tfx.orchestration.kubeflow.v2.container import \
        kubeflow_v2_run_executor
    assert parameters(kubeflow_v2_run_executor._run_executor) == [
        "args", "beam_args"]
    output_file = tmp_path / "task" / "executor_output.json"
    invocation = {
        "inputs": {"parameterValues": {"greeting": "hello"}},
        "outputs": {"artifacts": {"out": {"artifacts": [{
            "name": "artifacts/out", "uri": str(tmp_path / "out"),
            "type": {"instanceSchema": "title: tfx.Examples\n"}}]}},
            "outputFile": str(output_file)}}
    args, beam_args = library_internals.parse_kubeflow_v2_flags([
        "prog", "--executor_class_path", f"{__name__}.RecordingExecutor",
        "--json_serialized_invocation_args", json.dumps(invocation),
        "--json_serialized_inputs_spec_args", json.dumps(
            {"parameters": {"greeting": {"parameterType": "STRING"}}}),
        "--direct_num_workers=2"])
    library_internals.run_kubeflow_v2_executor(args, beam_args)
    seen = json.loads((tmp_path / "out" / "seen.json").read_text())
    assert seen["properties"] == {"greeting": "hello"}
    assert "--direct_num_workers=2" in seen["extra_flags"]
    written = json.loads(output_file.read_text())
    assert written["artifacts"]["out"]["artifacts"][0]["uri"] == \
        str(tmp_path / "out")


def test_registered_titles_resolve_to_our_classes():
    from tfx.orchestration.kubeflow.v2 import compiler_utils
    from tfx.orchestration.kubeflow.v2.container import \
        kubeflow_v2_entrypoint_utils as entrypoint_utils
    from kfp.pipeline_spec import pipeline_spec_pb2
    from tfx.utils import import_utils

    from imgpipe.runners.kubeflow.entrypoint import EXTRA_ARTIFACT_TYPES

    assert isinstance(compiler_utils.TITLE_TO_CLASS_PATH, dict)
    saved = dict(compiler_utils.TITLE_TO_CLASS_PATH)
    try:
        library_internals.register_artifact_titles(EXTRA_ARTIFACT_TYPES)
        for title, path in EXTRA_ARTIFACT_TYPES.items():
            schema = pipeline_spec_pb2.ArtifactTypeSchema(
                instance_schema=f"title: {title}\ntype: object\n")
            assert entrypoint_utils._retrieve_class_path(schema) == path
            assert import_utils.import_class_by_path(path).__name__ == \
                path.rsplit(".", 1)[1]
    finally:
        compiler_utils.TITLE_TO_CLASS_PATH.clear()
        compiler_utils.TITLE_TO_CLASS_PATH.update(saved)


def test_compile_time_titles_give_a_schema_and_restore_tfx_own():
    import yaml
    from tfx.orchestration.kubeflow.v2 import compiler_utils
    from tfx.types import channel, standard_artifacts

    from imgpipe.runners.kubeflow.entrypoint import EXTRA_ARTIFACT_TYPES

    original = compiler_utils.get_artifact_schema
    assert parameters(original) == ["artifact_type"]
    metrics = channel.Channel(type=standard_artifacts.ExampleValidationMetrics)
    with pytest.raises(ValueError, match="ExampleValidationMetrics"):
        compiler_utils.build_output_artifact_spec(metrics)
    with library_internals.artifact_titles_at_compile(EXTRA_ARTIFACT_TYPES):
        spec = compiler_utils.build_output_artifact_spec(metrics)
        examples = compiler_utils.get_artifact_schema(
            standard_artifacts.Examples)
    schema = yaml.safe_load(spec.artifact_type.instance_schema)
    assert schema["title"] == "tfx.ExampleValidationMetrics"
    assert schema["properties"] == {"span": {"type": "integer"},
                                    "split_names": {"type": "string"}}
    assert examples == original(standard_artifacts.Examples)
    assert compiler_utils.get_artifact_schema is original


def test_example_gen_fingerprint_is_the_one_the_driver_uses(tmp_path):
    from tfx.components.example_gen import utils
    from tfx.proto import example_gen_pb2
    from tfx.utils import io_utils

    original = io_utils.generate_fingerprint
    assert parameters(original) == ["split_name", "file_pattern"]
    (tmp_path / "a.png").write_bytes(b"x")
    splits = [example_gen_pb2.Input.Split(name="train", pattern="*.png")]
    with library_internals.example_gen_fingerprint(
            lambda split, pattern: f"ours:{split}:{Path(pattern).name}"):
        fingerprint, _, _ = \
            utils.calculate_splits_fingerprint_span_and_version(
                str(tmp_path), splits)
    assert fingerprint == "ours:train:*.png"
    assert io_utils.generate_fingerprint is original


# --- TensorFlow ------------------------------------------------------------

def test_autograph_leaves_tf_keras_alone():
    import tf_keras
    from tensorflow.python.autograph.core import config
    from tensorflow.python.autograph.impl import conversion

    library_internals.skip_tf_keras_in_autograph()
    library_internals.skip_tf_keras_in_autograph()
    rules = config.CONVERSION_RULES
    assert isinstance(rules, tuple)
    assert str(rules[0]) == library_internals.TF_KERAS_RULE
    assert [str(r) for r in rules].count(library_internals.TF_KERAS_RULE) == 1
    assert conversion.is_allowlisted(tf_keras.layers.Dense.call)
    assert not conversion.is_allowlisted(parameters)


def test_flat_call_matches_the_public_call_of_a_loaded_signature(tmp_path):
    import numpy as np
    import tensorflow as tf
    from tensorflow.python.eager.polymorphic_function import \
        concrete_function

    assert parameters(concrete_function.ConcreteFunction._call_flat) == [
        "self", "tensor_inputs", "captured_inputs"]
    module = tf.Module()
    module.scale = tf.Variable(3.0)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32),
                                  tf.TensorSpec([None], tf.float32)])
    def serve(b, a):
        return {"sum": a * module.scale + b, "count": tf.size(a)}

    tf.saved_model.save(module, str(tmp_path), signatures={"serve": serve})
    signature = tf.saved_model.load(str(tmp_path)).signatures["serve"]
    inputs = {"a": tf.constant([1.0, 2.0]), "b": tf.constant([0.5, 0.5])}
    public = signature(**inputs)
    fast = library_internals.call_concrete_function_flat(
        signature, [inputs[name] for name in sorted(inputs)])
    assert fast.keys() == public.keys()
    for name in public:
        assert np.array_equal(fast[name].numpy(), public[name].numpy())


# --- Apache Beam -----------------------------------------------------------

class Plain(beam.DoFn):
    def process(self, element):
        yield element


class Counting(beam.DoFn):
    """Sums per key in state and emits the sum when a timer fires."""
    TOTAL = userstate.CombiningValueStateSpec("total", sum)
    FLUSH = userstate.TimerSpec("flush", TimeDomain.WATERMARK)

    def process(self, element, total=beam.DoFn.StateParam(TOTAL),
                flush=beam.DoFn.TimerParam(FLUSH)):
        total.add(element[1])
        flush.set(0)

    @userstate.on_timer(FLUSH)
    def emit(self, key=beam.DoFn.KeyParam,
             total=beam.DoFn.StateParam(TOTAL)):
        yield key, total.read()


@pytest.fixture()
def memoised():
    library_internals.memoise_beam_dofn_specs()
    library_internals.memoise_beam_dofn_specs()            # idempotent


def test_dofn_specs_match_beams_own_and_are_remembered(memoised):
    original = userstate.get_dofn_specs.__wrapped__
    assert parameters(original) == ["dofn"]
    for dofn in (Plain(), Counting(), beam.Map(len).fn):
        assert userstate.get_dofn_specs(dofn) == original(dofn)
        assert userstate.get_dofn_specs(dofn) is userstate.get_dofn_specs(dofn)
    states, timers = userstate.get_dofn_specs(Counting())
    assert [s.name for s in states] == ["total"]
    assert [t.name for t in timers] == [Counting.FLUSH.name]
    assert userstate.is_stateful_dofn(Counting())
    assert not userstate.is_stateful_dofn(Plain())


def test_a_dofn_is_forgotten_when_it_dies(memoised):
    dofn = Plain()
    userstate.get_dofn_specs(dofn)
    key = id(dofn)
    assert key in library_internals._dofn_specs_by_id
    del dofn
    gc.collect()
    assert key not in library_internals._dofn_specs_by_id


class _RecordingMemo(dict):
    """The memo, noting the class of every DoFn it remembers."""

    def __init__(self):
        super().__init__()
        self.classes = set()

    def __setitem__(self, key, value):
        self.classes.add(type(value[0]()).__name__)
        super().__setitem__(key, value)


def test_a_stateful_pipeline_runs_through_the_memo(memoised, monkeypatch):
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.testing.util import assert_that, equal_to

    memo = _RecordingMemo()
    monkeypatch.setattr(library_internals, "_dofn_specs_by_id", memo)
    with beam.Pipeline(options=PipelineOptions([])) as pipeline:
        sums = (pipeline
                | beam.Create([("a", 1), ("b", 2), ("a", 3)])
                | beam.ParDo(Counting()))
        assert_that(sums, equal_to([("a", 4), ("b", 2)]))
    assert "Counting" in memo.classes      # Beam asked through the memo


# --- kfp -------------------------------------------------------------------

HEALTHZ = {"commit_sha": "abc", "tag_name": "2.5.0", "multi_user": False}


class _Healthz(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps(HEALTHZ).encode()
        self.send_response(200 if self.path.endswith("/healthz") else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_kfp_healthz_gives_the_raw_body_with_the_release(tmp_path,
                                                         monkeypatch):
    import kfp
    import kfp_server_api

    monkeypatch.setattr(kfp.Client, "_LOCAL_KFP_CONTEXT",
                        str(tmp_path / "kfp-context.json"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Healthz)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = kfp.Client(host=f"http://127.0.0.1:{server.server_port}",
                            namespace="team")
        assert isinstance(client._healthz_api,
                          kfp_server_api.HealthzServiceApi)
        assert library_internals.kfp_healthz(client) == HEALTHZ
        # Why the private path: kfp's public call drops the release.
        assert not hasattr(client.get_kfp_healthz(), "tag_name")
    finally:
        server.shutdown()
        server.server_close()


# --- google-cloud-storage --------------------------------------------------

def test_gcs_retry_predicate_retries_transient_errors_only():
    import requests
    from google.api_core import exceptions
    from google.api_core.retry import Retry
    from google.cloud.storage.retry import DEFAULT_RETRY

    assert isinstance(DEFAULT_RETRY, Retry)
    assert callable(DEFAULT_RETRY._predicate)
    for transient in (exceptions.ServiceUnavailable("503"),
                      exceptions.TooManyRequests("429"), ConnectionError(),
                      requests.ConnectionError()):
        assert library_internals.gcs_default_retryable(transient), transient
    for permanent in (exceptions.NotFound("404"),
                      exceptions.Forbidden("403"), ValueError()):
        assert not library_internals.gcs_default_retryable(permanent)
