"""What counts as a usable image at ingestion."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from imgpipe_components.image_example_gen import image_records
from tests.unit.images import png_bytes

MAX_PIXELS = 1_000_000


def inspect(data: bytes):
    return image_records.inspect_image("c/x.png", data, 0, "c", MAX_PIXELS)


def test_a_good_png_gets_its_metadata():
    record = inspect(png_bytes((12, 10)))
    assert isinstance(record, image_records.ImageRecord)
    assert (record.format, record.width, record.height, record.channels) == \
        ("PNG", 12, 10, 1)
    assert record.byte_size == len(record.image_raw)
    assert len(record.content_hash) == 64


@pytest.mark.parametrize("data, reason", [
    (b"", "empty file"),
    (b"this is text, not a jpeg", "not a decodable image"),
    (png_bytes((64, 64))[:-60], "not a decodable image"),
])
def test_unusable_files_are_quarantined_with_a_reason(data, reason):
    result = inspect(data)
    assert isinstance(result, image_records.Quarantined)
    assert reason in result.reason


@pytest.mark.parametrize("side", [2_000, 20_000])
def test_a_decompression_bomb_is_refused_from_its_header(side):
    # One colour compresses to a few KiB but would decode to side^2 bytes;
    # above twice PIL's own limit PIL refuses it at open, below we do.
    buffer = io.BytesIO()
    Image.new("L", (side, side)).save(buffer, format="PNG")
    result = inspect(buffer.getvalue())
    assert isinstance(result, image_records.Quarantined)
    assert "exceeds" in result.reason and "bomb" in result.reason


@pytest.mark.parametrize("mode, channels", [("L", 1), ("RGB", 3),
                                            ("RGBA", 4), ("P", 3)])
def test_colour_modes_report_their_channels(mode, channels):
    assert inspect(png_bytes(mode=mode)).channels == channels


def test_sixteen_bit_png_is_accepted():
    buffer = io.BytesIO()
    Image.fromarray(np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000
                    ).save(buffer, format="PNG")
    assert inspect(buffer.getvalue()).channels == 1


def test_tf_example_carries_the_raw_contract():
    example = image_records.to_tf_example(inspect(png_bytes()))
    assert set(example.features.feature) == {
        "image_raw", "label", "label_name", "image_id", "format", "height",
        "width", "channels", "byte_size", "content_hash"}
