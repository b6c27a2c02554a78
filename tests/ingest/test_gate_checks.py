"""The suite's bounds added for ingestion: per-class counts, imbalance,
channels, every class present. One gate check over a table that breaks
each."""
from __future__ import annotations

import pandas as pd
import pytest

from imgpipe_components.data_gate import gate, metadata_table, suite
from imgpipe_components.data_gate.settings import DataGateConfig

VOCABULARY = ["cat", "dog", "owl", "yak"]    # yak has no images


def _rows(name: str, count: int, channels: int = 1):
    return [dict(image_id=f"{name}/{i}.png", label=VOCABULARY.index(name),
                 label_name=name, format="PNG", height=8, width=8,
                 channels=channels, byte_size=90,
                 content_hash=f"{name}-{i}", split="eval" if i % 5 == 0
                 else "train") for i in range(count)]


@pytest.fixture(scope="module")
def failed(tmp_path_factory):
    frame = pd.DataFrame(_rows("cat", 30) + _rows("dog", 6) +
                         _rows("owl", 3) + [dict(_rows("owl", 4)[3],
                                                 channels=4)])
    table = metadata_table.build_table([frame], [])
    config = DataGateConfig(min_rows=10, min_per_class=2, max_per_class=25,
                            max_class_imbalance=5, imbalance_is_critical=True,
                            allowed_channels=(1, 3))
    findings, _ = gate.check_table(table, config, VOCABULARY,
                                   str(tmp_path_factory.mktemp("docs")))
    return {f.column: f for f in findings if not f.success}


def test_a_class_over_the_upper_bound_is_named(failed):
    finding = failed["class_count"]
    assert finding.severity == suite.CRITICAL
    assert finding.unexpected_count == 30
    assert all(i.startswith("cat/") for i in finding.example_ids)


def test_imbalance_can_be_made_critical(failed):
    finding = failed["class_count_over_smallest"]
    assert finding.severity == suite.CRITICAL    # 30 / 4 > 5


def test_channels_outside_the_allowed_set_over_the_tolerance(failed):
    # One image of 40 (2.5 %) is more than the 1 % the gate may exclude.
    assert failed["channels"].example_ids == ["owl/3.png"]
    assert failed["channels"].severity == suite.CRITICAL
    assert failed["excluded"].example_ids == ["owl/3.png"]


def test_a_vocabulary_class_without_images_is_critical(failed):
    finding = failed["label_name"]
    assert finding.expectation == "expect_column_distinct_values_to_contain_set"
    assert finding.observed == "missing: yak"


def test_nothing_else_failed(failed):
    assert set(failed) == {"class_count", "class_count_over_smallest",
                           "channels", "label_name", "excluded"}
