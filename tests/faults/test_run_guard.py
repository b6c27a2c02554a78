"""Two runs at once, and a missing or unreadable ML Metadata store.

Each case runs `imgpipe run` as a user does (a subprocess) and checks the
exit code, the message, and that nothing was started or overwritten.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from imgpipe.runners.local import run_guard

IMGPIPE = str(Path(sys.executable).parent / "imgpipe")


def imgpipe_run(data: Path, output: Path, *extra: str):
    return subprocess.run(
        [IMGPIPE, "run", "--data", str(data), "--output", str(output),
         "--image-size", "16", "--epochs", "1", *extra],
        capture_output=True, text=True, timeout=600)


def message(result) -> str:
    return " ".join((result.stdout + result.stderr).split())


def test_second_run_refuses_while_one_holds_the_output(digits_subset,
                                                       tmp_path):
    with run_guard.exclusive_run(tmp_path):
        result = imgpipe_run(digits_subset, tmp_path)
    assert result.returncode == 2
    assert f"Another imgpipe run is using {tmp_path}" in message(result)
    assert f"pid {os.getpid()}" in message(result)
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "metadata.sqlite").exists()   # nothing started


def test_lock_is_released_when_its_holder_is_killed(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; "
         "from imgpipe.runners.local.run_guard import exclusive_run\n"
         "with exclusive_run(Path(sys.argv[1])):\n"
         "    print('held', flush=True); time.sleep(600)", str(tmp_path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(run_guard.RunGuardError, match="Another imgpipe"):
            with run_guard.exclusive_run(tmp_path):
                pass
    finally:
        holder.kill()      # SIGKILL: no clean-up code runs
        holder.wait()
    with run_guard.exclusive_run(tmp_path):    # the OS released the lock
        pass


def _earlier_run(output: Path) -> None:
    (output / "pipeline_root" / "Trainer").mkdir(parents=True)
    (output / "serving" / "digits" / "1").mkdir(parents=True)


@pytest.mark.parametrize("store_bytes", [None, b""],
                         ids=["missing", "empty"])
def test_missing_store_next_to_earlier_runs_is_not_silently_recreated(
        digits_subset, tmp_path, store_bytes):
    _earlier_run(tmp_path)
    if store_bytes is not None:
        (tmp_path / "metadata.sqlite").write_bytes(store_bytes)
    result = imgpipe_run(digits_subset, tmp_path)
    assert result.returncode == 2
    text = message(result)
    assert "is missing or empty" in text and "--new-metadata" in text
    assert "Restore the file from a backup" in text
    assert "Traceback" not in result.stderr
    assert (tmp_path / "metadata.sqlite").exists() == (store_bytes is not None)


def test_corrupt_store_is_reported_and_left_untouched(digits_subset,
                                                      tmp_path):
    _earlier_run(tmp_path)
    garbage = b"this is not SQLite" * 100
    (tmp_path / "metadata.sqlite").write_bytes(garbage)
    result = imgpipe_run(digits_subset, tmp_path, "--new-metadata")
    assert result.returncode == 2
    text = message(result)
    assert "is not readable (file is not a database)" in text
    assert "move it aside" in text
    assert (tmp_path / "metadata.sqlite").read_bytes() == garbage


def test_another_sqlite_file_is_not_taken_for_the_store(tmp_path):
    import sqlite3
    from imgpipe.runners.local.layout import LocalLayout
    with sqlite3.connect(tmp_path / "metadata.sqlite") as connection:
        connection.execute("CREATE TABLE notes (text)")
    with pytest.raises(run_guard.RunGuardError,
                       match="not an ML Metadata store"):
        run_guard.check_metadata_store(LocalLayout(tmp_path, tmp_path),
                                       "digits", False)


def test_new_metadata_accepts_a_fresh_store_knowingly(tmp_path):
    from imgpipe.runners.local.layout import LocalLayout
    _earlier_run(tmp_path)
    layout = LocalLayout(tmp_path, tmp_path)
    with pytest.raises(run_guard.RunGuardError):
        run_guard.check_metadata_store(layout, "digits", False)
    run_guard.check_metadata_store(layout, "digits", True)
    # A first run on a fresh folder needs no flag.
    run_guard.check_metadata_store(LocalLayout(tmp_path, tmp_path / "new"),
                                   "digits", False)
