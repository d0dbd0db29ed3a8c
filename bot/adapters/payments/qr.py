"""A payment's QR string drawn as a PNG to send in the chat."""

from __future__ import annotations

import io

import segno

MODULE_PIXELS = 10
"""Pixels a QR module: a QRIS of some 230 characters (version 11, 61 modules and the quiet
zone) comes out near 700 pixels a side, sharp in Telegram's preview and on a second screen
held up to a camera."""
QUIET_ZONE = 4
"""Modules of white around the code, as the QR standard asks."""


def qr_png(text: str) -> bytes:
    """A plain black-on-white QR of `text` (error correction M at least, more where it fits in
    the same size) as PNG bytes."""
    code = segno.make_qr(text, error="m")
    out = io.BytesIO()
    code.save(out, kind="png", scale=MODULE_PIXELS, border=QUIET_ZONE)
    return out.getvalue()
