"""Deterministic image augmentation of one encoded image.

All geometric operations (flip, rotation, zoom, shift/crop) are composed into
one affine matrix and applied with a single resampling, which is both faster
and sharper than chaining them. The random parameters come from a generator
seeded by (image id, copy index, seed): a rerun gives byte-identical output,
so TFX caching and lineage hold.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import math

import numpy as np
from PIL import Image

from imgpipe_components.augment.settings import AugmentConfig


@dataclasses.dataclass(frozen=True)
class AugmentParams:
    flip_left_right: bool
    flip_up_down: bool
    rotation_degrees: float
    zoom: float
    shift_x: float        # fraction of the width
    shift_y: float
    brightness: float     # added, in [0, 1] intensity units
    contrast: float       # multiplier around the mean


def rng_for(image_id: str, copy_index: int, seed: int) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}:{image_id}:{copy_index}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def sample_params(config: AugmentConfig,
                  rng: np.random.Generator) -> AugmentParams:
    shift = config.max_shift_fraction
    return AugmentParams(
        flip_left_right=bool(rng.random() < config.flip_left_right),
        flip_up_down=bool(rng.random() < config.flip_up_down),
        rotation_degrees=float(rng.uniform(-config.max_rotation_degrees,
                                           config.max_rotation_degrees)),
        zoom=float(rng.uniform(*config.zoom_range)),
        shift_x=float(rng.uniform(-shift, shift)),
        shift_y=float(rng.uniform(-shift, shift)),
        brightness=float(rng.uniform(-config.brightness_delta,
                                     config.brightness_delta)),
        contrast=float(rng.uniform(*config.contrast_range)))


def affine_inverse(params: AugmentParams, width: int, height: int) -> tuple:
    """PIL's AFFINE data: the map from output pixel to input pixel."""
    cx, cy = width / 2.0, height / 2.0
    angle = math.radians(params.rotation_degrees)
    flip = np.diag([-1.0 if params.flip_left_right else 1.0,
                    -1.0 if params.flip_up_down else 1.0, 1.0])
    rotate = np.array([[math.cos(angle), -math.sin(angle), 0.0],
                       [math.sin(angle), math.cos(angle), 0.0],
                       [0.0, 0.0, 1.0]])
    scale = np.diag([params.zoom, params.zoom, 1.0])
    to_origin = np.array([[1.0, 0, -cx], [0, 1.0, -cy], [0, 0, 1.0]])
    back = np.array([[1.0, 0, cx + params.shift_x * width],
                     [0, 1.0, cy + params.shift_y * height], [0, 0, 1.0]])
    forward = back @ scale @ rotate @ flip @ to_origin
    inverse = np.linalg.inv(forward)
    return tuple(inverse[:2].reshape(-1))


def _normalised_mode(image: Image.Image) -> Image.Image:
    """Augment in 8-bit L, RGB or RGBA; Transform normalises channels later."""
    if image.mode in ("L", "RGB", "RGBA"):
        return image
    if image.mode in ("I;16", "I;16B", "I"):
        pixels = np.asarray(image, dtype=np.uint32) >> 8
        return Image.fromarray(pixels.astype(np.uint8), mode="L")
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    return image.convert("RGBA" if has_alpha else "RGB")


def augment_png(data: bytes, params: AugmentParams) -> bytes:
    """Returns the augmented image, PNG-encoded (lossless)."""
    with Image.open(io.BytesIO(data)) as opened:
        image = _normalised_mode(opened.convert() if opened.mode == "P"
                                 else opened)
        width, height = image.size
        out = image.transform((width, height), Image.Transform.AFFINE,
                              affine_inverse(params, width, height),
                              resample=Image.Resampling.BILINEAR)
    if params.brightness or params.contrast != 1.0:
        pixels = np.asarray(out, dtype=np.float32) / 255.0
        mean = pixels.mean()
        pixels = (pixels - mean) * params.contrast + mean + params.brightness
        out = Image.fromarray(
            np.clip(np.rint(pixels * 255.0), 0, 255).astype(np.uint8),
            mode=out.mode)
    buffer = io.BytesIO()
    out.save(buffer, format="PNG")
    return buffer.getvalue()
