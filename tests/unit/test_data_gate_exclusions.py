"""Per-image defects exclude the image, within a tolerance, instead of
stopping the run; over the tolerance the gate stops it and says what to
change. Real Great Expectations runs over a metadata table of 600 images."""
from __future__ import annotations

from pathlib import Path

import pytest

from imgpipe_components.data_gate import gate, metadata_table
from imgpipe_components.data_gate.errors import DataValidationError
from imgpipe_components.data_gate.settings import DataGateConfig
from imgpipe_components.settings_codec import SettingsError
from tests.unit.test_data_gate import CLASSES, metadata

PER_CLASS = 200    # 600 images: one defect is 0.17 %, under the 1 % allowed


def row(class_index: int, image: int) -> int:
    return class_index * PER_CLASS + image


def verdict_of(tmp_path: Path, overrides: dict, config=DataGateConfig()):
    table = metadata_table.build_table(
        [metadata(PER_CLASS, overrides)], [])
    return gate.verdict_for(table, config, CLASSES, str(tmp_path / "docs"))


# Image i of a class is in eval when i % 5 == 0 (see `metadata`).
DEFECTS = {
    (row(0, 3), "height"): 1, (row(0, 3), "width"): 1,          # 1 pixel
    (row(0, 8), "content_hash"): "hash-0-7",                    # duplicate
    (row(1, 1), "content_hash"): "hash-0-2",                    # 2 classes
    (row(2, 5), "content_hash"): "hash-2-6",                    # eval leak
}


@pytest.fixture(scope="module")
def defective(tmp_path_factory):
    table = metadata_table.build_table(
        [metadata(PER_CLASS, DEFECTS)], [])
    docs = tmp_path_factory.mktemp("gate")
    return gate.verdict_for(table, DataGateConfig(), CLASSES,
                            str(docs / "docs")), docs / "docs"


def test_defective_images_are_excluded_and_the_run_goes_on(defective):
    verdict, _ = defective
    assert verdict.passed, verdict.critical_failures
    assert {r["image_id"]: (r["class"], r["check"])
            for r in verdict.excluded} == {
        "0/3.png": ("0", "height"), "0/8.png": ("0", "duplicate_of"),
        "0/2.png": ("0", "label_conflict"),
        "1/1.png": ("1", "label_conflict"),
        "2/5.png": ("2", "leaked_into_eval")}


def test_each_exclusion_says_why(defective):
    reasons = {r["image_id"]: r["reason"] for r in defective[0].excluded}
    assert reasons["0/3.png"] == ("height 1 px outside 8..4096 "
                                  "(data_gate.min_side, data_gate.max_side)")
    # One copy of a duplicate stays.
    assert reasons["0/8.png"] == \
        "duplicate: same content as 0/7.png, which is kept"
    # Both copies of content under two labels go.
    assert reasons["0/2.png"] == \
        "label conflict: same content as 1/1.png in class 1"
    assert reasons["1/1.png"] == \
        "label conflict: same content as 0/2.png in class 0"
    # Leakage: the eval copy goes, the train copy stays.
    assert reasons["2/5.png"] == (
        "train/eval leakage: same content as 2/6.png in train; the eval copy "
        "is excluded")


def test_data_docs_read_offline(defective):
    _, docs = defective
    files = [p for p in docs.rglob("*") if p.is_file()]
    assert len(files) >= 5     # index, 2 suites, 2 validation results
    for path in files:
        content = path.read_bytes()
        assert b"http://" not in content and b"https://" not in content, path
        assert b"<script" not in content, path
    index = (docs / "index.html").read_text()
    for suite_name in ("image_checks", "data_set_checks"):
        assert f'href="expectations/{suite_name}.html"' in index
    # The index's tables, built by scripts in GX's page, are plain HTML.
    assert index.count(">Success</a></td>") == 2


def test_over_the_tolerance_the_gate_stops_the_run_and_says_what_to_change(
        tmp_path):
    tiny = {(row(1, i), side): 1 for i in range(10, 17)
            for side in ("height", "width")}              # 7 of 600: 1.17 %
    verdict = verdict_of(tmp_path, tiny)
    assert [f.column for f in verdict.critical_failures] == \
        ["height", "width", "excluded"]
    with pytest.raises(DataValidationError) as stopped:
        gate.raise_if_failed(verdict, "/runs/DataGate/report/7")
    message = str(stopped.value)
    for expected in ("'height' (image height)", "7 image(s), 1.17% of the "
                     "images, over the tolerance of 1.00%", "e.g. 1/10.png",
                     "raise data_gate.max_excluded_fraction (now 0.01)",
                     "all exclusions together",
                     "/runs/DataGate/report/7/excluded.jsonl"):
        assert expected in message
    assert verdict_of(tmp_path / "loose", tiny, DataGateConfig(
        max_excluded_fraction=0.02)).passed


def test_all_exclusions_together_have_the_same_tolerance(tmp_path):
    # 4 too small and 4 in an unknown format: each 0.67 %, together 1.33 %.
    defects = {(row(2, i), side): 2 for i in range(1, 5)
               for side in ("height", "width")}
    defects.update({(row(1, i), "format"): "TIFF" for i in range(1, 5)})
    verdict = verdict_of(tmp_path, defects)
    assert [f.column for f in verdict.critical_failures] == ["excluded"]
    assert verdict.critical_failures[0].unexpected_count == 8


def test_duplicates_have_their_own_tolerance_outside_the_overall_one(
        tmp_path):
    # Copies of the image before, both in train: 16 of 600, 2.67 %.
    copies = {(row(1, i), "content_hash"): f"hash-1-{i - 1}"
              for i in range(2, 40) if i % 5 in (2, 4)}
    verdict = verdict_of(tmp_path, copies)
    assert verdict.passed, verdict.critical_failures
    assert len(verdict.excluded) == len(copies) == 16
    strict = verdict_of(tmp_path / "strict", copies, DataGateConfig(
        max_duplicate_fraction=0.01))
    assert [f.setting for f in strict.critical_failures] == \
        ["data_gate.max_duplicate_fraction"]


def test_class_counts_are_those_after_exclusion(tmp_path):
    verdict = verdict_of(tmp_path, {(row(0, 3), "height"): 1},
                         DataGateConfig(min_per_class=PER_CLASS))
    (failure,) = verdict.critical_failures
    assert failure.column == "class_count"
    assert "0/3.png" not in failure.example_ids


@pytest.mark.parametrize("name,value", [("max_excluded_fraction", 1.0),
                                        ("max_excluded_fraction", -0.01),
                                        ("max_duplicate_fraction", 2)])
def test_tolerances_are_checked_when_set(name, value):
    with pytest.raises(SettingsError, match=f"data_gate.{name}"):
        DataGateConfig(**{name: value})
