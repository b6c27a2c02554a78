"""The CLI's one console (stderr, so that stdout carries only results) and
the one way a command stops on an error: a single line, no traceback."""
from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

console = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Prints `Error: message` and exits with `code`: 2 for input the
    command refuses before any work, 1 for work that failed. The message
    is one logical line that the terminal wraps (soft_wrap), so a long path
    in it is never cut in two and can be copied whole; brackets in it (a
    folder named `[old]`) are text, not Rich markup."""
    console.print(f"[bold red]Error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)
