"""Augment: adds deterministic augmented copies of the train split (Beam).

It consumes the data gate's report, so it only runs on data that passed,
and leaves out of both splits the images the gate excluded (the report's
excluded.jsonl); downstream (Transform, Tuner, Trainer, Evaluator, edge
export, model report) reads this output, so no excluded image is trained on
or evaluated. A split with nothing to add and nothing to exclude (the eval
split; the train split without copies or rebalancing, the default on large
data sets) is copied file by file, byte-identical, without a Beam job; with
exclusions it is filtered by Beam.
"""

import apache_beam as beam
from tfx.dsl.component.experimental.annotations import (
    BeamComponentParameter, InputArtifact, OutputArtifact, Parameter)
from tfx.dsl.component.experimental.decorators import component
from tfx.types.standard_artifacts import Examples, ExampleValidationMetrics


@component(use_beam=True)
def Augment(examples: InputArtifact[Examples],
            data_gate_report: InputArtifact[ExampleValidationMetrics],
            augmented_examples: OutputArtifact[Examples],
            augment_config: Parameter[str],
            seed: Parameter[int],
            beam_pipeline: BeamComponentParameter[beam.Pipeline] = None) -> None:
    import tensorflow as tf
    from tfx.components.util import examples_utils
    from tfx.proto import example_gen_pb2
    from tfx.types import artifact_utils

    from imgpipe_components.augment import beam_augment
    from imgpipe_components.data_gate import exclusions
    from imgpipe_components.class_names import LABELS_FILE
    from imgpipe_components.augment.settings import AugmentConfig
    from imgpipe_components.settings_codec import from_json
    from imgpipe_components.storage.artifact_files import copy_folder

    config = from_json(AugmentConfig, augment_config)
    augmented_examples.split_names = artifact_utils.encode_split_names(
        ["train", "eval"])

    def split(artifact, name: str) -> str:
        return artifact_utils.get_split_uri([artifact], name)

    excluded = exclusions.read_ids(data_gate_report.uri)
    if config.adds_images or excluded:
        with beam_pipeline as pipeline:
            beam_augment.build(pipeline, split(examples, "train"),
                               split(augmented_examples, "train"), config,
                               seed, excluded)
            if excluded:
                beam_augment.write(beam_augment.read_kept(
                    pipeline, split(examples, "eval"), excluded, "Eval"),
                    split(augmented_examples, "eval"), "Eval")
    else:
        copy_folder(split(examples, "train"),
                    split(augmented_examples, "train"))
    if not excluded:
        copy_folder(split(examples, "eval"), split(augmented_examples, "eval"))
    augmented_examples.set_int_custom_property("excluded_count",
                                               len(excluded))
    examples_utils.set_payload_format(augmented_examples,
                                      example_gen_pb2.FORMAT_TF_EXAMPLE)
    # The vocabulary travels with the examples it describes.
    tf.io.gfile.copy(f"{examples.uri}/{LABELS_FILE}",
                     f"{augmented_examples.uri}/{LABELS_FILE}", overwrite=True)
