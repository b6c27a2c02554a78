"""What each step's pod gets on Kubernetes, and how a team sets it: the
platform document (security context, GPU placement, the model-store
volume), requests on every step, and `compile --config` / CLI options."""
from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from imgpipe.runners.kubeflow.spec_layout import executor_tasks
from tests.kubeflow.conftest import IMAGE


def executors(compiled_platform: dict) -> dict:
    return compiled_platform["platforms"]["kubernetes"]["deploymentSpec"][
        "executors"]


def _labels(spec: dict) -> set:
    return {task["executorLabel"] for task in spec["components"].values()
            if "executorLabel" in task}


def test_the_default_package_writes_no_security_context(compiled):
    configs = executors(compiled.platform)
    assert set(configs) == _labels(compiled.spec)
    assert not any("securityContext" in c for c in configs.values())


def test_opted_in_every_pod_runs_as_the_images_non_root_user(tmp_path):
    from tests.kubeflow.conftest import compile_to
    restricted = compile_to(tmp_path / "restricted.yaml",
                            security_context=True)
    configs = executors(restricted.platform)
    assert set(configs) == _labels(restricted.spec)
    for config in configs.values():
        assert config["securityContext"] == {
            "runAsUser": 10001, "runAsGroup": 10001, "runAsNonRoot": True}


def test_only_the_gpu_steps_use_the_trainer_image(compiled, dev_compiled):
    from tests.kubeflow.conftest import TRAINER_IMAGE
    images = {task: dev_compiled.executor(task)["image"]
              for task in executor_tasks(dev_compiled.spec)}
    assert images.pop("Trainer") == TRAINER_IMAGE
    assert images.pop("Tuner", TRAINER_IMAGE) == TRAINER_IMAGE
    assert set(images.values()) == {IMAGE}
    assert {compiled.executor(task)["image"]
            for task in executor_tasks(compiled.spec)} == {IMAGE}


def test_a_gs_model_store_mounts_no_volume(compiled):
    assert not any("pvcMount" in c for c in executors(compiled.platform).values())


KUBEFLOW_YAML = """
pipeline:
  train: {epochs: 9}
  evaluation: {min_accuracy: 0.93, max_accuracy_drop: 0.02}
kubeflow:
  image: %s
  gpu_count: 1
  model_store: /models
  model_store_pvc: imgpipe-models
  security_context: true
  gpu_node_selector: {cloud.google.com/gke-nodepool: gpu-pool}
  resources: {Pusher: {cpu_request: 0.25, memory_request_gb: 0.5}}
""" % IMAGE


@pytest.fixture(scope="module")
def from_config(tmp_path_factory):
    """One compile through the CLI: the file, then options that win."""
    from imgpipe.cli.main import app
    folder = tmp_path_factory.mktemp("config")
    (folder / "kubeflow.yaml").write_text(KUBEFLOW_YAML)
    output = folder / "team.yaml"
    result = CliRunner().invoke(app, [
        "kubeflow", "compile", "--config", str(folder / "kubeflow.yaml"),
        "--output", str(output), "--epochs", "11",
        "--toleration", "dedicated=ml:NoExecute",
        "--trainer-image", IMAGE + "-gpu",
        "--resources", "Trainer:cpu_request=3,memory_request_gb=12"])
    assert result.exit_code == 0, result.output
    spec, platform = yaml.safe_load_all(output.read_text())
    return spec, platform


def _container(spec, task):
    label = spec["components"][task]["executorLabel"]
    return spec["deploymentSpec"]["executors"][label]["container"], label


def test_config_file_and_options_reach_the_spec(from_config):
    spec, platform = from_config
    train = json.loads(spec["root"]["inputDefinitions"]["parameters"][
        "train_config"]["defaultValue"])
    assert train["epochs"] == 11                       # the option wins
    evaluator = executor_tasks(spec)["Evaluator"]["inputs"][
        "parameters"]["eval_config"]["runtimeValue"]["constant"]
    assert "0.93" in evaluator and "0.02" in evaluator
    trainer, trainer_label = _container(spec, "Trainer")
    assert trainer["image"] == IMAGE + "-gpu"
    assert all("securityContext" in config
               for config in executors(platform).values())
    assert trainer["resources"]["cpuRequest"] == 3
    assert trainer["resources"]["memoryRequest"] == 12
    pusher, _ = _container(spec, "Pusher")
    assert pusher["resources"] == {"cpuRequest": 0.25, "memoryRequest": 0.5}
    placement = executors(platform)[trainer_label]
    assert placement["nodeSelector"] == {
        "labels": {"cloud.google.com/gke-nodepool": "gpu-pool"}}
    assert placement["tolerations"] == [{
        "key": "dedicated", "operator": "Equal", "value": "ml",
        "effect": "NoExecute"}]


