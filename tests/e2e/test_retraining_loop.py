"""The unattended retraining loop, run locally as a schedule would run it.

span 1 -> trained, pushed, stable; the same data again -> nothing retrains;
span 2 -> trained, compared with stable, canary, auto-promoted; a degraded
span -> refused, stable unchanged; rollback -> the next run compares
against the rolled-back stable. Every decision is checked where it is
recorded: ML Metadata, models.config, the promotion history.
"""
from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

TRAINED = {"Transform", "Trainer"}


def write_span(full: Path, target: Path, per_class: slice,
               shuffle_labels: bool = False) -> Path:
    """Digits `per_class` of each class under `target`; shuffled labels make
    a span a model cannot learn (degraded data that passes the data gate)."""
    classes = sorted(p.name for p in full.iterdir())
    rng = random.Random(7)
    for class_dir in sorted(full.iterdir()):
        for image in sorted(class_dir.iterdir())[per_class]:
            label = rng.choice(classes) if shuffle_labels else class_dir.name
            folder = target / label
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy(image, folder / f"{class_dir.name}-{image.name}")
    return target


def states(summary) -> dict:
    return {node.node_id: node.state for node in summary.nodes}


def baseline_uri(summary):
    """The Model artifact the Evaluator compared with, from ML Metadata."""
    return summary.baseline_model_uri


def loop_config():
    """Spans, a small fast model, auto-promotion on: a scheduled setup."""
    from imgpipe.config import (EvalConfig, IngestConfig, PipelineConfig,
                                PushConfig, TrainConfig, TransformConfig)
    return PipelineConfig(
        ingest=IngestConfig(span_pattern="span-{SPAN}"),
        transform=TransformConfig(image_size=16),
        train=TrainConfig(architecture="small_cnn", epochs=8),
        evaluation=EvalConfig(min_accuracy=0.5),
        push=PushConfig(auto_promote=True))


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    from imgpipe.runners.local.layout import LocalLayout
    from imgpipe.digits import write_digits

    work = tmp_path_factory.mktemp("loop")
    return (loop_config(), LocalLayout(work / "data", work / "output"),
            write_digits(work / "digits"))


def test_the_loop(loop):
    from imgpipe_components.model_store import (current_labels, promote, rollback,
                                     show_history)
    from imgpipe_components.model_store.versions import source_model, version_uri
    from imgpipe.runners.local.runner import run_pipeline

    config, layout, digits = loop
    data, serving = Path(layout.data_root), layout.serving_dir("digits")

    # Span 1, a small one, with a dangling symlink as annexed data has.
    write_span(digits, data / "span-1", slice(0, 20))
    (data / "span-1" / "3" / "annexed.png").symlink_to(data / "missing.png")
    first = run_pipeline(config, layout)
    assert first.blessed and first.pushed_version == "1"
    assert first.baseline_accuracy is None       # no model in service yet
    assert first.baseline_model_uri is None
    assert current_labels(serving) == {"stable": 1, "canary": 1}

    # The same data again: nothing is trained, nothing pushed.
    again = run_pipeline(config, layout)
    assert {states(again)[node] for node in TRAINED} == {"CACHED"}
    assert again.nothing_retrained
    assert again.pushed_version == "1"
    assert len(show_history(serving)) == 2       # the first push only

    # Span 2, more data: trained, compared with stable, promoted by policy.
    write_span(digits, data / "span-2", slice(20, 80))
    second = run_pipeline(config, layout)
    assert states(second)["Trainer"] == "COMPLETE"
    assert second.blessed and second.pushed_version == "2"
    assert baseline_uri(second) == source_model(version_uri(serving, 1))
    assert second.baseline_accuracy is not None
    promoted = second.accuracy >= first.accuracy
    assert current_labels(serving) == (
        {"stable": 2, "canary": 2} if promoted else {"stable": 1, "canary": 2})
    assert second.promotion and (("promote" in second.promotion.lower())
                                 if promoted else "Not promoting" in
                                 second.promotion)

    if not promoted:            # the policy said no: the team decides
        promote(serving, force=True, reason="loop test: promote span 2")
    assert current_labels(serving)["stable"] == 2

    # A degraded span: compared with stable 2, refused, nothing serving
    # changes.
    write_span(digits, data / "span-3", slice(20, 80), shuffle_labels=True)
    degraded = run_pipeline(config, layout)
    assert degraded.blessed is False and degraded.pushed_version is None
    assert baseline_uri(degraded) == source_model(version_uri(serving, 2))
    assert current_labels(serving) == {"stable": 2, "canary": 2}

    # The team rolls back to version 1: the next run judges the same
    # candidate against the rolled-back stable, without training again.
    rollback(serving, reason="loop test")
    assert current_labels(serving)["stable"] == 1
    after = run_pipeline(config, layout)
    assert states(after)["Trainer"] == "CACHED"
    assert states(after)["Evaluator"] == "COMPLETE"
    assert baseline_uri(after) == source_model(version_uri(serving, 1))
    assert after.blessed is False
    assert current_labels(serving) == {"stable": 1, "canary": 1}
