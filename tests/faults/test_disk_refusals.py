"""A read-only output folder and a full disk, as a user meets them.

Each case runs `imgpipe run` (a subprocess) on a real file system that
refuses the writes: a tmpfs mounted read-only, or one too small for the
run. Mounting needs root (CAP_SYS_ADMIN), which also makes chmod useless
here (root writes through 0o555), so without it the read-only case falls
back to chmod as a normal user, and otherwise the case is skipped with
the reason.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from tests.faults.test_run_guard import imgpipe_run, message


@contextlib.contextmanager
def tmpfs(folder: Path, options: str) -> Iterator[bool]:
    """`folder` as a tmpfs mounted with `options`; yields False when this
    machine cannot mount one."""
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs",
                              str(folder)], capture_output=True).returncode
    try:
        yield mounted == 0
    finally:
        if mounted == 0:
            subprocess.run(["umount", str(folder)], check=True)


@contextlib.contextmanager
def read_only_folder(folder: Path) -> Iterator[Path]:
    with tmpfs(folder, "ro,size=1m") as mounted:
        if mounted:
            yield folder
            return
        if os.geteuid() == 0:
            pytest.skip("cannot mount a read-only tmpfs here, and root "
                        "writes through chmod 0o555")
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)


def test_a_read_only_output_folder_is_one_paragraph_and_writes_nothing(
        digits_subset, tmp_path):
    with read_only_folder(tmp_path / "ro") as folder:
        result = imgpipe_run(digits_subset, folder / "out")
        assert not (folder / "out").exists()
    assert result.returncode == 2
    text = message(result)
    assert f"Cannot write to the output folder {folder / 'out'}" in text
    assert "Pass another folder with --output" in text
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.e2e
def test_a_full_disk_mid_run_is_one_paragraph(digits_subset, tmp_path):
    """600 KiB hold the first steps' outputs but not the run's."""
    with tmpfs(tmp_path / "small", "size=600k") as mounted:
        if not mounted:
            pytest.skip("cannot mount a small tmpfs here (needs root)")
        output = tmp_path / "small" / "out"
        result = imgpipe_run(digits_subset, output)
        leftovers = [p for p in (output / "pipeline_root").glob("*/*/*")
                     if p.parent.name != ".system" and p.is_dir() and
                     not any(p.iterdir())]
    assert result.returncode == 2, result.stderr[-2000:]
    text = message(result)
    assert "the disk is full on" in text and "Free space on that disk" in text
    assert "completed steps are cached" in text
    assert "Traceback" not in result.stdout + result.stderr
    assert leftovers == []       # no empty output folder of the failed step
