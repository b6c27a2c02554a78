"""Bad files in a class-folder tree: each is quarantined with its reason
(or stops the run) while the rest is ingested. One executor run serves the
module; every file below is real and read by the real ExampleGen executor."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.ingest import builders
from tests.ingest.harness import MAX_PIXELS, run_example_gen

GOOD_PER_CLASS = 6
# File -> (PIL mode written, channels the metadata must record).
MIXED_MODES = {"dog/rgba.png": ("RGBA", 4), "dog/palette.png": ("P", 3),
               "dog/sixteen.png": ("I;16", 1), "dog/grey.png": ("L", 1),
               "dog/photo.jpg": ("RGB", 3), "dog/grey_alpha.png": ("LA", 2),
               "dog/bitmap.bmp": ("RGB", 3), "dog/anim.gif": ("P", 3)}
BAD = {
    "cat/zero.png": "empty file (0 bytes)",
    "cat/truncated.png": "not a decodable image",
    "cat/notes.jpg": "not a decodable image",
    "cat/bomb.png": f"exceeds max_pixels={MAX_PIXELS} (possible decompression bomb)",
    "cat/escape.png": "symlink points outside the data root",
    "bird": "symlink points outside the data root",
    "cat/readme.txt": "not an image file extension",
    "notes.md": "not directly inside a class folder",
    "cat/dangling.png": "cannot read: No such file or directory",
}


def _animated_gif() -> bytes:
    frames = [Image.new("P", (8, 8), colour) for colour in (10, 200)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True,
                   append_images=frames[1:])
    return buffer.getvalue()


def _write_mixed_modes(root) -> None:
    for path, (mode, _) in MIXED_MODES.items():
        fmt = {"jpg": "JPEG", "bmp": "BMP", "gif": "GIF"}.get(
            path.rsplit(".", 1)[1], "PNG")
        data = (_animated_gif() if fmt == "GIF"
                else builders.image_bytes(mode, fmt=fmt, seed=len(path)))
        (root / path).write_bytes(data)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    work = tmp_path_factory.mktemp("bad_inputs")
    root = builders.class_tree(work / "data", {"cat": GOOD_PER_CLASS,
                                               "dog": GOOD_PER_CLASS})
    outside = builders.class_tree(work / "outside", {"birds": 2})
    (root / "cat" / "zero.png").write_bytes(b"")
    (root / "cat" / "truncated.png").write_bytes(builders.truncated_png())
    (root / "cat" / "notes.jpg").write_text("meeting notes, not a JPEG")
    (root / "cat" / "bomb.png").write_bytes(builders.bomb_png())
    (root / "cat" / "readme.txt").write_text("about cats")
    (root / "notes.md").write_text("# data set notes")
    (root / "cat" / "escape.png").symlink_to(outside / "birds" / "000.png")
    (root / "bird").symlink_to(outside / "birds", target_is_directory=True)
    (root / "cat" / "dangling.png").symlink_to(root / "cat" / "gone.png")
    _write_mixed_modes(root)
    return run_example_gen(root, work / "examples")


@pytest.mark.parametrize("image_id, reason", sorted(BAD.items()))
def test_each_bad_input_is_quarantined_with_its_reason(ingested, image_id,
                                                       reason):
    assert reason in ingested.reasons()[image_id]


def test_the_rest_is_ingested_and_nothing_is_dropped(ingested):
    assert len(ingested.rows) == 2 * GOOD_PER_CLASS + len(MIXED_MODES)
    assert len(ingested.quarantine) == len(BAD)
    assert set(ingested.rows.image_id).isdisjoint(ingested.reasons())


def test_quarantine_is_part_of_the_examples_artifact(ingested):
    properties = ingested.artifact.mlmd_artifact.custom_properties
    assert properties["quarantined_count"].int_value == len(BAD)
    assert properties["ingest_format"].string_value == "folders"
    # The symlinked class folder is not a class: it was refused.
    assert open(f"{ingested.uri}/labels.txt").read().split() == ["cat", "dog"]


def test_mixed_colour_modes_are_kept_with_their_channels(ingested):
    channels = dict(zip(ingested.rows.image_id, ingested.rows.channels))
    assert {path: channels[path] for path in MIXED_MODES} == \
        {path: expected for path, (_, expected) in MIXED_MODES.items()}


@pytest.mark.parametrize("configured_channels", [1, 3])
def test_transform_normalises_every_mode_to_the_configured_channels(
        ingested, configured_channels):
    import tensorflow as tf

    from imgpipe_components.transform.preprocessing import decode_image
    for record in tf.data.TFRecordDataset(
            tf.io.gfile.glob(f"{ingested.uri}/Split-*/*"),
            compression_type="GZIP"):
        example = tf.train.Example.FromString(record.numpy())
        raw = example.features.feature["image_raw"].bytes_list.value[0]
        image = decode_image(tf.constant(raw), 16, configured_channels)
        assert image.shape == (16, 16, configured_channels)
        assert 0.0 <= float(tf.reduce_min(image)) <= \
            float(tf.reduce_max(image)) <= 1.0


def test_a_bomb_is_refused_from_its_header_before_decoding(tmp_path):
    # 30000^2 grey pixels would need ~900 MB to decode; the header says so,
    # and the file holds no such data: only a header check can refuse it so.
    root = builders.class_tree(tmp_path / "data", {"a": 2, "b": 2})
    (root / "a" / "huge.png").write_bytes(builders.png_declaring(30_000,
                                                                 30_000))
    (root / "b" / "big.png").write_bytes(builders.png_declaring(100, 100))
    result = run_example_gen(root, tmp_path / "examples",
                             max_pixels=64 * 64)
    reason = result.reasons()["a/huge.png"]
    assert "exceeds max_pixels=4096" in reason and "900000000" in reason
    assert result.reasons()["b/big.png"] == (
        "100x100 = 10000 pixels exceeds max_pixels=4096 (possible "
        "decompression bomb)")
    assert len(result.rows) == 4


def test_an_empty_class_folder_stops_the_run(tmp_path):
    root = builders.class_tree(tmp_path / "data", {"a": 2, "b": 2})
    (root / "empty").mkdir()
    with pytest.raises(ValueError, match=r"empty .*hold no images"):
        run_example_gen(root, tmp_path / "examples")


def test_the_16_bit_image_keeps_its_pixels(ingested):
    # Ingest stores the bytes as they are: no silent down-conversion.
    import tensorflow as tf
    row = ingested.rows.set_index("image_id").loc["dog/sixteen.png"]
    assert row["format"] == "PNG"
    for record in tf.data.TFRecordDataset(
            tf.io.gfile.glob(f"{ingested.uri}/Split-*/*"),
            compression_type="GZIP"):
        feature = tf.train.Example.FromString(record.numpy()).features.feature
        if feature["image_id"].bytes_list.value[0] == b"dog/sixteen.png":
            with Image.open(io.BytesIO(feature["image_raw"].bytes_list.value[0])) as image:
                assert np.asarray(image).dtype in (np.uint16, np.int32)
            return
    pytest.fail("dog/sixteen.png not found in the examples")
