"""The append-only record of every label change: who, when, from, to, why.

One JSON object per line. Lines are only ever appended (O_APPEND, one
write per change set, flushed to disk), so a reader never sees a record
rewritten, and the history survives whatever happens to models.config.
On gs:// objects cannot be appended to: the file is rewritten whole, each
record placed by the models.config generation it wrote (store.py).
"""
from __future__ import annotations

import dataclasses
import datetime
import getpass
import json
import os
from pathlib import Path
from typing import Iterable, List, Optional


@dataclasses.dataclass(frozen=True)
class LabelChange:
    time: str                   # ISO 8601, UTC
    user: str                   # the OS user who ran the command
    model: str
    action: str                 # push | promote | force-promote | rollback
    label: str                  # stable | canary
    from_version: Optional[int]
    to_version: int
    reason: str
    # gs:// only: the models.config generation this change wrote. Two
    # writers append in the order they reach the history, which need not be
    # the order their config writes landed in; this orders them.
    config_generation: Optional[int] = None


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):   # no passwd entry, e.g. in a container
        return f"uid:{os.getuid()}"


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds")


def to_lines(changes: Iterable[LabelChange]) -> str:
    return "".join(json.dumps({key: value for key, value
                               in dataclasses.asdict(change).items()
                               if key != "config_generation"
                               or value is not None}) + "\n"
                   for change in changes)


def in_config_order(changes: Iterable[LabelChange]) -> List[LabelChange]:
    """Ordered by the config write each record made (stable: a change set
    keeps its order, records from before generations were kept first)."""
    return sorted(changes, key=lambda change: (
        -1 if change.config_generation is None else change.config_generation))


def parse(text: str, model: Optional[str] = None) -> List[LabelChange]:
    changes = [LabelChange(**json.loads(line)) for line in text.splitlines()
               if line.strip()]
    return [c for c in changes if model is None or c.model == model]


def append(path: Path, changes: Iterable[LabelChange]) -> None:
    text = to_lines(changes)
    if not text:
        return
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, text.encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def read(path: Path, model: Optional[str] = None) -> List[LabelChange]:
    try:
        return parse(Path(path).read_text(), model)
    except FileNotFoundError:
        return []


def stable_lineage(changes: Iterable[LabelChange]) -> List[int]:
    """The stack of stable versions: a promotion pushes, a rollback pops.
    Its last element is the stable version, the one before is where a
    rollback goes."""
    stack: List[int] = []
    for change in changes:
        if change.label != "stable":
            continue
        if change.action == "rollback":
            if stack and stack[-1] == change.from_version:
                stack.pop()
            if not stack or stack[-1] != change.to_version:
                stack.append(change.to_version)
        else:
            stack.append(change.to_version)
    return stack
