"""Settings of the DataGate: bounds of the Great Expectations suite."""
from __future__ import annotations

import dataclasses
from typing import Tuple

from imgpipe_components.limits import MAX_PIXELS
from imgpipe_components.settings_codec import check


@dataclasses.dataclass(frozen=True)
class DataGateConfig:
    """Bounds of the Great Expectations suite over the image metadata."""
    allowed_formats: Tuple[str, ...] = ("PNG", "JPEG", "BMP", "GIF")
    min_side: int = 8
    max_side: int = 4096
    max_pixels: int = MAX_PIXELS       # reject bigger images before decoding
    min_rows: int = 20
    min_per_class: int = 2
    max_class_imbalance: float = 10.0  # largest class / smallest class
    fail_on_schema_anomalies: bool = True
    max_per_class: int = 0             # 0 = no upper bound
    imbalance_is_critical: bool = False
    allowed_channels: Tuple[int, ...] = (1, 2, 3, 4)
    # Drift against the previous span (Jensen-Shannon divergence, base 2:
    # 0 = same distribution, 1 = disjoint); only when spans are configured.
    max_label_drift: float = 0.1
    max_size_drift: float = 0.2
    drift_is_critical: bool = True
    # A curated schema (schema.pbtxt) for ImportSchemaGen; "" = SchemaGen infers.
    accepted_schema: str = ""
    # Per-image defects (size, format, channels, label, label conflict,
    # train/eval leakage) exclude the image instead of stopping the run, as
    # long as each check, and all of them together, exclude at most this
    # share of the ingested images; above it the gate stops the run.
    max_excluded_fraction: float = 0.01
    # Redundant copies of an image in its own class: one is kept, the others
    # excluded. Their own bound, outside the one above, as a dropped copy
    # loses no content.
    max_duplicate_fraction: float = 0.05

    def __post_init__(self) -> None:
        check(0 < self.min_side <= self.max_side, "data_gate.min_side/max_side",
              (self.min_side, self.max_side), "0 < min_side <= max_side")
        check(self.max_pixels > 0, "data_gate.max_pixels", self.max_pixels,
              "> 0")
        check(self.max_class_imbalance >= 1, "data_gate.max_class_imbalance",
              self.max_class_imbalance, ">= 1")
        for name in ("max_label_drift", "max_size_drift"):
            value = getattr(self, name)
            check(0 <= value <= 1, f"data_gate.{name}", value,
                  "a Jensen-Shannon divergence between 0 and 1")
        for name in ("max_excluded_fraction", "max_duplicate_fraction"):
            value = getattr(self, name)
            check(0 <= value < 1, f"data_gate.{name}", value,
                  "a share of the images, 0 (exclude none) <= value < 1")
