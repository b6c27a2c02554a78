"""A free TCP port on 127.0.0.1, for the servers that tests and benchmarks
start as separate processes (they take a port number, not a socket)."""
from __future__ import annotations

import socket


def free_port() -> int:
    """A port the system just handed out and released: free unless another
    process binds it in between, which the callers' start-up checks catch."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
