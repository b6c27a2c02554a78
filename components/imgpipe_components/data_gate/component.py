"""DataGate: the last stop for bad data before augmentation and training.

Runs the Great Expectations suites (`suite.py`) over the per-image metadata
and reads TFDV's anomalies from ExampleValidator. An image with a per-image
defect is excluded, not fatal: the report lists it with its reason
(report.json `excluded`, and excluded.jsonl), and Augment leaves it out of
both splits it writes. Critical failures (too many exclusions, data-set
checks, schema anomalies) raise `DataValidationError` after the report is
written, which stops the run: nothing downstream (augmentation, Transform,
Trainer) consumes the report artifact of a failed gate, so nothing trains on
bad data.
"""

import dataclasses
import json
import os

from tfx.dsl.component.experimental.annotations import (InputArtifact,
                                                        OutputArtifact,
                                                        Parameter)
from tfx.dsl.component.experimental.decorators import component
from tfx.types.standard_artifacts import (ExampleAnomalies, Examples,
                                          ExampleValidationMetrics)

from imgpipe_components.storage import artifact_files

from imgpipe_components.data_gate.report_location import (
    DOCS_DIR, REPORT_FILE, report_folder)


@component
def DataGate(examples: InputArtifact[Examples],
             anomalies: InputArtifact[ExampleAnomalies],
             report: OutputArtifact[ExampleValidationMetrics],
             gate_config: Parameter[str]) -> None:
    import tempfile

    from imgpipe_components.data_gate import exclusions, gate
    from imgpipe_components.data_gate.settings import DataGateConfig
    from imgpipe_components.settings_codec import from_json

    config = from_json(DataGateConfig, gate_config)
    # GX writes Data Docs to a local folder; on Kubeflow the artifact lives
    # in an object store, so the HTML is copied there through tf.io.gfile.
    with tempfile.TemporaryDirectory() as local_docs:
        verdict = gate.run_gate(examples.uri, anomalies.uri, config,
                                local_docs)
        folder = report_folder(report.uri, verdict.passed)
        docs_uri = os.path.join(folder, DOCS_DIR)
        _copy_tree(local_docs, docs_uri)
    verdict = dataclasses.replace(
        verdict, data_docs=os.path.join(docs_uri, "index.html"))
    artifact_files.write_text(os.path.join(folder, REPORT_FILE),
                              json.dumps(dataclasses.asdict(verdict), indent=2))
    report.set_int_custom_property("critical_failures",
                                   len(verdict.critical_failures))
    report.set_int_custom_property("warnings", len(verdict.warnings))
    exclusions.write(verdict.excluded, folder)
    report.set_int_custom_property("excluded_count", len(verdict.excluded))
    for column, value in verdict.drift.items():
        report.set_float_custom_property(column, value)
    gate.raise_if_failed(verdict, folder)


def _copy_tree(local_dir: str, uri: str) -> None:
    import tensorflow as tf
    for folder, _, names in os.walk(local_dir):
        relative = os.path.relpath(folder, local_dir)
        target = uri if relative == "." else os.path.join(uri, relative)
        tf.io.gfile.makedirs(target)
        for name in names:
            tf.io.gfile.copy(os.path.join(folder, name),
                             os.path.join(target, name), overwrite=True)
