"""The CLI refuses unusable data with one clear paragraph, before any work."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.images import png_bytes

IMGPIPE = [str(Path(sys.executable).parent / "imgpipe")]


def run_cli(*args, cwd):
    return subprocess.run(IMGPIPE + list(args), capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def tree(root: Path, classes: dict) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, count in classes.items():
        (root / name).mkdir()
        for index in range(count):
            (root / name / f"{index}.png").write_bytes(png_bytes())
    return root


@pytest.mark.parametrize("classes, message", [
    (None, "does not exist"),
    ({}, "holds no class folders"),
    ({"a": 3, "b": 0}, "hold no images"),
    ({"a": 3}, "single class"),
])
def test_bad_data_paths_exit_non_zero_without_a_traceback(tmp_path, classes,
                                                          message):
    data = tmp_path / "data"
    if classes is not None:
        tree(data, classes)
    result = run_cli("run", "--data", str(data), "--output",
                     str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 2
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "out" / "metadata.sqlite").exists()


def test_help_lists_the_commands(tmp_path):
    result = run_cli("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("run", "predict"):
        assert command in result.stdout
