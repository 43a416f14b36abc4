"""The job pages: the polling progress partial in each state, the scoped
download of the result file, and the retry of a failed job."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from core.jobs import job_attach
from core.models import Job, JobStatus


def _job(unit, status: str = JobStatus.PENDING, **kwargs) -> Job:
    return Job.objects.create(
        tenant_id=unit.tenant_id,
        unit=unit,
        kind="decision.preview",
        label="Dự thảo quyết định",
        status=status,
        **kwargs,
    )


def _progress(client, job: Job, **query):
    return client.get(
        reverse("jobs:progress", args=[job.public_id]), query, headers={"HX-Request": "true"}
    )


@pytest.mark.parametrize("status", [JobStatus.PENDING, JobStatus.RUNNING])
def test_progress_polls_while_the_job_is_active(cast, login, status) -> None:
    job = _job(cast.district, status, progress=42, message="Đang dựng trang 3")
    response = _progress(login(cast.reviewer), job)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="progressbar"' in html
    assert 'aria-valuenow="42"' in html and 'aria-valuemax="100"' in html
    assert 'hx-trigger="every 1s"' in html
    assert reverse("jobs:progress", args=[job.public_id]) in html
    assert "Đang dựng trang 3" in html
    assert 'data-testid="job-download"' not in html
    assert "no-store" in response["Cache-Control"]
    assert "HX-Refresh" not in response


def test_progress_of_a_finished_job_offers_the_file(cast, login) -> None:
    job = _job(cast.district, JobStatus.DONE, progress=100)
    job_attach(job, content=b"%PDF-1.4\n%%EOF\n", file_name="du-thao-quyet-dinh.pdf")
    client = login(cast.reviewer)
    html = _progress(client, job).content.decode()
    assert "every 1s" not in html
    assert reverse("jobs:download", args=[job.public_id]) in html
    # Watched from the decision editor (?reload=1), a finished job reloads the page.
    assert _progress(client, job, reload="1")["HX-Refresh"] == "true"
    download = client.get(reverse("jobs:download", args=[job.public_id]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert "du-thao-quyet-dinh.pdf" in download["Content-Disposition"]
    assert b"".join(download.streaming_content) == b"%PDF-1.4\n%%EOF\n"
    page = client.get(reverse("jobs:detail", args=[job.public_id]))
    assert page.status_code == 200
    assert 'data-testid="job-progress"' in page.content.decode()


def test_progress_of_a_failed_job_says_why_and_offers_a_retry(cast, login) -> None:
    job = _job(cast.district, JobStatus.FAILED, progress=30, message="Kho lưu trữ không phản hồi")
    client = login(cast.reviewer)
    response = _progress(client, job, reload="1")
    html = response.content.decode()
    assert "Kho lưu trữ không phản hồi" in html
    assert reverse("jobs:retry", args=[job.public_id]) in html
    assert "every 1s" not in html
    assert "HX-Refresh" not in response
    assert client.get(reverse("jobs:download", args=[job.public_id])).status_code == 404
    # Retry (htmx): the job is waiting again and the partial polls.
    retried = client.post(
        reverse("jobs:retry", args=[job.public_id]), headers={"HX-Request": "true"}
    )
    assert retried.status_code == 200
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING and job.progress == 0 and not job.message
    assert 'hx-trigger="every 1s"' in retried.content.decode()
    # Only a failed job can be retried; without htmx the answer is the job page.
    again = client.post(reverse("jobs:retry", args=[job.public_id]), follow=True)
    assert again.redirect_chain[-1][0] == reverse("jobs:detail", args=[job.public_id])
    assert any("đã thất bại" in str(m) for m in again.context["messages"])


def test_retry_runs_the_job_again(cast, login, django_capture_on_commit_callbacks) -> None:
    from tests.recognition.decision_support import draft_decision

    decision = draft_decision(cast, annex=False)
    job = Job.objects.create(
        tenant_id=decision.tenant_id,
        unit=decision.issuing_unit,
        kind="decision.preview",
        object_type="recognition.decision",
        object_id=str(decision.public_id),
        status=JobStatus.FAILED,
        message="Lỗi hệ thống",
    )
    with django_capture_on_commit_callbacks(execute=True):
        login(cast.reviewer).post(reverse("jobs:retry", args=[job.public_id]))
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.message
    assert job.file_name == "du-thao-quyet-dinh.pdf"


def test_jobs_are_scoped(cast, login) -> None:
    mine = _job(cast.district, JobStatus.DONE)
    mine.file.save("a.pdf", ContentFile(b"%PDF"), save=False)
    Job.objects.filter(pk=mine.pk).update(file=mine.file.name, file_name="a.pdf")
    other_tenant = _job(cast.other_tenant_ward, JobStatus.DONE)
    other_tenant.file.save("b.pdf", ContentFile(b"%PDF"), save=False)
    Job.objects.filter(pk=other_tenant.pk).update(file=other_tenant.file.name, file_name="b.pdf")
    failed = _job(cast.district, JobStatus.FAILED)
    admin = login(cast.admin)
    for name in ("jobs:detail", "jobs:progress", "jobs:download"):
        assert admin.get(reverse(name, args=[other_tenant.public_id])).status_code == 404, name
    assert admin.get(reverse("jobs:download", args=[mine.public_id])).status_code == 200
    # Another subtree: the ward official does not see the district's job.
    ward = login(cast.ward_official)
    assert ward.get(reverse("jobs:download", args=[mine.public_id])).status_code == 404
    assert ward.post(reverse("jobs:retry", args=[failed.public_id])).status_code == 404
    # The read-only viewer sees it but may not retry.
    viewer = login(cast.viewer)
    assert viewer.get(reverse("jobs:progress", args=[failed.public_id])).status_code == 200
    assert viewer.post(reverse("jobs:retry", args=[failed.public_id])).status_code == 403
    failed.refresh_from_db()
    assert failed.status == JobStatus.FAILED
    # Malformed ids are 404, never 500.
    assert admin.get(reverse("jobs:progress", args=["not-a-uuid"])).status_code == 404
