"""The default package runs on KFP 2.2 (Kubeflow 1.9.0): its platform
document parses under that driver's strict parser (strict_proto.py), and
what needs a newer backend is opt-in and makes the package say so."""
from __future__ import annotations

import pytest
from google.protobuf import json_format

from tests.kubeflow.conftest import compile_to
from tests.kubeflow.strict_proto import parse_strictly

KFP_2_2 = (2, 2, 0)


def _executor_configs(package) -> dict:
    return package.platform["platforms"]["kubernetes"]["deploymentSpec"][
        "executors"]


def test_every_executor_config_parses_under_kfp_2_2(compiled, dev_compiled):
    for package in (compiled, dev_compiled):
        configs = _executor_configs(package)
        assert configs
        for label, config in configs.items():
            parsed = parse_strictly(config)
            # Nothing dropped on the way: the parsed message says the same.
            assert json_format.MessageToDict(parsed) == config, label


def test_the_model_store_volume_is_in_the_form_kfp_2_2_reads(dev_compiled):
    mounts = [parse_strictly(config).pvc_mount[0]
              for config in _executor_configs(dev_compiled).values()
              if "pvcMount" in config]
    assert len(mounts) == 4
    for mount in mounts:
        assert mount.WhichOneof("pvc_reference") == "constant"
        assert (mount.constant, mount.mount_path) == ("imgpipe-models",
                                                      "/models")


def test_the_minimum_backend_is_computed_from_what_is_emitted(compiled,
                                                              dev_compiled):
    from imgpipe.runners.kubeflow import versions
    for package in (compiled, dev_compiled):
        features = versions.used_features(package.spec, package.platform)
        assert versions.requirements(features)[0][0] <= KFP_2_2
        assert versions.check("2.2.0", features, "h") is not None  # retries
        assert versions.check("2.4.1", features, "h") is None


def test_the_security_context_is_opt_in_and_needs_kfp_2_16(tmp_path):
    from imgpipe.runners.kubeflow import versions
    restricted = compile_to(tmp_path / "restricted.yaml",
                            security_context=True)
    config = next(iter(_executor_configs(restricted).values()))
    with pytest.raises(json_format.ParseError, match="securityContext"):
        parse_strictly(config)
    features = versions.used_features(restricted.spec, restricted.platform)
    assert versions.requirements(features)[0][0] == (2, 16, 0)
    with pytest.raises(versions.BackendTooOld, match="security context"):
        versions.check("2.15.0", features, "h")
