"""The embedded default data set: scikit-learn's digits as a class-folder tree.

1,797 real 8x8 grey images in 10 classes, written once as PNGs under
`<root>/<digit>/<index>.png`. The files are written to a temporary folder and
renamed into place, so an interrupted first run never leaves a half data set.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np

from imgpipe.auto_settings import MIN_INPUT_SIDE

# The digits are 8x8; `imgpipe run` upscales images smaller than the
# chooser's floor to it (pipelines/imgpipe/auto_settings.py): 16x16 keeps two
# 3x3 convolutions' worth of detail per stroke and costs a quarter of 32x32;
# the default model reaches 1.0000 on the eval split for 5 seeds out of 5 at
# this size (benchmarks/results/quality.md). The benchmarks use this name.
DIGITS_IMAGE_SIZE = MIN_INPUT_SIDE


def digit_pixels():
    """scikit-learn's digits as 8-bit grey images and their labels: the
    0..16 intensities spread over the full 8-bit range, as a scanner would
    give them."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return (np.rint(digits.images * (255.0 / 16.0)).astype(np.uint8),
            digits.target)


def write_digits(root: Path) -> Path:
    """Writes the digits under `root` unless they are already there."""
    if root.is_dir() and any(root.iterdir()):
        return root
    from PIL import Image

    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".digits-", dir=root.parent))
    for index, (image, target) in enumerate(zip(*digit_pixels())):
        class_dir = staging / str(target)
        class_dir.mkdir(exist_ok=True)
        Image.fromarray(image, mode="L").save(class_dir / f"{index:04d}.png")
    if root.exists():
        shutil.rmtree(root)
    staging.rename(root)
    return root
