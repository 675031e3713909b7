"""WhatsApp login QRs drawn on the server as inline SVG (no image service, no script)."""

from __future__ import annotations

import html
import re

import qrcode
from qrcode.image.svg import SvgPathFillImage

_START_TAG = re.compile(r"<svg\b[^>]*>")
_SIZE_ATTR = re.compile(r'\s(?:width|height)="[^"]*"')


def qr_svg(payload: str, label: str = "QR") -> str:
    """The QR for `payload` as one `<svg>` element that scales to its container.

    The payload is only encoded into the picture, never copied into the markup.
    """
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4)
    qr.add_data(payload)
    qr.make(fit=True)
    svg = qr.make_image(image_factory=SvgPathFillImage).to_string(encoding="unicode")
    start = _START_TAG.match(svg)
    if start is None:  # the library changed its output: fail loudly, not with a broken page
        raise ValueError("qrcode produced no <svg> element")
    # The fixed millimetre size would defeat the CSS sizing; the viewBox keeps the shape.
    tag = _SIZE_ATTR.sub("", start.group(0))
    extra = f' class="qr-svg" role="img" aria-label="{html.escape(label)}" shape-rendering="crispEdges"'
    return tag.replace("<svg", "<svg" + extra, 1) + svg[start.end():]
