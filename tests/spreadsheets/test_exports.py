"""Exports through the real job: the file, the list's filters, the scope, and the
round trip export -> import that changes nothing."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.http import Http404
from openpyxl import load_workbook

from core.models import AuditEvent, Job, JobStatus
from recognition.models import Household
from spreadsheets import exports, services
from spreadsheets.models import ImportStatus
from spreadsheets.registry import kind_class
from tests.spreadsheets.files import xlsx
from tests.spreadsheets.support import import_file, kind_headers, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def seed(cast: Any) -> None:
    """Three households in the cast's ward (one with a text that looks like a formula)
    and one in the other district's ward."""
    code = cast.neighbourhood.code
    rows = [
        ["HG-0001", "Nguyễn Văn Hùng", "12 Lê Lợi", 4, code],
        ["HG-0002", "Trần Thị Mai", "=1+2 Hẻm 5", 3, code],
        ["HG-0003", "Lê Hoàng Nam", "", 6, code],
    ]
    # The address starting with "=" is a text cell (as Excel stores '=1+2 Hẻm 5).
    content = xlsx([kind_headers("households"), *rows], string_cells=["C3"]).getvalue()
    import_file("households", cast.ward_official, cast.ward, content, apply=True)
    other = [["HG-0900", "Phạm Minh Tâm", "", 2, cast.other_neighbourhood.code]]
    import_file("households", cast.admin, cast.city, other, apply=True)
    assert Household.objects.count() == 4


def run_export(
    capture: Any, *, actor: Any, unit: Any, fmt: str = "xlsx", filters: Any = None
) -> Job:
    with capture(execute=True):
        job = exports.export_start(
            actor=actor, unit=unit, kind="households", fmt=fmt, filters=filters
        )
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.message
    return job


