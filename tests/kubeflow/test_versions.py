"""versions.py, what a compiled package emits, and the tables of
docs/kubeflow.md ("Backend versions") say the same thing."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _table(heading_row: str) -> list:
    """The rows (lists of cells) of the docs table whose header starts
    with `heading_row`."""
    text = (ROOT / "docs/kubeflow.md").read_text()
    section = text[text.index("## Backend versions"):
                   text.index("## 5. Schedule retraining")]
    lines = section[section.index(heading_row):].splitlines()
    rows = []
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _named(cell: str) -> set:
    return set(re.findall(r"`([A-Za-z]+)`", cell))


def _version(text: str):
    from imgpipe.runners.kubeflow.versions import parse
    return parse(text)


def test_every_emitted_feature_has_a_minimum(compiled, dev_compiled):
    from imgpipe.runners.kubeflow.versions import BY_FIELD, used_features

    dev = dev_compiled
    for package in (compiled, dev):
        emitted = set(used_features(package.spec, package.platform))
        assert emitted <= set(BY_FIELD), emitted - set(BY_FIELD)
    assert "pvcMount" in used_features(dev.spec, dev.platform)


def test_the_feature_table_is_versions_py():
    from imgpipe.runners.kubeflow.versions import BY_FIELD, show
    rows = _table("| the package emits |")
    documented = {}
    for feature, oldest, *_ in rows:
        for name in _named(feature):
            documented[name] = oldest
    expected = {name: show(version) for name, (version, _) in
                BY_FIELD.items()}
    assert documented == expected


def test_the_minimum_the_docs_state_is_the_packages(compiled):
    from imgpipe.runners.kubeflow.versions import (requirements, show,
                                                   used_features)
    needed = requirements(used_features(compiled.spec, compiled.platform))
    text = (ROOT / "docs/kubeflow.md").read_text()
    assert f"it needs KFP >= {show(needed[0][0])}." in text


def test_the_kubeflow_table_is_computed_from_the_package(compiled):
    from imgpipe.runners.kubeflow.versions import (BY_FIELD,
                                                   KUBEFLOW_RELEASES,
                                                   missing_on, used_features)
    emitted = used_features(compiled.spec, compiled.platform)
    rows = {kubeflow: (kfp, runs, _named(missing)) for kubeflow, kfp, runs,
            missing, *_ in _table("| Kubeflow | KFP backend |")}
    assert set(rows) == {release for release, _ in KUBEFLOW_RELEASES}
    for release, backend in KUBEFLOW_RELEASES:
        kfp, runs, missing = rows[release]
        assert _version(kfp) == backend, release
        assert runs == ("no" if missing_on(backend, emitted) else "yes"), \
            release
        expected = {name for name in emitted if backend < BY_FIELD[name][0]}
        assert missing == expected, release


@pytest.mark.parametrize("release, refused", [
    ("1.8.1", "time limit per step")])
def test_submit_refuses_each_kubeflow_releases_backend(compiled, release,
                                                       refused):
    from imgpipe.runners.kubeflow import versions
    from imgpipe.runners.kubeflow.client import PipelinePackage

    backend = dict(versions.KUBEFLOW_RELEASES)[release]
    package = PipelinePackage.load(compiled.path)
    with pytest.raises(versions.BackendTooOld, match=refused):
        versions.check(versions.show(backend), package.features, "h")


@pytest.mark.parametrize("release, ignored", [
    ("1.9.0", "retries"), ("1.9.1", "retries"), ("1.10.0", None),
    ("1.11.0", None)])
def test_kubeflow_1_9_and_later_run_the_default_package(compiled, release,
                                                        ignored):
    from imgpipe.runners.kubeflow import versions
    from imgpipe.runners.kubeflow.client import PipelinePackage

    backend = dict(versions.KUBEFLOW_RELEASES)[release]
    package = PipelinePackage.load(compiled.path)
    warning = versions.check(versions.show(backend), package.features, "h")
    assert (warning is None) == (ignored is None), warning
    if ignored:
        assert ignored in warning
