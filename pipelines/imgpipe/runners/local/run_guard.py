"""What must hold before a local run touches the pipeline root and the store.

- One run at a time per output folder: two LocalDagRunners on one SQLite
  ML Metadata store and one pipeline root would race on the same
  executions and artifacts. The lock is an OS file lock (`filelock`), so a
  killed run (SIGKILL included) releases it with its process; the lock's
  note (pid, host, start time) only serves the message.
- Never a silent fresh start: ML Metadata creates an empty SQLite store
  when the file is missing, which would drop the caches and the record of
  the model in service, the baseline the next model is compared with
  (imgpipe_components.evaluate.baseline_strategy). A missing store next to
  existing artifacts or pushed versions, or a store SQLite cannot read,
  stops the run with the way to recover.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import time
from pathlib import Path
from typing import Iterator, List

import filelock

from imgpipe.runners.local.layout import LocalLayout

LOCK_FILE = ".imgpipe-run.lock"
LOCK_NOTE = ".imgpipe-run.json"


class RunGuardError(RuntimeError):
    """A run must not start; the message says why and what to do."""


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped the run and its half-written outputs are gone;
    `message` says what was kept."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@contextlib.contextmanager
def exclusive_run(output_root: Path) -> Iterator[None]:
    output_root.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(output_root / LOCK_FILE))
    note = output_root / LOCK_NOTE
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        raise RunGuardError(
            f"Another imgpipe run is using {output_root} ({_describe(note)}). "
            "Two runs on one pipeline root and metadata store would race on "
            "the same artifacts: wait for it to finish, or stop it, then run "
            "again. Completed components are cached.") from None
    try:
        note.write_text(json.dumps({
            "pid": os.getpid(), "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S %Z")}))
        yield
    finally:
        note.unlink(missing_ok=True)
        lock.release()


def _describe(note: Path) -> str:
    try:
        holder = json.loads(note.read_text())
        return (f"pid {holder['pid']} on {holder['host']}, started "
                f"{holder['started']}")
    except (OSError, ValueError, KeyError):
        return "its details are not readable"


def check_metadata_store(layout: LocalLayout, model_name: str,
                         new_metadata: bool) -> None:
    """Raises RunGuardError unless the store is readable, or absent on a
    fresh output folder, or `new_metadata` accepts starting a new one."""
    store = Path(layout.metadata_path)
    # SQLite (and so ML Metadata) takes an empty file for an empty store.
    if store.exists() and store.stat().st_size > 0:
        _check_readable(store)
        return
    history = [str(path) for path in (Path(layout.pipeline_root),
                                      Path(layout.serving_dir(model_name)))
               if path.is_dir() and any(path.iterdir())]
    if history and not new_metadata:
        raise RunGuardError(
            f"The ML Metadata store {store} is missing or empty, but "
            f"{' and '.join(history)} already hold(s) earlier runs. Starting "
            "a new store would lose the cache and the record of the model "
            "in service, the baseline the next model must beat. Restore the "
            "file from a backup and run again; or, to start over knowingly, "
            "run with --new-metadata "
            "(the pushed versions keep serving; the next model is judged by "
            "the absolute thresholds only).")


def _check_readable(store: Path) -> None:
    try:
        with contextlib.closing(sqlite3.connect(
                f"file:{store}?mode=ro", uri=True)) as connection:
            verdict = connection.execute("PRAGMA quick_check").fetchone()[0]
            tables = {row[0] for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error as error:
        verdict, tables = str(error), set()
    if verdict == "ok" and tables and "Execution" not in tables:
        verdict = "a SQLite file, but not an ML Metadata store"
    if verdict != "ok":
        raise RunGuardError(
            f"The ML Metadata store {store} is not readable ({verdict}). "
            "Restore it from a backup and run again; or move it aside and "
            "run with --new-metadata to start a new store knowingly (caches "
            "and the baseline are lost; the pushed versions keep serving).")


@contextlib.contextmanager
def interruptible(layout: LocalLayout, model_name: str) -> Iterator[None]:
    """Turns Ctrl-C inside the block into RunInterrupted, once the
    interrupted executions' output folders are removed (a second Ctrl-C
    meanwhile is ignored: the clean-up is short)."""
    from imgpipe_components.model_store.versions import list_versions

    serving_dir = layout.serving_dir(model_name)
    before = set(list_versions(serving_dir))
    try:
        yield
    except KeyboardInterrupt:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            remove_unpublished_outputs(layout)
            for staging in Path(serving_dir).glob(".staging-*"):
                shutil.rmtree(staging, ignore_errors=True)
            pushed = sorted(set(list_versions(serving_dir)) - before)
        finally:
            signal.signal(signal.SIGINT, previous)
        kept = (f"version {pushed[-1]} had been pushed to {serving_dir}"
                if pushed else "nothing was pushed")
        raise RunInterrupted(f"Interrupted; {kept}; the next run resumes "
                             "from the cached steps.") from None


def remove_unpublished_outputs(layout: LocalLayout) -> List[Path]:
    """Removes the output folders of executions that never finished
    (RUNNING or NEW in ML Metadata); returns the folders removed."""
    from ml_metadata.proto import metadata_store_pb2

    from imgpipe.runners.local.run_record import open_store

    if not Path(layout.metadata_path).is_file():
        return []
    states = metadata_store_pb2.Execution
    unfinished = [execution.id for execution in
                  open_store(layout.metadata_path).get_executions()
                  if execution.last_known_state in (states.RUNNING,
                                                    states.NEW)]
    removed = []
    root = Path(layout.pipeline_root)
    for execution_id in unfinished:
        # TFX's layout: <root>/<node>/<output key>/<execution id>, and the
        # executor's scratch folder <root>/<node>/.system/executor_execution/<id>.
        for folder in [*root.glob(f"*/*/{execution_id}"),
                       *root.glob(f"*/.system/executor_execution/"
                                  f"{execution_id}")]:
            if folder.parent.name != ".system" and folder.is_dir():
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
    return removed
