"""Grey page -> ink mask, robust to grey paper, JPEG noise and grey fill.

The threshold sits between the paper level and the darkest ink level (both
from percentiles), so a light-grey "unknown" fill or scan shading is paper,
and a faded scan still gives its lines.
"""

from __future__ import annotations

import numpy as np

from locdetect_worker.detector._checks import check_mask


def ink_mask(grey: np.ndarray) -> np.ndarray:
    """(H, W) ``uint8`` mask, 1 = ink, of an (H, W) ``uint8`` grey page with dark ink."""
    check_mask(grey, "grey")
    step = max(1, max(grey.shape) // 1024)
    sample = grey[::step, ::step]
    paper = float(np.percentile(sample, 90))
    dark = float(np.percentile(sample, 0.5))
    if paper - dark < 40:  # a blank or nearly uniform page: nothing is ink
        return np.zeros_like(grey)
    threshold = dark + 0.7 * (paper - dark)
    return (grey < threshold).astype(np.uint8)
