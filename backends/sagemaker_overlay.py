"""The overlay of a SageMaker result, drawn by the worker from the source image.

The container returns rooms only (an overlay PNG would double the output
object); the worker decodes the blueprint again and draws the same picture the
local backend draws. Runs in a worker process (``anyio.to_process``).
"""

from __future__ import annotations

from locdetect_worker.decode import DecodeLimits, decode_pages
from locdetect_worker.overlay import render_overlay
from locdetect_worker.results import Room


def render_source_overlay(data: bytes, limits: DecodeLimits, rooms: list[Room]) -> bytes:
    """PNG bytes of every page of ``data`` with ``rooms`` drawn on it."""
    return render_overlay(decode_pages(data, limits), rooms)
