"""A run killed in the middle resumes from what completed, nothing else.

`imgpipe run` is started as a user starts it, killed (SIGKILL: no clean-up
code runs; SIGTERM: Python's default action, the same for a process without
a handler) while the Trainer (or Transform) is running, and run again. ML
Metadata must show the components that had completed reused from cache,
the interrupted one executed again, and the run finishing with a pushed
model. The killed execution's outputs are never published, so nothing
half-written is used.
"""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from imgpipe.runners.local import run_record

IMGPIPE = str(Path(sys.executable).parent / "imgpipe")
UPSTREAM = ("ImageExampleGen", "StatisticsGen", "SchemaGen",
            "ExampleValidator", "DataGate", "Augment")


def command(data: Path, output: Path) -> list:
    return [IMGPIPE, "run", "--data", str(data), "--output", str(output),
            "--image-size", "16", "--epochs", "3"]


def kill_when_running(process: subprocess.Popen, output: Path, node: str,
                      signum: int) -> None:
    """Waits for the runner's own "Component X is running." log line, then
    sends `signum`."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        logs = list((output / "logs").glob("run-*.log"))
        if logs and f"Component {node} is running." in logs[0].read_text(
                errors="replace"):
            time.sleep(2)          # inside the component's work, not at its edge
            process.send_signal(signum)
            process.wait(timeout=60)
            return
        assert process.poll() is None, "the run ended before it was killed"
        time.sleep(0.2)
    raise AssertionError(f"{node} never started")


def resumed_states(data: Path, output: Path) -> dict:
    """Runs again on the same output: it succeeds, the steps before the
    interrupted one come from the cache; returns the run's step states."""
    again = subprocess.run(command(data, output), capture_output=True,
                           text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-2000:]
    states = latest_states(output)
    assert all(states[upstream] == "CACHED" for upstream in UPSTREAM), states
    return states


def latest_states(output: Path) -> dict:
    store = run_record.open_store(str(output / "metadata.sqlite"))
    run = run_record.latest_run(store, "imgpipe")
    return {n.node_id: n.state for n in run_record.node_runs(store, run)}


@pytest.mark.e2e
@pytest.mark.parametrize("node, signum", [("Trainer", signal.SIGKILL),
                                          ("Transform", signal.SIGTERM)])
def test_killed_run_resumes_from_completed_components(
        digits_subset, tmp_path, node, signum):
    killed = subprocess.Popen(command(digits_subset, tmp_path),
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    kill_when_running(killed, tmp_path, node, signum)
    assert killed.returncode == -signum
    assert not list((tmp_path / "serving").glob("*/[0-9]*"))

    states = resumed_states(digits_subset, tmp_path)
    assert states[node] == "COMPLETE"
    assert states["Pusher"] == "COMPLETE"
    assert (tmp_path / "serving" / "digits" / "1" / "saved_model.pb").exists()
