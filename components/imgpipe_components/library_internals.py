"""Every private API call and run-time patch of a library, in one place.

Each function here touches something a library does not publish (a private
name, a private argument, a module attribute swapped at run time), says
which library and version it was written against, why the project needs it
and what to check on upgrade. tests/unit/test_library_internals.py has a
test per function that fails when the library changes under it: run it
first after upgrading TFX, TensorFlow, Beam, kfp or the Google clients.

The one other place: `imgpipe_components.process` blanks `rfc3987_syntax`
in `sys.modules` before jsonschema loads, as part of process set-up.

Both packages use this module and `imgpipe_components` must not import
`imgpipe`, so it lives here. Library imports stay inside the functions:
importing this module loads none of TensorFlow, Beam, TFX or kfp.
"""
from __future__ import annotations

import contextlib
import json
import weakref
from typing import Callable, Iterator, List, Mapping, Sequence, Tuple

# --- TFX 1.16: the Kubeflow V2 container entrypoint and compiler ----------


def parse_kubeflow_v2_flags(argv: List[str]) -> Tuple[object, List[str]]:
    """(args, beam args) from a KFP container's argv, as TFX parses them.

    TFX 1.16 `kubeflow_v2_run_executor._parse_flags`: known flags
    (`--executor_class_path`, `--json_serialized_invocation_args`,
    `--json_serialized_inputs_spec_args`) into an argparse Namespace, the
    rest as Beam args. Our entrypoint must edit the parsed invocation before
    the executor runs, and TFX exposes no parser of its own otherwise. On
    upgrade: the flag names and the (Namespace, list) result.
    """
    from tfx.orchestration.kubeflow.v2.container import \
        kubeflow_v2_run_executor
    return kubeflow_v2_run_executor._parse_flags(argv)  # noqa: SLF001


def run_kubeflow_v2_executor(args, beam_args: List[str]) -> None:
    """Runs one component's executor as TFX's V2 container does.

    TFX 1.16 `kubeflow_v2_run_executor._run_executor(args, beam_args)`:
    rebuilds inputs, outputs and properties from the invocation JSON, runs
    the executor class and writes the ExecutorOutput file the KFP launcher
    reads back. Called with the args `parse_kubeflow_v2_flags` returned,
    after our entrypoint restored the input types. On upgrade: the
    signature, and that it still reads `args.json_serialized_*` by name.
    """
    from tfx.orchestration.kubeflow.v2.container import \
        kubeflow_v2_run_executor
    kubeflow_v2_run_executor._run_executor(args, beam_args)  # noqa: SLF001


def register_artifact_titles(class_path_by_title: Mapping[str, str]) -> None:
    """Lets the V2 container import artifact classes by these schema titles.

    TFX 1.16 `compiler_utils.TITLE_TO_CLASS_PATH` (title -> class path) is a
    module dict that the container's `_retrieve_class_path` reads at call
    time; any title missing from it is imported as a class path itself,
    which fails for `tfx.ExampleValidationMetrics` and the `system.*` KFP UI
    types. Adding to the dict is the only way in. On upgrade: that it is
    still a dict consulted per call, and not a frozen copy.
    """
    from tfx.orchestration.kubeflow.v2 import compiler_utils
    compiler_utils.TITLE_TO_CLASS_PATH.update(class_path_by_title)


@contextlib.contextmanager
def artifact_titles_at_compile(class_path_by_title: Mapping[str, str]
                               ) -> Iterator[None]:
    """While open, TFX's V2 compiler gives these artifact classes these
    schema titles instead of refusing them.

    TFX 1.16 compiles only its listed standard types; for any other type
    `compiler_utils.get_artifact_schema` wants a `namespace.Class` type name
    and raises ValueError for `ExampleValidationMetrics`. TFX has no hook,
    so the module function is swapped for the duration and restored after;
    the compiler (compiler_utils itself, step_builder) looks it up on the
    module at call time. The schema lists the type's properties, as TFX's
    own schemas do, because the compiler checks them against PROPERTIES.
    On upgrade: the function's name and signature, and whether TFX now
    lists ExampleValidationMetrics (then this is no longer needed for it).
    """
    import yaml
    from tfx.orchestration.kubeflow.v2 import compiler_utils
    from tfx.utils import name_utils

    titles = {path: title for title, path in class_path_by_title.items()}
    original = compiler_utils.get_artifact_schema

    def schema(artifact_type) -> str:
        title = titles.get(name_utils.get_full_name(artifact_type))
        if title is None or title == artifact_type.TYPE_NAME:
            return original(artifact_type)
        properties = {
            name: {"type": "integer" if prop.type.name == "INT" else
                   "double" if prop.type.name == "FLOAT" else "string"}
            for name, prop in (artifact_type.PROPERTIES or {}).items()}
        return yaml.safe_dump({"title": title, "type": "object",
                               "properties": properties}, sort_keys=True)

    compiler_utils.get_artifact_schema = schema
    try:
        yield
    finally:
        compiler_utils.get_artifact_schema = original


@contextlib.contextmanager
def example_gen_fingerprint(fingerprint: Callable[[str, str], str]
                            ) -> Iterator[None]:
    """While open, TFX's ExampleGen driver fingerprints input files with
    `fingerprint(split_name, file_pattern)` instead of its own.

    TFX 1.16 `io_utils.generate_fingerprint` stats every matched file and
    fails the run on the first one it cannot stat. The FileBasedDriver
    offers no hook for it; its `example_gen.utils
    .calculate_splits_fingerprint_span_and_version` looks it up on the
    module at call time. Swapped for the duration of one driver call and
    restored after; the LocalDagRunner runs one component at a time. On
    upgrade: the function's name and (split_name, file_pattern) signature,
    and that the driver still calls it through `io_utils`.
    """
    from tfx.utils import io_utils

    original = io_utils.generate_fingerprint
    io_utils.generate_fingerprint = fingerprint
    try:
        yield
    finally:
        io_utils.generate_fingerprint = original


