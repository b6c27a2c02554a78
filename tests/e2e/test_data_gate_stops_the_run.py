"""Bad data beyond the gate's tolerance stops the pipeline before
augmentation and training."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from imgpipe_components.data_gate.errors import DataValidationError

pytestmark = pytest.mark.e2e


def test_leaked_duplicates_stop_the_run_before_training(digits_subset,
                                                        small_config,
                                                        tmp_path):
    from imgpipe.runners.local import run_record
    from imgpipe.runners.local.layout import LocalLayout
    from imgpipe.runners.local.runner import run_pipeline

    data = tmp_path / "leaky"
    shutil.copytree(digits_subset, data)
    for image in sorted((data / "4").iterdir()):
        # Same bytes under another name, hashed into either split: 60 copies
        # of 660 images, duplicates (over 5 %) or train/eval leaks (over 1 %).
        shutil.copy(image, image.with_name(f"copy-{image.name}"))
    layout = LocalLayout(data, tmp_path / "out")

    with pytest.raises(DataValidationError) as stopped:
        run_pipeline(small_config, layout)

    message = str(stopped.value)
    assert "leaked_into_eval" in message and "4/" in message
    assert "over the tolerance of 1.00%" in message
    assert "raise data_gate.max_excluded_fraction" in message
    assert "raise data_gate.max_duplicate_fraction" in message
    assert "data_docs/index.html" in message
    # The files the message names outlive the failed step's output folder.
    named = re.findall(r"(/\S+?(?:index\.html|report\.json|\.jsonl))", message)
    assert len(named) >= 2, message
    for path in named:
        assert Path(path).is_file(), path
    assert "/DataGate/stopped/" in named[0]
    store = run_record.open_store(layout.metadata_path)
    run_id = run_record.latest_run(store, small_config.pipeline_name)
    ran = {n.node_id: n.state for n in run_record.node_runs(store, run_id)}
    assert ran["DataGate"] == "FAILED"
    assert not {"Augment", "Transform", "Trainer", "Pusher"} & set(ran)
    assert not (tmp_path / "out" / "serving").exists()
