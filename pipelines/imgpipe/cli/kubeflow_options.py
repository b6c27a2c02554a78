"""Turns `imgpipe kubeflow compile` options (and `--config`) into the
PipelineConfig and KubeflowConfig to compile. Light: no TFX import."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from imgpipe.config import PipelineConfig
from imgpipe.runners.kubeflow.settings import (ComponentResources,
                                               KubeflowConfig, Toleration)
from imgpipe_components.settings_codec import SettingsError, from_dict


def key_values(pairs: List[str], option: str, example: str
               ) -> Dict[str, str]:
    """`key=value` texts as a dict; `option` and `example` name the
    command-line option in the error for a text without `=`."""
    found = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise SettingsError(f"{option} '{pair}' is not key=value (e.g. "
                                f"{option} {example}).")
        found[key.strip()] = value.strip()
    return found


def toleration(text: str) -> Toleration:
    """KEY[=VALUE][:EFFECT], as `kubectl taint` writes a taint."""
    head, _, effect = text.partition(":")
    key, sep, value = head.partition("=")
    if not key:
        raise SettingsError(f"--toleration '{text}' has no key (e.g. "
                            "--toleration nvidia.com/gpu:NoSchedule).")
    return Toleration(key=key, operator="Equal" if sep else "Exists",
                      value=value, effect=effect)


def step_resources(texts: List[str]) -> Dict[str, ComponentResources]:
    """STEP:field=value,field=value with ComponentResources' fields, e.g.
    Trainer:cpu_request=8,memory_request_gb=32."""
    found = {}
    for text in texts:
        step, sep, fields = text.partition(":")
        if not sep or not step:
            raise SettingsError(
                f"--resources '{text}' is not STEP:field=value,... (e.g. "
                "--resources Trainer:cpu_request=8,memory_request_gb=32).")
        values = key_values(fields.split(","), "--resources",
                            "Trainer:cpu_request=8")
        try:
            numbers = {name: float(value) for name, value in values.items()}
        except ValueError as error:
            raise SettingsError(f"--resources '{text}': {error}.") from error
        found[step] = from_dict(ComponentResources, numbers)
    return found


def beam_args(preset: Optional[str], settings: List[str], image: str
              ) -> Tuple[str, ...]:
    """The Beam preset's args for `--beam-setting key=value` texts, checked
    by Beam itself; () without a preset."""
    if preset is None:
        if settings:
            raise SettingsError("--beam-setting needs --beam-preset.")
        return ()
    from imgpipe.runners.kubeflow import beam_presets

    given = key_values(settings, "--beam-setting", "project=my-project")
    try:
        args = beam_presets.preset_args(preset, image, given)
    except ValueError as error:
        raise SettingsError(str(error)) from error
    problems = beam_presets.validate(args)
    if problems:
        raise SettingsError(
            f"Beam preset '{preset}' gives invalid options: "
            f"{'; '.join(problems)}. Fix the --beam-setting values.")
    return args


@dataclasses.dataclass
class CompileOptions:
    """What the command line gave; None = not given (file or default)."""
    config: Optional[Path] = None
    kubeflow: Dict[str, object] = dataclasses.field(default_factory=dict)
    pipeline: Dict[str, object] = dataclasses.field(default_factory=dict)
    ingest: Dict[str, object] = dataclasses.field(default_factory=dict)
    transform: Dict[str, object] = dataclasses.field(default_factory=dict)
    train: Dict[str, object] = dataclasses.field(default_factory=dict)
    evaluation: Dict[str, object] = dataclasses.field(default_factory=dict)
    node_selector: List[str] = dataclasses.field(default_factory=list)
    tolerations: List[str] = dataclasses.field(default_factory=list)
    resources: List[str] = dataclasses.field(default_factory=list)
    beam_preset: Optional[str] = None
    beam_settings: List[str] = dataclasses.field(default_factory=list)


def _given(values: Dict[str, object]) -> Dict[str, object]:
    return {k: v for k, v in values.items() if v is not None}


def _replace(settings, changes: Dict[str, object]):
    return dataclasses.replace(settings, **_given(changes)) if _given(
        changes) else settings


def build(options: CompileOptions) -> Tuple[PipelineConfig, KubeflowConfig]:
    """The file's settings (or the defaults), then each option given; a
    Beam preset replaces the file's Beam args."""
    from imgpipe.runners.kubeflow import config_file

    config, kubeflow = (config_file.load(options.config) if options.config
                        else (PipelineConfig(), KubeflowConfig()))
    config = _replace(config, {
        **options.pipeline,
        "ingest": _replace(config.ingest, options.ingest),
        "transform": _replace(config.transform, options.transform),
        "train": _replace(config.train, options.train),
        "evaluation": _replace(config.evaluation, options.evaluation)})
    changes = dict(options.kubeflow)
    if options.node_selector:
        changes["gpu_node_selector"] = tuple(key_values(
            options.node_selector, "--node-selector",
            "cloud.google.com/gke-accelerator=nvidia-l4").items())
    if options.tolerations:
        changes["gpu_tolerations"] = tuple(
            toleration(text) for text in options.tolerations)
    if options.resources:
        changes["resources"] = config_file.merge_per_step(
            kubeflow.resources, step_resources(options.resources))
    kubeflow = _replace(kubeflow, changes)
    args = beam_args(options.beam_preset, options.beam_settings,
                     kubeflow.image)
    return config, (dataclasses.replace(kubeflow, beam_pipeline_args=args)
                    if args else kubeflow)
