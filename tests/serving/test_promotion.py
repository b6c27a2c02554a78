"""Promotion state in models.config: push, promote, rollback, history.

Versions are copies of the pipeline's real SavedModel with the
evaluation.json the pusher writes: a promotion or rollback loads the version
it moves `stable` to (test_servability.py covers the refusals).
"""
from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import pytest

from imgpipe_components.model_store import (PromotionError, auto_promote, current_labels,
                                promote, register_pushed_version, rollback,
                                show_history)
from imgpipe_components.model_store import models_config
from imgpipe_components.model_store.history import stable_lineage
from imgpipe_components.model_store.models_config import ServingPaths
from imgpipe_components.model_store.policy import may_promote


@pytest.fixture
def add_version(pushed_version):
    """Put a version in place: the real model, with a recorded accuracy."""
    def add(model_dir: Path, version: int, accuracy=None) -> None:
        folder = model_dir / str(version)
        shutil.copytree(pushed_version, folder)
        evaluation = folder / "assets.extra" / "evaluation.json"
        evaluation.unlink(missing_ok=True)
        if accuracy is not None:
            evaluation.write_text(json.dumps({"accuracy": accuracy}))
    return add


@pytest.fixture
def model_dir(tmp_path, add_version) -> Path:
    folder = tmp_path / "serving" / "digits"
    add_version(folder, 1, accuracy=0.90)
    register_pushed_version(folder, 1, user="pipeline")
    return folder


def test_first_push_is_stable_and_canary_in_a_tf_serving_config(model_dir):
    text = (model_dir.parent / "models.config").read_text()
    assert current_labels(model_dir) == {"stable": 1, "canary": 1}
    for expected in ('name: "digits"', f'base_path: "{model_dir}"',
                     'model_platform: "tensorflow"', "specific {",
                     "versions: 1"):
        assert expected in text
    first = show_history(model_dir)
    assert [(c.label, c.from_version, c.to_version) for c in first] == [
        ("stable", None, 1), ("canary", None, 1)]
    assert first[0].user == "pipeline" and first[0].action == "push"


def test_a_better_canary_is_promoted_and_the_policy_loads_both(
        model_dir, add_version):
    add_version(model_dir, 2, accuracy=0.95)
    register_pushed_version(model_dir, 2)
    assert current_labels(model_dir) == {"stable": 1, "canary": 2}
    config = models_config.read_config(model_dir.parent / "models.config")
    entry = models_config.find_model(config, "digits")
    assert list(entry.model_version_policy.specific.versions) == [1, 2]
    result = promote(model_dir, user="alice")
    assert result.changed
    assert current_labels(model_dir) == {"stable": 2, "canary": 2}
    change = show_history(model_dir)[-1]
    assert (change.user, change.action, change.from_version,
            change.to_version) == ("alice", "promote", 1, 2)
    assert "0.9500 >= stable version 1's 0.9000" in change.reason


def test_a_worse_canary_is_refused_unless_forced_with_a_reason(
        model_dir, add_version):
    add_version(model_dir, 2, accuracy=0.80)
    register_pushed_version(model_dir, 2)
    with pytest.raises(PromotionError, match="0.8000 < stable"):
        promote(model_dir)
    with pytest.raises(PromotionError, match="needs a --reason"):
        promote(model_dir, force=True)
    assert current_labels(model_dir)["stable"] == 1
    promote(model_dir, force=True, reason="hotfix for class 7")
    change = show_history(model_dir)[-1]
    assert change.action == "force-promote" and "hotfix" in change.reason
    assert current_labels(model_dir)["stable"] == 2


def test_missing_evaluations_are_not_a_pass():
    assert not may_promote(2, None, 1, {"accuracy": 0.9}).allowed
    assert not may_promote(2, {"accuracy": 0.9}, 1, {}).allowed
    assert may_promote(2, {"accuracy": 0.9}, 1, {"accuracy": 0.9}).allowed


