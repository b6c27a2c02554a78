"""The compiled Kubeflow spec: what KFP 2.x will run, checked offline."""
from __future__ import annotations

import json

import pytest

from tests.kubeflow.conftest import IMAGE, compile_to


def tasks(compiled) -> dict:
    """The pipeline's steps (inside TFX's `tfx-dag`, beside the exit
    handler)."""
    from imgpipe.runners.kubeflow.spec_layout import pipeline_tasks
    return pipeline_tasks(compiled.spec)


def test_the_kfp_sdk_reads_the_package_as_spec_plus_platform_document(
        compiled):
    # The same loader kfp.Client uses before sending a package to the server.
    from kfp.client.client import _extract_pipeline_yaml
    from kfp.pipeline_spec import pipeline_spec_pb2

    document = _extract_pipeline_yaml(str(compiled.path))
    assert document.pipeline_spec.schema_version == "2.1.0"
    assert document.pipeline_spec.pipeline_info.name == "imgpipe"
    assert document.platform_spec != pipeline_spec_pb2.PlatformSpec()
    assert "kubernetes" in document.platform_spec.platforms


def test_every_component_is_a_task_and_no_resolver_is_left(compiled):
    assert set(tasks(compiled)) == {
        "ImageExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator",
        "DataGate", "Augment", "Transform", "Trainer", "served_baseline_model",
        "Evaluator", "Pusher", "KfpUiReport", "ModelReport", "DataCheck"}
    executors = compiled.spec["deploymentSpec"]["executors"].values()
    # Open-source KFP cannot run resolver executors at all.
    assert all("resolver" not in executor for executor in executors)


def test_the_dag_is_the_pipeline_graph(compiled):
    from imgpipe.runners.kubeflow.runner import build_pipeline

    pipeline = build_pipeline(compiled.config, compiled.kubeflow)
    expected = {node.id: sorted(up.id for up in node.upstream_nodes)
                for node in pipeline.components}
    compiled_edges = {name: sorted(task.get("dependentTasks", []))
                      for name, task in tasks(compiled).items()}
    assert compiled_edges == expected


@pytest.mark.parametrize("task, upstream", [
    ("Augment", "DataGate"),          # nothing is augmented before the gate
    ("Transform", "Augment"),
    ("Trainer", "Transform"),
    ("served_baseline_model", "Trainer"),
    ("Evaluator", "served_baseline_model"),
    ("Evaluator", "Trainer"),
    ("Pusher", "Evaluator"),          # nothing is pushed before the blessing
    ("Pusher", "ModelReport"),        # the report goes inside the version
    ("KfpUiReport", "Evaluator"),
    ("KfpUiReport", "DataGate"),
    ("KfpUiReport", "ModelReport"),   # the report page is shown in the UI
])
def test_order_that_matters(compiled, task, upstream):
    assert upstream in tasks(compiled)[task]["dependentTasks"]


def test_evaluator_compares_with_the_served_baseline(compiled):
    baseline = tasks(compiled)["Evaluator"]["inputs"]["artifacts"][
        "baseline_model"]["taskOutputArtifact"]
    assert baseline == {"producerTask": "served_baseline_model",
                        "outputArtifactKey": "model"}
    store = tasks(compiled)["served_baseline_model"]["inputs"]["parameters"][
        "model_store"]["runtimeValue"]["constant"]
    push = json.loads(tasks(compiled)["Pusher"]["inputs"]["parameters"][
        "push_destination"]["runtimeValue"]["constant"])
    assert store == push["filesystem"]["base_directory"] == \
        "gs://test-models/serving/digits"


def test_trainer_requests_the_configured_gpus_and_memory(compiled):
    resources = compiled.executor("Trainer")["resources"]
    assert resources["accelerator"] == {"type": "nvidia.com/gpu", "count": "2"}
    trainer = compiled.kubeflow.resources_for("Trainer")
    assert resources["memoryLimit"] == trainer.memory_limit_gb
    assert resources["cpuRequest"] == trainer.cpu_request


def test_every_step_requests_cpu_and_memory_only_the_trainer_a_gpu(compiled):
    """A profile namespace's ResourceQuota refuses pods without requests."""
    for name in tasks(compiled):
        resources = compiled.executor(name)["resources"]
        expected = compiled.kubeflow.resources_for(name)
        assert resources["cpuRequest"] == expected.cpu_request > 0, name
        assert resources["memoryRequest"] == expected.memory_request_gb > 0
        assert ("accelerator" in resources) == (name == "Trainer"), name


