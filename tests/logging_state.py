"""Test support: the CLI configures the process's logging (a file handler
per run, console levels, captured warnings), as a process at exit forgets
it; tests that run it in-process undo it for the tests after them."""
from __future__ import annotations

import contextlib
import logging
from typing import Iterator


@contextlib.contextmanager
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    levels = {handler: handler.level for handler in root.handlers}
    try:
        yield
    finally:
        for handler in list(root.handlers):
            if handler not in levels:
                root.removeHandler(handler)
                handler.close()
        for handler, level in levels.items():
            handler.setLevel(level)
        logging.captureWarnings(False)
