"""Turn one image file into a raw-contract tf.Example, or a quarantine record.

Pure functions with no Beam or TFX in them, so the rules for what counts as a
usable image are unit-testable and shared by the pre-flight check.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import warnings
from typing import Union

from PIL import Image

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif"})
# PIL's format names as they appear in the `format` column.
ALLOWED_FORMATS = ("PNG", "JPEG", "BMP", "GIF")
_CHANNELS_BY_MODE = {"1": 1, "L": 1, "P": 3, "RGB": 3, "RGBA": 4, "LA": 2,
                     "I": 1, "I;16": 1, "F": 1, "CMYK": 4, "YCbCr": 3}


@dataclasses.dataclass(frozen=True)
class ImageRecord:
    """The raw contract of one example: the columns every ingested image
    carries, whatever its source format (tfrecords.CONTRACT gives their
    tf.train.Example feature kinds)."""
    image_id: str
    image_raw: bytes
    label: int
    label_name: str
    format: str
    height: int
    width: int
    channels: int
    byte_size: int
    content_hash: str


@dataclasses.dataclass(frozen=True)
class Quarantined:
    """An input file that was not ingested, and why."""
    image_id: str
    reason: str


def is_image_file(name: str) -> bool:
    lower = name.lower()
    return any(lower.endswith(ext) for ext in IMAGE_EXTENSIONS)


def inspect_image(image_id: str, data: bytes, label: int, label_name: str,
                  max_pixels: int) -> Union[ImageRecord, Quarantined]:
    """Checks that `data` is a whole, decodable image of a sane size."""
    if not data:
        return Quarantined(image_id, "empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            # PIL warns, then errors, on bombs; we check the size ourselves
            # from the header before any pixel is decoded.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > max_pixels:
                    return Quarantined(
                        image_id,
                        f"{width}x{height} = {width * height} pixels exceeds "
                        f"max_pixels={max_pixels} (possible decompression bomb)")
                fmt, mode = image.format, image.mode
                image.load()  # Decodes fully: catches truncated files.
    except Image.DecompressionBombError as error:
        # Far above PIL's own limit, PIL refuses at open, from the header too.
        return Quarantined(image_id, "header size exceeds max_pixels="
                           f"{max_pixels} (possible decompression bomb; PIL: "
                           f"{error})")
    except Image.UnidentifiedImageError:
        # PIL's message holds an object address: not stable across runs.
        return Quarantined(image_id, "not a decodable image: no known image "
                           "format recognised in the data")
    except (OSError, SyntaxError, ValueError) as error:
        return Quarantined(image_id, f"not a decodable image: {error}")
    if fmt not in ALLOWED_FORMATS:
        return Quarantined(image_id, f"unsupported image format {fmt!r}")
    return ImageRecord(
        image_id=image_id, image_raw=data, label=label, label_name=label_name,
        format=fmt, height=height, width=width,
        channels=_CHANNELS_BY_MODE.get(mode, 3), byte_size=len(data),
        content_hash=hashlib.sha256(data).hexdigest())


def to_tf_example(record: ImageRecord):
    """Serialises the record as a tf.train.Example (lazy TF import)."""
    import tensorflow as tf

    def b(value: Union[str, bytes]) -> tf.train.Feature:
        raw = value.encode() if isinstance(value, str) else value
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[raw]))

    def i(value: int) -> tf.train.Feature:
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))

    return tf.train.Example(features=tf.train.Features(feature={
        "image_raw": b(record.image_raw),
        "label": i(record.label),
        "label_name": b(record.label_name),
        "image_id": b(record.image_id),
        "format": b(record.format),
        "height": i(record.height),
        "width": i(record.width),
        "channels": i(record.channels),
        "byte_size": i(record.byte_size),
        "content_hash": b(record.content_hash),
    }))


# The columns the data gate and the drift reference read (not the pixels).
METADATA_FEATURES = ("image_id", "label", "label_name", "format", "height",
                     "width", "channels", "byte_size", "content_hash")


def example_metadata(example) -> dict:
    """The metadata columns of a raw-contract tf.train.Example."""
    features = example.features.feature
    row = {}
    for name in METADATA_FEATURES:
        feature = features[name]
        values = (list(feature.int64_list.value)
                  if feature.HasField("int64_list")
                  else [v.decode() for v in feature.bytes_list.value])
        row[name] = values[0] if values else None
    return row
