"""Executor inputs as each KFP backend builds them, through our entrypoint.

From 2.5.0 (PUBLISH_LOGS=true, the default of KFP's manifests) the driver
adds the launcher's `executor-logs` output, typed `system.Artifact`, to
every executor input, which TFX's parser cannot import; from 2.15.0 the
outputs carry their `name` and ExecutorOutput goes to
`<task root>/output_metadata.json`; from 2.16.1 the logs URI carries the
retry index (kubeflow/pipelines backend/src/v2/driver/driver.go,
backend/src/v2/component/launcher_v2.go). The shapes are built in
tests/kubeflow/executor_input.py.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.kubeflow.executor_input import (KFP_LAYOUTS, LOGS, SYSTEM_ARTIFACT,
                                           executor_input, kfp_input,
                                           kfp_outputs, output_types,
                                           run_task)

NEWEST = KFP_LAYOUTS[-1]


def test_tfx_alone_cannot_parse_the_launchers_logs_output(tmp_path):
    """Why the entrypoint drops it: TFX 1.16 imports every output's class
    by its title, and `system.Artifact` is no class."""
    from kfp.pipeline_spec import pipeline_spec_pb2
    from google.protobuf import json_format
    from tfx.orchestration.kubeflow.v2.container import \
        kubeflow_v2_entrypoint_utils as entrypoint_utils

    outputs = kfp_outputs(NEWEST, tmp_path, {}, tmp_path / "unused.json")
    parsed = json_format.ParseDict({"outputs": outputs},
                                   pipeline_spec_pb2.ExecutorInput())
    with pytest.raises(ImportError, match="system.Artifact"):
        entrypoint_utils.parse_raw_artifact_dict(
            parsed.outputs.artifacts, {})


def test_each_executor_is_told_its_components_outputs(compiled):
    from imgpipe.runners.kubeflow.entrypoint import split_declared_outputs

    for name, component in compiled.spec["components"].items():
        if "executorLabel" not in component:
            continue
        _, declared = split_declared_outputs(compiled.executor(name)["args"])
        assert declared == sorted(component.get("outputDefinitions", {}).get(
            "artifacts", {})), name


def test_only_declared_outputs_reach_tfx(tmp_path):
    from imgpipe.runners.kubeflow.entrypoint import drop_undeclared_outputs

    outputs = kfp_outputs(NEWEST, tmp_path, {"model": "tfx.Model"},
                          tmp_path / "unused.json")
    assert outputs["artifacts"][LOGS]["artifacts"][0]["type"] == \
        SYSTEM_ARTIFACT
    invocation = json.dumps({"outputs": outputs})
    for declared in (["model"], None):     # None: compiled before the flag
        kept = json.loads(drop_undeclared_outputs(invocation, declared))
        assert set(kept["outputs"]["artifacts"]) == {"model"}
        assert kept["outputs"]["outputFile"] == outputs["outputFile"]


def test_the_flag_is_not_passed_on_to_beam():
    from imgpipe.runners.kubeflow.entrypoint import parse

    args, beam_args = parse([
        "entrypoint", "--executor_class_path", "x.Executor",
        "--json_serialized_invocation_args", "{}", "--runner=DirectRunner",
        '--imgpipe_declared_outputs=["model"]'])
    assert args.declared_outputs == ["model"]
    # (TFX's parser also hands argv[0] on; Beam ignores it.)
    assert "--runner=DirectRunner" in beam_args
    assert not [a for a in beam_args if "declared_outputs" in a]


def _saved_model(folder: Path, marker: str) -> None:
    folder.mkdir(parents=True)
    (folder / "saved_model.pb").write_text(marker)


@pytest.mark.parametrize("layout", KFP_LAYOUTS, ids=lambda l: l.release)
def test_a_component_runs_with_each_backends_executor_input(
        compiled, tmp_path, layout):
    """served_baseline_model, a TFX component run by TFX's own executor
    runner through our entrypoint, as that release's launcher starts it."""
    candidate = tmp_path / "Trainer" / "1a2b" / "model"
    _saved_model(candidate / "Format-Serving", "candidate")
    task_root = tmp_path / "served_baseline_model" / "3c4d"
    invocation = executor_input(
        inputs={}, outputs={}, parameters={"model_store": str(
            tmp_path / "empty-store")}, output_file=Path("unused"))
    invocation["inputs"]["artifacts"] = {
        "candidate": {"artifacts": [kfp_input(candidate, 42)]}}
    invocation["outputs"] = kfp_outputs(
        layout, task_root, output_types(compiled, "served_baseline_model"),
        tmp_path / "tmp" / "kfp_outputs" / "output_metadata.json")

    written = run_task(compiled, "served_baseline_model", invocation)

    expected_file = (task_root / "output_metadata.json"
                     if layout.task_root_layout else
                     tmp_path / "tmp" / "kfp_outputs" / "output_metadata.json")
    assert json.loads(expected_file.read_text()) == written
    assert set(written["artifacts"]) == {"model"}      # no executor-logs
    model, = written["artifacts"]["model"]["artifacts"]
    assert model["uri"] == str(task_root / "model")
    assert (task_root / "model" / "Format-Serving" /
            "saved_model.pb").read_text() == "candidate"
    if layout.task_root_layout:                        # the name survives
        assert model["name"] == "model"
