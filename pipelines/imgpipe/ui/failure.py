"""Why a run failed, read back from the log `imgpipe run` wrote for it.

ML Metadata marks the failed execution but keeps no message: TFX records an
executor's error only when the executor returns one, and a Python
component raises instead. `imgpipe run` logs the exception with its
traceback to OUTPUT/logs/run-<start time>.log ("The run failed in
<component>"), so the run's log is the newest one started before the run
that names the run's id, and the exception chain is read from that record.
Runs started another way (run_pipeline from Python) have no log: the page
then names the failed step only.
"""
from __future__ import annotations

import dataclasses
import functools
import os
import re
import time
from pathlib import Path
from typing import List, Optional, Tuple

LOG_NAME = "run-%Y%m%d-%H%M%S.log"        # imgpipe.cli.main._run_with_progress
FAILED_IN = "The run failed in "
# A new log record starts with the file handler's "%(asctime)s".
_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ", re.M)
_CHAINED = re.compile(
    r"^(?:The above exception was the direct cause of the following "
    r"exception:|During handling of the above exception, another exception "
    r"occurred:)$", re.M)
# Logs are named by their start, a moment before the run's first step
# (imports, the chooser, preflight: seconds, rarely a minute).
_SLACK_S = 5.0
_LEAD_S = 600.0


@dataclasses.dataclass(frozen=True)
class Failure:
    step: Optional[str]
    chain: List[str]          # "Type: message": the error, then its causes
    log: Optional[Path]


def _log_start(path: Path) -> Optional[float]:
    try:
        return time.mktime(time.strptime(path.name, LOG_NAME))
    except ValueError:
        return None


def find_log(logs_dir: Path, run_id: str, started_s: float
             ) -> Optional[Path]:
    """The log of the run that started at `started_s`: of the logs begun
    in the ten minutes before it, the newest that names the run id."""
    try:
        names = os.listdir(logs_dir)
    except OSError:
        return None
    logs = sorted(((start, logs_dir / name) for name in names
                   if (start := _log_start(Path(name))) is not None
                   and started_s - _LEAD_S <= start <= started_s + _SLACK_S),
                  reverse=True)
    for _, path in logs[:3]:
        if _mentions(str(path), run_id, *_stamp(path)):
            return path
    return None


def _stamp(path: Path) -> Tuple[int, int]:
    try:
        stat = os.stat(path)
        return stat.st_mtime_ns, stat.st_size
    except OSError:
        return 0, 0


@functools.lru_cache(maxsize=512)
def _mentions(path: str, run_id: str, _mtime: int, _size: int) -> bool:
    try:
        with open(path, errors="replace") as handle:
            return any(run_id in line for line in handle)
    except OSError:
        return False


def read_failure(log: Path) -> Optional[Tuple[str, List[str]]]:
    """(failed step, exception chain) from the log's failure record."""
    return _read_failure(str(log), *_stamp(log))


@functools.lru_cache(maxsize=256)
def _read_failure(path: str, _mtime: int, _size: int
                  ) -> Optional[Tuple[str, List[str]]]:
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return None
    start = text.rfind(FAILED_IN)
    if start < 0:
        return None
    record = text[start + len(FAILED_IN):]
    following = _RECORD.search(record)
    record = record[:following.start()] if following else record
    step, _, traceback = record.partition("\n")
    return step.strip(), exception_chain(traceback)


def exception_chain(traceback: str) -> List[str]:
    """Python prints the innermost cause first; the chain is returned
    outermost first, each as "Type: message" with the type unqualified."""
    chain = []
    for block in _CHAINED.split(traceback):
        lines = block.strip("\n").splitlines()
        # After the last frame ('  File "...", line N' and its source lines,
        # indented further) comes the exception, message lines included.
        frames = [i for i, line in enumerate(lines)
                  if line.startswith('  File "') or
                  line.startswith("Traceback (most recent call last)")]
        start = frames[-1] + 1 if frames else 0
        while start < len(lines) and lines[start].startswith("    "):
            start += 1
        message = "\n".join(lines[start:]).strip()
        if message:
            chain.append(_unqualified(message))
    return chain[::-1]


def _unqualified(message: str) -> str:
    kind, colon, rest = message.partition(":")
    if colon and re.fullmatch(r"[\w.]+", kind):
        return kind.rsplit(".", 1)[-1] + colon + rest
    return message


def failure_of(logs_dir: Path, run_id: str, started_s: float,
               failed_step: Optional[str]) -> Failure:
    log = find_log(logs_dir, run_id, started_s)
    found = read_failure(log) if log is not None else None
    if found is None:
        return Failure(failed_step, [], log)
    step, chain = found
    return Failure(failed_step or step, chain, log)
