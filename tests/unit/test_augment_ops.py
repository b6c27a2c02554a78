"""Deterministic augmentation of one image."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image

from imgpipe_components.augment import ops
from imgpipe_components.augment.settings import AugmentConfig
from tests.unit.images import png_bytes

CONFIG = AugmentConfig(flip_left_right=0.5, brightness_delta=0.1,
                       contrast_range=(0.8, 1.2))


def decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def test_same_id_and_copy_give_byte_identical_output():
    image = png_bytes((16, 16))
    first = ops.augment_png(image, ops.sample_params(
        CONFIG, ops.rng_for("a/1.png", 1, 42)))
    again = ops.augment_png(image, ops.sample_params(
        CONFIG, ops.rng_for("a/1.png", 1, 42)))
    other = ops.augment_png(image, ops.sample_params(
        CONFIG, ops.rng_for("a/1.png", 2, 42)))
    assert first == again
    assert first != other


def test_output_keeps_size_and_mode():
    for mode in ("L", "RGB", "RGBA"):
        image = png_bytes((20, 12), mode=mode)
        out = decode(ops.augment_png(image, ops.sample_params(
            CONFIG, ops.rng_for("x", 1, 0))))
        assert out.shape[:2] == (12, 20)
        assert Image.open(io.BytesIO(image)).mode == mode


def test_identity_parameters_leave_the_image_unchanged():
    image = png_bytes((16, 16))
    identity = ops.AugmentParams(False, False, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
    assert np.array_equal(decode(ops.augment_png(image, identity)),
                          decode(image))


def test_a_horizontal_flip_mirrors_the_image():
    image = png_bytes((16, 16))
    flip = ops.AugmentParams(True, False, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
    assert np.array_equal(decode(ops.augment_png(image, flip)),
                          decode(image)[:, ::-1])


def test_parameters_stay_within_the_configured_ranges():
    config = AugmentConfig(max_rotation_degrees=5, zoom_range=(0.95, 1.05),
                           max_shift_fraction=0.1)
    for copy in range(200):
        p = ops.sample_params(config, ops.rng_for("id", copy, 1))
        assert abs(p.rotation_degrees) <= 5
        assert 0.95 <= p.zoom <= 1.05
        assert abs(p.shift_x) <= 0.1 and abs(p.shift_y) <= 0.1
        assert not p.flip_left_right  # probability 0 by default


def test_rebalancing_brings_small_classes_up_to_the_target():
    from imgpipe_components.augment.beam_augment import rebalancing_copies
    config = AugmentConfig(copies=1, rebalance_to=1.0)
    counts = {0: 100, 1: 25}
    extra = sum(rebalancing_copies(f"1/{i}.png", 1, counts, config)
                for i in range(25))
    # 25 images x 2 (original + copy) + extra ~= 100 x 2
    assert abs(50 + extra - 200) <= 3
    assert all(rebalancing_copies(f"0/{i}.png", 0, counts, config) == 0
               for i in range(100))
    assert rebalancing_copies("1/0.png", 1, counts,
                              AugmentConfig(copies=1)) == 0
