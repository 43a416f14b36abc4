"""What a decision shows, and the text rules of Nghị định 30/2020 (RULES.md §6.2).

:class:`DecisionDoc` is a plain, frozen snapshot: the renderers never touch the
database, so a decision renders the same in the Celery job, the preview, the
tests and the benchmark. :func:`decision_doc_from` builds it from a
:class:`~recognition.models.Decision` with one flat query for the annex.

The text of the document is Vietnamese by law, so it is written here directly
(not translated): "Số:", "ngày … tháng … năm …", "Kèm theo Quyết định số …".
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from recognition.models import Decision

#: Written in articles, summary and annex heading; replaced by the annex count
#: (the same constant as ``recognition.services.decision.COUNT_PLACEHOLDER``).
COUNT_PLACEHOLDER = "{số lượng}"

#: A blank number in a draft: "Số:      /QĐ-UBND" (no-break spaces survive HTML).
BLANK_NUMBER = "\u00a0" * 6
#: A blank day/month/year in a draft without a date.
BLANK_DATE_PART = "\u00a0" * 5


@dataclass(frozen=True)
class AnnexRow:
    """One recognised subject, as the annex prints it."""

    code: str
    name: str
    address: str
    unit_name: str
    result: str


@dataclass(frozen=True)
class DecisionDoc:
    """Everything a decision PDF or preview shows (RULES.md §6.3, Mẫu 1.2/1.3)."""

    parent_agency: str
    agency: str
    symbol: str
    number: int | None
    place_name: str
    issued_on: datetime.date | None
    summary: str
    authority: str
    legal_bases: list[str]
    articles: list[str]  # numbered text, e.g. "Điều 1. Công nhận …"
    signing_form: str
    signer_collective: str  # may hold several lines ("ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH")
    signer_title: str
    signer_name: str
    recipients: list[str]
    annex_title: str
    annex_kind: str  # household / clan / organisation / citizen / unit
    rows: list[AnnexRow] = field(default_factory=list)
    draft: bool = False


def nfc(value: object) -> str:
    """NFC text (a decomposed "ễ" would lose its marks in some viewers)."""
    return unicodedata.normalize("NFC", "" if value is None else str(value))


def format_count(n: int) -> str:
    """5000 -> "5.000" (Vietnamese thousands separator)."""
    return f"{n:,}".replace(",", ".")


def reference(number: int | None, symbol: str) -> str:
    """ "05/QĐ-UBND": numbers below 10 get a leading zero (RULES.md §6.2 ô 3).

    Without a number (a draft) the number is left blank for the pen:
    "      /QĐ-UBND".
    """
    symbol = nfc(symbol).strip()
    if number is None:
        return f"{BLANK_NUMBER}/{symbol}"
    return f"{number:02d}/{symbol}"


def vn_long_date(d: datetime.date) -> str:
    """ "ngày 05 tháng 01 năm 2026", "ngày 02 tháng 4 năm 2024".

    Days below 10 and the months 1 and 2 get a leading zero (RULES.md §6.2 ô 4).
    """
    month = f"{d.month:02d}" if d.month <= 2 else str(d.month)
    return f"ngày {d.day:02d} tháng {month} năm {d.year}"


def place_date_line(place_name: str, issued_on: datetime.date | None) -> str:
    """ "Quận 10, ngày 05 tháng 01 năm 2026" (a blank date in a draft)."""
    if issued_on is None:
        when = f"ngày{BLANK_DATE_PART}tháng{BLANK_DATE_PART}năm{BLANK_DATE_PART}"
    else:
        when = vn_long_date(issued_on)
    place = nfc(place_name).strip()
    return f"{place}, {when}" if place else when


_TRAILING_PUNCT = re.compile(r"[\s;.,:]+$")
_LEADING_BULLET = re.compile(r"^[\s\-–—•*+]+")


def _lines(values: Iterable[str]) -> list[str]:
    return [line for line in (nfc(v).strip() for v in values) if line]


def legal_basis_lines(values: Iterable[str]) -> list[str]:
    """Each căn cứ line ends with ";", the last with "." (never doubled)."""
    lines = [_TRAILING_PUNCT.sub("", line) for line in _lines(values)]
    lines = [line for line in lines if line]
    return [line + ("." if i == len(lines) - 1 else ";") for i, line in enumerate(lines)]


def recipient_lines(values: Iterable[str]) -> list[str]:
    """ "- Như Điều 3;" … "- Lưu: VT, PGDĐT." (prefix and endings added once)."""
    lines = [_TRAILING_PUNCT.sub("", _LEADING_BULLET.sub("", line)) for line in _lines(values)]
    lines = [line for line in lines if line]
    return [f"- {line}" + ("." if i == len(lines) - 1 else ";") for i, line in enumerate(lines)]


_ARTICLE_HEAD = re.compile(r"^(Điều\s+\d+\s*\.)\s*(.*)$", re.DOTALL)


def article_parts(articles: Iterable[str]) -> list[tuple[str, str]]:
    """("Điều 1.", "Công nhận …") pairs; the last article ends with "./."

    (the end-of-text mark of the state templates, RULES.md §6.3).
    """
    parts: list[tuple[str, str]] = []
    for text in _lines(articles):
        match = _ARTICLE_HEAD.match(text)
        head, body = (match.group(1), match.group(2)) if match else ("", text)
        parts.append((head, body.strip()))
    if parts:
        head, body = parts[-1]
        body = body.rstrip()
        if not body.endswith("/."):
            body = body.rstrip(" .;,") + "./."
        parts[-1] = (head, body)
    return parts


def signature_lines(signing_form: str, signer_collective: str, signer_title: str) -> list[str]:
    """The upper-case lines above the signature (RULES.md §6.2 ô 7a/7b).

    ``signing_form`` + the first line of ``signer_collective`` make line 1
    ("TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "TL. CHỦ TỊCH"); further lines of
    ``signer_collective`` follow ("KT. CHỦ TỊCH" under "TM. ỦY BAN NHÂN DÂN");
    ``signer_title`` is the last line ("PHÓ CHỦ TỊCH"). A head signing directly
    has no form: just the position.
    """
    form = nfc(signing_form).strip()
    collective = [line.upper() for line in _lines(nfc(signer_collective).splitlines())]
    title = nfc(signer_title).strip().upper()
    lines: list[str] = []
    if collective:
        lines.append(f"{form} {collective[0]}" if form else collective[0])
        lines.extend(collective[1:])
    elif form:
        lines.append(form)
    if title and (not lines or lines[-1] != title):
        lines.append(title)
    return lines


_AGENCY_HEADS = ("ỦY BAN NHÂN DÂN", "UỶ BAN NHÂN DÂN", "HỘI ĐỒNG NHÂN DÂN")


def agency_lines(name: str) -> list[str]:
    """The agency name as it stands in the header, in upper case.

    Lines the user broke stay broken; "ỦY BAN NHÂN DÂN QUẬN 10" is set on two
    lines as in the state templates ("ỦY BAN NHÂN DÂN" / "QUẬN 10"), and a
    number never ends up alone on a line ("QUẬN 10" keeps together).
    """
    lines = [line.upper() for line in _lines(nfc(name).splitlines())]
    if len(lines) == 1:
        for head in _AGENCY_HEADS:
            rest = lines[0][len(head) :].strip()
            if lines[0].startswith(head + " ") and rest:
                lines = [head, rest]
                break
    return [re.sub(r" (?=\d)", "\u00a0", line) for line in lines]


_UNIT_NOUNS = (
    "thành phố",
    "thị xã",
    "thị trấn",
    "đặc khu",
    "tỉnh",
    "quận",
    "huyện",
    "phường",
    "xã",
)
_CAPITALISED_PHRASES = {
    "ủy ban nhân dân": "Ủy ban nhân dân",
    "uỷ ban nhân dân": "Ủy ban nhân dân",
    "hội đồng nhân dân": "Hội đồng nhân dân",
    "chủ tịch": "Chủ tịch",
    "phòng giáo dục và đào tạo": "Phòng Giáo dục và Đào tạo",
    "sở giáo dục và đào tạo": "Sở Giáo dục và Đào tạo",
    "hội khuyến học": "Hội Khuyến học",
    "ban chỉ đạo": "Ban Chỉ đạo",
}


def agency_in_sentence(name: str) -> str:
    """ "ỦY BAN NHÂN DÂN QUẬN 10" -> "Ủy ban nhân dân Quận 10" (Phụ lục II).

    A heuristic for names written in upper case: the agency phrase is capitalised
    as a proper name; an administrative unit noun followed by a number is
    capitalised ("Quận 10", "Phường 5"), followed by a name it stays lower case
    and the name is capitalised ("tỉnh Đồng Nai", "phường Bến Nghé"). Names
    already in mixed case are kept as written.
    """
    name = nfc(name).strip()
    if not name or name != name.upper():
        return name
    text = name.lower()
    for phrase, written in _CAPITALISED_PHRASES.items():
        text = text.replace(phrase, written)
    for noun in _UNIT_NOUNS:
        pattern = re.compile(rf"(?<![\wÀ-ỹ])({noun})\s+(\S.*)$")
        match = pattern.search(text)
        if match and not (noun == "xã" and match.group(2).startswith("hội")):
            rest = match.group(2)
            if rest[:1].isdigit():
                head = noun[0].upper() + noun[1:]
                words = rest
            else:
                head = noun
                words = " ".join(w[:1].upper() + w[1:] for w in rest.split())
            text = text[: match.start()] + f"{head} {words}"
            break
    return text[:1].upper() + text[1:]


def annex_note(doc: DecisionDoc) -> str:
    """ "(Kèm theo Quyết định số 05/QĐ-UBND ngày 05 tháng 01 năm 2026 của …)"."""
    number = None if doc.draft else doc.number
    if doc.issued_on is None:
        when = f"ngày{BLANK_DATE_PART}tháng{BLANK_DATE_PART}năm{BLANK_DATE_PART}"
    else:
        when = vn_long_date(doc.issued_on)
    by = agency_in_sentence(doc.authority or doc.agency)
    of = f" của {by}" if by else ""
    return f"(Kèm theo Quyết định số {reference(number, doc.symbol)} {when}{of})"


def normalised(doc: DecisionDoc) -> DecisionDoc:
    """The same document with every string NFC (renderers call this first)."""
    return DecisionDoc(
        parent_agency=nfc(doc.parent_agency).strip(),
        agency=nfc(doc.agency).strip(),
        symbol=nfc(doc.symbol).strip(),
        number=doc.number,
        place_name=nfc(doc.place_name).strip(),
        issued_on=doc.issued_on,
        summary=nfc(doc.summary).strip(),
        authority=nfc(doc.authority).strip(),
        legal_bases=[nfc(v) for v in doc.legal_bases],
        articles=[nfc(v) for v in doc.articles],
        signing_form=nfc(doc.signing_form).strip(),
        signer_collective=nfc(doc.signer_collective),
        signer_title=nfc(doc.signer_title).strip(),
        signer_name=nfc(doc.signer_name).strip(),
        recipients=[nfc(v) for v in doc.recipients],
        annex_title=nfc(doc.annex_title).strip(),
        annex_kind=doc.annex_kind,
        rows=[
            AnnexRow(
                code=nfc(r.code),
                name=nfc(r.name),
                address=nfc(r.address),
                unit_name=nfc(r.unit_name),
                result=nfc(r.result),
            )
            for r in doc.rows
        ],
        draft=doc.draft,
    )


def _with_count(text: str, count: str) -> str:
    return nfc(text).replace(COUNT_PLACEHOLDER, count)


def decision_doc_from(
    decision: Decision,
    *,
    number: int | None = None,
    issued_on: datetime.date | None = None,
    draft: bool | None = None,
) -> DecisionDoc:
    """The snapshot of ``decision``: its fields and its annex (one flat query).

    ``number`` and ``issued_on`` default to the decision's own (the issuing job
    passes the number it is about to take); ``draft`` defaults to "the decision
    is a draft". "{số lượng}" in the summary, articles and annex heading becomes
    the annex count ("5.000").
    """
    from recognition.models import DecisionStatus
    from recognition.titles import TITLE_SUBJECT

    items = list(
        decision.items.order_by("position", "pk").values_list(
            "subject_kind", "subject_code", "subject_name", "address", "unit_name", "result"
        )
    )
    rows = [
        AnnexRow(code=nfc(c), name=nfc(n), address=nfc(a), unit_name=nfc(u), result=nfc(r))
        for _kind, c, n, a, u, r in items
    ]
    kind = TITLE_SUBJECT.get(decision.title, "") or (items[0][0] if items else "")
    count = format_count(len(rows))
    articles = decision.articles if isinstance(decision.articles, list) else []
    return DecisionDoc(
        parent_agency=nfc(decision.parent_agency),
        agency=nfc(decision.agency),
        symbol=nfc(decision.symbol),
        number=number if number is not None else decision.number,
        place_name=nfc(decision.place_name),
        issued_on=issued_on if issued_on is not None else decision.issued_on,
        summary=_with_count(decision.summary, count),
        authority=nfc(decision.authority),
        legal_bases=_lines(decision.legal_bases.splitlines()),
        articles=[_with_count(str(a), count) for a in articles],
        signing_form=nfc(decision.signing_form),
        signer_collective=nfc(decision.signer_collective),
        signer_title=nfc(decision.signer_title),
        signer_name=nfc(decision.signer_name),
        recipients=_lines(decision.recipients.splitlines()),
        annex_title=_with_count(decision.annex_title, count),
        annex_kind=str(kind),
        rows=rows,
        draft=decision.status == DecisionStatus.DRAFT if draft is None else draft,
    )
