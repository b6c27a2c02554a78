"""The exit handler's work, outside the TFX component so it reads plainly.

Open-source KFP passes the exit task the final status of the `tfx-dag`
sub-DAG with an empty error (kubeflow/pipelines backend/src/v2/driver/
resolve.go, TaskFinalStatus: "TODO: Implement fields Message and Code"), so
the failing step and its reason come from the notes the steps wrote
(imgpipe.runners.kubeflow.entrypoint), and a run ended by DataCheck's
condition reports RUNNING: DataCheck's own note says it skipped.
"""
from __future__ import annotations

import datetime
import json
import urllib.error
import urllib.request

from absl import logging

from imgpipe_components.data_check import outcome, run_record

WEBHOOK_TIMEOUT_S = 10.0


def final_state(final_status: str) -> str:
    """The state in KFP's PipelineTaskFinalStatus JSON ('' if unreadable)."""
    try:
        status = json.loads(final_status) if final_status else {}
    except ValueError:
        return ""
    return str(status.get("state", "")) if isinstance(status, dict) else ""


def record_run(summary_uri: str, final_status: str, model_store: str,
               webhook: str) -> dict:
    from imgpipe_components.data_check.component import RECORD_ID
    from imgpipe_components.model_store.in_service import servable_stable_version
    from imgpipe_components.storage import artifact_files

    place = run_record.run_place(summary_uri, RECORD_ID)
    state = final_state(final_status)
    record = {**outcome.outcome(state, run_record.read_notes(place)),
              "run": place.run_id, "final_state": state,
              "namespace": run_record.namespace(),
              "at": datetime.datetime.now(datetime.timezone.utc).isoformat(
                  timespec="seconds")}
    if record["outcome"] == outcome.SUCCESS:
        # The stable version as the run left it: its own push may have made
        # its model stable, which is no reason to run again.
        record[outcome.STABLE] = str(servable_stable_version(model_store))
    uri = place.record_uri(record["namespace"])
    record["record"] = _write(uri, record)
    text = outcome.summary(record)
    logging.info("%s", text)
    artifact_files.write_text(summary_uri, _markdown(text, record))
    if webhook:
        post(webhook, {**record, "summary": text})
    return record


def _write(uri: str, record: dict) -> str:
    """Where the record went, or why it was not written."""
    if record["outcome"] == outcome.SKIPPED:
        return f"unchanged: {uri}"
    _, generation = run_record.read_json(uri)
    try:
        run_record.write_if_unchanged(uri, record, generation)
    except run_record.RecordConflict as error:
        logging.warning("Record not written: %s", error)
        return f"not written (another run came first): {uri}"
    return uri


def _first_line(value) -> str:
    lines = str(value).splitlines()
    return lines[0] if lines else ""


def _markdown(text: str, record: dict) -> str:
    """The summary line over the record, one field a row (first lines only:
    the full error is in the record and the failed step's log)."""
    rows = [f"| {key} | {_first_line(value)} |"
            for key, value in sorted(record.items())]
    return "\n".join([f"### {text}", "", "| field | value |", "|---|---|",
                      *rows]) + "\n"


def post(url: str, payload: dict) -> bool:
    """POSTs the JSON payload; a webhook that is down or slow is logged,
    never fatal: the record is already written."""
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), method="POST",
        headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as reply:
            logging.info("Webhook %s answered %s", url, reply.status)
            return True
    except (urllib.error.URLError, OSError, ValueError) as error:
        # HTTPError (an error status) is a URLError too.
        logging.warning("Webhook %s not reached or refused: %s", url, error)
        return False
