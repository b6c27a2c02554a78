"""The images the data gate excludes, and why.

Taken from the per-image checks' GX results (`suite.Outcome.rows`: the
failing rows' `image_id` and value), one record per image (the first
excluding check it fails, in `suite.EXCLUDING` order):
{"image_id", "class", "reason", "check"}. The gate writes them into its
report (report.json `excluded`, and `excluded.jsonl` beside it); Augment
reads them back and drops these images from both splits it writes.
"""
from __future__ import annotations

import json
import os
from typing import Dict, List

import pandas as pd

from imgpipe_components.data_gate import suite

EXCLUDED_FILE = "excluded.jsonl"
# Each check's reason in a few words, for counts by reason.
KINDS = {"format": "format not allowed", "height": "size out of bounds",
         "width": "size out of bounds", "channels": "channels not allowed",
         "label_name": "label outside the vocabulary",
         "label": "label outside the vocabulary",
         "label_conflict": "label conflict",
         "leaked_into_eval": "train/eval leakage (eval copy)",
         "duplicate_of": "duplicate in its class"}


def _number(value) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else str(value)


def reason(column: str, value, kwargs: dict) -> str:
    """What is wrong with one image, with its value and the bound."""
    if column in ("height", "width"):
        low, high = _number(kwargs["min_value"]), _number(kwargs["max_value"])
        return (f"{column} {_number(value)} px outside {low}..{high} "
                "(data_gate.min_side, data_gate.max_side)")
    if column == "format":
        return (f"format {value!r} not one of {', '.join(kwargs['value_set'])}"
                " (data_gate.allowed_formats)")
    if column == "channels":
        return (f"{_number(value)} channels, not one of "
                f"{', '.join(map(str, kwargs['value_set']))} "
                "(data_gate.allowed_channels)")
    if column == "label_name":
        return f"class {value!r} is not in the label vocabulary"
    if column == "label":
        return (f"label {_number(value)} outside the vocabulary's "
                f"0..{_number(kwargs['max_value'])}")
    if column == "label_conflict":
        return f"label conflict: same content as {value}"
    if column == "leaked_into_eval":
        return (f"train/eval leakage: same content as {value} in train; the "
                "eval copy is excluded")
    if column == "duplicate_of":
        return f"duplicate: same content as {value}, which is kept"
    raise ValueError(f"{column} is not an excluding check")


def from_outcomes(outcomes: List[suite.Outcome], table: pd.DataFrame
                  ) -> List[dict]:
    """The excluded images, sorted by id, from the per-image checks."""
    by_column = {o.finding.column: o for o in outcomes
                 if o.finding.column in suite.EXCLUDING}
    classes = dict(zip(table["image_id"], table["label_name"]))
    records: Dict[str, dict] = {}
    for column in suite.EXCLUDING:
        result = by_column.get(column)
        for row in (result.rows if result else []):
            image_id = str(row["image_id"])
            if image_id not in records:
                records[image_id] = {
                    "image_id": image_id, "class": classes.get(image_id),
                    "reason": reason(column, row.get(column), result.kwargs),
                    "check": column}
    return [records[key] for key in sorted(records)]


def by_reason(records: List[dict]) -> Dict[str, int]:
    """{reason in a few words: count}, largest first."""
    counts = pd.Series([KINDS.get(r["check"], r["check"]) for r in records],
                       dtype=object)
    return {str(k): int(v) for k, v in counts.value_counts().items()}


def write(records: List[dict], report_uri: str) -> str:
    """excluded.jsonl in the report folder (one JSON record a line)."""
    from imgpipe_components.storage import artifact_files

    path = os.path.join(report_uri, EXCLUDED_FILE)
    artifact_files.write_text(path, "".join(
        json.dumps(r, sort_keys=True) + "\n" for r in records))
    return path


def read_ids(report_uri: str) -> frozenset:
    """The excluded image ids of a gate report (none if it has no list)."""
    from imgpipe_components.storage import artifact_files

    data = artifact_files.read_bytes(os.path.join(report_uri, EXCLUDED_FILE))
    return frozenset(json.loads(line)["image_id"]
                     for line in (data or b"").decode().splitlines()
                     if line.strip())
