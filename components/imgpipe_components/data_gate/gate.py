"""The data gate's verdict: GX findings plus TFDV anomalies."""
from __future__ import annotations

import dataclasses
import os
from typing import Dict, List

from imgpipe_components.data_gate import drift, metadata_table, suite
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

    @property
    def passed(self) -> bool:
        return not self.critical_failures and not self.schema_anomalies


def run_gate(examples_uri: str, anomalies_uri: str, config: DataGateConfig,
             docs_dir: str) -> Verdict:
    from imgpipe_components.image_example_gen.executor import (read_labels,
                                                       read_quarantine,
                                                       read_reference)
    class_names = read_labels(examples_uri)
    quarantined = read_quarantine(examples_uri)
    table = metadata_table.build_table(
        [metadata_table.read_metadata(examples_uri, split)
         for split in ("train", "eval")], quarantined,
        read_reference(examples_uri))
    findings = suite.validate(table, config, class_names, docs_dir)
    failed = [f for f in findings if not f.success]
    anomalies = (schema_anomalies(anomalies_uri)
                 if config.fail_on_schema_anomalies else [])
    return Verdict(
        images=int((table["decodable"] == 1).sum()),
        quarantined=len(quarantined),
        critical_failures=[f for f in failed if f.severity == suite.CRITICAL],
        warnings=[f for f in failed if f.severity != suite.CRITICAL],
        schema_anomalies=anomalies,
        data_docs=os.path.join(docs_dir, "index.html"),
        drift={column: float(table[column].max())
               for column in (drift.LABEL_DRIFT, drift.SIZE_DRIFT)
               if column in table})


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
             f"over {verdict.images} images ({verdict.quarantined} quarantined)."]
    for finding in verdict.critical_failures:
        lines.append(f"  - {finding.expectation} on '{finding.column}': "
                     + _evidence(finding))
    lines += [f"  - TFDV anomaly {line}" for line in verdict.schema_anomalies]
    lines.append(f"Full report: {verdict.data_docs} "
                 f"(and {os.path.join(report_dir, 'report.json')}). Fix or "
                 "remove the offending images, or relax the bounds in the "
                 "data gate config if the data is right.")
    raise DataValidationError("\n".join(lines))


def _evidence(finding: suite.Finding) -> str:
    """Counts and example ids for row checks; the observed value otherwise."""
    if finding.unexpected_count or finding.example_ids:
        examples = ", ".join(finding.example_ids) or "-"
        return f"{finding.unexpected_count} image(s); e.g. {examples}"
    return f"observed {finding.observed or '-'}"
