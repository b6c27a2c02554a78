"""Runs the pipeline with TFX's LocalDagRunner and an SQLite ML Metadata store.

Shows one progress line per component and returns the run's summary, read
back from ML Metadata.
"""
from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Callable, Optional

from imgpipe.config import PipelineConfig
from imgpipe.runners.local.layout import LocalLayout
from imgpipe.runners.local.summary import RunSummary

ProgressCallback = Callable[[str, str], None]   # (event, node id)


class _ComponentEvents(logging.Handler):
    """Turns LocalDagRunner's "Component X is running/finished" log lines
    into progress events (the runner has no callback API of its own)."""

    def __init__(self, callback: ProgressCallback):
        super().__init__(logging.INFO)
        self._callback = callback

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "Component %s is running.":
            self._callback("running", str(record.args[0]))
        elif record.msg == "Component %s is finished.":
            self._callback("finished", str(record.args[0]))


def quiet_logs(log_file: Path) -> logging.Handler:
    """Full logs go to a file; the console keeps warnings only."""
    logging.captureWarnings(True)
    from absl import logging as absl_logging
    absl_logging.get_absl_handler().setLevel(logging.WARNING)
    absl_logging.set_verbosity(absl_logging.INFO)
    for handler in logging.getLogger().handlers:  # e.g. a library's basicConfig
        if isinstance(handler, logging.StreamHandler) and not isinstance(
                handler, logging.FileHandler):
            handler.setLevel(logging.WARNING)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    file_handler = logging.FileHandler(log_file)
    file_handler.setLevel(logging.INFO)
    file_handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(file_handler)
    return file_handler


def run_pipeline(config: PipelineConfig, layout: LocalLayout,
                 on_progress: Optional[ProgressCallback] = None,
                 new_metadata: bool = False) -> RunSummary:
    """Runs the pipeline once; raises run_guard.RunGuardError when another
    run holds the output folder or the metadata store is missing/corrupt
    (`new_metadata` accepts starting a new store), and
    run_guard.RunInterrupted on Ctrl-C, once the interrupted steps'
    outputs are removed. The output folder's imgpipe.json records the
    model (output_record)."""
    from imgpipe_components.image_example_gen.component import detect_format
    from imgpipe.runners.local import output_record, run_guard

    with run_guard.exclusive_run(layout.output_root):
        run_guard.check_metadata_store(layout, config.model_name,
                                       new_metadata)
        output_record.write(layout, config.model_name, config.pipeline_name)
        # The precise input glob for ExampleGen's fingerprint: the factory
        # itself reads nothing.
        config = dataclasses.replace(
            config, ingest=detect_format(layout.data_root, config.ingest))
        with run_guard.interruptible(layout, config.model_name):
            return _run_locked(config, layout, on_progress)


def _run_locked(config: PipelineConfig, layout: LocalLayout,
                on_progress: Optional[ProgressCallback]) -> RunSummary:
    from tfx.orchestration import metadata
    from tfx.orchestration.local.local_dag_runner import LocalDagRunner

    from imgpipe.pipeline import create_pipeline
    from imgpipe.runners.local import run_record
    from imgpipe.runners.local.summary import build_summary
    from imgpipe_components import library_internals

    locations = layout.locations(config.model_name)
    pipeline = create_pipeline(
        config, locations,
        metadata.sqlite_metadata_connection_config(layout.metadata_path))
    library_internals.memoise_beam_dofn_specs()
    handler = _ComponentEvents(on_progress or (lambda event, node: None))
    absl_logger = logging.getLogger("absl")
    absl_logger.addHandler(handler)
    try:
        LocalDagRunner().run(pipeline)
    finally:
        absl_logger.removeHandler(handler)
    store = run_record.open_store(layout.metadata_path)
    run_id = run_record.latest_run(store, config.pipeline_name)
    return build_summary(config, run_id, run_record.node_runs(store, run_id))