def test_rollback_walks_back_through_stable_versions(model_dir, add_version):
    for version, accuracy in ((2, 0.92), (3, 0.93)):
        add_version(model_dir, version, accuracy)
        register_pushed_version(model_dir, version)
        promote(model_dir)
    rollback(model_dir, reason="latency regression", user="bob")
    assert current_labels(model_dir) == {"stable": 2, "canary": 2}
    rollback(model_dir)
    assert current_labels(model_dir) == {"stable": 1, "canary": 1}
    with pytest.raises(PromotionError, match="none to roll back to"):
        rollback(model_dir)
    changes = show_history(model_dir)
    assert [c.to_version for c in changes if c.label == "stable"] == \
        [1, 2, 3, 2, 1]
    assert stable_lineage(changes) == [1]
    assert any(c.user == "bob" and c.reason == "latency regression"
               for c in changes)


def test_rollback_refuses_a_hand_edited_config_and_a_missing_version(
        model_dir, add_version):
    add_version(model_dir, 2, accuracy=0.95)
    register_pushed_version(model_dir, 2)
    promote(model_dir)
    (model_dir / "1" / "saved_model.pb").unlink()
    with pytest.raises(PromotionError, match="no longer in"):
        rollback(model_dir)
    paths = ServingPaths.for_model(model_dir)
    config = models_config.read_config(paths.config)
    models_config.set_labels(models_config.find_model(config, "digits"),
                             {"stable": 1, "canary": 2})
    models_config.write_config_atomically(paths.config, config)
    with pytest.raises(PromotionError, match="edited by hand"):
        rollback(model_dir)


def test_auto_promote_is_off_by_default_and_never_forces(
        model_dir, add_version):
    add_version(model_dir, 2, accuracy=0.50)
    register_pushed_version(model_dir, 2)
    assert auto_promote(model_dir) is None
    refused = auto_promote(model_dir, enabled=True)
    assert not refused.changed and "0.5000 < stable" in refused.message
    add_version(model_dir, 3, accuracy=0.99)
    register_pushed_version(model_dir, 3)
    assert auto_promote(model_dir, enabled=True).changed
    assert current_labels(model_dir)["stable"] == 3


def test_history_is_append_only(model_dir, add_version):
    history_file = model_dir.parent / "promotion_history.jsonl"
    before = history_file.read_text()
    add_version(model_dir, 2, accuracy=0.95)
    register_pushed_version(model_dir, 2)
    promote(model_dir)
    after = history_file.read_text()
    assert after.startswith(before) and len(after.splitlines()) == 4
    assert all(json.loads(line)["time"] for line in after.splitlines())


def test_config_writes_are_atomic_for_a_concurrent_reader(
        model_dir, add_version):
    """A reader polling models.config (as TF Serving does) during 200
    label changes always parses a whole config."""
    add_version(model_dir, 2, accuracy=0.90)
    config_file = model_dir.parent / "models.config"
    seen, failures, done = set(), [], threading.Event()

    def read_continuously():
        while not done.is_set():
            try:
                entry = models_config.find_model(
                    models_config.read_config(config_file), "digits")
                seen.add(entry.version_labels["canary"])
            except Exception as error:  # noqa: BLE001 - any failure counts
                failures.append(repr(error))

    reader = threading.Thread(target=read_continuously)
    reader.start()
    try:
        for round_ in range(100):
            register_pushed_version(model_dir, 2 if round_ % 2 == 0 else 1)
            register_pushed_version(model_dir, 1 if round_ % 2 == 0 else 2)
    finally:
        done.set()
        reader.join()
    assert failures == [] and seen == {1, 2}
    leftovers = [p for p in config_file.parent.iterdir()
                 if p.name.endswith(".tmp")]
    assert leftovers == []


def test_a_failed_write_leaves_the_old_config(
        model_dir, monkeypatch, add_version):
    config_file = model_dir.parent / "models.config"
    before = config_file.read_text()
    add_version(model_dir, 2, accuracy=0.95)

    def crash(*_args):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        register_pushed_version(model_dir, 2)
    assert config_file.read_text() == before
    assert not [p for p in config_file.parent.iterdir() if p.suffix == ".tmp"]
    assert len(show_history(model_dir)) == 2      # nothing recorded


def test_a_broken_config_is_reported_not_guessed(model_dir):
    (model_dir.parent / "models.config").write_text("model_config_list {")
    with pytest.raises(models_config.ConfigError, match="not a valid"):
        promote(model_dir)
