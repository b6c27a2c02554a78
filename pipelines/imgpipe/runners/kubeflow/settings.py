"""Where and how the pipeline runs on Kubeflow Pipelines 2.x.

Every field can come from `imgpipe kubeflow compile --config kubeflow.yaml`
(pipelines/imgpipe/runners/kubeflow/config_file.py) or a CLI option; the checks below
run on construction, so each entry point gets them.
"""
from __future__ import annotations

import dataclasses
from typing import Tuple

from imgpipe_components.settings_codec import SettingsError, check

# Kubernetes toleration operators and effects (core/v1 Toleration).
_OPERATORS = ("Exists", "Equal")
_EFFECTS = ("", "NoSchedule", "PreferNoSchedule", "NoExecute")


@dataclasses.dataclass(frozen=True)
class ComponentResources:
    """One step's container on Kubernetes.

    Units follow KFP's ResourceSpec, which the KFP driver turns into the
    pod's requests/limits: CPU in cores, memory in GB (10^9 bytes). A limit
    of 0 leaves the limit to the namespace's LimitRange.
    """
    cpu_request: float = 0.5
    cpu_limit: float = 0.0
    memory_request_gb: float = 1.0
    memory_limit_gb: float = 0.0

    def __post_init__(self) -> None:
        # A profile's ResourceQuota on requests.cpu/memory refuses pods that
        # request nothing: every step must ask for both.
        check(self.cpu_request > 0, "resources.cpu_request", self.cpu_request,
              "> 0 (a namespace quota refuses a pod without a CPU request)")
        check(self.memory_request_gb > 0, "resources.memory_request_gb",
              self.memory_request_gb, "> 0 (a namespace quota refuses a pod "
              "without a memory request)")
        for kind in ("cpu", "memory"):
            request = getattr(self, f"{kind}_request" if kind == "cpu"
                              else "memory_request_gb")
            limit = getattr(self, f"{kind}_limit" if kind == "cpu"
                            else "memory_limit_gb")
            check(limit == 0 or limit >= request, f"resources.{kind} limit",
                  limit, f"0 (none) or at least the request ({request})")


@dataclasses.dataclass(frozen=True)
class Toleration:
    """A Kubernetes toleration, e.g. for the taint GPU node pools carry."""
    key: str
    operator: str = "Exists"
    value: str = ""
    effect: str = "NoSchedule"

    def __post_init__(self) -> None:
        check(self.operator in _OPERATORS, "toleration.operator",
              self.operator, " or ".join(_OPERATORS))
        check(self.effect in _EFFECTS, "toleration.effect", self.effect,
              "empty (every effect), " + ", ".join(_EFFECTS[1:]))
        check(self.operator == "Equal" or not self.value, "toleration.value",
              self.value, "empty with operator Exists")


@dataclasses.dataclass(frozen=True)
class StepRetry:
    """A step's retries and time limit on KFP (Argo Workflows under it).

    Written as the task's `retryPolicy` in the pipeline spec, which KFP's
    Argo compiler turns into the executor's `retryStrategy`
    (kubeflow/pipelines backend/src/v2/compiler/argocompiler/container.go),
    and as `activeDeadlineSeconds` of each attempt's pod (platform document;
    the KFP driver copies it into the pod spec, backend/src/v2/driver/k8s.go).
    Argo waits `backoff_s * backoff_factor**(n-1)` before retry n, and
    retries only while the first attempt started less than the window
    (`window_s`) ago; a retried pod is also cut off at the window's end
    (argoproj/argo-workflows workflow/controller/operator.go). The factor
    is an integer: Argo parses it as one and refuses `1.5`.
    """
    max_retries: int = 2
    backoff_s: int = 30
    backoff_factor: int = 2
    timeout_s: int = 2 * 3600      # one attempt, from the pod's start
    # Argo's backoff maxDuration; 0: every retry fits (`needed_window_s`).
    window_s: int = 0

    def __post_init__(self) -> None:
        check(self.max_retries >= 0, "retry.max_retries", self.max_retries,
              ">= 0")
        check(self.backoff_s >= 1, "retry.backoff_s", self.backoff_s, ">= 1")
        check(isinstance(self.backoff_factor, int)
              and self.backoff_factor >= 1, "retry.backoff_factor",
              self.backoff_factor, "a whole number >= 1 (Argo refuses "
              "fractions)")
        check(self.timeout_s > 0, "retry.timeout_s", self.timeout_s,
              "> 0 (every step has a time limit)")
        check(self.window_s == 0 or self.window_s >= self.needed_window_s,
              "retry.window_s", self.window_s,
              f"0 or at least {self.needed_window_s} s: Argo counts it from "
              "the first attempt's start, and every attempt may take "
              "timeout_s plus START_ALLOWANCE_S, with the back-off between")

    @property
    def needed_window_s(self) -> int:
        waits = sum(self.backoff_s * self.backoff_factor ** n
                    for n in range(self.max_retries))
        return (self.max_retries + 1) * (self.timeout_s + START_ALLOWANCE_S) \
            + waits

    @property
    def backoff_max_s(self) -> int:
        return self.window_s or self.needed_window_s


# Per attempt, the time before the pod's clock starts (activeDeadlineSeconds
# counts from the pod's start; Argo's window from the node's creation): a
# new GPU node brought up by the autoscaler and the image pulled.
START_ALLOWANCE_S = 900

