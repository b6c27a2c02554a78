"""Per-class figures and the confusion matrix of an evaluation, for the
comparison page.

They exist only in TFMA's output, read through the project's one reader
of it (imgpipe_components.evaluate.results). That import brings in TFMA
and TensorFlow: seconds of work, and in a thread it would hold the
interpreter's lock and slow every page meanwhile. So one worker process,
at low priority, imports it right after start-up and reads the newest
evaluations; the server asks it for others as needed and keeps every
answer (an evaluation never changes once written). The server process
itself never imports TensorFlow for a page, and a page never waits long
for the worker: what is not read yet is marked pending, and the page
shows the rest and reloads itself until it is there.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import multiprocessing
import os
import threading
from typing import Dict, Iterable, List, Optional

log = logging.getLogger(__name__)
WORKER_NICENESS = 10
TIMEOUT_S = 120.0
PENDING = "pending"         # details() before the worker answered


@dataclasses.dataclass(frozen=True)
class Details:
    overall: Dict[str, Optional[float]]     # metric -> candidate value
    per_class: List[dict]                   # class_id, precision, recall...
    confusion: List[List[float]]            # rows actual, columns predicted


def _prepare_worker() -> None:
    """In the worker: step aside for the server, then pay for the import."""
    try:
        os.nice(WORKER_NICENESS)
    except OSError:
        pass
    # TFMA's deprecation notes and "no metrics for model name" probes
    # would land on the UI's terminal; an unreadable folder is shown on
    # the page instead.
    logging.disable(logging.WARNING)
    import imgpipe_components  # noqa: F401 - process set-up (Keras 2...)
    from imgpipe_components.evaluate import results  # noqa: F401
    import tensorflow_model_analysis  # noqa: F401


def read_details(uri: str) -> Optional[dict]:
    """In the worker: Details' fields as plain data, or None."""
    from imgpipe_components.evaluate import results
    try:
        candidate, baseline = results.load_results(uri)
    except Exception as error:  # noqa: BLE001 - a bad folder is shown as such
        log.warning("Cannot read the evaluation at %s: %s", uri, error)
        return None
    if candidate is None:
        return None
    overall = {name: values["candidate"] for name, values in
               results.overall_metrics(candidate, baseline).items()}
    return {"overall": overall,
            "per_class": results.per_class_rows(candidate),
            "confusion": results.confusion_matrix(candidate)}


class EvaluationReader:
    """Reads evaluations once each, in the worker; thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._done: Dict[str, Optional[Details]] = {}
        self._pending: Dict[str, concurrent.futures.Future] = {}
        self._pool: Optional[concurrent.futures.ProcessPoolExecutor] = None

    def _worker(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            self._pool = concurrent.futures.ProcessPoolExecutor(
                1, mp_context=multiprocessing.get_context("spawn"),
                initializer=_prepare_worker)
        return self._pool

    def prefetch(self, uris: Iterable[str]) -> None:
        """Starts the worker and queues `uris` (newest first)."""
        with self._lock:
            for uri in uris:
                if uri not in self._done and uri not in self._pending:
                    self._pending[uri] = self._worker().submit(read_details,
                                                               uri)

    def details(self, uri: str, wait_s: float = TIMEOUT_S):
        """Details; None when the folder holds no readable evaluation;
        PENDING when the worker has not answered within `wait_s`."""
        with self._lock:
            if uri in self._done:
                return self._done[uri]
            future = self._pending.get(uri) or self._worker().submit(
                read_details, uri)
            self._pending[uri] = future
        try:
            plain = future.result(timeout=wait_s)
        except concurrent.futures.TimeoutError:
            return PENDING
        except Exception as error:  # noqa: BLE001 - shown as "not readable"
            log.warning("Reading %s failed: %s", uri, error)
            plain = None
        found = Details(**plain) if plain else None
        with self._lock:
            self._done[uri] = found
            self._pending.pop(uri, None)
        return found

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
