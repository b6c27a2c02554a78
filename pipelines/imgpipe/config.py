"""How a pipeline run trains: the settings of every stage, composed.

Each component owns its settings dataclass, next to its code, and validates
it on construction, so every entry point (the local CLI, the Kubeflow CLI,
`run_pipeline()`, a test) gets the same checks. `PipelineConfig` only
composes them. *Where* a run lives (data root, pipeline root, serving
folder, ML Metadata) is not here: each runner builds that
(`imgpipe.locations.Locations`), so a local path and a `gs://` URI or a
Kubeflow run parameter take the same route.
"""
from __future__ import annotations

import dataclasses
import re
import unicodedata
from typing import Tuple

from imgpipe_components.augment.settings import AugmentConfig
from imgpipe_components.data_gate.settings import DataGateConfig
from imgpipe_components.edge_export.settings import EdgeConfig
from imgpipe_components.evaluate.settings import EvalConfig
from imgpipe_components.image_example_gen.settings import IngestConfig
from imgpipe_components.push.settings import PushConfig
from imgpipe_components.train.settings import TrainConfig
from imgpipe_components.transform.settings import TransformConfig
from imgpipe_components.settings_codec import check

__all__ = ["AugmentConfig", "DataGateConfig", "EdgeConfig", "EvalConfig",
           "IngestConfig", "PipelineConfig", "PushConfig", "TrainConfig",
           "TransformConfig"]

# TF Serving model names end up in URLs and folder names.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_NAME_MAX = 100
FALLBACK_MODEL_NAME = "model"


def model_name_for(data_root: str) -> str:
    """The model name a data folder gives by default: its last path
    segment made safe for TF Serving, whose model names become URL path
    segments and folder names. Accents are dropped (NFKD: `déjà vu` ->
    `deja_vu`), every run of other characters becomes one '_', and the
    name starts and ends with a letter or digit; a name with none left
    (`写真`, `...`) falls back to FALLBACK_MODEL_NAME."""
    segment = str(data_root).replace("\\", "/").rstrip("/")
    ascii_text = unicodedata.normalize(
        "NFKD", segment.rpartition("/")[2]).encode("ascii", "ignore").decode()
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", ascii_text)
    name = re.sub(r"[_.-]{2,}", _one_separator, name)[:_NAME_MAX]
    return re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", name) or \
        FALLBACK_MODEL_NAME


def _one_separator(run: "re.Match") -> str:
    """A run of '_', '.' and '-' as one: its first '.' or '-', else '_'."""
    return next((c for c in run.group() if c != "_"), "_")


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    pipeline_name: str = "imgpipe"
    model_name: str = "digits"
    ingest: IngestConfig = IngestConfig()
    data_gate: DataGateConfig = DataGateConfig()
    augment: AugmentConfig = AugmentConfig()
    transform: TransformConfig = TransformConfig()
    train: TrainConfig = TrainConfig()
    evaluation: EvalConfig = EvalConfig()
    edge: EdgeConfig = EdgeConfig()
    push: PushConfig = PushConfig()
    beam_pipeline_args: Tuple[str, ...] = ()
    enable_cache: bool = True

    def __post_init__(self) -> None:
        for name in ("pipeline_name", "model_name"):
            value = getattr(self, name)
            check(bool(_NAME.fullmatch(value)), name, value,
                  "letters, digits, '_', '.' or '-', starting with a letter "
                  "or digit")