def test_the_model_store_claim_is_mounted_where_the_pusher_writes(
        from_config):
    spec, platform = from_config
    push = json.loads(executor_tasks(spec)["Pusher"]["inputs"][
        "parameters"]["push_destination"]["runtimeValue"]["constant"])
    assert push["filesystem"]["base_directory"] == "/models/digits"
    mounted = {label: config["pvcMount"]
               for label, config in executors(platform).items()
               if "pvcMount" in config}
    # DataCheck and the exit handler read the version in service.
    assert set(mounted) == {"Pusher_executor",
                            "served_baseline_model_executor",
                            "DataCheck_executor", "RecordRun_executor"}
    for mounts in mounted.values():
        assert mounts == [{"mountPath": "/models",
                           "constant": "imgpipe-models"}]


def test_every_step_given_the_model_store_mounts_it(from_config):
    """Whatever step the compiler hands the store's path (DataCheck and
    the exit handler RecordRun read `stable` there), its pod has the claim."""
    spec, platform = from_config
    given = {spec["components"][task]["executorLabel"]
             for task, body in executor_tasks(spec).items()
             if "/models" in json.dumps(body.get("inputs", {}))}
    mounted = {label for label, config in executors(platform).items()
               if "pvcMount" in config}
    assert given and given == mounted


def test_the_kfp_sdk_reads_every_platform_field(from_config, tmp_path):
    from kfp.client.client import _extract_pipeline_yaml
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump_all(list(from_config)))
    document = _extract_pipeline_yaml(str(path))
    kubernetes = document.platform_spec.platforms["kubernetes"]
    assert kubernetes.deployment_spec.executors["DataCheck_executor"][
        "pvcMount"][0]["mountPath"] == "/models"


@pytest.mark.parametrize("args, phrases", [
    (["--resources", "Trainr:cpu_request=2"], ["no step named Trainr",
                                              "Trainer"]),
    (["--resources", "Trainer:cpu_request=0"], ["cpu_request must be > 0"]),
    (["--toleration", "gpu:NoRun"], ["toleration.effect"]),
    (["--node-selector", "pool"], ["not key=value"]),
    (["--model-store-pvc", "imgpipe-models"], ["absolute mount path"]),
    (["--config", "missing.yaml"], ["--config missing.yaml", "cannot read"]),
])
def test_bad_settings_are_refused_with_their_name(tmp_path, args, phrases):
    from imgpipe.cli.main import app
    result = CliRunner().invoke(app, [
        "kubeflow", "compile", "--output", str(tmp_path / "x.yaml"), *args])
    text = " ".join(result.output.split())
    assert result.exit_code == 2, text
    assert all(phrase in text for phrase in phrases), text
    assert not (tmp_path / "x.yaml").exists()


def test_a_config_file_with_an_unknown_key_names_it(tmp_path):
    from imgpipe.runners.kubeflow.config_file import load
    from imgpipe_components.settings_codec import SettingsError
    path = tmp_path / "kubeflow.yaml"
    path.write_text("kubeflow: {gpu_count: 1, gpus: 2}\n")
    with pytest.raises(SettingsError, match=r"kubeflow.yaml.*unknown setting"
                                            r"\(s\) gpus"):
        load(path)


