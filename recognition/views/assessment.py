"""Screens of the self-assessment: the list of a ward's assessments, the form per
subject (scores, evidence, live result), its timeline and the evidence download.

Every lookup goes through recognition.selectors.assessment (404 outside the
user's scope); writes call the services, which check the role, the state and
the deadline; a read-only user gets 403 before anything is read from the form.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exceptions import ApplicationError, ConcurrentEditError
from core.http import AuthedRequest
from recognition.evidence_validation import allowed_kinds, max_megabytes
from recognition.exceptions import RoleNotAllowedError, ScoreError
from recognition.forms.assessment import (
    SCORE_FORM_ID,
    AssessmentScoreForm,
    EvidenceUploadForm,
    VersionForm,
    format_points,
    note_field_name,
    score_field_name,
)
from recognition.locks import active_lock
from recognition.models import Assessment, AssessmentStatus, Registration, Stage
from recognition.selectors.assessment import (
    NOT_STARTED,
    assessment_list,
    assessment_rows,
    assessment_timeline,
    evidence_of_indicator,
    get_assessment_for_user,
    get_evidence_for_user,
    get_registration_for_user,
    latest_year,
    registrations_page,
    subject_label,
)
from recognition.services import assessment as services
from recognition.services import evidence as evidence_services
from recognition.titles import Title
from recognition.transitions import EDITABLE_ASSESSMENT_STATES, WARD_AND_NEIGHBOURHOOD
from units.levels import Level
from units.selectors import get_unit_for_user, require_write, roles_at, units_for_user

PAGE_SIZE = 50


def _raise_forbidden(exc: ApplicationError) -> None:
    """A role that may not do this here sees the 403 page, like a read-only one."""
    if isinstance(exc, RoleNotAllowedError):
        raise PermissionDenied from exc


def _lock_of(assessment: Assessment) -> Any:
    reg = assessment.registration
    return active_lock(
        unit=reg.proposing_unit, title=reg.title, year=reg.year, stage=Stage.ASSESSMENT
    )


def _may_enter(request: AuthedRequest, assessment: Assessment) -> bool:
    """Whether the user's role lets them enter scores here (state aside)."""
    return bool(roles_at(request.user, assessment.unit) & WARD_AND_NEIGHBOURHOOD)


def _editable(request: AuthedRequest, assessment: Assessment, *, lock: Any = False) -> bool:
    """Scores and evidence can be entered by this user now."""
    if lock is False:
        lock = _lock_of(assessment)
    return (
        assessment.status in EDITABLE_ASSESSMENT_STATES
        and lock is None
        and _may_enter(request, assessment)
    )


def _is_htmx(request: AuthedRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _detail_url(assessment: Assessment) -> str:
    return reverse("recognition:assessment-detail", args=[assessment.public_id])


# --- List -------------------------------------------------------------------------------------


@login_required
@require_GET
def assessment_list_view(request: AuthedRequest) -> HttpResponse:
    """The registrations of a ward (or any unit in scope) with their assessment,
    filtered by title, year and status, 50 per page."""
    params = request.GET
    unit = get_unit_for_user(request.user, params["unit"]) if params.get("unit") else None
    title = params.get("title", "")
    if title not in Title.values:
        title = ""
    status = params.get("status", "")
    if status not in [*AssessmentStatus.values, NOT_STARTED]:
        status = ""
    year_text = params.get("year", "")
    year = int(year_text) if year_text.isdigit() and len(year_text) == 4 else None
    if "year" not in params:
        year = latest_year(request.user)
    q = params.get("q", "").strip()[:100]
    queryset = assessment_list(request.user, unit=unit, title=title, year=year, status=status, q=q)
    page = Paginator(queryset.values_list("pk", flat=True), PAGE_SIZE).get_page(params.get("page"))
    rows = []
    for reg in registrations_page(list(page.object_list)):
        try:
            assessment = reg.assessment
        except Assessment.DoesNotExist:
            assessment = None
        rows.append(
            {
                "registration": reg,
                "subject": subject_label(reg),
                "assessment": assessment,
                "can_start": assessment is None and _may_start(request, reg),
            }
        )
    query = params.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "rows": rows,
        "unit": unit,
        "units": units_for_user(request.user)
        .filter(level=Level.COMMUNE, valid_to__isnull=True)
        .order_by("sort_name")[:500],
        "title": title,
        "titles": Title.choices,
        "year": year,
        "status": status,
        "statuses": [(NOT_STARTED, _("Not started")), *AssessmentStatus.choices],
        "q": q,
        "query": query.urlencode(),
    }
    return render(request, "recognition/assessment/assessment_list.html", context)