def test_image_entrypoint_and_pipeline_root_are_as_configured(compiled):
    for name in tasks(compiled):
        container = compiled.executor(name)
        assert container["image"] == IMAGE
        assert container["command"] == [
            "python", "-m", "imgpipe.runners.kubeflow.entrypoint"]
    assert compiled.spec["defaultPipelineRoot"] == "gs://test-artifacts/root"


def test_beam_preset_reaches_the_beam_steps(compiled):
    for name in ("ImageExampleGen", "Transform", "Evaluator", "Augment"):
        args = compiled.executor(name)["args"]
        assert "--runner=DataflowRunner" in args
        assert f"--sdk_container_image={IMAGE}" in args


def test_data_root_and_training_config_are_run_parameters(compiled):
    declared = compiled.spec["root"]["inputDefinitions"]["parameters"]
    assert declared["data_root"] == {"parameterType": "STRING",
                                     "defaultValue": "gs://test-data/images"}
    from imgpipe_components.train.settings import TrainConfig
    from imgpipe_components.settings_codec import from_json

    train = from_json(TrainConfig, declared["train_config"]["defaultValue"])
    assert train.epochs == 7
    assert tasks(compiled)["ImageExampleGen"]["inputs"]["parameters"][
        "input_base"] == {"componentInputParameter": "data_root"}
    trainer = tasks(compiled)["Trainer"]["inputs"]["parameters"]
    assert trainer["custom_config"] == {
        "componentInputParameter": "train_config"}


def test_every_step_that_runs_project_code_carries_its_fingerprint(
        compiled):
    """KFP's cache key holds a step's parameters: the code fingerprint is
    one, so changed code is not served from KFP's cache either."""
    from imgpipe.code_fingerprint import EXEC_PROPERTY
    stamped = {name for name, task in tasks(compiled).items()
               if EXEC_PROPERTY in task["inputs"]["parameters"]}
    assert {"ImageExampleGen", "DataGate", "Augment", "Transform", "Trainer",
            "Evaluator", "ModelReport", "Pusher"} <= stamped
    assert not {"StatisticsGen", "SchemaGen"} & stamped


def test_platform_document_puts_the_trainer_on_gpu_nodes(compiled):
    executors = compiled.platform["platforms"]["kubernetes"][
        "deploymentSpec"]["executors"]
    trainer_label = compiled.spec["components"]["Trainer"]["executorLabel"]
    assert executors[trainer_label]["nodeSelector"] == {
        "labels": {"cloud.google.com/gke-accelerator": "nvidia-l4"}}
    assert executors[trainer_label]["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists",
         "effect": "NoSchedule"}]
    placed = {label for label, config in executors.items()
              if "nodeSelector" in config or "tolerations" in config}
    assert placed == {trainer_label}


def test_compiling_twice_gives_the_same_file(compiled, compiled_again):
    # Nothing needs normalising: TFX 1.16 puts no timestamp or run id in the
    # bare spec (they live in the Vertex job wrapper, which is not written).
    assert compiled.path.read_bytes() == compiled_again.path.read_bytes()


def test_cpu_only_build_has_no_accelerator_and_no_gpu_placement(
        compiled, tmp_path):
    cpu = compile_to(tmp_path / "cpu.yaml", gpu_count=0, beam_pipeline_args=())
    assert "accelerator" not in cpu.executor("Trainer")["resources"]
    executors = cpu.platform["platforms"]["kubernetes"]["deploymentSpec"][
        "executors"]
    assert not any("nodeSelector" in c or "tolerations" in c
                   for c in executors.values())


def test_steps_reading_at_run_time_are_never_cached_the_rest_is(compiled):
    """DataCheck reads the files behind data_root and the record, the
    baseline the stable label: neither is among the task's inputs, KFP's
    cache key. ExampleGen reads the files too, but its key holds DataCheck's
    fingerprint of them (test above); the exit handler is never cached."""
    caching = {name: task.get("cachingOptions", {}).get("enableCache", False)
               for name, task in tasks(compiled).items()}
    assert compiled.spec["root"]["dag"]["tasks"]["RecordRun"].get(
        "cachingOptions", {}).get("enableCache", False) is False
    assert caching.pop("served_baseline_model") is False
    assert caching.pop("DataCheck") is False
    assert all(caching.values())


