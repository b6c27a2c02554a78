"""The Great Expectations suite over the image metadata, and its verdict.

Severity per expectation: `critical` failures stop the pipeline before
training; `warning` failures are reported and the run goes on.
"""
from __future__ import annotations

import dataclasses
from typing import List

import pandas as pd

from imgpipe_components.data_gate.settings import DataGateConfig

CRITICAL, WARNING = "critical", "warning"
MAX_EXAMPLE_IDS = 5


@dataclasses.dataclass(frozen=True)
class Finding:
    expectation: str
    column: str
    severity: str
    success: bool
    unexpected_count: int
    example_ids: List[str]
    observed: str = ""   # for table-level checks, e.g. a drift value


def build_suite(config: DataGateConfig, class_names: List[str],
                with_drift: bool = False):
    import great_expectations as gx
    from great_expectations.expectations.row_conditions import Column

    ingested = Column("decodable") == 1
    x = gx.expectations
    # (expectation, severity); `row_condition` skips quarantined rows, which
    # have no metadata, for the checks that are about image content.
    checks = [
        (x.ExpectColumnValuesToBeInSet(column="decodable", value_set=[1]),
         WARNING),
        (x.ExpectColumnValuesToBeInSet(
            column="decodable", value_set=[1], mostly=0.95), CRITICAL),
        (x.ExpectColumnValuesToBeInSet(
            column="format", value_set=list(config.allowed_formats),
            row_condition=ingested), CRITICAL),
        (x.ExpectColumnValuesToBeBetween(
            column="height", min_value=config.min_side,
            max_value=config.max_side, row_condition=ingested), CRITICAL),
        (x.ExpectColumnValuesToBeBetween(
            column="width", min_value=config.min_side,
            max_value=config.max_side, row_condition=ingested), CRITICAL),
        (x.ExpectColumnValuesToBeInSet(
            column="channels", value_set=list(config.allowed_channels),
            row_condition=ingested), CRITICAL),
        (x.ExpectColumnValuesToBeInSet(
            column="label_name", value_set=list(class_names),
            row_condition=ingested), CRITICAL),
        (x.ExpectColumnValuesToBeBetween(
            column="label", min_value=0, max_value=len(class_names) - 1,
            row_condition=ingested), CRITICAL),
        (x.ExpectTableRowCountToBeBetween(min_value=config.min_rows),
         CRITICAL),
        # Every class of the vocabulary has images (a class without rows
        # escapes the per-row count check below).
        (x.ExpectColumnDistinctValuesToContainSet(
            column="label_name", value_set=list(class_names),
            row_condition=ingested), CRITICAL),
        (x.ExpectColumnValuesToBeBetween(
            column="class_count", min_value=config.min_per_class,
            max_value=config.max_per_class or None,
            row_condition=ingested), CRITICAL),
        (x.ExpectColumnValuesToBeBetween(
            column="class_count_over_smallest",
            max_value=config.max_class_imbalance, row_condition=ingested),
         CRITICAL if config.imbalance_is_critical else WARNING),
        (x.ExpectCompoundColumnsToBeUnique(
            column_list=["split", "content_hash"], row_condition=ingested),
         CRITICAL),
        (x.ExpectColumnValuesToBeInSet(
            column="leaked_into_eval", value_set=[False]), CRITICAL),
    ]
    if with_drift:
        checks += _drift_checks(config)
    suite = gx.ExpectationSuite(name="image_metadata")
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


def validate(table: pd.DataFrame, config: DataGateConfig,
             class_names: List[str], docs_dir: str) -> List[Finding]:
    """Runs the suite through a checkpoint that writes Data Docs HTML."""
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.add_data_docs_site(site_name="local", site_config={
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                          "base_directory": docs_dir},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    })
    batch = (context.data_sources.add_pandas("images")
             .add_dataframe_asset("image_metadata")
             .add_batch_definition_whole_dataframe("all"))
    from imgpipe_components.data_gate.metadata_table import has_drift_columns

    suite = context.suites.add(build_suite(config, class_names,
                                           has_drift_columns(table)))
    definition = context.validation_definitions.add(gx.ValidationDefinition(
        name="image_metadata", data=batch, suite=suite))
    checkpoint = context.checkpoints.add(gx.Checkpoint(
        name="data_gate", validation_definitions=[definition],
        actions=[UpdateDataDocsAction(name="docs", site_names=["local"])],
        result_format={"result_format": "COMPLETE",
                       "unexpected_index_column_names": ["image_id"]}))
    result = checkpoint.run(batch_parameters={"dataframe": table})
    (run_result,) = result.run_results.values()
    return [_finding(r) for r in run_result.results]


def _finding(result) -> Finding:
    config = result.expectation_config
    detail = result.result or {}
    ids = [row["image_id"] if isinstance(row, dict) else str(row)
           for row in (detail.get("unexpected_index_list") or [])]
    return Finding(
        expectation=config.type, column=config.kwargs.get("column") or
        ",".join(config.kwargs.get("column_list") or []) or "(table)",
        severity=str(getattr(config, "severity", CRITICAL).value
                     if hasattr(getattr(config, "severity", None), "value")
                     else getattr(config, "severity", CRITICAL)),
        success=bool(result.success),
        unexpected_count=int(detail.get("unexpected_count") or 0),
        example_ids=sorted(set(ids))[:MAX_EXAMPLE_IDS],
        observed=_observed(detail))


def _observed(detail: dict) -> str:
    """A table-level check's evidence: the value, or what is missing."""
    if detail.get("partial_missing_list"):
        return "missing: " + ", ".join(map(str, detail["partial_missing_list"]))
    value = detail.get("observed_value")
    if value is None:
        return ""
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    return text if len(text) <= 200 else text[:197] + "..."
