"""ExampleGen executor for a tree of class folders (`<root>/<class>/<image>`).

TFX's base executor does the splitting (hash of `image_id`, see
`component.py`) and the writing; this adds the reading, a label vocabulary
file next to the examples, and a quarantine report for every file that was
not ingested, so nothing is dropped without a record.
"""
from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, Dict, List

import apache_beam as beam
import tensorflow as tf
from absl import logging
from tfx import types
from tfx.components.example_gen import base_example_gen_executor
from google.protobuf import struct_pb2
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import proto_utils

from components.image_example_gen import image_records

LABELS_FILE = "labels.txt"
QUARANTINE_FILE = "quarantine.jsonl"
MAX_PIXELS_KEY = "max_pixels"


def _read_and_inspect(path: str, input_base: str, vocabulary: List[str],
                      max_pixels: int):
    image_id = os.path.relpath(path, input_base)
    if not image_records.is_image_file(path):
        return image_records.Quarantined(
            image_id, "not an image file extension "
            f"(expected one of {sorted(image_records.IMAGE_EXTENSIONS)})")
    if not _stays_under(path, input_base):
        return image_records.Quarantined(
            image_id, "symlink points outside the data root")
    label = image_records.label_of(image_id, vocabulary)
    if label is None:
        return image_records.Quarantined(image_id, "not inside a class folder")
    with tf.io.gfile.GFile(path, "rb") as handle:
        data = handle.read()
    return image_records.inspect_image(
        image_id, data, label, vocabulary[label], max_pixels)


def _stays_under(path: str, root: str) -> bool:
    if "://" in path:  # Object stores have no symlinks.
        return True
    real_root = os.path.realpath(root)
    return os.path.commonpath([os.path.realpath(path), real_root]) == real_root


class _Tagged(beam.DoFn):
    def __init__(self, input_base: str, vocabulary: List[str], max_pixels: int):
        self._args = (input_base, vocabulary, max_pixels)

    def process(self, path: str):
        result = _read_and_inspect(path, *self._args)
        if isinstance(result, image_records.Quarantined):
            yield beam.pvalue.TaggedOutput("quarantined", result)
        else:
            yield image_records.to_tf_example(result)


class Executor(base_example_gen_executor.BaseExampleGenExecutor):
    """Reads images with Beam; splits and writes with TFX's base executor."""

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]],
           exec_properties: Dict[str, Any]) -> None:
        examples = artifact_utils.get_single_instance(
            output_dict[standard_component_specs.EXAMPLES_KEY])
        input_base = exec_properties[standard_component_specs.INPUT_BASE_KEY]
        self._vocabulary = image_records.class_folders(input_base)
        self._quarantine_prefix = os.path.join(examples.uri, "quarantine")
        super().Do(input_dict, output_dict, exec_properties)

        with tf.io.gfile.GFile(os.path.join(examples.uri, LABELS_FILE),
                               "w") as handle:
            handle.write("".join(f"{name}\n" for name in self._vocabulary))
        quarantined = read_quarantine(examples.uri)
        examples.set_int_custom_property("quarantined_count", len(quarantined))
        examples.set_string_custom_property("class_names",
                                            json.dumps(self._vocabulary))
        if quarantined:
            logging.warning("%d input files quarantined; see %s",
                            len(quarantined),
                            os.path.join(examples.uri, QUARANTINE_FILE))

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
        vocabulary, quarantine_prefix = self._vocabulary, self._quarantine_prefix

        @beam.ptransform_fn
        def _ImagesToExample(pipeline: beam.Pipeline,
                             exec_properties: Dict[str, Any],
                             split_pattern: str) -> beam.PCollection:
            input_base = exec_properties[standard_component_specs.INPUT_BASE_KEY]
            max_pixels = int(_custom_config(exec_properties)[MAX_PIXELS_KEY])
            paths = sorted(tf.io.gfile.glob(os.path.join(input_base,
                                                         split_pattern)))
            paths = [p for p in paths if not tf.io.gfile.isdir(p)]
            tagged = (
                pipeline
                | "ListImages" >> beam.Create(paths, reshuffle=False)
                | "ReadImages" >> beam.ParDo(
                    _Tagged(input_base, vocabulary, max_pixels)).with_outputs(
                        "quarantined", main="examples"))
            _ = (tagged.quarantined
                 | "QuarantineToJson" >> beam.Map(
                     lambda q: json.dumps(dataclasses.asdict(q), sort_keys=True))
                 | "WriteQuarantine" >> beam.io.WriteToText(
                     quarantine_prefix, file_name_suffix=".jsonl",
                     shard_name_template=""))
            return tagged.examples

        return _ImagesToExample


def _custom_config(exec_properties: Dict[str, Any]) -> dict:
    config = example_gen_pb2.CustomConfig()
    proto_utils.json_to_proto(
        exec_properties[standard_component_specs.CUSTOM_CONFIG_KEY], config)
    struct = struct_pb2.Struct()
    config.custom_config.Unpack(struct)
    return dict(struct)


def read_quarantine(examples_uri: str) -> List[dict]:
    """The quarantine records written next to an Examples artifact."""
    path = os.path.join(examples_uri, QUARANTINE_FILE)
    if not tf.io.gfile.exists(path):
        return []
    with tf.io.gfile.GFile(path) as handle:
        return sorted((json.loads(line) for line in handle if line.strip()),
                      key=lambda record: record["image_id"])


def read_labels(examples_uri: str) -> List[str]:
    with tf.io.gfile.GFile(os.path.join(examples_uri, LABELS_FILE)) as handle:
        return [line.rstrip("\n") for line in handle if line.strip()]
