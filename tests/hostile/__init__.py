"""Hostile blueprints, built at run time: each is a few bytes to a few hundred KiB.

Used by the decoder's unit tests and the worker's end-to-end corpus test, so
nothing binary is committed and every file says how it was made.
"""

from __future__ import annotations

import hashlib
import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The 32-byte padding string of the PDF Standard security handler (ISO 32000-1, 7.6.3.3).
PDF_PASSWORD_PAD = bytes.fromhex("28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a")


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A well-formed PNG whose header claims ``width`` x ``height`` but holds one row of data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    one_row = zlib.compress(b"\x00" * (min(width, 4096) + 1))
    return (
        PNG_SIGNATURE
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", one_row)
        + png_chunk(b"IEND", b"")
    )


def png_bomb(side: int) -> bytes:
    """A valid greyscale PNG of ``side`` x ``side`` white pixels: a small file, a huge image."""
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    compressor = zlib.compressobj()
    row = b"\x00" + b"\xff" * side
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    return (
        PNG_SIGNATURE
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", data)
        + png_chunk(b"IEND", b"")
    )


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    return data[: int(len(data) * keep)]


TEXT_NAMED_PNG = b"Level 2 plan - see attached drawing.\nThis is a text file, not an image.\n"


def pdf_file(objects: list[bytes], trailer: bytes = b"") -> bytes:
    """A PDF with a correct cross-reference table; object 1 is the catalog."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\n" % (len(objects) + 1, trailer)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def pdf_without_pages() -> bytes:
    return pdf_with_pages([])


def pdf_with_pages(
    sizes: list[tuple[int, int]], extra: tuple[bytes, ...] = (), trailer: bytes = b""
) -> bytes:
    """A PDF of empty pages, one per (width, height) in points; ``extra`` objects follow them."""
    kids = b" ".join(b"%d 0 R" % (3 + index) for index in range(len(sizes)))
    pages = [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] >>" % size for size in sizes]
    return pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(sizes)),
            *pages,
            *extra,
        ],
        trailer,
    )


def encrypted_pdf(user_password: bytes = b"secret", owner_password: bytes = b"owner") -> bytes:
    """A one-page PDF encrypted with the Standard handler (RC4 40-bit, revision 2).

    It holds no strings or streams, so only the /O and /U entries need
    computing (Algorithms 2, 3 and 4 of ISO 32000-1, 7.6.3); a reader must be
    given ``user_password`` (or the owner password) to open it.
    """
    file_id = hashlib.md5(b"locdetect hostile corpus").digest()
    permissions = -4
    owner_key = hashlib.md5(_padded(owner_password)).digest()[:5]
    owner_entry = _rc4(owner_key, _padded(user_password))
    key = hashlib.md5(
        _padded(user_password) + owner_entry + struct.pack("<i", permissions) + file_id
    ).digest()[:5]
    user_entry = _rc4(key, PDF_PASSWORD_PAD)
    encrypt = b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P %d >>" % (
        owner_entry.hex().encode(),
        user_entry.hex().encode(),
        permissions,
    )
    trailer = b"/Encrypt 4 0 R /ID [<%s> <%s>] " % (file_id.hex().encode(), file_id.hex().encode())
    return pdf_with_pages([(200, 200)], (encrypt,), trailer)


def _padded(password: bytes) -> bytes:
    return (password + PDF_PASSWORD_PAD)[:32]


def _rc4(key: bytes, data: bytes) -> bytes:
    state = list(range(256))
    j = 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        out.append(byte ^ state[(state[i] + state[j]) % 256])
    return bytes(out)
