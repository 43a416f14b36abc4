"""Reports across an administrative reorganisation (issue 9 §3): the yearly report
of 2024 "as the units were then" and "mapped onto today's units", before and
after a merge, read back from the built PDF and XLSX; the choice on the form
and the API; a closed unit cannot be mapped.

Quận Một: Phường Bến Nghé (3 households registered in 2024, 2 recognised) and
Phường Đa Kao (2 registered, 1 recognised) merge into Phường Sài Gòn from
01/07/2025.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from campaigns.models import Phase, Plan
from core.models import Job, JobStatus
from recognition.models import AssessmentStatus, Household, Registration
from recognition.titles import SubjectKind, Title
from reports import report_services as services
from reports.report_models import Report, ReportView
from reports.services import rollups_rebuild
from tests.conftest import Cast, client_for
from tests.factories import make_unit
from tests.recognition.conftest import make_household, make_points_set
from tests.recognition.dossier_factories import make_assessment
from units.models import AdministrativeUnit
from units.reorganisation import services as reorg

pytestmark = pytest.mark.django_db

EFFECTIVE = dt.date(2025, 7, 1)
FAMILY_SHEET = "Gia đình học tập"


def _register(
    household: Household,
    ward: AdministrativeUnit,
    points_set: Any,
    recognised: bool,
    year: int = 2024,
):
    household.refresh_from_db()
    registration = Registration.objects.create(
        tenant=household.tenant,
        unit_id=household.unit_id,
        proposing_unit=ward,
        title=Title.FAMILY,
        year=year,
        subject_kind=SubjectKind.HOUSEHOLD,
        household=household,
    )
    if recognised:
        make_assessment(registration, points_set, status=AssessmentStatus.RECOGNISED)


@pytest.fixture
def wards(cast: Cast) -> dict[str, AdministrativeUnit]:
    points_set = make_points_set()
    da_kao = make_unit(cast.tenant, cast.district, "phuong", "Phường Đa Kao", "27190")
    for recognised in (True, True, False):
        _register(make_household(cast, unit=cast.neighbourhood), cast.ward, points_set, recognised)
    for recognised in (True, False):
        _register(make_household(cast, unit=da_kao), da_kao, points_set, recognised)
    rollups_rebuild(tenant=cast.tenant)
    return {"ben_nghe": cast.ward, "da_kao": da_kao}


def _merge(cast: Cast, wards: dict[str, AdministrativeUnit]) -> AdministrativeUnit:
    plan = reorg.reorganisation_create(
        actor=cast.admin, name="Sáp nhập phường", effective_on=EFFECTIVE
    )
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="merge",
        sources=[wards["ben_nghe"], wards["da_kao"]],
        targets=[{"code": "27184", "name": "Phường Sài Gòn", "kind": "phuong"}],
    )
    plan.refresh_from_db()
    reorg.reorganisation_apply(actor=cast.admin, plan=plan, expected_version=plan.version)
    return AdministrativeUnit.objects.get(code="27184", valid_to__isnull=True)


def _built(cast: Cast, view: str, capture) -> Report:
    report = services.report_create(
        actor=cast.reviewer, unit=cast.district, kind="yearly", year=2024, view=view
    )
    with capture(execute=True):
        job = services.report_build_start(actor=None, report=report)
    job = Job.objects.get(pk=job.pk)
    assert job.status == JobStatus.DONE, job.message
    report.refresh_from_db()
    return report


def _xlsx(report: Report) -> Any:
    with report.xlsx.open("rb") as f:
        return load_workbook(io.BytesIO(f.read()))


def _pdf_text(report: Report) -> str:
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(report.pdf.read())).pages)
    return " ".join(text.split())


def _family_rows(report: Report) -> list[tuple[str, int, int]]:
    """(unit, registered, recognised) of the family sheet, the totals row last."""
    sheet = _xlsx(report)[FAMILY_SHEET]
    return [(r[1], r[3], r[6]) for r in sheet.iter_rows(min_row=5, values_only=True)]


def _figures_rows(report: Report) -> list[tuple[str, int, int]]:
    [family] = [t for t in report.figures["titles"] if t["title"] == Title.FAMILY]
    return [(r["unit"], r["registered"], r["recognised"]) for r in family["children"]] + [
        (family["total"]["unit"], family["total"]["registered"], family["total"]["recognised"])
    ]


OLD_WARDS = [("Phường Bến Nghé", 3, 2), ("Phường Đa Kao", 2, 1), ("Tổng cộng", 5, 3)]


def test_before_the_merge_both_views_show_the_wards(
    cast: Cast, wards: dict[str, AdministrativeUnit], django_capture_on_commit_callbacks
) -> None:
    then = _built(cast, ReportView.THEN, django_capture_on_commit_callbacks)
    mapped = _built(cast, ReportView.MAPPED, django_capture_on_commit_callbacks)
    assert _figures_rows(then) == OLD_WARDS
    assert _figures_rows(mapped) == OLD_WARDS
    assert _family_rows(then) == OLD_WARDS
    assert _family_rows(mapped) == OLD_WARDS


def test_after_the_merge_then_keeps_the_old_wards_and_mapped_sums_them_into_the_successor(
    cast: Cast, wards: dict[str, AdministrativeUnit], django_capture_on_commit_callbacks
) -> None:
    sai_gon = _merge(cast, wards)
    # Sài Gòn's own 2026 registration gives it rollup rows (its eligible base).
    household = Household.objects.filter(unit__parent=sai_gon).first()
    assert household is not None
    _register(household, sai_gon, make_points_set(code="TEST-2026"), False, year=2026)
    rollups_rebuild(tenant=cast.tenant)
    then = _built(cast, ReportView.THEN, django_capture_on_commit_callbacks)
    mapped = _built(cast, ReportView.MAPPED, django_capture_on_commit_callbacks)

    # As the units were then: the 2024 wards with their own figures; Phường Sài
    # Gòn did not exist in 2024.
    assert _figures_rows(then) == OLD_WARDS
    assert _family_rows(then) == OLD_WARDS
    then_text = _pdf_text(then)
    assert "(Số liệu theo đơn vị hành chính tại thời điểm đó)" in then_text
    assert "Phường Bến Nghé" in then_text and "Phường Sài Gòn" not in then_text

    # Mapped onto today's units: one row, the successor carrying both wards.
    assert _figures_rows(mapped) == [("Phường Sài Gòn", 5, 3), ("Tổng cộng", 5, 3)]
    assert _family_rows(mapped) == [("Phường Sài Gòn", 5, 3), ("Tổng cộng", 5, 3)]
    mapped_text = _pdf_text(mapped)
    today = timezone.localdate().strftime("%d/%m/%Y")
    assert f"(Số liệu quy về đơn vị hành chính hiện nay (ngày {today}))" in mapped_text
    assert "Phường Sài Gòn" in mapped_text and "Phường Đa Kao" not in mapped_text
    # The successor has every household today: 3 of 5 recognised in 2024 is 60 %.
    [family] = [t for t in mapped.figures["titles"] if t["title"] == Title.FAMILY]
    assert family["children"][0]["code"] == sai_gon.code
    assert family["children"][0]["eligible"] == 5 and family["children"][0]["rate"] == 60.0
    sheet = _xlsx(mapped)
    assert sheet["Tổng hợp"]["A3"].value.startswith("Số liệu quy về đơn vị hành chính hiện nay")
    # The prefilled section reads the same view.
    assert "Gia đình học tập: 3/5 được công nhận, đạt 60,0%" in mapped.sections[0]["body"]


def test_a_closed_unit_cannot_be_mapped_onto_today(
    cast: Cast, wards: dict[str, AdministrativeUnit]
) -> None:
    _merge(cast, wards)
    wards["ben_nghe"].refresh_from_db()
    with pytest.raises(services.ReportError) as refused:
        services.report_create(
            actor=cast.admin, unit=wards["ben_nghe"], kind="yearly", year=2024, view="mapped"
        )
    assert refused.value.code == "report_view"
    assert not Report.objects.exists()
    # As it was then, the old ward still reports its 2024 figures.
    report = services.report_create(
        actor=cast.admin, unit=wards["ben_nghe"], kind="yearly", year=2024
    )
    assert report.view == ReportView.THEN


def test_the_form_and_the_api_store_the_choice(
    cast: Cast, wards: dict[str, AdministrativeUnit]
) -> None:
    _merge(cast, wards)
    reviewer = client_for(cast.reviewer)
    page = reviewer.get(reverse("reports:report-create"))
    assert 'name="view"' in page.content.decode()
    response = reviewer.post(
        reverse("reports:report-create"),
        {
            "unit": str(cast.district.public_id),
            "kind": "yearly",
            "year": 2024,
            "view": "mapped",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    report = Report.objects.get()
    assert report.view == ReportView.MAPPED
    detail = reviewer.get(response["Location"]).content.decode()
    assert 'data-testid="report-view"' in detail

    created = reviewer.post(
        "/api/v1/reports",
        json.dumps({"unit": str(cast.district.public_id), "kind": "yearly", "year": 2024}),
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["view"] == "then"
    refused = reviewer.post(
        "/api/v1/reports",
        json.dumps(
            {
                "unit": str(wards["da_kao"].public_id),
                "kind": "yearly",
                "year": 2024,
                "view": "mapped",
            }
        ),
        content_type="application/json",
    )
    assert refused.status_code == 400, refused.content
    assert refused.json()["code"] == "report_view"
    bad = reviewer.post(
        "/api/v1/reports",
        json.dumps({"unit": str(cast.district.public_id), "kind": "yearly", "view": "today"}),
        content_type="application/json",
    )
    assert bad.status_code in (400, 422)


def test_the_reform_year_shows_the_old_and_the_new_wards_as_they_were(
    cast: Cast, wards: dict[str, AdministrativeUnit]
) -> None:
    _merge(cast, wards)
    rollups_rebuild(tenant=cast.tenant)
    report = Report.objects.create(
        tenant=cast.tenant, unit=cast.district, kind="yearly", year=2025, view=ReportView.THEN
    )
    names = [r["unit"] for r in services.report_figures(report)["titles"][0]["children"]]
    # In force during 2025: the old wards until 30/06, Sài Gòn from 01/07.
    assert names == ["Phường Bến Nghé", "Phường Đa Kao", "Phường Sài Gòn"]
    report.year = 2026
    names = [r["unit"] for r in services.report_figures(report)["titles"][0]["children"]]
    assert names == ["Phường Sài Gòn"]


def test_a_mapped_report_whose_unit_closed_since_fails_to_build_with_a_reason(
    cast: Cast, wards: dict[str, AdministrativeUnit], django_capture_on_commit_callbacks
) -> None:
    report = services.report_create(
        actor=cast.admin, unit=wards["da_kao"], kind="yearly", year=2024, view="mapped"
    )
    _merge(cast, wards)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.report_build_start(actor=None, report=report)
    job = Job.objects.get(pk=job.pk)
    assert job.status == JobStatus.FAILED
    assert "Phường Đa Kao" in job.message  # "… is no longer in force …"
    report.refresh_from_db()
    assert not report.pdf and not report.figures


def test_an_interim_review_mapped_onto_today_sums_the_phase_end_year_into_the_successor(
    cast: Cast, wards: dict[str, AdministrativeUnit], django_capture_on_commit_callbacks
) -> None:
    _merge(cast, wards)
    plan = Plan.objects.create(
        tenant=cast.tenant,
        issuing_unit=cast.district,
        number=102,
        title="Kế hoạch xây dựng xã hội học tập",
        start_year=2023,
        end_year=2030,
    )
    phase = Phase.objects.create(
        plan=plan,
        name="Giai đoạn 1",
        start_year=2023,
        end_year=2024,
        review_kind="so_ket",
        review_due=dt.date(2024, 12, 31),
    )
    report = services.report_create(
        actor=cast.reviewer, unit=cast.district, kind="so_ket", phase=phase, view="mapped"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.report_build_start(actor=None, report=report)
    report.refresh_from_db()
    assert report.year == 2024 and report.view == ReportView.MAPPED
    assert _figures_rows(report) == [("Phường Sài Gòn", 5, 3), ("Tổng cộng", 5, 3)]
    assert _family_rows(report) == [("Phường Sài Gòn", 5, 3), ("Tổng cộng", 5, 3)]
    text = _pdf_text(report)
    assert "Sơ kết Giai đoạn 1 (2023–2024)" in text
    assert "Số liệu quy về đơn vị hành chính hiện nay" in text
