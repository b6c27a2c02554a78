"""Class names are data: written and read back exactly, one per line."""
from __future__ import annotations

import pytest

from imgpipe_components import class_names

ODD_NAMES = ["striped texture", "v1.2", "007", "déjà vu", "猫", " lead",
             "a\tb"]


def test_odd_names_round_trip_exactly():
    assert class_names.from_text(class_names.to_text(ODD_NAMES)) == ODD_NAMES


def test_windows_line_ends_and_blank_lines_are_not_names():
    assert class_names.from_text("cat\r\n\r\nstriped texture\r\n") == \
        ["cat", "striped texture"]


@pytest.mark.parametrize("bad", ["two\nlines", "", "carriage\rreturn"])
def test_a_name_no_file_can_hold_is_refused_with_what_to_do(bad):
    with pytest.raises(class_names.ClassNameError, match="Rename the class"):
        class_names.to_text(["cat", bad])


def test_duplicate_names_are_refused():
    with pytest.raises(class_names.ClassNameError, match="more than once"):
        class_names.check(["cat", "cat"], "labels.txt")


def test_ingestion_keeps_folder_names_with_spaces_and_dots(tmp_path):
    from imgpipe_components.image_example_gen import formats
    from imgpipe_components.image_example_gen.settings import IngestConfig
    from imgpipe_components.storage.files import list_tree, read_bytes
    for name in ("striped texture", "v1.2", "007"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "a.png").write_bytes(b"not checked here")
    listing = list_tree(str(tmp_path))
    plan = formats.plan(formats.FOLDERS, listing, IngestConfig(), read_bytes)
    assert list(plan.vocabulary) == ["007", "striped texture", "v1.2"]


def test_a_labels_file_keeps_spaces_inside_names(tmp_path):
    from imgpipe_components.image_example_gen import formats
    (tmp_path / "labels.txt").write_text("striped texture\ncircle\n")
    from imgpipe_components.storage.files import list_tree, read_bytes
    assert formats._vocabulary_file(list_tree(str(tmp_path)), read_bytes) == \
        ["striped texture", "circle"]
