"""Input validation shared by the detector's steps: fail early, with the offending shape."""

from __future__ import annotations

import numpy as np


def check_mask(array: np.ndarray, name: str = "mask") -> None:
    """Raise ``ValueError`` unless ``array`` is a 2-D ``uint8`` array."""
    if not isinstance(array, np.ndarray) or array.ndim != 2 or array.dtype != np.uint8:
        shape = getattr(array, "shape", None)
        dtype = getattr(array, "dtype", type(array).__name__)
        raise ValueError(f"{name} must be a uint8 (H, W) array, got {dtype} {shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty: shape {array.shape}")


def check_labels(labels: np.ndarray) -> None:
    """Raise ``ValueError`` unless ``labels`` is a 2-D ``int32`` label image."""
    if labels.ndim != 2 or labels.dtype != np.int32:
        raise ValueError(f"labels must be an int32 (H, W) array, got {labels.dtype} {labels.shape}")
