"""DataCheck and RecordRun: a scheduled Kubeflow run with nothing new ends
early, and every run ends with a record and a signal.

Locally TFX's own cache does this: ExampleGen's driver fingerprints the
input files, every node carries its settings and code fingerprint, and the
baseline resolver reads the stable label, so a run with nothing new serves
every step from ML Metadata in seconds. Open-source KFP runs no ExampleGen
driver and keys its cache on artifact identities, so every scheduled run
would ingest and train again. There, DataCheck runs first and compares the
fingerprint of what the run would train on (fingerprint.py) with the record
of the last run (run_record.py, outcome.py); the rest of the DAG runs under
a condition on DataCheck's `changed` output, so an unchanged run ends.

RecordRun is the pipeline's exit handler (TFX's KubeflowV2DagRunner
`set_exit_handler`): it runs however the run ended, reads the final status
and the notes the steps wrote, writes the record (success, gate stop or
failure; a skip leaves it as it was), shows the outcome in the KFP UI and
optionally posts it to a webhook.
"""
# No `from __future__ import annotations`: TFX reads the type hints.
from tfx.dsl.component.experimental.annotations import (OutputArtifact,
                                                        Parameter)
from tfx.dsl.component.experimental.decorators import component
from tfx.orchestration.kubeflow.decorators import exit_handler
from tfx.types.standard_artifacts import ExternalArtifact

from imgpipe_components.ui_report.component import KfpMarkdown

DATA_CHECK_ID = "DataCheck"
RECORD_ID = "RecordRun"


@component
def DataCheck(report: OutputArtifact[ExternalArtifact],
              data_root: Parameter[str], span_pattern: Parameter[str],
              model_store: Parameter[str], definition: Parameter[str],
              run_parameters: Parameter[str] = "") -> None:
    """`changed` = 1 unless the data, the pipeline definition (with this
    run's parameters) and the stable version are those of the last run that
    went through or was stopped by the data gate."""
    from absl import logging

    from imgpipe_components.data_check import fingerprint as fp
    from imgpipe_components.data_check import outcome, run_record
    from imgpipe_components.model_store.in_service import servable_stable_version

    stats = fp.data_stats(data_root, span_pattern)
    current = fp.fingerprint(stats, definition + run_parameters)
    stable = str(servable_stable_version(model_store))
    record_uri = run_record.run_place(report.uri, DATA_CHECK_ID).record_uri(
        run_record.namespace())
    last, _ = run_record.read_json(record_uri)
    decision = outcome.decide(last, current, stable)
    logging.info("%s: %d files under %s; record %s: %s", DATA_CHECK_ID,
                 len(stats), data_root, record_uri, decision.reason)
    report.set_int_custom_property(outcome.CHANGED, int(decision.run))
    report.set_string_custom_property(outcome.FINGERPRINT, current)
    report.set_string_custom_property(outcome.STABLE, stable)
    report.set_string_custom_property("reason", decision.reason)


@exit_handler
def RecordRun(summary: OutputArtifact[KfpMarkdown],
              final_status: Parameter[str], model_store: Parameter[str],
              webhook: Parameter[str] = "") -> None:
    """Records and reports how the run ended (see the module docstring)."""
    from imgpipe_components.data_check import record_step

    record_step.record_run(summary.uri, final_status, model_store, webhook)
