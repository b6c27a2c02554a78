"""Small synthetic inputs in each format, good and bad."""
from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Dict

import numpy as np
from PIL import Image

from tests.unit.images import png_bytes


def image_bytes(mode: str = "L", size=(8, 8), fmt: str = "PNG",
                seed: int = 0) -> bytes:
    """A real image in any PIL mode, including 16-bit grey ("I;16")."""
    rng = np.random.default_rng(seed)
    if mode == "I;16":
        image = Image.fromarray(
            rng.integers(0, 65535, (size[1], size[0]), dtype=np.uint16))
    else:
        image = Image.fromarray(
            rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8),
            "RGB").convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def class_tree(root: Path, per_class: Dict[str, int], seed: int = 0,
               size=(8, 8)) -> Path:
    """<root>/<class>/<n>.png with distinct random grey images."""
    for offset, (name, count) in enumerate(sorted(per_class.items())):
        (root / name).mkdir(parents=True, exist_ok=True)
        for index in range(count):
            (root / name / f"{index:03d}.png").write_bytes(image_bytes(
                "L", size, seed=seed * 100_000 + offset * 1000 + index))
    return root


def bomb_png(side: int = 5_000) -> bytes:
    """A few KiB of PNG that would decode to side^2 pixels."""
    buffer = io.BytesIO()
    Image.new("L", (side, side)).save(buffer, format="PNG")
    return buffer.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header declares width x height over one tiny IDAT chunk:
    refusing it proves the size came from the header, not from decoding."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data)))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) +
            chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def truncated_png() -> bytes:
    return png_bytes((64, 64))[:-60]


def cifar_batch(labels, seed: int = 0, protocol: int = 2,
                name: str = "data_batch_1") -> bytes:
    rng = np.random.default_rng(seed)
    batch = {b"batch_label": name.encode(), b"labels": list(labels),
             b"data": rng.integers(0, 256, (len(labels), 3072), dtype=np.uint8),
             b"filenames": [f"img_{i}.png".encode() for i in range(len(labels))]}
    return pickle.dumps(batch, protocol=protocol)


def cifar_meta(names) -> bytes:
    return pickle.dumps({b"label_names": [n.encode() for n in names],
                         b"num_cases_per_batch": 10, b"num_vis": 3072},
                        protocol=2)


class RunsACommand:
    """A pickle that would run `touch <marker>` when loaded unsafely."""

    def __init__(self, marker: Path):
        self._marker = marker

    def __reduce__(self):
        import os
        return (os.system, (f"touch {self._marker}",))


def malicious_batch(marker: Path) -> bytes:
    return pickle.dumps({b"data": RunsACommand(marker), b"labels": [0]},
                        protocol=2)
