"""Giấy công nhận: one A4 landscape page per recognised household, clan or
citizen, drawn directly on a ReportLab canvas (a thousand pages in seconds).

Each page carries a QR code pointing to the public verification page
``<verify_base_url>/verify/<token>``, with the URL printed small under it so it
can be typed. The QR matrix comes from the ``qrcode`` library and is drawn as
filled rectangles (one per horizontal run of dark modules): vector, sharp at
any zoom, and much faster than embedding an image per page.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
from collections.abc import Callable, Sequence
from typing import Any

from recognition.documents import fonts
from recognition.documents.decision_pdf import RenderedPdf
from recognition.documents.snapshot import (
    agency_in_sentence,
    nfc,
    place_date_line,
    signature_lines,
)

MM = 72 / 25.4
PAGE_WIDTH = 297 * MM
PAGE_HEIGHT = 210 * MM
CENTRE_X = PAGE_WIDTH / 2
#: The dark red of the border and the "GIẤY CÔNG NHẬN" heading.
ACCENT = (0.55, 0.08, 0.08)
QR_SIZE = 26 * MM

ADDRESS_LABEL = {"clan": "Người đại diện"}


@dataclasses.dataclass(frozen=True)
class CertificateDoc:
    token: str
    subject_name: str
    subject_kind: str
    address: str
    title_label: str  # e.g. "Gia đình học tập"
    year: int
    agency: str
    parent_agency: str
    place_name: str
    decision_reference: str
    decision_date: datetime.date
    signing_form: str
    signer_collective: str
    signer_title: str
    signer_name: str


def verify_url(verify_base_url: str, token: str) -> str:
    return f"{verify_base_url.rstrip('/')}/verify/{token}"


def _qr_matrix(data: str) -> list[list[bool]]:
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0, box_size=1)
    qr.add_data(data)
    qr.make(fit=True)
    return [list(row) for row in qr.get_matrix()]


def draw_qr(canvas: Any, data: str, x: float, y: float, size: float) -> None:
    """The QR code of ``data`` with its lower left corner at (x, y)."""
    matrix = _qr_matrix(data)
    n = len(matrix)
    module = size / n
    path = canvas.beginPath()
    for r, row in enumerate(matrix):
        top = y + size - (r + 1) * module
        c = 0
        while c < n:
            if row[c]:
                start = c
                while c < n and row[c]:
                    c += 1
                path.rect(x + start * module, top, (c - start) * module, module)
            else:
                c += 1
    canvas.saveState()
    canvas.setFillColorRGB(0, 0, 0)
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()


def _fit(canvas: Any, text: str, font: str, size: float, max_width: float, floor: float) -> float:
    """The largest size from ``size`` down to ``floor`` at which ``text`` fits."""
    while size > floor and canvas.stringWidth(text, font, size) > max_width:
        size -= 0.5
    return size


def _centred_lines(
    canvas: Any,
    text: str,
    *,
    font: str,
    size: float,
    x: float,
    y: float,
    width: float,
    leading: float | None = None,
) -> float:
    """Draw ``text`` wrapped to ``width``, centred on ``x``; return the next baseline."""
    from reportlab.lib.utils import simpleSplit

    leading = leading or size * 1.25
    canvas.setFont(font, size)
    for line in simpleSplit(text, font, size, width):
        canvas.drawCentredString(x, y, line)
        y -= leading
    return y


def _draw_border(canvas: Any) -> None:
    canvas.saveState()
    canvas.setStrokeColorRGB(*ACCENT)
    canvas.setFillColorRGB(*ACCENT)
    outer, inner = 8 * MM, 11.5 * MM
    canvas.setLineWidth(3)
    canvas.rect(outer, outer, PAGE_WIDTH - 2 * outer, PAGE_HEIGHT - 2 * outer)
    canvas.setLineWidth(0.8)
    canvas.rect(inner, inner, PAGE_WIDTH - 2 * inner, PAGE_HEIGHT - 2 * inner)
    # A small diamond in each corner, between the two frames.
    mid = (outer + inner) / 2
    d = 2.6 * MM
    for cx, cy in (
        (mid, mid),
        (PAGE_WIDTH - mid, mid),
        (mid, PAGE_HEIGHT - mid),
        (PAGE_WIDTH - mid, PAGE_HEIGHT - mid),
    ):
        path = canvas.beginPath()
        path.moveTo(cx, cy + d)
        path.lineTo(cx + d, cy)
        path.lineTo(cx, cy - d)
        path.lineTo(cx - d, cy)
        path.close()
        canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()


def _draw_certificate(canvas: Any, cert: CertificateDoc, url: str) -> None:
    _draw_border(canvas)
    text_width = PAGE_WIDTH - 60 * MM

    # National title and motto (a line under the motto as long as the text).
    y = PAGE_HEIGHT - 27 * MM
    canvas.setFont(fonts.BOLD, 13)
    canvas.drawCentredString(CENTRE_X, y, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    y -= 16
    motto = "Độc lập - Tự do - Hạnh phúc"
    canvas.setFont(fonts.BOLD, 14)
    canvas.drawCentredString(CENTRE_X, y, motto)
    half = canvas.stringWidth(motto, fonts.BOLD, 14) / 2
    canvas.setLineWidth(0.75)
    canvas.line(CENTRE_X - half, y - 3, CENTRE_X + half, y - 3)

    # The issuing agency.
    y -= 34
    if cert.parent_agency:
        canvas.setFont(fonts.REGULAR, 13)
        canvas.drawCentredString(CENTRE_X, y, cert.parent_agency.upper())
        y -= 17
    y = _centred_lines(
        canvas, cert.agency.upper(), font=fonts.BOLD, size=15, x=CENTRE_X, y=y, width=text_width
    )

    # GIẤY CÔNG NHẬN
    y -= 42
    canvas.saveState()
    canvas.setFillColorRGB(*ACCENT)
    canvas.setFont(fonts.BOLD, 38)
    canvas.drawCentredString(CENTRE_X, y, "GIẤY CÔNG NHẬN")
    canvas.restoreState()

    # Công nhận: <name>
    y -= 52
    label = "Công nhận: "
    size = _fit(
        canvas,
        cert.subject_name,
        fonts.BOLD,
        24,
        text_width - canvas.stringWidth(label, fonts.ITALIC, 16),
        15,
    )
    label_w = canvas.stringWidth(label, fonts.ITALIC, 16)
    name_w = canvas.stringWidth(cert.subject_name, fonts.BOLD, size)
    x = CENTRE_X - (label_w + name_w) / 2
    canvas.setFont(fonts.ITALIC, 16)
    canvas.drawString(x, y, label)
    canvas.setFont(fonts.BOLD, size)
    canvas.drawString(x + label_w, y, cert.subject_name)

    if cert.address:
        y -= 28
        label = ADDRESS_LABEL.get(cert.subject_kind, "Địa chỉ")
        y = _centred_lines(
            canvas,
            f"{label}: {cert.address}",
            font=fonts.REGULAR,
            size=15,
            x=CENTRE_X,
            y=y,
            width=text_width,
        )
        y += 15 * 1.25
    y -= 38
    achieved = f"Đạt danh hiệu “{cert.title_label}” năm {cert.year}"
    size = _fit(canvas, achieved, fonts.BOLD, 20, text_width, 14)
    canvas.setFont(fonts.BOLD, size)
    canvas.drawCentredString(CENTRE_X, y, achieved)

    y -= 28
    by = agency_in_sentence(cert.agency)
    _centred_lines(
        canvas,
        f"(Theo Quyết định số {cert.decision_reference} "
        f"{place_date_line('', cert.decision_date)} của {by})",
        font=fonts.ITALIC,
        size=13,
        x=CENTRE_X,
        y=y,
        width=text_width,
    )

    # Bottom right: place and date, the signature block.
    sign_x = PAGE_WIDTH - 80 * MM
    y = 72 * MM
    canvas.setFont(fonts.ITALIC, 14)
    canvas.drawCentredString(sign_x, y, place_date_line(cert.place_name, cert.decision_date))
    y -= 19
    canvas.setFont(fonts.BOLD, 14)
    for line in signature_lines(cert.signing_form, cert.signer_collective, cert.signer_title):
        canvas.drawCentredString(sign_x, y, line)
        y -= 17
    canvas.setFont(fonts.BOLD, 14)
    canvas.drawCentredString(sign_x, 24 * MM, cert.signer_name)

    # Bottom left: the QR code to the verification page, the URL under it.
    qr_x = 24 * MM
    qr_y = 26 * MM
    draw_qr(canvas, url, qr_x, qr_y, QR_SIZE)
    canvas.setFont(fonts.REGULAR, 6.5)
    from reportlab.lib.utils import simpleSplit

    line_y = qr_y - 9
    for line in simpleSplit(url, fonts.REGULAR, 6.5, 75 * MM):
        canvas.drawString(qr_x, line_y, line)
        line_y -= 8
    canvas.setFont(fonts.ITALIC, 8)
    canvas.drawString(qr_x, qr_y + QR_SIZE + 5, "Quét mã để kiểm tra giấy công nhận")


def _normalised(cert: CertificateDoc) -> CertificateDoc:
    """The same certificate with every string NFC and stripped."""
    changes: dict[str, Any] = {
        f.name: nfc(getattr(cert, f.name)).strip()
        for f in dataclasses.fields(cert)
        if isinstance(getattr(cert, f.name), str)
    }
    return dataclasses.replace(cert, **changes)


def render_certificates_pdf(
    certs: Sequence[CertificateDoc],
    *,
    verify_base_url: str,
    progress: Callable[[int], None] | None = None,
) -> RenderedPdf:
    """All certificates in one PDF, one A4 landscape page each.

    ``progress(percent)`` is called about every 10 % of the pages.
    """
    from reportlab.pdfgen.canvas import Canvas

    fonts.register_reportlab_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), invariant=True)
    canvas.setTitle("Giấy công nhận")
    total = len(certs)
    step = max(1, total // 10)
    for index, cert in enumerate(certs, start=1):
        cert = _normalised(cert)
        _draw_certificate(canvas, cert, verify_url(verify_base_url, cert.token))
        canvas.showPage()
        if progress is not None and (index % step == 0 or index == total):
            progress(100 * index // total)
    canvas.save()
    return RenderedPdf(content=buffer.getvalue(), page_count=total)