# The Trainer is sized for spot GPU nodes: a preemption ends the attempt
# (the pod fails with the node) and the retry trains from the start.
DEFAULT_STEP_RETRIES: Tuple[Tuple[str, StepRetry], ...] = (
    ("Trainer", StepRetry(max_retries=3, backoff_s=120, backoff_factor=2,
                          timeout_s=6 * 3600)),
)


# Steps that move images or tensors get more than the default; the ids are
# the compiled task names (`imgpipe kubeflow compile` lists them on a typo).
# Fields in order: cpu_request, cpu_limit, memory_request_gb, memory_limit_gb.
DEFAULT_STEP_RESOURCES: Tuple[Tuple[str, ComponentResources], ...] = (
    ("ImageExampleGen", ComponentResources(2, 0, 4, 8)),
    ("StatisticsGen", ComponentResources(1, 0, 4, 8)),
    ("DataGate", ComponentResources(1, 0, 4, 8)),
    ("Augment", ComponentResources(2, 0, 4, 8)),
    ("Transform", ComponentResources(4, 8, 8, 16)),
    ("Trainer", ComponentResources(4, 8, 16, 16)),
    ("Evaluator", ComponentResources(2, 4, 8, 12)),
    ("ModelReport", ComponentResources(1, 0, 4, 8)),
)


# Steps that train the Trainer's network (imgpipe/pretraining.py): unless
# named themselves, they get the Trainer's resources, retries and GPUs.
TRAINS_LIKE_THE_TRAINER = {"Pretrainer": "Trainer"}


def _for_step(entries, step: str, default):
    named = dict(entries)
    return named.get(step, named.get(TRAINS_LIKE_THE_TRAINER.get(step),
                                     default))


@dataclasses.dataclass(frozen=True)
class KubeflowConfig:
    """Where and how the pipeline runs on Kubeflow Pipelines 2.x.

    Paths are plain strings: `gs://` URIs do not survive `pathlib.Path`
    (it folds `//`), and in the cluster every path is an object-store URI
    or a path inside a mounted volume (`model_store_pvc`).
    """
    image: str = "ghcr.io/imgpipe/imgpipe:0.1.0"
    # The image of the GPU steps (Trainer, Tuner) only, e.g. the GPU build
    # (infra/docker/Dockerfile, target gpu); empty: `image` for every step.
    trainer_image: str = ""
    pipeline_root: str = "gs://imgpipe-artifacts/pipeline_root"
    data_root: str = "gs://imgpipe-data/images/digits"
    # TF Serving's model base path without the model name. With
    # model_store_pvc set it is the path where that claim is mounted.
    model_store: str = "gs://imgpipe-models/serving"
    model_store_pvc: str = ""
    gpu_count: int = 1                                  # 0 trains on CPU
    gpu_resource: str = "nvidia.com/gpu"
    gpu_node_selector: Tuple[Tuple[str, str], ...] = (
        ("cloud.google.com/gke-accelerator", "nvidia-tesla-t4"),)
    gpu_tolerations: Tuple[Toleration, ...] = (Toleration(key="nvidia.com/gpu"),)
    default_resources: ComponentResources = ComponentResources()
    resources: Tuple[Tuple[str, ComponentResources], ...] = \
        DEFAULT_STEP_RESOURCES
    # The image's unprivileged user (infra/docker/Dockerfile: USER 10001).
    run_as_user: int = 10001
    # Write that user as each pod's security context (platform document).
    # Needs KFP >= 2.16.0 (older backends refuse or drop the field): only
    # for a namespace that enforces the `restricted` pod-security level.
    security_context: bool = False
    beam_pipeline_args: Tuple[str, ...] = ()
    service_account: str = "imgpipe-pipeline-runner"
    default_retry: StepRetry = StepRetry()
    retries: Tuple[Tuple[str, StepRetry], ...] = DEFAULT_STEP_RETRIES
    # Where the exit handler POSTs each run's record as JSON ("" = nowhere).
    webhook: str = ""

    def __post_init__(self) -> None:
        check(self.gpu_count >= 0, "gpu_count", self.gpu_count, ">= 0")
        check(self.run_as_user > 0, "run_as_user", self.run_as_user,
              "> 0 (a `restricted` namespace refuses root)")
        if self.model_store_pvc:
            check(self.model_store.startswith("/"), "model_store",
                  self.model_store, "an absolute mount path when "
                  "model_store_pvc is set (e.g. /models)")
        for name, entries in (("resources", self.resources),
                              ("retries", self.retries)):
            steps = [step for step, _ in entries]
            check(len(steps) == len(set(steps)), name, steps,
                  "one entry per step")

    def resources_for(self, step: str) -> ComponentResources:
        return _for_step(self.resources, step, self.default_resources)

    def retry_for(self, step: str) -> StepRetry:
        return _for_step(self.retries, step, self.default_retry)

    def check_steps(self, compiled_steps) -> None:
        """Resources named for a step the pipeline does not have are a
        typo that would silently leave that step on the defaults."""
        for name, entries in (("resources", self.resources),
                              ("retries", self.retries)):
            unknown = sorted({step for step, _ in entries}
                             - set(compiled_steps))
            if unknown:
                raise SettingsError(
                    f"{name}: no step named {', '.join(unknown)}; the "
                    "pipeline's steps are "
                    f"{', '.join(sorted(compiled_steps))}.")
