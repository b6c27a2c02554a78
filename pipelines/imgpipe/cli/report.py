"""How a run's outcome is shown on the terminal."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from imgpipe.cli.data_report import print_data_summary
from imgpipe.runners.local.summary import RunSummary


def print_summary(console: Console, summary: RunSummary,
                  output_option: str = "") -> None:
    """The run's outcome; `output_option` (" --output OUT", or "" for the
    default folder) goes into every command suggested, so that each works
    from any folder."""
    table = Table(title=f"Run {summary.run_id}", show_edge=False)
    table.add_column("component")
    table.add_column("state")
    table.add_column("seconds", justify="right")
    for node in summary.nodes:
        table.add_row(node.node_id, node.state.lower(), f"{node.seconds:.1f}")
    console.print(table)
    console.print(f"{summary.executed} executed, {summary.cached} from cache.")
    print_data_summary(console, summary.data)
    if summary.nothing_retrained:
        console.print("Nothing new since the last run (same data, settings "
                      "and code): no step was re-run, nothing was retrained "
                      "or pushed.")
    if summary.accuracy is not None:
        console.print(f"Eval accuracy: [bold]{summary.accuracy:.4f}[/] on "
                      f"{summary.eval_examples} held-out images")
    verdict = {True: "[green]blessed[/]", False: "[red]not blessed[/]",
               None: "not evaluated"}[summary.blessed]
    console.print(f"Model {verdict}: " + "; ".join(summary.reasons))
    if summary.advice:
        console.print(summary.advice)
    if summary.report_uri:
        console.print(f"Model report: {summary.report_uri}/report.html")
    if summary.pushed_version:
        console.print(f"Pushed version {summary.pushed_version} to "
                      f"{escape(summary.pushed_path)}", soft_wrap=True)
        if summary.promotion:
            console.print(f"Auto-promote: {escape(summary.promotion)}")
        # Paths whole (soft_wrap) and as written (no markup): the commands
        # are meant to be copied.
        console.print(escape(next_steps(summary, output_option)),
                      soft_wrap=True)
    else:
        console.print("Nothing pushed: the model in service stays.")


def next_steps(summary: RunSummary, output_option: str = "") -> str:
    """What the pushed version is now, and the commands to use it."""
    version, out = summary.pushed_version, output_option
    use = ("Serve it over TF Serving's REST API with\n"
           f"  imgpipe serve{out}\n"
           "or classify files directly:\n"
           f"  imgpipe predict{out} IMAGE...")
    if summary.stable_version == version:
        return f"Version {version} is stable and served. {use}"
    stable = (f"; stable stays version {summary.stable_version}"
              if summary.stable_version else "")
    return (f"Version {version} is the canary{stable}. {use}\n"
            f"Promote it to stable with\n  imgpipe promote{out}")


def explain_error(error: BaseException) -> str:
    """`Type: message` for the error and each distinct cause under it; an
    empty message (TFX raises NotFoundError() bare) says so instead of
    leaving a dangling colon."""
    parts, seen = [], set()
    cause: Optional[BaseException] = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        message = str(cause).strip() or "(no message)"
        text = f"{type(cause).__name__}: {message}"
        if not parts or text != parts[-1]:
            parts.append(text)
        cause = cause.__cause__ or cause.__context__
    return "; caused by ".join(parts)


def describe_failure(error: BaseException, component: Optional[str],
                     log_file: Path) -> str:
    """One paragraph: what failed, where, and where the details are."""
    from imgpipe_components.data_gate.errors import DataValidationError

    cause: Optional[BaseException] = error
    while cause is not None:
        if isinstance(cause, DataValidationError):
            return str(cause)
        cause = cause.__cause__ or cause.__context__
    where = f" in component {component}" if component else ""
    return (f"The pipeline failed{where}: {explain_error(error)}\n"
            f"The full log with the traceback is {log_file}. Completed "
            "components are cached: fix the cause and run again to resume.")
