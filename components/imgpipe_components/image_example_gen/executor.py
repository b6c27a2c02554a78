"""ExampleGen executor for labelled images in any supported input format.

TFX's base executor does the splitting (hash of `image_id`, see
`component.py`) and the writing. This adds, before the Beam job: listing the
data root once (local or gs://), choosing the span and the format, and a
plan of what to read; during it: reading each source into raw-contract
tf.Examples; after it: a label vocabulary next to the examples, a quarantine
report for every input that was not ingested (nothing is dropped without a
record), and the previous span's metadata as the data gate's drift reference.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import os
from typing import Any, Dict, List, Optional

import apache_beam as beam
import tensorflow as tf
from absl import logging
from google.protobuf import struct_pb2
from tfx import types
from tfx.components.example_gen import base_example_gen_executor
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import proto_utils

from imgpipe_components import class_names
from imgpipe_components.class_names import LABELS_FILE
from imgpipe_components.image_example_gen import (cifar, formats,
                                                  image_records, spans,
                                                  tfrecords)
from imgpipe_components.image_example_gen.settings import IngestConfig
from imgpipe_components.settings_codec import from_json
from imgpipe_components.storage import files as storage

QUARANTINE_FILE = "quarantine.jsonl"
REFERENCE_FILE = "reference_metadata.jsonl"   # the previous span's metadata
MAX_PIXELS_KEY = "max_pixels"
INGEST_KEY = "ingest"
UNLABELLED_KEY = "unlabelled"   # the UnlabelledExampleGen (component.py)


@dataclasses.dataclass(frozen=True)
class _Settings:
    ingest: IngestConfig
    max_pixels: int
    retry: storage.RetrySettings
    unlabelled: bool = False


class _ReadSources(beam.DoFn):
    """A batch of sources -> raw-contract tf.Examples; the rest tagged
    'quarantined'. A batch's gs:// objects are fetched concurrently: one
    request's latency, not the CPU, bounds a sequential reader."""

    def __init__(self, settings: _Settings, vocabulary: List[str]):
        self._settings, self._vocabulary = settings, vocabulary
        self._pool = None

    def setup(self):
        from concurrent.futures import ThreadPoolExecutor
        self._pool = ThreadPoolExecutor(
            max(1, self._settings.ingest.gcs_read_threads))

    def teardown(self):
        if self._pool is not None:
            self._pool.shutdown()

    def process(self, batch: List[formats.Source]):
        remote = any(storage.is_gcs(source.uri) for source in batch)
        fetched = (self._pool.map(self._fetch, batch) if remote
                   else map(self._fetch, batch))
        for source, data in zip(batch, fetched):
            for result in self._results(source, data):
                if isinstance(result, image_records.Quarantined):
                    yield beam.pvalue.TaggedOutput("quarantined", result)
                elif isinstance(result, image_records.ImageRecord):
                    yield image_records.to_tf_example(result)
                else:
                    yield result  # a checked pass-through tf.train.Example

    def _fetch(self, source: formats.Source):
        try:
            return storage.read_bytes(source.uri, self._settings.retry)
        except OSError as error:  # local only: gs:// raises StorageError
            # One unreadable file (permissions, a dangling symlink, deleted
            # since the listing) is that file's problem, not the run's.
            return image_records.Quarantined(
                source.name, f"cannot read: {error.strerror or error}")

    def _results(self, source: formats.Source, data):
        if isinstance(data, image_records.Quarantined):
            return [data]
        if source.kind == formats.IMAGE:
            return [image_records.inspect_image(
                source.name, data, source.label, source.label_name,
                self._settings.max_pixels)]
        if source.kind == formats.CIFAR_BATCH:
            return cifar.records(data, source.name, self._vocabulary,
                                 self._settings.max_pixels)
        return tfrecords.examples(data, source.name, self._vocabulary)


