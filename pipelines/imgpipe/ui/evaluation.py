"""Per-class figures and the confusion matrix of an evaluation, for the
comparison page.

They exist only in TFMA's output, read through the project's one reader
of it (imgpipe_components.evaluate.results). That import brings in TFMA
and TensorFlow: seconds of work, and in a thread it would hold the
interpreter's lock and slow every page meanwhile. So a worker process
(`python -m imgpipe.ui.evaluation`, at low priority) imports it right
after start-up and answers one JSON line per evaluation folder written to
its standard input; the server keeps every answer (an evaluation never
changes once written) and never imports TensorFlow for a page. A page
never waits long: what is not read yet is marked pending, and the page
shows the rest and reloads itself until it is there. The worker ends when
its input closes, which the system does when the server ends, however it
ends.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import subprocess
import sys
import threading
from typing import Dict, Iterable, List, Optional

log = logging.getLogger(__name__)
WORKER_NICENESS = 10
PENDING = "pending"         # details() before the worker answered


@dataclasses.dataclass(frozen=True)
class Details:
    overall: Dict[str, Optional[float]]     # metric -> candidate value
    per_class: List[dict]                   # class_id, precision, recall...
    confusion: List[List[float]]            # rows actual, columns predicted


def read_details(uri: str) -> Optional[dict]:
    """In the worker: Details' fields as plain data, or None."""
    from imgpipe_components.evaluate import results
    try:
        candidate, baseline = results.load_results(uri)
    except Exception:  # noqa: BLE001 - a bad folder is shown as such
        return None
    if candidate is None:
        return None
    overall = {name: values["candidate"] for name, values in
               results.overall_metrics(candidate, baseline).items()}
    return {"overall": overall,
            "per_class": results.per_class_rows(candidate),
            "confusion": results.confusion_matrix(candidate)}


class EvaluationReader:
    """Asks the worker for each evaluation once; thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._answers: Dict[str, Optional[Details]] = {}
        self._asked: Dict[str, threading.Event] = {}
        self._process: Optional[subprocess.Popen] = None

    def _ask(self, uri: str) -> threading.Event:
        """Under the lock: the event set once `uri` is answered."""
        if uri not in self._asked:
            if self._process is None:
                self._start()
            self._asked[uri] = threading.Event()
            try:
                self._process.stdin.write(uri + "\n")
                self._process.stdin.flush()
            except OSError:             # the worker is gone: not readable
                self._answers[uri] = None
                self._asked[uri].set()
        return self._asked[uri]

    def _start(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        threading.Thread(target=self._listen, args=(self._process,),
                         daemon=True, name="tfma-worker-answers").start()

    def _listen(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            answer = json.loads(line)
            details = answer["details"]
            with self._lock:
                self._answers[answer["uri"]] = (Details(**details)
                                                if details else None)
                self._asked[answer["uri"]].set()
        with self._lock:                # it ended: unanswered = unreadable
            for uri, event in self._asked.items():
                if not event.is_set():
                    self._answers[uri] = None
                    event.set()
            if self._process is process:
                self._process = None

    def prefetch(self, uris: Iterable[str]) -> None:
        """Starts the worker and queues `uris` (newest first)."""
        with self._lock:
            for uri in uris:
                self._ask(uri)

    def details(self, uri: str, wait_s: float):
        """Details; None when the folder holds no readable evaluation;
        PENDING when the worker has not answered within `wait_s`."""
        with self._lock:
            answered = self._ask(uri)
        if not answered.wait(wait_s):
            return PENDING
        with self._lock:
            return self._answers[uri]

    @property
    def worker_pid(self) -> Optional[int]:
        process = self._process
        return process.pid if process is not None else None

    def close(self) -> None:
        with self._lock:
            process, self._process = self._process, None
        if process is not None:
            process.stdin.close()
            process.terminate()
            process.wait()


def _serve() -> None:
    """The worker: one JSON answer per folder read from standard input."""
    os.nice(WORKER_NICENESS)            # the server's pages come first
    # TFMA's deprecation notes and "no metrics for model name" probes go
    # nowhere: an unreadable folder is shown on the page.
    logging.disable(logging.WARNING)
    import imgpipe_components  # noqa: F401 - process set-up (Keras 2...)
    from imgpipe_components.evaluate import results  # noqa: F401
    for line in sys.stdin:
        uri = line.strip()
        print(json.dumps({"uri": uri, "details": read_details(uri)}),
              flush=True)


if __name__ == "__main__":
    _serve()
