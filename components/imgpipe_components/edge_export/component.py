"""EdgeExport: TFLite variants of the trained model, as a pipeline step.

No `from __future__ import annotations` here: TFX reads the annotations of
the component function to build its spec.

Runs beside the Evaluator when `PipelineConfig.edge.enabled`; its report
feeds the model report. The output is a standard `ModelRun` artifact (the
run's by-products, like the training logs): a `Model` would be one more
candidate for the baseline resolver and the Kubeflow baseline step.
"""
from tfx.dsl.component.experimental.annotations import (InputArtifact,
                                                        OutputArtifact,
                                                        Parameter)
from tfx.dsl.component.experimental.decorators import component
from tfx.types import standard_artifacts


@component
def EdgeExport(
        model: InputArtifact[standard_artifacts.Model],
        examples: InputArtifact[standard_artifacts.Examples],
        edge_models: OutputArtifact[standard_artifacts.ModelRun],
        edge_config: Parameter[str]) -> None:
    """The published .tflite files, edge_model.json and edge_report.json in
    `edge_models`; `edge_config` is an EdgeConfig as JSON."""
    from pathlib import Path

    from imgpipe_components.edge_export.export import export_version
    from imgpipe_components.edge_export.settings import EdgeConfig
    from imgpipe_components.settings_codec import from_json

    config = from_json(EdgeConfig, edge_config)
    report = export_version(
        Path(model.uri) / "Format-Serving", Path(examples.uri),
        Path(edge_models.uri), list(config.formats), config.max_accuracy_drop,
        config.representative_images)
    edge_models.set_string_custom_property("published", ",".join(
        v["format"] for v in report["variants"] if v["published"]))
