"""DataCheck and RecordCompletedRun: a scheduled run with nothing new ends
early, on Kubeflow Pipelines.

Locally TFX's own cache does this: ExampleGen's driver fingerprints the
input files, every node carries its settings and code fingerprint, and the
baseline resolver reads the stable label, so a run with nothing new serves
every step from ML Metadata in seconds. Open-source KFP runs no ExampleGen
driver and keys its cache on artifact identities, so every scheduled run
would ingest and train again. There, DataCheck runs first and compares the
fingerprint of what the run would train on (fingerprint.py) with the one
RecordCompletedRun wrote at the end of the last run that went through; the
rest of the DAG runs under a condition on DataCheck's `changed` property,
so an unchanged run skips it and ends.
"""
# No `from __future__ import annotations`: TFX reads the type hints.
from tfx.dsl.component.experimental.annotations import (InputArtifact,
                                                        OutputArtifact,
                                                        Parameter)
from tfx.dsl.component.experimental.decorators import component
from tfx.types.standard_artifacts import ExternalArtifact, PushedModel

CHANGED_PROPERTY = "changed"
FINGERPRINT_PROPERTY = "fingerprint"
STABLE_KEY = "stable_version"          # in the record, as the run ended
DATA_CHECK_ID = "DataCheck"
RECORD_ID = "RecordCompletedRun"


@component
def DataCheck(report: OutputArtifact[ExternalArtifact],
              data_root: Parameter[str], span_pattern: Parameter[str],
              model_store: Parameter[str], record: Parameter[str],
              definition: Parameter[str],
              run_parameters: Parameter[str] = "") -> None:
    """`changed` = 1 unless the data, the pipeline definition (with this
    run's parameters) and the stable version are those of the last
    completed run."""
    from absl import logging

    from imgpipe_components.data_check import fingerprint as fp
    from imgpipe_components.model_store.in_service import servable_stable_version

    stats = fp.data_stats(data_root, span_pattern)
    current = fp.fingerprint(stats, definition + run_parameters)
    stable = servable_stable_version(model_store)
    last = fp.read_record(record) or {}
    # The stable version as the last run left it: its own push may have
    # made its model stable, which is no reason to run again.
    changed = (last.get(FINGERPRINT_PROPERTY) != current
               or last.get(STABLE_KEY) != stable)
    logging.info(
        "%s: %d files under %s; %s", DATA_CHECK_ID, len(stats), data_root,
        "something changed since the last completed run: the pipeline runs"
        if changed else f"nothing changed since the run of {last.get('at')}"
        ": no step after this one runs")
    report.set_int_custom_property(CHANGED_PROPERTY, int(changed))
    report.set_string_custom_property(FINGERPRINT_PROPERTY, current)


@component
def RecordCompletedRun(data_check: InputArtifact[ExternalArtifact],
                       pushed_model: InputArtifact[PushedModel],
                       record: Parameter[str],
                       model_store: Parameter[str]) -> None:
    """Writes the run's fingerprint once the Pusher has finished (pushed or
    not: a refused model on the same data would be refused again)."""
    import datetime

    from imgpipe_components.data_check import fingerprint as fp
    from imgpipe_components.model_store.in_service import servable_stable_version

    fp.write_record(record, {
        FINGERPRINT_PROPERTY: data_check.get_string_custom_property(
            FINGERPRINT_PROPERTY),
        STABLE_KEY: servable_stable_version(model_store),
        "pushed": bool(pushed_model.get_int_custom_property("pushed")),
        "at": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds")})
