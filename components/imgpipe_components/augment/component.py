"""Augment: adds deterministic augmented copies of the train split (Beam).

It consumes the data gate's report, so it only runs on data that passed.
The eval split, and the train split when there is nothing to add (no copies,
no rebalancing: the default on large data sets), are copied file by file,
byte-identical, without the start-up cost of a Beam job.
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
    from imgpipe_components.class_names import LABELS_FILE
    from imgpipe_components.augment.settings import AugmentConfig
    from imgpipe_components.settings_codec import from_json
    from imgpipe_components.storage.artifact_files import copy_folder

    config = from_json(AugmentConfig, augment_config)
    augmented_examples.split_names = artifact_utils.encode_split_names(
        ["train", "eval"])

    def split(artifact, name: str) -> str:
        return artifact_utils.get_split_uri([artifact], name)

    if config.adds_images:
        with beam_pipeline as pipeline:
            beam_augment.build(pipeline, split(examples, "train"),
                               split(augmented_examples, "train"), config,
                               seed)
    else:
        copy_folder(split(examples, "train"),
                    split(augmented_examples, "train"))
    copy_folder(split(examples, "eval"), split(augmented_examples, "eval"))
    examples_utils.set_payload_format(augmented_examples,
                                      example_gen_pb2.FORMAT_TF_EXAMPLE)
    # The vocabulary travels with the examples it describes.
    tf.io.gfile.copy(f"{examples.uri}/{LABELS_FILE}",
                     f"{augmented_examples.uri}/{LABELS_FILE}", overwrite=True)