def test_pretraining_compiles_to_its_own_steps_on_the_trainers_gpus(
        compiled, tmp_path):
    import dataclasses
    train = dataclasses.replace(compiled.config.train, pretrain_epochs=2)
    package = compile_to(tmp_path / "pretrain.yaml", dataclasses.replace(
        compiled.config, train=train))
    found = tasks(package)
    assert set(found) == set(tasks(compiled)) | {
        "UnlabelledExampleGen", "UnlabelledStatisticsGen", "Pretrainer"}

    def producer(task, key):
        return found[task]["inputs"]["artifacts"][key]["taskOutputArtifact"]
    assert producer("Trainer", "base_model") == {
        "producerTask": "Pretrainer", "outputArtifactKey": "model"}
    assert producer("Pretrainer", "examples")["producerTask"] == \
        "UnlabelledExampleGen"
    assert producer("Pretrainer", "transform_graph")["producerTask"] == \
        "Transform"
    # Reads the data root at run time, as ImageExampleGen: never cached.
    assert found["UnlabelledExampleGen"]["cachingOptions"] == {
        "enableCache": False}
    assert package.executor("Pretrainer")["resources"] == \
        package.executor("Trainer")["resources"]
    assert package.executor("Pretrainer")["resources"]["accelerator"][
        "count"] == "2"
    placement = package.platform["platforms"]["kubernetes"][
        "deploymentSpec"]["executors"]
    label = package.spec["components"]["Pretrainer"]["executorLabel"]
    assert "nodeSelector" in placement[label]


def test_output_must_be_yaml(tmp_path, compiled):
    from imgpipe.runners.kubeflow.runner import KubeflowCompileError, compile_pipeline
    with pytest.raises(KubeflowCompileError, match=r"must end in \.yaml"):
        compile_pipeline(compiled.config, compiled.kubeflow,
                         tmp_path / "imgpipe.json")


def test_patterns_only_the_skipped_driver_resolves_are_refused(compiled):
    from tfx.components import CsvExampleGen
    from tfx.orchestration.pipeline import Pipeline
    from tfx.proto import example_gen_pb2

    from imgpipe.runners.kubeflow.runner import (KubeflowCompileError,
                                           _check_no_driver_patterns)

    dated = CsvExampleGen(
        input_base="gs://b/data", input_config=example_gen_pb2.Input(splits=[
            example_gen_pb2.Input.Split(name="all",
                                        pattern="{YYYY}-{MM}-{DD}/*")]))
    pipeline = Pipeline(pipeline_name="dated", pipeline_root="/tmp/root",
                        components=[dated])
    with pytest.raises(KubeflowCompileError, match=r"\{YYYY\}"):
        _check_no_driver_patterns(pipeline)


def test_the_local_pipeline_keeps_its_resolver_and_paths(compiled, tmp_path):
    from imgpipe.pipeline import create_pipeline
    from imgpipe.runners.local.layout import LocalLayout

    layout = LocalLayout(tmp_path / "data", tmp_path / "out")
    local = create_pipeline(compiled.config, layout.locations("digits"))
    ids = {node.id for node in local.components}
    assert "served_model_resolver" in ids
    assert not ids & {"served_baseline_model", "KfpUiReport"}
    example_gen = next(n for n in local.components if n.id == "ImageExampleGen")
    assert example_gen.exec_properties["input_base"] == layout.data_root


def test_cli_compile_writes_a_spec_with_the_chosen_beam_preset(tmp_path):
    import yaml
    from typer.testing import CliRunner

    from imgpipe.cli.main import app

    output = tmp_path / "cli.yaml"
    result = CliRunner().invoke(app, [
        "kubeflow", "compile", "--output", str(output), "--image", IMAGE,
        "--gpus", "0", "--model-name", "xray", "--beam-preset", "flink",
        "--beam-setting", "parallelism=4"])
    assert result.exit_code == 0, result.output
    spec = next(yaml.safe_load_all(output.read_text()))
    label = spec["components"]["Transform"]["executorLabel"]
    args = spec["deploymentSpec"]["executors"][label]["container"]["args"]
    assert "--runner=PortableRunner" in args and "--parallelism=4" in args
    assert "xray" in json.dumps(spec["components"]["tfx-dag"]["dag"]["tasks"][
        "Pusher"])


