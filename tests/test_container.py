"""The inference container: SageMaker's /ping and /invocations contract.

Mostly as a real process (``container_url``); the queueing case runs
the app in the test's event loop, where its state can be held.
"""

import json
import os
import signal
import struct
import subprocess

import aiohttp
import anyio
import cv2
import numpy as np
import pytest
from aiohttp.test_utils import TestClient, TestServer

from container.inference import Model, input_fn, model_fn
from container.server import STATE, create_app
from locdetect_worker.analysis import analyse_blueprint
from locdetect_worker.decode import DecodeLimits
from locdetect_worker.errors import JobError
from locdetect_worker.local_stack import free_port
from locdetect_worker.sagemaker_emulator import REPO_ROOT, container_command
from tests.conftest import make_pdf, pdf_plan_stream, simple_plan_png
from tests.sagemaker_fixtures import container_url_fixture  # noqa: F401


def plan_pdf() -> bytes:
    """A one-page vector PDF: an outer wall split into four rooms (600 x 450 pt)."""
    return make_pdf([pdf_plan_stream(wall=12)])


def encoded(extension: str) -> bytes:
    image = cv2.imdecode(np.frombuffer(simple_plan_png(), np.uint8), cv2.IMREAD_COLOR)
    ok, data = cv2.imencode(extension, image)
    assert ok
    return data.tobytes()


async def post(url: str, body: bytes, content_type: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{url}/invocations", data=body, headers={"Content-Type": content_type}
        ) as response:
            return response.status, json.loads(await response.read())


async def test_ping_answers_once_loaded(container_url):
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{container_url}/ping") as response:
            assert response.status == 200
            assert (await response.json())["status"] == "ok"


async def test_png_gives_the_same_rooms_as_the_shared_detector(container_url):
    plan = simple_plan_png()
    status, document = await post(container_url, plan, "image/png")
    assert status == 200
    assert document["status"] == "succeeded"
    assert document["error"] is None
    assert document["image"] == {"width": 1200, "height": 900, "pages": 1}
    local = analyse_blueprint(plan, DecodeLimits(), overlay=False)
    assert document["rooms"] == [json.loads(room.model_dump_json()) for room in local.rooms]
    assert set(document["timings_ms"]) >= {"decode", "detect"}


@pytest.mark.parametrize(
    ("content_type", "make"),
    [
        ("image/jpeg", lambda: encoded(".jpg")),
        ("image/tiff", lambda: encoded(".tiff")),
        ("image/bmp", lambda: encoded(".bmp")),
        ("image/webp", lambda: encoded(".webp")),
        ("application/pdf", plan_pdf),
    ],
)
async def test_every_accepted_content_type(container_url, content_type, make):
    status, document = await post(container_url, make(), content_type)
    assert status == 200, document
    assert document["status"] == "succeeded"
    assert document["image"]["pages"] == 1
    assert len(document["rooms"]) == 4


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (os.urandom(4096), "image/png", 415, "unsupported_format"),
        (simple_plan_png()[:3000], "image/png", 400, "decode_failed"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png", 400, "decode_failed"),
        (b"%PDF-1.4\nnot really", "application/pdf", 400, "decode_failed"),
        (b"", "image/png", 400, "decode_failed"),
        (simple_plan_png(), "text/plain", 415, "unsupported_format"),
        (simple_plan_png(), "application/octet-stream", 415, "unsupported_format"),
    ],
    ids=["random", "truncated", "bad-header", "bad-pdf", "empty", "text", "octet-stream"],
)
async def test_garbage_gets_a_typed_4xx(container_url, body, content_type, status, code):
    got_status, document = await post(container_url, body, content_type)
    assert got_status == status
    assert document["status"] == "failed"
    assert document["error"]["code"] == code
    assert document["rooms"] == []


async def test_unknown_routes_and_methods(container_url):
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{container_url}/invocations") as response:
            assert response.status == 405
        async with session.get(f"{container_url}/nothing") as response:
            assert response.status == 404


def test_hooks_read_the_model_config(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"max_image_pixels": 1234, "workers": 3}))
    model = model_fn(str(tmp_path))
    assert model.limits.max_pixels == 1234
    assert model.workers == 3
    assert input_fn(b"x", "image/png; charset=binary") == b"x"
    with pytest.raises(JobError) as caught:
        input_fn(b"x", "image/gif")
    assert caught.value.code == "unsupported_format"


