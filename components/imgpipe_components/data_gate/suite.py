"""The Great Expectations suites over the image metadata.

Two suites, run in turn by `gate.py`:

* `image_checks`, per image, over everything offered (the metadata table of
  `metadata_table.py`). An image that fails one of the *excluding* checks
  (size, format, channels, label, label conflict, leakage, duplicate) is
  excluded from the run instead of stopping it; GX's `mostly` is the
  tolerance, so a check fails, and stops the run, only when it would exclude
  more than its share of the images. The failing rows come from GX's own
  result (`unexpected_index_list`, keyed by `image_id`).
* `data_set_checks`, over the images that remain: row count, classes
  present, per-class counts, imbalance, no shared content, drift, and the
  share of all exclusions together.

Severity per expectation: `critical` failures stop the pipeline before
training; `warning` failures are reported and the run goes on.
"""
from __future__ import annotations

import dataclasses
from typing import List

from imgpipe_components.data_gate.settings import DataGateConfig

CRITICAL, WARNING = "critical", "warning"
MAX_EXAMPLE_IDS = 5
# Per-image check columns whose failing images are excluded, in the order
# an image's reason is taken when it fails several.
EXCLUDING = ("format", "height", "width", "channels", "label_name", "label",
             "label_conflict", "leaked_into_eval", "duplicate_of")
# What a check with a tolerance is about, for the error message.
TITLES = {"format": "image format", "height": "image height",
          "width": "image width", "channels": "channel count",
          "label_name": "class name", "label": "label index",
          "label_conflict": "the same content under two classes",
          "leaked_into_eval": "the same content in train and eval",
          "duplicate_of": "the same content twice in one class",
          "excluded": "all exclusions together"}
EXCLUDED_SETTING = "data_gate.max_excluded_fraction"
DUPLICATE_SETTING = "data_gate.max_duplicate_fraction"


@dataclasses.dataclass(frozen=True)
class Finding:
    expectation: str
    column: str
    severity: str
    success: bool
    unexpected_count: int
    example_ids: List[str]
    observed: str = ""   # for table-level checks, e.g. a drift value
    # For checks with a tolerance: the share of the images that failed, the
    # share allowed (1 - GX's `mostly`) and the setting that holds it.
    share: float = 0.0
    tolerance: float = 0.0
    setting: str = ""


@dataclasses.dataclass(frozen=True)
class Outcome:
    """One expectation's finding, with GX's failing rows (dicts of
    `image_id` and the column's value) and the expectation's arguments."""
    finding: Finding
    rows: List[dict]
    kwargs: dict


def _ingested():
    from great_expectations.expectations.row_conditions import Column
    return Column("decodable") == 1


def _kept():
    from great_expectations.expectations.row_conditions import Column
    return Column("kept") == 1


def image_suite(config: DataGateConfig, class_names: List[str]):
    """Per-image checks over every offered file (see the module doc)."""
    import great_expectations as gx

    x = gx.expectations
    sides = dict(min_value=config.min_side, max_value=config.max_side)
    excluding = [
        (x.ExpectColumnValuesToBeInSet,
         dict(column="format", value_set=list(config.allowed_formats))),
        (x.ExpectColumnValuesToBeBetween, dict(column="height", **sides)),
        (x.ExpectColumnValuesToBeBetween, dict(column="width", **sides)),
        (x.ExpectColumnValuesToBeInSet,
         dict(column="channels", value_set=list(config.allowed_channels))),
        (x.ExpectColumnValuesToBeInSet,
         dict(column="label_name", value_set=list(class_names))),
        (x.ExpectColumnValuesToBeBetween,
         dict(column="label", min_value=0, max_value=len(class_names) - 1)),
        (x.ExpectColumnValuesToBeNull, dict(column="label_conflict")),
        (x.ExpectColumnValuesToBeNull, dict(column="leaked_into_eval")),
        (x.ExpectColumnValuesToBeNull, dict(column="duplicate_of")),
    ]
    checks = [
        (x.ExpectColumnValuesToBeInSet(column="decodable", value_set=[1]),
         WARNING),
        (x.ExpectColumnValuesToBeInSet(
            column="decodable", value_set=[1], mostly=0.95), CRITICAL),
    ]
    for make, kwargs in excluding:
        if kwargs["column"] == "duplicate_of":
            setting, tolerance = (DUPLICATE_SETTING,
                                  config.max_duplicate_fraction)
        else:
            setting, tolerance = EXCLUDED_SETTING, config.max_excluded_fraction
        checks.append((make(
            **kwargs, mostly=1 - tolerance, row_condition=_ingested(),
            meta={"setting": setting},
            notes=("Per image: a failing image is excluded from training and "
                   f"evaluation; the run stops if more than {tolerance:.2%} "
                   f"of the images fail ({setting}).")), CRITICAL))
    return _suite("image_checks", checks)


