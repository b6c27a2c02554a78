"""Recurring runs, idempotent by name.

`imgpipe kubeflow schedule` is run again whenever the spec, the cron or a
parameter changes, and by CI on every deploy: it must not pile up recurring
runs. A recurring run is identified by its name within the experiment:

- none of that name: one is created;
- one with the same spec version, cron and parameters: left alone;
- one that differs: refused, naming what differs, unless `replace` is set.
  KFP's v2beta1 API has no update for recurring runs (create, get, list,
  enable, disable, delete), so replacing deletes it and creates the new one.
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


def _named(client, name: str, experiment_id: str,
           namespace: Optional[str]) -> list:
    found = client.list_recurring_runs(
        experiment_id=experiment_id, namespace=namespace,
        filter=name_filter(name), page_size=100).recurring_runs or []
    return [r for r in found if r.display_name == name]


def _differences(existing, version_id: str, cron: str,
                 parameters: Dict[str, object]) -> List[str]:
    reference = existing.pipeline_version_reference
    trigger = existing.trigger.cron_schedule if existing.trigger else None
    runtime = existing.runtime_config
    old = {"pipeline version": reference.pipeline_version_id
           if reference else None,
           "cron": trigger.cron if trigger else None,
           "parameters": (runtime.parameters if runtime else None) or {}}
    new = {"pipeline version": version_id, "cron": cron,
           "parameters": parameters}
    return [f"{key} {old[key]!r} -> {new[key]!r}" for key in old
            if old[key] != new[key]]


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
    with quiet_stdout():
        existing = _named(client, name, experiment_id, connection.namespace)
    changed = [(run, _differences(run, version_id, cron, target.parameters))
               for run in existing]
    if len(existing) == 1 and not changed[0][1]:
        return Scheduled(existing[0].recurring_run_id, "unchanged")
    if existing and not replace:
        what = "; ".join(", ".join(diff) or "a duplicate" for _, diff in changed)
        raise ScheduleConflict(
            f"A recurring run named '{name}' already exists in experiment "
            f"'{target.experiment}' ({what}). Pass --replace to replace it "
            "(KFP has no update: it is deleted and created again), or --name "
            "for a second schedule.")
    with quiet_stdout():
        for run in existing:
            client.delete_recurring_run(run.recurring_run_id)
        recurring = client.create_recurring_run(
            experiment_id=experiment_id, job_name=name, cron_expression=cron,
            max_concurrency=1, no_catchup=True, enabled=True,
            pipeline_id=pipeline_id, version_id=version_id,
            params=target.parameters,
            pipeline_root=target.pipeline_root or package.pipeline_root,
            service_account=target.service_account)
    return Scheduled(recurring.recurring_run_id,
                     "replaced" if existing else "created")
