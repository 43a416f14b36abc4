"""Screens of spreadsheet imports and exports (issue 8 §5).

Upload a file -> its page shows the check's progress, then the preview (new /
changed / unchanged rows, every error with its row and column) -> confirm ->
the apply job's progress, then the result. Exports are jobs too: the button
starts one and lands on the job's page, which offers the file when it is done.

Every import is looked up through :func:`spreadsheets.selectors.get_import_for_user`
(404 outside the user's subtrees or tenant); every write and upload checks
:func:`spreadsheets.services.require_importer` (403 for read-only roles).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exceptions import ApplicationError, ConcurrentEditError
from core.http import AuthedRequest
from core.models import Job, JobStatus
from core.views_jobs import progress_context
from recognition.forms.subjects import resolve_unit_code
from spreadsheets import exports, services
from spreadsheets.exceptions import FileRejected
from spreadsheets.forms import (
    KIND_OPTIONS,
    ExportForm,
    ImportUploadForm,
    OptionsForm,
    VersionForm,
    kind_has_options,
)
from spreadsheets.kinds.base import ImportKind
from spreadsheets.models import ImportRun, ImportStatus
from spreadsheets.registry import all_kinds as KINDS_ALL
from spreadsheets.registry import kind_class
from spreadsheets.selectors import (
    default_import_unit,
    get_import_for_user,
    import_units,
    importable_kinds,
    may_import,
    recent_imports,
    writer_roles,
)
from units.models import AdministrativeUnit
from units.selectors import get_unit_for_user, home_units, units_for_user

#: Where the rows of each kind are listed once imported.
LIST_URLS: dict[str, str] = {
    "units": "units:browser",
    "households": "recognition:household-list",
    "clans": "recognition:clan-list",
    "organisations": "recognition:organisation-list",
    "citizens": "recognition:citizen-list",
    "registrations": "recognition:registration-list",
    "assessments": "recognition:assessment-list",
    "users": "accounts:user-list",
}


def _kind_from_query(request: AuthedRequest) -> type[ImportKind] | None:
    """The kind named by ``?kind=`` (None without one; an unknown one is a 404)."""
    key = str(request.GET.get("kind", ""))
    return kind_class(key) if key else None


def _list_url(kind: str) -> str:
    try:
        return reverse(LIST_URLS[kind])
    except (KeyError, NoReverseMatch):
        return ""


@login_required
@require_GET
def index_view(request: AuthedRequest) -> HttpResponse:
    """The kinds the user may import and export, and the recent imports in scope."""
    kinds = importable_kinds(request.user)
    labels = {k.key: k.label for k in KINDS_ALL()}
    imports = recent_imports(request.user)
    for run in imports:
        run.kind_label = labels.get(run.kind, run.kind)  # type: ignore[attr-defined]
    return render(
        request,
        "spreadsheets/index.html",
        {
            "kinds": kinds,
            "export_units": list(home_units(request.user)),
            "option_kinds": list(KIND_OPTIONS),
            "imports": imports,
        },
    )


def _years() -> list[int]:
    this_year = timezone.localdate().year
    return list(range(this_year + 1, this_year - 6, -1))


def _template_unit(user: Any) -> AdministrativeUnit:
    unit = home_units(user).first()
    if unit is None:
        raise Http404
    return unit


@login_required
@require_GET
def template_view(request: AuthedRequest) -> HttpResponse:
    """The blank template of a kind (no tenant data in it; the assessment results'
    template has the indicator columns of the chosen title and year)."""
    kind_cls = _kind_from_query(request)
    if kind_cls is None:
        return redirect("spreadsheets:index")
    options: dict[str, Any] = {}
    if kind_has_options(kind_cls):
        chosen = OptionsForm(request.GET, kind=kind_cls)
        if not chosen.is_valid():
            return redirect(f"{reverse('spreadsheets:import-new')}?kind={kind_cls.key}")
        options = chosen.options()
    kind = exports.kind_for(
        kind_cls.key, user=request.user, unit=_template_unit(request.user), options=options
    )
    try:
        content = exports.template_xlsx(kind)
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
        return redirect(f"{reverse('spreadsheets:import-new')}?kind={kind_cls.key}")
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{exports.template_file_name(kind)}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def import_new_view(request: AuthedRequest) -> HttpResponse:
    """Upload a file of one kind (``?kind=households``; the assessment results first
    take their title and year, which give the template's columns)."""
    if not writer_roles(request.user):
        raise PermissionDenied
    kind = _kind_from_query(request)
    if kind is None:
        return redirect("spreadsheets:index")
    if not may_import(request.user, kind):
        raise PermissionDenied
    default = default_import_unit(request.user, kind)
    options_form = None
    if kind_has_options(kind):
        options_form = OptionsForm(request.GET if "title" in request.GET else None, kind=kind)
    options: dict[str, Any] | None = {}
    if options_form is not None:
        options = options_form.options() if options_form.is_valid() else None
    columns: list[Any] = []
    problem = ""
    if options is not None and default is not None:
        try:
            columns = exports.kind_for(
                kind.key, user=request.user, unit=default, options=options
            ).columns()
        except ApplicationError as exc:
            problem = str(exc.message)
    form = ImportUploadForm(
        request.POST or None,
        request.FILES or None,
        kind=kind,
        units=import_units(request.user, kind),
        initial={"unit_code": default.code if default else "", **(options or {})},
    )
    if request.method == "POST" and form.is_valid():
        try:
            run = services.import_upload(
                actor=request.user,
                unit=form.cleaned_data["unit_code"],
                kind=kind.key,
                upload=form.cleaned_data["file"],
                options=form.options(),
            )
        except FileRejected as exc:
            form.add_error("file", str(exc.message))
        except ApplicationError as exc:
            form.add_error(None, str(exc.message))
        else:
            return redirect("spreadsheets:import-detail", public_id=run.public_id)
    query = urlencode({"kind": kind.key, **(options or {})})
    return render(
        request,
        "spreadsheets/import_new.html",
        {
            "kind": kind,
            "form": form,
            "options_form": options_form,
            "options": options,
            "columns": columns,
            "problem": problem,
            "template_query": query,
            "years": _years(),
            "export_unit": default,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


def _current_job(run: ImportRun) -> Job | None:
    """The job whose progress the page shows: the apply job once confirmed."""
    job = run.apply_job or run.validate_job
    if run.status in (ImportStatus.UPLOADED, ImportStatus.VALIDATING):
        job = run.validate_job
    return job


def _may_write(user: Any, run: ImportRun) -> bool:
    try:
        services.require_importer(user, run.unit, kind_class(run.kind))
    except (PermissionDenied, Http404):
        return False
    return True


def _headers(run: ImportRun, user: Any) -> dict[str, str]:
    """Column attribute -> header, with the columns the run's options give."""
    try:
        kind = exports.kind_for(run.kind, user=user, unit=run.unit, options=run.options)
        columns = kind.columns()
    except ApplicationError:
        columns = kind_class(run.kind).columns()
    return {c.attribute: c.header for c in columns if c.attribute}


def _samples(run: ImportRun, user: Any) -> list[dict[str, Any]]:
    headers = _headers(run, user) if run.samples else {}
    return [
        {
            **sample,
            "changes": [
                (headers.get(name, name), old, new)
                for name, (old, new) in (sample.get("changes") or {}).items()
            ],
        }
        for sample in run.samples
    ]


def _detail_context(request: AuthedRequest, run: ImportRun) -> dict[str, Any]:
    kind = kind_class(run.kind)
    job = _current_job(run)
    show_job = job is not None and (
        run.is_busy or run.status == ImportStatus.FAILED or job.status != JobStatus.DONE
    )
    return {
        "run": run,
        "kind": kind,
        "job": progress_context(job, reload=True) if show_job and job is not None else None,
        "can_write": _may_write(request.user, run),
        "counts": run.counts or {},
        "errors_shown": len(run.errors),
        "samples": _samples(run, request.user),
        "list_url": _list_url(run.kind),
        "version_form": VersionForm(initial={"version": run.version}),
    }


@login_required
@require_GET
def import_detail_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    run = get_import_for_user(request.user, public_id)
    return render(request, "spreadsheets/import_detail.html", _detail_context(request, run))


def _writable(request: AuthedRequest, public_id: str) -> ImportRun:
    run = get_import_for_user(request.user, public_id)
    services.require_importer(request.user, run.unit, kind_class(run.kind))
    return run


def _refused(request: AuthedRequest, run: ImportRun, message: str, status: int) -> HttpResponse:
    context = _detail_context(request, run)
    context["error"] = message
    return render(request, "spreadsheets/import_detail.html", context, status=status)


@login_required
@require_POST
def import_confirm_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Apply a checked file (with the version the user read)."""
    run = _writable(request, public_id)
    form = VersionForm(request.POST)
    if not form.is_valid():
        return _refused(
            request, run, _("The request was incomplete; reload the page and try again."), 400
        )
    try:
        services.import_confirm(
            actor=request.user, run=run, expected_version=form.cleaned_data["version"]
        )
    except ConcurrentEditError:
        run.refresh_from_db()
        return _refused(
            request,
            run,
            _(
                "This import changed since you opened the page (it was confirmed, cancelled "
                "or checked again). Read it again below."
            ),
            409,
        )
    except ApplicationError as exc:
        run.refresh_from_db()
        return _refused(request, run, str(exc.message), 409)
    messages.success(request, _("The import has started."))
    return redirect("spreadsheets:import-detail", public_id=run.public_id)


@login_required
@require_POST
def import_cancel_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    run = _writable(request, public_id)
    try:
        services.import_cancel(actor=request.user, run=run)
    except ApplicationError as exc:
        run.refresh_from_db()
        return _refused(request, run, str(exc.message), 409)
    messages.success(request, _("The import was cancelled and its file deleted."))
    return redirect("spreadsheets:index")


@login_required
@require_GET
def import_errors_view(request: AuthedRequest, public_id: str) -> FileResponse:
    """Every error of the check as CSV (the page shows the first 1.000)."""
    run = get_import_for_user(request.user, public_id)
    return error_report_response(run)


def error_report_response(run: ImportRun) -> FileResponse:
    if not run.report:
        raise Http404
    try:
        handle = run.report.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404 from exc
    stem = run.file_name.rsplit(".", 1)[0] or "tep"
    response = FileResponse(
        handle, as_attachment=True, filename=f"loi-{stem}.csv", content_type="text/csv"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def export_unit(user: Any, unit_id: Any, filters: dict[str, str]) -> AdministrativeUnit:
    """The unit an export covers: the one chosen, else the list filter's unit, else the
    user's top unit (404 outside the user's scope)."""
    if unit_id:
        return get_unit_for_user(user, unit_id)
    code = filters.get("unit", "")
    if code:
        unit = resolve_unit_code(units_for_user(user), code)
        if unit is not None:
            return unit
    top = home_units(user).first()
    if top is None:
        raise Http404
    return top


def _back(request: AuthedRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("spreadsheets:index")


@login_required
@require_POST
def export_view(request: AuthedRequest) -> HttpResponse:
    """Start an export; the job's page follows it and offers the file."""
    form = ExportForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The request was incomplete; reload the page and try again."))
        return _back(request)
    kind = kind_class(form.cleaned_data["kind"])
    # A list screen sends its query string (maybe empty); the index sends none.
    filters = exports.clean_filters(
        form.cleaned_data["filters"] if "filters" in request.POST else None
    )
    unit = export_unit(request.user, form.cleaned_data["unit"], filters or {})
    services.require_importer(request.user, unit, kind)
    try:
        job = exports.export_start(
            actor=request.user,
            unit=unit,
            kind=kind.key,
            fmt=form.cleaned_data["fmt"],
            filters=filters,
            options=form.options(),
        )
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
        return _back(request)
    return redirect("jobs:detail", public_id=job.public_id)
