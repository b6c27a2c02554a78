"""Files that cannot be read are quarantined with their reason; the run goes
on. Before, a dangling symlink stopped ExampleGen's driver with an empty
`NotFoundError` (TFX stats every matched file to fingerprint the input)."""
from __future__ import annotations

from tests.ingest import builders
from tests.ingest.harness import (example_gen_properties, run_example_gen,
                                  simulate_driver)


def test_a_dangling_symlink_is_quarantined_not_fatal(tmp_path):
    root = builders.class_tree(tmp_path / "data", {"cat": 4, "dog": 4})
    # An annexed file whose content was never fetched: the link stays.
    (root / "cat" / "annexed.png").symlink_to(
        root / ".annex" / "objects" / "missing.png")

    ingested = run_example_gen(root, tmp_path / "examples", driver=True)

    assert ingested.reasons() == {
        "cat/annexed.png": "cannot read: No such file or directory"}
    assert len(ingested.rows) == 8


def test_the_fingerprint_still_sees_an_unreadable_file_come_and_go(tmp_path):
    root = builders.class_tree(tmp_path / "data", {"cat": 2, "dog": 2})
    clean = simulate_driver(example_gen_properties(str(root)))["input_fingerprint"]
    (root / "dog" / "link.png").symlink_to(tmp_path / "nowhere.png")
    broken = simulate_driver(example_gen_properties(str(root)))["input_fingerprint"]
    assert "unreadable:0" in clean and "unreadable:1" in broken


def test_a_file_removed_between_listing_and_reading_is_quarantined(
        tmp_path, monkeypatch):
    """The executor lists the folder, then reads each file: a file deleted
    in between (a sync job, a cleanup) is reported, not fatal."""
    from imgpipe_components.image_example_gen import formats

    root = builders.class_tree(tmp_path / "data", {"cat": 4, "dog": 4})
    victim = sorted((root / "dog").iterdir())[0]
    plan = formats.plan

    def plan_then_delete(*args, **kwargs):
        planned = plan(*args, **kwargs)
        victim.unlink()
        return planned

    monkeypatch.setattr(formats, "plan", plan_then_delete)
    ingested = run_example_gen(root, tmp_path / "examples")

    assert ingested.reasons() == {
        f"dog/{victim.name}": "cannot read: No such file or directory"}
    assert len(ingested.rows) == 7
