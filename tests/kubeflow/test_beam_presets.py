"""Beam presets are what Beam itself accepts (PipelineOptions + validator)."""
from __future__ import annotations

import pytest

IMAGE = "registry.example.com/imgpipe:test"
SETTINGS = {
    "direct": {},
    "dataflow": {"project": "imgpipe-prod", "region": "europe-west4",
                 "temp_location": "gs://imgpipe-dataflow/tmp",
                 "max_workers": "20"},
    "flink": {"parallelism": "16"},
    "spark": {"job_endpoint": "spark-beam-jobserver.beam:8099"},
}


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_preset_is_valid_for_its_runner(name):
    from apache_beam.options.pipeline_options import (PipelineOptions,
                                                      StandardOptions,
                                                      WorkerOptions)

    from imgpipe.runners.kubeflow import beam_presets

    args = beam_presets.preset_args(name, IMAGE, SETTINGS[name])
    assert beam_presets.validate(args) == []
    options = PipelineOptions(list(args))
    assert options.view_as(StandardOptions).runner
    # TFX skips packaging its install when the image is named.
    assert options.view_as(WorkerOptions).sdk_container_image == IMAGE


def test_dataflow_preset_fields():
    from apache_beam.options.pipeline_options import (GoogleCloudOptions,
                                                      PipelineOptions,
                                                      WorkerOptions)

    from imgpipe.runners.kubeflow import beam_presets

    options = PipelineOptions(list(beam_presets.preset_args(
        "dataflow", IMAGE, SETTINGS["dataflow"])))
    cloud = options.view_as(GoogleCloudOptions)
    assert (cloud.project, cloud.region) == ("imgpipe-prod", "europe-west4")
    assert cloud.staging_location == "gs://imgpipe-dataflow/tmp/staging"
    assert options.view_as(WorkerOptions).max_num_workers == 20


def test_portable_presets_use_the_sdk_worker_pool_sidecar():
    from apache_beam.options.pipeline_options import (PipelineOptions,
                                                      PortableOptions)

    from imgpipe.runners.kubeflow import beam_presets

    options = PipelineOptions(list(beam_presets.preset_args(
        "flink", IMAGE, {})))
    portable = options.view_as(PortableOptions)
    assert portable.environment_type == "EXTERNAL"
    assert portable.environment_config == "localhost:50000"
    assert portable.job_endpoint == "flink-beam-jobserver:8099"


def test_validation_reports_what_beam_rejects():
    from imgpipe.runners.kubeflow import beam_presets

    problems = beam_presets.validate([
        "--runner=DataflowRunner", "--project=Not_A_Project",
        "--temp_location=/local/tmp", "--max_num_wrkers=3"])
    assert "unknown Beam option --max_num_wrkers" in problems
    assert any("temp_location" in p for p in problems)
    assert any("Project ID" in p for p in problems)
    assert any("region" in p for p in problems)


@pytest.mark.parametrize("name, settings, message", [
    ("dataflo", {}, "Unknown Beam preset"),
    ("dataflow", {"projet": "p"}, "has no setting projet"),
    ("dataflow", {"project": "p"}, "needs region, temp_location"),
])
def test_preset_mistakes_are_named(name, settings, message):
    from imgpipe.runners.kubeflow import beam_presets
    with pytest.raises(ValueError, match=message):
        beam_presets.preset_args(name, IMAGE, settings)
