"""Screens of long jobs (core/jobs.py): the job page, its polling progress
partial, the download of its file and the retry of a failed job.

Every lookup goes through core.selectors.get_job_for_user: a job outside the
user's units answers 404. The file is streamed from the storage (local disk or
S3) as an attachment, never from a public URL.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import ApplicationError
from core.http import AuthedRequest
from core.jobs import job_retry
from core.models import Job, JobStatus
from core.selectors import get_job_for_user
from units.selectors import require_write

#: Where the object a job works on is shown (``object_type`` -> URL name).
OBJECT_URLS: dict[str, str] = {
    "recognition.decision": "recognition:decision-detail",
    "reports.report": "reports:report-detail",
    "spreadsheets.importrun": "spreadsheets:import-detail",
}


def object_url(job: Job) -> str:
    name = OBJECT_URLS.get(job.object_type)
    if not name or not job.object_id:
        return ""
    try:
        return reverse(name, kwargs={"public_id": job.object_id})
    except NoReverseMatch:
        return ""


def progress_context(job: Job, *, reload: bool = False) -> dict[str, Any]:
    """What ``core/_job_progress.html`` needs (also included by other pages)."""
    query = "?reload=1" if reload else ""
    return {
        "job": job,
        "progress_url": reverse("jobs:progress", kwargs={"public_id": job.public_id}) + query,
        "retry_url": reverse("jobs:retry", kwargs={"public_id": job.public_id}) + query,
        "download_url": reverse("jobs:download", kwargs={"public_id": job.public_id})
        if job.status == JobStatus.DONE and job.file
        else "",
        "reload": reload,
    }


@login_required
@require_GET
def job_detail_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    job = get_job_for_user(request.user, public_id)
    context = progress_context(job)
    context["back_url"] = object_url(job)
    return render(request, "core/job_detail.html", context)


@never_cache
@login_required
@require_GET
def job_progress_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    """The progress partial; it polls itself while the job is waiting or running.

    With ``?reload=1`` (the decision editor watching its issue job) a finished
    job tells htmx to reload the whole page, so the issued state appears.
    """
    job = get_job_for_user(request.user, public_id)
    reload = request.GET.get("reload") == "1"
    response = render(request, "core/_job_progress.html", progress_context(job, reload=reload))
    if reload and job.status == JobStatus.DONE and getattr(request, "htmx", False):
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_GET
def job_download_view(request: AuthedRequest, public_id: str) -> FileResponse:
    job = get_job_for_user(request.user, public_id)
    if job.status != JobStatus.DONE or not job.file:
        raise Http404
    try:
        handle = job.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404 from exc
    name = job.file_name or str(job.file.name).rsplit("/", 1)[-1]
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=name,
        content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def job_retry_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Run a failed job again; answers the progress partial to htmx."""
    job = get_job_for_user(request.user, public_id)
    if job.unit is not None:
        require_write(request.user, job.unit)
    reload = request.GET.get("reload") == "1"
    error = ""
    try:
        job = job_retry(actor=request.user, job=job)
    except ApplicationError as exc:
        error = str(exc)
    if getattr(request, "htmx", False):
        context = progress_context(job, reload=reload)
        context["error"] = error
        return render(request, "core/_job_progress.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("The job was started again."))
    return redirect("jobs:detail", public_id=job.public_id)
