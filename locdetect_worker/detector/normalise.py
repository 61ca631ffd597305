"""Any sheet -> a grey page with dark ink on light paper.

Scans come grey or colour, some inverted (white lines on blue or black). The
channel with the most contrast carries the drawing best on coloured sheets;
a page whose paper (the majority of pixels) is dark is inverted.
"""

from __future__ import annotations

import cv2
import numpy as np

STRAY = 3 * np.eye(3, dtype=np.float32) - 1  # each channel x 3 minus the pixel's sum


def paper_grey(image: np.ndarray) -> np.ndarray:
    """(H, W) ``uint8`` grey page, ink dark, from a (H, W) grey or (H, W, 3) BGR ``uint8`` image."""
    if (
        not isinstance(image, np.ndarray)
        or image.dtype != np.uint8
        or not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3))
    ):
        shape = getattr(image, "shape", None)
        raise ValueError(f"expected a uint8 (H, W) or (H, W, 3) image, got {image.dtype} {shape}")
    if image.size == 0:
        raise ValueError(f"the image is empty: shape {image.shape}")
    grey = image if image.ndim == 2 else _most_contrast_channel(image)
    sample = grey[:: max(1, grey.shape[0] // 256), :: max(1, grey.shape[1] // 256)]
    if np.median(sample) < 128:
        grey = cv2.bitwise_not(grey)  # 255 - grey, contiguous
    return np.ascontiguousarray(grey)


def _most_contrast_channel(image: np.ndarray) -> np.ndarray:
    """Luminance for near-grey pages; otherwise the channel whose ink and paper differ most."""
    step = max(1, max(image.shape[:2]) // 512)
    # every step-th pixel of every step-th row, taken as bytes from whole rows: numpy copies a
    # strided view of 3-byte pixels several times slower
    rows = image[::step].reshape(-1, 3 * image.shape[1])
    columns = (3 * np.arange(0, image.shape[1], step)[:, None] + np.arange(3)).ravel()
    small = np.take(rows, columns, axis=1).reshape(len(rows), -1, 3)
    sample = small.astype(np.float32)
    # How far the channels stray from their pixel's mean, |3 x - sum| / 3: whole numbers, which
    # OpenCV's float transform and double-summed norm keep exact.
    chroma = cv2.norm(cv2.transform(sample, STRAY), cv2.NORM_L1) / (3 * sample.size)
    if chroma < 12:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    # Variance, not a percentile range: ink is often under 5 % of a sheet. Exact, in whole
    # numbers: n x (sum of squares) - sum^2 for each channel (sums of bytes are exact in double).
    spreads = [
        channel.size * int(cv2.norm(channel, cv2.NORM_L2SQR)) - int(cv2.sumElems(channel)[0]) ** 2
        for channel in cv2.split(small)
    ]
    return cv2.extractChannel(image, int(np.argmax(spreads)))
