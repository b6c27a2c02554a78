"""A task's `retryPolicy` as KFP's Argo compiler passes it to Argo, and how
many attempts Argo then starts: a stand-in for the two, read in

- kubeflow/pipelines backend/src/v2/compiler/argocompiler/container.go:
  2.14.0+ `getTaskRetryParametersWithValues` (each value through Argo's
  `AnyStringPtr`, i.e. Go's `%v`; a missing duration becomes the template
  default "0") and `getTaskRetryStrategyFromInput` (factor and limit as
  IntOrString strings); 2.4.1-2.5.0 `getTaskRetryStrategy` (factor cast to
  int32, no maxDuration when unset); before 2.4.1 no retryStrategy at all;
- argoproj/argo-workflows workflow/controller/operator.go
  `processNodeRetries`: the maxDuration deadline counted from the first
  attempt's start, the wait `duration * factor**(n-1)`, the limit, and
  `util/intstr` parsing the factor with Atoi (so "1.5" is an error).
"""
from __future__ import annotations

import dataclasses
from typing import Optional, Tuple

Release = Tuple[int, int, int]


@dataclasses.dataclass(frozen=True)
class ArgoBackoff:
    limit: str
    duration: str
    factor: str
    max_duration: str          # "" when Argo gets none


def _seconds(duration: Optional[str]) -> Optional[int]:
    """A proto JSON Duration ("120s") as its whole seconds (the compiler
    reads `.Seconds`)."""
    return None if duration is None else int(float(duration.rstrip("s")))


def _go_value(value) -> str:
    """Go's fmt `%v` of a float64 or an integer."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def compile_retry(policy: dict, release: Release) -> Optional[ArgoBackoff]:
    """The retryStrategy a KFP release writes for this retryPolicy."""
    if release < (2, 4, 1):
        return None
    duration = _seconds(policy.get("backoffDuration"))
    max_duration = _seconds(policy.get("backoffMaxDuration"))
    factor = policy.get("backoffFactor", 0.0)
    if release < (2, 14, 0):
        return ArgoBackoff(str(policy.get("maxRetryCount", 0)),
                           str(duration or 0), str(int(factor)),
                           "" if max_duration is None else str(max_duration))
    return ArgoBackoff(_go_value(policy.get("maxRetryCount", 0)),
                       "0" if duration is None else _go_value(duration),
                       _go_value(float(factor)),
                       "0" if max_duration is None else _go_value(max_duration))


def attempts_started(backoff: Optional[ArgoBackoff], attempt_s: float
                     ) -> Tuple[int, bool]:
    """(attempts Argo starts when every attempt fails after `attempt_s`
    seconds, whether each ran that long rather than being cut off at the
    window's end). Raises ValueError where Argo errors the node."""
    if backoff is None:
        return 1, True
    try:
        factor, limit = int(backoff.factor), int(backoff.limit)
    except ValueError:
        raise ValueError(f"value '{backoff.factor}' cannot be resolved to "
                         "an int") from None
    base = int(backoff.duration)
    deadline = (float(int(backoff.max_duration)) if backoff.max_duration
                else None)
    finished, attempts, whole = attempt_s, 1, True
    while True:
        if deadline is not None and finished > deadline:
            return attempts, whole      # "Max duration limit exceeded"
        wait = base * factor ** (attempts - 1) if factor > 0 else base
        if deadline is not None and finished + wait > deadline:
            return attempts, whole      # "Backoff would exceed max duration"
        if attempts > limit:
            return attempts, whole      # "No more retries left"
        start = finished + wait
        end = start + attempt_s
        if deadline is not None and end > deadline:
            end, whole = deadline, False    # the pod's executionDeadline
        finished, attempts = end, attempts + 1
