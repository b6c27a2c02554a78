"""A fingerprint of the component code, for cache invalidation.

Module functions are passed to Transform and Trainer by import path (no
per-run wheel packaging, which costs seconds per component); TFX then cannot
see code changes, so this hash of the package sources goes into their
configs instead.
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path

_SOURCES = ("components/**/*.py", "imgpipe/config.py")


@functools.lru_cache(maxsize=1)
def fingerprint() -> str:
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for pattern in _SOURCES:
        for path in sorted(root.glob(pattern)):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
