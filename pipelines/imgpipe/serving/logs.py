"""The server's operational log: one timestamped line per load, unload,
refusal and label change, on stderr.

Without a handler of its own, the `imgpipe.serve` logger's INFO lines
(every load and unload) would go nowhere: Python's last-resort handler
shows warnings and errors only. Identical warnings (a label held back, a config
that keeps failing to parse) come from the poller every second; the filter
lets one through per `interval_s`, so a swap stays visible in the log.
"""
from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Dict, Tuple

LOGGER = "imgpipe.serve"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RateLimit(logging.Filter):
    """The same warning (message and arguments) at most once per interval;
    INFO lines (loads, unloads, label changes) always pass."""

    def __init__(self, interval_s: float = 60.0):
        super().__init__()
        self._interval = interval_s
        self._last: Dict[Tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key, now = (str(record.msg), repr(record.args)), time.monotonic()
        with self._lock:
            if now - self._last.get(key, -self._interval) < self._interval:
                return False
            self._last[key] = now
        return True


def configure_logging(interval_s: float = 60.0) -> logging.Logger:
    """A stderr handler on the serving logger (once per process)."""
    logger = logging.getLogger(LOGGER)
    logger.setLevel(logging.INFO)
    if not any(getattr(h, "imgpipe_serving", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(RateLimit(interval_s))
        handler.imgpipe_serving = True
        logger.addHandler(handler)
    return logger
