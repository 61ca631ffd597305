"""Hostile blueprints through a real worker: each fails with its own code in bounded memory."""

import anyio
import pytest

from tests import hostile
from tests.conftest import simple_plan_png, wait_for_object, worker_settings
from tests.hostile.processes import WorkerProcess

OBJECT_LIMIT = 2_000_000
# The worker, its detector process and a 1200x900 plan need ~0.5 GB; decoding the bomb alone
# would take 1.6 GB (400 M pixels grey, then BGR).
RSS_LIMIT = 1_000_000_000


def corpus() -> dict[str, tuple[bytes, str]]:
    """name -> (content, the error code its result must carry)."""
    return {
        "empty.png": (b"", "decode_failed"),
        "truncated.png": (hostile.truncated(simple_plan_png()), "decode_failed"),
        "text.png": (hostile.TEXT_NAMED_PNG, "unsupported_format"),
        "claims-50000.png": (hostile.png_claiming(50_000, 50_000), "image_too_large"),
        "bomb.png": (hostile.png_bomb(20_000), "image_too_large"),
        "no-pages.pdf": (hostile.pdf_without_pages(), "decode_failed"),
        "encrypted.pdf": (hostile.encrypted_pdf(), "decode_failed"),
        "huge.png": (simple_plan_png() + b"\0" * OBJECT_LIMIT, "object_too_large"),
        "plan.xyz": (simple_plan_png(), "unsupported_format"),
    }


@pytest.mark.slow
async def test_hostile_corpus_fails_cleanly_in_bounded_memory(aws, stack):
    files = corpus()
    worker = WorkerProcess(worker_settings(stack, max_object_bytes=OBJECT_LIMIT, concurrency=4))
    peak = 0

    async def watch_memory() -> None:
        nonlocal peak
        while True:
            peak = max(peak, worker.tree_rss())
            await anyio.sleep(0.02)

    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(watch_memory)
            for name, (content, _) in files.items():
                await aws.s3.put_object(
                    Bucket=stack.blueprints_bucket, Key=f"blueprints/hostile/{name}", Body=content
                )
            await aws.s3.put_object(
                Bucket=stack.blueprints_bucket,
                Key="blueprints/hostile/control.png",
                Body=simple_plan_png(),
            )
            outcomes = {}
            for name in [*files, "control.png"]:
                job = name.rsplit(".", 1)[0]
                outcomes[name] = await wait_for_object(
                    aws.s3, stack.results_bucket, f"results/hostile/{job}.json", 120
                )
            tasks.cancel_scope.cancel()
        assert worker.process.poll() is None, worker.log
    finally:
        worker.close()

    codes = {name: (doc["error"] or {}).get("code") for name, doc in outcomes.items()}
    assert codes == {name: code for name, (_, code) in files.items()} | {"control.png": None}
    assert all(outcomes[name]["status"] == "failed" for name in files)
    assert outcomes["control.png"]["status"] == "succeeded"
    assert "encrypted" in outcomes["encrypted.pdf"]["error"]["message"]
    assert "50000x50000" in outcomes["claims-50000.png"]["error"]["message"]
    assert 0 < peak < RSS_LIMIT, f"worker tree peaked at {peak / 1e6:.0f} MB"
