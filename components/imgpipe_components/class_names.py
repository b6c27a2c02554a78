"""Class names are data: one name per line (UTF-8), exactly as the class
folders or the manifest spell them, spaces, dots and all.

Every file that carries class names (`labels.txt` beside the examples and
the data, `class_names.txt` beside a SavedModel) is written by `to_text` and
read by `from_text`; nothing splits names on whitespace. A name is any
non-empty string without a line break: folder names such as
`striped texture`, `v1.2`, `007` or `déjà vu` are all kept as they are.
"""
from __future__ import annotations

from typing import Iterable, List

LABELS_FILE = "labels.txt"          # beside the examples and the raw data
MODEL_FILE = "class_names.txt"      # in a SavedModel's assets.extra/


class ClassNameError(ValueError):
    """A class name that no names file can hold."""


def check(names: Iterable[str], where: str) -> List[str]:
    """The names, or a ClassNameError saying which name and what to do."""
    names = list(names)
    for name in names:
        if not name or "\n" in name or "\r" in name:
            raise ClassNameError(
                f"Class name {name!r} in {where} is empty or holds a line "
                "break; class names are written one per line. Rename the "
                "class folder (or the manifest label) without it.")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ClassNameError(f"Class name(s) {', '.join(map(repr, duplicates))}"
                             f" appear more than once in {where}.")
    return names


def to_text(names: Iterable[str]) -> str:
    return "".join(f"{name}\n" for name in check(names, "the class names"))


def from_text(text: str) -> List[str]:
    """One name per line; a trailing carriage return (a file edited on
    Windows) and blank lines are not names."""
    return [line[:-1] if line.endswith("\r") else line
            for line in text.split("\n") if line.strip("\r")]
