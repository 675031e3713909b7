"""A QR payload rendered as a PNG large enough to scan from a screen."""

from __future__ import annotations

import io
import math
import struct

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from qrcode.image.pure import PyPNGImage

MIN_SIZE_PX = 480


def qr_png(payload: str, min_size: int = MIN_SIZE_PX) -> bytes:
    """A black-on-white PNG of `payload`, at least `min_size` pixels wide, with a quiet zone."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4, image_factory=PyPNGImage)
    code.add_data(payload)
    code.make(fit=True)
    modules = code.modules_count + 2 * code.border
    code.box_size = max(4, math.ceil(min_size / modules))
    out = io.BytesIO()
    code.make_image().save(out)
    return out.getvalue()


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) of a PNG, read from its header."""
    return struct.unpack(">II", data[16:24])
