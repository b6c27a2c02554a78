"""Start the model server with uvicorn: settings, the loopback rule, shutdown.

It binds 127.0.0.1 unless told otherwise: the API has no authentication,
so listening on other interfaces is an explicit choice (`allow_remote`).
uvicorn turns SIGTERM/SIGINT into a graceful shutdown: it stops accepting,
lets requests in flight finish (up to `graceful_timeout_s`), then exits.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Optional

from imgpipe_components.model_store.models_config import CONFIG_NAME
from imgpipe.serving.app import AppSettings, create_app
from imgpipe.serving.bind import check_bind_address
from imgpipe.serving.logs import configure_logging
from imgpipe.serving.registry import (ConfigSource, ModelRegistry,
                                      StartupRefused)

TF_SERVING_REST_PORT = 8501


@dataclasses.dataclass(frozen=True)
class ServerSettings:
    model_dir: Path
    model_name: Optional[str] = None        # default: the folder's name
    model_config: Optional[Path] = None     # default: ../models.config
    host: str = "127.0.0.1"
    port: int = TF_SERVING_REST_PORT
    allow_remote: bool = False
    app: AppSettings = AppSettings()
    graceful_timeout_s: int = 30
    access_log: bool = False
    # TF Serving's --tensorflow_intra_op_parallelism / _inter_op_: 0 lets
    # TensorFlow choose. One of each costs the least server CPU per batch-1
    # request (TF's own pools spin between small ops; concurrent requests
    # use the other cores) and no more at batch 32 from several clients;
    # raise them for large batches from a single client.
    intra_op_threads: int = 1
    inter_op_threads: int = 1

    @property
    def name(self) -> str:
        return self.model_name or Path(os.path.abspath(self.model_dir)).name

    @property
    def config_path(self) -> Path:
        return self.model_config or Path(
            os.path.abspath(self.model_dir)).parent / CONFIG_NAME


def build_server(settings: ServerSettings):
    """An uvicorn.Server, not yet running (tests run it in a thread)."""
    import uvicorn

    check_bind_address(settings.host, settings.allow_remote)
    configure_tensorflow_threads(settings.intra_op_threads,
                                 settings.inter_op_threads)
    # A config given by name is served as written; one found beside the
    # model dir must describe that dir (registry.ConfigSource).
    source = ConfigSource(settings.config_path, settings.name,
                          str(Path(os.path.abspath(settings.model_dir))),
                          pin_base_path=settings.model_config is None)
    registry = ModelRegistry(source)
    app = create_app(registry, settings.app)
    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, lifespan="on",
        access_log=settings.access_log, log_level="info",
        timeout_graceful_shutdown=settings.graceful_timeout_s,
        **fast_protocols())
    server = uvicorn.Server(config)
    server.registry = registry      # serve() loads before the port opens
    return server


def configure_tensorflow_threads(intra_op: int, inter_op: int) -> None:
    """Before the first model loads; TensorFlow fixes its pools at its first
    operation, so in a process that already ran TF (tests) it is a no-op."""
    import tensorflow as tf
    try:
        tf.config.threading.set_intra_op_parallelism_threads(intra_op)
        tf.config.threading.set_inter_op_parallelism_threads(inter_op)
    except RuntimeError:
        logging.getLogger("imgpipe.serve").info(
            "TensorFlow is already initialised in this process: keeping its "
            "thread pools")


def fast_protocols() -> dict:
    """httptools' C HTTP parser and the uvloop event loop (uvicorn[standard])
    rather than pure-Python h11 and asyncio's loop: the largest per-request
    saving of the server. Named explicitly, with a warning when one is
    missing, where uvicorn's "auto" would fall back without a word."""
    import importlib.util
    have = {name: importlib.util.find_spec(name) is not None
            for name in ("httptools", "uvloop")}
    for name, present in have.items():
        if not present:
            logging.getLogger("imgpipe.serve").warning(
                "%s is not installed: serving with the slower pure-Python "
                "fallback (install uvicorn[standard])", name)
    return {"http": "httptools" if have["httptools"] else "h11",
            "loop": "uvloop" if have["uvloop"] else "asyncio"}


def bound_port(server) -> int:
    """The port actually bound (port 0 asks the OS for a free one)."""
    return server.servers[0].sockets[0].getsockname()[1]


def serve(settings: ServerSettings) -> None:
    """Run until SIGTERM/SIGINT, shut down gracefully, exit 0 (or 130).
    Exits 1 without opening the port when nothing can be served."""
    configure_logging()
    # uvicorn re-raises the signal it caught once it has shut down; with
    # these handlers that ends the process as a clean stop rather than as
    # "killed by SIGTERM".
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(130))
    server = build_server(settings)
    try:
        # Here rather than in the app's start-up, so a refusal is one log
        # line and exit status 1, not a uvicorn traceback.
        server.registry.start(settings.app.poll_seconds)
    except StartupRefused as refusal:
        logging.getLogger("imgpipe.serve").error(
            "Not serving: %s", refusal)
        sys.exit(1)
    server.run()
