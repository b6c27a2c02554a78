"""The blessing decision as plain data: one check per gated metric.

Kept free of TFMA and TFX so it is cheap to test on synthetic inputs.
"""
from __future__ import annotations

from typing import Dict, List, Optional


def threshold_check(metric: str, candidate: Optional[float],
                    baseline: Optional[float], lower_bound: Optional[float],
                    max_drop: Optional[float]) -> dict:
    """One metric's verdict. A change threshold counts only with a baseline
    (TFX drops change thresholds when there is none)."""
    reasons = []
    if lower_bound is not None and (candidate is None
                                    or candidate < lower_bound):
        reasons.append(f"{metric} {_fmt(candidate)} < lower bound "
                       f"{lower_bound}")
    if max_drop is not None and baseline is not None and (
            candidate is None or candidate - baseline < -(max_drop + 1e-10)):
        reasons.append(f"{metric} {_fmt(candidate)} dropped more than "
                       f"{max_drop} below baseline {_fmt(baseline)}")
    return {"metric": metric, "candidate": candidate, "baseline": baseline,
            "lower_bound": lower_bound, "max_drop": max_drop,
            "passed": not reasons, "reasons": reasons}


def build_decision(blessed: bool, checks: List[dict],
                   has_baseline: bool) -> Dict[str, object]:
    """`blessed` is the Evaluator's verdict (the source of truth); the
    checks say why, metric by metric."""
    return {"blessed": blessed, "has_baseline": has_baseline,
            "checks": checks,
            "reasons": [r for c in checks for r in c["reasons"]]
            or ["every gated metric passed its thresholds"]}


def _fmt(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.4f}"
