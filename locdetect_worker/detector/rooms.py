"""The room detector: a page image in, room polygons in source pixels out.

Steps (each a pure function in its own module): normalise the sheet to dark
ink on light paper; work at a bounded resolution; threshold; turn a skewed
scan upright; estimate the thin-line width; keep walls; bridge door gaps;
seed rooms where the free space's distance hills stand out (rooms part at
their doors); flood the seeds back over the free space; drop the outside,
slivers and scraps; simplify outlines; map them back to source pixels.
Lengths are fractions of the working page's long side, so the same drawing
gives the same rooms at any resolution.
"""

from __future__ import annotations

import numpy as np

from locdetect_worker.detector.binarise import ink_mask
from locdetect_worker.detector.doors import close_door_gaps
from locdetect_worker.detector.extent import building_extent
from locdetect_worker.detector.footprint import building_footprint
from locdetect_worker.detector.grow import grow_seeds
from locdetect_worker.detector.model import DetectedRoom
from locdetect_worker.detector.normalise import paper_grey
from locdetect_worker.detector.polygons import label_polygons
from locdetect_worker.detector.resample import shrink_keeping_lines
from locdetect_worker.detector.rotate import rotate_page
from locdetect_worker.detector.seeds import room_seeds
from locdetect_worker.detector.select import select_rooms
from locdetect_worker.detector.skew import skew_angle
from locdetect_worker.detector.stroke import stroke_width_histogram, thin_line_width
from locdetect_worker.detector.walls import wall_mask

WORKING_SIDE = 1400
# Lengths as fractions of the building's extent: door gap, envelope opening, thinnest room.
GAP, OPENING, WIDTH = 20.0, 5.5, 33.0
MIN_AREA = 0.0045  # smallest room, as a share of the extent squared
import os  # TEMP
_E = {k: float(v) for k, v in (x.split("=") for x in os.environ.get("LDX", "").split(",") if x)}
GAP = _E.get("GAP", GAP); OPENING = _E.get("OPENING", OPENING); WIDTH = _E.get("WIDTH", WIDTH)
MIN_AREA = _E.get("MIN_AREA", MIN_AREA)
WORKING_SIDE = int(_E.get("WS", WORKING_SIDE))


def detect_rooms(image: np.ndarray) -> list[DetectedRoom]:
    """Rooms in a plan: ``image`` is (H, W, 3) BGR or (H, W) grey ``uint8``."""
    grey = paper_grey(image)
    grey, scale = shrink_keeping_lines(grey, WORKING_SIDE)
    side = max(grey.shape)
    ink = ink_mask(grey)
    back = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    angle = skew_angle(ink)
    if angle:
        grey, back = rotate_page(grey, angle)
        ink = ink_mask(grey)
    thin = thin_line_width(stroke_width_histogram(ink))
    walls = wall_mask(ink, thin, line_length=max(8, side // 15), hatch_gap=max(3, side // 400),
                      pair_gap=max(4, side // 100))
    unit = building_extent(walls)
    walls = close_door_gaps(walls, gap=max(4, round(unit / GAP)), min_run=max(3, side // 200))
    free = (1 - walls).astype(np.uint8)
    min_area = max(16, int(MIN_AREA * unit * unit))
    radii = [float(r) for r in np.unique(np.geomspace(1, side / 8, 16).round())[::-1]] + [0.0]
    seeds = room_seeds(free, radii, min_dynamic=5.0, relative=0.35, coarse=2)
    regions = grow_seeds(seeds, free)
    inside = building_footprint(walls, opening=max(3, round(unit / OPENING)))
    labels, confidences = select_rooms(regions, walls, inside, min_area, min_width=unit / WIDTH)
    polygons = label_polygons(labels, tolerance=max(1.0, side / 800))
    height, width = image.shape[:2]
    rooms = []
    for polygon, confidence in zip(polygons, confidences, strict=True):
        if len(polygon) < 3:
            continue
        upright = polygon @ back[:, :2].T + back[:, 2]
        source = np.rint(upright / scale).astype(np.int64)
        source[:, 0] = np.clip(source[:, 0], 0, width - 1)
        source[:, 1] = np.clip(source[:, 1], 0, height - 1)
        rooms.append(DetectedRoom(polygon=source.astype(np.int32), confidence=float(confidence)))
    return rooms
