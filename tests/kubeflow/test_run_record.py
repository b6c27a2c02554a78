"""The run record: where it lives, its generation precondition (local files
and a GCS emulator that enforces preconditions), what DataCheck decides
from it, what the exit handler records, and the webhook (a real HTTP server
on loopback)."""
from __future__ import annotations

import logging

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from imgpipe_components.data_check import outcome, run_record
from imgpipe_components.data_check.record_step import post
from tests.push.conftest import bucket, gcs  # noqa: F401 (fixtures)
from tests.kubeflow.webhook import receiver
from tests.ports import free_port

RUN_ROOT = "gs://b/root/imgpipe/run-7"


@pytest.mark.parametrize("uri", [
    f"{RUN_ROOT}/DataCheck/report",                       # KFP before 2.15
    f"{RUN_ROOT}/DataCheck/5f3a1c/report"])               # 2.15+: a salt
def test_the_run_is_found_from_an_output_uri(uri):
    place = run_record.run_place(uri, "DataCheck")
    assert place == run_record.RunPlace("gs://b/root", "imgpipe", "run-7")
    assert place.record_uri("dev") == (
        "gs://b/root/.last_completed_run/dev/imgpipe.json")
    assert place.note_uri("Pusher") == f"{RUN_ROOT}/imgpipe-run/Pusher.json"


def test_an_output_uri_of_another_step_is_refused():
    with pytest.raises(ValueError, match="not an output of step Pusher"):
        run_record.run_place(f"{RUN_ROOT}/DataCheck/report", "Pusher")


def _concurrent_writers(uri: str, writers: int = 6) -> list:
    """Every writer reads the record, then all write at once: the
    outcomes (None for a win, the conflict otherwise)."""
    _, generation = run_record.read_json(uri)
    start = threading.Barrier(writers)

    def write(index: int):
        start.wait()
        try:
            run_record.write_if_unchanged(uri, {"run": f"run-{index}"},
                                          generation)
        except run_record.RecordConflict as conflict:
            return conflict
        return None

    with ThreadPoolExecutor(writers) as pool:
        return list(pool.map(write, range(writers)))


def _check_one_winner(uri: str) -> None:
    results = _concurrent_writers(uri)
    winners = [i for i, r in enumerate(results) if r is None]
    assert len(winners) == 1, results
    assert run_record.read_json(uri)[0] == {"run": f"run-{winners[0]}"}
    # A writer holding the generation it read now loses too.
    with pytest.raises(run_record.RecordConflict):
        run_record.write_if_unchanged(uri, {"run": "late"}, 0)


def test_one_of_concurrent_local_writers_wins(tmp_path):
    uri = str(tmp_path / "root" / ".last_completed_run" / "ns" / "p.json")
    _check_one_winner(uri)
    _check_one_winner(uri)          # over an existing record as well


def test_one_of_concurrent_gcs_writers_wins(bucket):  # noqa: F811
    uri = f"gs://{bucket}/root/.last_completed_run/ns/p.json"
    _check_one_winner(uri)
    _check_one_winner(uri)


def test_notes_are_read_back_from_a_bucket(bucket):  # noqa: F811
    place = run_record.RunPlace(f"gs://{bucket}/root", "imgpipe", "run-1")
    run_record.write_json(place.note_uri("DataCheck"), {"state": "COMPLETE"})
    run_record.write_json(place.note_uri("Pusher"), {"state": "FAILED"})
    assert run_record.read_notes(place) == {
        "DataCheck": {"state": "COMPLETE"}, "Pusher": {"state": "FAILED"}}


def test_decisions_from_the_last_record():
    done = {"run": "r1", "outcome": "success", "fingerprint": "f",
            "stable_version": "2"}
    assert outcome.decide(None, "f", "2").run
    assert not outcome.decide(done, "f", "2").run
    assert outcome.decide(done, "g", "2").run                # new data
    assert outcome.decide(done, "f", "1").run                # a rollback
    failed = {**done, "outcome": "failed", "failed_step": "Pusher"}
    assert outcome.decide(failed, "f", "2") == outcome.Decision(
        True, "run r1 failed at Pusher: trying again")
    gated = {**done, "outcome": "gate_stop", "report": "/r/report.json"}
    decision = outcome.decide(gated, "f", "2")
    assert not decision.run
    assert decision.reason.startswith(
        "still stopped by the data gate (run r1)")
    assert outcome.decide(gated, "g", "2").run


def _check(changed: int) -> dict:
    return {"state": "COMPLETE", "outputs": {"report": {
        "changed": changed, "fingerprint": "f", "stable_version": "1",
        "reason": "no new data since run r1"}}}


def test_outcomes_from_the_final_state_and_the_notes():
    skipped = outcome.outcome("RUNNING", {"DataCheck": _check(0)})
    assert skipped["outcome"] == "skipped"
    assert skipped["reason"] == "no new data since run r1"
    gate = outcome.outcome("FAILED", {
        "DataCheck": _check(1),
        "DataGate": {"state": "FAILED", "at": "2", "error": "stopped",
                     "error_type": "DataValidationError",
                     "report": "/r/report.json"}})
    assert (gate["outcome"], gate["report"]) == ("gate_stop", "/r/report.json")
    crash = outcome.outcome("FAILED", {
        "DataCheck": _check(1),
        "Trainer": {"state": "FAILED", "at": "3", "error": "OOM",
                    "error_type": "ResourceExhaustedError"}})
    assert (crash["outcome"], crash["failed_step"]) == ("failed", "Trainer")
    assert crash["fingerprint"] == "f"
    pushed = outcome.outcome("COMPLETE", {
        "DataCheck": _check(1), "Pusher": {"state": "COMPLETE", "outputs": {
            "pushed_model": {"pushed": 1, "pushed_version": "3"}}}})
    assert (pushed["outcome"], pushed["pushed_version"]) == ("success", "3")
    killed = outcome.outcome("FAILED", {"DataCheck": _check(1)})
    assert killed["outcome"] == "failed" and killed["failed_step"] is None


def test_the_webhook_gets_the_record_and_a_dead_one_is_only_logged(caplog):
    # In-process steps run earlier may have lowered absl's verbosity.
    caplog.set_level(logging.WARNING, logger="absl")
    with receiver() as (url, received):
        assert post(url, {"outcome": "success", "run": "r1"})
    assert received == [{"outcome": "success", "run": "r1"}]
    assert not post(f"http://127.0.0.1:{free_port()}/hook", {"run": "r2"})
    assert "not reached" in caplog.text