def _read(pipeline, label: str, plan: formats.Plan, settings: _Settings):
    """Sources -> ParDo outputs `examples` and `quarantined`."""
    return (pipeline
            | f"List{label}" >> beam.Create(plan.sources, reshuffle=False)
            | f"Batch{label}" >> beam.BatchElements(min_batch_size=8,
                                                    max_batch_size=64)
            | f"Read{label}" >> beam.ParDo(
                _ReadSources(settings, list(plan.vocabulary)))
            .with_outputs("quarantined", main="examples"))


class Executor(base_example_gen_executor.BaseExampleGenExecutor):
    """Plans and reads the input with Beam; splits and writes with TFX."""

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]],
           exec_properties: Dict[str, Any]) -> None:
        examples = artifact_utils.get_single_instance(
            output_dict[standard_component_specs.EXAMPLES_KEY])
        exec_properties = dict(exec_properties)
        self._settings = _settings(exec_properties)
        choice = self._plan_run(exec_properties)
        self._output_uri = examples.uri
        super().Do(input_dict, output_dict, exec_properties)
        self._record_outputs(examples, choice)

    def _plan_run(self, exec_properties: Dict[str, Any]) -> spans.SpanChoice:
        ingest, retry = self._settings.ingest, self._settings.retry
        input_base = exec_properties[standard_component_specs.INPUT_BASE_KEY]
        listing = storage.list_tree(input_base, retry)
        input_config = example_gen_pb2.Input()
        proto_utils.json_to_proto(
            exec_properties[standard_component_specs.INPUT_CONFIG_KEY],
            input_config)
        split = input_config.splits[0]
        # The driver (local runs) has already put the latest span into the
        # pattern; Kubeflow skips the driver, so the pattern still says
        # {SPAN} and the span is chosen here, the same way.
        choice = spans.choose(ingest.span_pattern, listing.dirs,
                              spans.resolved_span(split.pattern,
                                                  ingest.span_pattern))
        current = listing.under(choice.folder) if choice.folder else listing
        fmt = (formats.UNLABELLED if self._settings.unlabelled
               else formats.detect(current, ingest.manifest_name)
               if ingest.format == "auto" else ingest.format)
        read = functools.partial(storage.read_bytes, settings=retry)
        self._plan = formats.plan(fmt, current, ingest, read)
        self._reference: Optional[formats.Plan] = None
        # Drift is measured on labelled data only (the data gate's).
        if choice.previous_folder is not None and \
                not self._settings.unlabelled:
            self._reference = formats.plan(
                fmt, listing.under(choice.previous_folder), ingest, read)
        split.pattern = _resolved_pattern(split.pattern, ingest, choice)
        exec_properties[standard_component_specs.INPUT_CONFIG_KEY] = \
            proto_utils.proto_to_json(input_config)
        exec_properties["span"] = choice.span
        logging.info("Ingesting %s data from %s: %d sources, %d quarantined "
                     "while planning, span %s (reference span %s)", fmt,
                     current.root, len(self._plan.sources),
                     len(self._plan.quarantined), choice.span,
                     choice.previous_span)
        return choice

    def _record_outputs(self, examples: types.Artifact,
                        choice: spans.SpanChoice) -> None:
        vocabulary = list(self._plan.vocabulary)
        with tf.io.gfile.GFile(os.path.join(examples.uri, LABELS_FILE),
                               "w") as handle:
            handle.write(class_names.to_text(vocabulary))
        quarantined = read_quarantine(examples.uri)
        examples.span = choice.span   # the driver sets it; Kubeflow skips it
        examples.set_int_custom_property("quarantined_count", len(quarantined))
        examples.set_string_custom_property("class_names",
                                            json.dumps(vocabulary))
        examples.set_string_custom_property("ingest_format", self._plan.format)
        examples.set_int_custom_property(
            "reference_span", -1 if choice.previous_span is None
            else choice.previous_span)
        if quarantined:
            logging.warning("%d input files quarantined; see %s",
                            len(quarantined),
                            os.path.join(examples.uri, QUARANTINE_FILE))

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
        plan, reference = self._plan, self._reference
        settings, output_uri = self._settings, self._output_uri

        @beam.ptransform_fn
        def _ImagesToExample(pipeline: beam.Pipeline,
                             exec_properties: Dict[str, Any],
                             split_pattern: str) -> beam.PCollection:
            del exec_properties, split_pattern  # planned in Do()
            read = _read(pipeline, "Sources", plan, settings)
            planned = pipeline | "PlannedQuarantine" >> beam.Create(
                plan.quarantined, reshuffle=False)
            _ = ((planned, read.quarantined) | "AllQuarantined" >> beam.Flatten()
                 | "QuarantineToJson" >> beam.Map(_to_json)
                 | "WriteQuarantine" >> _write_lines(output_uri, QUARANTINE_FILE))
            if reference is not None:
                _reference_metadata(pipeline, reference, settings, output_uri)
            return read.examples

        return _ImagesToExample


