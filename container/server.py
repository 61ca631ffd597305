"""The inference container's HTTP server: SageMaker's BYO contract on port 8080.

``GET /ping`` answers 200 once the detector processes are warm (503 before and
while draining, 500 with the reason if warming up failed, so the health check
fails visibly); ``POST /invocations`` takes the blueprint bytes and returns the
result document. Detection runs in worker processes (one per core) so the event
loop only moves bytes; a request that overruns ``detect_timeout`` has its
worker killed; the time a request waits for a free process does not count.
SIGTERM stops accepting, lets in-flight requests finish (SageMaker
sends SIGKILL 30 s later) and exits.

Usage: ``python -m container.server serve [--port 8080] [--model-dir /opt/ml/model]``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import anyio
import anyio.to_process
from aiohttp import web

from container.inference import (
    MODEL_DIR,
    Model,
    input_fn,
    model_fn,
    output_fn,
    predict_fn,
)
from locdetect_worker.errors import JobError
from locdetect_worker.results import failed_result

log = logging.getLogger("locdetect.container")

SHUTDOWN_GRACE = 25.0
STATUS_FOR_CODE = {
    "unsupported_format": 415,
    "decode_failed": 400,
    "object_too_large": 413,
    "image_too_large": 413,
    "detect_failed": 500,
    "detect_timeout": 500,
}

MODEL: web.AppKey[Model] = web.AppKey("model", Model)
STATE: web.AppKey[dict[str, Any]] = web.AppKey("state", dict)


def create_app(model: Model) -> web.Application:
    app = web.Application(client_max_size=model.max_body_bytes)
    app[MODEL] = model
    app[STATE] = {
        "ready": False,
        "failure": None,
        "in_flight": 0,
        # A request takes a slot ("limiter"), then starts its timer and runs in a
        # detector process ("processes"): waiting for a free process is not detection.
        "limiter": anyio.CapacityLimiter(model.workers),
        "processes": anyio.CapacityLimiter(model.workers),
    }
    app.router.add_get("/ping", ping)
    app.router.add_post("/invocations", invocations)
    app.cleanup_ctx.append(_warm_up)
    app.on_shutdown.append(_stop_answering_ping)
    return app


async def ping(request: web.Request) -> web.Response:
    state = request.app[STATE]
    if state["failure"]:
        body = {"status": "failed", "error": state["failure"], "in_flight": state["in_flight"]}
        return web.json_response(body, status=500)
    body = {"status": "ok" if state["ready"] else "unavailable", "in_flight": state["in_flight"]}
    return web.json_response(body, status=200 if state["ready"] else 503)


async def invocations(request: web.Request) -> web.Response:
    state = request.app[STATE]
    state["in_flight"] += 1
    try:
        return await _invoke(request, request.app[MODEL], state)
    finally:
        state["in_flight"] -= 1


async def _invoke(request: web.Request, model: Model, state: dict[str, Any]) -> web.Response:
    if not state["ready"]:
        return _error(JobError("detect_failed", "the model is not loaded yet"), status=503)
    if request.content_length is not None and request.content_length > model.max_body_bytes:
        return _error(
            JobError(
                "object_too_large",
                f"{request.content_length} bytes exceeds the limit of {model.max_body_bytes}",
            )
        )
    try:
        data = input_fn(await request.read(), request.content_type)
        async with state["limiter"]:
            with anyio.fail_after(model.detect_timeout):
                analysis = await anyio.to_process.run_sync(
                    predict_fn, data, model, cancellable=True, limiter=state["processes"]
                )
    except JobError as exc:
        return _error(exc)
    except web.HTTPRequestEntityTooLarge:
        return _error(JobError("object_too_large", f"body over {model.max_body_bytes} bytes"))
    except TimeoutError:
        return _error(JobError("detect_timeout", f"detection took over {model.detect_timeout} s"))
    except Exception as exc:  # our own fault: a crashed worker or a bug; the caller sees a 500
        log.exception("invocation failed")
        return _error(JobError("detect_failed", f"{type(exc).__name__}: {exc}"), status=500)
    body, content_type = output_fn(analysis, request.headers.get("Accept", "application/json"))
    return web.Response(body=body, content_type=content_type)


def _error(error: JobError, status: int | None = None) -> web.Response:
    document = failed_result("", None, error, backend="sagemaker")
    return web.Response(
        body=document.to_json().encode(),
        status=status or STATUS_FOR_CODE.get(error.code, 400),
        content_type="application/json",
    )


async def _warm_up(app: web.Application) -> AsyncIterator[None]:
    """Start every worker process (imports, a tiny detection), then answer /ping with 200.

    A failure is logged and reported by /ping: the container never becomes healthy
    and SageMaker's health check says why, instead of a silent 503 forever.
    """

    async def warm_up() -> None:
        model, state = app[MODEL], app[STATE]
        try:
            async with anyio.create_task_group() as group:
                for _ in range(model.workers):
                    group.start_soon(
                        partial(
                            anyio.to_process.run_sync,
                            _warm_worker,
                            model,
                            limiter=state["processes"],
                        )
                    )
        except Exception as exc:
            errors = exc.exceptions if isinstance(exc, BaseExceptionGroup) else (exc,)
            state["failure"] = "; ".join(f"{type(e).__name__}: {e}" for e in errors)[:2000]
            log.exception("warm-up failed: %s", state["failure"])
            return
        state["ready"] = True
        log.info("model loaded: %d detector processes", model.workers)

    task = asyncio.get_running_loop().create_task(warm_up())
    yield
    task.cancel()


def _warm_worker(model: Model) -> int:
    """One tiny request's work (decode and detect with the model's limits) in this process."""
    import cv2
    import numpy as np

    ok, png = cv2.imencode(".png", np.full((64, 64, 3), 255, np.uint8))
    if not ok:
        raise RuntimeError("cannot encode the warm-up image")
    return len(predict_fn(png.tobytes(), model).rooms)


async def _stop_answering_ping(app: web.Application) -> None:
    app[STATE]["ready"] = False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m container.server", description=__doc__)
    parser.add_argument("command", choices=["serve"], help="SageMaker runs the image with 'serve'")
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("SAGEMAKER_BIND_TO_PORT", "8080"))
    )
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", MODEL_DIR))
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(message)s"
    )
    model = model_fn(args.model_dir)
    log.info("serving on %s:%d with %d workers", args.host, args.port, model.workers)
    web.run_app(
        create_app(model),
        host=args.host,
        port=args.port,
        shutdown_timeout=SHUTDOWN_GRACE,
        print=None,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
