"""Which versions are served and how swaps behave, without TensorFlow.

The load step is a small function reading a text file, so the swap rules
(availability first, refused versions, labels) run in milliseconds; the
same rules run against the real model in test_hot_swap.py.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from tensorflow_serving.config import file_system_storage_path_source_pb2 as source_pb2

from imgpipe.serving.errors import ServingError
from imgpipe.serving.served_model import ServedModel, version_status_entries
from imgpipe_components.model_store.versions import folder_fingerprint, version_folders
from imgpipe.serving.version_policy import aspired_versions


def policy(text: str):
    from google.protobuf import text_format
    return text_format.Parse(
        text, source_pb2.FileSystemStoragePathSourceConfig
        .ServableVersionPolicy())


def make_version(base: Path, version: int, content: str = "ok") -> None:
    (base / str(version)).mkdir(parents=True, exist_ok=True)
    (base / str(version) / "model.txt").write_text(content)


def text_loader(name: str, version: int, folder: Path):
    """Loads a 'model' that is the text of model.txt; 'bad' fails."""
    path = folder / "model.txt"
    if not path.exists() or path.read_text() == "bad":
        raise ServingError("DATA_LOSS", f"cannot load {folder}")
    return type("Servable", (), {"version": version,
                                 "text": path.read_text()})()


def test_version_folders_are_numbered_folders_only(tmp_path):
    make_version(tmp_path, 2)
    make_version(tmp_path, 10)
    (tmp_path / ".staging-11").mkdir()
    (tmp_path / "models.config").write_text("")
    (tmp_path / "7").write_text("a file, not a folder")
    assert sorted(version_folders(str(tmp_path))) == [2, 10]
    assert version_folders(str(tmp_path / "missing")) == {}


@pytest.mark.parametrize("text, expected", [
    ("", {9}),                                  # TF Serving's default
    ("latest { num_versions: 2 }", {5, 9}),
    ("all {}", {1, 5, 9}),
    ("specific { versions: 1 versions: 4 }", {1}),
])
def test_aspired_versions_follow_the_policy(text, expected):
    chosen = policy(text) if text else None
    assert aspired_versions(chosen, [1, 5, 9]) == expected


def test_fingerprint_changes_when_a_file_changes(tmp_path):
    make_version(tmp_path, 1)
    before = folder_fingerprint(tmp_path / "1")
    assert folder_fingerprint(tmp_path / "1") == before
    (tmp_path / "1" / "variables").mkdir()
    (tmp_path / "1" / "variables" / "data").write_text("more")
    assert folder_fingerprint(tmp_path / "1") != before


def test_new_version_replaces_old_only_once_loaded(tmp_path):
    make_version(tmp_path, 1)
    model = ServedModel("m", str(tmp_path), text_loader)
    model.reconcile(None, {})
    held = model.resolve()                      # a request in flight
    make_version(tmp_path, 2)
    model.reconcile(None, {})
    assert model.resolve().version == 2
    assert held.version == 1                    # still usable by its request
    states = dict(version_status_entries(model, None))
    assert states[1].state == "END" and states[1].error_code == "OK"
    assert states[2].state == "AVAILABLE"


def test_refused_version_keeps_the_old_one_and_retries_when_changed(tmp_path):
    make_version(tmp_path, 1)
    model = ServedModel("m", str(tmp_path), text_loader)
    model.reconcile(None, {})
    make_version(tmp_path, 2, "bad")
    model.reconcile(None, {})
    model.reconcile(None, {})                   # not retried: unchanged
    assert model.resolve().version == 1
    refused = model.states()[2]
    assert (refused.state, refused.error_code) == ("END", "DATA_LOSS")
    make_version(tmp_path, 2, "fixed now")      # the copy completed
    model.reconcile(None, {})
    assert model.resolve().version == 2 and model.resolve().text == "fixed now"


def test_labels_move_only_to_loaded_versions(tmp_path):
    make_version(tmp_path, 1)
    make_version(tmp_path, 2, "bad")
    two = policy("specific { versions: 1 versions: 2 }")
    model = ServedModel("m", str(tmp_path), text_loader)
    model.reconcile(two, {"stable": 1, "canary": 1})
    model.reconcile(two, {"stable": 1, "canary": 2})
    assert model.labels() == {"stable": 1, "canary": 1}   # held back
    assert model.resolve(label="canary").version == 1
    with pytest.raises(ServingError) as unknown:
        model.resolve(label="nope")
    assert unknown.value.http_status == 400     # as TF Serving: InvalidArgument
    with pytest.raises(ServingError, match=r"Specific\(m, 7\)") as missing:
        model.resolve(version=7)
    assert missing.value.http_status == 404


def test_unlabelled_versions_leave_when_the_policy_drops_them(tmp_path):
    for version in (1, 2, 3):
        make_version(tmp_path, version)
    model = ServedModel("m", str(tmp_path), text_loader)
    model.reconcile(policy("all {}"), {"stable": 1})
    assert sorted(model.states()) == [1, 2, 3]
    model.reconcile(policy("specific { versions: 3 }"), {"stable": 1})
    # Version 1 stays while a label points at it.
    assert sorted(v for v, s in model.states().items()
                  if s.state == "AVAILABLE") == [1, 3]
