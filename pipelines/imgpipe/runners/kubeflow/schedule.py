"""Recurring runs, idempotent by name.

`imgpipe kubeflow schedule` is run again whenever the spec, the cron or a
parameter changes, and by CI on every deploy: it must not pile up recurring
runs. A recurring run is identified by its name within the namespace (not
the experiment: moving a schedule to another experiment must not leave the
old one running):

- none of that name: one is created;
- one with every field `schedule_run` sets equal (experiment, pipeline and
  version, cron, parameters, pipeline root, service account, max
  concurrency, catch-up, enabled): left alone;
- one that differs: refused, naming each difference, unless `replace` is
  set. KFP's v2beta1 API has no update for recurring runs (create, get,
  list, enable, disable, delete), so replacing creates the new one first
  and only then deletes the old: a failed create leaves the old schedule
  running, never none.
"""
from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional

from imgpipe.runners.kubeflow.client import (Connection, PipelinePackage,
                                             Target, ensure_pipeline_version,
                                             experiment_id_for, name_filter,
                                             quiet_stdout)


class ScheduleConflict(ValueError):
    """A different recurring run of that name exists."""


@dataclasses.dataclass(frozen=True)
class Scheduled:
    recurring_run_id: str
    action: str     # "created", "unchanged" or "replaced"


def check_cron(cron: str) -> str:
    """KFP's scheduler reads six fields, seconds first (robfig/cron)."""
    fields = cron.split()
    if len(fields) != 6:
        hint = (f" Did you mean '0 {cron}'?" if len(fields) == 5 else "")
        raise ValueError(
            f"Cron expression '{cron}' has {len(fields)} fields; KFP needs six "
            "(seconds minutes hours day-of-month month day-of-week), e.g. "
            f"'0 0 3 * * 1' for Mondays at 03:00.{hint}")
    return " ".join(fields)


MAX_CONCURRENCY = 1


def _named(client, name: str, namespace: Optional[str]) -> list:
    found = client.list_recurring_runs(
        namespace=namespace, filter=name_filter(name),
        page_size=100).recurring_runs or []
    return [r for r in found if r.display_name == name]


def _current(run) -> Dict[str, object]:
    """What a listed recurring run holds, under the names `_wanted` uses
    (v2beta1 RecurringRun: max_concurrency is an int64, i.e. a string)."""
    reference = run.pipeline_version_reference
    trigger = run.trigger.cron_schedule if run.trigger else None
    runtime = run.runtime_config
    return {
        "experiment": run.experiment_id,
        "pipeline": reference.pipeline_id if reference else None,
        "pipeline version": reference.pipeline_version_id
        if reference else None,
        "cron": trigger.cron if trigger else None,
        "parameters": (runtime.parameters if runtime else None) or {},
        "pipeline root": (runtime.pipeline_root if runtime else None) or None,
        "service account": run.service_account or None,
        "max concurrency": int(run.max_concurrency or 0),
        "catch-up": not run.no_catchup,
        "enabled": (run.mode == "ENABLE" if run.mode
                    else run.status == "ENABLED"),
    }


def _wanted(experiment_id: str, pipeline_id: str, version_id: str,
            cron: str, target: Target, pipeline_root: Optional[str]
            ) -> Dict[str, object]:
    """Every field `schedule_run` sets; None: not set, not compared."""
    return {"experiment": experiment_id, "pipeline": pipeline_id,
            "pipeline version": version_id, "cron": cron,
            "parameters": dict(target.parameters),
            "pipeline root": pipeline_root,
            "service account": target.service_account or None,
            "max concurrency": MAX_CONCURRENCY, "catch-up": False,
            "enabled": True}


def _differences(existing, wanted: Dict[str, object]) -> List[str]:
    old = _current(existing)
    return [f"{key} {old[key]!r} -> {value!r}"
            for key, value in wanted.items()
            if value is not None and old[key] != value]


def _conflict(name: str, changed: list) -> ScheduleConflict:
    what = "; ".join(", ".join(diff) or "a duplicate" for _, diff in changed)
    return ScheduleConflict(
        f"A recurring run named '{name}' already exists ({what}). Pass "
        "--replace to replace it (KFP has no update: the new one is created, "
        "then the old one deleted), or --name for a second schedule.")


def schedule_run(client, package: PipelinePackage, connection: Connection,
                 target: Target, name: str, cron: str,
                 replace: bool = False) -> Scheduled:
    """A recurring run: one at a time, and no backfill of missed slots
    (a retraining run uses the newest data anyway)."""
    cron = check_cron(cron)
    pipeline_id, version_id = ensure_pipeline_version(
        client, package, connection.namespace)
    experiment_id = experiment_id_for(client, target.experiment,
                                      connection.namespace)
    root = target.pipeline_root or package.pipeline_root
    wanted = _wanted(experiment_id, pipeline_id, version_id, cron, target,
                     root)
    with quiet_stdout():
        existing = _named(client, name, connection.namespace)
    changed = [(run, _differences(run, wanted)) for run in existing]
    keep = next((run for run, diff in changed if not diff), None)
    stale = [(run, diff) for run, diff in changed if run is not keep]
    if keep is not None and not stale:
        return Scheduled(keep.recurring_run_id, "unchanged")
    if stale and not replace:
        raise _conflict(name, stale)
    if keep is None:
        with quiet_stdout():
            keep = client.create_recurring_run(
                experiment_id=experiment_id, job_name=name,
                cron_expression=cron, max_concurrency=MAX_CONCURRENCY,
                no_catchup=True, enabled=True, pipeline_id=pipeline_id,
                version_id=version_id, params=target.parameters,
                pipeline_root=root, service_account=target.service_account)
    _delete_after_create(client, keep.recurring_run_id, stale)
    return Scheduled(keep.recurring_run_id,
                     "replaced" if stale else "created")


def _delete_after_create(client, kept: str, stale: list) -> None:
    """Deletes the old recurring runs once the new one exists; a failure
    names what is left, so nothing runs twice unnoticed."""
    for run, _ in stale:
        try:
            with quiet_stdout():
                client.delete_recurring_run(run.recurring_run_id)
        except Exception as error:   # noqa: BLE001 (reported, not hidden)
            raise ScheduleConflict(
                f"Recurring run {kept} is in place, but deleting the old "
                f"{run.recurring_run_id} failed ({error}): both are "
                "scheduled. Delete the old one in the KFP UI (Recurring "
                "runs), or run this again with --replace.") from error
