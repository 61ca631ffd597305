"""Baseline room detector (to be replaced by the full pipeline)."""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.detector.model import DetectedRoom


def detect_rooms(image: np.ndarray) -> list[DetectedRoom]:
    """Rooms in a plan image: (H, W, 3) BGR or (H, W) grey ``uint8``."""
    if image.ndim not in (2, 3) or image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 (H, W) or (H, W, 3) image, got {image.dtype} {image.shape}")
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    _, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    scale = max(grey.shape) / 1000.0
    k = max(3, int(round(4 * scale)) | 1)
    walls = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
    gap = max(3, int(round(25 * scale)) | 1)
    closed = cv2.morphologyEx(walls, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (gap, gap)))
    free = cv2.bitwise_not(closed)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(free, connectivity=4)
    height, width = grey.shape
    min_area = 0.002 * height * width
    rooms = []
    for label in range(1, count):
        x, y, w, h, area = stats[label]
        if area < min_area or x == 0 or y == 0 or x + w >= width or y + h >= height:
            continue
        mask = (labels == label).astype(np.uint8)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        contour = max(contours, key=cv2.contourArea)
        poly = cv2.approxPolyDP(contour, 0.01 * cv2.arcLength(contour, True), True).reshape(-1, 2)
        rooms.append(DetectedRoom(polygon=poly.astype(np.int32), confidence=0.5))
    return rooms
