"""End-to-end throughput of the worker against bare detector throughput, in one run.

    .venv/bin/python benchmarks/bench_worker.py --plans 40 --sizes 2000 3500 --workers 1 2

For each plan size (long side in px; 2000 px is about 3 MP, 3500 px about 9 MP,
the median size of the real plans in cvc-fp-dev) and worker-process count W:
the bare detector (decode + detect, and the full analysis with the overlay) over
the same plans in W processes; then the real daemon (`locdetect-worker run`, a
separate process) against moto's server (another process), the plans uploaded to
S3 at once, timed from each upload to its result document (the worker's
``job_finished`` log line, checked against the results bucket afterwards).

Prints blueprints per second, p50/p95 upload-to-result latency, the ratio of
end-to-end to bare throughput, and the CPU seconds that moto's server, the
worker's event-loop process, this benchmark (uploading, reading the worker's log)
and the detector processes spent during the measured batch, beside the CPU seconds
of the bare detector run (``bare cpu s``). On a real deployment S3 and
SQS do not share the worker's cores; here moto does. moto is served by waitress
(``moto_server.py``), so connections are reused as they are with AWS;
``--moto-werkzeug`` runs ``python -m moto.server`` instead, which opens a new
connection and thread for every request.

``--pin`` measures the worker as it runs on AWS, where S3 and SQS cost its cores
nothing: the worker and its W detector processes (and the bare detector's W
processes) are pinned to the first W cores, moto and this benchmark to the others.
It needs more cores than worker processes (on 2 cores: ``--workers 1``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import NamedTuple

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


class Placement(NamedTuple):
    """Which cores the worker's processes run on, and which moto and this benchmark use."""

    worker: frozenset[int]
    others: frozenset[int]


def placement(workers: int) -> Placement:
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) <= workers:
        raise SystemExit(f"--pin needs more than {workers} cores for {workers} worker processes")
    return Placement(frozenset(cores[:workers]), frozenset(cores[workers:]))


def _detector_process_setup(cores: frozenset[int] | None) -> None:
    cv2.setNumThreads(1)
    if cores:
        os.sched_setaffinity(0, cores)


