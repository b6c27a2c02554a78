"""Push registration, promotion, rollback: each one locked, atomic, recorded.

Every action reads models.config under the lock, computes the new labels,
writes the config atomically and appends the label changes to the history,
in that order: a crash between the two leaves a config the history does not
explain yet, never a history that claims a change the config lacks.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Dict, List, Optional

from components.promote import history
from components.promote.models_config import (CANARY, STABLE, ServingPaths,
                                              add_model, find_model, labels_of,
                                              locked, read_config, set_labels,
                                              write_config_atomically)
from components.promote.policy import may_promote, read_evaluation


class PromotionError(Exception):
    """The action was refused; the message says why and what to do."""


@dataclasses.dataclass(frozen=True)
class PromotionResult:
    changed: bool
    message: str
    changes: List[history.LabelChange]


def _apply(paths: ServingPaths, action: str, new_labels: Dict[str, int],
           reason: str, user: Optional[str] = None) -> PromotionResult:
    """Write labels (caller holds the lock) and record what moved."""
    config = read_config(paths.config)
    entry = find_model(config, paths.model_name) or add_model(config, paths)
    old = labels_of(entry)
    moved = {label: version for label, version in new_labels.items()
             if old.get(label) != version}
    if not moved:
        return PromotionResult(False, "nothing to change", [])
    set_labels(entry, {**old, **new_labels})
    write_config_atomically(paths.config, config)
    when, who = history.now(), user or history.current_user()
    changes = [history.LabelChange(when, who, paths.model_name, action, label,
                                   old.get(label), version, reason)
               for label, version in sorted(moved.items(), reverse=True)]
    history.append(paths.history, changes)
    summary = ", ".join(f"{c.label} {c.from_version} -> {c.to_version}"
                        for c in changes)
    return PromotionResult(True, f"{paths.model_name}: {summary}", changes)


def register_pushed_version(model_dir: Path, version: int,
                            model_name: Optional[str] = None,
                            user: Optional[str] = None) -> PromotionResult:
    """A newly pushed version becomes canary; the very first one is also
    stable (there is nothing in service to compare it with)."""
    paths = ServingPaths.for_model(model_dir, model_name)
    with locked(paths):
        labels = labels_of(find_model(read_config(paths.config),
                                      paths.model_name))
        if STABLE not in labels:
            return _apply(paths, "push", {STABLE: version, CANARY: version},
                          "first version: nothing in service to compare "
                          "with", user)
        return _apply(paths, "push", {CANARY: version},
                      "pushed by the pipeline", user)


def _labels_or_fail(paths: ServingPaths) -> Dict[str, int]:
    labels = labels_of(find_model(read_config(paths.config), paths.model_name))
    if STABLE not in labels or CANARY not in labels:
        raise PromotionError(
            f"{paths.config} has no stable and canary labels for model "
            f"{paths.model_name}: push a version first (`imgpipe run`).")
    return labels


def promote(model_dir: Path, model_name: Optional[str] = None,
            force: bool = False, reason: Optional[str] = None,
            user: Optional[str] = None) -> PromotionResult:
    """Canary -> stable, if its accuracy is at least stable's (or forced)."""
    paths = ServingPaths.for_model(model_dir, model_name)
    if force and not (reason or "").strip():
        raise PromotionError("--force needs a --reason: it is recorded in "
                             "the promotion history.")
    with locked(paths):
        labels = _labels_or_fail(paths)
        canary, stable = labels[CANARY], labels[STABLE]
        if canary == stable:
            return PromotionResult(False, f"version {canary} is already "
                                          "stable: nothing to promote", [])
        decision = may_promote(canary, read_evaluation(paths.version_dir(canary)),
                               stable, read_evaluation(paths.version_dir(stable)))
        if not decision.allowed and not force:
            raise PromotionError(f"Not promoting version {canary}: "
                                 f"{decision.reason}.")
        why = (f"forced: {reason.strip()} (policy: {decision.reason})" if force
               and not decision.allowed else
               decision.reason + (f"; {reason.strip()}" if reason else ""))
        action = "force-promote" if force and not decision.allowed else "promote"
        return _apply(paths, action, {STABLE: canary}, why, user)


def rollback(model_dir: Path, model_name: Optional[str] = None,
             reason: Optional[str] = None,
             user: Optional[str] = None) -> PromotionResult:
    """Stable (and canary, so the bad version takes no traffic) go back to
    the stable version before this one."""
    paths = ServingPaths.for_model(model_dir, model_name)
    with locked(paths):
        labels = _labels_or_fail(paths)
        lineage = history.stable_lineage(history.read(paths.history,
                                                      paths.model_name))
        if not lineage or lineage[-1] != labels[STABLE]:
            raise PromotionError(
                f"models.config says stable is version {labels[STABLE]}, but "
                f"{paths.history.name} ends with "
                f"{lineage[-1] if lineage else 'no stable version'}: the "
                "config was edited by hand. Set the labels there yourself.")
        if len(lineage) < 2:
            raise PromotionError(f"Version {labels[STABLE]} is the first "
                                 "stable version: there is none to roll "
                                 "back to.")
        target = lineage[-2]
        if not (paths.version_dir(target) / "saved_model.pb").exists():
            raise PromotionError(f"Version {target} is no longer in "
                                 f"{paths.model_dir}: cannot roll back to it.")
        return _apply(paths, "rollback", {STABLE: target, CANARY: target},
                      (reason or "").strip() or "rollback", user)


def auto_promote(model_dir: Path, model_name: Optional[str] = None,
                 enabled: bool = False) -> Optional[PromotionResult]:
    """For the end of a pipeline run: promote the canary when the policy
    allows, never by force. Off unless `enabled`; returns None then, and a
    result saying why not when the policy refuses."""
    if not enabled:
        return None
    try:
        return promote(model_dir, model_name, reason="auto-promote at the end "
                                                     "of a pipeline run")
    except PromotionError as refusal:
        return PromotionResult(False, str(refusal), [])


def show_history(model_dir: Path, model_name: Optional[str] = None
                 ) -> List[history.LabelChange]:
    paths = ServingPaths.for_model(model_dir, model_name)
    return history.read(paths.history, paths.model_name)


def current_labels(model_dir: Path, model_name: Optional[str] = None
                   ) -> Dict[str, int]:
    """{"stable": N, "canary": M} from models.config; {} before any push.
    `stable` is the model in service, e.g. as the Evaluator's baseline."""
    paths = ServingPaths.for_model(model_dir, model_name)
    return labels_of(find_model(read_config(paths.config), paths.model_name))
