"""Numbered, idempotent, atomic pushes."""
from __future__ import annotations

from imgpipe_components.push import executor
from imgpipe_components.model_store import versions


def fake_model(path):
    (path / "variables").mkdir(parents=True)
    (path / "saved_model.pb").write_bytes(b"model")
    (path / "variables" / "variables.index").write_bytes(b"index")
    return path


def test_versions_are_numbered_and_a_model_is_found_by_its_source(tmp_path):
    base = tmp_path / "serving"
    model = fake_model(tmp_path / "model")
    executor._copy_atomically(str(model), str(base), 1, "uri-a")
    executor._copy_atomically(str(model), str(base), 2, "uri-b")
    assert versions.list_versions(str(base)) == [1, 2]
    assert versions.version_holding(str(base), "uri-b") == 2
    assert versions.version_holding(str(base), "uri-c") is None
    assert (base / "2" / "saved_model.pb").read_bytes() == b"model"
    assert not list(base.glob(".staging-*"))


def test_a_leftover_staging_folder_is_replaced(tmp_path):
    base = tmp_path / "serving"
    (base / ".staging-1").mkdir(parents=True)
    (base / ".staging-1" / "junk").write_text("half")
    executor._copy_atomically(str(fake_model(tmp_path / "m")), str(base), 1,
                              "uri")
    assert not (base / "1" / "junk").exists()
    assert versions.list_versions(str(base)) == [1]
