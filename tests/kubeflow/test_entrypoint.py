"""The container entrypoint closes TFX 1.16's gaps on open-source KFP."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.kubeflow.executor_input import (artifact, executor_input,
                                           output_types, run_task)

EXAMPLES_TYPE = {"instanceSchema": "title: tfx.Examples\ntype: object\n"}


def test_untyped_and_system_typed_inputs_get_their_declared_type():
    from imgpipe.runners.kubeflow.entrypoint import restore_input_types

    invocation = {"inputs": {"artifacts": {
        "examples": {"artifacts": [{"uri": "gs://b/e", "type": {}}]},
        "schema": {"artifacts": [{"uri": "gs://b/s",
                                  "type": {"schemaTitle": "system.Artifact"}}]},
        "model": {"artifacts": [{"uri": "gs://b/m", "type": {
            "instanceSchema": "title: tfx.Model\n"}}]}}}}
    declared = {"artifacts": {
        "examples": {"artifactType": EXAMPLES_TYPE},
        "schema": {"artifactType": {"instanceSchema": "title: tfx.Schema\n"}},
        "model": {"artifactType": {"instanceSchema": "title: tfx.Other\n"}}}}
    restored = json.loads(restore_input_types(json.dumps(invocation),
                                              json.dumps(declared)))
    types = {name: value["artifacts"][0]["type"]
             for name, value in restored["inputs"]["artifacts"].items()}
    assert types["examples"] == EXAMPLES_TYPE
    assert types["schema"] == {"instanceSchema": "title: tfx.Schema\n"}
    # A typed artifact keeps the type it came with.
    assert types["model"] == {"instanceSchema": "title: tfx.Model\n"}


@pytest.mark.parametrize("title, class_name", [
    ("tfx.ExampleValidationMetrics", "ExampleValidationMetrics"),
    ("system.Markdown", "KfpMarkdown"),
    ("system.ClassificationMetrics", "KfpClassificationMetrics"),
])
def test_extra_artifact_titles_import_as_their_classes(title, class_name):
    from kfp.pipeline_spec import pipeline_spec_pb2
    from tfx.orchestration.kubeflow.v2.container import \
        kubeflow_v2_entrypoint_utils as entrypoint_utils
    from tfx.utils import import_utils

    from imgpipe.runners.kubeflow.entrypoint import register_extra_artifact_types

    register_extra_artifact_types()
    schema = pipeline_spec_pb2.ArtifactTypeSchema(
        instance_schema=f"title: {title}\ntype: object\n")
    path = entrypoint_utils._retrieve_class_path(schema)
    assert import_utils.import_class_by_path(path).__name__ == class_name


def test_data_gate_report_is_compiled_with_an_importable_title(compiled):
    assert output_types(compiled, "DataGate") == {
        "report": "tfx.ExampleValidationMetrics"}


def _saved_model(folder: Path, marker: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "saved_model.pb").write_text(marker)
    return folder


def _baseline_invocation(compiled, tmp_path, store: Path) -> dict:
    candidate = tmp_path / "candidate"
    _saved_model(candidate / "Format-Serving", "candidate")
    titles = output_types(compiled, "served_baseline_model")
    return executor_input(
        inputs={"candidate": artifact(candidate)},          # untyped, as KFP
        outputs={"model": artifact(tmp_path / "baseline", titles["model"])},
        parameters={"model_store": str(store)},
        output_file=tmp_path / "executor_output.json")


def _register(store: Path, labels: dict) -> None:
    """models.config beside the store, as the Pusher and `promote` write it."""
    from imgpipe_components.model_store.models_config import (ServingPaths, add_model,
                                                   parse_config, set_labels,
                                                   write_config_atomically)
    config = parse_config(None, "test")
    entry = add_model(config, store.name, str(store))
    set_labels(entry, labels)
    write_config_atomically(ServingPaths.for_model(store).config, config)


def test_served_baseline_is_the_stable_version_not_the_newest(
        compiled, tmp_path):
    store = tmp_path / "store" / "digits"
    _saved_model(store / "1", "version 1")
    _saved_model(store / "2", "version 2")
    _saved_model(store / "3", "version 3")
    # Version 3 is a canary never promoted; 2 was rolled back to 1.
    _register(store, {"stable": 1, "canary": 3})

    output = run_task(compiled, "served_baseline_model",
                      _baseline_invocation(compiled, tmp_path, store))

    copied = tmp_path / "baseline" / "Format-Serving" / "saved_model.pb"
    assert copied.read_text() == "version 1"
    metadata = output["artifacts"]["model"]["artifacts"][0]["metadata"]
    assert metadata["baseline_source"] == str(store / "1")
    assert metadata["baseline_version"] == 1


def test_a_stable_label_on_a_missing_folder_falls_back_to_thresholds(
        compiled, tmp_path):
    store = tmp_path / "store" / "digits"
    _saved_model(store / "1", "version 1")
    _register(store, {"stable": 4, "canary": 1})
    output = run_task(compiled, "served_baseline_model",
                      _baseline_invocation(compiled, tmp_path, store))
    copied = tmp_path / "baseline" / "Format-Serving" / "saved_model.pb"
    assert copied.read_text() == "candidate"
    metadata = output["artifacts"]["model"]["artifacts"][0]["metadata"]
    assert metadata["baseline_version"] == 0


def test_first_run_compares_the_candidate_with_itself(compiled, tmp_path):
    output = run_task(compiled, "served_baseline_model",
                      _baseline_invocation(compiled, tmp_path,
                                           tmp_path / "empty-store"))

    copied = tmp_path / "baseline" / "Format-Serving" / "saved_model.pb"
    assert copied.read_text() == "candidate"
    metadata = output["artifacts"]["model"]["artifacts"][0]["metadata"]
    assert metadata["baseline_source"].startswith("candidate")


def test_input_types_travel_in_the_compiled_args(compiled):
    # What restore_input_types reads: the component's own input definitions.
    args = compiled.executor("Trainer")["args"]
    spec = json.loads(args[args.index("--json_serialized_inputs_spec_args") + 1])
    title = yaml.safe_load(spec["artifacts"]["examples"]["artifactType"][
        "instanceSchema"])["title"]
    assert title == "tfx.Examples"
