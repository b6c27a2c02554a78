"""A new user's folder of images, end to end on the command line.

`imgpipe run` on a folder with a space in its name, started from one
working folder, names the model after the data; the commands its summary
suggests, and promote, history, export-edge and predict given only
`--output OUT`, work from another working folder and write nothing there.
"""
from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

IMGPIPE = str(Path(sys.executable).parent / "imgpipe")


def imgpipe(*args, cwd: Path, timeout: int = 900):
    return subprocess.run([IMGPIPE, *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=timeout)


def suggested(text: str, command: str) -> list:
    """The argv of the summary's suggested `imgpipe COMMAND ...` line."""
    line = next(line.strip() for line in text.splitlines()
                if line.strip().startswith(f"imgpipe {command}"))
    return shlex.split(line)[1:]


@pytest.mark.e2e
def test_a_run_and_the_commands_on_it_from_other_folders(digits_subset,
                                                          tmp_path):
    data = tmp_path / "my photos"
    shutil.copytree(digits_subset, data)
    started_in, elsewhere = tmp_path / "here", tmp_path / "elsewhere"
    started_in.mkdir()
    elsewhere.mkdir()
    output = tmp_path / "my out"

    run = imgpipe("run", "--data", data, "--output", "../my out",
                  "--image-size", "16", "--epochs", "3",
                  "--min-accuracy", "0.5", cwd=started_in)
    assert run.returncode == 0, run.stderr[-3000:]
    said = run.stderr
    assert "Model: my_photos" in said
    assert "Version 1 is stable and served." in said
    assert "canary" not in said and "imgpipe promote" not in said
    assert json.loads((output / "imgpipe.json").read_text())[
        "model_name"] == "my_photos"
    model_dir = output / "serving" / "my_photos"
    assert (model_dir / "1" / "saved_model.pb").is_file()
    assert suggested(said, "serve") == ["serve", "--output", str(output)]

    promoted = imgpipe("promote", "--output", output, cwd=elsewhere)
    assert promoted.returncode == 0, promoted.stderr
    assert "version 1 is already stable" in promoted.stdout
    shown = imgpipe("history", "--output", output, "--json", cwd=elsewhere)
    changes = [json.loads(line) for line in shown.stdout.splitlines()]
    assert [(c["model"], c["action"], c["label"], c["to_version"])
            for c in changes] == [("my_photos", "push", "stable", 1),
                                  ("my_photos", "push", "canary", 1)]

    image = next((data / "7").iterdir())
    predicted = imgpipe(*suggested(said, "predict")[:-1], image,
                        cwd=elsewhere)
    assert predicted.returncode == 0, predicted.stderr
    assert predicted.stdout.startswith(f"{image}: ")

    exported = imgpipe("export-edge", "--output", output, "--format",
                       "float32", cwd=elsewhere)
    assert exported.returncode == 0, exported.stderr[-3000:]
    assert (output / "edge" / "my_photos" / "1" / "model_float32.tflite"
            ).is_file()
    assert list(elsewhere.iterdir()) == []       # nothing written here

    nothing = imgpipe("promote", cwd=elsewhere)  # ./output holds no run
    assert nothing.returncode == 2
    assert "holds no imgpipe run" in " ".join(nothing.stderr.split())
    assert list(elsewhere.iterdir()) == []
