"""A worse model is not blessed, not pushed, and the stable version stays."""
from __future__ import annotations

import random
import shutil

import pytest

pytestmark = pytest.mark.e2e


def shuffled_labels(source, target):
    """The same images with their class folders permuted: a model trained
    on them learns nothing transferable to the real eval labels."""
    images = sorted(source.glob("*/*.png"))
    classes = sorted(p.name for p in source.iterdir())
    rng = random.Random(0)
    for image in images:
        folder = target / rng.choice(classes)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(image, folder / f"{image.parent.name}-{image.name}")
    return target


def test_shuffled_label_candidate_is_refused_and_stable_keeps_serving(
        pipeline_run, digits_subset, tmp_path):
    from imgpipe_components.model_store import current_labels
    from imgpipe.runners.local.layout import LocalLayout
    from imgpipe.runners.local.runner import run_pipeline

    # A copy of the first runs' store and serving folder: the good model is
    # the model in service and version 1 is stable.
    output = tmp_path / "output"
    shutil.copytree(pipeline_run.layout.output_root, output)
    config = pipeline_run.config
    layout = LocalLayout(shuffled_labels(digits_subset, tmp_path / "shuffled"),
                         output)

    summary = run_pipeline(config, layout)

    assert summary.blessed is False
    # The good model was resolved as the baseline and evaluated beside it.
    assert summary.baseline_accuracy is not None
    assert summary.accuracy < config.evaluation.min_accuracy
    # Plain sentences with the numbers, not TFMA's threshold protos.
    assert any(f"accuracy {summary.accuracy:.4f} is below the minimum"
               in reason for reason in summary.reasons), summary.reasons
    assert not any("{" in reason for reason in summary.reasons)
    assert summary.advice.startswith("Not served: accuracy")
    assert summary.pushed_version is None
    serving = output / "serving" / config.model_name
    assert sorted(p.name for p in serving.iterdir() if p.name.isdigit()) == ["1"]
    assert current_labels(serving).get("stable") == 1
