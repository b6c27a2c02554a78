"""What each compiled step's pod gets on Kubernetes: resources, placement,
identity, volumes, retries and time limits.

Two places in the compiled package carry this, as the KFP backend reads
them:

- `deploymentSpec.executors.<label>.container.resources` (a ResourceSpec in
  the pipeline spec): CPU and memory requests and limits for every step, and
  the Trainer's (and Pretrainer's) GPUs. TFX's `with_platform_config`
  reaches only some components (FileBasedExampleGen ignores it), so the
  compiled spec is completed here instead, one rule for all steps.
- `deploymentSpec.executors.<label>.container.image`: the GPU steps
  (Trainer, Tuner, Pretrainer) on `trainer_image` when one is set, so that
  only they pull the CUDA libraries.
- `root.dag.tasks.<task>.retryPolicy` (TFX writes none): all four fields,
  with an integer factor (settings.StepRetry says why).
- the `platforms: kubernetes:` document (kfp-kubernetes'
  KubernetesExecutorConfig per executor): the GPU steps' node selector and
  tolerations, a time limit per attempt (`activeDeadlineSeconds`) for every
  step, the model-store volume for the steps that read or write it, and,
  only when `security_context` is set, a security context. Every field is
  written in the form KFP 2.2's driver parses, which refuses unknown fields
  (versions.py says which backend reads what).
"""
from __future__ import annotations

import dataclasses
from typing import Dict

from imgpipe.runners.kubeflow import spec_layout
from imgpipe.runners.kubeflow.settings import (TRAINS_LIKE_THE_TRAINER,
                                               ComponentResources,
                                               KubeflowConfig, StepRetry)

TRAINER_ID = "Trainer"
# The steps that train models: they get the GPUs, the GPU node placement and
# `trainer_image` (the Pretrainer only when pretraining is on).
GPU_STEPS = (TRAINER_ID, "Tuner", *TRAINS_LIKE_THE_TRAINER)
# Steps that open the model store: the Pusher writes versions, the baseline
# step, DataCheck and the exit handler read the version in service.
MODEL_STORE_STEPS = ("Pusher", "served_baseline_model", "DataCheck",
                     "RecordRun")


def steps(spec: dict) -> Dict[str, str]:
    """Compiled step (task) name -> its executor label."""
    return {task: spec["components"][task]["executorLabel"]
            for task in spec_layout.executor_tasks(spec)}


def resource_spec(resources: ComponentResources, gpus: int = 0,
                  gpu_resource: str = "") -> dict:
    """A ResourceSpec as the compiled YAML holds it (proto JSON names)."""
    spec = {"cpuRequest": resources.cpu_request,
            "memoryRequest": resources.memory_request_gb}
    if resources.cpu_limit:
        spec["cpuLimit"] = resources.cpu_limit
    if resources.memory_limit_gb:
        spec["memoryLimit"] = resources.memory_limit_gb
    if gpus:
        # The KFP driver turns `count` into limits[<type>]: `type` must be
        # the Kubernetes resource name.
        spec["accelerator"] = {"type": gpu_resource, "count": str(gpus)}
    return spec


def add_resources(spec: dict, kubeflow: KubeflowConfig) -> None:
    """Requests (and limits, where set) on every step: a profile namespace
    with a ResourceQuota refuses pods that request nothing."""
    labels = steps(spec)
    kubeflow.check_steps(labels)
    executors = spec["deploymentSpec"]["executors"]
    for step, label in labels.items():
        gpus = kubeflow.gpu_count if step in GPU_STEPS else 0
        executors[label]["container"]["resources"] = resource_spec(
            kubeflow.resources_for(step), gpus, kubeflow.gpu_resource)


def set_images(spec: dict, kubeflow: KubeflowConfig) -> None:
    """The GPU steps on `trainer_image` (when set); every other step keeps
    the default image TFX wrote."""
    if not kubeflow.trainer_image:
        return
    executors = spec["deploymentSpec"]["executors"]
    for step, label in steps(spec).items():
        if step in GPU_STEPS:
            executors[label]["container"]["image"] = kubeflow.trainer_image


