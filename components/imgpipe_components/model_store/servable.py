"""What promotion requires of a version before a label moves onto it.

The model store checks what it can see itself: the version is complete
(its folder holds saved_model.pb). Whether it loads and answers its own
warm-up requests is the server's knowledge (pipelines/imgpipe/serving/servability.py);
`imgpipe promote` and `rollback` pass that deeper check in, so the store
does not depend on the server.
"""
from __future__ import annotations

from typing import Callable, Optional

from imgpipe_components.model_store.versions import SAVED_MODEL, list_versions

# (base path, model name, version, server URL or None); raises NotServable.
ServableCheck = Callable[[str, str, int, Optional[str]], None]


class NotServable(Exception):
    """The version cannot be served; the message says why."""


def is_complete(base_path: str, model_name: str, version: int,
                server: Optional[str] = None) -> None:
    """The store's own check: the version's SavedModel is all there."""
    del model_name, server
    if version not in list_versions(base_path, complete_only=True):
        raise NotServable(f"{str(base_path).rstrip('/')}/{version} holds no "
                          f"{SAVED_MODEL}: the version is missing or "
                          "incomplete")
