"""Small colour photo sets, as a user's own folder looks: a few hundred
images of four classes, PNG and JPEG, 40 to 300 px, some grey, one small
class whose name holds a space, and stray files a real folder holds.

No real photo set can be downloaded here, so the images are drawn: a shape
(circle, square, triangle) or a striped texture, in a random colour, size,
position and rotation, on a noisy background with distractor blobs, then
blurred, shifted in brightness and JPEG-compressed. Colour says nothing
about the class, so a model must learn shape and texture; the defaults are
tuned so that a plain CNN does clearly better than chance but far from
perfect, as with real photos.

    python -m benchmarks.photo_sets OUT [--seed 1] [--per-class 100]
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

CLASSES = ("circle", "square", "triangle", "striped texture")
SMALL_CLASS = "striped texture"       # a quarter the others' size
GREY_SHARE = 0.15


def _background(rng, side: int):
    from PIL import Image
    base = rng.integers(40, 200, size=3)
    gradient = np.linspace(-40, 40, side)[None, :, None] * rng.uniform(-1, 1)
    noise = rng.normal(0, 18, size=(side, side, 3))
    pixels = np.clip(base[None, None, :] + gradient + noise, 0, 255)
    return Image.fromarray(pixels.astype(np.uint8), "RGB")


def _distractors(rng, draw, side: int) -> None:
    for _ in range(int(rng.integers(2, 6))):
        r = side * rng.uniform(0.03, 0.1)
        x, y = rng.uniform(0, side, 2)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        draw.ellipse((x - r, y - r * rng.uniform(0.5, 1.5), x + r, y + r),
                     fill=colour)


def _polygon(centre, radius: float, corners: int, angle: float):
    return [(centre[0] + radius * math.cos(angle + 2 * math.pi * k / corners),
             centre[1] + radius * math.sin(angle + 2 * math.pi * k / corners))
            for k in range(corners)]


def _subject(rng, draw, name: str, side: int) -> None:
    radius = side * rng.uniform(0.18, 0.36)
    centre = rng.uniform(side * 0.3, side * 0.7, 2)
    colour = tuple(int(c) for c in rng.integers(0, 256, 3))
    angle = rng.uniform(0, 2 * math.pi)
    if name == "circle":
        squash = rng.uniform(0.75, 1.0)
        draw.ellipse((centre[0] - radius, centre[1] - radius * squash,
                      centre[0] + radius, centre[1] + radius * squash),
                     fill=colour)
    elif name == "square":
        draw.polygon(_polygon(centre, radius, 4, angle), fill=colour)
    elif name == "triangle":
        draw.polygon(_polygon(centre, radius, 3, angle), fill=colour)
    else:
        width = max(1, int(side * rng.uniform(0.03, 0.07)))
        step = width * rng.uniform(2.2, 3.5)
        direction = np.array([math.cos(angle), math.sin(angle)])
        normal = np.array([-direction[1], direction[0]])
        for offset in np.arange(-side, side, step):
            a = centre + normal * offset - direction * side
            b = centre + normal * offset + direction * side
            draw.line((*a, *b), fill=colour, width=width)


def photo(rng, name: str, side: int):
    from PIL import ImageDraw, ImageEnhance, ImageFilter
    image = _background(rng, side)
    draw = ImageDraw.Draw(image)
    _distractors(rng, draw, side)
    _subject(rng, draw, name, side)
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0, side / 120)))
    image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.6, 1.4))
    if rng.random() < GREY_SHARE:
        image = image.convert("L")
    return image


def write_set(root: Path, seed: int, per_class: int = 100) -> Path:
    """The photo folder under `root` (written once per seed)."""
    if root.is_dir() and any(root.iterdir()):
        return root
    rng = np.random.default_rng(seed)
    for name in CLASSES:
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        count = per_class // 4 if name == SMALL_CLASS else per_class
        for index in range(count):
            image = photo(rng, name, int(rng.integers(40, 301)))
            if rng.random() < 0.5:
                image.save(folder / f"IMG_{index:04d}.jpg",
                           quality=int(rng.integers(60, 95)))
            else:
                image.save(folder / f"IMG_{index:04d}.png")
    (root / "circle" / "notes.txt").write_text("taken on the phone\n")
    (root / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-class", type=int, default=100)
    args = parser.parse_args()
    print(write_set(args.output, args.seed, args.per_class))


if __name__ == "__main__":
    main()
