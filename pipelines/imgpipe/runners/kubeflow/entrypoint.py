"""Container entrypoint of every component on open-source Kubeflow Pipelines.

It is TFX's own `kubeflow_v2_run_executor` (reached through
`imgpipe_components.library_internals`), with these gaps closed first:

1. Artifact types the V2 compiler does not know. TFX 1.16 compiles only a
   fixed list of standard types; any other type needs a schema title of the
   form `namespace.Class`, which the container imports as a class path. The
   DataGate's `ExampleValidationMetrics` is a standard TFX type missing from
   that list, so the compiler rejects it; the KFP UI types of
   `imgpipe_components.ui_report` (`system.Markdown`...) compile but cannot
   be imported by that title. `EXTRA_ARTIFACT_TYPES` maps each title to its
   class here; `imgpipe.runners.kubeflow.runner` gives
   `ExampleValidationMetrics` its title at compile time.
2. Input artifacts that reach the container without their TFX type. The KFP
   backend fills inputs it reads back from ML Metadata with an empty schema
   or a `system.*` title, and TFX then cannot import the artifact class
   (tensorflow/tfx#7768). The component's own input definitions, which TFX
   passes as `--json_serialized_inputs_spec_args`, hold the real types; they
   are copied onto the untyped inputs before TFX parses them.
3. Outputs the component does not declare. With PUBLISH_LOGS=true (the
   default of KFP's manifests since 2.5.0) the KFP driver adds the
   launcher's own `executor-logs` output, typed `system.Artifact`, to every
   executor input (kubeflow/pipelines backend/src/v2/driver/driver.go,
   provisionOutputs), and TFX's parser fails on it with `ImportError:
   Could not import system.Artifact`. The launcher writes that artifact
   itself (backend/src/v2/component/launcher_v2.go, getLogWriter), so the
   executor must neither parse nor report it: outputs outside the
   component's declared list (`DECLARED_OUTPUTS_FLAG`, written into the
   container args at compile time by `declare_outputs`) are removed before
   TFX parses the input. The newer layout of KFP 2.15+ needs nothing more:
   TFX keys outputs by the artifacts' `name` and writes ExecutorOutput to
   whatever `outputFile` says (`<task root>/output_metadata.json` there,
   `/tmp/kfp_outputs/output_metadata.json` before).
4. Beam's "one DirectRunner worker per CPU" (`--direct_num_workers=0`)
   counts the node's cores; it is replaced by the pod's CPU limit
   (pod_cpus.py).
5. The run's notes and output parameters (step_notes.py): the step's
   task name (`STEP_FLAG`) and the output parameters to copy from its
   artifacts' properties (`OUTPUT_PARAMETERS_FLAG`), both written into the
   container args at compile time; input parameters named `_...` (the
   condition inputs the runner adds, like TFX's `_DataCheck.report`) are
   for KFP only and removed before TFX parses the input, as are the
   output parameters.

Usage (set by `imgpipe.runners.kubeflow.runner` as the container command):
    python -m imgpipe.runners.kubeflow.entrypoint --executor_class_path ... \
        --json_serialized_invocation_args '{{$}}' [beam args] \
        --imgpipe_declared_outputs='["model", ...]'
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple

from imgpipe.runners.kubeflow import pod_cpus, step_notes
from imgpipe_components import library_internals

# One argv token, `--imgpipe_declared_outputs=<JSON list of output names>`,
# read and removed here before TFX parses the rest (TFX would pass an
# unknown flag on to Beam).
DECLARED_OUTPUTS_FLAG = "--imgpipe_declared_outputs"
STEP_FLAG = "--imgpipe_step"
OUTPUT_PARAMETERS_FLAG = "--imgpipe_output_parameters"
CONDITION_INPUT_PREFIX = "_"
# What the KFP launcher adds and manages itself, by name: dropped when a
# package compiled without DECLARED_OUTPUTS_FLAG runs.
LAUNCHER_OUTPUTS = ("executor-logs",)

# Title in the compiled spec -> import path of the artifact class.
EXTRA_ARTIFACT_TYPES: Dict[str, str] = {
    "tfx.ExampleValidationMetrics":
        "tfx.types.standard_artifacts.ExampleValidationMetrics",
    "tfx.ExternalArtifact": "tfx.types.standard_artifacts.ExternalArtifact",
    "system.Markdown": "imgpipe_components.ui_report.component.KfpMarkdown",
    "system.HTML": "imgpipe_components.ui_report.component.KfpHtml",
    "system.Metrics": "imgpipe_components.ui_report.component.KfpMetrics",
    "system.ClassificationMetrics": "imgpipe_components.ui_report.component.KfpClassificationMetrics",
}


def register_extra_artifact_types() -> None:
    library_internals.register_artifact_titles(EXTRA_ARTIFACT_TYPES)


def _has_tfx_type(artifact_type: dict) -> bool:
    import yaml

    title = artifact_type.get("schemaTitle")
    if title is None and artifact_type.get("instanceSchema"):
        title = (yaml.safe_load(artifact_type["instanceSchema"]) or {}).get(
            "title")
    return bool(title) and not title.startswith("system.")


def restore_input_types(executor_input_json: str,
                        inputs_spec_json: str) -> str:
    """The executor input with every untyped input artifact given the type
    its component declares; typed artifacts are left as they are."""
    executor_input = json.loads(executor_input_json)
    declared = json.loads(inputs_spec_json or "{}").get("artifacts", {})
    inputs = executor_input.get("inputs", {}).get("artifacts", {})
    for name, artifact_list in inputs.items():
        declared_type = declared.get(name, {}).get("artifactType")
        if not declared_type:
            continue
        for artifact in artifact_list.get("artifacts", []):
            if not _has_tfx_type(artifact.get("type", {})):
                artifact["type"] = dict(declared_type)
    return json.dumps(executor_input)


def declare_outputs(spec: dict) -> None:
    """Appends each component's declared output names and its step name to
    its executor's container args (DECLARED_OUTPUTS_FLAG, STEP_FLAG; TFX
    compiles one component per step, named as the step)."""
    executors = spec["deploymentSpec"]["executors"]
    for step, component in spec["components"].items():
        container = executors.get(component.get("executorLabel"), {}).get(
            "container")
        if container is None:
            continue
        names = sorted(component.get("outputDefinitions", {}).get(
            "artifacts", {}))
        container.setdefault("args", []).extend([
            f"{DECLARED_OUTPUTS_FLAG}={json.dumps(names)}",
            f"{STEP_FLAG}={json.dumps(step)}"])


def split_flag(argv: List[str], flag: str) -> Tuple[List[str], Any]:
    """(argv without `flag=<JSON>`, its last value or None without it)."""
    prefix = flag + "="
    values = [json.loads(a[len(prefix):]) for a in argv
              if a.startswith(prefix)]
    rest = [a for a in argv if not a.startswith(prefix)]
    return rest, (values[-1] if values else None)


def split_declared_outputs(argv: List[str]
                           ) -> Tuple[List[str], Optional[List[str]]]:
    """(argv without the flag, the declared names or None without it)."""
    return split_flag(argv, DECLARED_OUTPUTS_FLAG)


def drop_undeclared_outputs(executor_input_json: str,
                            declared: Optional[List[str]]) -> str:
    """The executor input without the output artifacts the component does
    not declare (without a declaration: without the launcher's own)."""
    executor_input = json.loads(executor_input_json)
    outputs = executor_input.get("outputs", {}).get("artifacts", {})
    for name in list(outputs):
        if (name not in declared) if declared is not None else (
                name in LAUNCHER_OUTPUTS):
            del outputs[name]
    return json.dumps(executor_input)


def drop_kfp_only_fields(executor_input_json: str) -> str:
    """Without the condition inputs and the output parameters (TFX maps
    output parameters to value artifacts and fails without them; this
    entrypoint writes them itself: step_notes.py)."""
    executor_input = json.loads(executor_input_json)
    values = executor_input.get("inputs", {}).get("parameterValues", {})
    for name in [n for n in values if n.startswith(CONDITION_INPUT_PREFIX)]:
        del values[name]
    executor_input.get("outputs", {}).pop("parameters", None)
    return json.dumps(executor_input)


def parse(argv: List[str]):
    """(args, beam args), as TFX parses them, with `declared_outputs`,
    `step` and `output_parameters`."""
    argv, declared = split_declared_outputs(argv)
    argv, step = split_flag(argv, STEP_FLAG)
    argv, output_parameters = split_flag(argv, OUTPUT_PARAMETERS_FLAG)
    args, beam_args = library_internals.parse_kubeflow_v2_flags(argv)
    args.declared_outputs = declared
    args.step = step
    args.output_parameters = output_parameters or {}
    return args, beam_args


def _run_parsed(parsed) -> None:
    args, beam_args = parsed
    register_extra_artifact_types()
    if getattr(args, "json_serialized_inputs_spec_args", None):
        args.json_serialized_invocation_args = restore_input_types(
            args.json_serialized_invocation_args,
            args.json_serialized_inputs_spec_args)
    args.json_serialized_invocation_args = drop_kfp_only_fields(
        drop_undeclared_outputs(args.json_serialized_invocation_args,
                                getattr(args, "declared_outputs", None)))
    executor_input = json.loads(args.json_serialized_invocation_args)
    step = getattr(args, "step", None)
    try:
        library_internals.run_kubeflow_v2_executor(
            args, pod_cpus.cap_direct_workers(beam_args))
    except Exception as error:
        step_notes.failed(step, executor_input, error)
        raise
    step_notes.completed(step, executor_input,
                         getattr(args, "output_parameters", {}))


def run(argv: List[str]) -> None:
    """One component execution, as the container runs it (argv[0] is the
    program name); for callers that manage their own process."""
    _run_parsed(parse(argv))


def main() -> None:
    from absl import app
    app.run(_run_parsed, flags_parser=parse)


if __name__ == "__main__":
    main()
