"""Where and how the pipeline runs on Kubeflow Pipelines 2.x."""
from __future__ import annotations

import dataclasses
from typing import Tuple


@dataclasses.dataclass(frozen=True)
class ComponentResources:
    """One component's container on Kubernetes (0 = leave to the cluster).

    Units follow KFP's ResourceSpec, which the KFP driver turns into the
    pod's requests/limits: CPU in cores, memory in GB (10^9 bytes).
    """
    cpu_request: float = 0.0
    cpu_limit: float = 0.0
    memory_request_gb: float = 0.0
    memory_limit_gb: float = 0.0


@dataclasses.dataclass(frozen=True)
class Toleration:
    """A Kubernetes toleration, e.g. for the taint GPU node pools carry."""
    key: str
    operator: str = "Exists"
    value: str = ""
    effect: str = "NoSchedule"


@dataclasses.dataclass(frozen=True)
class KubeflowConfig:
    """Where and how the pipeline runs on Kubeflow Pipelines 2.x.

    Paths are plain strings: `gs://` URIs do not survive `pathlib.Path`
    (it folds `//`), and in the cluster every path is an object-store URI.
    """
    image: str = "ghcr.io/imgpipe/imgpipe:0.1.0"
    pipeline_root: str = "gs://imgpipe-artifacts/pipeline_root"
    data_root: str = "gs://imgpipe-data/images/digits"
    model_store: str = "gs://imgpipe-models/serving"   # model name appended
    gpu_count: int = 1                                  # 0 trains on CPU
    gpu_resource: str = "nvidia.com/gpu"
    gpu_node_selector: Tuple[Tuple[str, str], ...] = (
        ("cloud.google.com/gke-accelerator", "nvidia-tesla-t4"),)
    gpu_tolerations: Tuple[Toleration, ...] = (Toleration(key="nvidia.com/gpu"),)
    example_gen: ComponentResources = ComponentResources(
        cpu_request=2, memory_request_gb=4, memory_limit_gb=8)
    transform: ComponentResources = ComponentResources(
        cpu_request=4, cpu_limit=8, memory_request_gb=8, memory_limit_gb=16)
    trainer: ComponentResources = ComponentResources(
        cpu_request=4, cpu_limit=8, memory_request_gb=16, memory_limit_gb=16)
    evaluator: ComponentResources = ComponentResources(
        cpu_request=2, cpu_limit=4, memory_request_gb=8, memory_limit_gb=12)
    beam_pipeline_args: Tuple[str, ...] = ()
    service_account: str = "imgpipe-pipeline-runner"

