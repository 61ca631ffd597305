"""``generate_plan``: one synthetic floor plan with an exact room label image."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from locdetect_worker.synthetic import annotate, furniture, outside, scan, walls
from locdetect_worker.synthetic.geometry import Box, Layout, LayoutParams
from locdetect_worker.synthetic.layout import make_layout
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
    """The plan for ``seed``; every style option defaults to a draw from the seed.

    Options: ``size`` (sheet's long side, px), ``aspect``, ``building_m`` (long side),
    ``scale_px_per_m``, ``footprint`` ("rect" | "L"), ``wall`` ("solid" | "hatched" |
    "double"), ``outer_wall_m``, ``inner_wall_m``, ``room_area_m2``, ``colour`` ("white" |
    "grey" | "blue"), ``rotation_deg``, ``noise`` (grain sigma, 0 = clean), ``jpeg_quality``
    (None = lossless), ``pen`` (line width factor) and the switches ``doors``, ``windows``,
    ``furniture``, ``text``, ``dimensions``, ``frame``, ``stairs``, ``wall_fill``,
    ``terrace``, ``notes``, ``roof``. Unknown names raise TypeError, bad values ValueError.
    """
    options = draw_style(seed, **style)
    layout_rng, decor_rng, scan_rng = (
        np.random.default_rng([seed, stream]) for stream in (1, 2, 3)
    )
    sheet = _Sheet(options)
    params = LayoutParams(sheet.scale, float(options["room_area_m2"]), sheet.outer, sheet.inner)
    layout = make_layout(
        layout_rng, sheet.area, params, options["footprint"], options["doors"], options["windows"]
    )
    drawn = walls.rasterise(layout, (sheet.height, sheet.width), sheet.outer, sheet.inner)
    ink = np.zeros((sheet.height, sheet.width), np.uint8)
    _draw_building(decor_rng, ink, layout, drawn, sheet, options)
    _draw_sheet(decor_rng, ink, layout, sheet, options)

    ink, labels = scan.rotate(ink, drawn.labels, float(options["rotation_deg"]))
    paper, colour = scan.paper_and_ink(scan_rng, options["colour"])
    image = scan.compose(ink, paper, colour)
    image = scan.degrade(scan_rng, image, float(options["noise"]), options["jpeg_quality"])
    return SyntheticPlan(image=image, labels=labels, rooms=len(layout.rooms), style=options)


class _Sheet:
    """Pixel geometry of the sheet: line widths, margins, title block, building area."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.width, self.height = drawing_area(options)
        self.scale = float(options["scale_px_per_m"])
        self.outer = max(3, int(round(options["outer_wall_m"] * self.scale)))
        self.inner = max(3, min(self.outer, int(round(options["inner_wall_m"] * self.scale))))
        self.line = max(1, int(round(self.scale / 80 * float(options["pen"]))))
        long_side = max(self.width, self.height)
        self.margin = int(0.025 * min(self.width, self.height)) if options["frame"] else 0
        title_h = int(0.1 * self.height) if options["frame"] else 0
        self.title = Box(
            int(self.width * 0.55),
            self.height - self.margin - title_h,
            self.width - self.margin,
            self.height - self.margin,
        )
        self.dim_gap = int(np.clip(0.6 * self.scale, 0.02 * long_side, 0.035 * long_side))
        text_room = int(0.35 * self.scale)  # the figures above the outer chain
        dims = 2 * self.dim_gap + text_room if options["dimensions"] else 0
        self.pad = int(0.05 * long_side)  # room for a 5-degree skew without losing a corner
        area = Box(
            max(self.pad, self.margin + dims + self.pad // 3),
            max(self.pad, self.margin + dims + self.pad // 3),
            self.width - max(self.pad, self.margin + self.pad // 3),
            self.height - max(self.pad, self.margin + title_h + self.pad // 3),
        )
        self.area = _limit(area, self.scale, float(options["building_m"]))


def _draw_building(
    rng: np.random.Generator,
    ink: np.ndarray,
    layout: Layout,
    drawn: walls.Walls,
    sheet: _Sheet,
    options: dict[str, Any],
) -> None:
    """Walls, openings, and what is drawn inside the rooms."""
    scale, line = sheet.scale, sheet.line
    fill = int(rng.uniform(60, 130)) if options["wall_fill"] and options["wall"] == "double" else 0
    walls.ink_walls(ink, drawn.mask, options["wall"], line, max(4, int(0.09 * scale)), fill)
    for door in layout.doors:
        walls.draw_door(ink, door, line)
    for window in layout.windows:
        walls.draw_window(ink, window, line)
    names = annotate.room_names(rng, layout, scale)
    occupied: list[Box] = list(drawn.blocked)
    if options["text"]:
        occupied += annotate.draw_room_text(
            rng, ink, layout, drawn.labels, names, occupied, scale, line
        )
    if options["stairs"]:
        occupied += furniture.draw_stairs(rng, ink, layout, drawn.labels, occupied, scale, line)
    if options["furniture"]:
        furniture.furnish(rng, ink, layout, drawn.labels, names, occupied, scale, line)


def _draw_sheet(
    rng: np.random.Generator, ink: np.ndarray, layout: Layout, sheet: _Sheet, options: dict
) -> None:
    """Everything outside the building: dimensions, terrace, frame, title block, notes."""
    line, pad = sheet.line, sheet.pad
    keep_out = [sheet.title] if options["frame"] else []
    if options["roof"]:
        offset = int(min(rng.uniform(0.3, 0.6) * sheet.scale, 0.45 * sheet.dim_gap))
        outside.draw_roof_line(rng, ink, layout, max(4, offset), line)
    if options["dimensions"]:
        annotate.draw_dimensions(ink, layout, sheet.scale, sheet.dim_gap, line)
    if options["terrace"] and not options["roof"]:  # both would cross
        free = Box(pad // 2, pad // 2, sheet.width - pad // 2, sheet.height - pad // 2)
        terrace = outside.draw_terrace(rng, ink, layout, free, keep_out, sheet.scale, line)
        keep_out += [terrace] if terrace else []
    if options["frame"]:
        annotate.draw_frame(ink, sheet.margin, line, double=bool(rng.random() < 0.5))
        annotate.draw_title_block(rng, ink, sheet.title, line)
        radius = int(0.3 * sheet.title.height)
        centre = (sheet.title.x0 - 2 * radius, sheet.title.y0 + sheet.title.height // 2)
        if rng.random() < 0.5 and not _covers(layout, keep_out, centre, radius):
            outside.draw_north_arrow(ink, centre, radius, line)
    if options["notes"] and options["frame"]:  # in the band beside the title block
        text_px = float(np.clip(0.012 * min(sheet.width, sheet.height), 8, 40))
        corner = (sheet.margin + pad // 2, sheet.title.y1 - int(text_px))
        lines = int((sheet.title.height - text_px) // (1.8 * text_px))
        outside.draw_notes(rng, ink, corner, text_px, line, lines)


def _covers(layout: Layout, others: list[Box], centre: tuple[int, int], radius: int) -> bool:
    box = Box(centre[0] - radius, centre[1] - 2 * radius, centre[0] + radius, centre[1] + radius)
    return annotate.overlaps(box, others + [b for room in layout.rooms for b in room.pieces])


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
