"""One compile of the Kubeflow spec (and a second for the determinism check)
shared by the tests of this folder: compiling imports TFX and TensorFlow
(tens of seconds here); each compile after that takes a few seconds."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

IMAGE = "registry.example.com/imgpipe:test"
TRAINER_IMAGE = "registry.example.com/imgpipe:test-gpu"


@dataclasses.dataclass
class Compiled:
    path: Path
    spec: dict
    platform: dict
    config: object       # PipelineConfig
    kubeflow: object     # KubeflowConfig

    def executor(self, task: str) -> dict:
        label = self.spec["components"][task]["executorLabel"]
        return self.spec["deploymentSpec"]["executors"][label]["container"]


def kubeflow_config(**changes):
    from imgpipe.runners.kubeflow import beam_presets
    from imgpipe.runners.kubeflow.settings import KubeflowConfig
    settings = dict(
        image=IMAGE, pipeline_root="gs://test-artifacts/root",
        data_root="gs://test-data/images", model_store="gs://test-models/serving",
        gpu_count=2,
        gpu_node_selector=(("cloud.google.com/gke-accelerator", "nvidia-l4"),),
        beam_pipeline_args=tuple(beam_presets.dataflow(
            IMAGE, project="test-project", region="europe-west4",
            temp_location="gs://test-dataflow/tmp")))
    settings.update(changes)
    return KubeflowConfig(**settings)


def pipeline_config():
    from imgpipe.config import PipelineConfig, TrainConfig
    return PipelineConfig(train=TrainConfig(epochs=7))


def compile_to(path: Path, config=None, **changes) -> Compiled:
    """The package of `config` (pipeline_config() unless given) with the
    Kubeflow settings changed by `changes`."""
    from imgpipe.runners.kubeflow.runner import compile_pipeline
    config = config or pipeline_config()
    kubeflow = kubeflow_config(**changes)
    compile_pipeline(config, kubeflow, path)
    documents = list(yaml.safe_load_all(path.read_text()))
    return Compiled(path, documents[0],
                    documents[1] if len(documents) > 1 else {},
                    config, kubeflow)


@pytest.fixture(scope="session")
def compiled(tmp_path_factory) -> Compiled:
    return compile_to(tmp_path_factory.mktemp("kfp") / "imgpipe.yaml")


@pytest.fixture(scope="session")
def dev_compiled(tmp_path_factory) -> Compiled:
    """As infra/kubeflow/dev.yaml compiles it (the model store on a claim, no
    GPU), with the GPU steps on their own image."""
    return compile_to(tmp_path_factory.mktemp("kfp-dev") / "dev.yaml",
                      model_store="/models", model_store_pvc="imgpipe-models",
                      gpu_count=0, trainer_image=TRAINER_IMAGE)


@pytest.fixture(scope="session")
def compiled_again(compiled, tmp_path_factory) -> Compiled:
    return compile_to(tmp_path_factory.mktemp("kfp-again") / "imgpipe.yaml")


@pytest.fixture()
def isolated_kfp_context(tmp_path, monkeypatch):
    """The kfp Client keeps a namespace in ~/.config/kfp/context.json;
    tests must neither read nor write the real one."""
    import kfp
    monkeypatch.setattr(kfp.Client, "_LOCAL_KFP_CONTEXT",
                        str(tmp_path / "kfp-context.json"))
