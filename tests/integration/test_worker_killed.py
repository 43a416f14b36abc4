"""A worker SIGKILLed in the middle of a job (issue 10 §4): the job completes once
on the next worker, with no duplicate row and no orphan or half-written file.

Real processes: a Celery worker is started against Redis and the test database,
pauses at a known point of the job (core/faults.py: it writes a marker file and
sleeps), is killed with SIGKILL there, and a second worker picks the task up
when Redis hands it out again (``CELERY_VISIBILITY_TIMEOUT``, a few seconds
here). Needs PostgreSQL (``DATABASE_URL``) and ``REDIS_URL``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from core.models import AuditEvent, Job, JobStatus
from core.tasks import run_job
from recognition.models import AssessmentStatus, Decision, DecisionCounter, DecisionStatus
from recognition.services import decision as services
from recognition.tasks import send_dossier_notification
from tests.integration.conftest import Worker, WorkerFactory
from tests.recognition.conftest import cycle  # noqa: F401 — the recognition fixture
from tests.recognition.decision_support import pdf_pages, read_file, ready_decision

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

TIMEOUT_S = 120.0
#: Redis gives a task whose worker vanished to another worker after this long.
VISIBILITY_S = "4"


@pytest.fixture(autouse=True)
def _postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("a killed worker's transaction and locks: needs PostgreSQL (DATABASE_URL)")


def _pausing(marker: Path, point: str) -> dict[str, str]:
    return {
        "XHHT_FAULT_PAUSE": f"{point}=300",
        "XHHT_FAULT_MARKER": str(marker),
        "CELERY_VISIBILITY_TIMEOUT": VISIBILITY_S,
        "CELERY_UNACKED_RESTORE_THROTTLE": "1",
    }


def _taking_over() -> dict[str, str]:
    return {"CELERY_VISIBILITY_TIMEOUT": VISIBILITY_S, "CELERY_UNACKED_RESTORE_THROTTLE": "1"}


def _finished(job: Job) -> Job | None:
    job.refresh_from_db()
    return job if job.status in (JobStatus.DONE, JobStatus.FAILED) else None


def _media_files(prefix: str) -> list[Path]:
    """Files (partial ones included) under MEDIA_ROOT whose path starts with ``prefix``."""
    root = Path(settings.MEDIA_ROOT)
    directory = (root / prefix).parent
    stem = Path(prefix).name
    if not directory.exists():
        return []
    return sorted(
        p for p in directory.iterdir() if p.name.startswith(stem) or p.name.startswith("." + stem)
    )


def _kill_at(worker: Worker, marker: Path, point: str) -> None:
    worker.wait_for(
        lambda: marker.exists() and point in marker.read_text(),
        TIMEOUT_S,
        f"the job to reach {point}",
    )
    worker.kill()


def test_decision_issue_killed_after_storing_its_pdf(
    worker_factory: WorkerFactory,
    cycle,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    cast = cycle.cast
    marker = tmp_path / "marker"
    point = "storage.written:decisions/"
    first = worker_factory(**_pausing(marker, point))
    monkeypatch.setattr("core.jobs.job_enqueue", lambda job: first.enqueue(run_job, job.pk))
    monkeypatch.setattr(send_dossier_notification, "delay", lambda *args, **kwargs: None)
    setup = ready_decision(cycle, 3)
    decision = setup.decision
    prefix = f"decisions/{decision.tenant_id}/{decision.public_id.hex}"

    job = services.decision_issue_start(actor=cast.reviewer, decision=decision)
    _kill_at(first, marker, point)
    # Killed between the PDF's write and the commit: the whole PDF is stored
    # (never a partial), nothing is issued, the job row still says "running".
    stored = _media_files(prefix)
    assert [p.name for p in stored] == [f"{decision.public_id.hex}.pdf"], stored
    assert stored[0].read_bytes().startswith(b"%PDF")
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.attempts == 1
    assert Decision.objects.get(pk=decision.pk).status == DecisionStatus.DRAFT

    second = worker_factory(**_taking_over())
    job = second.wait_for(lambda: _finished(job), TIMEOUT_S, "the job on the second worker")
    assert job.status == JobStatus.DONE, (job.message, second.tail())
    assert job.attempts == 2

    decision.refresh_from_db()
    assert decision.status == DecisionStatus.ISSUED and decision.reference == "01/QĐ-UBND"
    assert DecisionCounter.objects.get(issuing_unit=decision.issuing_unit).last_number == 1
    content = read_file(decision.pdf)
    assert len(pdf_pages(content)) == decision.page_count
    # One PDF: the first attempt's orphan is gone, no partial file anywhere.
    files = _media_files(prefix)
    assert [p.name for p in files] == [Path(decision.pdf.name).name], files
    assert not list(Path(settings.MEDIA_ROOT).glob("decisions/**/.*.partial"))
    # Issued and recognised once.
    issued = AuditEvent.objects.filter(action="decision.issue", object_id=str(decision.public_id))
    assert issued.count() == 1
    recognised = AuditEvent.objects.filter(action="assessment.recognise")
    assert sorted(recognised.values_list("object_id", flat=True)) == sorted(
        str(a.public_id) for a in setup.items
    )
    for item in setup.items:
        item.refresh_from_db()
        assert item.status == AssessmentStatus.RECOGNISED
    # The worker's JSON log lines of the job carry its id and the task id.
    records = [json.loads(line) for line in second.log().splitlines() if line.startswith("{")]
    takeover = [r for r in records if "taking over from a worker" in str(r.get("event"))]
    assert takeover and takeover[0]["job_id"] == str(job.public_id) and takeover[0]["task_id"]


def test_import_apply_killed_in_the_middle_of_its_transaction(
    worker_factory: WorkerFactory,
    cast: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from core.jobs import job_run
    from recognition.models import Household
    from spreadsheets import services as imports
    from spreadsheets.models import ImportRun, ImportStatus
    from tests.spreadsheets.support import kind_headers, upload, xlsx_bytes

    marker = tmp_path / "marker"
    point = "job.progress:import.apply"
    first = worker_factory(**_pausing(marker, point))
    # The check runs here; the apply job goes to the worker that will be killed.
    monkeypatch.setattr(
        "core.jobs.job_enqueue",
        lambda job: (
            job_run(job.pk) if job.kind == "import.validate" else first.enqueue(run_job, job.pk)
        ),
    )
    code = cast.neighbourhood.code
    rows = [
        [f"KP01-{i:04d}", f"Nguyễn Văn Hùng {i}", f"{i} Lê Lợi", 4, code] for i in range(1, 301)
    ]
    run = imports.import_upload(
        actor=cast.ward_official,
        unit=cast.ward,
        kind="households",
        upload=upload("ho-gia-dinh.xlsx", xlsx_bytes(kind_headers("households"), rows)),
    )
    run.refresh_from_db()
    assert run.status == ImportStatus.READY, run.message
    run = imports.import_confirm(actor=cast.ward_official, run=run, expected_version=run.version)
    job = run.apply_job
    assert job is not None

    _kill_at(first, marker, point)
    # Killed inside the apply transaction: PostgreSQL rolled it back.
    assert Household.objects.filter(tenant=cast.tenant).count() == 0
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING

    second = worker_factory(**_taking_over())
    job = second.wait_for(lambda: _finished(job), TIMEOUT_S, "the import on the second worker")
    assert job.status == JobStatus.DONE, (job.message, second.tail())
    assert job.attempts == 2
    run = ImportRun.objects.get(pk=run.pk)
    assert run.status == ImportStatus.APPLIED
    assert run.counts["new"] == 300
    # Every household once: no duplicates from the killed attempt.
    households = Household.objects.filter(tenant=cast.tenant)
    assert households.count() == 300
    assert households.values("code").distinct().count() == 300
    assert (
        AuditEvent.objects.filter(action="import.apply", object_id=str(run.public_id)).count() == 1
    )


def test_pool_process_killed_the_same_worker_runs_the_job_again(
    worker_factory: WorkerFactory,
    cycle,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Prefork: the pool process dies (OOM killer), the worker itself lives on;
    ``task_reject_on_worker_lost`` puts the task back at once and it runs again."""
    import os
    import signal

    cast = cycle.cast
    marker = tmp_path / "marker"
    point = "storage.written:decisions/"
    worker = worker_factory(pool="prefork", **_pausing(marker, point))
    monkeypatch.setattr("core.jobs.job_enqueue", lambda job: worker.enqueue(run_job, job.pk))
    monkeypatch.setattr(send_dossier_notification, "delay", lambda *args, **kwargs: None)
    setup = ready_decision(cycle, 2)
    decision = setup.decision
    prefix = f"decisions/{decision.tenant_id}/{decision.public_id.hex}"

    job = services.decision_issue_start(actor=cast.reviewer, decision=decision)
    worker.wait_for(
        lambda: marker.exists() and point in marker.read_text(), TIMEOUT_S, "the job to pause"
    )
    children = worker.children()
    assert len(children) == 1, children
    os.kill(children[0], signal.SIGKILL)

    job = worker.wait_for(lambda: _finished(job), TIMEOUT_S, "the job to run again")
    assert job.status == JobStatus.DONE, (job.message, worker.tail())
    assert job.attempts == 2
    assert worker.process.poll() is None  # the same worker, never restarted
    decision.refresh_from_db()
    assert decision.status == DecisionStatus.ISSUED and decision.reference == "01/QĐ-UBND"
    assert [p.name for p in _media_files(prefix)] == [Path(decision.pdf.name).name]
    assert "WorkerLostError" in worker.log()


def test_a_transient_database_error_is_retried_on_the_worker(
    worker_factory: WorkerFactory,
    cycle,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The first attempt loses its database connection: the task is retried after
    a back-off (``JOB_RETRY_BACKOFF``) and the second attempt renders the PDF."""
    marker = tmp_path / "marker"
    worker = worker_factory(
        XHHT_FAULT_RAISE="job.start:decision.preview",
        XHHT_FAULT_MARKER=str(marker),
        JOB_RETRY_BACKOFF="1",
    )
    monkeypatch.setattr("core.jobs.job_enqueue", lambda job: worker.enqueue(run_job, job.pk))
    monkeypatch.setattr(send_dossier_notification, "delay", lambda *args, **kwargs: None)
    setup = ready_decision(cycle, 2)

    job = services.decision_preview_start(actor=cycle.cast.reviewer, decision=setup.decision)
    job = worker.wait_for(lambda: _finished(job), TIMEOUT_S, "the preview after its retry")
    assert job.status == JobStatus.DONE, (job.message, worker.tail())
    assert job.attempts == 2
    assert read_file(job.file).startswith(b"%PDF")
    assert "raise job.start:decision.preview" in marker.read_text()
    assert "Retry in" in worker.log()
