"""A run that fails because the disk refuses a write, told in one paragraph.

A full disk, a read-only mount or missing permissions are the user's to
fix, not a bug to report with a traceback. They surface in many shapes: an
OSError with its errno from Python code, a TensorFlow or Beam error that
only carries the operating system's message, SQLite's own wording from the
ML Metadata store. `describe` walks the error and its causes, recognises
each shape, and names the path when one is known.
"""
from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Optional, Tuple

# errno -> (what happened, what to do)
_PROBLEMS = {
    errno.ENOSPC: ("the disk is full", "Free space on that disk (or pass "
                   "another --output), then run again"),
    errno.EDQUOT: ("the disk quota is used up", "Free space within your "
                   "quota (or pass another --output), then run again"),
    errno.EROFS: ("the file system is read-only", "Pass a writable "
                  "--output folder, or remount the disk read-write, then run "
                  "again"),
    errno.EACCES: ("permission denied", "Fix that path's permissions for "
                   "this user (or pass another --output), then run again"),
}
# How libraries that drop the errno word the same problems.
_WORDING = {
    **{os.strerror(number).lower(): number for number in _PROBLEMS},
    "database or disk is full": errno.ENOSPC,                  # SQLite
    "attempt to write a readonly database": errno.EROFS,       # SQLite
}


def _recognise(error: BaseException) -> Optional[Tuple[int, str]]:
    """(errno, path or "") when `error` itself is a disk refusal."""
    if isinstance(error, OSError) and error.errno in _PROBLEMS:
        return error.errno, str(error.filename or "")
    text = str(error).lower()
    for wording, number in _WORDING.items():
        # A bucket's 403 is about credentials, not a folder's permissions.
        if wording in text and not (number == errno.EACCES and
                                    "gs://" in text):
            return number, ""
    return None


def describe(error: BaseException, output_root: Path,
             component: Optional[str] = None,
             log_file: Optional[Path] = None) -> Optional[str]:
    """One paragraph for a disk refusal anywhere in the error's chain, or
    None when the failure is something else."""
    seen = set()
    cause: Optional[BaseException] = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        found = _recognise(cause)
        if found is not None:
            number, path = found
            what, to_do = _PROBLEMS[number]
            where = f" in component {component}" if component else ""
            on = path or f"a file under {output_root}"
            detail = " ".join(str(cause).split())[:300]
            log = f" The full log is {log_file}." if log_file else ""
            return (f"The run failed{where}: {what} on {on} "
                    f"({type(cause).__name__}: {detail}). {to_do}: "
                    "completed steps are cached, and the failed one left no "
                    f"output behind.{log}")
        cause = cause.__cause__ or cause.__context__
    return None
