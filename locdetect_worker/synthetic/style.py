"""Style options of a synthetic plan: drawn from the seed, overridable one by one.

Options are drawn from one stream in a fixed order, each consuming the same
draws whatever the overrides, so overriding one option leaves the others as
they were, except the ones derived from it (the building size and the scale
follow the sheet size).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

WALLS = ("solid", "hatched", "double")
COLOURS = ("white", "grey", "blue")
FOOTPRINTS = ("rect", "L")
MIN_SIDE, MAX_SIDE = 600, 12_000
MIN_SCALE, MAX_SCALE = 20.0, 200.0


def draw_style(seed: int, **overrides: Any) -> dict[str, Any]:
    """The resolved options for ``seed``: random defaults, then ``overrides`` validated on top."""
    unknown = set(overrides) - set(_DEFAULTS)
    if unknown:
        raise TypeError(f"unknown style option(s): {sorted(unknown)}; known: {sorted(_DEFAULTS)}")
    rng = np.random.default_rng([seed, 0x57])
    style: dict[str, Any] = {}
    for name, draw in _DEFAULTS.items():
        value = draw(rng, style)  # always drawn, so the stream never depends on the overrides
        style[name] = _validate(name, overrides[name]) if name in overrides else value
    return style


def drawing_area(style: dict[str, Any]) -> tuple[int, int]:
    """Width and height in px of the sheet (before rotation)."""
    long_side = int(style["size"])
    aspect = float(style["aspect"])
    if aspect >= 1:
        return long_side, max(MIN_SIDE // 2, int(round(long_side / aspect)))
    return max(MIN_SIDE // 2, int(round(long_side * aspect))), long_side


def _size(rng: np.random.Generator, _: dict) -> int:
    # log-uniform 1000..8000 px: most plans are moderate, a few are very large
    return int(round(math.exp(rng.uniform(math.log(1000), math.log(8000)))))


def _aspect(rng: np.random.Generator, _: dict) -> float:
    aspect = float(rng.choice([math.sqrt(2), 4 / 3, 1.5, 1.25]))
    return aspect if rng.random() < 0.75 else 1 / aspect


def _building(rng: np.random.Generator, style: dict) -> float:
    # long side in metres; big sheets hold bigger buildings (the scale stops at 150 px/m)
    at_max_scale = 0.8 * max(drawing_area(style)) / 150.0
    low, high = np.clip(0.5 * at_max_scale, 10.0, 20.0), np.clip(at_max_scale, 26.0, 40.0)
    return round(float(rng.uniform(low, high)), 2)


def _scale(rng: np.random.Generator, style: dict) -> float:
    # a scale at which the building spans 75..100 % of the sheet, within 30..150 px/m
    fraction = rng.random()  # drawn first, whatever the branch, to keep the stream aligned
    usable = 0.8 * max(drawing_area(style))
    high = min(150.0, usable / style["building_m"])
    low = max(30.0, 0.75 * usable / style["building_m"])
    if low > high:
        return 30.0 if high < 30.0 else 150.0
    return round(low + fraction * (high - low), 2)


def _choice(options: tuple, weights: tuple) -> Any:
    def draw(rng: np.random.Generator, _: dict) -> Any:
        return options[int(rng.choice(len(options), p=np.asarray(weights) / sum(weights)))]

    return draw


def _flag(probability: float) -> Any:
    def draw(rng: np.random.Generator, _: dict) -> bool:
        return bool(rng.random() < probability)

    return draw


def _rotation(rng: np.random.Generator, _: dict) -> float:
    return 0.0 if rng.random() < 0.45 else round(float(rng.uniform(-5.0, 5.0)), 2)


def _noise(rng: np.random.Generator, _: dict) -> float:
    return 0.0 if rng.random() < 0.45 else round(float(rng.uniform(2.0, 14.0)), 1)


def _jpeg(rng: np.random.Generator, _: dict) -> int | None:
    return None if rng.random() < 0.6 else int(rng.integers(30, 92))


def _outer_wall(rng: np.random.Generator, _: dict) -> float:
    return round(float(rng.uniform(0.2, 0.4)), 3)


def _inner_wall(rng: np.random.Generator, style: dict) -> float:
    return round(float(rng.uniform(0.08, min(0.2, style["outer_wall_m"]))), 3)


def _room_area(rng: np.random.Generator, _: dict) -> float:
    return round(float(rng.uniform(8.0, 20.0)), 1)


def _pen(rng: np.random.Generator, _: dict) -> float:
    return round(float(rng.uniform(0.7, 1.8)), 2)


_DEFAULTS = {
    "size": _size,
    "aspect": _aspect,
    "building_m": _building,
    "scale_px_per_m": _scale,
    "footprint": _choice(FOOTPRINTS, (0.55, 0.45)),
    "wall": _choice(WALLS, (0.4, 0.3, 0.3)),
    "outer_wall_m": _outer_wall,
    "inner_wall_m": _inner_wall,
    "room_area_m2": _room_area,
    "colour": _choice(COLOURS, (0.6, 0.25, 0.15)),
    "rotation_deg": _rotation,
    "noise": _noise,
    "jpeg_quality": _jpeg,
    "doors": _flag(1.0),
    "windows": _flag(0.85),
    "furniture": _flag(0.7),
    "text": _flag(0.8),
    "dimensions": _flag(0.6),
    "frame": _flag(0.7),
    "stairs": _flag(0.3),
    "wall_fill": _flag(0.3),  # grey poche between double wall lines
    "terrace": _flag(0.3),
    "notes": _flag(0.4),
    "roof": _flag(0.25),  # eaves outline around the building, sometimes with hip lines
    "pen": _pen,  # line width factor
}


def _validate(name: str, value: Any) -> Any:
    checks = {
        "size": lambda v: MIN_SIDE <= int(v) <= MAX_SIDE,
        "aspect": lambda v: 0.4 <= float(v) <= 2.5,
        "building_m": lambda v: 3.0 <= float(v) <= 200.0,
        "scale_px_per_m": lambda v: MIN_SCALE <= float(v) <= MAX_SCALE,
        "footprint": lambda v: v in FOOTPRINTS,
        "wall": lambda v: v in WALLS,
        "outer_wall_m": lambda v: 0.05 <= float(v) <= 1.0,
        "inner_wall_m": lambda v: 0.03 <= float(v) <= 0.5,
        "room_area_m2": lambda v: 4.0 <= float(v) <= 200.0,
        "colour": lambda v: v in COLOURS,
        "rotation_deg": lambda v: -45.0 <= float(v) <= 45.0,
        "noise": lambda v: 0.0 <= float(v) <= 60.0,
        "jpeg_quality": lambda v: v is None or 5 <= int(v) <= 100,
        "pen": lambda v: 0.2 <= float(v) <= 5.0,
    }
    check = checks.get(name, lambda v: isinstance(v, bool))
    if not check(value):
        raise ValueError(f"style option {name}={value!r} is out of range")
    return value
