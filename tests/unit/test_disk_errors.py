"""A disk that refuses a write is the user's to fix: one paragraph naming
the path and what to do, whatever shape the error takes on its way up."""
from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest

from imgpipe.cli.disk_errors import describe
from imgpipe.runners.local import preflight

OUT = Path("/runs/out")


def _chained(outer: BaseException, inner: BaseException) -> BaseException:
    try:
        try:
            raise inner
        except BaseException as cause:
            raise outer from cause
    except BaseException as error:
        return error


def test_a_full_disk_deep_in_a_chain_names_the_file():
    error = _chained(RuntimeError("Beam stage failed"), OSError(
        errno.ENOSPC, "No space left on device", "/runs/out/x/data.tfrecord"))
    text = describe(error, OUT, "Transform", Path("/runs/out/logs/run.log"))
    assert text.startswith("The run failed in component Transform: the disk "
                           "is full on /runs/out/x/data.tfrecord")
    assert "Free space on that disk" in text
    assert "completed steps are cached" in text
    assert text.endswith("The full log is /runs/out/logs/run.log.")


@pytest.mark.parametrize("error, what", [
    # TensorFlow's file errors carry the OS message, not the errno.
    (RuntimeError("/runs/out/a.gif; No space left on device"),
     "the disk is full"),
    (sqlite3.OperationalError("database or disk is full"), "the disk is full"),
    (OSError(errno.EROFS, "Read-only file system"), "read-only"),
    (sqlite3.OperationalError("attempt to write a readonly database"),
     "read-only"),
    (PermissionError(errno.EACCES, "Permission denied", "/data/cat/x.png"),
     "permission denied on /data/cat/x.png"),
])
def test_each_shape_of_a_disk_refusal_is_recognised(error, what):
    text = describe(error, OUT)
    assert text is not None and what in text
    assert "Traceback" not in text


@pytest.mark.parametrize("error", [
    ValueError("the model did not converge"),
    RuntimeError("403 Permission denied on gs://bucket/data"),   # credentials
    OSError(errno.ENOENT, "No such file or directory", "/data/x"),
])
def test_other_failures_are_left_to_the_general_report(error):
    assert describe(error, OUT) is None


def test_an_unwritable_output_folder_is_refused_before_any_work(tmp_path):
    """/proc takes no new folders, even from root."""
    target = Path("/proc/imgpipe-no-such-folder/out")
    with pytest.raises(preflight.OutputPathError) as refused:
        preflight.check_output_root(target)
    text = str(refused.value)
    assert text.startswith(f"Cannot write to the output folder {target}")
    assert "Pass another folder with --output" in text
    assert not target.parent.exists()


def test_a_file_in_the_way_is_refused_and_left_alone(tmp_path):
    blocker = tmp_path / "out"
    blocker.write_text("notes")
    with pytest.raises(preflight.OutputPathError, match="not a folder"):
        preflight.check_output_root(blocker)
    assert blocker.read_text() == "notes"


def test_folders_made_by_a_failed_check_are_removed(tmp_path, monkeypatch):
    import tempfile

    def refuse(**_):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(preflight.OutputPathError, match="No space left"):
        preflight.check_output_root(tmp_path / "new" / "out")
    assert list(tmp_path.iterdir()) == []
