"""Furniture, fixtures and stairs: thin closed shapes inside rooms, mostly against walls.

They make closed regions that are not rooms. Every item stays inside its
room's label area and out of door swings, so no door is ever closed off.
"""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.synthetic.annotate import inside, largest_interior, overlaps
from locdetect_worker.synthetic.geometry import Box, Layout

# item -> (length along the wall, depth into the room) in metres
_SIZES = {
    "bed": ((1.4, 1.8), (1.9, 2.1)),
    "counter": ((1.8, 3.6), (0.6, 0.65)),
    "wardrobe": ((1.0, 2.2), (0.55, 0.65)),
    "sofa": ((1.8, 2.6), (0.8, 0.95)),
    "desk": ((1.2, 1.7), (0.6, 0.75)),
    "bath": ((1.6, 1.8), (0.7, 0.8)),
    "wc": ((0.38, 0.42), (0.65, 0.75)),
    "basin": ((0.5, 0.7), (0.4, 0.5)),
    "shelf": ((0.8, 2.5), (0.3, 0.45)),
}

_BY_NAME = {
    "BEDROOM": ["bed", "wardrobe", "desk"],
    "CHAMBRE": ["bed", "wardrobe"],
    "KITCHEN": ["counter", "counter", "table"],
    "CUISINE": ["counter", "counter", "table"],
    "LIVING": ["sofa", "table", "shelf"],
    "SEJOUR": ["sofa", "table", "shelf"],
    "DINING": ["table", "shelf"],
    "REPAS": ["table", "shelf"],
    "BATH": ["bath", "wc", "basin"],
    "BAINS": ["bath", "basin"],
    "WC": ["wc", "basin"],
    "OFFICE": ["desk", "shelf"],
    "STUDY": ["desk", "shelf"],
    "LIBRARY": ["shelf", "shelf", "table"],
    "BIBLIOTHEQUE": ["shelf", "shelf", "table"],
    "GUEST": ["bed", "wardrobe"],
    "FAMILY": ["sofa", "table"],
    "SALON": ["sofa", "table", "shelf"],
    "ATELIER": ["counter", "shelf"],
    "SHOWER": ["basin", "wc"],
    "DOUCHE": ["basin", "wc"],
    "DRESSING": ["wardrobe", "wardrobe"],
    "CLOSET": ["shelf"],
    "BUREAU": ["desk", "shelf"],
    "LAUNDRY": ["counter"],
    "BUANDERIE": ["counter"],
    "PANTRY": ["shelf"],
    "CELLIER": ["shelf"],
    "STORAGE": ["shelf"],
    "PLACARD": ["shelf"],
}


def furnish(
    rng: np.random.Generator,
    ink: np.ndarray,
    layout: Layout,
    labels: np.ndarray,
    names: list[str],
    occupied: list[Box],
    scale: float,
    line: int,
) -> None:
    """Items chosen from each room's name, placed where they fit; ``occupied`` grows."""
    for k, (room, name) in enumerate(zip(layout.rooms, names), start=1):
        if room.kind == "corridor" or rng.random() < 0.15:
            continue
        inner = largest_interior(labels, k, room.pieces)
        for item in _BY_NAME.get(name.split(" ")[0], ["shelf", "table"]):
            if item == "table":
                box = _free_spot(rng, inner, occupied, labels, k, scale)
                if box is not None:
                    _table(rng, ink, box, line)
                    occupied.append(box)
                continue
            (l0, l1), (d0, d1) = _SIZES[item]
            length, depth = int(rng.uniform(l0, l1) * scale), int(rng.uniform(d0, d1) * scale)
            placed = _against_wall(rng, inner, length, depth, occupied, labels, k)
            if placed is not None:
                box, side = placed
                _DRAW[item](ink, box, side, line)
                occupied.append(box)