def _may_start(request: AuthedRequest, registration: Registration) -> bool:
    return bool(roles_at(request.user, registration.unit) & WARD_AND_NEIGHBOURHOOD)


# --- Start ---------------------------------------------------------------------------------------


@login_required
@require_POST
def assessment_start_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Start (or open, if already started) the assessment of a registration."""
    registration = get_registration_for_user(request.user, public_id)
    require_write(request.user, registration.unit)
    try:
        assessment = services.assessment_start(actor=request.user, registration=registration)
    except ApplicationError as exc:
        _raise_forbidden(exc)
        messages.error(request, str(exc))
        return redirect("recognition:assessment-list")
    return redirect(_detail_url(assessment))


# --- The form -----------------------------------------------------------------------------------


def _form_context(
    request: AuthedRequest,
    assessment: Assessment,
    *,
    form: AssessmentScoreForm | None = None,
    conflict: bool = False,
    preview: services.AssessmentResult | None = None,
) -> dict[str, Any]:
    lock = _lock_of(assessment)
    editable = _editable(request, assessment, lock=lock)
    rows = form.rows if form is not None else assessment_rows(assessment)
    preview_url = reverse("recognition:assessment-preview", args=[assessment.public_id])
    if editable and form is None:
        form = AssessmentScoreForm(
            rows=rows,
            criteria_set=assessment.criteria_set,
            preview_url=preview_url,
            initial={"version": assessment.version},
        )
    registration = assessment.registration
    start, end = services.assessment_period(registration.year)
    if preview is None:
        preview = services.compute_result(assessment, services.saved_values(assessment))
    previous = services.previous_assessment(assessment) if editable else None
    return {
        "sections": _sections(rows, form if editable or conflict else None, assessment),
        **_result_context(assessment, preview),
        "assessment": assessment,
        "registration": registration,
        "subject": subject_label(registration),
        "criteria_set": assessment.criteria_set,
        "rows": rows,
        "form": form,
        "form_id": SCORE_FORM_ID,
        "editable": editable,
        "may_enter": _may_enter(request, assessment),
        "can_reopen": assessment.status == AssessmentStatus.READY
        and lock is None
        and _may_enter(request, assessment),
        "lock": lock,
        "conflict": conflict,
        "period_start": start,
        "period_end": end,
        "valid_until": services.recognition_valid_until(registration.year, assessment.criteria_set)
        if assessment.status == AssessmentStatus.RECOGNISED
        else None,
        "previous": previous,
        "levels": assessment.criteria_set.method == "levels",
        "upload_form": EvidenceUploadForm() if editable else None,
        "allowed_kinds": ", ".join(k.label for k in allowed_kinds()),
        "max_mb": max_megabytes(),
        "version_form": VersionForm(initial={"version": assessment.version}),
    }


def _level_labels(assessment: Assessment) -> dict[int, str]:
    labels = {0: _("Not reached")}
    for lv in assessment.criteria_set.levels or []:
        if "number" in lv:
            labels[int(lv["number"])] = str(lv.get("label") or lv["number"])
    return labels


def _sections(
    rows: list[Any], form: AssessmentScoreForm | None, assessment: Assessment
) -> list[dict[str, Any]]:
    """Criteria with, per indicator, its bound inputs (when editable) and its
    saved value as text."""
    levels = assessment.criteria_set.method == "levels"
    labels = _level_labels(assessment)
    sections = []
    for row in rows:
        items = []
        for item in row.indicators:
            pid = item.indicator.public_id
            if levels:
                saved = (
                    labels.get(item.score.self_level, "")
                    if item.score.self_level is not None
                    else ""
                )
            else:
                saved = format_points(item.score.self_points)
            items.append(
                {
                    "item": item,
                    "indicator": item.indicator,
                    "requirements": sorted(
                        (int(k), labels.get(int(k), k), v)
                        for k, v in (item.indicator.requirements or {}).items()
                        if str(k).isdigit() and str(v or "").strip()
                    ),
                    "saved": saved,
                    "field": form[score_field_name(pid)] if form is not None else None,
                    "note": form[note_field_name(pid)] if form is not None else None,
                }
            )
        sections.append({"criterion": row.criterion, "items": items})
    return sections


def _result_context(assessment: Assessment, result: services.AssessmentResult) -> dict[str, Any]:
    bands = {
        str(b.get("code") or b.get("label") or ""): str(b.get("label") or b.get("code") or "")
        for b in assessment.criteria_set.grade_bands or []
    }
    labels = _level_labels(assessment)
    return {
        "result": result,
        "total_text": format_points(result.total) or "0",
        "grade_label": bands.get(result.grade, result.grade),
        "level_label": labels.get(result.level, "") if result.level is not None else "",
        "max_total": assessment.criteria_set.max_total,
    }


def _bound_form(request: AuthedRequest, assessment: Assessment) -> AssessmentScoreForm:
    return AssessmentScoreForm(
        request.POST,
        rows=assessment_rows(assessment),
        criteria_set=assessment.criteria_set,
        preview_url=reverse("recognition:assessment-preview", args=[assessment.public_id]),
    )


@login_required
@require_http_methods(["GET", "POST"])
def assessment_detail_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    """The assessment form (editable for the ward while the assessment is a
    draft or returned and the deadline is open), read-only otherwise."""
    assessment = get_assessment_for_user(request.user, public_id)
    if request.method == "GET":
        return render(
            request,
            "recognition/assessment/assessment_detail.html",
            _form_context(request, assessment),
        )
    require_write(request.user, assessment.unit)
    form = _bound_form(request, assessment)
    if form.is_valid():
        try:
            assessment = services.assessment_save_scores(
                actor=request.user,
                assessment=assessment,
                expected_version=form.cleaned_data["version"],
                values=form.raw_values(),
                notes=form.raw_notes(),
            )
        except ScoreError as exc:
            form.add_score_errors(exc.params.get("errors", {}))
            if not form.errors:
                form.add_error(None, str(exc))
        except ConcurrentEditError as exc:
            return _conflict(request, public_id, str(exc))
        except ApplicationError as exc:
            _raise_forbidden(exc)
            # No longer editable (state or deadline): say why on the read-only page.
            messages.error(request, str(exc))
            return redirect(_detail_url(assessment))
        else:
            if request.POST.get("action") == "complete":
                return _complete(request, assessment, assessment.version)
            messages.success(request, _("Scores saved."))
            return redirect(_detail_url(assessment))
    # Keep what the user typed; the result shown is the preview of the typed values.
    preview = _preview_of(assessment, form.raw_values())[0]
    context = _form_context(request, assessment, form=form, preview=preview)
    return render(request, "recognition/assessment/assessment_detail.html", context)


def _conflict(request: AuthedRequest, public_id: str, message: str) -> HttpResponse:
    """Someone saved in between: keep the user's input, show the scores saved
    now beside it, and take the current version so a deliberate second save
    may overwrite them."""
    assessment = get_assessment_for_user(request.user, public_id)
    if not _editable(request, assessment):
        messages.error(request, message)
        return redirect(_detail_url(assessment))
    data = request.POST.copy()
    data["version"] = str(assessment.version)
    form = AssessmentScoreForm(
        data,
        rows=assessment_rows(assessment),
        criteria_set=assessment.criteria_set,
        preview_url=reverse("recognition:assessment-preview", args=[assessment.public_id]),
    )
    form.is_valid()
    form.add_error(None, message)
    preview = _preview_of(assessment, form.raw_values())[0]
    context = _form_context(request, assessment, form=form, conflict=True, preview=preview)
    return render(request, "recognition/assessment/assessment_detail.html", context, status=409)


def _preview_of(
    assessment: Assessment, raw: dict[str, Any]
) -> tuple[services.AssessmentResult, dict[str, str]]:
    """The result of the typed values; invalid ones count as unscored and are reported."""
    scores = {str(s.indicator.public_id): s for s in assessment.scores.select_related("indicator")}
    indicators = {k: s.indicator for k, s in scores.items()}
    parsed, errors = services.parse_scores(
        assessment, {k: v for k, v in raw.items() if k in indicators}, indicators
    )
    values = {
        s.indicator_id: services.score_value(s, assessment.criteria_set.method)
        for s in scores.values()
    }
    for key, value in parsed.items():
        values[scores[key].indicator_id] = value
    for key in errors:
        if key in scores:
            values[scores[key].indicator_id] = None
    return services.compute_result(assessment, values), errors


@login_required
@require_POST
def assessment_preview_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    """htmx partial: the result of the values being typed, computed, not saved."""
    assessment = get_assessment_for_user(request.user, public_id)
    require_write(request.user, assessment.unit)
    if not _may_enter(request, assessment):
        raise PermissionDenied
    form = _bound_form(request, assessment)
    result, errors = _preview_of(assessment, form.raw_values())
    return render(
        request,
        "recognition/assessment/_result.html",
        {
            "assessment": assessment,
            "criteria_set": assessment.criteria_set,
            **_result_context(assessment, result),
            "preview_errors": list(errors.values()),
            "is_preview": True,
            "levels": assessment.criteria_set.method == "levels",
        },
    )


# --- Transitions --------------------------------------------------------------------------------------


def _version(request: AuthedRequest) -> int | None:
    form = VersionForm(request.POST)
    return form.cleaned_data.get("version") if form.is_valid() else None


def _complete(request: AuthedRequest, assessment: Assessment, version: int | None) -> HttpResponse:
    try:
        services.assessment_complete(
            actor=request.user, assessment=assessment, expected_version=version
        )
    except ApplicationError as exc:
        _raise_forbidden(exc)
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The self-assessment is complete."))
    return redirect(_detail_url(assessment))


@login_required
@require_POST
def assessment_complete_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    assessment = get_assessment_for_user(request.user, public_id)
    require_write(request.user, assessment.unit)
    return _complete(request, assessment, _version(request))


@login_required
@require_POST
def assessment_reopen_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    assessment = get_assessment_for_user(request.user, public_id)
    require_write(request.user, assessment.unit)
    try:
        services.assessment_reopen(
            actor=request.user, assessment=assessment, expected_version=_version(request)
        )
    except ApplicationError as exc:
        _raise_forbidden(exc)
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The self-assessment is open for changes again."))
    return redirect(_detail_url(assessment))


@login_required
@require_POST
def assessment_copy_previous_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    assessment = get_assessment_for_user(request.user, public_id)
    require_write(request.user, assessment.unit)
    try:
        report = services.assessment_copy_previous(
            actor=request.user, assessment=assessment, expected_version=_version(request)
        )
    except ApplicationError as exc:
        _raise_forbidden(exc)
        messages.error(request, str(exc))
    else:
        level = messages.WARNING if report.skipped else messages.SUCCESS
        messages.add_message(request, level, report.message())
    return redirect(_detail_url(assessment))


# --- Evidence -------------------------------------------------------------------------------------------


def _evidence_partial(
    request: AuthedRequest, assessment: Assessment, indicator: Any, error: str = ""
) -> HttpResponse:
    return render(
        request,
        "recognition/assessment/_evidence.html",
        {
            "assessment": assessment,
            "indicator": indicator,
            "files": evidence_of_indicator(assessment, indicator),
            "editable": _editable(request, assessment),
            "error": error,
            "upload_form": EvidenceUploadForm(),
        },
    )


@login_required
@require_POST
def evidence_upload_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Upload one file for one indicator (multipart; htmx swaps the indicator's list)."""
    assessment = get_assessment_for_user(request.user, public_id)
    require_write(request.user, assessment.unit)
    form = EvidenceUploadForm(request.POST, request.FILES)
    indicator = services.indicator_by_public_id(assessment, request.POST.get("indicator", ""))
    error = ""
    if not form.is_valid():
        error = " ".join(str(m) for errs in form.errors.values() for m in errs)
    else:
        try:
            evidence_services.evidence_upload(
                actor=request.user,
                assessment=assessment,
                indicator_public_id=form.cleaned_data["indicator"],
                file=form.cleaned_data["file"],
            )
        except ApplicationError as exc:
            _raise_forbidden(exc)
            error = str(exc)
    if _is_htmx(request):
        if indicator is None:
            return HttpResponse(error or _("Choose the indicator the file supports."), status=400)
        return _evidence_partial(request, assessment, indicator, error)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Evidence file added."))
    anchor = f"#ind-{indicator.public_id}" if indicator is not None else ""
    return redirect(_detail_url(assessment) + anchor)


