"""Morphology of 0/1 masks with long straight or square kernels, in a few passes.

OpenCV's morphology costs time in proportion to a kernel's length. On a 0/1
mask, an erosion (dilation) along a line is the AND (OR) of a window of
pixels, and a window of ``n`` pixels is two overlapping windows of a power of
two, each built by doubling: about log2(n) passes over the mask whatever its
length; a square is a line along rows, then one along columns. Windows run
down the columns of rows packed 8 px to a byte (lines along rows are
transposed first), so each pass reads an eighth of the mask's bytes. The
results equal OpenCV's with a ``(1, n)``, ``(n, 1)`` or ``(n, n)`` kernel of
ones, its default anchor and default borders.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

Combine = Callable[[np.ndarray, np.ndarray], np.ndarray]


def open_line(mask: np.ndarray, length: int, axis: int) -> np.ndarray:
    """A 0/1 ``uint8`` mask opened with a ``length`` px line along ``axis`` (1: rows, 0: cols)."""
    return unpacked(dilate_packed(erode_packed(packed(mask, axis), length), length), axis, mask)


def erode_line(mask: np.ndarray, length: int, axis: int) -> np.ndarray:
    """A 0/1 ``uint8`` mask eroded with a ``length`` px line along ``axis`` (1: rows, 0: cols)."""
    return unpacked(erode_packed(packed(mask, axis), length), axis, mask)


def dilate_line(mask: np.ndarray, length: int, axis: int) -> np.ndarray:
    """A 0/1 ``uint8`` mask dilated with a ``length`` px line along ``axis`` (1: rows, 0: cols)."""
    return unpacked(dilate_packed(packed(mask, axis), length), axis, mask)


def close_box(mask: np.ndarray, size: int) -> np.ndarray:
    """A 0/1 ``uint8`` mask closed with a ``size`` px square.

    Lines along rows and columns commute, so the dilation along rows and the erosion along
    rows meet in the middle, on rows packed once: columns, rows, rows, columns.
    """
    grown = unpacked(dilate_packed(packed(mask, 0), size), 0, mask)
    closed = unpacked(erode_packed(dilate_packed(packed(grown, 1), size), size), 1, mask)
    return unpacked(erode_packed(packed(closed, 0), size), 0, mask)


def erode_box(mask: np.ndarray, size: int) -> np.ndarray:
    """A 0/1 ``uint8`` mask eroded with a ``size`` px square: a line along rows, then columns."""
    return erode_line(erode_line(mask, size, 1), size, 0)


def dilate_box(mask: np.ndarray, size: int) -> np.ndarray:
    """A 0/1 ``uint8`` mask dilated with a ``size`` px square: a line along rows, then columns."""
    return dilate_line(dilate_line(mask, size, 1), size, 0)


def packed(mask: np.ndarray, axis: int) -> np.ndarray:
    """A 0/1 (H, W) mask's lines along ``axis`` (1: rows, 0: cols) as the columns of rows packed
    8 px to a byte: a window down them reads an eighth of the bytes a pixel window would."""
    if axis not in (0, 1):
        raise ValueError(f"axis must be 0 or 1, got {axis}")
    rows: np.ndarray = mask if axis == 0 else cv2.transpose(mask)
    return np.packbits(rows, axis=1)


def unpacked(lines: np.ndarray, axis: int, like: np.ndarray) -> np.ndarray:
    """The 0/1 ``uint8`` mask, shaped as ``like``, of :func:`packed` ``lines`` along ``axis``."""
    across = like.shape[1 - axis]
    mask = np.unpackbits(lines, axis=1, count=across)
    return mask if axis == 0 else cv2.transpose(mask)


def erode_packed(lines: np.ndarray, length: int) -> np.ndarray:
    """:func:`packed` lines eroded with a ``length`` px line along them."""
    return _window(lines, length, cv2.bitwise_and, 255)


def dilate_packed(lines: np.ndarray, length: int) -> np.ndarray:
    """:func:`packed` lines dilated with a ``length`` px line along them."""
    return _window(lines, length, cv2.bitwise_or, 0)


def _window(lines: np.ndarray, length: int, combine: Combine, border: int) -> np.ndarray:
    """``combine`` over each pixel's window of ``length`` px down :func:`packed` lines;
    ``border`` (a byte) beyond.

    The window runs from ``length // 2`` px before the pixel, as OpenCV anchors a kernel.
    """
    if length < 1:
        raise ValueError(f"need length >= 1, got {length}")
    before, after = length // 2, length - 1 - length // 2
    out = cv2.copyMakeBorder(lines, before, after, 0, 0, cv2.BORDER_CONSTANT, value=border)
    span = 1
    while 2 * span <= length:  # out[i] covers the span px from i
        out = _pair(out, span, combine)
        span *= 2
    if span < length:  # two overlapping spans cover the window
        out = _pair(out, length - span, combine)
    return out


def _pair(out: np.ndarray, shift: int, combine: Combine) -> np.ndarray:
    """``combine`` of each pixel's span with the one ``shift`` px on (adjacent or overlapping)."""
    return combine(out[: len(out) - shift], out[shift:])
