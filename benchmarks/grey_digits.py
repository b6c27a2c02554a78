"""A larger grey data set for the accuracy benchmark: the digits at 28x28.

Each of scikit-learn's 1,797 8x8 digits is upscaled to 28x28 (bicubic, as
a scanner at a higher resolution would see the stroke) and written with
`copies` distinct augmented variants (rotation, zoom, shift: the Augment
component's own ops with its default ranges, each variant seeded by its id),
as a class-folder tree `<root>/<digit>/<index>-<variant>.png`.

Caveat, stated in the report: variants of one original are split
independently (the pipeline's split is a hash of each image id), so eval
images have siblings in the train split. Both contenders see the same
split, so the comparison is fair; absolute accuracies are optimistic.

    python -m benchmarks.grey_digits ROOT [--copies 5]
"""
from __future__ import annotations

import argparse
import io
import shutil
import tempfile
from pathlib import Path

SIDE = 28


def write_grey_digits(root: Path, copies: int = 5) -> Path:
    """Writes (copies + 1) x 1,797 images under `root`, once."""
    if root.is_dir() and any(root.iterdir()):
        return root
    from PIL import Image

    from imgpipe_components.augment import ops
    from imgpipe_components.augment.settings import AugmentConfig
    from imgpipe.digits import digit_pixels

    config = AugmentConfig()
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".grey-", dir=root.parent))
    for index, (image, target) in enumerate(zip(*digit_pixels())):
        folder = staging / str(target)
        folder.mkdir(exist_ok=True)
        buffer = io.BytesIO()
        Image.fromarray(image, mode="L").resize(
            (SIDE, SIDE), Image.BICUBIC).save(buffer, format="PNG")
        original = buffer.getvalue()
        (folder / f"{index:04d}-0.png").write_bytes(original)
        for variant in range(1, copies + 1):
            params = ops.sample_params(
                config, ops.rng_for(f"{index}", variant, 18))
            (folder / f"{index:04d}-{variant}.png").write_bytes(
                ops.augment_png(original, params))
    if root.exists():
        shutil.rmtree(root)
    staging.rename(root)
    return root


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("root", type=Path)
    parser.add_argument("--copies", type=int, default=5)
    args = parser.parse_args()
    print(write_grey_digits(args.root, args.copies))
