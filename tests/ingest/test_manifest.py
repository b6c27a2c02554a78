"""A CSV manifest (`path,label`): rows resolve under the manifest's folder."""
from __future__ import annotations

import pytest

from imgpipe_components.image_example_gen import manifest
from imgpipe_components.image_example_gen.settings import IngestConfig
from tests.ingest import builders
from tests.ingest.harness import run_example_gen

ROWS = """path,label
images/cat/000.png,cat
images/cat/001.png,cat
images/cat/002.png,cat
images/dog/000.png,dog
images/dog/001.png,dog
./images/dog/002.png,dog
images/dog/000.png,dog
images/cat/000.png,horse
../secret/000.png,cat
/etc/passwd,cat
gs://other-bucket/x.png,dog
images/cat/missing.png,cat
images/linked.png,dog
images/notes.txt,cat
"""
EXPECTED_REASONS = {   # quarantine id: manifest line
    "manifest.csv:8": "'images/dog/000.png': listed again (first at line 5)",
    "manifest.csv:9": "'images/cat/000.png': label 'horse' is not in the "
                      "vocabulary (cat, dog)",
    "manifest.csv:10": "'../secret/000.png': escapes the manifest's folder",
    "manifest.csv:11": "'/etc/passwd': escapes the manifest's folder",
    "manifest.csv:12": "'gs://other-bucket/x.png': escapes",
    "manifest.csv:13": "'images/cat/missing.png': listed but not found",
    "manifest.csv:14": "'images/linked.png': a symlink that points outside "
                       "the data root",
    "images/notes.txt": "not an image file extension",
}


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    work = tmp_path_factory.mktemp("manifest")
    root = work / "data"
    builders.class_tree(root / "images", {"cat": 3, "dog": 3})
    builders.class_tree(work / "secret", {"x": 1})
    (root / "images" / "linked.png").symlink_to(work / "secret" / "x" / "000.png")
    (root / "images" / "notes.txt").write_text("not an image")
    (root / "manifest.csv").write_text(ROWS)
    (root / "labels.txt").write_text("cat\ndog\n")
    return run_example_gen(root, work / "examples")


def test_valid_rows_are_ingested_with_their_labels(ingested):
    assert ingested.artifact.get_string_custom_property("ingest_format") == "csv"
    labels = dict(zip(ingested.rows.image_id, ingested.rows.label_name))
    assert labels == {f"images/{c}/{i:03d}.png": c
                      for c in ("cat", "dog") for i in range(3)}


@pytest.mark.parametrize("image_id, reason", sorted(EXPECTED_REASONS.items()))
def test_each_bad_row_is_quarantined_with_its_line_and_reason(
        ingested, image_id, reason):
    assert reason in ingested.reasons()[image_id]


def test_nothing_else_was_quarantined(ingested):
    assert set(ingested.reasons()) == set(EXPECTED_REASONS)


def test_a_manifest_without_the_columns_stops_with_a_clear_error(tmp_path):
    root = builders.class_tree(tmp_path / "data", {"a": 1, "b": 1})
    (root / "list.csv").write_text("file,class\na/000.png,a\n")
    with pytest.raises(manifest.ManifestError,
                       match="must name the columns path, label"):
        run_example_gen(root, tmp_path / "examples",
                        IngestConfig(format="csv", manifest_name="list.csv"))


def test_without_a_vocabulary_the_labels_come_from_the_manifest():
    rows = manifest.read_rows("path,label\na.png,zebra\nb.png,ant\n", "m.csv")
    assert manifest.labels_in(rows) == ["ant", "zebra"]
