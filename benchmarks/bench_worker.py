"""End-to-end throughput of the worker against bare detector throughput, in one run.

    .venv/bin/python benchmarks/bench_worker.py --plans 40 --size 2000 --workers 1 2

For each worker-process count W: the bare detector (decode + detect, and the full
analysis with the overlay) over the same plans in W processes; then the real
daemon (`locdetect-worker run`, a separate process) against moto's server (another
process), the plans uploaded to S3 at once, timed from each upload to its result
document. Prints blueprints per second, p50/p95 upload-to-result latency, the
ratio of end-to-end to bare throughput, and the CPU seconds that moto's server and
the worker's event-loop process spent during the measured batch (on a real
deployment S3 and SQS do not share the worker's cores; here moto does).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import cv2
from harness import moto_clients, worker_env

from locdetect_worker.analysis import analyse_blueprint
from locdetect_worker.decode import DecodeLimits, decode_pages
from locdetect_worker.detector import detect_rooms
from locdetect_worker.local_stack import create_stack, free_port, use_fake_credentials
from locdetect_worker.synthetic import generate_plan


def make_plans(count: int, size: int) -> list[bytes]:
    plans = []
    for seed in range(count):
        image = generate_plan(seed, size=size, rotation_deg=0.0).image
        plans.append(cv2.imencode(".png", image)[1].tobytes())
    return plans


def _detect_only(data: bytes) -> int:
    return sum(len(detect_rooms(page)) for page in decode_pages(data, DecodeLimits()))


def _full_analysis(data: bytes) -> int:
    return len(analyse_blueprint(data, DecodeLimits()).rooms)


def bare_throughput(plans: list[bytes], workers: int, work) -> float:
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(work, plans[:workers]))  # warm the processes
        started = time.perf_counter()
        list(pool.map(work, plans))
        return len(plans) / (time.perf_counter() - started)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (not its children), from /proc."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def end_to_end(
    plans: list[bytes], workers: int
) -> tuple[float, list[float], tuple[float, float]]:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    moto = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = None
    try:
        async with moto_clients(endpoint) as (s3, sqs):
            stack = await create_stack(s3, sqs, endpoint, name=f"bench{workers}")
            env = worker_env(stack, workers, log_level="WARNING")
            worker = await asyncio.create_subprocess_exec(
                *[sys.executable, "-m", "locdetect_worker.cli", "run"],
                env=env,
                stdout=subprocess.DEVNULL,  # JSON logs and EMF records
            )
            # Warm-up: one plan per process so process start-up is not measured.
            await _run_batch(s3, stack, [(f"warm{i}", plans[i]) for i in range(workers)])
            batch = [(f"plan{i:04d}", data) for i, data in enumerate(plans)]
            cpu_before = _cpu_seconds(moto.pid), _cpu_seconds(worker.pid)
            started = time.perf_counter()
            latencies = await _run_batch(s3, stack, batch)
            elapsed = time.perf_counter() - started
            cpu = (_cpu_seconds(moto.pid) - cpu_before[0], _cpu_seconds(worker.pid) - cpu_before[1])
            return len(plans) / elapsed, latencies, cpu
    finally:
        if worker:
            worker.terminate()
            await asyncio.wait_for(worker.wait(), 60)
        moto.terminate()
        await asyncio.wait_for(moto.wait(), 30)


async def _run_batch(s3, stack, batch: list[tuple[str, bytes]]) -> list[float]:
    uploaded: dict[str, float] = {}
    for name, data in batch:
        await s3.put_object(Bucket=stack.blueprints_bucket, Key=f"blueprints/{name}.png", Body=data)
        uploaded[name] = time.perf_counter()
    done: dict[str, float] = {}
    deadline = time.perf_counter() + 1800
    while len(done) < len(batch):
        if time.perf_counter() > deadline:
            raise TimeoutError(f"only {len(done)} of {len(batch)} results arrived")
        paginator = s3.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=stack.results_bucket, Prefix="results/"):
            for item in page.get("Contents", []):
                name = item["Key"][len("results/") :].removesuffix(".json")
                if item["Key"].endswith(".json") and name in uploaded and name not in done:
                    done[name] = time.perf_counter()
        await asyncio.sleep(0.25)  # listing is costly for moto, which shares our 2 cores
    return [done[name] - uploaded[name] for name in uploaded]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plans", type=int, default=40)
    parser.add_argument("--size", type=int, default=2000, help="long side of each plan, px")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    use_fake_credentials()
    plans = make_plans(args.plans, args.size)
    megapixels = statistics.mean(
        page.size / 3e6 for p in plans for page in decode_pages(p, DecodeLimits())
    )
    print(
        f"{len(plans)} synthetic plans, {args.size} px long side (~{megapixels:.1f} MP), "
        f"{os.cpu_count()} cores"
    )
    header = (
        "workers",
        "detect/s",
        "analysis/s",
        "e2e/s",
        "e2e/detect",
        "e2e/analysis",
        "p50 s",
        "p95 s",
        "moto cpu s",
        "loop cpu s",
    )
    print("  ".join(f"{h:>12}" for h in header))
    for workers in args.workers:
        detect = bare_throughput(plans, workers, _detect_only)
        analysis = bare_throughput(plans, workers, _full_analysis)
        e2e, latencies, (moto_cpu, loop_cpu) = asyncio.run(end_to_end(plans, workers))
        p50 = statistics.median(latencies)
        p95 = statistics.quantiles(latencies, n=20)[-1]
        row = (
            workers,
            f"{detect:.2f}",
            f"{analysis:.2f}",
            f"{e2e:.2f}",
            f"{e2e / detect:.2f}",
            f"{e2e / analysis:.2f}",
            f"{p50:.2f}",
            f"{p95:.2f}",
            f"{moto_cpu:.1f}",
            f"{loop_cpu:.1f}",
        )
        print("  ".join(f"{str(c):>12}" for c in row), flush=True)


if __name__ == "__main__":
    main()
