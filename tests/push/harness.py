"""The real push executor on real files: a SavedModel-shaped model folder,
a blessing, a model report, run through `Executor.Do` as TFX runs it."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

REPORT_FILES = {"report.html": '<html><img src="confusion.png"></html>',
                "decision.json": json.dumps({"blessed": True}),
                "confusion.png": "\x89PNG fake image bytes"}


def model_folder(root: Path, tag: str) -> Path:
    """A model artifact folder as the Trainer writes it (Format-Serving)."""
    serving = root / "Format-Serving"
    (serving / "variables").mkdir(parents=True)
    (serving / "assets").mkdir()
    (serving / "saved_model.pb").write_bytes(b"saved model " + tag.encode())
    (serving / "variables" / "variables.index").write_bytes(b"index " + tag.encode())
    (serving / "variables" / "variables.data-00000-of-00001").write_bytes(
        b"weights " * 1000)
    (serving / "assets" / "class_index").write_text("0\n1\n")
    return root


def report_folder(root: Path) -> Path:
    root.mkdir(parents=True)
    for name, text in REPORT_FILES.items():
        (root / name).write_text(text)
    return root


def run_push(model_uri: Path, base: str, report_uri: Optional[Path] = None,
             blessed: bool = True, pushed_uri: Optional[Path] = None):
    """One Pusher execution; returns the PushedModel artifact."""
    from tfx.proto import pusher_pb2
    from tfx.types import standard_artifacts
    from tfx.utils import proto_utils

    from imgpipe_components.push.executor import MODEL_REPORT_KEY, Executor

    model = standard_artifacts.Model()
    model.uri = str(model_uri)
    blessing = standard_artifacts.ModelBlessing()
    blessing.uri = str(model_uri.parent / "blessing")
    blessing.set_int_custom_property("blessed", int(blessed))
    pushed = standard_artifacts.PushedModel()
    pushed.uri = str(pushed_uri or model_uri.parent / f"pushed-{model_uri.name}")
    inputs = {"model": [model], "model_blessing": [blessing]}
    if report_uri is not None:
        report = standard_artifacts.ModelEvaluation()
        report.uri = str(report_uri)
        inputs[MODEL_REPORT_KEY] = [report]
    destination = pusher_pb2.PushDestination(
        filesystem=pusher_pb2.PushDestination.Filesystem(base_directory=base))
    Executor().Do(inputs, {"pushed_model": [pushed]}, {
        "push_destination": proto_utils.proto_to_json(destination)})
    return pushed
