"""TF Serving on Kubernetes reads the model store that promotion writes.

Each overlay is rendered with `kubectl kustomize`; the `--model_config_file`
TF Serving gets must be the models.config that the model store
(components/imgpipe_components/model_store/store.py) reads and writes for
that environment's store (`infra/kubeflow/<env>.yaml`), polled with
`--model_config_file_poll_wait_seconds` (tensorflow/serving,
tensorflow_serving/model_servers/main.cc; the poll re-reads the file and
calls ServerCore::ReloadConfig, server.cc PollFilesystemAndReloadConfig).
Then the local stand-in (`imgpipe serve`) runs with those rendered
arguments, the container paths mapped to a temporary folder, and a
promotion through the model store must reach `labels/stable` within one
poll, with no restart.
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path, PurePosixPath

import httpx
import pytest

from tests.kubeflow.test_manifests import (OVERLAYS, by_kind, render,
                                           serving_container)
from tests.serving.helpers import ServerProcess, b64, wait_until

ROOT = Path(__file__).resolve().parents[2]


def tf_serving_flags(objects: list) -> dict:
    """The rendered container's `--name=value` arguments."""
    flags = {}
    for argument in serving_container(objects)["args"]:
        name, _, value = argument.partition("=")
        assert name.startswith("--") and name[2:] not in flags, argument
        flags[name[2:]] = value
    return flags


def pipeline_settings(overlay: str):
    from imgpipe.runners.kubeflow.config_file import load
    return load(ROOT / "infra/kubeflow" / f"{overlay}.yaml")


def store_config_file(overlay: str) -> str:
    """Where the model store of `infra/kubeflow/<overlay>.yaml` keeps
    models.config: the store's own answer, not a copy of its rule."""
    from imgpipe.runners.kubeflow.runner import serving_dir
    from imgpipe_components.model_store.store import GcsStore, open_store

    config, kubeflow = pipeline_settings(overlay)
    store = open_store(serving_dir(config, kubeflow), config.model_name)
    return (store.config_uri if isinstance(store, GcsStore)
            else str(store.paths.config))


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request):
    return request.param, render(request.param)


def test_tf_serving_reads_the_file_the_model_store_writes(rendered):
    overlay, objects = rendered
    flags = tf_serving_flags(objects)
    assert flags["model_config_file"] == store_config_file(overlay)
    # 0 or unset: TF Serving reads the file once, at start (main.cc).
    assert int(flags["model_config_file_poll_wait_seconds"]) > 0
    assert int(flags["file_system_poll_wait_seconds"]) > 0
    # A label may name a version still loading when TF Serving starts.
    assert flags["allow_version_labels_for_unavailable_models"] == "true"


def test_a_claim_path_is_mounted_from_the_claim_the_pusher_writes(rendered):
    """In dev the file lies on the claim the Pusher mounts at the same
    path; in prod it is a gs:// object, read through Workload Identity."""
    from imgpipe.runners.kubeflow.platform import model_store_mount

    overlay, objects = rendered
    config_file = tf_serving_flags(objects)["model_config_file"]
    _, kubeflow = pipeline_settings(overlay)
    if config_file.startswith("gs://"):
        assert not kubeflow.model_store_pvc
        return
    pusher = model_store_mount(kubeflow)
    deployment, = by_kind(objects, "Deployment")
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"][
        "volumes"]}
    mount, = [m for m in serving_container(objects)["volumeMounts"]
              if PurePosixPath(config_file).is_relative_to(m["mountPath"])]
    assert mount["mountPath"] == pusher["mountPath"]
    assert volumes[mount["name"]]["persistentVolumeClaim"]["claimName"] == \
        pusher["constant"]


def test_no_config_map_holds_promotion_state(rendered):
    """An applied ConfigMap with labels would put them back on every
    `kubectl apply -k`."""
    for config_map in by_kind(rendered[1], "ConfigMap"):
        text = json.dumps(config_map.get("data", {}))
        assert "model_config_list" not in text and "version_labels" not in \
            text, config_map["metadata"]["name"]


