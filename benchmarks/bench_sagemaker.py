"""The local backend against the SageMaker path (emulator + container process), in one run.

    .venv/bin/python benchmarks/bench_sagemaker.py --plans 20 --size 1500 --workers 2 --rounds 2

The same plans go through the real daemon (``locdetect-worker run``, a separate
process) twice, against moto's server: once with the local backend (W detector
processes), once with the SageMaker backend, whose endpoint is the emulator in
this process forwarding to the inference container (another process, W
detector processes). Each path first runs a few plans one at a time (latency
without queueing), then all plans at once (throughput). Prints plans per second,
p50/p95 upload-to-result seconds, and what the SageMaker hand-off adds per job.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import AsyncExitStack
from pathlib import Path

import aioboto3
import anyio
from bench_worker import _run_batch, make_plans
from harness import worker_env

from locdetect_worker.config import Settings
from locdetect_worker.local_stack import LOCAL_REGION, create_stack, moto_server
from locdetect_worker.sagemaker_emulator import sagemaker_stack

CVC_FP = Path(__file__).resolve().parents[2] / "shared" / "data" / "cvc-fp-dev"


def load_plans(count: int, size: int, cvc: bool) -> list[bytes]:
    if not cvc:
        return make_plans(count, size)
    if not CVC_FP.is_dir():
        sys.exit(f"{CVC_FP} is absent")
    files = sorted(p for p in CVC_FP.glob("*.png") if not p.name.endswith(".gt.png"))
    return [files[i % len(files)].read_bytes() for i in range(count)]


async def run_path(
    endpoint_url: str, backend: str, plans: list[bytes], workers: int, sequential: int
) -> tuple[list[float], float, list[float]]:
    """(one-at-a-time latencies, burst plans/s, burst latencies) for one backend."""
    session = aioboto3.Session(region_name=LOCAL_REGION)
    async with AsyncExitStack() as stack:
        s3 = await stack.enter_async_context(session.client("s3", endpoint_url=endpoint_url))
        sqs = await stack.enter_async_context(session.client("sqs", endpoint_url=endpoint_url))
        sns = await stack.enter_async_context(session.client("sns", endpoint_url=endpoint_url))
        aws = await create_stack(s3, sqs, endpoint_url, name=f"bench-{uuid.uuid4().hex[:6]}")
        env = worker_env(aws, workers, log_level="WARNING", backend=backend)
        if backend == "sagemaker":
            local = await stack.enter_async_context(
                sagemaker_stack(
                    s3,
                    sqs,
                    sns,
                    bucket=aws.results_bucket,
                    region=LOCAL_REGION,
                    container_workers=workers,
                    max_concurrent_invocations=workers,
                )
            )
            env.update(
                LOCDETECT_SAGEMAKER_ENDPOINT=local.endpoint_name,
                LOCDETECT_OUTCOMES_QUEUE_URL=local.outcomes_queue_url,
                LOCDETECT_SAGEMAKER_RUNTIME_URL=local.endpoint_url,
            )
        worker = await anyio.open_process(
            [sys.executable, "-m", "locdetect_worker.cli", "run"],
            env=env,
            stdout=subprocess.DEVNULL,  # JSON logs and EMF records
            stderr=None,
        )
        try:
            await _run_batch(s3, aws, [(f"warm{i}", plans[i % len(plans)]) for i in range(workers)])
            one_by_one = []
            for i in range(sequential):
                one_by_one += await _run_batch(s3, aws, [(f"seq{i:03d}", plans[i % len(plans)])])
            batch = [(f"plan{i:04d}", data) for i, data in enumerate(plans)]
            started = time.perf_counter()
            burst = await _run_batch(s3, aws, batch)
            return one_by_one, len(plans) / (time.perf_counter() - started), burst
        finally:
            worker.terminate()
            await worker.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plans", type=int, default=20)
    parser.add_argument("--size", type=int, default=2000, help="long side of synthetic plans, px")
    parser.add_argument("--cvc", action="store_true", help="use the CVC-FP plans instead")
    parser.add_argument("--workers", type=int, default=2, help="detector processes per path")
    parser.add_argument("--sequential", type=int, default=5, help="plans sent one at a time")
    parser.add_argument("--rounds", type=int, default=2, help="local/sagemaker alternations")
    args = parser.parse_args()
    if "sagemaker_runtime_url" not in Settings.model_fields:
        sys.exit("needs the LOCDETECT_SAGEMAKER_RUNTIME_URL setting (not in this version)")
    plans = load_plans(args.plans, args.size, args.cvc)
    kind = "CVC-FP" if args.cvc else f"synthetic {args.size} px"
    print(
        f"{len(plans)} {kind} plans, {args.workers} detector processes per path, "
        f"{os.cpu_count()} cores"
    )
    header = ("backend", "one-by-one p50 s", "burst plans/s", "burst p50 s", "burst p95 s")
    print("  ".join(f"{h:>16}" for h in header))
    pooled: dict[str, tuple[list[float], list[float], list[float]]] = {
        "local": ([], [], []),
        "sagemaker": ([], [], []),
    }
    with moto_server() as endpoint_url:
        for _ in range(args.rounds):  # alternate, so a noisy machine hurts both paths alike
            for backend in ("local", "sagemaker"):
                one_by_one, rate, burst = asyncio.run(
                    run_path(endpoint_url, backend, plans, args.workers, args.sequential)
                )
                pooled[backend][0].extend(one_by_one)
                pooled[backend][1].append(rate)
                pooled[backend][2].extend(burst)
                row = (
                    backend,
                    f"{statistics.median(one_by_one):.2f}",
                    f"{rate:.2f}",
                    f"{statistics.median(burst):.2f}",
                    f"{statistics.quantiles(burst, n=20)[-1]:.2f}",
                )
                print("  ".join(f"{c:>16}" for c in row), flush=True)
    local, sagemaker = pooled["local"], pooled["sagemaker"]
    added = statistics.median(sagemaker[0]) - statistics.median(local[0])
    ratio = statistics.mean(sagemaker[1]) / statistics.mean(local[1])
    print(
        f"\nadded latency per job (one at a time, p50 over {args.rounds} round(s)): "
        f"{added:+.2f} s; throughput ratio sagemaker/local: {ratio:.2f}"
    )


if __name__ == "__main__":
    main()