@login_required
@require_POST
def evidence_delete_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    evidence = get_evidence_for_user(request.user, public_id)
    assessment = get_assessment_for_user(request.user, evidence.assessment.public_id)
    require_write(request.user, assessment.unit)
    indicator = evidence.indicator
    error = ""
    try:
        evidence_services.evidence_delete(actor=request.user, evidence=evidence)
    except ApplicationError as exc:
        _raise_forbidden(exc)
        error = str(exc)
    if _is_htmx(request) and indicator is not None:
        return _evidence_partial(request, assessment, indicator, error)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Evidence file removed."))
    anchor = f"#ind-{indicator.public_id}" if indicator is not None else ""
    return redirect(_detail_url(assessment) + anchor)


@login_required
@require_GET
def evidence_download_view(request: AuthedRequest, public_id: str) -> HttpResponseBase:
    """The file as an attachment under its original name, never rendered inline."""
    evidence = get_evidence_for_user(request.user, public_id)
    return evidence_response(evidence)


def evidence_response(evidence: Any) -> FileResponse:
    try:
        handle = evidence.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404 from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=evidence.original_name,
        content_type=evidence.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


# --- Timeline -------------------------------------------------------------------------------------------


@login_required
@require_GET
def assessment_timeline_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    assessment = get_assessment_for_user(request.user, public_id)
    return render(
        request,
        "recognition/assessment/assessment_timeline.html",
        {
            "assessment": assessment,
            "subject": subject_label(assessment.registration),
            "entries": assessment_timeline(assessment),
        },
    )
