"""The whole import flow through the services and the real jobs (Celery eager):
upload -> check -> preview -> confirm -> apply, its refusals, the files it
stores and deletes, expiry, and two imports of the same households."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, connections
from django.http import Http404
from django.utils import timezone

from core.exceptions import ConcurrentEditError
from core.jobs import job_run
from core.models import AuditEvent, Job, JobStatus
from recognition.models import Household
from spreadsheets import services
from spreadsheets.exceptions import FileRejected, ImportStateError
from spreadsheets.models import ImportRun, ImportStatus
from tests.spreadsheets.support import kind_headers, upload, xlsx_bytes

HEADERS = kind_headers("households")


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _stored_files(root: Path) -> list[Path]:
    return [p for p in (root / "imports").rglob("*") if p.is_file()] if root.exists() else []


def household_rows(cast: Any, n: int = 3, start: int = 1) -> list[list[Any]]:
    code = cast.neighbourhood.code
    return [
        [f"KP01-{i:04d}", f"Nguyễn Văn Hùng {i}", f"{i} Lê Lợi", 4, code]
        for i in range(start, start + n)
    ]


def upload_rows(
    cast: Any,
    rows: list[list[Any]],
    capture: Any,
    *,
    user: Any = None,
    unit: Any = None,
    name: str = "ho-gia-dinh.xlsx",
) -> ImportRun:
    with capture(execute=True):
        run = services.import_upload(
            actor=user or cast.ward_official,
            unit=unit or cast.ward,
            kind="households",
            upload=upload(name, xlsx_bytes(HEADERS, rows)),
        )
    run.refresh_from_db()
    return run


def confirm(run: ImportRun, user: Any, capture: Any) -> ImportRun:
    with capture(execute=True):
        services.import_confirm(actor=user, run=run, expected_version=run.version)
    run.refresh_from_db()
    return run


def test_upload_preview_fix_confirm_apply(
    cast: Any, django_capture_on_commit_callbacks: Any, _media: Path
) -> None:
    rows = household_rows(cast, n=4)
    rows[1][1] = ""  # no head of household (row 3, column B)
    rows[3][3] = "nhiều"  # members not a number (row 5, column D)
    run = upload_rows(cast, rows, django_capture_on_commit_callbacks)

    assert run.status == ImportStatus.INVALID
    assert run.validate_job is not None and run.validate_job.status == JobStatus.DONE
    assert run.counts == {"total": 4, "new": 2, "changed": 0, "unchanged": 0, "error": 2}
    assert [(e["row"], e["column"]) for e in run.errors] == [
        (3, "Chủ hộ (B)"),
        (5, "Số nhân khẩu (D)"),
    ]
    assert all(e["message"] for e in run.errors)
    assert run.report and run.report.read().decode("utf-8-sig").count("\n") == 3
    assert Household.objects.count() == 0
    with pytest.raises(ImportStateError):
        services.import_confirm(actor=cast.ward_official, run=run, expected_version=run.version)

    fixed = household_rows(cast, n=4)
    again = upload_rows(cast, fixed, django_capture_on_commit_callbacks)
    assert again.status == ImportStatus.READY
    assert again.counts["new"] == 4 and again.error_count == 0
    assert again.samples[0]["status"] == "new" and again.samples[0]["key"] == "KP01-0001"
    source = Path(again.file.path)
    assert source.is_file()

    applied = confirm(again, cast.ward_official, django_capture_on_commit_callbacks)
    assert applied.status == ImportStatus.APPLIED
    assert applied.apply_job is not None and applied.apply_job.status == JobStatus.DONE
    assert applied.counts["new"] == 4 and applied.applied_at is not None
    assert set(Household.objects.values_list("code", flat=True)) == {r[0] for r in fixed}
    assert Household.objects.get(code="KP01-0002").head_name == "Nguyễn Văn Hùng 2"
    # The uploaded file is deleted once applied; the row keeps its name and digest.
    assert not applied.file and not source.exists()
    assert applied.file_name == "ho-gia-dinh.xlsx" and len(applied.sha256) == 64
    assert AuditEvent.objects.filter(
        action="import.apply", object_id=str(applied.public_id)
    ).exists()


def test_confirming_twice_is_refused(cast: Any, django_capture_on_commit_callbacks: Any) -> None:
    run = upload_rows(cast, household_rows(cast), django_capture_on_commit_callbacks)
    read_version = run.version
    applied = confirm(run, cast.ward_official, django_capture_on_commit_callbacks)
    assert applied.status == ImportStatus.APPLIED
    with pytest.raises(ConcurrentEditError):  # the page read before the first confirm
        services.import_confirm(
            actor=cast.ward_official, run=applied, expected_version=read_version
        )
    with pytest.raises(ImportStateError):  # even with the current version
        services.import_confirm(
            actor=cast.ward_official, run=applied, expected_version=applied.version
        )
    assert Household.objects.count() == 3
    assert Job.objects.filter(kind="import.apply").count() == 1


def test_cancel_deletes_the_stored_file(
    cast: Any, django_capture_on_commit_callbacks: Any, _media: Path
) -> None:
    run = upload_rows(cast, household_rows(cast), django_capture_on_commit_callbacks)
    source = Path(run.file.path)
    assert source.is_file()
    with django_capture_on_commit_callbacks(execute=True):
        services.import_cancel(actor=cast.ward_official, run=run)
    run.refresh_from_db()
    assert run.status == ImportStatus.CANCELLED
    assert not run.file and not source.exists()
    with pytest.raises(ImportStateError):
        services.import_confirm(actor=cast.ward_official, run=run, expected_version=run.version)
    assert Household.objects.count() == 0


def test_unconfirmed_imports_expire_and_lose_their_files(
    cast: Any, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    old = upload_rows(cast, household_rows(cast), django_capture_on_commit_callbacks)
    fresh = upload_rows(cast, household_rows(cast), django_capture_on_commit_callbacks)
    old_source = Path(old.file.path)
    ImportRun.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=settings.IMPORT_EXPIRY_HOURS + 1)
    )
    assert services.imports_expire() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == ImportStatus.EXPIRED and not old.file and not old_source.exists()
    assert fresh.status == ImportStatus.READY and Path(fresh.file.path).is_file()
    with pytest.raises(ImportStateError):
        services.import_confirm(actor=cast.ward_official, run=old, expected_version=old.version)


def test_a_file_over_the_limit_is_refused_with_nothing_stored(
    cast: Any, settings: Any, _media: Path
) -> None:
    content = xlsx_bytes(HEADERS, household_rows(cast, n=50))
    settings.IMPORT_MAX_BYTES = len(content) - 1
    with pytest.raises(FileRejected) as refused:
        services.import_upload(
            actor=cast.ward_official,
            unit=cast.ward,
            kind="households",
            upload=upload("lon.xlsx", content),
        )
    assert "MB" in str(refused.value)
    assert not ImportRun.objects.exists() and not Job.objects.exists()
    assert _stored_files(_media) == []


def test_read_only_and_out_of_scope_uploads_are_refused(
    cast: Any, django_capture_on_commit_callbacks: Any, _media: Path
) -> None:
    content = xlsx_bytes(HEADERS, household_rows(cast))
    with pytest.raises(PermissionDenied):
        services.import_upload(
            actor=cast.viewer, unit=cast.ward, kind="households", upload=upload("a.xlsx", content)
        )
    with pytest.raises(Http404):
        services.import_upload(
            actor=cast.other_tenant_official,
            unit=cast.ward,
            kind="households",
            upload=upload("a.xlsx", content),
        )
    with pytest.raises(Http404):  # another ward of the same tenant
        services.import_upload(
            actor=cast.ward_official,
            unit=cast.other_ward,
            kind="households",
            upload=upload("a.xlsx", content),
        )
    assert not ImportRun.objects.exists() and _stored_files(_media) == []
    run = upload_rows(cast, household_rows(cast), django_capture_on_commit_callbacks)
    with pytest.raises(PermissionDenied):
        services.import_confirm(actor=cast.viewer, run=run, expected_version=run.version)
    with pytest.raises(Http404):
        services.import_confirm(
            actor=cast.other_tenant_official, run=run, expected_version=run.version
        )
    run.refresh_from_db()
    assert run.status == ImportStatus.READY and Household.objects.count() == 0


def test_two_imports_of_the_same_new_households_create_them_once(
    cast: Any, django_capture_on_commit_callbacks: Any
) -> None:
    rows = household_rows(cast, n=5)
    first = upload_rows(cast, rows, django_capture_on_commit_callbacks, name="a.xlsx")
    second = upload_rows(cast, rows, django_capture_on_commit_callbacks, name="b.xlsx")
    assert first.counts["new"] == second.counts["new"] == 5  # both previews saw them as new

    assert confirm(first, cast.ward_official, django_capture_on_commit_callbacks).status == (
        ImportStatus.APPLIED
    )
    second = confirm(second, cast.ward_official, django_capture_on_commit_callbacks)
    # The second is checked again inside its transaction: the households exist now.
    assert second.status == ImportStatus.APPLIED
    assert second.counts == {"total": 5, "new": 0, "changed": 0, "unchanged": 5, "error": 0}
    assert Household.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_two_imports_applied_at_the_same_time_create_no_duplicates(
    cast: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks between two connections need PostgreSQL")
    rows = household_rows(cast, n=300)
    runs = []
    # The checks run in this thread on commit, whatever Celery's mode (another
    # module's real worker may have run before this one).
    monkeypatch.setattr("core.jobs.job_enqueue", lambda job: job_run(job.pk))
    for name in ("a.xlsx", "b.xlsx"):
        run = services.import_upload(
            actor=cast.ward_official,
            unit=cast.ward,
            kind="households",
            upload=upload(name, xlsx_bytes(HEADERS, rows)),
        )
        run.refresh_from_db()
        assert run.status == ImportStatus.READY  # the check ran on commit
        runs.append(run)
    # Confirm both without running their apply jobs, then run the two at once.
    monkeypatch.setattr("core.jobs.job_enqueue", lambda job: None)
    jobs = [
        services.import_confirm(
            actor=cast.ward_official, run=run, expected_version=run.version
        ).apply_job
        for run in runs
    ]
    barrier = threading.Barrier(2)
    results: list[str] = []

    def apply(job: Job) -> None:
        try:
            barrier.wait(timeout=10)
            results.append(job_run(job.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=apply, args=(job,)) for job in jobs if job is not None]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(results) == ["done", "done"]
    assert Household.objects.filter(tenant=cast.tenant).count() == 300
    outcomes = sorted(
        (r.counts["new"], r.counts["unchanged"]) for r in ImportRun.objects.order_by("pk")
    )
    assert outcomes == [(0, 300), (300, 0)]
    assert set(ImportRun.objects.values_list("status", flat=True)) == {ImportStatus.APPLIED}


def test_the_demo_imports(db: None, django_capture_on_commit_callbacks: Any) -> None:
    from spreadsheets.demo import APPLIED_FILE, INVALID_FILE, seed_import_demo
    from units.demo.seed import seed_demo

    seed_demo(with_cycle=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert seed_import_demo() == {"imports": 2}
    applied = ImportRun.objects.get(file_name=APPLIED_FILE)
    assert applied.status == ImportStatus.APPLIED and applied.counts["new"] == 6
    # Phường 1's Khu phố 3, continued under Phường Vườn Lài since 01/07/2025.
    imported = Household.objects.get(code="27184-KP03-H041")
    assert imported.unit.code == "27184-KP03" and imported.unit.valid_to is None
    assert imported.unit.parent is not None and imported.unit.parent.name == "Phường Vườn Lài"
    invalid = ImportRun.objects.get(file_name=INVALID_FILE)
    assert invalid.status == ImportStatus.INVALID and invalid.error_count == 2
    assert [(e["row"], e["column"][:6]) for e in invalid.errors] == [(3, "Chủ hộ"), (5, "Mã khu")]
    assert invalid.created_by is not None and invalid.created_by.username == "ward.q10.p1"
    with django_capture_on_commit_callbacks(execute=True):
        assert seed_import_demo() == {"imports": 0}
    assert ImportRun.objects.count() == 2 and Household.objects.count() == 6
