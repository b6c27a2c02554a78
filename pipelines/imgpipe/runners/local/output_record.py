"""What an output folder holds: `imgpipe.json`, written by each local run.

The commands that act on a run (promote, rollback, history, serve, predict,
explain, export-edge) take `--output OUT` and find the model folder and the
pipeline root here, so a user never repeats the model name or the data
path, and a command works the same from any working folder. The record is
small and written whole (a temporary file renamed over the old one).

An output folder from before the record existed is still found when its
serving folder holds exactly one model.
"""
from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path
from typing import Union

from imgpipe.runners.local.layout import LocalLayout

RECORD_NAME = "imgpipe.json"


class NoRunError(ValueError):
    """The folder holds no local run; the message says what to do."""


@dataclasses.dataclass(frozen=True)
class OutputRecord:
    model_name: str
    data_root: str
    pipeline_name: str
    output_root: Path

    @property
    def layout(self) -> LocalLayout:
        return LocalLayout(self.data_root, self.output_root)

    @property
    def model_dir(self) -> Path:
        """TF Serving's base path of the run's model."""
        return Path(self.layout.serving_dir(self.model_name))

    @property
    def pipeline_root(self) -> Path:
        return Path(self.layout.pipeline_root)


def write(layout: LocalLayout, model_name: str, pipeline_name: str) -> Path:
    """Records the run's model in its output folder, replacing the record
    of an earlier run."""
    path = layout.output_root / RECORD_NAME
    text = json.dumps({"model_name": model_name,
                       "data_root": layout.data_root,
                       "pipeline_name": pipeline_name}, indent=2) + "\n"
    handle, temporary = tempfile.mkstemp(prefix=f".{RECORD_NAME}.",
                                         dir=layout.output_root)
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def read(output: Union[str, Path]) -> OutputRecord:
    """The record of the latest run in `output`; NoRunError when the folder
    holds none."""
    root = Path(os.path.abspath(output))
    path = root / RECORD_NAME
    try:
        values = json.loads(path.read_text())
        return OutputRecord(str(values["model_name"]),
                            str(values["data_root"]),
                            str(values.get("pipeline_name", "imgpipe")), root)
    except FileNotFoundError:
        return _from_serving_folder(root)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise NoRunError(
            f"{path} cannot be read ({error}): it names the model of the "
            f"runs in {root}. Run `imgpipe run --output {root}` again to "
            "write it, or pass the model folder with --model-dir.") from None


def _from_serving_folder(root: Path) -> OutputRecord:
    """An output folder of a run older than the record: its one model."""
    serving = root / "serving"
    models = sorted(p.name for p in serving.iterdir()
                    if p.is_dir() and not p.name.startswith(".")) \
        if serving.is_dir() else []
    if len(models) == 1:
        return OutputRecord(models[0], "", "imgpipe", root)
    what = (f"holds several models ({', '.join(models)}) and no "
            f"{RECORD_NAME} says which is the run's" if models else
            "holds no imgpipe run" + ("" if root.exists()
                                      else " (it does not exist)"))
    raise NoRunError(
        f"The output folder {root} {what}. Pass the --output folder of an "
        "`imgpipe run` (default ./output, relative to the current folder), "
        "or the model folder itself with --model-dir.")
