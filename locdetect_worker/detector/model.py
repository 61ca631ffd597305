"""The detector's output type."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DetectedRoom:
    """One room: ``polygon`` is (N, 2) int32 (x, y) in source pixels; ``confidence`` in 0..1."""

    polygon: np.ndarray
    confidence: float
