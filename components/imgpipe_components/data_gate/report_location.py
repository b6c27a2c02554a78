"""Where the DataGate's report lives: light enough for readers that must
not import TensorFlow or TFX (the run summary, the web UI)."""
from __future__ import annotations

import os

REPORT_FILE = "report.json"
DOCS_DIR = "data_docs"
# Where a report that stops the run is written instead: the orchestrator
# removes a failed step's output folders (TFX's launcher does; on KFP a
# failed step's outputs are never published), so the report the error
# message names must live beside them, not in them.
STOPPED_DIR = "stopped"


def report_folder(report_uri: str, passed: bool) -> str:
    """The artifact's own folder, or for a stopping verdict
    `<pipeline root>/DataGate/stopped/<id>`, where `<id>` is the last part
    of the artifact's URI (the execution id, as TFX names output folders),
    so a reader can find it from the failed execution alone."""
    if passed:
        return report_uri
    step_folder = os.path.dirname(os.path.dirname(report_uri.rstrip("/")))
    return os.path.join(step_folder, STOPPED_DIR,
                        os.path.basename(report_uri.rstrip("/")))
