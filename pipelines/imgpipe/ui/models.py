"""The model store of an output folder as the UI shows it, and the two
actions it may take.

Reads go through the model store's own functions (versions, labels,
evaluation records, promotion history: imgpipe_components.model_store),
and promote/rollback call the same `model_store.promote`/`rollback` with
the same servability check as `imgpipe promote/rollback`
(imgpipe.serving.servability.check_servable: the version loads and
answers its warm-up requests). The UI records its actions under the OS
user that runs it, marked "via imgpipe ui".
"""
from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path
from typing import Dict, List, Optional

from imgpipe.ui.files import OutputFolder
from imgpipe_components.model_store import (ConfigError, PromotionError,
                                            current_labels, show_history)
from imgpipe_components.model_store.policy import read_evaluation
from imgpipe_components.model_store.versions import (SAVED_MODEL,
                                                     version_folders)

# Where the Pusher copies the model report (push/extras.py REPORT_DIR; that
# module imports TensorFlow).
VERSION_REPORT = "assets.extra/model_report/report.html"


@dataclasses.dataclass(frozen=True)
class Version:
    number: int
    labels: List[str]
    evaluation: Optional[dict]          # assets.extra/evaluation.json
    complete: bool                      # saved_model.pb is there
    pushed: str                         # the folder's time, local
    report_url: Optional[str]


@dataclasses.dataclass(frozen=True)
class ModelView:
    name: str
    base: Path
    versions: List[Version]             # newest first
    labels: Dict[str, int]
    history: list                       # LabelChange, newest first
    problem: Optional[str] = None       # models.config unreadable...


class ActionRefused(Exception):
    """A promotion or rollback that did not happen; the message says why."""


def model_names(folder: OutputFolder) -> List[str]:
    """Models pushed into the folder: serving/<name>/ with versions."""
    try:
        candidates = sorted(p for p in folder.serving_root.iterdir()
                            if p.is_dir())
    except OSError:
        return []
    return [p.name for p in candidates if version_folders(str(p))]


def _when(path: Path) -> str:
    try:
        stamp = path.stat().st_mtime
    except OSError:
        return ""
    return datetime.datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M")


def read_model(folder: OutputFolder, name: str) -> ModelView:
    base = folder.serving_root / name
    problem = None
    try:
        labels = current_labels(base)
        history = show_history(base)[::-1]
    except (ConfigError, ValueError, OSError) as error:
        labels, history, problem = {}, [], str(error)
    report = VERSION_REPORT
    versions = [Version(
        number, sorted(label for label, v in labels.items() if v == number),
        read_evaluation(path), (path / SAVED_MODEL).exists(), _when(path),
        folder.url(path / report) if (path / report).exists() else None)
        for number, path in sorted(version_folders(str(base)).items(),
                                   reverse=True)]
    return ModelView(name, base, versions, labels, history, problem)


VERBS = {"push": "pushed", "promote": "promoted",
         "force-promote": "force-promoted", "rollback": "rolled back"}


def version_story(view: ModelView, version: int) -> str:
    """Where a pushed version stands, in a line: its labels now, and when
    it became stable, how and by whom (or when it was stable)."""
    now = " + ".join(label for label, v in sorted(
        view.labels.items(), reverse=True) if v == version) or "no label"
    stable = [c for c in view.history[::-1] if c.label == "stable"]
    since = next((i for i in range(len(stable) - 1, -1, -1)
                  if stable[i].to_version == version), None)
    if since is None:
        return now
    change = stable[since]
    if view.labels.get("stable") == version:
        verb = VERBS.get(change.action, change.action)
        return f"{now} · {verb} {_short(change.time)} by {change.user}"
    after = stable[since + 1] if since + 1 < len(stable) else None
    until = f" to {_short(after.time)}" if after else ""
    return f"{now} · was stable {_short(change.time)}{until}"


def _short(iso_time: str) -> str:
    """The history's UTC time as this machine's, month to minute."""
    try:
        moment = datetime.datetime.fromisoformat(iso_time)
    except ValueError:
        return iso_time
    return moment.astimezone().strftime("%m-%d %H:%M")


def act(folder: OutputFolder, name: str, action: str,
        reason: Optional[str], force: bool = False) -> str:
    """Promote or roll back `name`; returns the model store's message,
    raises ActionRefused with its reason."""
    from imgpipe.serving.servability import check_servable
    from imgpipe_components.model_store import history, promote, rollback
    from imgpipe_components.storage.files import StorageError

    base = folder.serving_root / name
    if name not in model_names(folder):
        raise ActionRefused(f"There is no model {name!r} in "
                            f"{folder.serving_root}.")
    user = f"{history.current_user()} via imgpipe ui"
    reason = (reason or "").strip() or None
    try:
        if action == "promote":
            result = promote(base, force=force, reason=reason, user=user,
                             check=check_servable)
        elif action == "rollback":
            result = rollback(base, reason=reason, user=user,
                              check=check_servable)
        else:
            raise ActionRefused(f"Unknown action {action!r}: promote or "
                                "rollback.")
    except (PromotionError, ConfigError, ValueError, StorageError) as error:
        raise ActionRefused(str(error)) from None
    return result.message
