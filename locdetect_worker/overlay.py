"""The overlay picture: each room filled in its own translucent colour, outlined and labelled.

It is drawn for every job, so it is kept cheap: the plan is reduced to grey
(which also makes the room colours stand out) before it is scaled down by a
whole factor (OpenCV's fast path for area averaging), and the PNG is written
unfiltered at the fastest zlib level, which for drawings is both the quickest
encoding and about the smallest.
"""

from __future__ import annotations

import colorsys
import math

import cv2
import numpy as np

from locdetect_worker.results import Room

OVERLAY_MAX_SIDE = 1600  # for checking by eye; larger costs encode time per job
PNG_PARAMS = [
    cv2.IMWRITE_PNG_COMPRESSION,
    1,
    cv2.IMWRITE_PNG_FILTER,
    cv2.IMWRITE_PNG_FILTER_NONE,
]


def render_overlay(pages: list[np.ndarray], rooms: list[Room]) -> bytes:
    """PNG bytes of all pages stacked vertically, each reduced by a whole factor to at most
    ``OVERLAY_MAX_SIDE`` px (so between half that and that, for large pages)."""
    drawn = [_draw_page(page, [r for r in rooms if r.page == n]) for n, page in enumerate(pages, 1)]
    width = max(p.shape[1] for p in drawn)
    stacked = np.vstack(
        [
            cv2.copyMakeBorder(
                p, 0, 0, 0, width - p.shape[1], cv2.BORDER_CONSTANT, value=(255, 255, 255)
            )
            for p in drawn
        ]
    )
    ok, png = cv2.imencode(".png", stacked, PNG_PARAMS)
    if not ok:
        raise RuntimeError("PNG encoding of the overlay failed")
    return png.tobytes()


def _draw_page(page: np.ndarray, rooms: list[Room]) -> np.ndarray:
    scale = 1 / math.ceil(max(page.shape[:2]) / OVERLAY_MAX_SIDE)
    grey = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY) if page.ndim == 3 else page
    if scale < 1.0:
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    canvas = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    fill = canvas.copy()
    thickness = max(2, int(round(max(canvas.shape[:2]) / 600)))
    polygons = []
    for index, room in enumerate(rooms):
        polygon = (np.asarray(room.polygon, np.float64) * scale).round().astype(np.int32)
        polygons.append(polygon)
        cv2.fillPoly(fill, [polygon], _colour(index))
    cv2.addWeighted(fill, 0.4, canvas, 0.6, 0, dst=canvas)
    font_scale = max(0.4, max(canvas.shape[:2]) / 2000)
    for index, (room, polygon) in enumerate(zip(rooms, polygons)):
        cv2.polylines(canvas, [polygon], True, _colour(index), thickness, cv2.LINE_AA)
        x0, y0 = polygon.min(axis=0)
        x1, y1 = polygon.max(axis=0)
        label = room.id.removeprefix("room_")
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
        origin = (int((x0 + x1 - tw) / 2), int((y0 + y1 + th) / 2))
        cv2.putText(
            canvas,
            label,
            origin,
            cv2.FONT_HERSHEY_SIMPLEX,
            font_scale,
            (255, 255, 255),
            thickness + 2,
            cv2.LINE_AA,
        )
        cv2.putText(
            canvas,
            label,
            origin,
            cv2.FONT_HERSHEY_SIMPLEX,
            font_scale,
            (0, 0, 0),
            thickness,
            cv2.LINE_AA,
        )
    return canvas


def _colour(index: int) -> tuple[int, int, int]:
    """Well-separated hues (golden-ratio steps), as BGR."""
    r, g, b = colorsys.hsv_to_rgb((index * 0.618034) % 1.0, 0.75, 0.95)
    return int(b * 255), int(g * 255), int(r * 255)
