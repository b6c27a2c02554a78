"""The grey-digit set of the toolbox benchmark, split without leakage.

benchmarks/grey_digits.py writes each of the 1,797 original digits with 5
augmented variants; its docstring warns that a per-image split puts
siblings of an eval image in the train split. Here the split is by
ORIGINAL image: all 6 variants of an original land in the same split (80%
of the originals train, 20% eval, a fixed seed). Pixels go through the
Transform's own `decode_image` (bytes -> [side, side, 1] float32 in
[0, 1]), as in the pipeline. Every model of benchmarks/toolbox.md, and any
later entry of that report, trains and scores on this one split.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

SPLIT_SEED = 0
EVAL_FRACTION = 0.2
SIDE = 28


@dataclasses.dataclass(frozen=True)
class GreySplit:
    x_train: np.ndarray      # [n, 28, 28, 1] float32 in [0, 1]
    y_train: np.ndarray      # [n] int64 digit
    x_eval: np.ndarray
    y_eval: np.ndarray
    groups_train: np.ndarray  # [n] index of each image's original digit
    groups_eval: np.ndarray


def load_grey_split(root: Path, seed: int = SPLIT_SEED) -> GreySplit:
    """Writes the grey set under `root` once (grey_digits.write_grey_digits),
    reads it, and splits it by original image with `seed`."""
    import tensorflow as tf

    from benchmarks.grey_digits import write_grey_digits
    from imgpipe_components.transform.preprocessing import decode_image

    paths = sorted(Path(write_grey_digits(Path(root))).glob("*/*.png"))
    labels = np.array([int(p.parent.name) for p in paths])
    groups = np.array([int(p.stem.split("-")[0]) for p in paths])
    pixels = np.stack([decode_image(tf.constant(p.read_bytes()), SIDE,
                                    1).numpy() for p in paths])
    originals = np.unique(groups)
    shuffled = np.random.default_rng(seed).permutation(originals)
    held_out = set(shuffled[:int(round(EVAL_FRACTION * len(originals)))])
    is_eval = np.array([g in held_out for g in groups])
    return GreySplit(pixels[~is_eval], labels[~is_eval], pixels[is_eval],
                     labels[is_eval], groups[~is_eval], groups[is_eval])
