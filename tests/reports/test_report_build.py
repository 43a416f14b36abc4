"""Reports: figures from the rollups, the PDF and XLSX read back, an empty
year, a failed build and its retry, finalising, scoping and the beat."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from openpyxl import load_workbook
from pypdf import PdfReader

from campaigns.models import Phase, Plan, Target
from config.celery import app as celery_app
from core.jobs import job_retry
from core.models import Job, JobStatus
from recognition.titles import Title
from reports import report_documents
from reports import report_services as services
from reports.models import Rollup
from reports.report_models import Report, ReportStatus
from reports.report_tasks import schedule_from_milestones_task
from tests.conftest import Cast, client_for
from tests.factories import make_unit

pytestmark = pytest.mark.django_db
YEAR = 2025


def _rollup(unit, title: str, *, recognised: int, eligible: int, scope: str = "") -> None:
    Rollup.objects.create(
        tenant_id=unit.tenant_id,
        unit=unit,
        year=YEAR,
        title=title,
        scope_level=scope,
        registered=recognised + 3,
        assessed=recognised + 2,
        approved=recognised + 1,
        recognised=recognised,
        eligible_base=eligible,
    )


@pytest.fixture
def figures_world(cast: Cast) -> Cast:
    """Quận Một has two wards (one added here, with diacritics); rollups for
    the district and both wards; a 70% family target set by the district."""
    second = make_unit(cast.tenant, cast.district, "phuong", "Phường Đa Kao", "27187")
    _rollup(cast.ward, Title.FAMILY, recognised=1200, eligible=2000)
    _rollup(second, Title.FAMILY, recognised=300, eligible=1000)
    _rollup(cast.district, Title.FAMILY, recognised=1500, eligible=3000)
    _rollup(cast.ward, Title.COMMUNITY, recognised=1, eligible=2, scope="khu_pho")
    _rollup(cast.district, Title.COMMUNITY, recognised=1, eligible=2, scope="khu_pho")
    plan = Plan.objects.create(
        tenant=cast.tenant,
        issuing_unit=cast.district,
        title="Kế hoạch xây dựng xã hội học tập",
        start_year=2023,
        end_year=2030,
    )
    Target.objects.create(
        plan=plan, unit=cast.district, title=Title.FAMILY, year=YEAR, kind="rate", value=70
    )
    cast.second_ward = second  # type: ignore[attr-defined]
    cast.plan = plan  # type: ignore[attr-defined]
    return cast


def _build(report: Report, capture) -> Job:
    with capture(execute=True):
        job = services.report_build_start(actor=None, report=report)
    return Job.objects.get(pk=job.pk)


def test_prefilled_sections_carry_the_figures(figures_world: Cast) -> None:
    report = services.report_create(
        actor=figures_world.reviewer, unit=figures_world.district, kind="yearly", year=YEAR
    )
    results = report.sections[0]
    assert results["heading"] == "KẾT QUẢ THỰC HIỆN"
    assert (
        "Gia đình học tập: 1.500/3.000 được công nhận, đạt 50,0% (chỉ tiêu 70%: chưa đạt)"
        in (results["body"])
    )
    assert [s["heading"] for s in report.sections][1] == "ĐÁNH GIÁ CHUNG"


def test_pdf_and_xlsx_read_back(figures_world: Cast, django_capture_on_commit_callbacks) -> None:
    cast = figures_world
    report = services.report_create(
        actor=cast.reviewer, unit=cast.district, kind="yearly", year=YEAR
    )
    job = _build(report, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.DONE, job.message
    report.refresh_from_db()
    assert report.is_built and report.built_version == report.version

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(report.pdf.read())).pages)
    text = " ".join(text.split())
    assert "BÁO CÁO" in text
    assert "Phường Bến Nghé" in text and "Phường Đa Kao" in text
    assert "Tổng cộng" in text and "1.500" in text and "3.000" in text

    workbook = load_workbook(io.BytesIO(report.xlsx.read()))
    assert workbook.sheetnames[0] == "Tổng hợp"
    sheet = workbook["Gia đình học tập"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=5)]
    units = [r[1] for r in rows]
    assert units == ["Phường Bến Nghé", "Phường Đa Kao", "Tổng cộng"]
    ben_nghe, da_kao, total = rows
    assert ben_nghe[2:8] == [2000, 1203, 1202, 1201, 1200, 60.0]
    assert ben_nghe[8:] == ["70%", "Chưa đạt"]
    assert da_kao[6] == 300 and da_kao[7] == 30.0
    assert total[2] == ben_nghe[2] + da_kao[2] and total[6] == ben_nghe[6] + da_kao[6]
    assert total[7] == 50.0
    # every title has a sheet with every child unit
    for label in services.TITLE_VI.values():
        names = [r[0].value for r in workbook[label].iter_rows(min_row=5, min_col=2, max_col=2)]
        assert names == ["Phường Bến Nghé", "Phường Đa Kao", "Tổng cộng"]


def test_a_year_without_data_is_an_honest_empty_report(
    cast: Cast, django_capture_on_commit_callbacks
) -> None:
    report = services.report_create(
        actor=cast.reviewer, unit=cast.district, kind="yearly", year=2031
    )
    assert report.sections[0]["body"] == "Chưa có số liệu năm 2031."
    job = _build(report, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.DONE, job.message
    report.refresh_from_db()
    assert report.figures["has_data"] is False
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(report.pdf.read())).pages)
    assert "Chưa có số liệu năm 2031" in " ".join(text.split())
    sheet = load_workbook(io.BytesIO(report.xlsx.read()))["Gia đình học tập"]
    assert [c.value for c in next(sheet.iter_rows(min_row=5, max_row=5))][1:7] == [
        "Phường Bến Nghé",
        0,
        0,
        0,
        0,
        0,
    ]


def test_failed_build_leaves_no_file_and_retry_works(
    figures_world: Cast, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    cast = figures_world
    report = services.report_create(
        actor=cast.reviewer, unit=cast.district, kind="yearly", year=YEAR
    )
    real = report_documents.render_report_xlsx

    def broken(*args, **kwargs):
        raise services.ReportError("Máy in hỏng")

    monkeypatch.setattr(report_documents, "render_report_xlsx", broken)
    job = _build(report, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.FAILED and job.message == "Máy in hỏng"
    report.refresh_from_db()
    assert not report.pdf and not report.xlsx and not report.is_built
    assert not services.reports_for_user(cast.reviewer).filter(pdf__gt="").exists()
    with pytest.raises(services.ReportError):
        services.report_finalise(actor=cast.reviewer, report=report, version=report.version)

    monkeypatch.setattr(report_documents, "render_report_xlsx", real)
    with django_capture_on_commit_callbacks(execute=True):
        job_retry(actor=cast.reviewer, job=job)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    report.refresh_from_db()
    assert report.pdf and report.xlsx and report.is_built


def test_finalised_report_is_immutable(
    figures_world: Cast, django_capture_on_commit_callbacks
) -> None:
    cast = figures_world
    report = services.report_create(
        actor=cast.reviewer, unit=cast.district, kind="yearly", year=YEAR
    )
    _build(report, django_capture_on_commit_callbacks)
    report.refresh_from_db()
    services.report_update(
        actor=cast.reviewer,
        report=report,
        version=report.version,
        sections=[{"heading": "KẾT QUẢ", "body": "Đã sửa."}],
    )
    report.refresh_from_db()
    with pytest.raises(services.ReportError):  # edited since the build
        services.report_finalise(actor=cast.reviewer, report=report, version=report.version)
    _build(report, django_capture_on_commit_callbacks)
    report.refresh_from_db()
    services.report_finalise(actor=cast.reviewer, report=report, version=report.version)
    report.refresh_from_db()
    assert report.status == ReportStatus.FINALISED and report.finalised_by == cast.reviewer
    with pytest.raises(services.ReportLockedError):
        services.report_update(
            actor=cast.reviewer, report=report, version=report.version, sections=[]
        )
    with pytest.raises(services.ReportLockedError):
        services.report_build_start(actor=cast.reviewer, report=report)
    # a second finalised report of the same unit and year is refused
    other = services.report_create(
        actor=cast.reviewer, unit=cast.district, kind="yearly", year=YEAR
    )
    _build(other, django_capture_on_commit_callbacks)
    other.refresh_from_db()
    with pytest.raises(services.ReportConflictError):
        services.report_finalise(actor=cast.reviewer, report=other, version=other.version)

    client = client_for(cast.reviewer)
    response = client.post(
        f"/reports/documents/{report.public_id}/",
        {"version": report.version, "heading": ["X"], "body": ["Y"]},
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.sections[0]["heading"] != "X"
    listing = client.get("/reports/documents/", {"status": "finalised"})
    assert listing.status_code == 200
    assert "Quận Một" in listing.content.decode()
    api = client.patch(
        f"/api/v1/reports/{report.public_id}",
        {"version": report.version, "sections": [{"heading": "X", "body": ""}]},
        content_type="application/json",
    )
    assert api.status_code == 409


def test_out_of_scope_is_404_and_read_only_403(cast: Cast) -> None:
    with pytest.raises(Http404):
        services.report_create(
            actor=cast.ward_official, unit=cast.other_ward, kind="yearly", year=YEAR
        )
    with pytest.raises(PermissionDenied):
        services.report_create(actor=cast.viewer, unit=cast.ward, kind="yearly", year=YEAR)
    report = services.report_create(actor=None, unit=cast.other_district, kind="yearly", year=YEAR)
    client = client_for(cast.reviewer)
    assert client.get(f"/reports/documents/{report.public_id}/").status_code == 404
    assert client.get(f"/reports/documents/{report.public_id}/pdf").status_code == 404
    assert client.get(f"/api/v1/reports/{report.public_id}").status_code == 404
    response = client.post(
        "/api/v1/reports",
        {"unit": str(cast.other_district.public_id), "kind": "yearly", "year": YEAR},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_screens_create_build_and_download(
    figures_world: Cast, django_capture_on_commit_callbacks
) -> None:
    cast = figures_world
    client = client_for(cast.reviewer)
    assert client.get("/reports/documents/new/").status_code == 200
    response = client.post(
        "/reports/documents/new/",
        {"unit": str(cast.district.public_id), "kind": "yearly", "year": YEAR},
    )
    assert response.status_code == 302
    report = Report.objects.get(unit=cast.district)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/reports/documents/{report.public_id}/build").status_code == 302
    page = client.get(f"/reports/documents/{report.public_id}/")
    assert page.status_code == 200
    assert 'data-testid="job-progress"' in page.content.decode()
    download = client.get(f"/reports/documents/{report.public_id}/xlsx")
    assert download.status_code == 200
    assert download["Content-Disposition"].endswith('.xlsx"')
    viewer = client_for(cast.viewer)
    assert viewer.get(f"/api/v1/reports/{report.public_id}/pdf").status_code == 200
    assert viewer.post(f"/reports/documents/{report.public_id}/build").status_code == 403


def test_beat_entry_exists_and_scheduling_is_idempotent(
    figures_world: Cast, django_capture_on_commit_callbacks
) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["reports-schedule-from-milestones"]
    assert entry["task"] == "reports.schedule_from_milestones"
    celery_app.loader.import_default_modules()  # as a worker does when it starts
    assert entry["task"] in celery_app.tasks
    cast = figures_world
    today = dt.date(2025, 11, 20)
    Phase.objects.create(
        plan=cast.plan,
        name="Giai đoạn 1",
        start_year=2023,
        end_year=2025,
        review_kind="so_ket",
        review_due=today + dt.timedelta(days=10),
    )
    Phase.objects.create(  # too far ahead
        plan=cast.plan,
        name="Giai đoạn 2",
        start_year=2026,
        end_year=2030,
        review_kind="tong_ket",
        review_due=dt.date(2030, 12, 1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert schedule_from_milestones_task(today.isoformat()) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert schedule_from_milestones_task(today.isoformat()) == 0
    report = Report.objects.get()
    assert (report.kind, report.year, report.unit) == ("so_ket", 2025, cast.district)
    assert report.is_built and report.phase.name == "Giai đoạn 1"
    assert Job.objects.filter(kind="report.build").count() == 1


def test_target_label_of_a_count(cast: Cast) -> None:
    assert services._target_label("count", Decimal("1500")) == "1.500"
    assert services._target_label("rate", Decimal("72.50")) == "72,5%"
