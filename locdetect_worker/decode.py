"""Blueprint bytes -> page images, refusing hostile input before it costs memory.

The format is decided from the file's magic bytes (an extension only tells us
what the uploader hoped); image dimensions are read from the header and checked
against the pixel limit *before* decoding, so a decompression bomb never
allocates its claimed size. A PDF's pages share one pixel budget, so a document
of many huge sheets cannot multiply it, and conversions work in bands so a
16-bit or transparent image never needs float copies of the whole picture.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from locdetect_worker.errors import JobError

ACCEPTED_EXTENSIONS = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "tif": "image/tiff",
    "tiff": "image/tiff",
    "bmp": "image/bmp",
    "webp": "image/webp",
    "pdf": "application/pdf",
}

PDF_RENDER_DPI = 150
PDFIUM_NO_REASON = 0  # FPDF_ERR_SUCCESS, yet the document did not load
PDFIUM_PASSWORD_ERROR = 4  # FPDF_ERR_PASSWORD
CONVERT_BAND_ROWS = 1024


@dataclass(frozen=True)
class DecodeLimits:
    max_pixels: int = 120_000_000
    max_pdf_pages: int = 50


def content_type_for(name: str) -> str:
    """The MIME type for an accepted file name; ``unsupported_format`` otherwise."""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in ACCEPTED_EXTENSIONS:
        raise JobError("unsupported_format", f"extension {ext or '(none)'!r} is not accepted")
    return ACCEPTED_EXTENSIONS[ext]


def sniff_format(data: bytes) -> str:
    """The container format named by the magic bytes: png, jpeg, bmp, webp, tiff or pdf."""
    if not data:
        raise JobError("decode_failed", "the file is empty (0 bytes)")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8"):
        return "jpeg"
    if data.startswith(b"BM"):
        return "bmp"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if data[:1024].lstrip().startswith(b"%PDF-"):
        return "pdf"
    raise JobError("unsupported_format", f"not an image or PDF (starts with {data[:16]!r})")


def image_size(data: bytes, fmt: str) -> tuple[int, int]:
    """(width, height) read from the header alone."""
    try:
        width, height = _HEADER_READERS[fmt](data)
    except (struct.error, IndexError, ValueError) as exc:
        raise JobError("decode_failed", f"unreadable {fmt} header: {exc}") from None
    if width <= 0 or height <= 0:
        raise JobError("decode_failed", f"{fmt} header gives an empty image {width}x{height}")
    return width, height


def decode_pages(data: bytes, limits: DecodeLimits) -> list[np.ndarray]:
    """Decode a blueprint into BGR ``uint8`` arrays of shape (H, W, 3), one per page."""
    fmt = sniff_format(data)
    if fmt == "pdf":
        return _render_pdf(data, limits)
    width, height = image_size(data, fmt)
    _check_pixels(width, height, limits)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise JobError("decode_failed", f"the {fmt} data could not be decoded (truncated/corrupt)")
    return [_to_bgr8(image)]


def _check_pixels(width: int, height: int, limits: DecodeLimits) -> None:
    if width * height > limits.max_pixels:
        raise JobError(
            "image_too_large",
            f"{width}x{height} = {width * height} pixels exceeds the limit of {limits.max_pixels}",
        )


def _to_bgr8(image: np.ndarray) -> np.ndarray:
    """Normalise depth and channels; transparent areas become white paper."""
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = _bands(image, image.shape[:2] + image.shape[2:], _float_to_uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return _bands(image, image.shape[:2] + (3,), _flatten_alpha)
    return image[:, :, :3] if image.shape[2] > 3 else image


def _bands(
    image: np.ndarray, shape: tuple[int, ...], convert: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Apply ``convert`` a band of rows at a time into a new ``uint8`` array of ``shape``."""
    out = np.empty(shape, np.uint8)
    for top in range(0, image.shape[0], CONVERT_BAND_ROWS):
        out[top : top + CONVERT_BAND_ROWS] = convert(image[top : top + CONVERT_BAND_ROWS])
    return out


