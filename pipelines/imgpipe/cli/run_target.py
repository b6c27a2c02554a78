"""How the commands that act on a run find what they act on.

`--output OUT` names the run (default ./output); its imgpipe.json
(imgpipe.runners.local.output_record) names the model, so the model folder
and the pipeline root follow without the user repeating a path. An
explicit `--model-dir` still wins. A folder that holds no run, or a model
folder that is not there, stops the command with one paragraph and exit
code 2 before anything is written.
"""
from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Optional, Union

from imgpipe.cli.console import fail
from imgpipe.cli.options import DEFAULT_OUTPUT


def record(output: Path):
    """The output folder's OutputRecord, or exit 2 saying why there is
    none."""
    from imgpipe.runners.local.output_record import NoRunError, read

    try:
        return read(output)
    except NoRunError as error:
        fail(str(error), 2)


def model_dir(explicit: Optional[Union[str, Path]], output: Path
              ) -> Union[str, Path]:
    """`explicit` (--model-dir) when given, else the run's model folder."""
    return explicit if explicit else record(output).model_dir


def pushed_model_dir(explicit: Optional[Union[str, Path]], output: Path
                     ) -> Union[str, Path]:
    """As model_dir, and the folder must exist (a gs:// one is checked by
    the command itself)."""
    found = model_dir(explicit, output)
    if "://" in str(found) or str(found).startswith("gs:/"):
        return found
    if not Path(found).exists():
        where = ("" if explicit else
                 f" The run in {record(output).output_root} has not pushed a "
                 "model yet: it failed, or no model was blessed; see its "
                 "summary or its logs/ folder.")
        fail(f"{found} does not exist: no model has been pushed there.{where}"
             " Push one with `imgpipe run`, or pass the --output folder of a "
             "run that pushed one (or --model-dir).", 2)
    return found


def run_output(explicit: Optional[Union[str, Path]], output: Path) -> Path:
    """The output folder a command writes under: `output` when given, else
    the run that holds an explicit --model-dir (OUT/serving/MODEL, or one
    of its versions), else ./output."""
    if Path(output) != DEFAULT_OUTPUT or not explicit or \
            "://" in str(explicit):
        return Path(os.path.abspath(output))
    from imgpipe.runners.local.output_record import RECORD_NAME

    folder = Path(os.path.abspath(explicit))
    for candidate in (folder.parent.parent, folder.parent.parent.parent):
        if (candidate / RECORD_NAME).is_file() or \
                (candidate / "pipeline_root").is_dir():
            return candidate
    return Path(os.path.abspath(output))


def output_option(output: Path) -> str:
    """` --output OUT` for a suggested command, with OUT absolute so that
    it works from any folder; "" for the default ./output."""
    if Path(output) == DEFAULT_OUTPUT:
        return ""
    return f" --output {shlex.quote(os.path.abspath(output))}"
