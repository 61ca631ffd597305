"""Morphology of 0/1 masks with long straight or square kernels, in a few passes.

OpenCV's morphology costs time in proportion to a kernel's length. On a 0/1
mask, an erosion (dilation) along a line is the AND (OR) of a window of
pixels, and a window of ``n`` pixels is two overlapping windows of a power of
two, each built by doubling: about log2(n) passes over the mask whatever its
length; a square is a line along rows, then one along columns. The results
equal OpenCV's with a ``(1, n)``, ``(n, 1)`` or ``(n, n)`` kernel of ones, its
default anchor and default borders.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

Combine = Callable[[np.ndarray, np.ndarray], np.ndarray]


def open_line(mask: np.ndarray, length: int, axis: int) -> np.ndarray:
    """A 0/1 ``uint8`` mask opened with a ``length`` px line along ``axis`` (1: rows, 0: cols)."""
    return _window(_window(mask, length, axis, cv2.bitwise_and, 1), length, axis, cv2.bitwise_or, 0)


def close_line(mask: np.ndarray, length: int, axis: int) -> np.ndarray:
    """A 0/1 ``uint8`` mask closed with a ``length`` px line along ``axis`` (1: rows, 0: cols)."""
    return _window(_window(mask, length, axis, cv2.bitwise_or, 0), length, axis, cv2.bitwise_and, 1)


def erode_line(mask: np.ndarray, length: int, axis: int) -> np.ndarray:
    """A 0/1 ``uint8`` mask eroded with a ``length`` px line along ``axis`` (1: rows, 0: cols)."""
    return _window(mask, length, axis, cv2.bitwise_and, 1)


def dilate_line(mask: np.ndarray, length: int, axis: int) -> np.ndarray:
    """A 0/1 ``uint8`` mask dilated with a ``length`` px line along ``axis`` (1: rows, 0: cols)."""
    return _window(mask, length, axis, cv2.bitwise_or, 0)


def close_box(mask: np.ndarray, size: int) -> np.ndarray:
    """A 0/1 ``uint8`` mask closed with a ``size`` px square."""
    return erode_box(dilate_box(mask, size), size)


def erode_box(mask: np.ndarray, size: int) -> np.ndarray:
    """A 0/1 ``uint8`` mask eroded with a ``size`` px square: a line along rows, then columns."""
    return _window(_window(mask, size, 1, cv2.bitwise_and, 1), size, 0, cv2.bitwise_and, 1)


def dilate_box(mask: np.ndarray, size: int) -> np.ndarray:
    """A 0/1 ``uint8`` mask dilated with a ``size`` px square: a line along rows, then columns."""
    return _window(_window(mask, size, 1, cv2.bitwise_or, 0), size, 0, cv2.bitwise_or, 0)


def _window(mask: np.ndarray, length: int, axis: int, combine: Combine, border: int) -> np.ndarray:
    """``combine`` over each pixel's window of ``length`` px along ``axis``; ``border`` beyond.

    The window runs from ``length // 2`` px before the pixel, as OpenCV anchors a kernel.
    """
    if length < 1 or axis not in (0, 1):
        raise ValueError(f"need length >= 1 and axis 0 or 1, got {length}, {axis}")
    before, after = length // 2, length - 1 - length // 2
    pads = (before, after, 0, 0) if axis == 0 else (0, 0, before, after)
    out = cv2.copyMakeBorder(mask, *pads, cv2.BORDER_CONSTANT, value=border)
    span = 1
    while 2 * span <= length:  # out[i] covers the span px from i
        out = _pair(out, span, axis, combine)
        span *= 2
    if span < length:  # two overlapping spans cover the window
        out = _pair(out, length - span, axis, combine)
    return out


def _pair(out: np.ndarray, shift: int, axis: int, combine: Combine) -> np.ndarray:
    """``combine`` of each pixel's span with the one ``shift`` px on (adjacent or overlapping)."""
    size = out.shape[axis] - shift
    if axis == 0:
        return combine(out[:size], out[shift:])
    return combine(out[:, :size], out[:, shift:])
