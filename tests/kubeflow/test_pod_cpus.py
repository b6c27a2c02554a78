"""Beam's in-pod DirectRunner gets one worker per CPU of the pod's limit,
read from cgroup files (fake ones here, laid out as the kernel does)."""
from __future__ import annotations

import os

import pytest

from imgpipe.runners.kubeflow import beam_presets, pod_cpus

ALL_CPUS = beam_presets.direct("image")   # workers=0: "one per CPU"


def cgroup_v2(root, cpu_max: str):
    root.mkdir(parents=True, exist_ok=True)
    (root / "cpu.max").write_text(cpu_max + "\n")
    return root


def cgroup_v1(root, quota: int, period: int = 100000,
              folder: str = "cpu,cpuacct"):
    (root / folder).mkdir(parents=True)
    (root / folder / "cpu.cfs_quota_us").write_text(f"{quota}\n")
    (root / folder / "cpu.cfs_period_us").write_text(f"{period}\n")
    return root


def workers(args) -> int:
    flag, = [a for a in args if a.startswith("--direct_num_workers=")]
    return int(flag.split("=")[1])


@pytest.mark.parametrize("cpu_max, expected", [
    ("400000 100000", 4), ("250000 100000", 2), ("50000 100000", 1)])
def test_cgroup_v2_limit_sets_the_workers(tmp_path, cpu_max, expected):
    root = cgroup_v2(tmp_path, cpu_max)
    assert workers(pod_cpus.cap_direct_workers(ALL_CPUS, root)) == expected


@pytest.mark.parametrize("folder", ["cpu", "cpu,cpuacct"])
def test_cgroup_v1_limit_sets_the_workers(tmp_path, folder):
    root = cgroup_v1(tmp_path, quota=300000, folder=folder)
    assert pod_cpus.cgroup_cpu_limit(root) == 3.0
    assert workers(pod_cpus.cap_direct_workers(ALL_CPUS, root)) == 3


@pytest.mark.parametrize("make", [
    lambda root: cgroup_v2(root, "max 100000"),
    lambda root: cgroup_v1(root, quota=-1),
    lambda root: root])                       # no cgroup files at all
def test_without_a_limit_the_schedulable_cpus_count(tmp_path, make):
    root = make(tmp_path)
    assert pod_cpus.cgroup_cpu_limit(root) is None
    assert workers(pod_cpus.cap_direct_workers(ALL_CPUS, root)) == \
        len(os.sched_getaffinity(0))


def test_an_explicit_worker_count_and_other_runners_are_kept(tmp_path):
    root = cgroup_v2(tmp_path, "200000 100000")
    eight = beam_presets.direct("image", workers=8)
    assert pod_cpus.cap_direct_workers(eight, root) == eight
    dataflow = ["--runner=DataflowRunner", "--project=p"]
    assert pod_cpus.cap_direct_workers(dataflow, root) == dataflow
    capped = pod_cpus.cap_direct_workers(ALL_CPUS, root)
    assert [a for a in capped if "direct_num_workers" not in a] == \
        [a for a in ALL_CPUS if "direct_num_workers" not in a]
