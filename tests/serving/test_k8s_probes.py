"""The serving Deployment's probes, rendered with `kubectl kustomize` for
every overlay, and their commands run for real against a server that
speaks TF Serving's REST API on loopback: readiness passes only once a
version is AVAILABLE; liveness passes while the model is missing or slow,
so Kubernetes never restarts a pod that is only loading."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.serving.helpers import push_copy, running_server, wait_until

pytestmark = pytest.mark.timeout(300)
ROOT = Path(__file__).resolve().parents[2]
KUBECTL = Path(sys.executable).parent / "kubectl"
TF_SERVING_REST = "/127.0.0.1/8501"


def serving_container(overlay: str) -> dict:
    result = subprocess.run(
        [str(KUBECTL), "kustomize", str(ROOT / "infra/k8s/overlays" / overlay)],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    deployment, = [d for d in yaml.safe_load_all(result.stdout)
                   if d and d["kind"] == "Deployment"]
    container, = deployment["spec"]["template"]["spec"]["containers"]
    return container


@pytest.fixture(scope="module", params=("dev", "prod"))
def container(request) -> dict:
    return serving_container(request.param)


def test_startup_covers_a_slow_first_load(container):
    startup = container["startupProbe"]
    assert startup["tcpSocket"]["port"] == "http"
    # TF Serving opens its ports after the first load: allow minutes.
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 300


def test_readiness_requires_an_available_version(container):
    readiness = container["readinessProbe"]
    assert "httpGet" not in readiness     # 200 for LOADING and END too
    command = readiness["exec"]["command"]
    assert command[:2] == ["/bin/bash", "-c"]   # no curl/python in the image
    assert '"AVAILABLE"' in command[2] and TF_SERVING_REST in command[2]
    assert readiness["timeoutSeconds"] >= 5


def test_liveness_does_not_depend_on_the_model(container):
    liveness = container["livenessProbe"]
    command = liveness["exec"]["command"][2]
    assert "AVAILABLE" not in command and "^HTTP/1" in command
    assert liveness["periodSeconds"] * liveness["failureThreshold"] >= 60


def probe_passes(container: dict, probe: str, port: int) -> bool:
    """Run the probe's own command, pointed at the test server's port."""
    command = list(container[probe]["exec"]["command"])
    command[2] = command[2].replace(TF_SERVING_REST, f"/127.0.0.1/{port}")
    return subprocess.run(command, capture_output=True,
                          timeout=30).returncode == 0


def test_the_probe_commands_against_a_real_server(tmp_path, pushed_version):
    container = serving_container("dev")
    base = tmp_path / "serving" / "digits"
    base.mkdir(parents=True)
    with running_server(base) as client:
        port = client.base_url.port
        assert not probe_passes(container, "readinessProbe", port)
        assert probe_passes(container, "livenessProbe", port)
        push_copy(pushed_version, base, 1)
        wait_until(lambda: probe_passes(container, "readinessProbe", port),
                   120, "the readiness command to pass")
        assert probe_passes(container, "livenessProbe", port)