def test_the_package_says_which_backend_it_needs(compiled):
    from imgpipe.runners.kubeflow import versions
    from imgpipe.runners.kubeflow.client import PipelinePackage
    package = PipelinePackage.load(compiled.path)
    assert {"nodeSelector", "tolerations", "activeDeadlineSeconds",
            "retryPolicy"} == set(package.features)
    needed, why = versions.requirements(package.features)[0]
    assert needed == (2, 1, 0) and "tolerations" in why
    assert versions.check("2.16.1", package.features, "h") is None
    warning = versions.check("2.2.0", package.features, "h")
    assert "2.2.0" in warning and "retries" in warning
    with pytest.raises(versions.BackendTooOld, match="tolerations"):
        versions.check("v2.0.5", package.features, "h")


# Field names (proto JSON) of kfp-kubernetes' KubernetesExecutorConfig and
# the messages used here, from kubernetes_platform/proto/
# kubernetes_executor_config.proto (kubeflow/pipelines, 2026): the backend
# parses the platform document into these, so a misspelt key is lost.
EXECUTOR_CONFIG_FIELDS = {
    "secretAsVolume", "secretAsEnv", "pvcMount", "nodeSelector",
    "podMetadata", "imagePullSecret", "imagePullPolicy", "configMapAsVolume",
    "configMapAsEnv", "activeDeadlineSeconds", "fieldPathAsEnv",
    "tolerations", "genericEphemeralVolume", "nodeAffinity", "podAffinity",
    "enabledSharedMemory", "emptyDirMounts", "securityContext",
    "initContainers", "podResourceClaims"}
MESSAGE_FIELDS = {
    "securityContext": {"runAsUser", "runAsGroup", "runAsNonRoot"},
    "nodeSelector": {"labels", "nodeSelectorJson"},
    "tolerations": {"key", "operator", "value", "effect",
                    "tolerationSeconds", "tolerationJson"},
    "pvcMount": {"taskOutputParameter", "constant", "componentInputParameter",
                 "mountPath", "pvcNameParameter", "subPath"},
}


def test_the_platform_document_uses_only_kfp_kubernetes_fields(from_config,
                                                               compiled):
    for platform in (from_config[1], compiled.platform):
        for config in executors(platform).values():
            assert set(config) <= EXECUTOR_CONFIG_FIELDS, config
            for field, allowed in MESSAGE_FIELDS.items():
                values = config.get(field, [])
                for value in values if isinstance(values, list) else [values]:
                    assert set(value) <= allowed, (field, value)


def _compiled_train_config(tmp_path, *args) -> dict:
    from imgpipe.cli.main import app
    output = tmp_path / "auto.yaml"
    result = CliRunner().invoke(app, [
        "kubeflow", "compile", "--output", str(output), "--image", IMAGE,
        *args])
    assert result.exit_code == 0, result.output
    spec = next(yaml.safe_load_all(output.read_text()))
    return json.loads(spec["root"]["inputDefinitions"]["parameters"][
        "train_config"]["defaultValue"]), " ".join(result.output.split())


def test_compile_chooses_defaults_from_the_data_and_the_trainer_step(
        tmp_path, digits_subset):
    """As `imgpipe run` does, but for the cluster: the data under data_root
    and the Trainer step's GPUs, not the compiling machine; options win."""
    on_cpu, said = _compiled_train_config(
        tmp_path, "--data-root", str(digits_subset), "--gpus", "0")
    assert (on_cpu["architecture"], on_cpu["batch_size"]) == (
        "residual_cnn", 32)
    assert "0 GPU(s)" in said and "image_size = 16" in said
    on_gpu, said = _compiled_train_config(
        tmp_path, "--data-root", str(digits_subset), "--gpus", "1",
        "--epochs", "9")
    assert (on_gpu["batch_size"], on_gpu["epochs"]) == (128, 9)
    assert "epochs = 9: set by option or --config" in said
    untouched, said = _compiled_train_config(
        tmp_path, "--data-root", str(digits_subset), "--no-auto-settings")
    from imgpipe_components.train.settings import TrainConfig
    assert untouched["epochs"] == TrainConfig().epochs
    assert "Settings" not in said


def test_compile_keeps_the_defaults_when_the_data_cannot_be_read(tmp_path):
    train, said = _compiled_train_config(
        tmp_path, "--data-root", str(tmp_path / "missing"))
    from imgpipe_components.train.settings import TrainConfig
    assert train["epochs"] == TrainConfig().epochs
    assert "kept the built-in defaults" in said and "missing" in said
