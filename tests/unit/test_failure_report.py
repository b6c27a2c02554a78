"""A failed run says which component, the exception type and message (and
its causes), and the log file it names holds the traceback."""
from __future__ import annotations

import pytest
import typer

from tests import logging_state


def test_an_empty_message_and_its_cause_are_named():
    from tfx.dsl.io.filesystem import NotFoundError

    from imgpipe.cli.report import explain_error
    try:
        try:
            raise FileNotFoundError(2, "No such file", "/data/cat/x.png")
        except FileNotFoundError as cause:
            raise NotFoundError() from cause
    except NotFoundError as error:
        text = explain_error(error)
    assert text.startswith("NotFoundError: (no message); caused by "
                           "FileNotFoundError:")
    assert "/data/cat/x.png" in text


@pytest.fixture
def restored_logging():
    with logging_state.restored_logging():
        yield


def test_the_log_the_message_names_holds_the_traceback(
        tmp_path, monkeypatch, capsys, restored_logging):
    from imgpipe.cli import main
    from imgpipe.config import PipelineConfig
    from imgpipe.runners.local import runner
    from imgpipe.runners.local.layout import LocalLayout

    def failing_run(config, layout, on_progress, new_metadata):
        on_progress("running", "ImageExampleGen")
        raise PermissionError(13, "Permission denied", "/data/cat/locked.png")

    monkeypatch.setattr(runner, "run_pipeline", failing_run)
    layout = LocalLayout(tmp_path / "data", tmp_path / "out")
    with pytest.raises(typer.Exit):
        main._run_with_progress(PipelineConfig(), layout, False)
    message = capsys.readouterr().err
    assert "in component ImageExampleGen" in message
    assert "PermissionError" in message and "/data/cat/locked.png" in message
    log = next(layout.logs_dir.glob("run-*.log")).read_text()
    assert "Traceback" in log and "locked.png" in log
