"""Pipeline wiring owned by ingestion: curated schema, split ratios."""
from __future__ import annotations

from imgpipe.config import DataGateConfig, PipelineConfig
from imgpipe.runners.local.layout import LocalLayout
from tests.ingest import builders
from tests.ingest.harness import run_example_gen

SCHEMA = """
feature { name: "label" type: INT presence { min_fraction: 1.0 }
          int_domain { min: 0 max: 1 } }
feature { name: "image_raw" type: BYTES presence { min_fraction: 1.0 } }
"""


def test_an_accepted_schema_replaces_inference(tmp_path):
    from tfx.types import standard_artifacts

    from imgpipe.pipeline import create_pipeline
    schema_file = tmp_path / "schema.pbtxt"
    schema_file.write_text(SCHEMA)
    data = builders.class_tree(tmp_path / "data", {"a": 2, "b": 2})
    config = PipelineConfig(data_gate=DataGateConfig(
        accepted_schema=str(schema_file)))
    pipeline = create_pipeline(config, LocalLayout(data, tmp_path / "out")
                               .locations(config.model_name))
    nodes = {node.id: node for node in pipeline.components}
    assert "SchemaGen" not in nodes
    importer = nodes["ImportSchemaGen"]
    for consumer in ("ExampleValidator", "Transform", "Trainer"):
        assert nodes[consumer].inputs["schema"].producer_component_id == \
            "ImportSchemaGen"
    # Its executor imports the file as the pipeline's Schema artifact.
    schema = standard_artifacts.Schema()
    schema.uri = str(tmp_path / "schema_artifact")
    importer.executor_spec.executor_class().Do(
        {}, {"schema": [schema]}, dict(importer.exec_properties))
    assert (tmp_path / "schema_artifact" / "schema.pbtxt").read_text() == SCHEMA


def test_without_a_schema_file_schema_gen_infers(tmp_path):
    from imgpipe.pipeline import create_pipeline
    data = builders.class_tree(tmp_path / "data", {"a": 2, "b": 2})
    locations = LocalLayout(data, tmp_path / "out").locations("digits")
    ids = {node.id for node in create_pipeline(PipelineConfig(),
                                               locations).components}
    assert "SchemaGen" in ids and "ImportSchemaGen" not in ids


def test_splits_follow_the_configured_ratio_and_repeat_exactly(tmp_path):
    data = builders.class_tree(tmp_path / "data", {"a": 60, "b": 60})
    half = [run_example_gen(data, tmp_path / f"half{i}", train_buckets=1,
                            eval_buckets=1) for i in range(2)]
    assignment = [dict(zip(r.rows.image_id, r.rows.split)) for r in half]
    assert assignment[0] == assignment[1]
    assert 0.35 < list(assignment[0].values()).count("eval") / 120 < 0.65
    default = run_example_gen(data, tmp_path / "default")
    assert 0.1 < (default.rows.split == "eval").mean() < 0.3


def test_after_the_gate_every_step_reads_augments_examples(tmp_path):
    """Augment leaves out the images the data gate excluded: training,
    evaluation, the edge export and the model report read its output."""
    from imgpipe.config import EdgeConfig
    from imgpipe.pipeline import create_pipeline
    data = builders.class_tree(tmp_path / "data", {"a": 2, "b": 2})
    config = PipelineConfig(edge=EdgeConfig(enabled=True))
    nodes = {node.id: node for node in create_pipeline(
        config, LocalLayout(data, tmp_path / "out").locations("digits"))
        .components}
    assert nodes["Augment"].inputs["data_gate_report"] \
        .producer_component_id == "DataGate"
    for consumer in ("Transform", "Trainer", "Evaluator", "EdgeExport",
                     "ModelReport"):
        channel = nodes[consumer].inputs["examples"]
        assert (channel.producer_component_id, channel.output_key) == \
            ("Augment", "augmented_examples"), consumer
