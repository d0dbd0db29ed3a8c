"""A payment's QR as a PNG: a real PNG of a sensible size that a QR reader reads back."""

from __future__ import annotations

import struct
import zlib

import pytest
import zxingcpp

from bot.adapters.payments.qr import MODULE_PIXELS, QUIET_ZONE, qr_png
from tests.adapters.payments.fake_midtrans import QR_STRING

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def grey_pixels(png: bytes) -> tuple[int, int, bytes]:
    """Width, height and one byte a pixel (0 black, 255 white) of a PNG as segno writes it: one
    bit a pixel of grey, rows filtered with None or Up. Checks every chunk's CRC."""
    assert png.startswith(PNG_SIGNATURE)
    at, chunks = len(PNG_SIGNATURE), {}
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind, data = png[at + 4 : at + 8], png[at + 8 : at + 8 + length]
        assert struct.unpack(">I", png[at + 8 + length : at + 12 + length])[0] == zlib.crc32(
            kind + data
        )
        chunks[kind] = chunks.get(kind, b"") + data
        at += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (1, 0) and b"IEND" in chunks
    raw, stride = zlib.decompress(chunks[b"IDAT"]), (width + 7) // 8
    rows: list[bytes] = []
    previous = bytes(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]
        assert kind in (0, 2)
        row = bytes((a + b) & 0xFF for a, b in zip(line, previous, strict=True)) if kind else line
        rows.append(row)
        previous = row
    pixels = bytes(
        255 if row[x // 8] >> (7 - x % 8) & 1 else 0 for row in rows for x in range(width)
    )
    return width, height, pixels


@pytest.mark.parametrize("text", [QR_STRING, "SANDBOX MODE"])
def test_a_qr_png_reads_back(text: str) -> None:
    png = qr_png(text)
    width, height, pixels = grey_pixels(png)
    assert width == height and len(png) < 8_000
    modules = width // MODULE_PIXELS - 2 * QUIET_ZONE
    assert width % MODULE_PIXELS == 0 and (modules - 17) % 4 == 0  # a QR's side: 17 + 4 × version
    image = memoryview(pixels).cast("B", shape=[height, width])
    assert [code.text for code in zxingcpp.read_barcodes(image)] == [text]


def test_a_qris_fits_a_chat_photo() -> None:
    width, _, _ = grey_pixels(qr_png(QR_STRING))
    assert 400 <= width <= 1000
