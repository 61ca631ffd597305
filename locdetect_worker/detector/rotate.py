"""Turn a page upright, keeping the way back to its own pixels.

The canvas grows to hold the whole turned page, new corners are paper, and
the inverse affine map takes points found on the upright page back to the
page as it came. Bilinear sampling spreads a one-pixel line over two rows
at half its darkness, which no threshold keeps whole; nearest sampling keeps
it whole but jagged. Each pixel takes the darker of the two.
"""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.detector._checks import check_mask


def rotate_page(grey: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """(rotated (H', W') ``uint8`` page, (2, 3) ``float64`` map from rotated to input pixels).

    ``grey`` is (H, W) ``uint8`` with light paper; ``degrees`` counter-clockwise.
    """
    check_mask(grey, "grey")
    height, width = grey.shape
    forward = cv2.getRotationMatrix2D((width / 2.0, height / 2.0), degrees, 1.0)
    cos, sin = abs(forward[0, 0]), abs(forward[0, 1])
    new_width = int(np.ceil(width * cos + height * sin))
    new_height = int(np.ceil(width * sin + height * cos))
    forward[0, 2] += (new_width - width) / 2.0
    forward[1, 2] += (new_height - height) / 2.0
    paper = int(np.percentile(grey[:: max(1, height // 64), :: max(1, width // 64)], 90))
    smooth, whole = (
        cv2.warpAffine(
            grey,
            forward,
            (new_width, new_height),
            flags=flags,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=paper,
        )
        for flags in (cv2.INTER_LINEAR, cv2.INTER_NEAREST)
    )
    return np.minimum(smooth, whole, out=smooth), cv2.invertAffineTransform(forward)