def data_set_suite(config: DataGateConfig, class_names: List[str],
                   with_drift: bool = False):
    """Checks of the data set that remains after the exclusions."""
    import great_expectations as gx

    x = gx.expectations
    kept = _kept()
    checks = [
        # All exclusions together (copies in their own class aside).
        (x.ExpectColumnValuesToBeInSet(
            column="excluded", value_set=[0],
            mostly=1 - config.max_excluded_fraction,
            row_condition=_ingested(),
            meta={"setting": EXCLUDED_SETTING}), CRITICAL),
        (x.ExpectTableRowCountToBeBetween(min_value=config.min_rows,
                                          row_condition=kept), CRITICAL),
        # Every class of the vocabulary has images (a class without rows
        # escapes the per-row count check below).
        (x.ExpectColumnDistinctValuesToContainSet(
            column="label_name", value_set=list(class_names),
            row_condition=kept), CRITICAL),
        (x.ExpectColumnValuesToBeBetween(
            column="class_count", min_value=config.min_per_class,
            max_value=config.max_per_class or None,
            row_condition=kept), CRITICAL),
        (x.ExpectColumnValuesToBeBetween(
            column="class_count_over_smallest",
            max_value=config.max_class_imbalance, row_condition=kept),
         CRITICAL if config.imbalance_is_critical else WARNING),
        # No duplicate, label conflict or train/eval leak remains.
        (x.ExpectColumnValuesToBeUnique(column="content_hash",
                                        row_condition=kept), CRITICAL),
    ]
    if with_drift:
        checks += _drift_checks(config)
    return _suite("data_set_checks", checks)


def _suite(name: str, checks):
    import great_expectations as gx

    suite = gx.ExpectationSuite(name=name)
    for expectation, severity in checks:
        expectation.severity = severity
        suite.add_expectation(expectation)
    return suite


def _drift_checks(config: DataGateConfig):
    """Bounds on the divergence from the previous span (see drift.py)."""
    import great_expectations as gx

    from imgpipe_components.data_gate import drift

    severity = CRITICAL if config.drift_is_critical else WARNING
    return [(gx.expectations.ExpectColumnMaxToBeBetween(
        column=column, max_value=bound), severity)
        for column, bound in ((drift.LABEL_DRIFT, config.max_label_drift),
                              (drift.SIZE_DRIFT, config.max_size_drift))]


def outcome(result) -> Outcome:
    """An Outcome from one GX ExpectationValidationResult."""
    config = result.expectation_config
    detail = result.result or {}
    rows = [row if isinstance(row, dict) else {"image_id": str(row)}
            for row in (detail.get("unexpected_index_list") or [])]
    mostly = config.kwargs.get("mostly")
    severity = getattr(config, "severity", CRITICAL)
    finding = Finding(
        expectation=config.type, column=config.kwargs.get("column") or
        ",".join(config.kwargs.get("column_list") or []) or "(table)",
        severity=str(getattr(severity, "value", severity)),
        success=bool(result.success),
        unexpected_count=int(detail.get("unexpected_count") or 0),
        example_ids=sorted({str(row["image_id"]) for row in rows}
                           )[:MAX_EXAMPLE_IDS],
        observed=_observed(detail),
        share=float(detail.get("unexpected_percent") or 0) / 100,
        tolerance=round(1 - mostly, 10) if mostly is not None else 0.0,
        setting=(config.meta or {}).get("setting", ""))
    return Outcome(finding, rows, dict(config.kwargs))


def _observed(detail: dict) -> str:
    """A table-level check's evidence: the value, or what is missing."""
    if detail.get("partial_missing_list"):
        return "missing: " + ", ".join(map(str, detail["partial_missing_list"]))
    value = detail.get("observed_value")
    if value is None:
        return ""
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    return text if len(text) <= 200 else text[:197] + "..."
