"""The Augment component's own executor on ExampleGen's real output: copies
when there is something to add, byte-identical files when there is not, and
without the images the real DataGate executor excluded."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.ingest.builders import class_tree, image_bytes
from tests.ingest.harness import run_example_gen


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    root = class_tree(tmp_path_factory.mktemp("tree"), {"a": 24, "b": 6})
    return run_example_gen(root, tmp_path_factory.mktemp("examples"))


def _run_augment(ingested, output: Path, **settings) -> Path:
    return Path(_augment(ingested, output, "", **settings).uri)


def _augment(ingested, output: Path, report_uri: str, **settings):
    """Augment's executor; `report_uri`: a DataGate report ("": a report
    folder with no exclusions). Returns the output artifact."""
    from tfx.types import standard_artifacts

    from imgpipe_components.augment.component import Augment
    report = standard_artifacts.ExampleValidationMetrics()
    report.uri = report_uri or str(output / "gate_report")
    augmented = standard_artifacts.Examples()
    augmented.uri = str(output / "augmented")
    Augment.EXECUTOR_SPEC.executor_class().Do(
        {"examples": [ingested.artifact], "data_gate_report": [report]},
        {"augmented_examples": [augmented]},
        {"augment_config": json.dumps(settings), "seed": 7})
    return augmented


def _files(folder: Path) -> dict:
    return {path.name: path.read_bytes() for path in folder.iterdir()}


def _features(folder: Path) -> list:
    import tensorflow as tf
    return [tf.train.Example.FromString(record.numpy()).features.feature
            for record in tf.data.TFRecordDataset(
                [str(p) for p in folder.iterdir()], compression_type="GZIP")]


def _labels(folder: Path) -> list:
    return [f["label"].int64_list.value[0] for f in _features(folder)]


def _ids(folder: Path) -> list:
    return sorted(f["image_id"].bytes_list.value[0].decode()
                  for f in _features(folder))


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


@pytest.fixture(scope="module")
def gated(tmp_path_factory):
    """ExampleGen and the real DataGate executor on a tree with a 1-pixel
    image, a copy in its own class and an image copied into another class;
    returns (ingested, gate report folder, its excluded records)."""
    from tfx.types import standard_artifacts

    from imgpipe_components.data_gate.component import DataGate
    root = class_tree(tmp_path_factory.mktemp("odd"), {"a": 24, "b": 6})
    (root / "a" / "tiny.png").write_bytes(image_bytes("L", (1, 1), seed=9))
    (root / "a" / "again.png").write_bytes((root / "a" / "005.png")
                                           .read_bytes())
    (root / "a" / "from_b.png").write_bytes((root / "b" / "002.png")
                                            .read_bytes())
    ingested = run_example_gen(root, tmp_path_factory.mktemp("examples"))
    out = tmp_path_factory.mktemp("gate")
    anomalies = standard_artifacts.ExampleAnomalies()
    anomalies.uri = str(out / "no_anomalies")
    report = standard_artifacts.ExampleValidationMetrics()
    report.uri = str(out / "report")
    DataGate.EXECUTOR_SPEC.executor_class().Do(
        {"examples": [ingested.artifact], "anomalies": [anomalies]},
        {"report": [report]},
        {"gate_config": json.dumps({"max_excluded_fraction": 0.2})})
    records = [json.loads(line) for line in
               (out / "report" / "excluded.jsonl").read_text().splitlines()]
    assert report.get_int_custom_property("excluded_count") == len(records)
    return ingested, report.uri, records


def test_the_gate_excluded_the_odd_images(gated):
    _, _, records = gated
    checks = {r["image_id"]: r["check"] for r in records}
    assert checks["a/tiny.png"] == "height"
    assert checks["a/from_b.png"] == checks["b/002.png"] == "label_conflict"
    # One of the two copies in class a stays.
    assert len({"a/005.png", "a/again.png"} & set(checks)) == 1
    assert len(records) == 4


@pytest.mark.parametrize("copies", [0, 1])
def test_excluded_images_leave_both_splits(gated, tmp_path, copies):
    ingested, report_uri, records = gated
    excluded = {r["image_id"] for r in records}
    artifact = _augment(ingested, tmp_path, report_uri, copies=copies)
    out = Path(artifact.uri)
    source = Path(ingested.uri)
    for split in ("train", "eval"):
        before = _ids(source / f"Split-{split}")
        after = _ids(out / f"Split-{split}")
        kept = sorted(set(before) - excluded)
        originals = [i for i in after if "#aug" not in i]
        assert originals == kept
        if split == "train":
            assert len(after) == (1 + copies) * len(kept)
        else:
            assert after == kept                  # eval: never augmented
        assert all(p.name.endswith(".gz")
                   for p in (out / f"Split-{split}").iterdir())
    assert excluded <= set(_ids(source / "Split-train") +
                           _ids(source / "Split-eval"))
    assert artifact.get_int_custom_property(
        "excluded_count") == len(excluded)
    assert (out / "labels.txt").read_bytes() == \
        (source / "labels.txt").read_bytes()
