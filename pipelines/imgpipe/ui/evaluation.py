"""Per-class figures and the confusion matrix of an evaluation, for the
comparison page.

They exist only in TFMA's output, read through the project's one reader
of it (imgpipe_components.evaluate.results). That import brings in
TensorFlow Model Analysis and TensorFlow, seconds of work once per
process, so the server starts a background thread that does it (and reads
the newest evaluations) right after start-up, and what is read is kept
per artifact: an evaluation never changes once written.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
from typing import Dict, Iterable, List, Optional

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Details:
    overall: Dict[str, Optional[float]]     # metric -> candidate value
    per_class: List[dict]                   # class_id, precision, recall...
    confusion: List[List[float]]            # rows actual, columns predicted


class EvaluationReader:
    """Reads evaluations once each; safe to share between threads."""

    def __init__(self):
        self._cache: Dict[str, Optional[Details]] = {}
        self._lock = threading.Lock()
        self.warm = threading.Event()       # TFMA imported

    def details(self, uri: str) -> Optional[Details]:
        """None when the folder holds no readable evaluation."""
        with self._lock:
            if uri in self._cache:
                return self._cache[uri]
        found = _read(uri)
        with self._lock:
            self._cache[uri] = found
        return found

    def start_warming(self, newest_uris: Iterable[str]) -> threading.Thread:
        uris = list(newest_uris)

        def work() -> None:
            try:
                from imgpipe_components.evaluate import results  # noqa: F401
                import tensorflow_model_analysis  # noqa: F401
            except ImportError as error:          # shown on the page later
                log.warning("TFMA could not be imported: %s", error)
            self.warm.set()
            for uri in uris:
                self.details(uri)
        thread = threading.Thread(target=work, name="tfma-warm-up",
                                  daemon=True)
        thread.start()
        return thread


def _read(uri: str) -> Optional[Details]:
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
    return Details(overall, results.per_class_rows(candidate),
                   results.confusion_matrix(candidate))
