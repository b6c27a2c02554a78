"""Serving latency and throughput: the REST server against its floor.

The server (`imgpipe serve`, its own process) answers batch-1 and batch-32
requests of real digit PNGs from several client threads on loopback; the
floor is the same SavedModel called in this process on the same inputs. A
third measurement pushes a new version while a batch-1 load runs: the
latency during the swap, how long the swap takes, and that nothing fails.

    python -m benchmarks.serving_bench --model-dir output/serving/digits

Clients and server share the machine's cores; on 2 cores the client's own
JSON and HTTP work is part of what is measured (see the report). Each REST
row also records the CPU time the server process and the clients spent per
request (from /proc), which other work on a shared machine does not
inflate the way it inflates wall-clock figures. The 4-client batch-1 load
runs twice: with httpx (as before) and with the standard library's
http.client, a lighter load generator that leaves more of the two cores to
the server.
"""
from __future__ import annotations

import argparse
import base64
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from importlib import metadata
from pathlib import Path
from typing import Callable, Dict, List

from benchmarks.common import write_results
from tests.ports import free_port

SERVING_PACKAGES = ("fastapi", "uvicorn", "starlette", "httpx",
                    "prometheus-client", "tensorflow-serving-api")


def digit_pngs(count: int) -> List[bytes]:
    """Real digits (scikit-learn's), encoded as the pipeline stores them."""
    from PIL import Image

    from imgpipe.digits import digit_pixels

    encoded = []
    for image in digit_pixels()[0][:count]:
        buffer = io.BytesIO()
        Image.fromarray(image, mode="L").save(buffer, format="PNG")
        encoded.append(buffer.getvalue())
    return encoded


def request_bodies(pngs: List[bytes], batch: int, count: int) -> List[bytes]:
    import json
    as_b64 = [{"b64": base64.b64encode(p).decode("ascii")} for p in pngs]
    return [json.dumps({"instances": [as_b64[(i * batch + j) % len(as_b64)]
                                      for j in range(batch)]}).encode()
            for i in range(count)]


def percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summarise(latencies_s: List[float], wall_s: float, batch: int,
              errors: int) -> Dict[str, float]:
    return {"requests": len(latencies_s), "errors": errors,
            "p50_ms": round(1000 * percentile(latencies_s, 0.50), 2),
            "p99_ms": round(1000 * percentile(latencies_s, 0.99), 2),
            "requests_per_s": round(len(latencies_s) / wall_s, 1),
            "images_per_s": round(batch * len(latencies_s) / wall_s, 1)}


def run_clients(clients: int, total: int, call: Callable[[int], object],
                more: Callable[[], bool] = lambda: False):
    """`total` calls shared by `clients` threads (and more while `more()`,
    up to 5 x total): latencies, wall time, (start, latency, result)."""
    latencies, results, lock = [], [], threading.Lock()
    next_index = iter(range(5 * total))

    def work():
        while True:
            with lock:
                index = next(next_index, None)
                if index is not None and index >= total and not more():
                    index = None
            if index is None:
                return
            started = time.perf_counter()
            result = call(index)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                results.append((started, elapsed, result))

    threads = [threading.Thread(target=work) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started, results


def rest_caller(url: str):
    import httpx
    local = threading.local()

    def post(body: bytes):
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=60)
        response = local.client.post(url, content=body, headers={
            "Content-Type": "application/json"})
        return response.status_code, response.headers.get("x-model-version")
    return post


