"""When a canary may become stable: pure decisions over recorded evaluations.

The pusher writes each version's evaluation into
`<version>/assets.extra/evaluation.json` (TF Serving ignores assets.extra,
and the record travels with the model). A canary is promoted when its
accuracy is at least the stable version's; with no record on either side
there is nothing to compare, and only `--force` with a reason promotes.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Optional

EVALUATION_FILE = Path("assets.extra") / "evaluation.json"


@dataclasses.dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str


def read_evaluation(version_dir: Path) -> Optional[dict]:
    try:
        return json.loads((Path(version_dir) / EVALUATION_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _accuracy(evaluation: Optional[dict]) -> Optional[float]:
    value = (evaluation or {}).get("accuracy")
    return float(value) if isinstance(value, (int, float)) else None


def may_promote(candidate_version: int, candidate: Optional[dict],
                stable_version: int, stable: Optional[dict]) -> Decision:
    """Candidate accuracy >= stable accuracy, both recorded."""
    mine, theirs = _accuracy(candidate), _accuracy(stable)
    if mine is None:
        return Decision(False, f"version {candidate_version} has no recorded "
                               f"accuracy ({EVALUATION_FILE}); promote with "
                               "--force and a --reason to override")
    if theirs is None:
        return Decision(False, f"stable version {stable_version} has no "
                               f"recorded accuracy ({EVALUATION_FILE}) to "
                               "compare with; promote with --force and a "
                               "--reason to override")
    if mine >= theirs:
        return Decision(True, f"accuracy {mine:.4f} >= stable version "
                              f"{stable_version}'s {theirs:.4f}")
    return Decision(False, f"accuracy {mine:.4f} < stable version "
                           f"{stable_version}'s {theirs:.4f}")
