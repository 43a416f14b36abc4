"""The import and export screens: upload, preview with every error, confirm, cancel,
downloads, exports from the lists; 404 outside the scope, 403 for read-only users."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from core.models import Job, JobStatus
from recognition.models import Household
from spreadsheets.models import ImportRun, ImportStatus
from tests.conftest import client_for
from tests.factories import grant, make_user
from tests.spreadsheets.support import kind_headers, xlsx_bytes
from units.roles import Role

pytestmark = pytest.mark.django_db

HEADERS = kind_headers("households")
INDEX = reverse("spreadsheets:index")
NEW = reverse("spreadsheets:import-new") + "?kind=households"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def rows(cast: Any, n: int = 3) -> list[list[Any]]:
    return [
        [f"KP01-{i:04d}", f"Võ Thị Hạnh {i}", f"{i} Sư Vạn Hạnh", 3, cast.neighbourhood.code]
        for i in range(1, n + 1)
    ]


def post_file(
    client: Any, capture: Any, content: bytes, *, name: str = "ho.xlsx", unit_code: str = "27184"
) -> Any:
    with capture(execute=True):
        return client.post(NEW, {"unit_code": unit_code, "file": SimpleUploadedFile(name, content)})


def detail_url(run: ImportRun) -> str:
    return reverse("spreadsheets:import-detail", args=[run.public_id])


def test_index_lists_the_kinds_the_user_may_import(cast: Any) -> None:
    page = client_for(cast.ward_official).get(INDEX)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-kind="households"' in html and 'data-kind="registrations"' in html
    assert 'data-kind="units"' not in html  # administrators only
    assert reverse("spreadsheets:template") + "?kind=households" in html
    admin = client_for(cast.admin).get(INDEX).content.decode()
    assert 'data-kind="units"' in admin
    viewer = client_for(cast.viewer).get(INDEX)
    assert viewer.status_code == 200 and "data-kind=" not in viewer.content.decode()


def test_the_menu_offers_import_and_export_to_writers_only(cast: Any) -> None:
    home = reverse("core:home")
    assert INDEX in client_for(cast.ward_official).get(home).content.decode()
    assert INDEX not in client_for(cast.viewer).get(home).content.decode()


def test_the_template_download(cast: Any) -> None:
    client = client_for(cast.ward_official)
    response = client.get(reverse("spreadsheets:template") + "?kind=households")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="mau-')
    book = load_workbook(io.BytesIO(response.content))
    assert [c.value for c in book.worksheets[0][1]] == HEADERS
    assert "Hướng dẫn" in book.sheetnames
    assert client.get(reverse("spreadsheets:template") + "?kind=nothing").status_code == 404
    assert client.get(reverse("spreadsheets:template")).status_code == 302


def test_the_upload_form(cast: Any) -> None:
    page = client_for(cast.ward_official).get(NEW)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'accept=".xlsx,.csv"' in html and 'value="27184"' in html
    assert client_for(cast.viewer).get(NEW).status_code == 403
    assert client_for(cast.viewer).post(NEW, {"unit_code": "27184"}).status_code == 403
    assert client_for(cast.ward_official).get(NEW.replace("households", "x")).status_code == 404


def test_upload_preview_errors_fix_confirm_and_see_the_households(
    cast: Any, django_capture_on_commit_callbacks: Any, _media: Path
) -> None:
    client = client_for(cast.ward_official)
    bad = rows(cast)
    bad[0][1] = ""
    bad[2][4] = cast.other_neighbourhood.code  # a khu phố of another ward
    response = post_file(client, django_capture_on_commit_callbacks, xlsx_bytes(HEADERS, bad))
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(run)
    page = client.get(detail_url(run)).content.decode()
    assert 'data-status="invalid"' in page
    assert "Chủ hộ (B)" in page and "Mã khu phố/ấp (E)" in page
    assert cast.other_neighbourhood.code in page and cast.ward.name in page
    assert 'data-testid="import-confirm"' not in page
    errors = client.get(reverse("spreadsheets:import-errors", args=[run.public_id]))
    assert errors.status_code == 200
    report = b"".join(errors.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    assert "Chủ hộ (B)" in report and report.count("\n") == 3

    post_file(client, django_capture_on_commit_callbacks, xlsx_bytes(HEADERS, rows(cast)))
    good = ImportRun.objects.exclude(pk=run.pk).get()
    assert good.status == ImportStatus.READY
    page = client.get(detail_url(good)).content.decode()
    assert 'data-testid="import-confirm"' in page
    assert f'name="version" value="{good.version}"' in page
    assert "KP01-0001" in page  # a sample of the new rows
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("spreadsheets:import-confirm", args=[good.public_id]),
            {"version": good.version},
        )
    assert response.status_code == 302
    good.refresh_from_db()
    assert good.status == ImportStatus.APPLIED and not good.file
    page = client.get(detail_url(good)).content.decode()
    assert reverse("recognition:household-list") in page and 'data-status="applied"' in page
    listing = client.get(reverse("recognition:household-list")).content.decode()
    assert "Võ Thị Hạnh 2" in listing and Household.objects.count() == 3


def test_a_stale_or_second_confirm_is_refused(
    cast: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(cast.ward_official)
    post_file(client, django_capture_on_commit_callbacks, xlsx_bytes(HEADERS, rows(cast)))
    run = ImportRun.objects.get()
    url = reverse("spreadsheets:import-confirm", args=[run.public_id])
    stale = client.post(url, {"version": run.version - 1})
    assert stale.status_code == 409 and 'data-testid="import-refused"' in stale.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"version": run.version}).status_code == 302
    run.refresh_from_db()
    again = client.post(url, {"version": run.version})
    assert again.status_code == 409
    assert Household.objects.count() == 3 and Job.objects.filter(kind="import.apply").count() == 1


def test_cancel_deletes_the_file(
    cast: Any, django_capture_on_commit_callbacks: Any, _media: Path
) -> None:
    client = client_for(cast.ward_official)
    post_file(client, django_capture_on_commit_callbacks, xlsx_bytes(HEADERS, rows(cast)))
    run = ImportRun.objects.get()
    source = Path(run.file.path)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("spreadsheets:import-cancel", args=[run.public_id]))
    assert response.status_code == 302 and response["Location"] == INDEX
    run.refresh_from_db()
    assert run.status == ImportStatus.CANCELLED and not source.exists()


def test_read_only_and_out_of_scope_users(
    cast: Any, django_capture_on_commit_callbacks: Any
) -> None:
    post_file(
        client_for(cast.ward_official),
        django_capture_on_commit_callbacks,
        xlsx_bytes(HEADERS, rows(cast)),
    )
    run = ImportRun.objects.get()
    viewer = client_for(cast.viewer)
    assert viewer.get(detail_url(run)).status_code == 200  # the viewer reads it
    assert 'data-testid="import-confirm"' not in viewer.get(detail_url(run)).content.decode()
    confirm = reverse("spreadsheets:import-confirm", args=[run.public_id])
    assert viewer.post(confirm, {"version": run.version}).status_code == 403
    cancel = reverse("spreadsheets:import-cancel", args=[run.public_id])
    assert viewer.post(cancel).status_code == 403
    other_ward = client_for(
        grant(make_user(cast.tenant, "tan.dinh"), cast.other_ward, Role.WARD_OFFICIAL)
    )
    for client in (other_ward, client_for(cast.other_tenant_official)):
        assert client.get(detail_url(run)).status_code == 404
        assert client.post(confirm, {"version": run.version}).status_code == 404
        assert client.post(cancel).status_code == 404
    run.refresh_from_db()
    assert run.status == ImportStatus.READY
    assert run.file_name not in other_ward.get(INDEX).content.decode()


def test_upload_refusals_are_form_errors(
    cast: Any, django_capture_on_commit_callbacks: Any, settings: Any, _media: Path
) -> None:
    client = client_for(cast.ward_official)
    content = xlsx_bytes(HEADERS, rows(cast))
    other = post_file(client, django_capture_on_commit_callbacks, content, unit_code="27247")
    assert other.status_code == 400 and "27247" in other.content.decode()
    wrong = post_file(client, django_capture_on_commit_callbacks, content, name="ho.pdf")
    assert wrong.status_code == 400 and "ho.pdf" in wrong.content.decode()
    settings.IMPORT_MAX_BYTES = len(content) - 1
    big = post_file(client, django_capture_on_commit_callbacks, content)
    assert big.status_code == 400 and "MB" in big.content.decode()
    assert not ImportRun.objects.exists() and not (_media / "imports").exists()


def test_the_page_follows_the_check_while_it_runs(cast: Any) -> None:
    from core.jobs import job_create

    run = ImportRun.objects.create(
        tenant=cast.tenant,
        unit=cast.ward,
        kind="households",
        status=ImportStatus.VALIDATING,
        file_name="ho.xlsx",
        created_by=cast.ward_official,
    )
    job = job_create(
        kind="import.validate",
        actor=cast.ward_official,
        unit=cast.ward,
        label="Đang kiểm tra",
        obj=run,
    )
    ImportRun.objects.filter(pk=run.pk).update(validate_job=job)
    page = client_for(cast.ward_official).get(detail_url(run)).content.decode()
    progress = reverse("jobs:progress", kwargs={"public_id": job.public_id})
    assert f'hx-get="{progress}?reload=1"' in page and 'data-testid="job-progress"' in page
    assert 'data-testid="import-confirm"' not in page


def test_export_from_the_household_list(cast: Any, django_capture_on_commit_callbacks: Any) -> None:
    client = client_for(cast.ward_official)
    post_file(client, django_capture_on_commit_callbacks, xlsx_bytes(HEADERS, rows(cast)))
    run = ImportRun.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("spreadsheets:import-confirm", args=[run.public_id]), {"version": run.version}
        )
    listing = client.get(reverse("recognition:household-list") + "?q=hanh+2")
    assert 'data-testid="list-export-xlsx"' in listing.content.decode()
    assert 'value="q=hanh+2"' in listing.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("spreadsheets:export"),
            {"kind": "households", "fmt": "xlsx", "filters": "q=hanh+2", "next": "/x"},
        )
    job = Job.objects.get(kind="export.build")
    assert response.status_code == 302
    assert response["Location"] == reverse("jobs:detail", kwargs={"public_id": job.public_id})
    assert job.status == JobStatus.DONE and job.unit == cast.ward and job.params["filters"]
    with job.file.open("rb") as handle:
        sheet = load_workbook(io.BytesIO(handle.read())).worksheets[0]
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == ["KP01-0002"]
    download = client.get(reverse("jobs:download", kwargs={"public_id": job.public_id}))
    assert download.status_code == 200


def test_export_refusals(cast: Any) -> None:
    export = reverse("spreadsheets:export")
    body = {"kind": "households", "fmt": "xlsx", "unit": str(cast.ward.public_id)}
    assert client_for(cast.viewer).post(export, body).status_code == 403
    listing = client_for(cast.viewer).get(reverse("recognition:household-list"))
    assert 'data-testid="list-export' not in listing.content.decode()
    other = {**body, "unit": str(cast.other_ward.public_id)}
    assert client_for(cast.ward_official).post(export, other).status_code == 404
    assert client_for(cast.other_tenant_official).post(export, body).status_code == 404
    assert not Job.objects.exists()


def test_assessment_results_ask_for_the_title_and_year_first(cast: Any) -> None:
    client = client_for(cast.ward_official)
    url = reverse("spreadsheets:import-new") + "?kind=assessments"
    first = client.get(url).content.decode()
    assert 'data-testid="options-form"' in first and 'data-testid="upload-form"' not in first
    chosen = client.get(url + "&title=gia_dinh&year=2025").content.decode()
    assert 'data-testid="options-form"' in chosen
    template = client.get(reverse("spreadsheets:template") + "?kind=assessments")
    assert template.status_code == 302 and "kind=assessments" in template["Location"]
