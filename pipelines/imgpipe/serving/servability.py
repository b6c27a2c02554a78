"""Can a version be served? The full check `imgpipe promote` and `rollback`
pass to the model store (components/imgpipe_components/model_store/servable.py) before a label moves.

A label on a version that cannot load is an outage waiting for the next
restart: TF Serving keeps serving what it has, but a fresh server (a new
pod, a restart) starts on the labels and serves nothing. So before a
promotion or rollback moves `stable`, the version must be complete (its
folder holds saved_model.pb), load, and answer its own warm-up requests
(`assets.extra/tf_serving_warmup_requests`), exactly as the server will
load it; and when a server URL is given, that server must report it
AVAILABLE. TensorFlow is imported only here, only when a version is
checked, so the rest of the promotion CLI starts fast.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from imgpipe_components.model_store.servable import NotServable
from imgpipe_components.model_store.versions import SAVED_MODEL
from imgpipe_components.storage import gcs


def check_servable(base_path: str, model_name: str, version: int,
                   server: Optional[str] = None) -> None:
    """Raise NotServable unless the version can be served."""
    folder = f"{str(base_path).rstrip('/')}/{version}"
    if gcs.is_gcs(folder):
        # The load check needs the files on this machine; in a bucket
        # completeness (and --server) is what is checked.
        if not gcs.exists(f"{folder}/{SAVED_MODEL}"):
            raise NotServable(f"{folder} holds no {SAVED_MODEL}: the version "
                              "is missing or its upload is incomplete")
    else:
        _check_local(Path(folder), model_name, version)
    if server:
        check_available_on(server, model_name, version)


def _check_local(folder: Path, model_name: str, version: int) -> None:
    if not folder.is_dir():
        raise NotServable(f"{folder} does not exist")
    if not (folder / SAVED_MODEL).exists():
        raise NotServable(f"{folder} holds no {SAVED_MODEL}: the version is "
                          "incomplete")
    from imgpipe.serving.errors import ServingError
    from imgpipe.serving.loader import load_version
    try:
        load_version(model_name, version, folder)
    except ServingError as error:
        raise NotServable(f"it does not load as the server would load it "
                          f"({error.code}): {error.message}") from None


def check_available_on(server: str, model_name: str, version: int) -> None:
    """The server's own status for the version must be AVAILABLE."""
    import httpx

    url = (f"{server.rstrip('/')}/v1/models/{model_name}/versions/"
           f"{version}")
    try:
        response = httpx.get(url, timeout=10)
    except httpx.HTTPError as error:
        raise NotServable(f"cannot ask the server at {url} ({error})"
                          ) from None
    rows = (response.json().get("model_version_status", [])
            if response.status_code == 200 else [])
    state = rows[0] if rows else {}
    if state.get("state") != "AVAILABLE":
        detail = (state.get("status", {}).get("error_message") or
                  state.get("state") or response.text.strip())
        raise NotServable(f"the server at {server} does not have it "
                          f"AVAILABLE ({detail})")
