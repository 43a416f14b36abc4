"""The plan as a PDF in the state format (Nghị định 30/2020/NĐ-CP, Phụ lục I,
like the decisions: RULES.md §6).

Header (agency block and national title, "Số: 734/KH-UBND", place and date),
"KẾ HOẠCH" and the title, the "Thực hiện …" / căn cứ lines, the text sections
numbered I., II., … (a heading already numbered keeps its number), then the
phases, the targets and the deadlines as tables, the signature and nơi nhận.

The text of the document is Vietnamese by law and written here directly, as
the decision renderer does. Rendered synchronously with WeasyPrint (a plan is
a few pages: measured 0.11 s for two pages once the fonts are loaded), reusing the decision's fonts,
stylesheet and process-wide lock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

from campaigns.models import DeadlineKind, Plan, ReviewKind, TargetKind
from campaigns.selectors.plans import plan_phases, plan_sections, plan_targets
from campaigns.services.plans import format_value
from recognition.documents import fonts
from recognition.documents.snapshot import (
    agency_in_sentence,
    agency_lines,
    legal_basis_lines,
    nfc,
    place_date_line,
    recipient_lines,
    reference,
    signature_lines,
)
from units.levels import Level

TEMPLATE = "campaigns/plan_document.html"

TITLE_VI = {
    "gia_dinh": "Gia đình học tập",
    "dong_ho": "Dòng họ học tập",
    "cong_dong": "Cộng đồng học tập",
    "don_vi": "Đơn vị học tập",
    "cong_dan": "Công dân học tập",
}
REVIEW_VI: dict[str, str] = {ReviewKind.INTERIM: "Sơ kết", ReviewKind.FINAL: "Tổng kết"}
DEADLINE_VI: dict[str, str] = {
    DeadlineKind.REGISTRATION: "Hết hạn đăng ký",
    DeadlineKind.ASSESSMENT: "Hạn tự đánh giá",
    DeadlineKind.DOSSIER: "Hạn nộp hồ sơ đề nghị công nhận",
    DeadlineKind.DECISION: "Hạn ban hành quyết định công nhận",
    DeadlineKind.REPORT: "Hạn báo cáo",
}
LEVEL_VI: dict[str, str] = {
    Level.PROVINCE: "Cấp tỉnh",
    Level.DISTRICT: "Cấp huyện",
    Level.COMMUNE: "Cấp xã",
    Level.NEIGHBOURHOOD: "Khu phố, ấp, thôn",
}
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV")
_NUMBERED = re.compile(r"^\s*([IVXLC]+|\d+|[a-zđ])[.)]\s", re.IGNORECASE)


@dataclass(frozen=True)
class DocSection:
    heading: str
    paragraphs: list[str]


def roman(n: int) -> str:
    return ROMAN[n - 1] if 0 < n <= len(ROMAN) else str(n)


_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}


def _written_number(heading: str) -> int | None:
    """The roman number a heading already starts with ("III. …" -> 3), else None."""
    if not _NUMBERED.match(heading):
        return None
    letters = heading.split(".", 1)[0].strip().upper()
    if not letters or any(ch not in _ROMAN_VALUES for ch in letters):
        return 0  # numbered some other way ("1.", "a)"): do not count it
    total = 0
    for ch, nxt in zip(letters, [*letters[1:], ""], strict=True):
        value = _ROMAN_VALUES[ch]
        total += -value if nxt and _ROMAN_VALUES[nxt] > value else value
    return total


def _paragraphs(body: str) -> list[str]:
    return [line for line in (nfc(x).strip() for x in body.splitlines()) if line]


def _signature(plan: Plan) -> list[str]:
    """ "TM. ỦY BAN NHÂN DÂN" above the signer's lines ("KT. CHỦ TỊCH",
    "PHÓ CHỦ TỊCH"); a chairman signing for the committee by default."""
    agency = nfc(plan.agency).upper()
    lines = [line.strip() for line in nfc(plan.signer_title).splitlines() if line.strip()]
    if not lines:
        lines = ["CHỦ TỊCH"]
    collective = "ỦY BAN NHÂN DÂN" if agency.startswith(("ỦY BAN NHÂN DÂN", "UỶ BAN")) else ""
    if collective and not lines[0].upper().startswith(("TM.", "TL.", "TUQ.")):
        return signature_lines("TM.", collective + "\n" + "\n".join(lines[:-1]), lines[-1])
    return signature_lines("", "\n".join(lines[:-1]), lines[-1])


def plan_context(plan: Plan, *, for_browser: bool = False) -> dict[str, Any]:
    sections: list[DocSection] = []
    numbered = 0

    def add(heading: str, paragraphs: list[str]) -> None:
        nonlocal numbered
        heading = nfc(heading).strip()
        written = _written_number(heading)
        if written is None:
            numbered += 1
            heading = f"{roman(numbered)}. {heading.upper()}"
        else:  # the user numbered it ("I. MỤC ĐÍCH, YÊU CẦU"): the tables follow on
            numbered = max(numbered, written)
        sections.append(DocSection(heading=heading, paragraphs=paragraphs))

    for section in plan_sections(plan):
        add(section.heading, _paragraphs(section.body))

    phases = [
        {
            "name": nfc(p.name),
            "period": f"{p.start_year} – {p.end_year}",
            "review": REVIEW_VI.get(p.review_kind, p.review_kind),
            "due": p.review_due.strftime("%d/%m/%Y"),
        }
        for p in plan_phases(plan)
    ]
    targets = [
        {
            "title": TITLE_VI.get(t.title, t.title),
            "year": str(t.year),
            "unit": nfc(t.unit.name),
            "value": format_value(t.value, t.kind),
            "kind": "Tỷ lệ" if t.kind == TargetKind.RATE else "Số lượng",
        }
        for t in plan_targets(plan)
    ]
    deadlines = [
        {
            "what": nfc(d.label) or DEADLINE_VI.get(d.kind, d.kind),
            "title": TITLE_VI.get(d.title, ""),
            "level": LEVEL_VI.get(d.level, d.level),
            "due": d.due_on.strftime("%d/%m/%Y"),
        }
        for d in plan.deadlines.order_by("due_on", "pk")
    ]
    tables: list[dict[str, Any]] = []
    if phases:
        numbered += 1
        tables.append({"kind": "phases", "heading": f"{roman(numbered)}. TIẾN ĐỘ THỰC HIỆN"})
    if targets:
        numbered += 1
        tables.append({"kind": "targets", "heading": f"{roman(numbered)}. CHỈ TIÊU"})
    if deadlines:
        numbered += 1
        tables.append({"kind": "deadlines", "heading": f"{roman(numbered)}. THỜI HẠN BÁO CÁO"})
    closing = ""
    ends = [
        (i, j)
        for i, sec in enumerate(sections)
        for j, text in enumerate(sec.paragraphs)
        if text.startswith("Trên đây là")
    ]
    if ends:
        i, j = ends[-1]
        text = sections[i].paragraphs[j]
        if not text.endswith("/."):
            sections[i].paragraphs[j] = text.rstrip(" .;,") + "./."
    else:
        by = agency_in_sentence(" ".join(plan.agency.splitlines()))
        closing = (
            f"Trên đây là Kế hoạch của {by}; đề nghị các cơ quan, đơn vị căn cứ "
            "tổ chức thực hiện./."
        )
    recipients = recipient_lines(plan.recipients.splitlines() or ["Lưu: VT"])
    return {
        "title": f"Kế hoạch số {reference(plan.number, plan.symbol).strip()}",
        "for_browser": for_browser,
        "font_css": fonts.font_face_css(for_browser=True) if for_browser else "",
        "agency": agency_lines(plan.agency),
        "reference": reference(plan.number, plan.symbol),
        "place_date": place_date_line(plan.place_name, plan.issued_on),
        "plan_title": [line for line in nfc(plan.title).splitlines() if line] or [""],
        "legal_bases": legal_basis_lines(plan.legal_bases.splitlines()),
        "sections": sections,
        "tables": tables,
        "phases": phases,
        "targets": targets,
        "deadlines": deadlines,
        "signature_lines": _signature(plan),
        "signer_name": nfc(plan.signer_name),
        "recipients": recipients,
        "closing": closing,
    }


def plan_html(plan: Plan, *, for_browser: bool = False) -> str:
    return render_to_string(TEMPLATE, plan_context(plan, for_browser=for_browser))


def render_plan_pdf(plan: Plan) -> bytes:
    """The plan as PDF bytes (WeasyPrint, serialised per process)."""
    from weasyprint import HTML

    config, sheets = fonts.weasyprint_resources()
    html = plan_html(plan)
    with fonts.WEASYPRINT_LOCK:
        content = (
            HTML(string=html, base_url=str(settings.BASE_DIR))
            .render(font_config=config, stylesheets=sheets)
            .write_pdf()
        )
    assert content is not None  # noqa: S101 — write_pdf without a target returns bytes
    return content


def pdf_file_name(plan: Plan) -> str:
    number = f"{plan.number:02d}" if plan.number else "du-thao"
    return f"KH-{number}-{plan.issued_on.year if plan.issued_on else plan.start_year}.pdf"
