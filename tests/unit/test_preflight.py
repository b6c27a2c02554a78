"""Unusable data paths are refused before any component starts."""
from __future__ import annotations

import os

import pytest

from imgpipe.runners.local.preflight import DataPathError, check_data_root
from tests.unit.images import png_bytes


def make_tree(root, classes):
    for name, count in classes.items():
        (root / name).mkdir(parents=True)
        for index in range(count):
            (root / name / f"{index}.png").write_bytes(png_bytes())
    return root


def test_a_good_tree_is_counted(tmp_path):
    assert check_data_root(make_tree(tmp_path / "d", {"a": 2, "b": 3})) == \
        {"a": 2, "b": 3}


@pytest.mark.parametrize("classes, message", [
    ({}, "holds no class folders"),
    ({"a": 2, "b": 0}, "hold no images"),
    ({"only": 3}, "single class"),
])
def test_bad_trees_are_refused_with_a_reason(tmp_path, classes, message):
    root = make_tree(tmp_path / "d", classes)
    root.mkdir(exist_ok=True)
    with pytest.raises(DataPathError, match=message):
        check_data_root(root)


def test_a_missing_path_is_refused(tmp_path):
    with pytest.raises(DataPathError, match="does not exist"):
        check_data_root(tmp_path / "nope")


def test_a_file_is_not_a_data_folder(tmp_path):
    path = tmp_path / "file.png"
    path.write_bytes(png_bytes())
    with pytest.raises(DataPathError, match="is a file"):
        check_data_root(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads everything")
def test_an_unreadable_path_is_refused(tmp_path):
    root = make_tree(tmp_path / "d", {"a": 1, "b": 1})
    root.chmod(0)
    try:
        with pytest.raises(DataPathError, match="not readable"):
            check_data_root(root)
    finally:
        root.chmod(0o755)
