"""The data gate's verdict: GX findings, exclusions and TFDV anomalies."""
from __future__ import annotations

import dataclasses
import os
from typing import Dict, List, Tuple

import pandas as pd

from imgpipe_components.data_gate import (drift, exclusions, metadata_table,
                                          offline_docs, suite, validation)
from imgpipe_components.data_gate.errors import DataValidationError
from imgpipe_components.data_gate.settings import DataGateConfig


@dataclasses.dataclass(frozen=True)
class Verdict:
    images: int
    quarantined: int
    critical_failures: List[suite.Finding]
    warnings: List[suite.Finding]
    schema_anomalies: List[str]
    data_docs: str
    # Divergence from the previous span, by column; empty without spans.
    drift: Dict[str, float] = dataclasses.field(default_factory=dict)
    # Images left out of the run: {"image_id", "class", "reason", "check"}.
    excluded: List[dict] = dataclasses.field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.critical_failures and not self.schema_anomalies


def check_table(table: pd.DataFrame, config: DataGateConfig,
                class_names: List[str], docs_dir: str
                ) -> Tuple[List[suite.Finding], List[dict]]:
    """Both suites over `table`: the per-image checks, whose failing images
    are excluded, then the data-set checks over what remains. Returns every
    finding and the excluded images; writes offline Data Docs."""
    validator = validation.Validator(docs_dir)
    per_image = validator.run(suite.image_suite(config, class_names), table)
    excluded = exclusions.from_outcomes(per_image, table)
    remaining = metadata_table.after_exclusion(
        table, {record["image_id"]: record["check"] for record in excluded})
    data_set = validator.run(suite.data_set_suite(
        config, class_names, metadata_table.has_drift_columns(table)),
        remaining)
    offline_docs.make_offline(docs_dir)
    return [o.finding for o in per_image + data_set], excluded


def run_gate(examples_uri: str, anomalies_uri: str, config: DataGateConfig,
             docs_dir: str) -> Verdict:
    from imgpipe_components.image_example_gen.executor import (read_labels,
                                                       read_quarantine,
                                                       read_reference)
    table = metadata_table.build_table(
        [metadata_table.read_metadata(examples_uri, split)
         for split in ("train", "eval")], read_quarantine(examples_uri),
        read_reference(examples_uri))
    anomalies = (schema_anomalies(anomalies_uri)
                 if config.fail_on_schema_anomalies else [])
    return verdict_for(table, config, read_labels(examples_uri), docs_dir,
                       anomalies)


def verdict_for(table: pd.DataFrame, config: DataGateConfig,
                class_names: List[str], docs_dir: str,
                anomalies: List[str] = ()) -> Verdict:
    """The verdict on a metadata table (and the TFDV anomalies found)."""
    findings, excluded = check_table(table, config, class_names, docs_dir)
    failed = [f for f in findings if not f.success]
    return Verdict(
        images=int((table["decodable"] == 1).sum()),
        quarantined=int((table["decodable"] == 0).sum()),
        critical_failures=[f for f in failed if f.severity == suite.CRITICAL],
        warnings=[f for f in failed if f.severity != suite.CRITICAL],
        schema_anomalies=list(anomalies),
        data_docs=os.path.join(docs_dir, "index.html"),
        drift={column: float(table[column].max())
               for column in (drift.LABEL_DRIFT, drift.SIZE_DRIFT)
               if column in table},
        excluded=excluded)


def schema_anomalies(anomalies_uri: str) -> List[str]:
    """TFDV anomalies per split, as 'split/feature: description' lines."""
    import tensorflow as tf
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    lines = []
    for path in sorted(tf.io.gfile.glob(f"{anomalies_uri}/Split-*/SchemaDiff.pb")):
        split = os.path.basename(os.path.dirname(path))[len("Split-"):]
        with tf.io.gfile.GFile(path, "rb") as handle:
            anomalies = anomalies_pb2.Anomalies.FromString(handle.read())
        for feature, info in sorted(anomalies.anomaly_info.items()):
            lines.append(f"{split}/{feature}: {info.short_description}")
    return lines


def raise_if_failed(verdict: Verdict, report_dir: str) -> None:
    if verdict.passed:
        return
    lines = [f"The data gate stopped the run before training: "
             f"{len(verdict.critical_failures)} critical check(s) failed and "
             f"{len(verdict.schema_anomalies)} schema anomaly(ies) found "
             f"over {verdict.images} images ({verdict.quarantined} "
             f"quarantined, {len(verdict.excluded)} excluded or to "
             "exclude)."]
    for finding in verdict.critical_failures:
        title = suite.TITLES.get(finding.column)
        lines.append(f"  - {finding.expectation} on '{finding.column}'"
                     + (f" ({title})" if title and finding.setting else "")
                     + ": " + _evidence(finding))
    lines += [f"  - TFDV anomaly {line}" for line in verdict.schema_anomalies]
    lines.append(f"Full report: {verdict.data_docs} "
                 f"(and {os.path.join(report_dir, 'report.json')}; each image "
                 "and its reason in "
                 f"{os.path.join(report_dir, exclusions.EXCLUDED_FILE)}). Fix "
                 "or remove the offending images, or relax the bounds in the "
                 "data gate config if the data is right.")
    raise DataValidationError("\n".join(lines),
                              report=os.path.join(report_dir, "report.json"))


def _evidence(finding: suite.Finding) -> str:
    """Counts, share against the tolerance, example ids for row checks; the
    observed value for table checks."""
    examples = ", ".join(finding.example_ids) or "-"
    if finding.setting:
        return (f"{finding.unexpected_count} image(s), {finding.share:.2%} of "
                f"the images, over the tolerance of {finding.tolerance:.2%}; "
                f"e.g. {examples}. If leaving them out of the run is right, "
                f"raise {finding.setting} (now {finding.tolerance:g}).")
    if finding.unexpected_count or finding.example_ids:
        return f"{finding.unexpected_count} image(s); e.g. {examples}"
    return f"observed {finding.observed or '-'}"
