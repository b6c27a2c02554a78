"""An output folder reached through a symbolic link is the same folder:
`imgpipe serve` compares models.config's base_path with the model dir
after resolving links, and refuses only a config that names another
folder (a copied serving folder)."""
from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from imgpipe.serving.registry import ConfigSource, StartupRefused
from imgpipe_components.model_store import register_pushed_version
from tests.serving.helpers import ServerProcess


def _source(model_dir: Path) -> ConfigSource:
    return ConfigSource(model_dir.parent / "models.config", model_dir.name,
                        os.path.abspath(model_dir), pin_base_path=True)


def test_a_linked_folder_passes_and_a_copied_one_is_refused(tmp_path):
    real = tmp_path / "real" / "serving" / "flowers"
    (real / "1").mkdir(parents=True)
    register_pushed_version(real, 1)                 # base_path: the real one
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "real")
    config = _source(link / "serving" / "flowers").current()
    assert config.model_config_list.config[0].base_path == str(real)

    copy = tmp_path / "copy" / "serving"
    copy.mkdir(parents=True)
    (copy / "models.config").write_text(
        (real.parent / "models.config").read_text())
    (copy / "flowers").mkdir()
    with pytest.raises(StartupRefused, match="even with symbolic links "
                                             "resolved"):
        _source(copy / "flowers").current()


def test_serve_through_a_linked_output_folder(tmp_path, model_base):
    """model_base is <tmp>/serving/digits/1: the run's output is <tmp>."""
    from imgpipe.runners.local import output_record
    from imgpipe.runners.local.layout import LocalLayout

    register_pushed_version(model_base, 1)
    output_record.write(LocalLayout(tmp_path / "data", tmp_path), "digits",
                        "imgpipe")
    link = tmp_path.parent / f"{tmp_path.name}-link"
    link.symlink_to(tmp_path)
    try:
        with ServerProcess(tmp_path / "server.log", "--output", link) as server:
            server.wait_started()
            status = httpx.get(f"{server.url}/v1/models/digits", timeout=30)
            assert status.status_code == 200, server.log()
            states = {row["version"]: row["state"] for row in
                      status.json()["model_version_status"]}
            assert states == {"1": "AVAILABLE"}, server.log()
    finally:
        link.unlink()
