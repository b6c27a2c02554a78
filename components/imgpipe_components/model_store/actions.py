"""Push registration, promotion, rollback: each one atomic and recorded.

Every action reads models.config, decides the new labels, writes the config
and then appends the label changes to the history, in that order: a crash
between the two leaves a config the history does not explain yet, never a
history that claims a change the config lacks. On a local disk the whole
action holds a file lock; on gs:// the config write carries a generation
precondition and a writer that lost the race decides again from a fresh
read (store.py).

TF Serving refuses a config that points an existing label at a version it
has not loaded (server_core.cc, UpdateModelVersionLabelMap; with
`--allow_version_labels_for_unavailable_models` only a new label may), and
it checks the labels before it loads the policy's versions, so such a
config would never load the version it names. A push (canary onto the new
version) and a rollback (stable onto an unloaded one) are therefore written
in two steps when `settle_s` is given: first the version joins the policy
with the labels unchanged, then, `settle_s` later (at least one poll of
every server, `--model_config_file_poll_wait_seconds`), the labels move. A
server still loading the version refuses the second config and takes it at
a later poll, once the version is AVAILABLE.
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple, Union

from imgpipe_components.model_store import history
from imgpipe_components.model_store.models_config import (CANARY, STABLE, add_model,
                                              find_model, labels_of,
                                              set_labels)
from imgpipe_components.model_store.policy import may_promote
from imgpipe_components.model_store.servable import (NotServable, ServableCheck,
                                          is_complete)
from imgpipe_components.model_store.store import ConcurrentUpdate, open_store

ModelDir = Union[str, Path]
MAX_ATTEMPTS = 20        # concurrent writers on gs:// before giving up


class PromotionError(Exception):
    """The action was refused; the message says why and what to do."""


@dataclasses.dataclass(frozen=True)
class PromotionResult:
    changed: bool
    message: str
    changes: List[history.LabelChange]


# What an action decides from the current labels: (action, labels to set,
# reason), or a PromotionResult when there is nothing to do.
Plan = Union[Tuple[str, Dict[str, int], str], PromotionResult]


def _to_load_first(entry, old: Dict[str, int],
                   moved: Dict[str, int]) -> List[int]:
    """Versions that existing labels move onto and the current policy does
    not load: a running TF Serving refuses the move until they are loaded."""
    loaded = set(entry.model_version_policy.specific.versions)
    return sorted({version for label, version in moved.items()
                   if label in old and version not in loaded})


def _load_first(store, config, entry, versions: List[int], token):
    """Step one of a two-step write: the policy also loads `versions`,
    every label stays where it is. Returns the new write token."""
    entry.model_version_policy.specific.versions.extend(versions)
    return store.write_config(config, token)


def _transact(store, decide: Callable[[Dict[str, int]], Plan],
              user: Optional[str] = None, settle_s: float = 0.0,
              sleep: Callable[[float], None] = time.sleep
              ) -> PromotionResult:
    """Read the labels, decide, write the config (in two steps when a label
    moves onto a version the servers have not loaded and `settle_s` > 0),
    record the changes."""
    if not store.exists():
        raise PromotionError(
            f"{store.base_path} does not exist: no model has been pushed "
            "there. Push a version first (`imgpipe run`), or pass the model "
            "folder of a run (--output OUT, or --model-dir).")
    for _ in range(MAX_ATTEMPTS):
        with store.lock():
            config, token = store.read_config()
            entry = (find_model(config, store.model_name)
                     or add_model(config, store.model_name, store.base_path))
            old = labels_of(entry)
            plan = decide(old)
            if isinstance(plan, PromotionResult):
                return plan
            action, new_labels, reason = plan
            moved = {label: version for label, version in new_labels.items()
                     if old.get(label) != version}
            if not moved:
                return PromotionResult(False, "nothing to change", [])
            load_first = _to_load_first(entry, old, moved) if settle_s > 0 \
                else []
            try:
                if load_first:
                    token = _load_first(store, config, entry, load_first,
                                        token)
                    sleep(settle_s)
                set_labels(entry, {**old, **new_labels})
                written = store.write_config(config, token)
            except ConcurrentUpdate:
                continue            # another writer came first: decide again
            when, who = history.now(), user or history.current_user()
            changes = [history.LabelChange(when, who, store.model_name,
                                           action, label, old.get(label),
                                           version, reason, written)
                       for label, version in sorted(moved.items(),
                                                    reverse=True)]
            store.append_history(changes)
            summary = ", ".join(f"{c.label} {c.from_version} -> "
                                f"{c.to_version}" for c in changes)
            return PromotionResult(True, f"{store.model_name}: {summary}",
                                   changes)
    raise PromotionError(f"{store.where} kept changing while this action "
                         f"ran ({MAX_ATTEMPTS} tries): other writers are "
                         "busy; try again.")


def register_pushed_version(model_dir: ModelDir, version: int,
                            model_name: Optional[str] = None,
                            user: Optional[str] = None, settle_s: float = 0.0,
                            sleep: Callable[[float], None] = time.sleep
                            ) -> PromotionResult:
    """A newly pushed version becomes canary; the very first one is also
    stable (there is nothing in service to compare it with). With
    `settle_s`, the version is loaded first and canary moves `settle_s`
    later (module docstring)."""
    def decide(labels: Dict[str, int]) -> Plan:
        if STABLE not in labels:
            return ("push", {STABLE: version, CANARY: version},
                    "first version: nothing in service to compare with")
        return "push", {CANARY: version}, "pushed by the pipeline"
    return _transact(open_store(model_dir, model_name), decide, user,
                     settle_s, sleep)


def _require_labels(store, labels: Dict[str, int]) -> None:
    if STABLE not in labels or CANARY not in labels:
        raise PromotionError(
            f"{store.where} has no stable and canary labels for model "
            f"{store.model_name}: push a version first (`imgpipe run`).")


def _require_servable(store, version: int, server: Optional[str],
                      action: str, check: ServableCheck) -> None:
    """Even --force cannot move a label onto a version that cannot serve:
    the next server to start would serve nothing (servable.py)."""
    try:
        check(store.base_path, store.model_name, version, server)
    except NotServable as why:
        raise PromotionError(f"Not {action} version {version}: {why}. Push "
                             "a version that loads, or fix this one.") from None


def promote(model_dir: ModelDir, model_name: Optional[str] = None,
            force: bool = False, reason: Optional[str] = None,
            user: Optional[str] = None,
            server: Optional[str] = None,
            check: ServableCheck = is_complete) -> PromotionResult:
    """Canary -> stable, if its accuracy is at least stable's (or forced)
    and `check` finds it servable (the CLI passes the server's own check:
    it loads, answers its warm-up requests and, given a `server` URL, is
    AVAILABLE there)."""
    store = open_store(model_dir, model_name)
    if force and not (reason or "").strip():
        raise PromotionError("--force needs a --reason: it is recorded in "
                             "the promotion history.")

    def decide(labels: Dict[str, int]) -> Plan:
        _require_labels(store, labels)
        canary, stable = labels[CANARY], labels[STABLE]
        if canary == stable:
            return PromotionResult(False, f"version {canary} is already "
                                          "stable: nothing to promote", [])
        decision = may_promote(canary, store.evaluation(canary),
                               stable, store.evaluation(stable))
        if not decision.allowed and not force:
            raise PromotionError(f"Not promoting version {canary}: "
                                 f"{decision.reason}.")
        _require_servable(store, canary, server, "promoting", check)
        why = (f"forced: {reason.strip()} (policy: {decision.reason})" if force
               and not decision.allowed else
               decision.reason + (f"; {reason.strip()}" if reason else ""))
        action = "force-promote" if force and not decision.allowed else "promote"
        return action, {STABLE: canary}, why
    return _transact(store, decide, user)


def rollback(model_dir: ModelDir, model_name: Optional[str] = None,
             reason: Optional[str] = None, user: Optional[str] = None,
             server: Optional[str] = None,
             check: ServableCheck = is_complete, settle_s: float = 0.0,
             sleep: Callable[[float], None] = time.sleep) -> PromotionResult:
    """Stable (and canary, so the bad version takes no traffic) go back to
    the stable version before this one; with `settle_s`, once the servers
    had time to load it again (module docstring)."""
    store = open_store(model_dir, model_name)

    def decide(labels: Dict[str, int]) -> Plan:
        _require_labels(store, labels)
        lineage = history.stable_lineage(store.history())
        if not lineage or lineage[-1] != labels[STABLE]:
            raise PromotionError(
                f"models.config says stable is version {labels[STABLE]}, but "
                "promotion_history.jsonl ends with "
                f"{lineage[-1] if lineage else 'no stable version'}: the "
                "config was edited by hand. Set the labels there yourself.")
        if len(lineage) < 2:
            raise PromotionError(f"Version {labels[STABLE]} is the first "
                                 "stable version: there is none to roll "
                                 "back to.")
        target = lineage[-2]
        if not store.has_version(target):
            raise PromotionError(f"Version {target} is no longer in "
                                 f"{store.base_path}: cannot roll back to it.")
        _require_servable(store, target, server, "rolling back to", check)
        return ("rollback", {STABLE: target, CANARY: target},
                (reason or "").strip() or "rollback")
    return _transact(store, decide, user, settle_s, sleep)


def auto_promote(model_dir: ModelDir, model_name: Optional[str] = None,
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


def show_history(model_dir: ModelDir, model_name: Optional[str] = None
                 ) -> List[history.LabelChange]:
    return open_store(model_dir, model_name).history()


def current_labels(model_dir: ModelDir, model_name: Optional[str] = None
                   ) -> Dict[str, int]:
    """{"stable": N, "canary": M} from models.config; {} before any push.
    `stable` is the model in service, e.g. as the Evaluator's baseline."""
    store = open_store(model_dir, model_name)
    config, _ = store.read_config()
    return labels_of(find_model(config, store.model_name))
