"""Issuing a decision on a real Celery worker: the job is enqueued when the
request's transaction commits, the worker renders and stores the PDF, numbers
the decision and recognises its annex; the test polls the Job row as the UI
does. Then the certificate batch of the decision, on the same worker."""

from __future__ import annotations

import pytest

from core.models import Job, JobStatus
from core.tasks import run_job
from recognition.models import AssessmentStatus, Decision, DecisionStatus
from recognition.services import decision as services
from recognition.tasks import send_dossier_notification
from tests.integration.conftest import Worker
from tests.recognition.conftest import cycle  # noqa: F401 — the recognition fixture
from tests.recognition.decision_support import pdf_pages, read_file, ready_decision

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

TIMEOUT_S = 90.0


def _finished(job: Job) -> Job | None:
    job.refresh_from_db()
    return job if job.status in (JobStatus.DONE, JobStatus.FAILED) else None


def test_issue_and_certificates_on_the_worker(
    celery_worker: Worker,
    cycle,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The worker listens on a queue of its own: send the jobs there. The dossier
    # e-mails of the setup are not this test's business: keep them off the broker.
    monkeypatch.setattr("core.jobs.job_enqueue", lambda job: celery_worker.enqueue(run_job, job.pk))
    monkeypatch.setattr(send_dossier_notification, "delay", lambda *args, **kwargs: None)
    cast = cycle.cast
    setup = ready_decision(cycle, 3)

    job = services.decision_issue_start(actor=cast.reviewer, decision=setup.decision)
    job = celery_worker.wait_for(lambda: _finished(job), TIMEOUT_S, "the issuing job")
    assert job.status == JobStatus.DONE, (job.message, celery_worker.tail())
    assert job.progress == 100 and job.started_at and job.finished_at

    decision = Decision.objects.get(pk=setup.decision.pk)
    assert decision.status == DecisionStatus.ISSUED and decision.reference == "01/QĐ-UBND"
    content = read_file(decision.pdf)
    assert content.startswith(b"%PDF") and len(pdf_pages(content)) == decision.page_count
    assert job.file.name == decision.pdf.name
    for item in setup.items:
        item.refresh_from_db()
        assert item.status == AssessmentStatus.RECOGNISED

    batch = services.certificates_start(actor=cast.reviewer, decision=decision)
    batch = celery_worker.wait_for(lambda: _finished(batch), TIMEOUT_S, "the certificates")
    assert batch.status == JobStatus.DONE, (batch.message, celery_worker.tail())
    assert len(pdf_pages(read_file(batch.file))) == 3