def _float_to_uint8(band: np.ndarray) -> np.ndarray:
    scale = 255.0 / float(np.iinfo(band.dtype).max) if band.dtype.kind in "ui" else 255.0
    return np.clip(band.astype(np.float32) * scale, 0, 255).astype(np.uint8)


def _flatten_alpha(band: np.ndarray) -> np.ndarray:
    alpha = band[:, :, 3:4].astype(np.float32) / 255.0
    return (band[:, :, :3] * alpha + 255.0 * (1 - alpha)).astype(np.uint8)


def _render_pdf(data: bytes, limits: DecodeLimits) -> list[np.ndarray]:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code == PDFIUM_PASSWORD_ERROR:
            raise JobError("decode_failed", "the PDF is encrypted (needs a password)") from None
        if code == PDFIUM_NO_REASON:  # PDFium refuses e.g. an empty page tree this way
            raise JobError("decode_failed", "the PDF has no usable pages") from None
        raise JobError("decode_failed", f"the PDF could not be opened: {exc}") from None
    try:
        count = len(document)
        if count == 0:
            raise JobError("decode_failed", "the PDF has no pages")
        if count > limits.max_pdf_pages:
            raise JobError(
                "image_too_large",
                f"the PDF has {count} pages, over the limit of {limits.max_pdf_pages}",
            )
        scale = _pdf_scale([document[index].get_size() for index in range(count)], limits)
        pages = []
        for index in range(count):
            bitmap = document[index].render(scale=scale, grayscale=False)
            pages.append(np.ascontiguousarray(bitmap.to_numpy()[:, :, :3]))
        return pages
    finally:
        document.close()


def _pdf_scale(sizes: list[tuple[float, float]], limits: DecodeLimits) -> float:
    """Render at ``PDF_RENDER_DPI``, or smaller when all pages together exceed the pixel limit."""
    scale = PDF_RENDER_DPI / 72.0
    pixels = sum(width * height for width, height in sizes) * scale * scale
    if pixels > limits.max_pixels:  # render huge sheets smaller instead of refusing them
        scale *= (limits.max_pixels / pixels) ** 0.5
    return scale


def _png_size(data: bytes) -> tuple[int, int]:
    if data[12:16] != b"IHDR":
        raise ValueError("missing IHDR chunk")
    return struct.unpack(">II", data[16:24])


def _jpeg_size(data: bytes) -> tuple[int, int]:
    pos = 2
    while pos + 9 < len(data):
        if data[pos] != 0xFF:
            raise ValueError(f"bad marker at byte {pos}")
        marker = data[pos + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        pos += 2 + length
    raise ValueError("no frame header (SOF) found")


def _bmp_size(data: bytes) -> tuple[int, int]:
    width, height = struct.unpack("<ii", data[18:26])
    return width, abs(height)


def _webp_size(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    raise ValueError(f"unknown WebP chunk {chunk!r}")


def _tiff_size(data: bytes) -> tuple[int, int]:
    order = "<" if data[:2] == b"II" else ">"
    ifd = struct.unpack(order + "I", data[4:8])[0]
    count = struct.unpack(order + "H", data[ifd : ifd + 2])[0]
    found: dict[int, int] = {}
    for i in range(count):
        entry = data[ifd + 2 + 12 * i : ifd + 14 + 12 * i]
        tag, kind = struct.unpack(order + "HH", entry[:4])
        if tag in (256, 257):
            fmt = order + ("H" if kind == 3 else "I")
            found[tag] = struct.unpack(fmt, entry[8 : 8 + struct.calcsize(fmt)])[0]
    if 256 not in found or 257 not in found:
        raise ValueError("no ImageWidth/ImageLength tags")
    return found[256], found[257]


_HEADER_READERS = {
    "png": _png_size,
    "jpeg": _jpeg_size,
    "bmp": _bmp_size,
    "webp": _webp_size,
    "tiff": _tiff_size,
}
