"""Settings of the Transform module: the model input the serving graph builds."""
from __future__ import annotations

import dataclasses

from imgpipe_components.settings_codec import check

DEFAULT_IMAGE_SIZE = 32


@dataclasses.dataclass(frozen=True)
class TransformConfig:
    image_size: int = DEFAULT_IMAGE_SIZE   # side of the square model input
    channels: int = 1                      # 1 (grey) or 3 (RGB)

    def __post_init__(self) -> None:
        check(8 <= self.image_size <= 1024, "transform.image_size",
              self.image_size, "between 8 and 1024 pixels")
        check(self.channels in (1, 3), "transform.channels", self.channels,
              "1 (grey) or 3 (RGB)")
