"""A CSV manifest (`path,label` rows) beside the images it lists.

Paths are relative to the manifest's folder and may not leave it: an
absolute path, a `..` that climbs out, a URI, or a symlink whose target is
outside the folder is quarantined with the reason, as is a label outside the
vocabulary, a file that is not there, or a path listed twice; its quarantine
id is `<manifest>:<line>`. Each usable row becomes an image source that goes through the same per-image checks as the
class-folder tree.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import posixpath
from typing import List, Sequence, Tuple

from imgpipe_components.image_example_gen.image_records import Quarantined

REQUIRED_COLUMNS = ("path", "label")


class ManifestError(ValueError):
    """The manifest itself cannot be used (not per row)."""


@dataclasses.dataclass(frozen=True)
class ManifestRow:
    relative_path: str   # normalised, inside the manifest's folder
    label: int
    label_name: str


def read_rows(text: str, manifest_name: str) -> List[Tuple[int, dict]]:
    """(line number, row) pairs; checks the header names the two columns."""
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ManifestError(
            f"{manifest_name}: the header must name the columns "
            f"{', '.join(REQUIRED_COLUMNS)} (found: {', '.join(header) or 'none'}"
            "). Write one `path,label` line first, then one row per image.")
    reader.fieldnames = header
    return [(reader.line_num, {k: (v or "").strip() for k, v in row.items()
                               if k is not None})
            for row in reader]


def labels_in(rows: Sequence[Tuple[int, dict]]) -> List[str]:
    """The sorted distinct labels, a vocabulary when none is given."""
    return sorted({row["label"] for _, row in rows if row["label"]})


def resolve(rows: Sequence[Tuple[int, dict]], vocabulary: Sequence[str],
            files: Sequence[str], outside: Sequence[str], manifest_name: str
            ) -> Tuple[List[ManifestRow], List[Quarantined]]:
    """Usable rows and quarantine entries, one decision per manifest line."""
    present, escaping = set(files), set(outside)
    usable, quarantined, seen = [], [], {}
    for line, row in rows:
        written = row["path"]
        verdict = _refusal(written, row["label"], vocabulary, present,
                           escaping, seen)
        if verdict:
            # Keyed by line: a bad row may name a path another row ingests.
            quarantined.append(Quarantined(f"{manifest_name}:{line}",
                                           f"{written!r}: {verdict}"))
            continue
        path = _normalised(written)
        seen[path] = line
        usable.append(ManifestRow(path, vocabulary.index(row["label"]),
                                  row["label"]))
    return usable, quarantined


def _refusal(written: str, label: str, vocabulary: Sequence[str],
             present: set, escaping: set, seen: dict) -> str:
    """Why a row cannot be ingested, or "" if it can."""
    path = _normalised(written)
    if not written:
        return "empty path"
    if path is None:
        return ("escapes the manifest's folder (absolute, a URI, or "
                "climbing out with '..')")
    if label not in vocabulary:
        return (f"label {label!r} is not in the vocabulary "
                f"({', '.join(vocabulary)})")
    if path in seen:
        return f"listed again (first at line {seen[path]})"
    if path in escaping:
        return "a symlink that points outside the data root"
    if path not in present:
        return "listed but not found under the manifest's folder"
    return ""


def _normalised(written: str):
    """The path relative to the manifest's folder, or None if it leaves it."""
    if not written or "://" in written or written.startswith(("/", "\\")):
        return None
    path = posixpath.normpath(written.replace("\\", "/"))
    if path == ".." or path.startswith("../") or path == ".":
        return None
    return path
