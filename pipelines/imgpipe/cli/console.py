"""The CLI's one console (stderr, so that stdout carries only results) and
the one way a command stops on an error: a single line, no traceback."""
from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

console = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Prints `Error: message` and exits with `code`: 2 for input the
    command refuses before any work, 1 for work that failed."""
    console.print(f"[bold red]Error:[/] {message}")
    raise typer.Exit(code)
