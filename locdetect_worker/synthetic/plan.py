"""``generate_plan``: one synthetic floor plan with an exact room label image."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from locdetect_worker.synthetic import annotate, furniture, scan, walls
from locdetect_worker.synthetic.layout import Box, LayoutParams, make_layout
from locdetect_worker.synthetic.style import draw_style, drawing_area


@dataclass(frozen=True)
class SyntheticPlan:
    """A drawn plan and its ground truth.

    ``image`` is BGR ``uint8`` (H, W, 3); ``labels`` is ``uint16`` (H, W) with
    0 outside rooms and k inside room k (1..``rooms``), up to the wall faces;
    ``style`` holds every resolved option.
    """

    image: np.ndarray
    labels: np.ndarray
    rooms: int
    style: dict[str, Any]


def generate_plan(seed: int, **style: Any) -> SyntheticPlan:
    """The plan for ``seed``; any style option (see ``style.draw_style``) may be overridden."""
    options = draw_style(seed, **style)
    layout_rng, decor_rng, scan_rng = (
        np.random.default_rng([seed, stream]) for stream in (1, 2, 3)
    )
    width, height = drawing_area(options)
    scale = float(options["scale_px_per_m"])
    outer_px = max(3, int(round(options["outer_wall_m"] * scale)))
    inner_px = max(3, min(outer_px, int(round(options["inner_wall_m"] * scale))))
    line = max(1, int(round(scale / 80)))
    long_side = max(width, height)

    margin = int(0.025 * min(width, height)) if options["frame"] else 0
    title_h = int(0.1 * height) if options["frame"] else 0
    dim_gap = int(np.clip(0.6 * scale, 0.02 * long_side, 0.035 * long_side))
    dims = 2 * dim_gap + line * 4 if options["dimensions"] else 0
    pad = int(0.05 * long_side)  # room for a 5-degree skew without losing a corner
    area = Box(
        max(pad, margin + dims + pad // 3),
        max(pad, margin + dims + pad // 3),
        width - max(pad, margin + pad // 3),
        height - max(pad, margin + title_h + pad // 3),
    )
    area = _limit(area, scale, float(options["building_m"]))
    params = LayoutParams(scale, float(options["room_area_m2"]), outer_px, inner_px)
    layout = make_layout(
        layout_rng, area, params, options["footprint"], options["doors"], options["windows"]
    )
    drawn = walls.rasterise(layout, (height, width), outer_px, inner_px)
    ink = np.zeros((height, width), np.uint8)
    walls.ink_walls(ink, drawn.mask, options["wall"], line, max(4, int(0.09 * scale)))
    for door in layout.doors:
        walls.draw_door(ink, door, outer_px, inner_px, line)
    for window in layout.windows:
        walls.draw_window(ink, window, outer_px, line)

    names = annotate.room_names(decor_rng, layout, scale)
    occupied: list[Box] = list(drawn.blocked)
    if options["text"]:
        occupied += annotate.draw_room_text(
            decor_rng, ink, layout, drawn.labels, names, occupied, scale, line
        )
    if options["stairs"]:
        occupied += furniture.draw_stairs(
            decor_rng, ink, layout, drawn.labels, occupied, scale, line
        )
    if options["furniture"]:
        furniture.furnish(decor_rng, ink, layout, drawn.labels, names, occupied, scale, line)
    if options["dimensions"]:
        annotate.draw_dimensions(ink, layout, scale, dim_gap, line)
    if options["frame"]:
        annotate.draw_frame(ink, margin, line, double=bool(decor_rng.random() < 0.5))
        title = Box(int(width * 0.55), height - margin - title_h, width - margin, height - margin)
        annotate.draw_title_block(decor_rng, ink, title, line)

    paper, colour = scan.paper_and_ink(scan_rng, options["colour"])
    image = scan.compose(ink, paper, colour)
    image, labels = scan.rotate(image, drawn.labels, float(options["rotation_deg"]), paper)
    image = scan.degrade(scan_rng, image, float(options["noise"]), options["jpeg_quality"])
    return SyntheticPlan(image=image, labels=labels, rooms=len(layout.rooms), style=options)


def _limit(area: Box, scale: float, building_m: float) -> Box:
    """Shrink the drawing area to the building's size (long side ``building_m``), centred."""
    long_px = int(building_m * scale)
    if area.width >= area.height:
        width, height = min(area.width, long_px), min(area.height, int(0.8 * long_px))
    else:
        width, height = min(area.width, int(0.8 * long_px)), min(area.height, long_px)
    x0 = area.x0 + (area.width - width) // 2
    y0 = area.y0 + (area.height - height) // 2
    return Box(x0, y0, x0 + width, y0 + height)
