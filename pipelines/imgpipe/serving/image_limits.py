"""Refuse images too large to decode, from their header, before decoding.

A 250 KB PNG can declare 16000 x 16000 pixels: TensorFlow's decoder would
allocate the whole bitmap (hundreds of MB per request, kept by the
allocator afterwards). PIL reads only the header to learn the size, so the
check costs microseconds and no pixel memory. Bytes PIL does not recognise
(a serialized tf.Example, a format TF decodes and PIL does not) are left to
the model, which reports its own error.
"""
from __future__ import annotations

import io
import warnings
from typing import Dict, Optional, Tuple

import numpy as np
from PIL import Image, UnidentifiedImageError

from imgpipe.serving.errors import ServingError

# PIL's own bomb guard warns above 89 MP and refuses above 179 MP; the
# server enforces its own, configurable limit instead.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
HUGE = (-1, -1)     # PIL refused the header as a decompression bomb


def declared_size(data: bytes) -> Optional[Tuple[int, int]]:
    """(width, height) from the image header, HUGE past PIL's own bomb
    limit, or None if not an image PIL knows."""
    try:
        with Image.open(io.BytesIO(data)) as image:   # lazy: header only
            return image.size
    except Image.DecompressionBombError:
        return HUGE
    except (UnidentifiedImageError, OSError, ValueError):
        return None


def too_many_pixels(name: str, index: int, size: Tuple[int, int],
                    limit: int) -> ServingError:
    width, height = size
    shown = ("more than 178 million pixels" if size == HUGE else
             f"{width}x{height} ({width * height} pixels)")
    return ServingError(
        "INVALID_ARGUMENT",
        f"Input '{name}', instance {index}: the image is {shown}, over the "
        f"server's limit of {limit} pixels. Resize it before sending, or "
        "start the server with a larger --max-pixels.", http_status=413)


def check_pixels(arrays: Dict[str, np.ndarray], limit: int) -> None:
    """Raise 413 for the first string input whose image header declares
    more than `limit` pixels."""
    for name, array in arrays.items():
        if array.dtype != object:
            continue
        for index, value in enumerate(array.reshape(-1)):
            if not isinstance(value, bytes):
                continue
            size = declared_size(value)
            if size is None:
                continue
            if size == HUGE or size[0] * size[1] > limit:
                raise too_many_pixels(name, index, size, limit)
