"""Settings of the Augment component (offline augmentation of the train split)."""
from __future__ import annotations

import dataclasses
from typing import Tuple

from imgpipe_components.settings_codec import check


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
    """Offline augmentation of the train split (Beam component)."""
    copies: int = 1                    # augmented copies per train image
    # Oversample smaller classes until each has at least this fraction of
    # the largest class's count (after `copies`); 0 = off.
    rebalance_to: float = 0.0
    flip_left_right: float = 0.0       # probability; mirrored digits are not digits
    flip_up_down: float = 0.0
    max_rotation_degrees: float = 12.0
    zoom_range: Tuple[float, float] = (0.9, 1.1)
    max_shift_fraction: float = 0.08   # crop/translate, fraction of the side
    brightness_delta: float = 0.0
    contrast_range: Tuple[float, float] = (1.0, 1.0)

    @property
    def adds_images(self) -> bool:
        """False when the train split passes through unchanged."""
        return self.copies > 0 or self.rebalance_to > 0

    def __post_init__(self) -> None:
        check(self.copies >= 0, "augment.copies", self.copies, ">= 0")
        check(0 <= self.rebalance_to <= 1, "augment.rebalance_to",
              self.rebalance_to, "between 0 and 1")
        for name in ("flip_left_right", "flip_up_down"):
            value = getattr(self, name)
            check(0 <= value <= 1, f"augment.{name}", value,
                  "a probability between 0 and 1")
        check(0 <= self.max_shift_fraction < 0.5, "augment.max_shift_fraction",
              self.max_shift_fraction, "in [0, 0.5)")
        for name in ("zoom_range", "contrast_range"):
            low, high = getattr(self, name)
            check(0 < low <= high, f"augment.{name}", (low, high),
                  "(low, high) with 0 < low <= high")