def bare_throughput(
    plans: list[bytes], workers: int, work, cores: frozenset[int] | None = None
) -> tuple[float, float]:
    """(plans per second, CPU seconds) in ``workers`` fresh processes (on ``cores``, if given)
    with one OpenCV thread each, as the worker's detector processes run (more threads would
    only contend)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, context, initializer=_detector_process_setup, initargs=(cores,)
    ) as pool:
        list(pool.map(work, plans[:workers]))  # warm the processes
        cpu_before = _children_cpu_seconds(os.getpid())
        started = time.perf_counter()
        list(pool.map(work, plans))
        elapsed = time.perf_counter() - started
        return len(plans) / elapsed, _children_cpu_seconds(os.getpid()) - cpu_before


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (not its children), from /proc."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children_cpu_seconds(pid: int) -> float:
    """CPU time of a process's live children (the worker's detector processes)."""
    children = open(f"/proc/{pid}/task/{pid}/children").read().split()
    return sum(_cpu_seconds(int(child)) for child in children)


class CpuSeconds(NamedTuple):
    """CPU seconds each process spent during the measured batch."""

    moto: float
    event_loop: float
    benchmark: float  # uploading the plans and reading the worker's log
    detectors: float


async def end_to_end(
    plans: list[bytes], workers: int, moto_werkzeug: bool, pinned: Placement | None
) -> tuple[float, list[float], CpuSeconds]:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = (
        ["-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
        if moto_werkzeug
        else [str(Path(__file__).with_name("moto_server.py")), str(port)]
    )
    if pinned:
        os.sched_setaffinity(0, pinned.others)
    moto = await asyncio.create_subprocess_exec(
        sys.executable,
        *server,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = None
    try:
        async with moto_clients(endpoint) as (s3, sqs):
            stack = await create_stack(s3, sqs, endpoint, name=f"bench{workers}")
            env = worker_env(stack, workers, log_level="INFO")
            worker = await asyncio.create_subprocess_exec(
                *[sys.executable, "-m", "locdetect_worker.cli", "run"],
                env=env,
                stdout=subprocess.PIPE,  # JSON logs (read for job_finished) and EMF records
                limit=2**20,
                # Its detector processes inherit the worker's cores.
                preexec_fn=(lambda: os.sched_setaffinity(0, pinned.worker)) if pinned else None,
            )
            finished = FinishedJobs(worker.stdout)
            # Warm-up: one plan per process so process start-up is not measured.
            await _run_batch(s3, stack, finished, [(f"warm{i}", plans[i]) for i in range(workers)])
            batch = [(f"plan{i:04d}", data) for i, data in enumerate(plans)]
            pids = (moto.pid, worker.pid, os.getpid())
            cpu_before = [_cpu_seconds(pid) for pid in pids] + [_children_cpu_seconds(worker.pid)]
            started = time.perf_counter()
            latencies = await _run_batch(s3, stack, finished, batch)
            elapsed = time.perf_counter() - started
            cpu_after = [_cpu_seconds(pid) for pid in pids] + [_children_cpu_seconds(worker.pid)]
            cpu = CpuSeconds(*(after - before for after, before in zip(cpu_after, cpu_before)))
            await check_results_written(s3, stack, [name for name, _ in batch])
            return len(plans) / elapsed, latencies, cpu
    finally:
        if worker:
            worker.terminate()
            await asyncio.wait_for(worker.wait(), 60)
        moto.terminate()
        await asyncio.wait_for(moto.wait(), 30)


class FinishedJobs:
    """When each job's result was written, read from the worker's ``job_finished`` log lines.

    The worker logs ``job_finished`` once the result document is in S3. Reading its
    log costs no requests, where watching the results bucket would cost moto and this
    process CPU on the cores the worker is measured on.
    """

    def __init__(self, stdout: asyncio.StreamReader) -> None:
        self.at: dict[str, float] = {}
        self._changed = asyncio.Condition()
        self._reader = asyncio.ensure_future(self._read(stdout))

    async def _read(self, stdout: asyncio.StreamReader) -> None:
        async for line in stdout:
            if b'"job_finished"' not in line:
                continue
            record = json.loads(line)
            if record.get("event") == "job_finished" and record.get("status") == "succeeded":
                async with self._changed:
                    self.at.setdefault(record["key"], time.perf_counter())
                    self._changed.notify_all()

    async def wait_for(self, keys: list[str], seconds: float) -> None:
        async with asyncio.timeout(seconds), self._changed:
            await self._changed.wait_for(lambda: all(key in self.at for key in keys))


async def _run_batch(
    s3, stack, finished: FinishedJobs, batch: list[tuple[str, bytes]]
) -> list[float]:
    uploaded: dict[str, float] = {}
    for name, data in batch:
        key = f"blueprints/{name}.png"
        await s3.put_object(Bucket=stack.blueprints_bucket, Key=key, Body=data)
        uploaded[key] = time.perf_counter()
    await finished.wait_for(list(uploaded), seconds=1800)
    return [finished.at[key] - uploaded[key] for key in uploaded]


async def check_results_written(s3, stack, names: list[str]) -> None:
    """Every job the log says finished has its result document in the results bucket."""
    listed = await s3.list_objects_v2(Bucket=stack.results_bucket, Prefix="results/")
    written = {item["Key"] for item in listed.get("Contents", [])}
    missing = [name for name in names if f"results/{name}.json" not in written]
    if missing:
        raise RuntimeError(f"job_finished was logged but no result document exists: {missing[:3]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plans", type=int, default=40)
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[2000, 3500], help="long side of the plans, px"
    )
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--moto-werkzeug", action="store_true", help="moto's own server: a connection per request"
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="worker (and bare detector) on the first W cores, moto and the benchmark on the rest",
    )
    args = parser.parse_args()
    use_fake_credentials()
    for size in args.sizes:
        measure(make_plans(args.plans, size), size, args.workers, args.moto_werkzeug, args.pin)


def measure(
    plans: list[bytes], size: int, worker_counts: list[int], moto_werkzeug: bool, pin: bool
) -> None:
    megapixels = statistics.mean(
        page.shape[0] * page.shape[1] / 1e6
        for p in plans
        for page in decode_pages(p, DecodeLimits())
    )
    print(
        f"\n{len(plans)} synthetic plans, {size} px long side (~{megapixels:.1f} MP), "
        f"{os.cpu_count()} cores"
        + (", worker pinned apart from moto and the benchmark" if pin else "")
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
        "bare cpu s",
        "moto cpu s",
        "loop cpu s",
        "bench cpu s",
        "detect cpu s",
    )
    print("  ".join(f"{h:>12}" for h in header))
    for workers in worker_counts:
        pinned = placement(workers) if pin else None
        cores = pinned.worker if pinned else None
        detect, detect_cpu = bare_throughput(plans, workers, _detect_only, cores)
        analysis, _ = bare_throughput(plans, workers, _full_analysis, cores)
        all_cores = os.sched_getaffinity(0)
        try:
            e2e, latencies, cpu = asyncio.run(end_to_end(plans, workers, moto_werkzeug, pinned))
        finally:
            os.sched_setaffinity(0, all_cores)
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
            f"{detect_cpu:.1f}",
            *(f"{seconds:.1f}" for seconds in cpu),
        )
        print("  ".join(f"{str(c):>12}" for c in row), flush=True)


if __name__ == "__main__":
    main()
