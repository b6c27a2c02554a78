"""How a run's data is shown on the terminal: files read, quarantined at
ingestion and excluded by the data gate (by reason), the gate's warnings,
and where the lists are."""
from __future__ import annotations

from typing import Dict, Optional

from rich.console import Console
from rich.markup import escape

from imgpipe.runners.local.data_summary import DataSummary


def _by_reason(counts: Dict[str, int]) -> str:
    return ", ".join(f"{count} {reason}" for reason, count in counts.items())


def print_data_summary(console: Console, data: Optional[DataSummary]) -> None:
    if data is None:
        return

    def say(text: str) -> None:
        # Not wrapped, so that a path stays whole for copying.
        console.print(text, soft_wrap=True)

    quarantined = sum(data.quarantined.values())
    excluded = sum(data.excluded.values())
    say(f"Data: {data.read} files read, {data.ingested} ingested, "
        f"{quarantined} quarantined at ingestion"
        + (f" ({escape(_by_reason(data.quarantined))})" if quarantined
           else "") + ".")
    if quarantined:
        say(f"  Quarantine list: {escape(data.quarantine_list)}")
    say(f"Data gate: {excluded} image(s) excluded"
        + (f" ({escape(_by_reason(data.excluded))})" if excluded else "")
        + f"; {data.used} used for training and evaluation.")
    if excluded:
        say(f"  Excluded list: {escape(data.excluded_list)}")
    say(f"  Gate report: {escape(data.gate_report)} (Data Docs: "
        f"{escape(data.data_docs)})")
    for line in data.warnings:
        say(f"  Gate warning: {escape(line)}")
    if data.unlabelled_quarantined:
        say(f"Unlabelled images: {sum(data.unlabelled_quarantined.values())}"
            " quarantined at ingestion ("
            f"{escape(_by_reason(data.unlabelled_quarantined))}).")
        say(f"  Quarantine list: {escape(data.unlabelled_quarantine_list)}")
