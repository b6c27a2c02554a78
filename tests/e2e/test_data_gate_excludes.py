"""A nightly run on data with a few odd images goes on without them.

The digits of the session fixture (60 per class, 16x16 inputs, 3 epochs)
plus a 1-pixel PNG, an image copied into another class, a copy in its own
class and a text file: the gate excludes the odd images, Augment leaves
them out of both splits, a model is pushed, and the run summary names what
was quarantined and excluded, and why.
"""
from __future__ import annotations

import dataclasses
import io
import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_IMAGES_PER_CLASS, write_digit_subset

pytestmark = pytest.mark.e2e


def _one_pixel_png() -> bytes:
    from PIL import Image
    buffer = io.BytesIO()
    Image.new("L", (1, 1), 255).save(buffer, format="PNG")
    return buffer.getvalue()


def _ids(split_folder: Path) -> set:
    import tensorflow as tf
    return {tf.train.Example.FromString(r.numpy()).features
            .feature["image_id"].bytes_list.value[0].decode()
            for r in tf.data.TFRecordDataset(
                [str(p) for p in split_folder.iterdir()],
                compression_type="GZIP")}


@pytest.fixture(scope="module")
def odd_run(small_config, tmp_path_factory):
    from imgpipe.config import EdgeConfig
    from imgpipe.runners.local.layout import LocalLayout
    from imgpipe.runners.local.runner import run_pipeline

    data = write_digit_subset(tmp_path_factory.mktemp("odd") / "digits",
                              FIXTURE_IMAGES_PER_CLASS)
    (data / "3" / "tiny.png").write_bytes(_one_pixel_png())
    first_zero = sorted((data / "0").iterdir())[0]
    shutil.copy(first_zero, data / "1" / "from-0.png")
    first_five = sorted((data / "5").iterdir())[0]
    shutil.copy(first_five, data / "5" / "again.png")
    (data / "7" / "notes.txt").write_text("not an image")
    config = dataclasses.replace(small_config,
                                 edge=EdgeConfig(enabled=False))
    layout = LocalLayout(data, tmp_path_factory.mktemp("out"))
    summary = run_pipeline(config, layout)
    return summary, layout, config, first_zero.name, first_five.name


def test_the_run_goes_on_without_the_odd_images_and_pushes(odd_run):
    summary, _, _, zero, five = odd_run
    assert summary.pushed_version is not None
    data = summary.data
    assert data.ingested == 10 * FIXTURE_IMAGES_PER_CLASS + 3
    assert data.quarantined == {"not an image file extension": 1}
    # The copy of a 5 is a duplicate, or a train/eval leak: one copy goes.
    assert sum(data.excluded.values()) == 4
    assert data.excluded["label conflict"] == 2
    assert data.excluded["size out of bounds"] == 1
    assert data.used == data.ingested - 4
    report = json.loads(Path(data.gate_report).read_text())
    reasons = {r["image_id"]: r["reason"] for r in report["excluded"]}
    assert reasons["3/tiny.png"].startswith("height 1 px outside 8..4096")
    assert reasons["1/from-0.png"] == \
        f"label conflict: same content as 0/{zero} in class 0"
    assert reasons[f"0/{zero}"] == \
        "label conflict: same content as 1/from-0.png in class 1"
    assert len({f"5/{five}", "5/again.png"} & set(reasons)) == 1


def test_excluded_images_reach_neither_training_nor_evaluation(odd_run):
    from imgpipe.runners.local import run_record
    summary, layout, config, _, _ = odd_run
    augment = next(n for n in summary.nodes if n.node_id == "Augment")
    (output,) = augment.outputs["augmented_examples"]
    assert output.custom_properties["excluded_count"].int_value == 4
    excluded = {json.loads(line)["image_id"] for line in
                Path(summary.data.excluded_list).read_text().splitlines()}
    for split in ("train", "eval"):
        ids = {i.split("#aug")[0] for i in _ids(Path(output.uri) /
                                                 f"Split-{split}")}
        assert ids and not ids & excluded
    store = run_record.open_store(layout.metadata_path)
    gate = next(n for n in run_record.node_runs(store, summary.run_id)
                if n.node_id == "DataGate")
    assert gate.outputs["report"][0].custom_properties[
        "excluded_count"].int_value == 4


def test_the_console_summary_names_the_lists_and_reasons(odd_run):
    from rich.console import Console

    from imgpipe.cli.report import print_summary
    summary, layout, config, _, _ = odd_run
    console = Console(file=io.StringIO(), width=400)
    print_summary(console, summary)
    text = console.file.getvalue()
    data = summary.data
    for expected in (
            f"Data: {data.read} files read, {data.ingested} ingested, 1 "
            "quarantined at ingestion (1 not an image file extension).",
            "Data gate: 4 image(s) excluded (2 label conflict,",
            "1 size out of bounds", f"Quarantine list: {data.quarantine_list}",
            f"Excluded list: {data.excluded_list}",
            f"Gate report: {data.gate_report}"):
        assert expected in text, text
