"""The loopback rule, importable without the web stack (the CLI checks it
before starting anything)."""
from __future__ import annotations

import ipaddress


class RemoteBindRefused(ValueError):
    """A non-loopback address without allow_remote."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False     # a host name: may resolve to anything


def check_bind_address(host: str, allow_remote: bool) -> None:
    if not is_loopback(host) and not allow_remote:
        raise RemoteBindRefused(
            f"Refusing to listen on {host}: the API has no authentication. "
            "Pass --allow-remote to listen beyond this machine (e.g. in a "
            "container behind a network policy), or use 127.0.0.1.")
