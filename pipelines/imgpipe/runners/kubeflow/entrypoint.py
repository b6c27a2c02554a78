"""Container entrypoint of every component on open-source Kubeflow Pipelines.

It is TFX's own `kubeflow_v2_run_executor` (reached through
`imgpipe_components.library_internals`), with two gaps closed first:

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

Usage (set by `imgpipe.runners.kubeflow.runner` as the container command):
    python -m imgpipe.runners.kubeflow.entrypoint --executor_class_path ... \
        --json_serialized_invocation_args '{{$}}' [beam args]
"""
from __future__ import annotations

import json
from typing import Dict, List

from imgpipe_components import library_internals

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


def _run_parsed(parsed) -> None:
    args, beam_args = parsed
    register_extra_artifact_types()
    if getattr(args, "json_serialized_inputs_spec_args", None):
        args.json_serialized_invocation_args = restore_input_types(
            args.json_serialized_invocation_args,
            args.json_serialized_inputs_spec_args)
    library_internals.run_kubeflow_v2_executor(args, beam_args)


def run(argv: List[str]) -> None:
    """One component execution, as the container runs it (argv[0] is the
    program name); for callers that manage their own process."""
    _run_parsed(library_internals.parse_kubeflow_v2_flags(argv))


def main() -> None:
    from absl import app
    app.run(_run_parsed,
            flags_parser=library_internals.parse_kubeflow_v2_flags)


if __name__ == "__main__":
    main()
