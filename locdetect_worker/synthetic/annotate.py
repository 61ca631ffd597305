"""Sheet furniture that is not a room: names and areas, dimension chains, frame, title block.

These are the distractors a detector must ignore: closed boxes (frame, title
block), text inside rooms and long thin lines outside the building.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from locdetect_worker.synthetic.geometry import Box, Layout

FONT = cv2.FONT_HERSHEY_SIMPLEX
_FONT_PX = 22.0  # cap height of FONT at scale 1

_DATE = ((1, 29), (1, 13), (1990, 2026))
# per language: corridor, the big rooms (largest first), small rooms, and the rest (bedrooms)
_NAMES = {
    "en": (
        ["HALL", "CORRIDOR", "ENTRY"],
        ["LIVING", "KITCHEN", "DINING", "FAMILY", "OFFICE", "STUDY", "GUEST ROOM", "LIBRARY"],
        ["WC", "BATH", "STORAGE", "LAUNDRY", "PANTRY", "SHOWER", "CLOSET"],
        "BEDROOM",
    ),
    "fr": (
        ["DEGAGEMENT", "HALL", "ENTREE"],
        ["SEJOUR", "CUISINE", "REPAS", "SALON", "BUREAU", "JEUX", "ATELIER", "BIBLIOTHEQUE"],
        ["WC", "BAINS", "PLACARD", "CELLIER", "BUANDERIE", "DOUCHE", "DRESSING"],
        "CHAMBRE",
    ),
}


def room_names(rng: np.random.Generator, layout: Layout, scale: float) -> list[str]:
    """Names as a house has them: the biggest rooms are living spaces, the smallest are
    service rooms, the rest are numbered bedrooms."""
    corridors, big, small, bedroom = _NAMES[str(rng.choice(list(_NAMES)))]
    areas = [sum(b.width * b.height for b in room.pieces) / scale**2 for room in layout.rooms]
    order = sorted(range(len(areas)), key=lambda i: -areas[i])
    names = [""] * len(areas)
    big_left = list(big[: max(1, len(areas) // 2)])
    small_left = list(small)
    for i in reversed(order):  # smallest first
        if layout.rooms[i].kind == "corridor":
            names[i] = str(rng.choice(corridors))
        elif areas[i] < 7.5 and small_left:
            names[i] = small_left.pop(int(rng.integers(len(small_left))))
    bedrooms = 0
    for i in order:  # largest first
        if names[i]:
            continue
        if big_left:
            names[i] = big_left.pop(0)
        else:
            bedrooms += 1
            names[i] = f"{bedroom} {bedrooms}"
    return names


def largest_interior(labels: np.ndarray, room_id: int, pieces: list[Box]) -> Box:
    """The interior (label) extent of a room's biggest piece."""
    b = max(pieces, key=lambda p: p.width * p.height)
    ys, xs = np.nonzero(labels[b.y0 : b.y1, b.x0 : b.x1] == room_id)
    if ys.size == 0:
        return Box(b.x0, b.y0, b.x0, b.y0)
    return Box(
        b.x0 + int(xs.min()),
        b.y0 + int(ys.min()),
        b.x0 + int(xs.max()) + 1,
        b.y0 + int(ys.max()) + 1,
    )


