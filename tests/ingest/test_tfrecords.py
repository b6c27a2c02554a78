"""TFRecords of raw-contract tf.Examples pass through after a check."""
from __future__ import annotations

import shutil

import pytest

from tests.ingest import builders
from tests.ingest.harness import run_example_gen


def _example(**features):
    import tensorflow as tf

    def feature(value):
        if isinstance(value, int):
            return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))
        return tf.train.Feature(bytes_list=tf.train.BytesList(
            value=[value.encode() if isinstance(value, str) else value]))
    return tf.train.Example(features=tf.train.Features(
        feature={k: feature(v) for k, v in features.items()}))


def _bad_records(path) -> None:
    import tensorflow as tf
    complete = dict(image_raw=builders.image_bytes(), label=1, label_name="b",
                    image_id="extra/ok.png", format="PNG", height=8, width=8,
                    channels=1, byte_size=10, content_hash="h")
    missing = {k: v for k, v in complete.items() if k != "content_hash"}
    missing["image_id"] = "extra/no_hash.png"
    with tf.io.TFRecordWriter(str(path)) as writer:
        writer.write(_example(**complete).SerializeToString())
        writer.write(_example(**missing).SerializeToString())
        writer.write(_example(**{**complete, "image_id": "extra/bad_label.png",
                                 "label": 0}).SerializeToString())
        writer.write(b"\x08\x96\x01 not an Example")


@pytest.fixture(scope="module")
def reingested(tmp_path_factory):
    work = tmp_path_factory.mktemp("tfrecords")
    tree = builders.class_tree(work / "tree", {"a": 8, "b": 8})
    first = run_example_gen(tree, work / "first")
    records = work / "records"
    records.mkdir()
    for split in ("train", "eval"):
        (source,) = (work / "first" / f"Split-{split}").iterdir()
        shutil.copy(source, records / f"{split}.tfrecord.gz")
    shutil.copy(work / "first" / "labels.txt", records / "labels.txt")
    _bad_records(records / "extra.tfrecord")
    return first, run_example_gen(records, work / "second")


def test_examples_pass_through_unchanged_into_the_same_splits(reingested):
    first, second = reingested
    assert second.artifact.get_string_custom_property("ingest_format") == \
        "tfrecord"
    before = first.rows.set_index("image_id")
    after = second.rows.set_index("image_id").drop(index="extra/ok.png")
    assert after.sort_index().equals(before.sort_index())


def test_records_outside_the_contract_are_quarantined(reingested):
    _, second = reingested
    reasons = second.reasons()
    assert "content_hash" in reasons["extra/no_hash.png"]
    assert "does not match the vocabulary" in reasons["extra/bad_label.png"]
    assert reasons["extra.tfrecord#3"] == "record is not a tf.train.Example"
    assert len(reasons) == 3


def test_tfrecords_without_class_names_stop_with_a_clear_error(tmp_path):
    (tmp_path / "data").mkdir()
    _bad_records(tmp_path / "data" / "x.tfrecord")
    with pytest.raises(ValueError, match="needs its class names"):
        run_example_gen(tmp_path / "data", tmp_path / "examples")
