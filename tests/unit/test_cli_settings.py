"""`imgpipe run`'s budget options are checked before any work starts."""
from __future__ import annotations

import pytest

from tests.unit.test_cli import run_cli, tree


@pytest.mark.parametrize("args, message", [
    (["--train-budget", "soon"], "give epochs as e.g. '20e'"),
    (["--train-budget", "20e", "--epochs", "5"], "disagree"),
])
def test_bad_budgets_exit_2_before_the_pipeline(tmp_path, args, message):
    data = tree(tmp_path / "data", {"a": 3, "b": 3})
    result = run_cli("run", "--data", str(data), "--output",
                     str(tmp_path / "out"), *args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in " ".join(result.stderr.split())
    assert not (tmp_path / "out" / "metadata.sqlite").exists()


def test_help_lists_the_budget_options(tmp_path):
    result = run_cli("run", "--help", cwd=tmp_path)
    text = " ".join(result.stdout.split())
    for option in ("--train-budget", "--early-stopping"):
        assert option in text
