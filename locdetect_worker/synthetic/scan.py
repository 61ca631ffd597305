"""From an ink layer to something that looks scanned: skew, paper colour, noise, JPEG.

The label image goes through the same rotation (nearest neighbour), so the
ground truth stays exact; noise and compression touch the picture only.
"""

from __future__ import annotations

import cv2
import numpy as np

# (paper, ink) as BGR
_PALETTES = {
    "white": ((255, 255, 255), (0, 0, 0)),
    "grey": ((214, 214, 210), (60, 58, 55)),
    "blue": ((150, 78, 22), (250, 240, 230)),
}


def paper_and_ink(rng: np.random.Generator, colour: str) -> tuple[np.ndarray, np.ndarray]:
    """The two BGR colours of a sheet, jittered a little so no two sheets are identical."""
    paper, ink = (np.asarray(c, np.float64) for c in _PALETTES[colour])
    if colour != "white":
        paper = paper + rng.uniform(-12, 12) + rng.uniform(-6, 6, 3)
        ink = ink + rng.uniform(-15, 15, 3)
    return np.clip(paper, 0, 255), np.clip(ink, 0, 255)


def compose(ink: np.ndarray, paper: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """BGR image where ``ink`` (0..255 coverage) blends ``colour`` over ``paper``."""
    coverage = np.arange(256)[:, None] / 255.0
    table = np.round(paper + (colour - paper) * coverage).astype(np.uint8).reshape(256, 1, 3)
    return cv2.LUT(cv2.cvtColor(ink, cv2.COLOR_GRAY2BGR), table)


def rotate(ink: np.ndarray, labels: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """Rotate the ink layer (bilinear) and the labels (nearest) about the centre, same size.

    Rotating the one-channel ink before colouring is three times cheaper than the picture.
    """
    if degrees == 0:
        return ink, labels
    height, width = labels.shape
    matrix = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), degrees, 1.0)
    ink = cv2.warpAffine(ink, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=0)
    labels = cv2.warpAffine(labels, matrix, (width, height), flags=cv2.INTER_NEAREST, borderValue=0)
    return ink, labels


def degrade(
    rng: np.random.Generator, image: np.ndarray, noise: float, jpeg_quality: int | None
) -> np.ndarray:
    """Scanner noise (blur, grain, specks, uneven light) and JPEG compression."""
    if noise > 0:
        if noise > 6:
            image = cv2.GaussianBlur(image, (3, 3), 0.6)
        height, width = image.shape[:2]
        grain: np.ndarray = np.empty((height, width), np.int16)
        cv2.setRNGSeed(int(rng.integers(2**31)))  # OpenCV's generator is per thread
        cv2.randn(grain, np.array([0.0]), np.array([noise]))
        shade = np.linspace(-noise, noise, width) * rng.uniform(-1, 1)  # uneven lighting
        grain += np.round(shade).astype(np.int16)[None, :]
        # offset to 128 in uint8 so one saturating addWeighted applies it to every channel
        offset = cv2.add(grain, np.array([128.0]), dtype=cv2.CV_8U)
        image = cv2.addWeighted(image, 1.0, cv2.cvtColor(offset, cv2.COLOR_GRAY2BGR), 1.0, -128.0)
        specks = int(rng.integers(0, 40) * height * width / 4e6)
        for _ in range(specks):
            x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
            value = tuple(int(v) for v in image[y, x] // 3)
            cv2.circle(image, (x, y), int(rng.integers(1, 3)), value, -1)
    if jpeg_quality is not None:
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        decoded = cv2.imdecode(data, cv2.IMREAD_COLOR)
        if decoded is None:
            raise RuntimeError("JPEG decoding failed")
        image = decoded
    return image