# --- TensorFlow 2.16 ------------------------------------------------------

TF_KERAS_RULE = "DoNotConvert rule for tf_keras"


def skip_tf_keras_in_autograph() -> None:
    """Keeps AutoGraph from transpiling Keras 2 itself; idempotent.

    AutoGraph skips modules named `keras` but not `tf_keras`, the package
    TFX 1.16 trains with (TF_USE_LEGACY_KERAS=1), so it converts hundreds of
    Keras internals on the first `fit` and the first epoch is many times
    slower than the next. Keras code is graph-safe already. TensorFlow 2.16
    keeps its rules in `tensorflow.python.autograph.core.config
    .CONVERSION_RULES` (a tuple read at each conversion, first match wins);
    a DoNotConvert rule for `tf_keras` goes first. On upgrade: the module
    path, the tuple, DoNotConvert's constructor and its str().
    """
    from tensorflow.python.autograph.core import config

    if not any(str(rule) == TF_KERAS_RULE for rule in config.CONVERSION_RULES):
        config.CONVERSION_RULES = (config.DoNotConvert("tf_keras"),
                                   *config.CONVERSION_RULES)


def call_concrete_function_flat(function, flat_inputs: Sequence):
    """A ConcreteFunction's structured outputs for its flat input tensors.

    TensorFlow 2.16 `ConcreteFunction._call_flat(tensor_inputs,
    captured_inputs)`: runs the graph without the per-call binding and
    filtering of the public keyword call, a sizeable share of a batch-1
    prediction, and packs the outputs as the public call does (a dict for
    a signature). The server calls it only after checking, per signature,
    that it agrees with the public call (`imgpipe.serving.fast_call`). On
    upgrade: the name, the two arguments, that `captured_inputs` is still
    what the second one expects, and that the result is still packed.
    """
    return function._call_flat(  # noqa: SLF001
        list(flat_inputs), function.captured_inputs)


# --- Apache Beam 2.74 -----------------------------------------------------

_dofn_specs_by_id: dict = {}


def memoise_beam_dofn_specs() -> None:
    """Remembers Beam's DoFn state/timer introspection per live DoFn.

    Beam 2.74 asks `apache_beam.transforms.userstate.get_dofn_specs(dofn)`
    which state and timer parameters a DoFn declares each time it builds,
    translates or executes a stage: thousands of calls in one local run,
    each walking `dir(dofn)` and taking `inspect.signature` of every method,
    a noticeable share of the Beam steps' fixed cost. The answer depends
    only on the instance's methods, which do not change once it is built.
    Beam has no option for this, so the module function is wrapped, once
    per process, for the local runner only (on Kubeflow each step is its
    own process and pod start-up dwarfs it). Beam's callers look it up on
    `userstate` at call time; a module that imported the name itself before
    this ran keeps Beam's own, which gives the same answers. On upgrade: the
    name, the one `dofn` argument, the (state specs, timer specs) result.
    """
    from apache_beam.transforms import userstate
    if getattr(userstate.get_dofn_specs, "memoised", False):
        return
    original = userstate.get_dofn_specs

    def get_dofn_specs(dofn):
        key = id(dofn)
        entry = _dofn_specs_by_id.get(key)
        if entry is not None and entry[0]() is dofn:
            return entry[1]
        specs = original(dofn)
        try:   # an id is reused once its object dies: forget it then
            alive = weakref.ref(
                dofn, lambda _, key=key: _dofn_specs_by_id.pop(key, None))
        except TypeError:     # not weak-referenceable: not remembered
            return specs
        _dofn_specs_by_id[key] = (alive, specs)
        return specs

    get_dofn_specs.memoised = True
    get_dofn_specs.__wrapped__ = original
    userstate.get_dofn_specs = get_dofn_specs


# --- kfp 2.5 --------------------------------------------------------------


def kfp_healthz(client) -> dict:
    """The KFP API server's healthz answer as the JSON it sent.

    kfp 2.5's Client offers `get_kfp_healthz()`, but its generated model
    (kfp-server-api 2.0) keeps only `multi_user`; the server also sends
    `tag_name`, its release, which our backend check needs. So the
    Client's private `_healthz_api` (a HealthzServiceApi) is asked with the
    OpenAPI client's `_preload_content=False`, which returns the raw urllib3
    response. On upgrade: the attribute, that option, and whether the model
    now keeps `tag_name` (then use the public call).
    """
    response = client._healthz_api.get_healthz(  # noqa: SLF001
        _preload_content=False)
    return json.loads(response.data or b"{}")


# --- google-cloud-storage 2.19 / google-api-core 2.29 ---------------------


def gcs_default_retryable(error: Exception) -> bool:
    """Whether the storage client itself would retry this error.

    google-cloud-storage 2.19 `retry.DEFAULT_RETRY` is a google-api-core
    Retry built on the private `_should_retry` (429, 408, 5xx, connection
    errors, timeouts); api-core 2.29 keeps it as the Retry's private
    `_predicate` and has no public getter. Our own Retry widens it with
    mid-response cuts (`imgpipe_components.storage.files`), so it asks the
    client's predicate rather than restating its list. On upgrade:
    `_predicate` on Retry, and which errors DEFAULT_RETRY retries.
    """
    from google.cloud.storage.retry import DEFAULT_RETRY
    return DEFAULT_RETRY._predicate(error)  # noqa: SLF001
