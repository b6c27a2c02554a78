"""How many CPUs a step's pod may use, for Beam's in-pod DirectRunner.

`--direct_num_workers=0` asks Beam for one worker process per CPU, which it
counts with `os.cpu_count()`: the node's cores, not the pod's limit. On a
64-core node a step limited to 4 CPUs would start 64 processes, each
importing TensorFlow, and be throttled (or killed for memory). The
container entrypoint replaces that 0 with the pod's CPU limit, read from
the cgroup the kubelet sets it in:

- cgroup v2: `<root>/cpu.max`, "<quota> <period>" or "max <period>";
- cgroup v1: `<root>/cpu/cpu.cfs_quota_us` (-1: none) and
  `cpu.cfs_period_us` (also under `cpu,cpuacct/`).

Without a limit the CPUs the process may run on (its affinity) count.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import List, Optional, Sequence

CGROUP_ROOT = Path("/sys/fs/cgroup")
ALL_CPUS_FLAG = "--direct_num_workers=0"


def _read(path: Path) -> Optional[str]:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def cgroup_cpu_limit(root: Path = CGROUP_ROOT) -> Optional[float]:
    """The CPU limit of this container's cgroup in cores, None if none."""
    v2 = _read(root / "cpu.max")
    if v2 is not None:
        quota, _, period = v2.partition(" ")
        if quota == "max" or not period:
            return None
        return int(quota) / int(period)
    for folder in ("cpu", "cpu,cpuacct"):
        quota = _read(root / folder / "cpu.cfs_quota_us")
        period = _read(root / folder / "cpu.cfs_period_us")
        if quota is not None and period is not None:
            return None if int(quota) <= 0 else int(quota) / int(period)
    return None


def usable_cpus(root: Path = CGROUP_ROOT) -> int:
    """Whole CPUs this pod may keep busy: its limit rounded down (at least
    one), else the CPUs it may be scheduled on."""
    limit = cgroup_cpu_limit(root)
    if limit is not None:
        return max(1, math.floor(limit))
    return len(os.sched_getaffinity(0))


def cap_direct_workers(beam_args: Sequence[str],
                       root: Path = CGROUP_ROOT) -> List[str]:
    """`beam_args` with "one worker per CPU" made the pod's CPU count."""
    if ALL_CPUS_FLAG not in beam_args:
        return list(beam_args)
    workers = f"--direct_num_workers={usable_cpus(root)}"
    return [workers if arg == ALL_CPUS_FLAG else arg for arg in beam_args]
