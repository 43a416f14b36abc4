"""API of long jobs (core/jobs.py): status and progress, the result file, retry.

Scoped through core.selectors: a job whose unit lies outside the user's
subtrees (or in another tenant) is a 404; the read-only viewer's retry a 403.
The file is streamed from the storage (local disk or S3) as an attachment,
never from a public URL.
"""

import datetime as dt
import mimetypes
import uuid

from django.http import FileResponse, Http404
from django.http.response import HttpResponseBase
from django.urls import NoReverseMatch, reverse
from ninja import Router, Schema, Status

from core.http import AuthedRequest
from core.jobs import job_retry
from core.models import Job, JobStatus
from core.selectors import get_job_for_user
from units.selectors import require_write

router = Router(tags=["jobs"])

#: The API operation showing the object a job works on (``object_type`` -> URL name).
OBJECT_API_URLS: dict[str, str] = {"recognition.decision": "api:decision-detail"}


class JobLinks(Schema):
    detail: str
    download: str | None
    retry: str | None
    object: str | None


class JobOut(Schema):
    public_id: uuid.UUID
    kind: str
    label: str
    status: JobStatus
    progress: int
    message: str
    file_available: bool
    file_name: str
    attempts: int
    object_type: str
    object_id: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    links: JobLinks

    @staticmethod
    def resolve_file_available(obj: Job) -> bool:
        return file_available(obj)

    @staticmethod
    def resolve_links(obj: Job) -> dict[str, str | None]:
        return job_links(obj)


def file_available(job: Job) -> bool:
    return job.status == JobStatus.DONE and bool(job.file)


def _object_url(job: Job) -> str | None:
    name = OBJECT_API_URLS.get(job.object_type)
    if not name or not job.object_id:
        return None
    try:
        return reverse(name, kwargs={"public_id": job.object_id})
    except NoReverseMatch:
        return None


def job_links(job: Job) -> dict[str, str | None]:
    kwargs = {"public_id": job.public_id}
    return {
        "detail": reverse("api:job-detail", kwargs=kwargs),
        "download": reverse("api:job-download", kwargs=kwargs) if file_available(job) else None,
        "retry": reverse("api:job-retry", kwargs=kwargs)
        if job.status == JobStatus.FAILED
        else None,
        "object": _object_url(job),
    }


def job_file_response(job: Job) -> FileResponse:
    """The job's file as an attachment (404 until it is done)."""
    if not file_available(job):
        raise Http404
    try:
        handle = job.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404 from exc
    name = job.file_name or (job.file.name or "").rsplit("/", 1)[-1]
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=name,
        content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@router.get(
    "/{public_id}",
    response=JobOut,
    url_name="job-detail",
    summary="One job: status, progress (0–100), message and links",
)
def get_job(request: AuthedRequest, public_id: str) -> Job:
    return get_job_for_user(request.user, public_id)


@router.get(
    "/{public_id}/download",
    response={200: None},
    url_name="job-download",
    summary="Download the job's file (attachment; 404 until the job is done)",
)
def download_job(request: AuthedRequest, public_id: str) -> HttpResponseBase:
    return job_file_response(get_job_for_user(request.user, public_id))


@router.post(
    "/{public_id}/retry",
    response={202: JobOut},
    url_name="job-retry",
    summary="Run a failed job again",
)
def retry_job(request: AuthedRequest, public_id: str) -> Status[Job]:
    job = get_job_for_user(request.user, public_id)
    if job.unit is not None:
        require_write(request.user, job.unit)
    return Status(202, job_retry(actor=request.user, job=job))
