"""The baseline is the latest blessed model other than the candidate."""
from __future__ import annotations

from tfx.types import standard_artifacts

from imgpipe.components.evaluate.baseline_strategy import latest_blessed_other_than


def model(artifact_id):
    artifact = standard_artifacts.Model()
    artifact.id = artifact_id
    return artifact


def blessing(model_id, blessed=True):
    artifact = standard_artifacts.ModelBlessing()
    artifact.set_int_custom_property("current_model_id", model_id)
    artifact.set_int_custom_property("blessed", int(blessed))
    return artifact


def test_the_newest_blessed_model_that_is_not_the_candidate():
    models = [model(1), model(2), model(3)]
    blessings = [blessing(1), blessing(2), blessing(3, blessed=False)]
    chosen, chosen_blessing = latest_blessed_other_than(
        [models[2]], models, blessings)
    assert [m.id for m in chosen] == [2]
    assert chosen_blessing[0].get_int_custom_property("current_model_id") == 2


def test_a_rerun_of_the_blessed_model_has_no_baseline():
    models = [model(1)]
    assert latest_blessed_other_than(models, models, [blessing(1)]) == ([], [])


def test_no_blessed_model_means_no_baseline():
    assert latest_blessed_other_than([model(2)], [model(1), model(2)],
                                     [blessing(1, blessed=False)]) == ([], [])
