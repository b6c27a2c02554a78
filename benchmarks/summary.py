"""One page over every benchmark: results/summary.md from results/*.json.

Each figure keeps the date and load of the run that measured it (the
benchmarks run separately); the detailed reports are linked.

    python -m benchmarks.summary
"""
from __future__ import annotations

import json
import statistics
from typing import List, Optional

from benchmarks.common import RESULTS


def _load(name: str) -> Optional[dict]:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _pipeline(data: dict) -> List[tuple]:
    runs = data["runs"]
    cold = statistics.median(r["cold_s"] for r in runs)
    cached = statistics.median(r["fully_cached_s"] for r in runs)
    ratio = cold / statistics.median(data["plain_walls_s"])
    return [("cold `make run` (s)", f"{cold:.1f}", "<= 180 (aim 90)",
             cold <= 180),
            ("fully cached re-run (s)", f"{cached:.1f}", "<= 30",
             cached <= 30),
            ("pipeline / plain Keras script", f"{ratio:.2f}", "<= 3 (aim 2)",
             ratio <= 3)]


def _quality(data: dict) -> List[tuple]:
    accuracies = [r["eval_accuracy"] for r in data["runs"]]
    mean = statistics.mean(accuracies)
    epoch = statistics.median(r["epoch_seconds"] for r in data["runs"])
    return [(f"default model eval accuracy, {len(accuracies)} seeds (mean)",
             f"{mean:.4f}", f">= SVC {data['svc_accuracy']:.4f}",
             mean >= data["svc_accuracy"]),
            ("training s/epoch (median over seeds)", f"{epoch:.2f}", "",
             None)]


def _augment(data: dict) -> List[tuple]:
    beam = data["augmented_per_run"] / statistics.median(data["beam_s"])
    loop = data["augmented_per_run"] / statistics.median(data["loop_s"])
    return [("augmented images/s, in-process Beam", f"{beam:.0f}",
             f"vs plain loop {loop:.0f}/s", beam >= loop)]


def _ingest(data: dict) -> List[tuple]:
    first = data["results"][0]
    return [(f"ingestion images/s ({first['case']})",
             f"{first['images'] / statistics.median(first['seconds']):.0f}",
             "", None)]


def _serving(data: dict) -> List[tuple]:
    summary = data["summary"]
    nan = float("nan")

    def figure(row: str, key: str) -> float:
        return summary.get(row, {}).get(key, nan)
    one_p50 = figure("rest_batch_1_one_client", "p50_ms")
    rows = [("serving batch 1, 1 client, p50 ms", f"{one_p50:.2f}", "< 5",
             one_p50 < 5)]
    for row, clients in (("rest_batch_1", "4 httpx clients"),
                         ("rest_batch_1_light_client",
                          "4 http.client clients")):
        rate = figure(row, "requests_per_s")
        rows.append((f"serving batch 1, {clients}, requests/s "
                     f"(p50 {figure(row, 'p50_ms'):.1f} ms)", f"{rate:.0f}",
                     "> 500", rate > 500))
    swap_errors = summary.get("rest_hot_swap", {}).get("errors")
    return rows + [("errors during a hot swap", str(swap_errors), "0",
                    swap_errors == 0)]


def _gpu(data: dict) -> List[tuple]:
    return [(f"training images/s, {data['data']} 32x32x3, "
             f"{'mixed_float16' if r['mixed_precision'] else 'float32'} "
             f"on {data['gpus']}", f"{r['images_per_second']:.0f}", "", None)
            for r in data["runs"]]


def _accuracy(data: dict) -> List[tuple]:
    from benchmarks.accuracy_report import verdicts
    v = verdicts(data["runs"], data["digits_cached_s"], data["tfx_mnist"])
    rows = [("cold `imgpipe run` / plain seed CNN, 10k grey images (wall)",
             f"{v['wall_ratio']:.2f}", "<= 2", v["wall_ratio"] <= 2),
            ("eval accuracy, pipeline vs plain script (mean of seeds)",
             f"{v['pipeline_accuracy']:.4f} vs {v['plain_accuracy']:.4f}",
             "pipeline >= plain",
             v["pipeline_accuracy"] >= v["plain_accuracy"]),
            ("digits eval accuracy per seed",
             ", ".join(f"{a:.4f}" for a in v["digits_accuracy"]),
             "1.0000 each", all(a >= 1.0 for a in v["digits_accuracy"])),
            ("digits fully cached re-run (s)", f"{v['cached_s']:.1f}",
             "< 10", v["cached_s"] < 10)]
    if v["mnist_ratio"] is not None:
        rows.append(("digits cold run / TFX MNIST example (wall)",
                     f"{v['mnist_ratio']:.2f}", "<= 0.5",
                     v["mnist_ratio"] <= 0.5))
    return rows


def _growth(data: dict) -> List[tuple]:
    growth = data["growth"]
    ratio = growth[-1]["peak_rss_mib"] / growth[0]["peak_rss_mib"]
    return [(f"peak RSS at {growth[-1]['factor']}x data / 1x",
             f"{ratio:.2f}", "<= 1.2", ratio <= 1.2)]


def _pretrain(data: dict) -> List[tuple]:
    arms = data["by_arm"]
    scratch, pretrained = arms["scratch"], arms["pretrained"]
    return [("eval accuracy with 10 % of the labels, rotation-pretrained vs "
             "from scratch (mean of seeds)",
             f"{statistics.mean(pretrained['accuracy']):.4f} vs "
             f"{statistics.mean(scratch['accuracy']):.4f}", "", None),
            ("training time, pretrained / from scratch",
             f"{pretrained['total_s'] / scratch['total_s']:.1f}",
             "opt-in only unless it wins accuracy per second",
             pretrained["accuracy_per_minute"]
             <= scratch["accuracy_per_minute"])]


SECTIONS: List[tuple] = [("pipeline", _pipeline), ("quality", _quality),
                         ("accuracy", _accuracy), ("growth", _growth),
                         ("augment", _augment), ("ingest", _ingest),
                         ("serving", _serving), ("gpu", _gpu),
                         ("pretrain", _pretrain)]


def main() -> None:
    lines = ["# Benchmark summary", "",
             "Regenerated by `make bench` from the JSON results; each row "
             "links its report, which gives the machine, versions, load and "
             "every run.", "",
             "| benchmark | figure | value | target | met |",
             "|---|---|---|---|---|"]
    for name, rows in SECTIONS:
        data = _load(name)
        if data is None:
            lines.append(f"| {name} | not run yet | | | |")
            continue
        when = data.get("machine", {}).get("date", "?")
        for figure, value, target, met in rows(data):
            mark = "" if met is None else ("yes" if met else "**no**")
            lines.append(f"| [{name}]({name}.md) ({when}) | {figure} | "
                         f"{value} | {target} | {mark} |")
    path = RESULTS / "summary.md"
    path.write_text("\n".join(lines) + "\n")
    print(path.read_text())


if __name__ == "__main__":
    main()