def draw_stairs(
    rng: np.random.Generator,
    ink: np.ndarray,
    layout: Layout,
    labels: np.ndarray,
    occupied: list[Box],
    scale: float,
    line: int,
) -> list[Box]:
    """A straight flight (outline, treads, walking arrow) against a wall of a big room."""
    areas = np.bincount(labels.ravel(), minlength=len(layout.rooms) + 1)
    order = sorted(
        range(len(layout.rooms)),
        key=lambda i: (layout.rooms[i].kind != "corridor", -areas[i + 1]),
    )
    width, run = int(rng.uniform(0.9, 1.2) * scale), int(rng.uniform(2.6, 3.6) * scale)
    for index in order[:3]:
        inner = largest_interior(labels, index + 1, layout.rooms[index].pieces)
        placed = _against_wall(rng, inner, run, width, occupied, labels, index + 1)
        if placed is None:
            continue
        box, side = placed
        cv2.rectangle(ink, (box.x0, box.y0), (box.x1 - 1, box.y1 - 1), 255, line)
        tread = max(3, int(0.27 * scale))
        horizontal = side in ("top", "bottom")  # the run is along the wall
        extent = box.width if horizontal else box.height
        for t in range(tread, extent, tread):
            if horizontal:
                cv2.line(ink, (box.x0 + t, box.y0), (box.x0 + t, box.y1 - 1), 255, line)
            else:
                cv2.line(ink, (box.x0, box.y0 + t), (box.x1 - 1, box.y0 + t), 255, line)
        cx, cy = (box.x0 + box.x1) // 2, (box.y0 + box.y1) // 2
        start, end = (
            ((box.x0 + tread // 2, cy), (box.x1 - tread // 2, cy))
            if horizontal
            else ((cx, box.y1 - tread // 2), (cx, box.y0 + tread // 2))
        )
        cv2.arrowedLine(ink, start, end, 255, line, cv2.LINE_AA, tipLength=0.08)
        return [box]
    return []


def _against_wall(
    rng: np.random.Generator,
    inner: Box,
    length: int,
    depth: int,
    occupied: list[Box],
    labels: np.ndarray,
    room_id: int,
) -> tuple[Box, str] | None:
    """A box touching one wall face of ``inner`` that fits the room and overlaps nothing."""
    for _ in range(12):
        side = str(rng.choice(["top", "bottom", "left", "right"]))
        along = inner.width if side in ("top", "bottom") else inner.height
        if along < length + 2:
            continue
        start = int(rng.integers(0, along - length + 1))
        if rng.random() < 0.5:  # into a corner, as furniture usually is
            start = 0 if rng.random() < 0.5 else along - length
        if side == "top":
            box = Box(inner.x0 + start, inner.y0, inner.x0 + start + length, inner.y0 + depth)
        elif side == "bottom":
            box = Box(inner.x0 + start, inner.y1 - depth, inner.x0 + start + length, inner.y1)
        elif side == "left":
            box = Box(inner.x0, inner.y0 + start, inner.x0 + depth, inner.y0 + start + length)
        else:
            box = Box(inner.x1 - depth, inner.y0 + start, inner.x1, inner.y0 + start + length)
        if _fits(box, occupied, labels, room_id):
            return box, side
    return None


def _free_spot(
    rng: np.random.Generator,
    inner: Box,
    occupied: list[Box],
    labels: np.ndarray,
    room_id: int,
    scale: float,
) -> Box | None:
    """A free-standing table with room for chairs, away from the walls."""
    size = int(rng.uniform(0.9, 1.6) * scale)
    margin = int(0.6 * scale)
    for _ in range(10):
        if inner.width < size + 2 * margin or inner.height < size + 2 * margin:
            return None
        x = int(rng.integers(inner.x0 + margin, inner.x1 - margin - size + 1))
        y = int(rng.integers(inner.y0 + margin, inner.y1 - margin - size + 1))
        box = Box(x, y, x + size, y + size)
        if _fits(
            Box(x - margin, y - margin, x + size + margin, y + size + margin),
            occupied,
            labels,
            room_id,
        ):
            return box
    return None


def _fits(box: Box, occupied: list[Box], labels: np.ndarray, room_id: int) -> bool:
    return not overlaps(box, occupied) and inside(box, labels, room_id)


def _rect(ink: np.ndarray, box: Box, line: int) -> None:
    cv2.rectangle(ink, (box.x0, box.y0), (box.x1 - 1, box.y1 - 1), 255, line)


def _inset(box: Box, side: str, near: float, far: float, sides: float = 0.0) -> Box:
    """A sub-box at fractions [near, far) of the depth from the wall, ``sides`` in from the ends."""
    if side in ("top", "bottom"):
        depth, pad = box.height, int(sides * box.width)
        a, b = int(near * depth), int(far * depth)
        y0, y1 = (box.y0 + a, box.y0 + b) if side == "top" else (box.y1 - b, box.y1 - a)
        return Box(box.x0 + pad, y0, box.x1 - pad, y1)
    depth, pad = box.width, int(sides * box.height)
    a, b = int(near * depth), int(far * depth)
    x0, x1 = (box.x0 + a, box.x0 + b) if side == "left" else (box.x1 - b, box.x1 - a)
    return Box(x0, box.y0 + pad, x1, box.y1 - pad)


def _bed(ink: np.ndarray, box: Box, side: str, line: int) -> None:
    _rect(ink, box, line)
    _rect(ink, _inset(box, side, 0.05, 0.2, 0.08), line)  # pillows
    fold = _inset(box, side, 0.32, 1.0)
    _rect(ink, fold, line)


def _counter(ink: np.ndarray, box: Box, side: str, line: int) -> None:
    _rect(ink, box, line)
    sink = _inset(box, side, 0.15, 0.85, 0.35)
    if sink.width > 4 and sink.height > 4:
        _rect(ink, sink, line)
        centre = ((sink.x0 + sink.x1) // 2, (sink.y0 + sink.y1) // 2)
        cv2.ellipse(
            ink, centre, (sink.width // 3, sink.height // 3), 0, 0, 360, 255, line, cv2.LINE_AA
        )


def _wardrobe(ink: np.ndarray, box: Box, side: str, line: int) -> None:
    _rect(ink, box, line)
    cv2.line(ink, (box.x0, box.y0), (box.x1 - 1, box.y1 - 1), 255, line, cv2.LINE_AA)
    cv2.line(ink, (box.x1 - 1, box.y0), (box.x0, box.y1 - 1), 255, line, cv2.LINE_AA)


def _sofa(ink: np.ndarray, box: Box, side: str, line: int) -> None:
    _rect(ink, box, line)
    _rect(ink, _inset(box, side, 0.0, 0.25), line)
    _rect(ink, _inset(box, side, 0.25, 1.0, 0.12), line)


def _desk(ink: np.ndarray, box: Box, side: str, line: int) -> None:
    _rect(ink, box, line)
    _rect(ink, _inset(box, side, 0.75, 1.0, 0.35), line)


def _bath(ink: np.ndarray, box: Box, side: str, line: int) -> None:
    _rect(ink, box, line)
    centre = ((box.x0 + box.x1) // 2, (box.y0 + box.y1) // 2)
    axes = (max(1, int(box.width * 0.4)), max(1, int(box.height * 0.38)))
    cv2.ellipse(ink, centre, axes, 0, 0, 360, 255, line, cv2.LINE_AA)


def _wc(ink: np.ndarray, box: Box, side: str, line: int) -> None:
    _rect(ink, _inset(box, side, 0.0, 0.3), line)
    bowl = _inset(box, side, 0.3, 1.0, 0.05)
    centre = ((bowl.x0 + bowl.x1) // 2, (bowl.y0 + bowl.y1) // 2)
    cv2.ellipse(
        ink,
        centre,
        (max(1, bowl.width // 2), max(1, bowl.height // 2)),
        0,
        0,
        360,
        255,
        line,
        cv2.LINE_AA,
    )


def _basin(ink: np.ndarray, box: Box, side: str, line: int) -> None:
    _rect(ink, box, line)
    centre = ((box.x0 + box.x1) // 2, (box.y0 + box.y1) // 2)
    cv2.ellipse(
        ink,
        centre,
        (max(1, box.width // 3), max(1, box.height // 3)),
        0,
        0,
        360,
        255,
        line,
        cv2.LINE_AA,
    )


def _shelf(ink: np.ndarray, box: Box, side: str, line: int) -> None:
    _rect(ink, box, line)
    _rect(ink, _inset(box, side, 0.0, 0.5), line)


def _table(rng: np.random.Generator, ink: np.ndarray, box: Box, line: int) -> None:
    """A round or square table with four chairs around it."""
    centre = ((box.x0 + box.x1) // 2, (box.y0 + box.y1) // 2)
    half = box.width // 2
    if rng.random() < 0.5:
        cv2.circle(ink, centre, half, 255, line, cv2.LINE_AA)
    else:
        _rect(ink, box, line)
    chair = max(3, box.width // 4)
    for dx, dy in ((0, -1), (0, 1), (-1, 0), (1, 0)):
        cx, cy = centre[0] + dx * (half + chair // 2 + 2), centre[1] + dy * (half + chair // 2 + 2)
        _rect(ink, Box(cx - chair // 2, cy - chair // 2, cx + chair // 2, cy + chair // 2), line)


_DRAW = {
    "bed": _bed,
    "counter": _counter,
    "wardrobe": _wardrobe,
    "sofa": _sofa,
    "desk": _desk,
    "bath": _bath,
    "wc": _wc,
    "basin": _basin,
    "shelf": _shelf,
}