def light_caller(url: str):
    """http.client with one kept-alive connection per thread."""
    import http.client
    from urllib.parse import urlsplit
    parts, local = urlsplit(url), threading.local()

    def post(body: bytes):
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection(
                parts.hostname, parts.port, timeout=60)
        local.connection.request("POST", parts.path, body, {
            "Content-Type": "application/json"})
        response = local.connection.getresponse()
        response.read()
        return response.status, response.getheader("x-model-version")
    return post


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_rest(url: str, bodies: List[bytes], batch: int, clients: int,
                 server_pid: int, caller=rest_caller):
    post = caller(url)
    post(bodies[0])                                   # connection warm-up
    server_cpu, client_cpu = process_cpu_s(server_pid), time.process_time()
    latencies, wall, results = run_clients(
        clients, len(bodies), lambda i: post(bodies[i]))
    errors = sum(1 for _, _, (status, _) in results if status != 200)
    summary = summarise(latencies, wall, batch, errors)
    summary.update(
        server_cpu_ms_per_request=round(1000 * (process_cpu_s(server_pid)
                                                - server_cpu) / len(bodies), 2),
        client_cpu_ms_per_request=round(1000 * (time.process_time()
                                                - client_cpu) / len(bodies), 2))
    return summary


def push_copy(source: Path, base: Path, version: int) -> None:
    staging = base / f".staging-{version}"
    shutil.copytree(source, staging)
    staging.rename(base / str(version))


def measure_swap(url: str, base: Path, version: int, bodies: List[bytes],
                 clients: int) -> Dict[str, float]:
    """Batch-1 load; a new version is pushed after a tenth of it."""
    post = rest_caller(url)
    pushed_at, answers_from_new = {}, []

    def call(index: int):
        if index == len(bodies) // 10:
            pushed_at["t"] = time.perf_counter()
            push_copy(base / "1", base, version)
        status, answered_by = post(bodies[index % len(bodies)])
        if answered_by == str(version):
            answers_from_new.append(index)
        return status, answered_by
    # Runs on past `len(bodies)` until the new version has answered 50
    # requests, so a slow swap is measured rather than cut off.
    latencies, wall, results = run_clients(
        clients, len(bodies), call, more=lambda: len(answers_from_new) < 50)
    served_new = [start + took for start, took, (_, v) in results
                  if v == str(version)]
    first_new = min(served_new) if served_new else None
    window = [took for start, took, _ in results
              if pushed_at["t"] <= start <= (first_new or float("inf"))]
    summary = summarise(latencies, wall, 1, sum(
        1 for _, _, (status, _) in results if status != 200))
    summary.update(
        swap_s=round(first_new - pushed_at["t"], 2) if first_new else None,
        during_swap_requests=len(window),
        during_swap_p50_ms=round(1000 * percentile(window, 0.5), 2) if window else None,
        during_swap_p99_ms=round(1000 * percentile(window, 0.99), 2) if window else None)
    return summary


def measure_floor(version_dir: Path, pngs: List[bytes], batch: int,
                  clients: int, total: int) -> Dict[str, float]:
    """The SavedModel's serving_default called in-process, same inputs."""
    import tensorflow as tf
    serve = tf.saved_model.load(str(version_dir)).signatures["serving_default"]
    batches = [tf.constant([pngs[(i * batch + j) % len(pngs)]
                            for j in range(batch)]) for i in range(total)]
    serve(image_bytes=batches[0])                     # tracing, kernels
    latencies, wall, _ = run_clients(
        clients, total, lambda i: serve(image_bytes=batches[i])["probabilities"]
        .numpy())
    return summarise(latencies, wall, batch, 0)


