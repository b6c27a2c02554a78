"""The Augment component's own executor on ExampleGen's real output: copies
when there is something to add, byte-identical files when there is not."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.ingest.builders import class_tree
from tests.ingest.harness import run_example_gen


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    root = class_tree(tmp_path_factory.mktemp("tree"), {"a": 24, "b": 6})
    return run_example_gen(root, tmp_path_factory.mktemp("examples"))


def _run_augment(ingested, output: Path, **settings) -> Path:
    from tfx.types import standard_artifacts

    from imgpipe_components.augment.component import Augment
    report = standard_artifacts.ExampleValidationMetrics()
    report.uri = str(output / "gate_report")
    augmented = standard_artifacts.Examples()
    augmented.uri = str(output / "augmented")
    Augment.EXECUTOR_SPEC.executor_class().Do(
        {"examples": [ingested.artifact], "data_gate_report": [report]},
        {"augmented_examples": [augmented]},
        {"augment_config": json.dumps(settings), "seed": 7})
    return output / "augmented"


def _files(folder: Path) -> dict:
    return {path.name: path.read_bytes() for path in folder.iterdir()}


def _labels(folder: Path) -> list:
    import tensorflow as tf
    return [tf.train.Example.FromString(record.numpy()).features
            .feature["label"].int64_list.value[0]
            for record in tf.data.TFRecordDataset(
                [str(p) for p in folder.iterdir()], compression_type="GZIP")]


def _count(folder: Path) -> int:
    return len(_labels(folder))


def test_nothing_to_add_copies_both_splits_byte_for_byte(ingested, tmp_path):
    out = _run_augment(ingested, tmp_path, copies=0)
    source = Path(ingested.uri)
    for split in ("train", "eval"):
        assert _files(out / f"Split-{split}") == \
            _files(source / f"Split-{split}")
    assert (out / "labels.txt").read_bytes() == \
        (source / "labels.txt").read_bytes()


def test_copies_double_the_train_split_and_leave_eval_as_it_was(
        ingested, tmp_path):
    out = _run_augment(ingested, tmp_path, copies=1)
    source = Path(ingested.uri)
    assert _count(out / "Split-train") == 2 * _count(source / "Split-train")
    assert _files(out / "Split-eval") == _files(source / "Split-eval")


def test_rebalancing_alone_still_runs_the_beam_job(ingested, tmp_path):
    from imgpipe_components.augment.settings import AugmentConfig
    assert AugmentConfig(copies=0, rebalance_to=1.0).adds_images
    assert not AugmentConfig(copies=0).adds_images
    out = _run_augment(ingested, tmp_path, copies=0, rebalance_to=1.0)
    before = _labels(Path(ingested.uri) / "Split-train")
    after = _labels(out / "Split-train")
    assert before.count(0) > 2 * before.count(1)      # a: 24 images, b: 6
    assert after.count(0) == before.count(0)
    # The fractional part of the copies is drawn per image: right in
    # expectation, so within a couple of images here.
    assert abs(after.count(1) - before.count(0)) <= 2
