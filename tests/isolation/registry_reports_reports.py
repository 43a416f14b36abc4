"""Isolation registry of the report screens and API (tests/test_isolation.py).

The world: a draft yearly report of the cast's district, of the other district
of the same tenant and of the other tenant's ward, each with a PDF and an XLSX
stored (written directly, so the walk renders nothing). The district reviewer
reads and writes the first; the other two are out of sight (404).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile

from reports.report_models import Report
from reports.report_services import report_create
from tests.conftest import Cast
from tests.isolation.base import Entry, Ids, _pid

Three = tuple[Any, Any, Any]
YEAR = 2025


@dataclass
class World:
    reports: Three


def _report(unit: Any) -> Report:
    report = report_create(actor=None, unit=unit, kind="yearly", year=YEAR)
    report.pdf.save("bao-cao.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"), save=False)
    report.xlsx.save("bao-cao.xlsx", ContentFile(b"PK\x03\x04"), save=False)
    Report.objects.filter(pk=report.pk).update(pdf=report.pdf.name, xlsx=report.xlsx.name)
    return report


def _world(cast: Cast) -> World:
    cached = getattr(cast, "_report_world", None)
    if cached is not None:
        return cached
    places = (cast.district, cast.other_district, cast.other_tenant_ward)
    world = World(reports=tuple(_report(unit) for unit in places))  # type: ignore[arg-type]
    cast._report_world = world  # type: ignore[attr-defined]
    return world


def report_ids(cast: Cast) -> Ids:
    reports = _world(cast).reports
    return Ids(
        actor=cast.reviewer,
        in_scope=_pid(reports[0]),
        other_subtree=_pid(reports[1]),
        other_tenant=_pid(reports[2]),
    )


def unit_ids(cast: Cast) -> Ids:
    _world(cast)
    return Ids(
        actor=cast.reviewer,
        in_scope=_pid(cast.district),
        other_subtree=_pid(cast.other_district),
        other_tenant=_pid(cast.other_tenant_ward),
    )


def _mine(cast: Cast) -> Report:
    return Report.objects.get(pk=_world(cast).reports[0].pk)


def _sections(cast: Cast) -> dict[str, Any]:
    return {
        "version": _mine(cast).version,
        "heading": ["KẾT QUẢ THỰC HIỆN"],
        "body": ["Đã làm."],
    }


def _create_form(cast: Cast) -> dict[str, Any]:
    return {"unit": _pid(cast.district), "kind": "yearly", "year": YEAR}


HTML_REGISTRY: dict[str, Entry] = {
    "reports:report-list": Entry(),
    "reports:report-create": Entry(writes=("POST",), body=_create_form),
    "reports:report-detail": Entry(writes=("POST",), ids=report_ids, body=_sections),
    "reports:report-build": Entry(reads=(), writes=("POST",), ids=report_ids),
    "reports:report-finalise": Entry(
        reads=(),
        writes=("POST",),
        ids=report_ids,
        body=lambda cast: {"version": _mine(cast).version},
    ),
    "reports:report-pdf": Entry(ids=report_ids),
    "reports:report-xlsx": Entry(ids=report_ids),
}


def _write(method: str, **kwargs: Any) -> Entry:
    return Entry(reads=(), writes=(method,), ids=report_ids, **kwargs)


API_REGISTRY: dict[str, Entry] = {
    "GET /api/v1/reports": Entry(ids=unit_ids, query="unit"),
    "POST /api/v1/reports": Entry(
        reads=(),
        writes=("POST",),
        body=lambda cast: {"unit": _pid(cast.district), "kind": "yearly", "year": YEAR},
    ),
    "GET /api/v1/reports/{public_id}": Entry(ids=report_ids),
    "PATCH /api/v1/reports/{public_id}": _write(
        "PATCH",
        body=lambda cast: {
            "version": _mine(cast).version,
            "sections": [{"heading": "KẾT QUẢ", "body": "Đã làm."}],
        },
    ),
    "POST /api/v1/reports/{public_id}/build": _write("POST"),
    "POST /api/v1/reports/{public_id}/finalise": _write(
        "POST", body=lambda cast: {"version": _mine(cast).version}
    ),
    "GET /api/v1/reports/{public_id}/pdf": Entry(ids=report_ids),
    "GET /api/v1/reports/{public_id}/xlsx": Entry(ids=report_ids),
}
