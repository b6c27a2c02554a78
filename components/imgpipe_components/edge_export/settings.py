"""Settings of the EdgeExport component (TensorFlow Lite exports)."""
from __future__ import annotations

import dataclasses
from typing import Tuple

from imgpipe_components.settings_codec import check

FORMATS = ("float32", "float16", "int8")


@dataclasses.dataclass(frozen=True)
class EdgeConfig:
    """TensorFlow Lite exports (components/imgpipe_components/edge_export), off by default."""
    enabled: bool = False
    formats: Tuple[str, ...] = ("float32", "float16", "int8")
    max_accuracy_drop: float = 0.01    # vs the SavedModel on the eval split
    representative_images: int = 200   # int8 calibration, from train

    def __post_init__(self) -> None:
        unknown = sorted(set(self.formats) - set(FORMATS))
        check(not unknown and self.formats, "edge.formats", self.formats,
              "one or more of " + ", ".join(FORMATS))
        check(0 <= self.max_accuracy_drop <= 1, "edge.max_accuracy_drop",
              self.max_accuracy_drop, "between 0 and 1")
        check(self.representative_images >= 1, "edge.representative_images",
              self.representative_images, ">= 1")