def test_cli_compile_refuses_a_bad_beam_setting_before_compiling(tmp_path):
    from typer.testing import CliRunner

    from imgpipe.cli.main import app

    result = CliRunner().invoke(app, [
        "kubeflow", "compile", "--output", str(tmp_path / "x.yaml"),
        "--beam-preset", "dataflow", "--beam-setting", "project=p"])
    assert result.exit_code == 2
    assert "needs region, temp_location" in " ".join(result.output.split())
    assert not (tmp_path / "x.yaml").exists()


def test_a_run_with_nothing_new_skips_everything_after_the_data_check(
        compiled):
    """Every task but DataCheck runs under its `changed` condition (a CEL
    trigger policy the KFP backend evaluates), so a scheduled run on
    unchanged data trains nothing."""
    conditions = {name: task.get("triggerPolicy", {}).get("condition")
                  for name, task in tasks(compiled).items()}
    assert conditions.pop("DataCheck") is None
    for name, condition in conditions.items():
        assert condition == (
            "(inputs.parameter_values['_data_check_changed'] == 1.0)"), name
        # DataCheck's report, a new artifact every run, would make every
        # step's KFP cache key new: the steps read its `changed` value.
        assert "_DataCheck.report" not in tasks(compiled)[name].get(
            "inputs", {}).get("artifacts", {}), name
    assert tasks(compiled)["ImageExampleGen"]["cachingOptions"] == {
        "enableCache": True}
    assert tasks(compiled)["ImageExampleGen"]["inputs"]["parameters"][
        "_data_fingerprint"] == {"taskOutputParameter": {
            "producerTask": "DataCheck", "outputParameterKey": "fingerprint"}}


def test_every_run_ends_in_the_exit_handler(compiled):
    """TFX's exit handler: the steps in the `tfx-dag` sub-DAG, RecordRun
    beside it, run whatever `tfx-dag` ended with and given its final
    status; the sub-DAG receives the run parameters its steps read."""
    root = compiled.spec["root"]["dag"]["tasks"]
    assert set(root) == {"tfx-dag", "RecordRun"}
    record = root["RecordRun"]
    assert record["triggerPolicy"] == {
        "strategy": "ALL_UPSTREAM_TASKS_COMPLETED"}
    assert record["dependentTasks"] == ["tfx-dag"]
    assert record["inputs"]["parameters"]["final_status"] == {
        "taskFinalStatus": {"producerTask": "tfx-dag"}}
    sub_dag = compiled.spec["components"]["tfx-dag"]
    assert set(sub_dag["inputDefinitions"]["parameters"]) == {
        "data_root", "train_config"}
    assert root["tfx-dag"]["inputs"]["parameters"]["train_config"] == {
        "componentInputParameter": "train_config"}


def test_cli_compile_carries_an_ensemble_to_the_trainer(tmp_path):
    """--ensemble and the file's ensemble_architectures travel in the
    Trainer's JSON config; a member the Trainer does not know is refused
    before compiling, naming the setting."""
    import yaml
    from typer.testing import CliRunner

    from imgpipe.cli.main import app
    from imgpipe_components.settings_codec import from_json
    from imgpipe_components.train.settings import TrainConfig

    settings = tmp_path / "settings.yaml"
    settings.write_text(yaml.safe_dump({"pipeline": {"train": {
        "ensemble_architectures": ["small_cnn", "vit"]}}}))
    output = tmp_path / "ensemble.yaml"
    result = CliRunner().invoke(app, [
        "kubeflow", "compile", "--output", str(output), "--image", IMAGE,
        "--gpus", "0", "--no-auto-settings", "--config", str(settings),
        "--ensemble", "2"])
    assert result.exit_code == 0, result.output
    spec = next(yaml.safe_load_all(output.read_text()))
    train = from_json(TrainConfig, spec["root"]["inputDefinitions"][
        "parameters"]["train_config"]["defaultValue"])
    assert (train.ensemble, train.member_architectures) == (
        2, ("small_cnn", "vit"))

    settings.write_text(yaml.safe_dump({"pipeline": {"train": {
        "ensemble": 2, "ensemble_architectures": ["small_cnn", "vgg"]}}}))
    result = CliRunner().invoke(app, [
        "kubeflow", "compile", "--output", str(tmp_path / "bad.yaml"),
        "--image", IMAGE, "--no-auto-settings", "--config", str(settings)])
    assert result.exit_code == 2
    assert "train.ensemble_architectures must be a list of" in " ".join(
        result.output.split())
    assert not (tmp_path / "bad.yaml").exists()