def xlsx_rows(job: Job) -> list[tuple[Any, ...]]:
    with job.file.open("rb") as handle:
        book = load_workbook(io.BytesIO(handle.read()), read_only=True)
    return [tuple(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def test_the_export_job_writes_the_scoped_rows_as_xlsx(
    cast: Any, django_capture_on_commit_callbacks: Any
) -> None:
    seed(cast)
    job = run_export(django_capture_on_commit_callbacks, actor=cast.ward_official, unit=cast.ward)
    assert job.kind == "export.build" and job.unit == cast.ward
    assert job.file_name.endswith(".xlsx") and cast.ward.code in job.file_name
    rows = xlsx_rows(job)
    assert rows[0] == tuple(c.header for c in kind_class("households").columns())
    assert [r[0] for r in rows[1:]] == ["HG-0001", "HG-0002", "HG-0003"]  # not HG-0900
    assert rows[1][1:] == ("Nguyễn Văn Hùng", "12 Lê Lợi", 4, cast.neighbourhood.code)
    assert rows[2][2] == "=1+2 Hẻm 5"  # text, never a formula
    assert AuditEvent.objects.filter(action="export.start").count() == 1
    city = run_export(django_capture_on_commit_callbacks, actor=cast.admin, unit=cast.city)
    assert len(xlsx_rows(city)) == 5


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_then_import_changes_nothing(
    cast: Any, django_capture_on_commit_callbacks: Any, fmt: str
) -> None:
    seed(cast)
    job = run_export(
        django_capture_on_commit_callbacks, actor=cast.ward_official, unit=cast.ward, fmt=fmt
    )
    with job.file.open("rb") as handle:
        content = handle.read()
    if fmt == "csv":
        assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    with django_capture_on_commit_callbacks(execute=True):
        run = services.import_upload(
            actor=cast.ward_official,
            unit=cast.ward,
            kind="households",
            upload=upload(job.file_name, content),
        )
    run.refresh_from_db()
    assert run.status == ImportStatus.READY, (run.message, run.errors[:3])
    assert run.counts == {"total": 3, "new": 0, "changed": 0, "unchanged": 3, "error": 0}
    versions = list(Household.objects.order_by("code").values_list("version", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        services.import_confirm(actor=cast.ward_official, run=run, expected_version=run.version)
    run.refresh_from_db()
    assert run.status == ImportStatus.APPLIED and run.counts["unchanged"] == 3
    assert list(Household.objects.order_by("code").values_list("version", flat=True)) == versions


def test_the_list_filters_narrow_the_export_like_the_list(
    cast: Any, django_capture_on_commit_callbacks: Any
) -> None:
    seed(cast)
    Household.objects.filter(code="HG-0003").update(is_active=False)
    everything = run_export(
        django_capture_on_commit_callbacks, actor=cast.ward_official, unit=cast.ward
    )
    assert [r[0] for r in xlsx_rows(everything)[1:]] == ["HG-0001", "HG-0002", "HG-0003"]
    unfiltered_list = run_export(
        django_capture_on_commit_callbacks, actor=cast.ward_official, unit=cast.ward, filters=""
    )
    assert [r[0] for r in xlsx_rows(unfiltered_list)[1:]] == ["HG-0001", "HG-0002"]
    listed = run_export(
        django_capture_on_commit_callbacks,
        actor=cast.ward_official,
        unit=cast.ward,
        filters="q=&unit=&status=",  # the list's own query string: active only
    )
    assert [r[0] for r in xlsx_rows(listed)[1:]] == ["HG-0001", "HG-0002"]
    searched = run_export(
        django_capture_on_commit_callbacks,
        actor=cast.ward_official,
        unit=cast.ward,
        filters={"q": "tran thi", "status": "all", "page": "3"},
    )
    assert [r[0] for r in xlsx_rows(searched)[1:]] == ["HG-0002"]
    inactive = run_export(
        django_capture_on_commit_callbacks,
        actor=cast.ward_official,
        unit=cast.ward,
        filters={"status": "inactive"},
    )
    assert [r[0] for r in xlsx_rows(inactive)[1:]] == ["HG-0003"]


def test_a_filter_on_a_unit_outside_the_scope_fails_the_job(
    cast: Any, django_capture_on_commit_callbacks: Any
) -> None:
    seed(cast)
    with django_capture_on_commit_callbacks(execute=True):
        job = exports.export_start(
            actor=cast.ward_official,
            unit=cast.ward,
            kind="households",
            fmt="csv",
            filters={"unit": cast.other_neighbourhood.code},
        )
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and not job.file
    assert cast.other_neighbourhood.code in job.message


def test_exports_outside_the_scope_are_404(cast: Any) -> None:
    with pytest.raises(Http404):
        exports.export_start(
            actor=cast.ward_official, unit=cast.other_ward, kind="households", fmt="xlsx"
        )
    with pytest.raises(Http404):
        exports.export_start(
            actor=cast.other_tenant_official, unit=cast.ward, kind="households", fmt="xlsx"
        )
    with pytest.raises(Http404):
        exports.export_start(actor=cast.admin, unit=cast.city, kind="nothing", fmt="xlsx")
    assert not Job.objects.exists()


def test_an_unknown_format_is_refused(cast: Any) -> None:
    with pytest.raises(exports.ExportError):
        exports.export_start(actor=cast.admin, unit=cast.city, kind="households", fmt="pdf")
    assert not Job.objects.exists()


def test_the_csv_export_is_readable_with_vietnamese_text(
    cast: Any, django_capture_on_commit_callbacks: Any
) -> None:
    seed(cast)
    job = run_export(
        django_capture_on_commit_callbacks, actor=cast.ward_official, unit=cast.ward, fmt="csv"
    )
    with job.file.open("rb") as handle:
        text = handle.read().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "Mã hộ" and rows[1][:2] == ["HG-0001", "Nguyễn Văn Hùng"]
    assert rows[2][2] == "'=1+2 Hẻm 5"  # neutralised for spreadsheets, stripped on import


def test_the_template_has_the_headers_and_the_instructions(cast: Any) -> None:
    kind = kind_class("households")
    book = load_workbook(io.BytesIO(exports.template_xlsx(kind)))
    data, instructions = book.worksheets[0], book["Hướng dẫn"]
    assert [c.value for c in data[1]] == [c.header for c in kind.columns()]
    assert data.max_row == 1
    text = " ".join(str(c.value) for row in instructions.iter_rows() for c in row if c.value)
    assert "Mã hộ" in text and str(kind.instructions[0])[:20] in text


@pytest.mark.parametrize(
    "kind", ["units", "households", "clans", "organisations", "citizens", "registrations", "users"]
)
def test_every_kind_exports_through_the_job(
    cast: Any, django_capture_on_commit_callbacks: Any, kind: str
) -> None:
    seed(cast)
    with django_capture_on_commit_callbacks(execute=True):
        job = exports.export_start(actor=cast.admin, unit=cast.city, kind=kind, fmt="xlsx")
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.message
    header = xlsx_rows(job)[0]
    assert header == tuple(
        c.header for c in exports.kind_for(kind, user=cast.admin, unit=cast.city).columns()
    )
