"""The CLI refuses unusable data with one clear paragraph, before any work."""
from __future__ import annotations

import re
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


def test_pretraining_without_unlabelled_images_stops_before_any_step(
        tmp_path):
    data = tree(tmp_path / "data", {"a": 2, "b": 2})
    (data / "unlabelled").mkdir()
    result = run_cli("run", "--data", str(data), "--output",
                     str(tmp_path / "out"), "--pretrain-epochs", "2",
                     cwd=tmp_path)
    assert result.returncode == 2
    said = " ".join(result.stderr.split())
    assert f"{data / 'unlabelled'} holds no images" in said
    assert "docs/pretraining.md" in said
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "out" / "metadata.sqlite").exists()


def test_help_lists_the_commands(tmp_path):
    result = run_cli("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("run", "predict"):
        assert command in result.stdout


def _commands(group, path=()):
    """(argument path, command) for every command and sub-group."""
    for name, command in group.commands.items():
        yield (*path, name), command
        if hasattr(command, "commands"):
            yield from _commands(command, (*path, name))


def _prose(text: str) -> str:
    """Whitespace and box-drawing characters collapsed; a line that wraps
    after a hyphen ("non-\\nloopback") joined again."""
    text = re.sub(r"[\u2500-\u257f]", " ", text)
    text = re.sub(r"(?<=\w-)\s+(?=\w)", "", text)
    return " ".join(text.split())


def _help_at_80_columns(path) -> str:
    from typer.testing import CliRunner

    from imgpipe.cli.main import app

    result = CliRunner().invoke(app, [*path, "--help"],
                                env={"COLUMNS": "80"}, terminal_width=80)
    assert result.exit_code == 0, result.output
    return result.output


def test_every_help_reads_whole_at_80_columns():
    """Each option's and argument's help, each default and each command's
    summary line appear whole in the help at 80 columns: no word cut, no
    text truncated, no line wider than the terminal."""
    import typer.main

    from imgpipe.cli.main import app

    root = typer.main.get_command(app)
    for path, command in [((), root), *_commands(root)]:
        output = _help_at_80_columns(path)
        assert max(map(len, output.splitlines())) <= 80, (path, output)
        assert "\u2026" not in output, (path, output)     # an ellipsis
        shown = _prose(output)
        assert _prose(command.help.partition("\n\n")[0]) in shown, path
        for param in command.params:
            if getattr(param, "help", None):
                assert _prose(param.help) in shown, (path, param.name)
        for sub in getattr(command, "commands", {}).values():
            summary = sub.get_short_help_str(limit=1000)
            assert _prose(summary) in shown, (path, sub.name)