def test_the_autoscaler_alone_sets_the_replica_count(rendered):
    deployment, = by_kind(rendered[1], "Deployment")
    autoscaler, = by_kind(rendered[1], "HorizontalPodAutoscaler")
    assert autoscaler["spec"]["scaleTargetRef"]["name"] == \
        deployment["metadata"]["name"]
    assert "replicas" not in deployment["spec"]


def test_the_docs_name_the_file_each_overlay_reads(rendered):
    overlay, objects = rendered
    text = (ROOT / "docs/kubeflow.md").read_text()
    start = text.index("### Serving reads what the pipeline pushed")
    section = text[start:text.index("\n## ", start)]
    flag = tf_serving_flags(objects)["model_config_file"]
    assert f"--model_config_file={flag}" in section
    assert "tf-serving-models" not in section.split("Migrating")[0]


def _store_with_two_versions(model_dir: Path, pushed: Path) -> None:
    """Versions 1 (stable) and 2 (canary, better accuracy), pushed through
    the model store as the Pusher does."""
    from imgpipe_components.model_store import register_pushed_version
    for version, accuracy in ((1, 0.90), (2, 0.95)):
        folder = model_dir / str(version)
        shutil.copytree(pushed, folder)
        (folder / "assets.extra" / "evaluation.json").write_text(
            json.dumps({"accuracy": accuracy}))
        register_pushed_version(model_dir, version, user="pipeline")


def _stable_version(url: str, png: bytes) -> str:
    """The version answering a prediction by label (TF Serving routes
    predictions by label; its status by label lists every version)."""
    answer = httpx.post(f"{url}/v1/models/digits/labels/stable:predict",
                        json={"instances": [b64(png)]}, timeout=30)
    return answer.headers.get("x-model-version", "") \
        if answer.status_code == 200 else ""


def _container_to_local(objects: list, path: str, local: Path) -> Path:
    """`path` inside the serving container, with the volume mount holding
    it mapped to `local`."""
    roots = [m["mountPath"] for m in serving_container(objects)[
        "volumeMounts"] if PurePosixPath(path).is_relative_to(m["mountPath"])]
    assert roots, f"{path} is on no volume of the serving container"
    return local / PurePosixPath(path).relative_to(roots[0])


@pytest.mark.timeout(900)
def test_promotion_reaches_the_rendered_server_within_one_poll(
        tmp_path, pipeline_run, digits_subset):
    """dev's rendered arguments, the claim's mount mapped to a temporary
    folder; the Pusher's path (infra/kubeflow/dev.yaml) mapped the same."""
    from imgpipe.runners.kubeflow.runner import serving_dir
    from imgpipe_components.model_store import promote

    objects = render("dev")
    flags = tf_serving_flags(objects)
    config, kubeflow = pipeline_settings("dev")
    model_dir = _container_to_local(objects, serving_dir(config, kubeflow),
                                    tmp_path)
    _store_with_two_versions(model_dir, pipeline_run.serving_dir / "1")
    png = next(next(digits_subset.iterdir()).iterdir()).read_bytes()
    poll = float(flags["model_config_file_poll_wait_seconds"])
    with ServerProcess(tmp_path / "serve.log", "--model-dir", model_dir,
                       "--model-config", _container_to_local(
                           objects, flags["model_config_file"], tmp_path),
                       "--poll-seconds", poll) as server:
        server.wait_started()
        wait_until(lambda: _stable_version(server.url, png) == "1", 120,
                   "version 1 to serve as stable")
        pid = server.process.pid
        result = promote(model_dir, config.model_name, user="operator")
        promoted = time.monotonic()
        assert result.changed, result.message
        wait_until(lambda: _stable_version(server.url, png) == "2",
                   poll + 10, "labels/stable to reach version 2")
        assert time.monotonic() - promoted <= poll + 5
        assert server.process.poll() is None and server.process.pid == pid
        assert server.log().count("Loaded digits version 2") == 1


def test_the_pusher_waits_a_poll_before_moving_a_label(rendered):
    """TF Serving refuses a label moved onto a version it has not loaded;
    the Pusher loads first and moves the label `label_settle_s` later,
    which must cover one poll of the deployed servers."""
    overlay, objects = rendered
    poll_s = int(tf_serving_flags(objects)[
        "model_config_file_poll_wait_seconds"])
    config, _ = pipeline_settings(overlay)
    assert config.push.label_settle_s > poll_s
