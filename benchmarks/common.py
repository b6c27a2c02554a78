"""Shared helpers for benchmarks: machine facts, versions, result files."""
from __future__ import annotations

import json
import os
import platform
import statistics
import time
from importlib import metadata
from pathlib import Path
from typing import Dict, List

RESULTS = Path(__file__).resolve().parent / "results"
PACKAGES = ("tfx", "tensorflow", "tensorflow-transform",
            "tensorflow-model-analysis", "apache-beam", "great-expectations",
            "scikit-learn")


def machine() -> Dict[str, object]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpus": os.cpu_count(), "cpu_model": cpu,
            "memory_gib": round(memory_gib, 1), "python": platform.python_version(),
            "platform": platform.platform(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


def versions() -> Dict[str, str]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "absent"
    return found


def mean_std(values: List[float]) -> str:
    if len(values) < 2:
        return f"{values[0]:.4f}" if values else "-"
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}"


def write_results(name: str, payload: dict, markdown: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"machine": machine(), "versions": versions(), **payload}
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2))
    header = (f"Machine: {payload['machine']['cpus']} CPUs "
              f"({payload['machine']['cpu_model']}), "
              f"{payload['machine']['memory_gib']} GiB, Python "
              f"{payload['machine']['python']}, {payload['machine']['date']}\n\n"
              "Versions: " + ", ".join(f"{k} {v}" for k, v in
                                       payload["versions"].items()) + "\n\n")
    path = RESULTS / f"{name}.md"
    path.write_text(markdown.replace("{HEADER}", header))
    return path


def chosen_config(data_root: Path):
    """The PipelineConfig `imgpipe run` builds for a class-folder tree on
    this machine (the chooser's settings, nothing overridden)."""
    from imgpipe.config import PipelineConfig
    from imgpipe import auto_settings, data_profile
    from imgpipe_components.storage.files import list_tree, read_bytes
    profile = data_profile.profile_listing(
        list_tree(str(data_root)), (".png",), read_bytes)
    return auto_settings.apply(PipelineConfig(), auto_settings.choose(
        profile, data_profile.detect_hardware(), {}))
