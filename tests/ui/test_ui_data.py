"""The UI's data layer over the session's real output folder: runs and
their states from ML Metadata, the graph from lineage, failures from the
logs, the path checks of the file route, the model store's story."""
from __future__ import annotations

import json
import os
import shutil
import traceback

import httpx
import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def folder(ui_history):
    from imgpipe.ui.files import OutputFolder
    return OutputFolder(ui_history[0].output)


@pytest.fixture(scope="module")
def runs(ui_history, folder):
    from imgpipe.ui.runs import list_runs
    from imgpipe.ui.store import SnapshotCache
    found = list_runs(folder, SnapshotCache(folder.metadata_path).get())
    return {label: next(r for r in found if r.run_id == run_id)
            for label, run_id in ui_history[0].runs.items()}


def test_states_steps_and_facts(runs, pipeline_run):
    from imgpipe.ui import runs as ui_runs
    assert {label: run.state for label, run in runs.items()} == {
        "cold": ui_runs.COMPLETE, "cached": ui_runs.UNCHANGED,
        "retrained": ui_runs.COMPLETE, "gate": ui_runs.STOPPED,
        "failed": ui_runs.FAILED}
    cold = runs["cold"]
    assert cold.executed == len(cold.steps) == 13 and cold.cached == 0
    assert cold.facts.accuracy == pytest.approx(pipeline_run.first.accuracy)
    assert cold.facts.pushed_version == "1" and cold.facts.pushed_here
    assert not runs["cached"].facts.pushed_here
    assert runs["retrained"].facts.pushed_version == "2"
    assert runs["retrained"].step("Trainer").state == ui_runs.EXECUTED
    assert runs["retrained"].step("ImageExampleGen").state == ui_runs.CACHED
    assert runs["gate"].failed_step == "DataGate"
    assert (runs["gate"].facts.images, runs["gate"].facts.quarantined) == \
        (660, 0)
    assert runs["failed"].failed_step == "Trainer"
    assert runs["failed"].facts.accuracy is None


def test_failures_come_from_the_runs_own_logs(runs):
    failed, gate = runs["failed"].failure, runs["gate"].failure
    assert failed.step == "Trainer"
    assert failed.chain[0].startswith(
        "ValueError: Input size must be at least 32x32")
    assert failed.log.name.startswith("run-")
    assert runs["failed"].run_id in failed.log.read_text()
    assert gate.chain[0].startswith("DataValidationError: The data gate "
                                    "stopped the run")
    assert gate.log != failed.log


def test_exception_chain_reads_pythons_own_format():
    from imgpipe.ui.failure import exception_chain
    try:
        try:
            raise FileNotFoundError(2, "No such file", "/data/cat/x.png")
        except FileNotFoundError as cause:
            raise RuntimeError("ingest failed:\n  - 1 file") from cause
    except RuntimeError as error:
        text = "".join(traceback.format_exception(type(error), error,
                                                  error.__traceback__))
    assert exception_chain(text) == [
        "RuntimeError: ingest failed:\n  - 1 file",
        "FileNotFoundError: [Errno 2] No such file: '/data/cat/x.png'"]


def test_tfma_figures_come_from_a_worker_that_ends_with_the_reader(runs):
    from imgpipe.ui.evaluation import PENDING, EvaluationReader
    reader = EvaluationReader()
    uri = runs["retrained"].output("Evaluator", "evaluation").uri
    try:
        first = reader.details(uri, wait_s=0)
        assert first == PENDING          # the worker is importing TFMA
        details = reader.details(uri, wait_s=120)
        assert details.overall["sparse_categorical_accuracy"] == \
            pytest.approx(runs["retrained"].facts.accuracy)
        assert len(details.confusion) == 10 and len(details.per_class) == 10
        assert reader.details(uri, wait_s=0) is details      # kept
        assert reader.details(runs["gate"].run_id, wait_s=60) is None
        worker = reader.worker_pid
    finally:
        reader.close()
    with pytest.raises(ProcessLookupError):
        os.kill(worker, 0)


