"""Promotion with a gs:// serving base, against the emulator: the same
actions and CLI as on disk, and no lost update between concurrent writers
(generation preconditions on models.config and the history)."""
from __future__ import annotations

import json
import threading

import pytest
from typer.testing import CliRunner

from imgpipe_components.model_store import (PromotionError, current_labels, promote,
                                register_pushed_version, rollback,
                                show_history)
from imgpipe_components.model_store import store as promote_store
from imgpipe_components.storage import gcs


def add_version(base: str, version: int, accuracy: float) -> None:
    gcs.write(gcs.join(base, str(version), "saved_model.pb"), b"model")
    gcs.write(gcs.join(base, str(version), "assets.extra/evaluation.json"),
              json.dumps({"accuracy": accuracy}).encode())


@pytest.fixture
def base(bucket) -> str:
    base = f"gs://{bucket}/serving/digits"
    add_version(base, 1, 0.90)
    register_pushed_version(base, 1, user="pipeline")
    return base


def imgpipe(*args: str):
    from imgpipe.cli.main import app
    return CliRunner().invoke(app, list(args))


def test_promote_rollback_and_history_work_on_a_bucket(base):
    add_version(base, 2, 0.95)
    register_pushed_version(base, 2)
    assert current_labels(base) == {"stable": 1, "canary": 2}
    assert promote(base, user="alice").changed
    assert current_labels(base) == {"stable": 2, "canary": 2}
    config = gcs.read(base.rsplit("/", 1)[0] + "/models.config")[0].decode()
    assert "versions: 2" in config and 'value: 2' in config
    rollback(base, reason="latency regression", user="bob")
    assert current_labels(base) == {"stable": 1, "canary": 1}
    assert [(c.user, c.action, c.label, c.from_version, c.to_version)
            for c in show_history(base)][-3:] == [
        ("alice", "promote", "stable", 1, 2),
        ("bob", "rollback", "stable", 2, 1),
        ("bob", "rollback", "canary", 2, 1)]


def test_a_worse_canary_and_a_missing_version_are_refused(base):
    add_version(base, 2, 0.80)
    register_pushed_version(base, 2)
    with pytest.raises(PromotionError, match="0.8000 < stable"):
        promote(base)
    promote(base, force=True, reason="hotfix")
    gcs.delete_tree(gcs.join(base, "1"))
    with pytest.raises(PromotionError, match="no longer in gs://"):
        rollback(base)


def test_the_cli_takes_a_gs_model_dir(base):
    add_version(base, 2, 0.95)
    register_pushed_version(base, 2)
    promoted = imgpipe("promote", "--model-dir", base)
    assert promoted.exit_code == 0, promoted.stderr
    assert "stable 1 -> 2" in promoted.stdout
    shown = imgpipe("history", "--model-dir", base, "--json")
    assert shown.exit_code == 0, shown.stderr
    rows = [json.loads(line) for line in shown.stdout.splitlines()]
    assert rows[-1]["action"] == "promote" and rows[-1]["to_version"] == 2
    back = imgpipe("rollback", "--model-dir", base, "--reason", "drift")
    assert back.exit_code == 0, back.stderr
    assert current_labels(base) == {"stable": 1, "canary": 1}


def test_concurrent_pushes_lose_no_update(base):
    """Six registrations at once: every one lands in the history, and each
    moved canary from where the previous one left it (a lost update would
    show two records starting from the same version)."""
    for version in range(2, 8):
        add_version(base, version, 0.9)
    errors = []

    def register(version: int) -> None:
        try:
            register_pushed_version(base, version)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
    threads = [threading.Thread(target=register, args=(v,))
               for v in range(2, 8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    canary = [c for c in show_history(base) if c.label == "canary"][1:]
    assert sorted(c.to_version for c in canary) == [2, 3, 4, 5, 6, 7]
    chain = [1] + [c.to_version for c in canary]
    assert [c.from_version for c in canary] == chain[:-1]
    assert current_labels(base)["canary"] == chain[-1]


def test_a_writer_that_reaches_the_history_second_is_still_in_order(
        base, monkeypatch):
    """Our config write lands first, a rival's second, and the rival
    records its change before we record ours: the history still reads in
    config order, so a rollback walks the real sequence."""
    add_version(base, 2, 0.95)
    add_version(base, 3, 0.97)
    real_append, raced = promote_store.GcsStore.append_history, []

    def append_after_a_rival(self, changes, *args):
        if not raced:
            raced.append(True)
            register_pushed_version(base, 3, user="rival")
        return real_append(self, changes, *args)
    monkeypatch.setattr(promote_store.GcsStore, "append_history",
                        append_after_a_rival)
    register_pushed_version(base, 2, user="me")
    canary = [c for c in show_history(base) if c.label == "canary"]
    assert [(c.user, c.from_version, c.to_version) for c in canary][-2:] == [
        ("me", 1, 2), ("rival", 2, 3)]
    assert canary[-2].config_generation < canary[-1].config_generation
    assert current_labels(base) == {"stable": 1, "canary": 3}


def test_a_write_that_lost_the_race_is_decided_again(base, monkeypatch):
    """Another writer changes models.config between our read and our
    write: the precondition refuses ours and the action starts again."""
    add_version(base, 2, 0.95)
    add_version(base, 3, 0.97)
    real_write, raced = promote_store.GcsStore.write_config, []

    def write_after_a_rival(self, config, generation):
        if not raced:
            raced.append(True)
            register_pushed_version(base, 3, user="rival")
        return real_write(self, config, generation)
    monkeypatch.setattr(promote_store.GcsStore, "write_config",
                        write_after_a_rival)
    register_pushed_version(base, 2, user="me")
    history = show_history(base)
    assert [(c.user, c.from_version, c.to_version) for c in history
            if c.label == "canary"][-2:] == [("rival", 1, 3), ("me", 3, 2)]
    assert current_labels(base) == {"stable": 1, "canary": 2}


def test_a_push_to_a_bucket_loads_the_version_before_moving_canary(base):
    """What a polling TF Serving reads between the two writes: the new
    version in the policy, the labels unchanged; then the label moves, its
    write conditional on the first (model_store.actions)."""
    config_uri = base.rsplit("/", 1)[0] + "/models.config"
    seen = []

    def sleep(seconds):
        seen.append((seconds, gcs.read(config_uri)[0].decode()))
    add_version(base, 2, 0.95)
    register_pushed_version(base, 2, settle_s=45, sleep=sleep)
    (waited, between), = seen
    assert waited == 45
    assert "versions: 1" in between and "versions: 2" in between
    assert "value: 2" not in between                 # canary still on 1
    assert current_labels(base) == {"stable": 1, "canary": 2}
    final = gcs.read(config_uri)[0].decode()
    assert "versions: 2" in final and "value: 2" in final
