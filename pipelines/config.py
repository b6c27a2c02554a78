"""The one typed configuration object of a pipeline run.

Every setting a component needs comes from here; the CLI and the runners
build a `PipelineConfig` and nothing else reads settings of its own.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Optional, Tuple


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
    """Offline augmentation of the train split (Beam component)."""
    copies: int = 1                    # augmented copies per train image
    flip_left_right: float = 0.0       # probability; mirrored digits are not digits
    flip_up_down: float = 0.0
    max_rotation_degrees: float = 12.0
    zoom_range: Tuple[float, float] = (0.9, 1.1)
    max_shift_fraction: float = 0.08   # crop/translate, fraction of the side
    brightness_delta: float = 0.0
    contrast_range: Tuple[float, float] = (1.0, 1.0)


@dataclasses.dataclass(frozen=True)
class DataGateConfig:
    """Bounds of the Great Expectations suite over the image metadata."""
    allowed_formats: Tuple[str, ...] = ("PNG", "JPEG", "BMP", "GIF")
    min_side: int = 8
    max_side: int = 4096
    max_pixels: int = 4096 * 4096      # reject bigger images before decoding
    min_rows: int = 20
    min_per_class: int = 2
    max_class_imbalance: float = 10.0  # largest class / smallest class
    fail_on_schema_anomalies: bool = True


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    architecture: str = "small_cnn"
    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 1e-3
    seed: int = 42


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    min_accuracy: float = 0.9          # absolute bound
    max_accuracy_drop: float = 0.0     # allowed drop vs the model in service


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    data_root: Path
    output_root: Path = Path("output")
    pipeline_name: str = "imgpipe"
    model_name: str = "digits"
    image_size: int = 32
    channels: int = 1
    train_buckets: int = 8             # train:eval = 8:2 by hash of image_id
    eval_buckets: int = 2
    augment: AugmentConfig = AugmentConfig()
    data_gate: DataGateConfig = DataGateConfig()
    train: TrainConfig = TrainConfig()
    evaluation: EvalConfig = EvalConfig()
    beam_pipeline_args: Tuple[str, ...] = ()
    enable_cache: bool = True

    @property
    def pipeline_root(self) -> str:
        return str(self.output_root / "pipeline_root")

    @property
    def metadata_path(self) -> str:
        return str(self.output_root / "metadata.sqlite")

    @property
    def serving_dir(self) -> str:
        """TF Serving's model base path: one numbered folder per version."""
        return str(self.output_root / "serving" / self.model_name)

    def resolved(self) -> "PipelineConfig":
        """Absolute local paths: TFX records them in ML Metadata."""
        def absolute(path: Path) -> Path:
            return path if "://" in str(path) else Path(os.path.abspath(path))
        return dataclasses.replace(self, data_root=absolute(self.data_root),
                                   output_root=absolute(self.output_root))