def retry_policy(retry: StepRetry) -> dict:
    """A PipelineTaskSpec.RetryPolicy as the compiled YAML holds it (proto
    JSON: durations as "<seconds>s"). Every field is written: KFP 2.14+
    passes a missing duration to Argo as "0", and a backoff maxDuration of
    0 stops at the first failure (argocompiler/container.go,
    getTaskRetryParametersWithValues)."""
    return {"maxRetryCount": retry.max_retries,
            "backoffDuration": f"{retry.backoff_s}s",
            "backoffFactor": float(retry.backoff_factor),
            "backoffMaxDuration": f"{retry.backoff_max_s}s"}


def add_retries(spec: dict, kubeflow: KubeflowConfig) -> None:
    """A retry policy on every step."""
    tasks = spec_layout.executor_tasks(spec)
    kubeflow.check_steps(tasks)
    for step, task in tasks.items():
        task["retryPolicy"] = retry_policy(kubeflow.retry_for(step))


def security_context(kubeflow: KubeflowConfig) -> dict:
    """kfp-kubernetes' SecurityContext (runAsUser, runAsGroup,
    runAsNonRoot), read by KFP 2.16.0 and later only: KFP 2.2-2.4.0 refuse
    the unknown field, 2.4.1-2.15 drop it. The backend that reads it also
    drops every capability, forbids privilege escalation and sets the
    RuntimeDefault seccomp profile itself (docs/kubeflow.md, "Security
    context"): the proto has no fields for them."""
    return {"runAsUser": kubeflow.run_as_user,
            "runAsGroup": kubeflow.run_as_user, "runAsNonRoot": True}


def _toleration(toleration) -> dict:
    fields = dataclasses.asdict(toleration)
    return {key: value for key, value in fields.items() if value}


def _gpu_placement(kubeflow: KubeflowConfig) -> dict:
    if kubeflow.gpu_count <= 0:
        return {}
    placement: dict = {}
    if kubeflow.gpu_node_selector:
        placement["nodeSelector"] = {
            "labels": dict(kubeflow.gpu_node_selector)}
    if kubeflow.gpu_tolerations:
        placement["tolerations"] = [_toleration(t)
                                    for t in kubeflow.gpu_tolerations]
    return placement


def model_store_mount(kubeflow: KubeflowConfig) -> dict:
    """kfp-kubernetes' PvcMount for the model-store claim, its name in the
    `constant` field: every KFP 2.x driver reads that one (2.0-2.4 only
    that; 2.5.0 and later map it onto `pvcNameParameter`, which deprecates
    it: backend/src/v2/driver/driver.go, k8s.go from 2.14).
    `pvcNameParameter` alone fails on 2.4 and older with "volume name not
    provided"."""
    return {"mountPath": kubeflow.model_store,
            "constant": kubeflow.model_store_pvc}


def platform_spec(spec: dict, kubeflow: KubeflowConfig) -> dict:
    """The `platforms: kubernetes:` document for every compiled step."""
    executors = {}
    for step, label in steps(spec).items():
        # int64 in the proto: a string in proto JSON, as kfp-kubernetes'
        # set_timeout writes it.
        config = {"activeDeadlineSeconds": str(
            kubeflow.retry_for(step).timeout_s)}
        if kubeflow.security_context:
            config["securityContext"] = security_context(kubeflow)
        if step in GPU_STEPS:
            config.update(_gpu_placement(kubeflow))
        if kubeflow.model_store_pvc and step in MODEL_STORE_STEPS:
            config["pvcMount"] = [model_store_mount(kubeflow)]
        executors[label] = config
    return {"platforms": {"kubernetes": {"deploymentSpec": {
        "executors": executors}}}}
