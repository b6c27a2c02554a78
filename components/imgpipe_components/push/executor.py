"""Pusher executor that writes numbered, idempotent, atomic versions.

TFX's filesystem Pusher names versions by Unix time and copies in place.
This one
- numbers versions 1, 2, 3... (TF Serving loads the highest by default and
  version labels read naturally),
- does not push a model that is already in the serving folder (a re-run on
  unchanged data re-blesses the same model; it must not become a new
  version),
- claims each number atomically (on a local disk or a shared volume, the
  exclusive creation of its hidden `.staging-N` folder,
  model_store.versions.claim_local_version), so two concurrent pushes
  never write the same version,
- never lets a model server see a half-written version: on a local disk it
  copies into the claimed staging folder and renames it into place; in a
  gs:// bucket it uploads under a hidden prefix and copies server-side with
  saved_model.pb last (gcs_publish.py),
- adds the candidate's evaluation, TF Serving warm-up requests and the
  model report (the `model_report` input) to the version's assets.extra/
  before it appears (see extras.py), and
- makes the new version the `canary` in models.config (the first version
  also `stable`) and records it in the promotion history, on a local disk
  under a file lock, in a bucket with generation preconditions.
"""
from __future__ import annotations

import contextlib
import os
from typing import Any, Callable, Dict, List, Optional

import tensorflow as tf
from absl import logging
from tfx import types
from tfx.components.pusher import executor as tfx_pusher
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils, proto_utils

from imgpipe_components.push import extras, gcs_publish
from imgpipe_components.push.names import (PROMOTED_PROPERTY,
                                           PROMOTION_PROPERTY)
from imgpipe_components.push.settings import PushConfig
from imgpipe_components.model_store.versions import (SOURCE_FILE, STAGING,
                                                     claim_local_version,
                                                     list_versions,
                                                     version_holding)
from imgpipe_components.settings_codec import from_json
from imgpipe_components.storage.gcs import is_gcs

MODEL_REPORT_KEY = "model_report"     # ServingPusher's report input
EVALUATION_KEY = "evaluation"         # the Evaluator's output, for the record


class PushError(RuntimeError):
    """A version could not be written; nothing of it is visible."""


class Executor(tfx_pusher.Executor):

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]],
           exec_properties: Dict[str, Any]) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        pushed = artifact_utils.get_single_instance(
            output_dict[standard_component_specs.PUSHED_MODEL_KEY])
        if not self.CheckBlessing(input_dict):
            self._MarkNotPushed(pushed)
            return
        destination = pusher_pb2.PushDestination()
        proto_utils.json_to_proto(
            exec_properties[standard_component_specs.PUSH_DESTINATION_KEY],
            destination)
        base = destination.filesystem.base_directory
        model = artifact_utils.get_single_instance(
            input_dict[standard_component_specs.MODEL_KEY])
        model_path = self.GetModelPath(input_dict)

        add_extras = _extras_writer(input_dict, base, model.uri)
        if is_gcs(base):
            version, pushed_now = gcs_publish.push(
                model_path, base, model.uri,
                lambda source, folder: _build_version(source, folder,
                                                      model.uri, add_extras))
        else:
            version = version_holding(base, model.uri)
            pushed_now = version is None
            if pushed_now:
                version = _claim_version(base, model.uri)
                _copy_atomically(model_path, base, version, model.uri,
                                 add_extras)
        if pushed_now:
            logging.info("Pushed %s as version %d", model.uri, version)
            config = _push_config(exec_properties)
            if _register_as_canary(base, version, config.label_settle_s):
                _auto_promote(base, config, pushed)
        else:
            logging.info("Model %s is already version %d; not pushed again",
                         model.uri, version)
        io_utils.copy_dir(model_path, pushed.uri)
        self._MarkPushed(pushed, pushed_destination=os.path.join(
            base, str(version)), pushed_version=str(version))


def _extras_writer(input_dict: Dict[str, List[types.Artifact]], base: str,
                   model_uri: str) -> Callable[[str], None]:
    evaluations = input_dict.get(EVALUATION_KEY)
    evaluation_uri = evaluations[0].uri if evaluations else None
    reports = input_dict.get(MODEL_REPORT_KEY)
    report_uri = reports[0].uri if reports else None
    model_name = os.path.basename(base.rstrip("/"))

    def write(version_dir: str) -> None:
        record = extras.evaluation_record(evaluation_uri, model_uri)
        if record["accuracy"] is None:
            logging.warning("No evaluation found for %s (%s): promotion will "
                            "need --force", model_uri, record.get("note"))
        extras.write_evaluation(version_dir, record)
        extras.write_warmup_requests(version_dir, model_name)
        if report_uri and not extras.copy_report(version_dir, report_uri):
            logging.warning("The model report %s has no files: version "
                            "pushed without it", report_uri)
    return write


