"""Small synthetic image fixtures for unit tests."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image


def png_bytes(size=(8, 8), mode="L", value=None, fmt="PNG", **save) -> bytes:
    rng = np.random.default_rng(0)
    channels = {"L": 1, "RGB": 3, "RGBA": 4}.get(mode, 1)
    shape = (size[1], size[0]) if channels == 1 else (size[1], size[0], channels)
    pixels = (np.full(shape, value, np.uint8) if value is not None
              else rng.integers(0, 256, shape, dtype=np.uint8))
    image = Image.fromarray(pixels, mode=mode if mode in ("L", "RGB", "RGBA")
                            else None)
    if mode == "P":
        image = image.convert("RGB").convert("P")
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **save)
    return buffer.getvalue()
