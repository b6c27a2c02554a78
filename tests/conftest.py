"""Shared fixtures.

`pipeline_run` runs the real pipeline once per test session on a small slice
of the digits data and is shared by every test that needs a trained, pushed
model (end-to-end, serving, CLI), so the suite pays for training once.
"""
from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

# The process set-up (Keras 2 for tf.keras, quiet TensorFlow) before any test
# module imports TFMA or TensorFlow, whatever the test order.
import imgpipe_components  # noqa: F401

# Small but real: 60 digits per class, 3 epochs, 16x16 inputs, with the
# optional TFLite exports so the model report shows every section.
FIXTURE_IMAGES_PER_CLASS = 60


@dataclasses.dataclass
class PipelineRun:
    config: object          # imgpipe.config.PipelineConfig
    layout: object          # imgpipe.runners.local.layout.LocalLayout
    first: object           # summary of the cold run
    second: object          # summary of the re-run on unchanged data

    @property
    def serving_dir(self) -> Path:
        return Path(self.layout.serving_dir(self.config.model_name))


def write_digit_subset(root: Path, per_class: int) -> Path:
    """The first `per_class` digits of each class, as a class-folder tree."""
    from imgpipe.digits import write_digits
    full = write_digits(root.parent / "digits_full")
    for class_dir in sorted(full.iterdir()):
        target = root / class_dir.name
        target.mkdir(parents=True, exist_ok=True)
        for image in sorted(class_dir.iterdir())[:per_class]:
            shutil.copy(image, target / image.name)
    return root


@pytest.fixture(scope="session")
def digits_subset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data") / "digits"
    return write_digit_subset(root, FIXTURE_IMAGES_PER_CLASS)


@pytest.fixture(scope="session")
def small_config():
    from imgpipe.config import (EdgeConfig, EvalConfig, PipelineConfig,
                                TrainConfig, TransformConfig)
    return PipelineConfig(
        transform=TransformConfig(image_size=16),
        train=TrainConfig(epochs=3),
        edge=EdgeConfig(enabled=True),
        evaluation=EvalConfig(min_accuracy=0.5))


@pytest.fixture(scope="session")
def pipeline_run(small_config, digits_subset, tmp_path_factory
                 ) -> PipelineRun:
    from imgpipe.runners.local.layout import LocalLayout
    from imgpipe.runners.local.runner import run_pipeline
    layout = LocalLayout(digits_subset, tmp_path_factory.mktemp("output"))
    first = run_pipeline(small_config, layout)
    second = run_pipeline(small_config, layout)
    return PipelineRun(small_config, layout, first, second)
