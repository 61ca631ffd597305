"""Soak: many plans through two worker processes while one is killed at random, again and again.

    .venv/bin/python benchmarks/soak.py --plans 1000 --workers 2 --kill-every 5

moto's server runs as its own process; ``--workers`` daemons (``locdetect-worker
run``, one detector process each) consume the queue; every ``--kill-every``
seconds (+-50 %) one of them, chosen at random, gets SIGKILL with its detector
and is started again at once. A message killed with its worker often enough
(``--max-receive-count``, 5 as deployed) lands in the DLQ, as it would in
production; once the queue is empty, ``locdetect-worker replay dlq`` sends such
messages back. When every upload has its result and both queues are empty, the
results are checked: one succeeded document per upload, for the uploaded ETag,
and no job whose stored versions disagree (a conflict). Prints throughput,
kills, redeliveries (jobs started more than once), dead-lettered messages and
duplicate writes (result versions beyond the first) as one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import cv2
from harness import moto_clients, worker_env

from locdetect_worker.local_stack import create_stack, free_port, use_fake_credentials
from locdetect_worker.synthetic import generate_plan

VISIBILITY_TIMEOUT = 15


def make_plans(distinct: int, size: int) -> list[bytes]:
    return [
        cv2.imencode(".png", generate_plan(seed, size=size, rotation_deg=0.0).image)[1].tobytes()
        for seed in range(distinct)
    ]


class Fleet:
    """The worker processes; each incarnation logs to a file of its own."""

    def __init__(self, env: dict[str, str], logs: Path, size: int) -> None:
        self.env, self.logs = env, logs
        self.started = 0
        self.kills = 0
        self.processes = [self._start() for _ in range(size)]

    def _start(self) -> subprocess.Popen[bytes]:
        self.started += 1
        log = (self.logs / f"worker-{self.started:03d}.log").open("wb")
        return subprocess.Popen(
            [sys.executable, "-m", "locdetect_worker.cli", "run"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill_one(self) -> None:
        index = random.randrange(len(self.processes))
        os.killpg(self.processes[index].pid, signal.SIGKILL)
        self.processes[index].wait()
        self.kills += 1
        self.processes[index] = self._start()

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    def events(self) -> list[dict[str, Any]]:
        entries = []
        for path in sorted(self.logs.glob("worker-*.log")):
            for line in path.read_text(errors="replace").splitlines():
                if line.startswith("{"):
                    entries.append(json.loads(line))
        return entries


async def killer(fleet: Fleet, every: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), every * random.uniform(0.5, 1.5))
        except TimeoutError:
            fleet.kill_one()


async def upload(s3: Any, bucket: str, plans: list[bytes], count: int) -> dict[str, str]:
    """Upload ``count`` plans (cycling through the distinct ones); job id -> ETag."""
    etags: dict[str, str] = {}
    for index in range(count):
        job = f"soak/plan-{index:05d}"
        put = await s3.put_object(
            Bucket=bucket, Key=f"blueprints/{job}.png", Body=plans[index % len(plans)]
        )
        etags[job] = put["ETag"].strip('"')
    return etags


async def replay_dlq(env: dict[str, str]) -> int:
    """``locdetect-worker replay dlq``; the number of messages it moved back."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "locdetect_worker.cli",
        "replay",
        "dlq",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await process.communicate()
    moved = re.search(rb"moved (\d+)", out)
    if process.returncode or not moved:
        raise RuntimeError(f"replay dlq failed: {out!r}")
    return int(moved.group(1))


async def count_results(s3: Any, bucket: str) -> int:
    count = 0
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="results/")
    async for page in pages:
        count += sum(1 for item in page.get("Contents", []) if item["Key"].endswith(".json"))
    return count


async def queue_depth(sqs: Any, queue_url: str) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    response = await sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)
    return sum(int(response["Attributes"][name]) for name in names)