def put_lines(
    ink: np.ndarray,
    lines: list[str],
    centre: tuple[int, int],
    height_px: float,
    max_width: int,
    line: int,
    fits: Callable[[Box], bool] | None = None,
) -> Box | None:
    """Centred text lines no wider than ``max_width``, drawn only if their box ``fits``.

    Returns the box the text covers, or None when nothing was drawn.
    """
    font_scale = height_px / _FONT_PX
    widest = max(cv2.getTextSize(t, FONT, font_scale, line)[0][0] for t in lines)
    if widest > max_width:
        font_scale *= max_width / widest
    if font_scale * _FONT_PX < 7:
        return None
    thickness = max(1, int(round(font_scale * 1.6)))
    sizes = [cv2.getTextSize(t, FONT, font_scale, thickness)[0] for t in lines]
    gap = int(font_scale * _FONT_PX * 0.6)
    total = sum(h for _, h in sizes) + gap * (len(lines) - 1)
    top = centre[1] - total // 2
    x_min = min(centre[0] - w // 2 for w, _ in sizes)
    box = Box(x_min - 2, top - 2, x_min + max(w for w, _ in sizes) + 2, top + total + 4)
    if fits is not None and not fits(box):
        return None
    y = top
    for text, (w, h) in zip(lines, sizes):
        y += h
        cv2.putText(
            ink, text, (centre[0] - w // 2, y), FONT, font_scale, 255, thickness, cv2.LINE_AA
        )
        y += gap
    return box


def draw_room_text(
    rng: np.random.Generator,
    ink: np.ndarray,
    layout: Layout,
    labels: np.ndarray,
    names: list[str],
    occupied: list[Box],
    scale: float,
    line: int,
) -> list[Box]:
    """Each room's name and area (m2) near its centre, clear of ``occupied``; the boxes drawn."""
    areas = np.bincount(labels.ravel(), minlength=len(layout.rooms) + 1)
    boxes = []
    comma = rng.random() < 0.4
    height = float(np.clip(rng.uniform(0.15, 0.25) * scale, 9, 50))
    for k, (room, name) in enumerate(zip(layout.rooms, names), start=1):
        inner = largest_interior(labels, k, room.pieces)
        area = f"{areas[k] / scale**2:.2f}"
        area = (area.replace(".", ",") if comma else area) + " m2"
        lines = [name, area] if rng.random() < 0.8 else [name]

        def fits(box: Box, k: int = k) -> bool:
            return not overlaps(box, occupied) and inside(box, labels, k)

        for fx, fy in ((0.5, 0.5), (0.5, 0.3), (0.5, 0.7), (0.3, 0.5), (0.7, 0.5), (0.5, 0.15)):
            centre = (int(inner.x0 + fx * inner.width), int(inner.y0 + fy * inner.height))
            box = put_lines(ink, lines, centre, height, int(inner.width * 0.8), line, fits)
            if box is not None:
                boxes.append(box)
                break
    return boxes


def dashed_line(
    ink: np.ndarray, a: tuple[int, int], b: tuple[int, int], dash: int, line: int
) -> None:
    """A dashed straight line from ``a`` to ``b``: dashes and gaps of ``dash`` px."""
    length = float(np.hypot(b[0] - a[0], b[1] - a[1]))
    steps = max(1, int(length // dash))
    for i in range(0, steps, 2):
        t0, t1 = i / steps, min(1.0, (i + 1) / steps)
        p0 = (int(a[0] + (b[0] - a[0]) * t0), int(a[1] + (b[1] - a[1]) * t0))
        p1 = (int(a[0] + (b[0] - a[0]) * t1), int(a[1] + (b[1] - a[1]) * t1))
        cv2.line(ink, p0, p1, 255, line)


def overlaps(box: Box, others: list[Box]) -> bool:
    return any(box.x0 < o.x1 and o.x0 < box.x1 and box.y0 < o.y1 and o.y0 < box.y1 for o in others)


def inside(box: Box, labels: np.ndarray, room_id: int) -> bool:
    """True when ``box`` is non-empty and lies wholly in room ``room_id``."""
    if box.width <= 0 or box.height <= 0 or box.x0 < 0 or box.y0 < 0:
        return False
    return bool(np.all(labels[box.y0 : box.y1, box.x0 : box.x1] == room_id))


def draw_dimensions(ink: np.ndarray, layout: Layout, scale: float, gap: int, line: int) -> None:
    """Dimension chains above and left of the building: wall positions, then the overall size."""
    pieces = [b for room in layout.rooms for b in room.pieces]
    x0, y0 = min(b.x0 for b in pieces), min(b.y0 for b in pieces)
    x1, y1 = max(b.x1 for b in pieces), max(b.y1 for b in pieces)
    xs = _stops(sorted({b.x0 for b in pieces} | {b.x1 for b in pieces}), scale)
    ys = _stops(sorted({b.y0 for b in pieces} | {b.y1 for b in pieces}), scale)
    text_px = float(np.clip(0.22 * scale, 9, 48))
    for level, (stops_x, stops_y) in enumerate(((xs, ys), ([x0, x1], [y0, y1])), start=1):
        _chain(ink, stops_x, y0 - level * gap, scale, text_px, line, vertical=False)
        _chain(ink, stops_y, x0 - level * gap, scale, text_px, line, vertical=True)


def _stops(values: list[int], scale: float) -> list[int]:
    stops = [values[0]]
    for v in values[1:]:
        if v - stops[-1] >= 0.4 * scale:
            stops.append(v)
    return stops


def _chain(
    ink: np.ndarray,
    stops: list[int],
    at: int,
    scale: float,
    text_px: float,
    line: int,
    vertical: bool,
) -> None:
    """One dimension line at ``at`` with 45-degree ticks at ``stops`` and lengths in cm."""
    tick = max(4, int(0.12 * scale))

    def pt(along: int, across: int) -> tuple[int, int]:
        return (across, along) if vertical else (along, across)

    cv2.line(ink, pt(stops[0] - tick, at), pt(stops[-1] + tick, at), 255, line)
    for s in stops:
        cv2.line(ink, pt(s - tick, at + tick), pt(s + tick, at - tick), 255, line + 1)
        cv2.line(ink, pt(s, at - tick), pt(s, at + 2 * tick), 255, line)
    font_scale = text_px / _FONT_PX
    for a, b in zip(stops, stops[1:]):
        text = str(int(round((b - a) / scale * 100)))
        (w, h), _ = cv2.getTextSize(text, FONT, font_scale, line)
        if w > 0.9 * (b - a):
            continue
        if not vertical:
            cv2.putText(
                ink, text, ((a + b - w) // 2, at - tick), FONT, font_scale, 255, line, cv2.LINE_AA
            )
            continue
        patch = np.zeros((h + 6, w + 2), np.uint8)
        cv2.putText(patch, text, (1, h + 1), FONT, font_scale, 255, line, cv2.LINE_AA)
        patch = np.rot90(patch)  # reads bottom to top, as on drawings
        top, left = (a + b - patch.shape[0]) // 2, at - tick - patch.shape[1]
        if top >= 0 and left >= 0:
            region = ink[top : top + patch.shape[0], left : left + patch.shape[1]]
            np.maximum(region, patch[: region.shape[0], : region.shape[1]], out=region)


def draw_frame(ink: np.ndarray, margin: int, line: int, double: bool) -> None:
    """The sheet border, sometimes doubled."""
    height, width = ink.shape
    cv2.rectangle(ink, (margin, margin), (width - margin, height - margin), 255, 2 * line + 1)
    if double:
        inset = margin + 4 * line + 4
        cv2.rectangle(ink, (inset, inset), (width - inset, height - inset), 255, line)


def draw_title_block(rng: np.random.Generator, ink: np.ndarray, box: Box, line: int) -> None:
    """A ruled box with the project, drawing name, scale, date and sheet number."""
    cv2.rectangle(ink, (box.x0, box.y0), (box.x1, box.y1), 255, line + 1)
    rows = int(rng.integers(3, 5))
    split = box.x0 + int(box.width * rng.uniform(0.55, 0.7))
    row_h = box.height / rows
    texts = [
        str(rng.choice(["RESIDENCE", "MAISON INDIVIDUELLE", "APARTMENT BLOCK", "HOUSE"])),
        str(rng.choice(["GROUND FLOOR PLAN", "PLAN DU REZ DE CHAUSSEE", "FIRST FLOOR", "LEVEL 2"])),
        f"SCALE 1:{int(rng.choice([50, 75, 100, 200]))}",
        "DATE {:02d}.{:02d}.{}".format(*(int(rng.integers(a, b)) for a, b in _DATE)),
    ]
    for r in range(1, rows):
        y = int(box.y0 + r * row_h)
        cv2.line(ink, (box.x0, y), (split, y), 255, line)
    cv2.line(ink, (split, box.y0), (split, box.y1), 255, line)
    for r in range(rows):
        centre = ((box.x0 + split) // 2, int(box.y0 + (r + 0.5) * row_h))
        put_lines(
            ink, [texts[r % len(texts)]], centre, row_h * 0.35, int((split - box.x0) * 0.9), line
        )
    sheet = f"A{int(rng.integers(1, 20)):02d}"
    put_lines(
        ink,
        [sheet],
        ((split + box.x1) // 2, (box.y0 + box.y1) // 2),
        box.height * 0.3,
        int((box.x1 - split) * 0.8),
        line,
    )
