"""The decision PDF and its live HTML preview.

The body (header, căn cứ, articles, signature, nơi nhận: pages 1..k) is laid
out by WeasyPrint from ``templates/recognition/decision/document.html`` and
``static/css/decision-document.css`` — the same template and stylesheet render
the preview in the editor, so the two look alike. The annex is drawn by
ReportLab (:mod:`.annex`, ~7x faster on long tables) with the same fonts, sizes
and margins, its pages numbered after the body's; pypdf merges the two.

Page numbers (RULES.md §6.2): Arabic, 13 pt, centred in the top margin, none
on the first page.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

from recognition.documents import fonts
from recognition.documents.annex import annex_cells, columns_for, render_annex_pdf
from recognition.documents.snapshot import (
    DecisionDoc,
    agency_lines,
    annex_note,
    article_parts,
    format_count,
    legal_basis_lines,
    normalised,
    place_date_line,
    recipient_lines,
    reference,
    signature_lines,
)

TEMPLATE = "recognition/decision/document.html"
#: Annex rows per page, roughly (a one-line row of the 12 pt table): only used
#: to spread the progress reports over the annex.
ROWS_PER_PAGE_ESTIMATE = 30


@dataclass(frozen=True)
class RenderedPdf:
    content: bytes
    page_count: int


def document_context(
    doc: DecisionDoc, *, for_browser: bool, annex_rows: int | None = 0
) -> dict[str, Any]:
    """The template context of ``doc`` (already NFC).

    ``annex_rows``: 0 leaves the annex out (the PDF body: ReportLab draws it),
    ``None`` puts every row in (the naive one-document rendering), ``n`` the
    first n rows and "… và N dòng nữa" (the preview).
    """
    number = None if doc.draft else doc.number
    ref = reference(number, doc.symbol)
    context: dict[str, Any] = {
        "title": f"Quyết định số {ref.strip()}",
        "for_browser": for_browser,
        "font_css": fonts.font_face_css(for_browser=True) if for_browser else "",
        "draft": doc.draft,
        "parent_agency": agency_lines(doc.parent_agency),
        "agency": agency_lines(doc.agency),
        "reference": ref,
        "place_date": place_date_line(doc.place_name, doc.issued_on),
        "summary": doc.summary,
        "authority": doc.authority.upper(),
        "legal_bases": legal_basis_lines(doc.legal_bases),
        "articles": article_parts(doc.articles),
        "signature_lines": signature_lines(
            doc.signing_form, doc.signer_collective, doc.signer_title
        ),
        "signer_name": doc.signer_name,
        "recipients": recipient_lines(doc.recipients),
        "annex": None,
    }
    if doc.rows and annex_rows != 0:
        cols = columns_for(doc.annex_kind)
        more = 0 if annex_rows is None else max(0, len(doc.rows) - annex_rows)
        context["annex"] = {
            "title": doc.annex_title.upper(),
            "note": annex_note(doc),
            "headers": [c.header for c in cols],
            "widths": [f"{c.width_mm:g}" for c in cols],
            "rows": annex_cells(doc, annex_rows),
            "more": format_count(more) if more else "",
        }
    return context


def document_html(doc: DecisionDoc, *, for_browser: bool, annex_rows: int | None = 0) -> str:
    return render_to_string(
        TEMPLATE, document_context(normalised(doc), for_browser=for_browser, annex_rows=annex_rows)
    )


def render_body(doc: DecisionDoc, *, annex_rows: int | None = 0) -> RenderedPdf:
    """The WeasyPrint part: the body pages (or, with ``annex_rows=None``, the
    whole decision as one naive HTML document — the benchmark's baseline)."""
    from weasyprint import HTML

    config, sheets = fonts.weasyprint_resources()
    html = document_html(doc, for_browser=False, annex_rows=annex_rows)
    # WeasyPrint (Pango) is not thread-safe: two renders at once in one process
    # (the threaded dev server running jobs in-process, a thread-pool worker)
    # can crash it. Processes (Celery's default pool) render in parallel.
    with fonts.WEASYPRINT_LOCK:
        document = HTML(string=html, base_url=str(settings.BASE_DIR)).render(
            font_config=config, stylesheets=sheets
        )
        content = document.write_pdf()
    assert content is not None  # noqa: S101 — write_pdf without a target returns bytes
    return RenderedPdf(content=content, page_count=len(document.pages))


def _merge(parts: list[bytes]) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for part in parts:
        writer.append(io.BytesIO(part))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def render_decision_pdf(
    doc: DecisionDoc, *, progress: Callable[[int], None] | None = None
) -> RenderedPdf:
    """The decision as a PDF: the WeasyPrint body, then the ReportLab annex.

    ``progress(percent)`` is called a handful of times (body done, every ~10 %
    of the annex, merged): it writes a row, so never per annex row.
    """
    report = progress or (lambda _percent: None)
    doc = normalised(doc)
    report(1)
    body = render_body(doc)
    if not doc.rows:
        report(100)
        return body
    report(10)

    expected_pages = max(1, math.ceil(len(doc.rows) / ROWS_PER_PAGE_ESTIMATE))
    last = [10]

    def on_page(page: int) -> None:
        percent = 10 + min(80, 80 * page // expected_pages)
        if percent >= last[0] + 10:
            last[0] = percent
            report(percent)

    annex, annex_pages = render_annex_pdf(
        doc, first_page_number=body.page_count + 1, on_page=on_page
    )
    report(92)
    content = _merge([body.content, annex])
    report(100)
    return RenderedPdf(content=content, page_count=body.page_count + annex_pages)


def render_decision_html(doc: DecisionDoc, *, preview_rows: int = 30) -> str:
    """A full HTML document previewing ``doc`` in the browser (for an
    ``<iframe srcdoc>``): the body as the PDF lays it out, then the annex
    heading and its first ``preview_rows`` rows ("… và N dòng nữa")."""
    return document_html(doc, for_browser=True, annex_rows=max(1, preview_rows))
