"""Fixtures for the serving tests: a copy of the pushed model to change.

Version 1 comes from the session's one real pipeline run (`pipeline_run`);
further versions are copies of it, put in place the way the pusher does
(staging folder + rename), so they load and answer exactly like version 1.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.serving.helpers import push_copy


@pytest.fixture(scope="session")
def pushed_version(pipeline_run) -> Path:
    """The pipeline's version 1 folder (read-only: shared with e2e tests)."""
    return pipeline_run.serving_dir / "1"


@pytest.fixture(scope="session")
def digit_pngs(digits_subset) -> dict:
    """One real PNG per class, by class name."""
    return {d.name: sorted(d.iterdir())[0].read_bytes()
            for d in sorted(digits_subset.iterdir())}


@pytest.fixture
def model_base(tmp_path, pushed_version) -> Path:
    """<tmp>/serving/digits/1: a private base path the test may change."""
    base = tmp_path / "serving" / "digits"
    base.mkdir(parents=True)
    push_copy(pushed_version, base, 1)
    return base