def start_server(base: Path, port: int, log_file: Path) -> subprocess.Popen:
    import httpx
    imgpipe = Path(sys.executable).parent / "imgpipe"
    server = subprocess.Popen(
        [str(imgpipe), "serve", "--model-dir", str(base), "--port", str(port),
         "--poll-seconds", "0.25", "--max-in-flight", "256"],
        stdout=log_file.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/models/{base.name}"
                         ).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.5)
    server.kill()
    raise RuntimeError(f"The server did not start; see {log_file}")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path,
                        default=Path("output/serving/digits"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests-batch-1", type=int, default=400)
    parser.add_argument("--requests-batch-32", type=int, default=60)
    parser.add_argument("--requests-swap", type=int, default=600)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    from benchmarks.serving_report import render
    from imgpipe_components.model_store.in_service import version_in_service

    args = parse_args(argv)
    load_at_start = os.getloadavg()
    source = version_in_service(args.model_dir)
    pngs = digit_pngs(64)
    runs: Dict[str, List[dict]] = {key: [] for key in (
        "rest_batch_1_one_client", "rest_batch_1", "rest_batch_1_light_client",
        "rest_batch_32",
        "rest_hot_swap", "floor_batch_1_one_thread", "floor_batch_1",
        "floor_batch_32")}
    single = args.requests_batch_1 // 2
    with tempfile.TemporaryDirectory(prefix="serving-bench-") as work:
        # A private copy: the swaps add versions there, not in the user's folder.
        base = Path(work) / args.model_dir.name
        base.mkdir()
        shutil.copytree(source, base / "1")
        port = free_port()
        url = f"http://127.0.0.1:{port}/v1/models/{base.name}:predict"
        server = start_server(base, port, Path(work) / "server.log")
        try:
            for run in range(args.runs):
                print(f"run {run + 1}/{args.runs}: REST", flush=True)
                runs["rest_batch_1_one_client"].append(measure_rest(
                    url, request_bodies(pngs, 1, single), 1, 1, server.pid))
                runs["rest_batch_1"].append(measure_rest(
                    url, request_bodies(pngs, 1, args.requests_batch_1), 1,
                    args.clients, server.pid))
                runs["rest_batch_1_light_client"].append(measure_rest(
                    url, request_bodies(pngs, 1, args.requests_batch_1), 1,
                    args.clients, server.pid, light_caller))
                runs["rest_batch_32"].append(measure_rest(
                    url, request_bodies(pngs, 32, args.requests_batch_32), 32,
                    args.clients, server.pid))
                runs["rest_hot_swap"].append(measure_swap(
                    url, base, run + 2,
                    request_bodies(pngs, 1, args.requests_swap), args.clients))
        finally:
            server.terminate()
            server.wait(timeout=60)
    # The floor after the server is gone, so the two never share the CPU.
    for run in range(args.runs):
        print(f"run {run + 1}/{args.runs}: in-process floor", flush=True)
        runs["floor_batch_1_one_thread"].append(measure_floor(
            source, pngs, 1, 1, single))
        runs["floor_batch_1"].append(measure_floor(
            source, pngs, 1, args.clients, args.requests_batch_1))
        runs["floor_batch_32"].append(measure_floor(
            source, pngs, 32, args.clients, args.requests_batch_32))
    settings = {**{k: str(v) if isinstance(v, Path) else v
                   for k, v in vars(args).items()},
                "model_version_dir": str(source)}
    serving_versions = {name: metadata.version(name) for name in SERVING_PACKAGES}
    # Other work on the machine shows up in the figures: record how busy it was.
    settings["load_average_1_5_15_min"] = {
        "start": [round(x, 2) for x in load_at_start],
        "end": [round(x, 2) for x in os.getloadavg()]}
    payload = {"settings": settings, "serving_versions": serving_versions,
               "runs": runs, "summary": {key: median_summary(values)
                                         for key, values in runs.items()},
               "previous": previous_results()}
    path = write_results("serving", payload, render(payload))
    print(path.read_text())


def previous_results() -> dict:
    """The summary of the report this run replaces, for the before/after
    table (with its date and load, which matter as much as its numbers)."""
    import json

    from benchmarks.common import RESULTS
    try:
        old = json.loads((RESULTS / "serving.json").read_text())
    except (OSError, ValueError):
        return {}
    return {"date": old.get("machine", {}).get("date"),
            "load_average_1_5_15_min": old.get("settings", {}).get(
                "load_average_1_5_15_min"),
            "summary": old.get("summary", {})}


def median_summary(values: List[dict]) -> dict:
    keys = [k for k, v in values[0].items() if isinstance(v, (int, float))]
    return {key: statistics.median(v[key] for v in values
                                   if v.get(key) is not None)
            for key in keys if any(v.get(key) is not None for v in values)}


if __name__ == "__main__":
    main()
