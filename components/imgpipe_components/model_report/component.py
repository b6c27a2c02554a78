"""ModelReport: a page a person can open after each evaluation.

No `from __future__ import annotations` here: TFX reads the annotations of
the component function to build its spec.

The output is a standard `ModelEvaluation` artifact: it is a (human
readable) evaluation of the model, and standard types survive the Kubeflow
V2 compiler and the KFP UI unchanged, where a custom Artifact subclass would
need its module importable everywhere and shows up as a generic type.
"""
from tfx.dsl.component.experimental.annotations import (InputArtifact,
                                                        OutputArtifact)
from tfx.dsl.component.experimental.decorators import component
from tfx.types import standard_artifacts


@component
def ModelReport(
        evaluation: InputArtifact[standard_artifacts.ModelEvaluation],
        blessing: InputArtifact[standard_artifacts.ModelBlessing],
        model_run: InputArtifact[standard_artifacts.ModelRun],
        report: OutputArtifact[standard_artifacts.ModelEvaluation],
        model: InputArtifact[standard_artifacts.Model] = None,
        examples: InputArtifact[standard_artifacts.Examples] = None,
        edge_models: InputArtifact[standard_artifacts.ModelRun] = None
        ) -> None:
    """Writes report.html and decision.json into `report`. With `model` and
    `examples`, Grad-CAM examples of eval images; with `edge_models`, the
    TFLite exports' size/accuracy table."""
    from imgpipe_components.model_report.writer import write_report
    blessed = bool(blessing.get_int_custom_property("blessed"))
    decision = write_report(
        evaluation.uri, blessed, model_run.uri, report.uri,
        model_uri=model.uri if model else None,
        examples_uri=examples.uri if examples else None,
        edge_uri=edge_models.uri if edge_models else None)
    report.set_int_custom_property("blessed", int(decision["blessed"]))