def test_graph_edges_come_from_lineage(ui_history, folder):
    from imgpipe.ui.graph import layers, reduced
    from imgpipe.ui.store import SnapshotCache
    snapshot = SnapshotCache(folder.metadata_path).get()
    assert {("Trainer", "served_model_resolver"),
            ("served_model_resolver", "Evaluator"),
            ("Augment", "Evaluator"),      # evaluated on the gate-filtered split
            ("DataGate", "Augment")} <= snapshot.edges
    direct = reduced(snapshot.edges)
    assert ("Augment", "Evaluator") not in direct    # via the chain
    row = layers(snapshot.nodes, direct)
    assert row["ImageExampleGen"] == 0
    assert row["Trainer"] < row["served_model_resolver"] < row["Evaluator"]
    assert row["ModelReport"] < row["Pusher"]


def test_snapshot_is_reread_only_when_the_store_changes(folder):
    from imgpipe.ui.store import SnapshotCache
    cache = SnapshotCache(folder.metadata_path)
    first = cache.get()
    assert cache.get() is first
    os.utime(folder.metadata_path)           # what a commit does to mtime
    assert cache.get() is not first


def test_the_lock_note_of_a_live_run_marks_it_running(ui_history,
                                                      tmp_path):
    import socket

    from imgpipe.runners.local.run_guard import LOCK_NOTE
    from imgpipe.ui import runs as ui_runs
    from imgpipe.ui.files import OutputFolder
    from imgpipe.ui.pages import Ui, runs_page
    from imgpipe.ui.store import SnapshotCache
    output = shutil.copytree(ui_history[0].output, tmp_path / "output")
    folder = OutputFolder(output)
    snapshot = SnapshotCache(folder.metadata_path).get()
    newest = snapshot.runs[-1].created_ms / 1000.0
    note = output / LOCK_NOTE

    def holder(pid: int, since: float) -> None:
        note.write_text(json.dumps({"pid": pid, "started": "-",
                                    "host": socket.gethostname()}))
        os.utime(note, (since, since))

    # This process holds the lock since just before the newest run began.
    holder(os.getpid(), newest - 0.5)
    found = ui_runs.list_runs(folder, snapshot)
    assert found[0].state == ui_runs.RUNNING
    assert ui_runs.RUNNING not in {run.state for run in found[1:]}
    # A run that took the lock after the newest began has no record yet:
    # the newest is finished, and the runs page says a run is starting.
    holder(os.getpid(), newest + 60)
    assert ui_runs.list_runs(folder, snapshot)[0].state == ui_runs.FAILED
    assert runs_page(Ui(folder))["starting"]["pid"] == os.getpid()
    # The holder's process is gone: its note stayed behind, nothing runs.
    holder(2 ** 22 + 1, newest - 0.5)
    assert ui_runs.list_runs(folder, snapshot)[0].state == ui_runs.FAILED
    assert runs_page(Ui(folder))["starting"] is None


def test_files_outside_the_folder_are_never_served(ui_history, folder,
                                                   tmp_path):
    _, url, _ = ui_history
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    link = folder.root / "link-out.txt"
    link.symlink_to(outside)
    try:
        for path in ("/files/../../etc/passwd", "/files/%2e%2e/%2e%2e/etc/"
                     "passwd", "/files//etc/passwd", "/files/link-out.txt",
                     "/files/pipeline_root"):
            response = httpx.get(url + path)
            assert response.status_code == 404, path
            assert "secret" not in response.text
    finally:
        link.unlink()
    assert folder.requested("logs/../metadata.sqlite") is not None
    assert folder.requested("../" + folder.root.name + "/metadata.sqlite") \
        is not None                         # resolves back inside


def test_a_moved_folder_finds_its_artifacts_where_it_is_now(ui_history,
                                                            folder):
    from imgpipe.ui.files import OutputFolder
    recorded = "/elsewhere/old/output/pipeline_root/Trainer"
    found = folder.local(recorded)
    assert found == folder.root / "pipeline_root" / "Trainer"
    assert OutputFolder(folder.root).local("gs://bucket/pipeline_root/x") \
        is None


def test_version_story_says_who_made_it_stable(ui_history, folder):
    from imgpipe.ui import models
    view = models.read_model(folder, "digits")
    assert [v.number for v in view.versions] == [2, 1]
    assert view.versions[0].labels == ["canary", "stable"]
    assert models.version_story(view, 2).startswith("stable + canary · ")
    assert "promoted" in models.version_story(view, 2)
    assert models.version_story(view, 1).startswith("no label · was stable ")
    assert " to " in models.version_story(view, 1)
