"""The markdown report of benchmarks/serving_bench.py."""
from __future__ import annotations

ROWS = (("rest_batch_1_one_client", "REST server, batch 1, 1 client"),
        ("floor_batch_1_one_thread",
         "in-process SavedModel, batch 1, 1 thread (floor)"),
        ("rest_batch_1", "REST server, batch 1"),
        ("rest_batch_1_light_client",
         "REST server, batch 1, http.client clients"),
        ("floor_batch_1", "in-process SavedModel, batch 1 (floor)"),
        ("rest_batch_32", "REST server, batch 32"),
        ("floor_batch_32", "in-process SavedModel, batch 32 (floor)"),
        ("rest_hot_swap", "REST server, batch 1, new version pushed mid-run"))


def _spread(runs: list, key: str) -> str:
    values = [run[key] for run in runs if run.get(key) is not None]
    if not values:
        return "-"
    low, high = min(values), max(values)
    return f"{low:g}" if low == high else f"{low:g}-{high:g}"


def _before_after(payload: dict) -> list:
    previous = payload.get("previous") or {}
    old = previous.get("summary") or {}
    if not old:
        return []
    lines = ["", f"Before and after (medians; the previous report: "
             f"{previous.get('date')}, load average "
             f"{previous.get('load_average_1_5_15_min')}):", "",
             "| measurement | p50 ms before | p50 ms now | requests/s before "
             "| requests/s now |", "|---|---|---|---|---|"]
    for key, title in ROWS:
        if key in old and key in payload["summary"] and key.startswith("rest"):
            before, now = old[key], payload["summary"][key]
            lines.append(f"| {title} | {before.get('p50_ms', '-')} | "
                         f"{now.get('p50_ms', '-')} | "
                         f"{before.get('requests_per_s', '-')} | "
                         f"{now.get('requests_per_s', '-')} |")
    return lines


def render(payload: dict) -> str:
    settings, runs, summary = (payload["settings"], payload["runs"],
                               payload["summary"])
    lines = [
        "# Serving: REST server vs the SavedModel in-process", "",
        "{HEADER}Serving stack: " + ", ".join(
            f"{k} {v}" for k, v in payload["serving_versions"].items()) + "",
        "",
        f"Model: `{settings['model_version_dir']}`. {settings['clients']} "
        f"client threads on loopback unless the row says 1; "
        f"{settings['runs']} runs; requests per run: "
        f"{settings['requests_batch_1']} at batch 1 (half that with one "
        "client), "
        f"{settings['requests_batch_32']} at batch 32, "
        f"{settings['requests_swap']} during the hot swap. Inputs: real "
        "digit PNGs (`{\"b64\": ...}`), the same ones for the floor.", "",
        "Load average (1, 5, 15 min) at start "
        f"{settings['load_average_1_5_15_min']['start']}, at end "
        f"{settings['load_average_1_5_15_min']['end']}: other work on the "
        "machine during the runs widens the spread.", "",
        "Median over runs (range over runs in brackets):", "",
        "| measurement | p50 ms | p99 ms | requests/s | images/s | errors "
        "| server CPU ms/request | client CPU ms/request |",
        "|---|---|---|---|---|---|---|---|"]
    for key, title in ROWS:
        if key not in summary:
            continue
        med, all_runs = summary[key], runs[key]
        cells = [f"{med[k]:g} ({_spread(all_runs, k)})" if k in med else "-"
                 for k in ("p50_ms", "p99_ms", "requests_per_s",
                           "images_per_s")]
        errors = sum(run["errors"] for run in all_runs)
        cpu = [f"{med[k]:g}" if k in med else "-" for k in (
            "server_cpu_ms_per_request", "client_cpu_ms_per_request")]
        lines.append(f"| {title} | " + " | ".join(cells) + f" | {errors} | "
                     + " | ".join(cpu) + " |")
    lines += _before_after(payload)
    swap = summary["rest_hot_swap"]
    lines += [
        "", "Hot swap: a copy of the model is pushed as a new version "
        "(staging folder + rename) a tenth of the way into the run. "
        f"Median time from the push to the first answer from the new "
        f"version: {swap.get('swap_s', '-')} s (range "
        f"{_spread(runs['rest_hot_swap'], 'swap_s')} s); requests started in "
        f"that window: p50 {swap.get('during_swap_p50_ms', '-')} ms, p99 "
        f"{swap.get('during_swap_p99_ms', '-')} ms. Errors during the swaps: "
        f"{sum(r['errors'] for r in runs['rest_hot_swap'])}.", "",
        "Reading the numbers: the floor is `serving_default` called from "
        "the same number of threads with tensors already built (TensorFlow's "
        "default thread pools), so the gap is the REST path: JSON and base64 "
        "on both sides, HTTP on loopback, the thread hand-off. Clients and "
        "server share the same cores, so the client's own work is inside the "
        "REST figures: httpx costs its caller more CPU per request than the "
        "server spends (the client CPU column), which is why the "
        "http.client row, a lighter load generator, shows more of what the "
        "server can do. The CPU columns (from /proc) are the figures least "
        "disturbed by other work on a shared machine: 2 cores divided by "
        "server + client CPU per request bounds the throughput a quiet "
        "machine could reach. The swap loads and warms the new version on "
        "the same cores while serving, which is what the during-swap "
        "percentiles show.", ""]
    return "\n".join(lines)
