"""`imgpipe kubeflow compile --config kubeflow.yaml`: the settings of a
Kubeflow build in one reviewed file.

    pipeline:            # PipelineConfig (pipelines/imgpipe/config.py)
      model_name: digits
      train: {epochs: 20}
      evaluation: {min_accuracy: 0.95, max_accuracy_drop: 0.01}
    kubeflow:            # KubeflowConfig (pipelines/imgpipe/runners/kubeflow/settings.py)
      image: registry.example.com/imgpipe:0.1.0-gpu
      gpu_node_selector: {cloud.google.com/gke-accelerator: nvidia-l4}
      gpu_tolerations: [{key: nvidia.com/gpu}]
      default_resources: {cpu_request: 0.5, memory_request_gb: 1}
      resources: {Trainer: {cpu_request: 8, memory_request_gb: 32}}
      default_retry: {max_retries: 2, backoff_s: 30, timeout_s: 7200}
      retries: {Trainer: {max_retries: 3, backoff_s: 120, timeout_s: 21600}}

The file is read by imgpipe.settings_file, shared with `imgpipe run
--config`, so the pipeline: section gives the same PipelineConfig to both
runners. This module adds the kubeflow: section, also through
settings_codec.from_dict: an unknown key or an out-of-range value is
refused with its name. Maps are written as maps here and kept as tuples of
pairs in the frozen dataclasses; `resources` and `retries` entries replace
the defaults of the steps they name, other steps keep theirs.
CLI options given with `--config` win over the file.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Dict, Tuple

from imgpipe import settings_file
from imgpipe.config import PipelineConfig
from imgpipe.runners.kubeflow.settings import (ComponentResources,
                                               KubeflowConfig, StepRetry)
from imgpipe_components.settings_codec import SettingsError, from_dict


def merge_per_step(base: Tuple[Tuple[str, Any], ...],
                    changes: Dict[str, Any]) -> Tuple[Tuple[str, Any], ...]:
    """Per-step settings (resources, retries): `changes` replace the
    entries of the steps they name."""
    merged = dict(base)
    merged.update(changes)
    return tuple(sorted(merged.items()))


def _per_step(values: Dict[str, Any], name: str, cls) -> Dict[str, Any]:
    """A `step: {settings}` map of the file, as `cls` per step."""
    entries = values.pop(name, None) or {}
    if not isinstance(entries, dict):
        raise SettingsError(f"kubeflow.{name}: expected a map of step name "
                            f"-> settings, got {entries!r}")
    return {step: from_dict(cls, item) for step, item in entries.items()}


def kubeflow_from_dict(values: Dict[str, Any]) -> KubeflowConfig:
    values = dict(values)
    if isinstance(values.get("gpu_node_selector"), dict):
        values["gpu_node_selector"] = list(values["gpu_node_selector"].items())
    resources = _per_step(values, "resources", ComponentResources)
    retries = _per_step(values, "retries", StepRetry)
    kubeflow = from_dict(KubeflowConfig, values)
    return dataclasses.replace(
        kubeflow, resources=merge_per_step(kubeflow.resources, resources),
        retries=merge_per_step(kubeflow.retries, retries))


def given_settings(path: Path) -> Dict[str, Any]:
    """The chooser's settings that the file sets, name -> value."""
    return settings_file.read(path).chosen_settings()


def load(path: Path) -> Tuple[PipelineConfig, KubeflowConfig]:
    parsed = settings_file.read(path)
    try:
        return parsed.pipeline, kubeflow_from_dict(parsed.kubeflow_values)
    except (SettingsError, TypeError) as error:
        raise SettingsError(f"{path}: {error}") from error
