"""Spans: which folder under the data root a run ingests, and its reference.

The input pattern is `<span_pattern>/<format glob>`, e.g.
`span-{SPAN}/*/*`. Locally, TFX's ExampleGen driver resolves `{SPAN}` to the
latest span before the executor runs (and fingerprints its files for
caching). Open-source Kubeflow Pipelines skips that driver, so the executor
resolves the span itself from the same listing when the pattern still holds
`{SPAN}`; both paths pick the largest span number, as TFX does. The span
before it, when there is one, is the drift reference for the data gate.

Only `{SPAN}` and `{SPAN:width}` are supported (no `{VERSION}` or dates).
"""
from __future__ import annotations

import dataclasses
import re
from typing import Dict, Optional

# {SPAN} or {SPAN:width}: TFX's SPAN_FULL_REGEX (example_gen/utils.py),
# repeated here because importing that module imports TensorFlow.
SPAN_TOKEN = "{SPAN}|{SPAN:(?P<width>.*?)}"


@dataclasses.dataclass(frozen=True)
class SpanChoice:
    span: int
    folder: str                      # relative to the data root; "" = no spans
    previous_span: Optional[int] = None
    previous_folder: Optional[str] = None


def has_span(pattern: str) -> bool:
    return re.search(SPAN_TOKEN, pattern) is not None


def span_folders(span_pattern: str, dirs) -> Dict[int, str]:
    """{span number: folder} for every folder in `dirs` matching the pattern."""
    depth = span_pattern.count("/") + 1
    regex = _pattern_regex(span_pattern)
    found: Dict[int, str] = {}
    for folder in dirs:
        if folder.count("/") + 1 != depth:
            continue
        match = re.fullmatch(regex, folder)
        if match:
            span = int(match.group("span"))
            found[span] = min(found.get(span, folder), folder)
    return found


def choose(span_pattern: str, dirs, resolved_span: Optional[int] = None
           ) -> SpanChoice:
    """The span to ingest (the driver's, or the latest) and the one before."""
    if not span_pattern:
        return SpanChoice(span=0, folder="")
    available = span_folders(span_pattern, dirs)
    if not available:
        raise ValueError(
            f"No folder under the data root matches the span pattern "
            f"{span_pattern!r} (found: {', '.join(sorted(dirs)[:5]) or 'none'}"
            "). Name span folders like the pattern, e.g. "
            f"{span_pattern.replace('{SPAN}', '1')!r}.")
    span = max(available) if resolved_span is None else resolved_span
    if span not in available:
        raise ValueError(f"Span {span} has no folder matching {span_pattern!r}.")
    earlier = [s for s in available if s < span]
    previous = max(earlier) if earlier else None
    return SpanChoice(span, available[span], previous,
                      available.get(previous) if previous is not None else None)


def resolved_span(pattern: str, span_pattern: str) -> Optional[int]:
    """The span the driver substituted into `pattern`, or None if it did not
    run (the pattern still holds `{SPAN}`)."""
    if not span_pattern or has_span(pattern):
        return None
    prefix_depth = span_pattern.count("/") + 1
    folder = "/".join(pattern.split("/")[:prefix_depth])
    spans = span_folders(span_pattern, [folder])
    return next(iter(spans)) if spans else None


def _pattern_regex(span_pattern: str) -> str:
    """`{SPAN}` -> a named digit group; glob `*`/`?` stay within a folder."""
    regex, start = "", 0
    for token in re.finditer(SPAN_TOKEN, span_pattern):
        regex += _glob_piece(span_pattern[start:token.start()])
        width = token.group("width")
        digits = r"\d+" if width is None else r"\d{%d}" % int(width)
        regex += f"(?P<span>{digits})"
        start = token.end()
    return regex + _glob_piece(span_pattern[start:])


def _glob_piece(text: str) -> str:
    return re.escape(text).replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
