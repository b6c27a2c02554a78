"""Settings of the Evaluator: when a candidate is blessed."""
from __future__ import annotations

import dataclasses
from typing import Optional

from imgpipe_components.settings_codec import check


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    min_accuracy: float = 0.9          # absolute bound
    max_accuracy_drop: float = 0.0     # allowed drop vs the model in service
    num_classes: int = 10              # class ids 0..n-1 for per-class metrics
    # Macro-averaged gates; None = reported, not gated. Change thresholds
    # apply only when a baseline exists (TFX drops them otherwise).
    min_macro_precision: Optional[float] = None
    max_macro_precision_drop: Optional[float] = None
    min_macro_recall: Optional[float] = None
    max_macro_recall_drop: Optional[float] = None
    min_macro_f1: Optional[float] = None
    max_macro_f1_drop: Optional[float] = None

    def __post_init__(self) -> None:
        check(0 <= self.min_accuracy <= 1, "evaluation.min_accuracy",
              self.min_accuracy, "between 0 and 1")
        check(0 <= self.max_accuracy_drop <= 1, "evaluation.max_accuracy_drop",
              self.max_accuracy_drop, "between 0 and 1")
        check(self.num_classes >= 2, "evaluation.num_classes",
              self.num_classes, ">= 2")
        for name in ("precision", "recall", "f1"):
            for kind in ("min", "max"):
                key = f"{kind}_macro_{name}" + ("_drop" if kind == "max" else "")
                value = getattr(self, key)
                check(value is None or 0 <= value <= 1,
                      f"evaluation.{key}", value, "empty or between 0 and 1")
