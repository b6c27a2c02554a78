"""`imgpipe ui`: the web UI over an output folder (pipelines/imgpipe/ui).

`register(app)` adds the command to the main CLI. The web stack is
imported only when the command runs, so `imgpipe --help` stays fast.
"""
from __future__ import annotations

import errno
import socket

import typer

from imgpipe.cli.console import console, fail
from imgpipe.cli.options import DEFAULT_OUTPUT, RunOutput


def _check_port_free(host: str, port: int) -> None:
    """A clear sentence instead of uvicorn's bind error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            why = ("is in use by another program"
                   if error.errno == errno.EADDRINUSE
                   else f"cannot be opened ({error.strerror})")
            fail(f"Port {port} on {host} {why}: pick another with --port.", 2)


def ui(
    output: RunOutput = DEFAULT_OUTPUT,
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8080, min=1, max=65535),
    allow_actions: bool = typer.Option(
        False, help="Show promote and rollback buttons (the same checks as "
                    "`imgpipe promote/rollback`). Read-only without it."),
    allow_remote: bool = typer.Option(
        False, help="Required to listen on a non-loopback address: the UI "
                    "has no login."),
) -> None:
    """A local web UI over a run folder.

    Every run with its state and figures, one run's graph, failure and
    artifacts, two runs compared, and the model store with its promotions.
    """
    from imgpipe.serving.bind import RemoteBindRefused, check_bind_address
    try:
        check_bind_address(host, allow_remote)
    except RemoteBindRefused as error:
        fail(str(error).replace("the API", "the UI"), 2)
    if not output.is_dir():
        fail(f"{output} is not a folder: give the --output folder of "
             "`imgpipe run` (it holds metadata.sqlite, pipeline_root/ and "
             "serving/).", 2)
    _check_port_free(host, port)
    import uvicorn

    from imgpipe.ui.app import create_app
    app = create_app(output, allow_actions=allow_actions, host=host)
    mode = ("promote and rollback allowed" if allow_actions else
            "read-only")
    shown = f"[{host}]" if ":" in host else host
    console.print(f"imgpipe ui over {output.resolve()} ({mode}) on "
                  f"http://{shown}:{port}  (Ctrl-C stops it)")
    uvicorn.run(app, host=host, port=port, log_level="warning",
                access_log=False)


def register(app: typer.Typer) -> None:
    app.command()(ui)