def _push_config(exec_properties: Dict[str, Any]) -> PushConfig:
    return from_json(PushConfig, exec_properties.get(
        standard_component_specs.CUSTOM_CONFIG_KEY) or "{}")


def _auto_promote(base: str, config: PushConfig, pushed) -> None:
    """Canary -> stable right after the push when the team opted in and the
    promotion policy allows it; the outcome is recorded on the PushedModel
    artifact (ML Metadata, the KFP UI) either way."""
    if not config.auto_promote:
        return
    from imgpipe_components.model_store import auto_promote
    result = auto_promote(base, enabled=True)
    logging.info("Auto-promote: %s", result.message)
    pushed.set_int_custom_property(PROMOTED_PROPERTY, int(result.changed))
    pushed.set_string_custom_property(PROMOTION_PROPERTY, result.message)


def _register_as_canary(base: str, version: int, settle_s: int = 0) -> bool:
    """models.config and the history beside the base path: a local disk or
    a gs:// bucket (components/imgpipe_components/model_store/store.py). False when the label
    could not be written (logged)."""
    if "://" in base and not is_gcs(base):
        logging.info("Not updating models.config for %s: neither a local "
                     "path nor gs://", base)
        return False
    from google.api_core.exceptions import GoogleAPIError

    from imgpipe_components.storage.files import StorageError
    from imgpipe_components.model_store import (ConfigError, PromotionError,
                                    register_pushed_version)
    try:
        result = register_pushed_version(base, version, settle_s=settle_s)
    except (ConfigError, PromotionError, StorageError, GoogleAPIError,
            OSError) as error:
        # The version is in place and served by number; only its label is
        # missing, and failing the run would not add it on a re-run.
        logging.error("Version %d was pushed but not labelled canary: %s. "
                      "Fix models.config; until the next push this version "
                      "carries no label.", version, error)
        return False
    logging.info("Promotion state: %s", result.message)
    return True


def _write_source_marker(version_dir: str, model_uri: str) -> None:
    """Which Model artifact this version holds: makes pushes idempotent."""
    marker = os.path.join(version_dir, SOURCE_FILE)
    tf.io.gfile.makedirs(os.path.dirname(marker))
    with tf.io.gfile.GFile(marker, "w") as handle:
        handle.write(model_uri + "\n")


def _build_version(model_path: str, folder: str, model_uri: str,
                   add_extras: Optional[Callable[[str], None]] = None) -> None:
    """The complete version in `folder`: SavedModel, marker, extras."""
    io_utils.copy_dir(model_path, folder)
    _write_source_marker(folder, model_uri)
    if add_extras is not None:
        add_extras(folder)


def _claim_version(base: str, model_uri: str) -> int:
    """The next number: claimed atomically on a local disk (two pushers
    never share one); in other object stores, one above the highest (no
    exclusive create there; gs:// goes through gcs_publish)."""
    if "://" in base:
        return (list_versions(base) or [0])[-1] + 1
    return claim_local_version(base, model_uri)


def _copy_atomically(model_path: str, base: str, version: int,
                     model_uri: str,
                     add_extras: Optional[Callable[[str], None]] = None) -> None:
    if "://" in base:
        _copy_saved_model_last(model_path, base, version, model_uri,
                               add_extras)
        return
    # The claimed `.staging-N` (claim_local_version) stays in place until
    # N is published: removing it earlier would free N for another push.
    # The version is built in a folder inside it (a leftover from a push
    # cut short is replaced) and renamed into place, atomically on a local
    # disk: the version appears whole or not at all.
    staging = os.path.join(base, f"{STAGING}{version}")
    built = os.path.join(staging, "version")
    try:
        _build_version(model_path, built, model_uri, add_extras)
        tf.io.gfile.rename(built, os.path.join(base, str(version)))
        tf.io.gfile.rmtree(staging)
    except (OSError, tf.errors.OpError) as error:   # disk full, permissions
        with contextlib.suppress(OSError, tf.errors.OpError):
            tf.io.gfile.rmtree(staging)
        raise PushError(
            f"Could not write version {version} under {base}: {error}. "
            "Nothing was published: the versions already there keep "
            "serving. Free disk space or fix the folder's permissions, then "
            "run again (completed components are cached).") from error


def _copy_saved_model_last(model_path: str, base: str, version: int,
                           model_uri: str,
                           add_extras: Optional[Callable[[str], None]] = None
                           ) -> None:
    """Other object stores (gs:// goes through gcs_publish): no folder
    rename; TF Serving treats a version as ready once saved_model.pb
    exists, so that file is written last."""
    target = os.path.join(base, str(version))
    io_utils.copy_dir(model_path, target,
                      deny_regex_patterns=[r"saved_model\.pb"])
    _write_source_marker(target, model_uri)
    if add_extras is not None:
        add_extras(target)
    io_utils.copy_file(os.path.join(model_path, "saved_model.pb"),
                       os.path.join(target, "saved_model.pb"))