async def check_results(s3: Any, bucket: str, etags: dict[str, str]) -> dict[str, int]:
    """Count wrong results (missing, failed, other ETag), conflicts and duplicate writes."""
    versions: dict[str, list[str]] = {}
    async for page in s3.get_paginator("list_object_versions").paginate(
        Bucket=bucket, Prefix="results/"
    ):
        for version in page.get("Versions", []):
            if version["Key"].endswith(".json"):
                versions.setdefault(version["Key"], []).append(version["VersionId"])
    wrong = conflicts = 0
    for job, etag in etags.items():
        key = f"results/{job}.json"
        documents = []
        for version_id in versions.get(key, []):
            response = await s3.get_object(Bucket=bucket, Key=key, VersionId=version_id)
            async with response["Body"] as body:
                documents.append(json.loads(await body.read()))
        if not documents or any(
            doc["status"] != "succeeded" or doc["source"]["etag"] != etag for doc in documents
        ):
            wrong += 1
        if len({json.dumps(doc["rooms"]) for doc in documents}) > 1:
            conflicts += 1
    return {
        "results_wrong": wrong,
        "result_conflicts": conflicts,
        "duplicate_writes": sum(len(ids) - 1 for ids in versions.values()),
    }


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    moto = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return moto, f"http://127.0.0.1:{port}"


async def soak(
    args: argparse.Namespace, plans: list[bytes], endpoint: str, logs: Path
) -> dict[str, Any]:
    fleet = None
    try:
        async with moto_clients(endpoint) as (s3, sqs):
            stack = await create_stack(
                s3,
                sqs,
                endpoint,
                visibility_timeout=VISIBILITY_TIMEOUT,
                max_receive_count=args.max_receive_count,
            )
            await s3.put_bucket_versioning(
                Bucket=stack.results_bucket, VersioningConfiguration={"Status": "Enabled"}
            )
            env = worker_env(
                stack,
                1,
                visibility_timeout=str(VISIBILITY_TIMEOUT),
                heartbeat_interval="5",
                log_format="json",
            )
            fleet = Fleet(env, logs, args.workers)
            stop = asyncio.Event()
            kills = asyncio.create_task(killer(fleet, args.kill_every, stop))
            started = time.perf_counter()
            etags = await upload(s3, stack.blueprints_bucket, plans, args.plans)
            deadline = started + args.timeout
            dead_lettered = 0
            while await count_results(s3, stack.results_bucket) < args.plans or await queue_depth(
                sqs, stack.queue_url
            ):
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"not done after {args.timeout} s; logs in {logs}")
                if not await queue_depth(sqs, stack.queue_url):
                    dead_lettered += await replay_dlq(env)
                await asyncio.sleep(0.5)
            elapsed = time.perf_counter() - started
            stop.set()
            await kills
            fleet.stop()
            results = await count_results(s3, stack.results_bucket)
            checked = await check_results(s3, stack.results_bucket, etags)
            dlq = await queue_depth(sqs, stack.dlq_url)
    finally:
        if fleet:
            for process in fleet.processes:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
    starts = Counter(e["job_id"] for e in fleet.events() if e.get("event") == "job_started")
    return {
        "plans": args.plans,
        "workers": args.workers,
        "kill_every_s": args.kill_every,
        "kills": fleet.kills,
        "elapsed_s": round(elapsed, 1),
        "throughput_per_s": round(args.plans / elapsed, 2),
        "uploads": len(etags),
        "results": results,
        **checked,
        "redelivered_jobs": sum(1 for count in starts.values() if count > 1),
        "extra_job_starts": sum(starts.values()) - len(starts),
        "dead_lettered_and_replayed": dead_lettered,
        "dlq": dlq,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plans", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kill-every", type=float, default=5.0, metavar="S")
    parser.add_argument("--size", type=int, default=800, help="long side of each plan, px")
    parser.add_argument("--distinct", type=int, default=40, help="distinct drawings to cycle")
    parser.add_argument(
        "--max-receive-count",
        type=int,
        default=5,
        metavar="N",
        help="deliveries before a message moves to the DLQ (5 as deployed)",
    )
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--seed", type=int, default=0, help="seed for the choice of victims")
    args = parser.parse_args()
    random.seed(args.seed)
    use_fake_credentials()
    plans = make_plans(args.distinct, args.size)
    moto, endpoint = start_moto()
    try:
        with tempfile.TemporaryDirectory(prefix="soak-") as logs:
            report = asyncio.run(soak(args, plans, endpoint, Path(logs)))
    finally:
        moto.terminate()
        moto.wait(30)
    print(json.dumps(report, indent=2))
    ok = report["results"] == report["uploads"] and not (
        report["results_wrong"] or report["result_conflicts"] or report["dlq"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