async def test_model_config_limits_and_sigterm_drains(tmp_path):
    """A second container with /opt/ml/model/config.json; SIGTERM lets a request finish."""
    config = {"max_image_pixels": 20_000_000, "max_object_bytes": 1_000_000}
    (tmp_path / "config.json").write_text(json.dumps(config))
    port = free_port()
    process = await anyio.open_process(
        container_command(port, tmp_path),
        cwd=REPO_ROOT,
        env={**os.environ, "LOCDETECT_WORKERS": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_ping(url, 200)
        bomb = b"\x89PNG\r\n\x1a\n" + struct.pack(">I4sII", 13, b"IHDR", 5000, 4100) + b"\0" * 64
        status, document = await post(url, bomb, "image/png")
        assert status == 413
        assert document["error"]["code"] == "image_too_large"
        status, document = await post(url, b"\x89PNG" + os.urandom(1_200_000), "image/png")
        assert status == 413
        assert document["error"]["code"] == "object_too_large"

        async with anyio.create_task_group() as group:
            results = []

            async def slow_request():
                results.append(await post(url, simple_plan_png(size=(4000, 4000)), "image/png"))

            group.start_soon(slow_request)
            await _wait_ping(url, 200, in_flight=1)
            process.send_signal(signal.SIGTERM)
        assert results[0][0] == 200
        assert results[0][1]["status"] == "succeeded"
        with anyio.fail_after(30):
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await process.aclose()


async def _wait_ping(url: str, status: int, in_flight: int = 0) -> None:
    """Poll /ping until it answers ``status`` with at least ``in_flight`` requests running."""
    async with aiohttp.ClientSession() as session:
        with anyio.fail_after(60):
            while True:
                try:
                    async with session.get(f"{url}/ping") as response:
                        body = await response.json()
                        if response.status == status and body["in_flight"] >= in_flight:
                            return
                except aiohttp.ClientConnectionError:
                    pass
                await anyio.sleep(0.02)


def in_process(model: Model) -> TestClient:
    """The server app in this event loop (its detector processes are children of the test)."""
    return TestClient(TestServer(create_app(model)))


async def _ping(client: TestClient, *, until_not: int) -> tuple[int, dict]:
    with anyio.fail_after(60):
        while True:
            response = await client.get("/ping")
            if response.status != until_not:
                return response.status, await response.json()
            await anyio.sleep(0.05)


async def test_waiting_for_a_free_process_does_not_count_against_the_timeout():
    model = Model(limits=DecodeLimits(), detect_timeout=1.0, max_body_bytes=10**8, workers=1)
    async with in_process(model) as client:
        assert (await _ping(client, until_not=503))[0] == 200
        slots = client.app[STATE]["limiter"]
        results = []

        async def request():
            response = await client.post(
                "/invocations", data=simple_plan_png(), headers={"Content-Type": "image/png"}
            )
            results.append((response.status, await response.json()))

        async with anyio.create_task_group() as group:
            async with slots:  # the only detector process is busy ...
                group.start_soon(request)
                with anyio.fail_after(10):
                    while not slots.statistics().tasks_waiting:
                        await anyio.sleep(0.01)
                await anyio.sleep(model.detect_timeout * 1.5)  # ... for longer than the timeout
        [(status, document)] = results
        assert status == 200, document
        assert len(document["rooms"]) == 4


async def test_warm_up_failure_fails_the_health_check(tmp_path):
    """Limits no image passes: the warm-up detection is refused, /ping says so, the log too."""
    (tmp_path / "config.json").write_text(json.dumps({"max_image_pixels": 100}))
    port = free_port()
    process = await anyio.open_process(
        container_command(port, tmp_path),
        cwd=REPO_ROOT,
        env={**os.environ, "LOCDETECT_WORKERS": "1"},
        stderr=subprocess.STDOUT,
    )
    try:
        async with aiohttp.ClientSession() as session:
            with anyio.fail_after(60):
                while True:
                    try:
                        async with session.get(f"http://127.0.0.1:{port}/ping") as response:
                            if response.status != 503:
                                status, body = response.status, await response.json()
                                break
                    except aiohttp.ClientConnectionError:
                        pass
                    await anyio.sleep(0.05)
    finally:
        process.kill()
        await process.wait()
        output = b""
        async for chunk in process.stdout:
            output += chunk
        await process.aclose()
    assert status == 500
    assert body["status"] == "failed"
    assert "image_too_large" in body["error"]
    assert b"ERROR warm-up failed: JobError: image_too_large" in output
    assert b"Traceback" in output
