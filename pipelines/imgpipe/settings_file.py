"""The settings file of `--config`: one reviewed file for every runner.

    pipeline:            # PipelineConfig (pipelines/imgpipe/config.py)
      model_name: flowers
      ingest: {span_pattern: "span-{SPAN}"}
      train: {epochs: 20}
      evaluation: {min_accuracy: 0.95, max_accuracy_drop: 0.01}
    kubeflow:            # only `imgpipe kubeflow compile` reads this one
      image: registry.example.com/imgpipe:0.1.0-gpu

YAML (or JSON, which YAML reads too). `imgpipe run --config` and
`imgpipe kubeflow compile --config` read the `pipeline:` section here, the
same way, so a file tried locally builds the same PipelineConfig on the
cluster; the Kubeflow runner turns the `kubeflow:` section into its own
settings (runners/kubeflow/config_file.py) and a local run leaves it
alone. The section goes through settings_codec.from_dict, so an unknown key
or an out-of-range value is refused with its name.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Dict

from imgpipe.config import PipelineConfig
from imgpipe_components.settings_codec import SettingsError, from_dict

SECTIONS = ("pipeline", "kubeflow")

# Settings the defaults chooser may pick (pipelines/imgpipe/auto_settings.py),
# by the pipeline: section that holds them.
CHOSEN_SETTINGS = {"transform": ("image_size", "channels"),
                   "augment": ("copies",),
                   "train": ("architecture", "epochs", "batch_size")}


@dataclasses.dataclass(frozen=True)
class SettingsFile:
    """A parsed --config file: the PipelineConfig its pipeline: section
    gives (defaults elsewhere), and both sections as written."""
    path: Path
    pipeline: PipelineConfig
    pipeline_values: Dict[str, Any]
    kubeflow_values: Dict[str, Any]

    def sets(self, section: str, name: str) -> bool:
        """Whether the pipeline: section writes `section.name` (section ""
        for a top-level setting such as model_name)."""
        values = (self.pipeline_values if not section
                  else self.pipeline_values.get(section) or {})
        return name in values

    def chosen_settings(self) -> Dict[str, Any]:
        """The chooser's settings the file sets, name -> value: they win
        over the chooser, as options do."""
        return {name: self.pipeline_values[section][name]
                for section, names in CHOSEN_SETTINGS.items()
                for name in names if self.sets(section, name)}


def read(path: Path) -> SettingsFile:
    """Parses and checks `path`; SettingsError says what is wrong, naming
    the file."""
    import yaml

    try:
        values = yaml.safe_load(Path(path).read_text()) or {}
    except OSError as error:
        raise SettingsError(
            f"--config {path}: cannot read it ({error.strerror}); pass a YAML "
            "or JSON file with a pipeline: section (and, for Kubeflow, a "
            "kubeflow: section), e.g. infra/kubeflow/prod.yaml.") from error
    except yaml.YAMLError as error:
        raise SettingsError(f"{path}: not YAML ({error}).") from error
    if not isinstance(values, dict) or set(values) - set(SECTIONS):
        got = sorted(values) if isinstance(values, dict) else repr(values)
        raise SettingsError(
            f"{path}: expected the sections {' and '.join(SECTIONS)} at the "
            f"top level, got {got}.")
    pipeline = values.get("pipeline") or {}
    kubeflow = values.get("kubeflow") or {}
    for name, section in (("pipeline", pipeline), ("kubeflow", kubeflow)):
        if not isinstance(section, dict):
            raise SettingsError(f"{path}: the {name}: section must be a map "
                                f"of settings, got {section!r}.")
    try:
        config = from_dict(PipelineConfig, pipeline)
    except (SettingsError, TypeError) as error:
        raise SettingsError(f"{path}: {error}") from error
    return SettingsFile(Path(path), config, pipeline, kubeflow)