def _reference_metadata(pipeline, reference: formats.Plan,
                        settings: _Settings, output_uri: str) -> None:
    """The previous span's metadata columns (no pixels) for drift checks;
    what it quarantined was reported when that span was ingested."""
    _ = (_read(pipeline, "Reference", reference, settings).examples
         | "ReferenceMetadata" >> beam.Map(
             lambda e: json.dumps(image_records.example_metadata(e),
                                  sort_keys=True))
         | "WriteReference" >> _write_lines(output_uri, REFERENCE_FILE))


def _write_lines(output_uri: str, file_name: str) -> beam.PTransform:
    stem, suffix = os.path.splitext(file_name)
    return beam.io.WriteToText(os.path.join(output_uri, stem),
                               file_name_suffix=suffix, shard_name_template="")


def _to_json(quarantined: image_records.Quarantined) -> str:
    return json.dumps(dataclasses.asdict(quarantined), sort_keys=True)


def _resolved_pattern(pattern: str, ingest, choice: spans.SpanChoice) -> str:
    """The pattern with the chosen span folder in place of its pattern."""
    if not ingest.span_pattern or not spans.has_span(pattern):
        return pattern
    return pattern.replace(ingest.span_pattern, choice.folder, 1)


def _settings(exec_properties: Dict[str, Any]) -> _Settings:
    config = example_gen_pb2.CustomConfig()
    proto_utils.json_to_proto(
        exec_properties[standard_component_specs.CUSTOM_CONFIG_KEY], config)
    struct = struct_pb2.Struct()
    config.custom_config.Unpack(struct)
    values = dict(struct)
    ingest = from_json(IngestConfig, values.get(INGEST_KEY) or "{}")
    return _Settings(ingest, int(values[MAX_PIXELS_KEY]),
                     storage.RetrySettings.from_ingest(ingest),
                     bool(values.get(UNLABELLED_KEY, False)))


def read_quarantine(examples_uri: str) -> List[dict]:
    """The quarantine records written next to an Examples artifact."""
    return sorted(_read_json_lines(examples_uri, QUARANTINE_FILE),
                  key=lambda record: record["image_id"])


def read_reference(examples_uri: str) -> Optional[List[dict]]:
    """The previous span's metadata rows, or None when there was none."""
    if not tf.io.gfile.exists(os.path.join(examples_uri, REFERENCE_FILE)):
        return None
    return _read_json_lines(examples_uri, REFERENCE_FILE)


def _read_json_lines(examples_uri: str, file_name: str) -> List[dict]:
    path = os.path.join(examples_uri, file_name)
    if not tf.io.gfile.exists(path):
        return []
    with tf.io.gfile.GFile(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_labels(examples_uri: str) -> List[str]:
    with tf.io.gfile.GFile(os.path.join(examples_uri, LABELS_FILE)) as handle:
        return class_names.from_text(handle.read())
