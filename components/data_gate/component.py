"""DataGate: the last stop for bad data before augmentation and training.

Runs the Great Expectations suite (`suite.py`) over the per-image metadata
and reads TFDV's anomalies from ExampleValidator. Critical failures raise
`DataValidationError` after the report is written, which stops the run:
nothing downstream (augmentation, Transform, Trainer) consumes the report
artifact of a failed gate, so nothing trains on bad data.
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

REPORT_FILE = "report.json"
DOCS_DIR = "data_docs"


@component
def DataGate(examples: InputArtifact[Examples],
             anomalies: InputArtifact[ExampleAnomalies],
             report: OutputArtifact[ExampleValidationMetrics],
             gate_config: Parameter[str]) -> None:
    from components.data_gate import gate
    from pipelines.config import DataGateConfig

    config = DataGateConfig(**json.loads(gate_config))
    verdict = gate.run_gate(examples.uri, anomalies.uri, config,
                            os.path.join(report.uri, DOCS_DIR))
    with open(os.path.join(report.uri, REPORT_FILE), "w") as handle:
        json.dump(dataclasses.asdict(verdict), handle, indent=2)
    report.set_int_custom_property("critical_failures",
                                   len(verdict.critical_failures))
    report.set_int_custom_property("warnings", len(verdict.warnings))
    gate.raise_if_failed(verdict, report.uri)
