"""Screens of recognition decisions: the list (and a new draft), the editor
with its live preview, the annex built from approved items, issue, revoke,
the PDF download, the issuer's profile, and the public verification page of a
certificate.

Every lookup goes through recognition.selectors.decision (404 outside the
user's scope); writes need the reviewer's role at the issuing unit (403 for a
read-only or a ward user); the services check the rules and their refusals
come back as messages or form errors. Long work (issuing, PDFs, certificates)
runs as jobs whose progress the editor polls (core/views_jobs.py).
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

import django_tables2 as tables
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, translation
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from core.exceptions import ApplicationError, ConcurrentEditError
from core.http import AuthedRequest
from core.models import Job, JobStatus
from core.ratelimit import ratelimit
from core.selectors import jobs_for_object
from core.views_jobs import progress_context
from recognition.forms.decision import (
    AnnexFilterForm,
    DecisionCreateForm,
    DecisionFilterForm,
    DecisionForm,
    IssuerProfileForm,
    RevokeForm,
)
from recognition.models import Assessment, Decision, DecisionItem, DecisionKind, DecisionStatus
from recognition.selectors.decision import (
    certificate_for_token,
    decision_items,
    decisions_for_user,
    get_decision_for_user,
)
from recognition.selectors.dossier import SUBJECT_RELATED
from recognition.services import decision as services
from recognition.titles import Title
from recognition.transitions import REVIEWER
from recognition.views.dossier import forbid_wrong_role
from units.levels import Level
from units.models import AdministrativeUnit
from units.selectors import (
    get_unit_for_user,
    public_id_or_none,
    require_write,
    roles_at,
    units_for_user,
)

S = DecisionStatus
PER_PAGE = 50
RECENT_JOBS = 10
PREVIEW_ROWS = 30


def issuer_units(user: Any) -> QuerySet[AdministrativeUnit]:
    """Units where the user may draft and issue decisions (reviewer or admin)."""
    return (
        units_for_user(user, roles=REVIEWER)
        .filter(level__in=[Level.PROVINCE, Level.DISTRICT, Level.COMMUNE])
        .order_by("depth", "sort_name")
    )


def may_issue(user: Any, unit: AdministrativeUnit) -> bool:
    return bool(roles_at(user, unit) & REVIEWER)


def _require_issuer(request: AuthedRequest, decision: Decision) -> None:
    """404 outside the scope, 403 for read-only users and other roles."""
    require_write(request.user, decision.issuing_unit)
    if not may_issue(request.user, decision.issuing_unit):
        raise PermissionDenied


def _writable(request: AuthedRequest, public_id: str) -> Decision:
    decision = get_decision_for_user(request.user, public_id)
    _require_issuer(request, decision)
    return decision


def _editor(decision: Decision) -> HttpResponse:
    return redirect("recognition:decision-detail", public_id=decision.public_id)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _uuids(values: list[str]) -> list[uuid.UUID]:
    """The readable public ids among ``values`` (malformed ones are ignored)."""
    return [p for p in (public_id_or_none(v) for v in values) if p is not None]


def _number(value: int | None) -> str:
    return formats.number_format(value or 0, force_grouping=True)


def pdf_file_name(decision: Decision) -> str:
    return f"QD-{decision.number or 0:02d}-{decision.number_year or decision.year}.pdf"


# --- Tables ------------------------------------------------------------------------


def _status_badge(status: str, label: Any) -> SafeString:
    css: dict[str, str] = {
        S.DRAFT: "text-bg-secondary",
        S.ISSUED: "text-bg-success",
        S.REVOKED: "text-bg-danger",
    }
    return format_html('<span class="badge {}">{}</span>', css.get(status, "text-bg-light"), label)


class DecisionTable(tables.Table):
    reference = tables.Column(
        verbose_name=gettext_lazy("Number and symbol"),
        empty_values=(),
        order_by=("number_year", "number"),
        linkify=lambda record: reverse(
            "recognition:decision-detail", kwargs={"public_id": record.public_id}
        ),
    )
    issued_on = tables.DateColumn(verbose_name=gettext_lazy("Date"), format="d/m/Y", default="—")
    summary = tables.Column(verbose_name=gettext_lazy("Summary"))
    issuing_unit = tables.Column(
        verbose_name=gettext_lazy("Issuing unit"),
        accessor="issuing_unit__name",
        order_by="issuing_unit__sort_name",
    )
    item_count = tables.Column(
        verbose_name=gettext_lazy("Items recognised"),
        attrs={"td": {"class": "num"}, "th": {"class": "num"}},
    )
    status = tables.Column(verbose_name=gettext_lazy("Status"))

    class Meta:
        attrs = {"class": "table table-hover align-middle", "data-testid": "decisions"}
        empty_text = gettext_lazy("No decision yet.")

    def render_reference(self, record: Decision) -> str:
        return record.reference or _("Draft")

    def render_item_count(self, value: int) -> str:
        return _number(value)

    def render_status(self, record: Decision) -> SafeString:
        return _status_badge(record.status, record.get_status_display())


class AnnexTable(tables.Table):
    position = tables.Column(
        verbose_name=gettext_lazy("No."),
        attrs={"td": {"class": "num"}},
        orderable=False,
        empty_values=(),
    )
    subject_name = tables.Column(verbose_name=gettext_lazy("Name"), orderable=False)
    subject_code = tables.Column(
        verbose_name=gettext_lazy("Code or year of birth"), orderable=False, default=""
    )
    address = tables.Column(verbose_name=gettext_lazy("Address"), orderable=False, default="")
    unit_name = tables.Column(verbose_name=gettext_lazy("Unit"), orderable=False)
    result = tables.Column(verbose_name=gettext_lazy("Result"), orderable=False, default="")
    remove = tables.Column(
        verbose_name=gettext_lazy("Remove"), empty_values=(), orderable=False, accessor="pk"
    )

    class Meta:
        attrs = {"class": "table table-sm table-hover align-middle", "data-testid": "annex"}
        empty_text = gettext_lazy("The annex is empty: add approved items below.")

    def render_position(self, record: DecisionItem) -> str:
        """The row number as printed (positions keep gaps after removals)."""
        numbers: dict[int, int] | None = getattr(self, "_numbers", None)
        if numbers is None:
            page = getattr(self, "page", None)
            start = page.start_index() if page else 1
            rows = page.object_list if page else self.rows
            numbers = {row.record.pk: start + i for i, row in enumerate(rows)}
            self._numbers = numbers
        return _number(numbers.get(record.pk, 0))

    def render_remove(self, record: DecisionItem) -> SafeString:
        subject = record.assessment or record.nomination  # a nomination in an award decision
        return format_html(
            '<button class="btn btn-sm btn-outline-secondary" type="submit" name="item" '
            'value="{}">{}<span class="visually-hidden">: {}</span></button>',
            subject.public_id if subject is not None else "",
            _("Remove"),
            record.subject_name,
        )


def _result(record: Assessment) -> str:
    total = record.final_total if record.final_total is not None else record.self_total
    level = record.final_level or record.self_level
    if level:
        return _("Level %(level)s") % {"level": level}
    if total is not None:
        return formats.number_format(total, decimal_pos=2).rstrip("0").rstrip(",.")
    return "—"


class CandidateTable(tables.Table):
    select = tables.Column(
        verbose_name=gettext_lazy("Choose"), empty_values=(), orderable=False, accessor="pk"
    )
    subject = tables.Column(
        verbose_name=gettext_lazy("Subject"), empty_values=(), orderable=False, accessor="pk"
    )
    unit = tables.Column(verbose_name=gettext_lazy("Unit"), accessor="unit__name", orderable=False)
    proposing_unit = tables.Column(
        verbose_name=gettext_lazy("Proposing unit"),
        accessor="dossier__proposing_unit__name",
        orderable=False,
    )
    result = tables.Column(
        verbose_name=gettext_lazy("Result"), empty_values=(), orderable=False, accessor="pk"
    )

    class Meta:
        attrs = {"class": "table table-sm align-middle", "data-testid": "candidates"}
        empty_text = gettext_lazy("No approved item matches.")

    def render_select(self, record: Assessment) -> SafeString:
        return format_html(
            '<input class="form-check-input" type="checkbox" name="items" value="{}" '
            'aria-label="{}" form="annex-add-selected">',
            record.public_id,
            str(record.registration.subject),
        )

    def render_subject(self, record: Assessment) -> str:
        return str(record.registration.subject)

    def render_result(self, record: Assessment) -> str:
        return _result(record)


class AwardCandidateTable(tables.Table):
    """Approved nominations (award decisions): nominee, award form, nominating unit."""

    select = tables.Column(
        verbose_name=gettext_lazy("Choose"), empty_values=(), orderable=False, accessor="pk"
    )
    nominee = tables.Column(
        verbose_name=gettext_lazy("Nominee"), empty_values=(), orderable=False, accessor="pk"
    )
    award_form = tables.Column(verbose_name=gettext_lazy("Proposed award"), orderable=False)
    nominating_unit = tables.Column(
        verbose_name=gettext_lazy("Nominated by"),
        accessor="nominating_unit__name",
        orderable=False,
    )

    class Meta:
        attrs = {"class": "table table-sm align-middle", "data-testid": "candidates"}
        empty_text = gettext_lazy("No approved nomination matches.")

    def render_select(self, record: Any) -> SafeString:
        return format_html(
            '<input class="form-check-input" type="checkbox" name="items" value="{}" '
            'aria-label="{}" form="annex-add-selected">',
            record.public_id,
            record.nominee_name,
        )

    def render_nominee(self, record: Any) -> str:
        return str(record.nominee_name)

    def render_award_form(self, record: Any) -> str:
        return str(record.get_award_form_display())


# --- List and create -----------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def decision_list_view(request: AuthedRequest) -> HttpResponse:
    """The decisions of the user's units, and a form to start a new draft."""
    units = issuer_units(request.user)
    if request.method == "POST" and not units.exists():
        raise PermissionDenied
    form = DecisionCreateForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            decision = services.decision_create(
                actor=request.user,
                issuing_unit=data["issuing_unit"],
                title=data["title"],
                year=data["year"],
                scope_level=data["scope_level"] or "",
            )
        except ApplicationError as exc:
            forbid_wrong_role(exc)
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The draft decision was created; complete it below."))
            return _editor(decision)
    filters = DecisionFilterForm(request.GET or None)
    queryset = decisions_for_user(request.user)
    if filters.is_valid():
        data = filters.cleaned_data
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        if data.get("year"):
            queryset = queryset.filter(year=data["year"])
        if data.get("title"):
            queryset = queryset.filter(title=data["title"])
    table = DecisionTable(queryset)
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    context = {
        "table": table,
        "filters": filters,
        "form": form,
        "can_create": units.exists(),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "recognition/decision/decision_list.html", context, status=status)


# --- The editor ----------------------------------------------------------------------------


def _issue_job(user: Any, decision: Decision) -> Job | None:
    """The issue job the editor follows: running, waiting, or failed last."""
    if decision.status != S.DRAFT:
        return None
    job = jobs_for_object(user, decision, kind="decision.issue").first()
    if job is not None and job.status in (JobStatus.PENDING, JobStatus.RUNNING, JobStatus.FAILED):
        return job
    return None


def _candidate_choices(candidates: QuerySet[Any]) -> tuple[list[Any], list[Any]]:
    if candidates.model is not Assessment:  # nominations of an award decision
        nominating = candidates.order_by("nominating_unit__name").values_list(
            "nominating_unit__public_id", "nominating_unit__name"
        )
        return [(str(pid), name) for pid, name in nominating.distinct()], []
    units = [
        (str(pid), name)
        for pid, name in candidates.order_by("dossier__proposing_unit__name")
        .values_list("dossier__proposing_unit__public_id", "dossier__proposing_unit__name")
        .distinct()
    ]
    dossiers = [
        (str(pid), f"{name} — {Title(title).label if title else ''} {year}")
        for pid, name, title, year in candidates.order_by("dossier__proposing_unit__name")
        .values_list(
            "dossier__public_id", "dossier__proposing_unit__name", "dossier__title", "dossier__year"
        )
        .distinct()
    ]
    return units, dossiers


def _annex_filter_form(data: Any, decision: Decision) -> AnnexFilterForm:
    units, dossiers = _candidate_choices(services.annex_candidates(decision))
    return AnnexFilterForm(data, units=units, dossiers=dossiers)


def _annex_context(request: AuthedRequest, decision: Decision, editable: bool) -> dict[str, Any]:
    items = decision_items(decision)
    annex = AnnexTable(items, prefix="annex-", exclude=() if editable else ("remove",))
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(annex)
    by_unit = list(
        items.order_by("unit_name")
        .values("unit_name")
        .annotate(n=Count("pk"))
        .order_by("unit_name")[:50]
    )
    context: dict[str, Any] = {
        "annex": annex,
        "annex_count": annex.paginator.count,
        "annex_by_unit": by_unit,
    }
    if editable:
        filter_form = _annex_filter_form(request.GET or None, decision)
        filters = filter_form.filters()
        matching = services.filter_candidates(services.annex_candidates(decision), filters)
        table: tables.Table
        if decision.kind == DecisionKind.AWARD:
            table = AwardCandidateTable(
                matching.select_related(
                    "nominating_unit", "nominee_unit", "organisation", "household"
                ).order_by("award_form", "nominating_unit__sort_name", "pk"),
                prefix="cand-",
            )
        else:
            candidates = matching.select_related(
                *SUBJECT_RELATED, "unit", "dossier__proposing_unit"
            ).order_by("unit__sort_name", "registration__pk")
            table = CandidateTable(candidates, prefix="cand-")
        RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
        context.update(
            candidate_table=table,
            candidate_count=table.paginator.count,
            filter_form=filter_form,
            filters=filters,
        )
    return context


def editor_context(
    request: AuthedRequest, decision: Decision, *, form: DecisionForm | None = None, **extra: Any
) -> dict[str, Any]:
    can_issue = may_issue(request.user, decision.issuing_unit) and not _read_only_at(
        request.user, decision.issuing_unit
    )
    draft = decision.status == S.DRAFT
    issue_job = _issue_job(request.user, decision)
    issuing = issue_job is not None and issue_job.is_active
    editable = can_issue and draft and not issuing
    jobs = [
        progress_context(job)
        for job in jobs_for_object(request.user, decision)[:RECENT_JOBS]
        if issue_job is None or job.pk != issue_job.pk
    ]
    revoked_by = decisions_for_user(request.user).filter(revokes=decision).first()
    context: dict[str, Any] = {
        "decision": decision,
        "draft": draft,
        "can_issue": can_issue,
        "editable": editable,
        "issuing": issuing,
        "issue_job": progress_context(issue_job, reload=True) if issue_job else None,
        "jobs": jobs,
        "revoked_by": revoked_by,
        "title_label": Title(decision.title).label if decision.title else "",
        "preview_url": reverse(
            "recognition:decision-preview", kwargs={"public_id": decision.public_id}
        ),
    }
    if draft:
        context["problems"] = services.issue_problems(decision)
        if editable:
            context["form"] = form or DecisionForm(initial=DecisionForm.initial_for(decision))
    elif decision.status == S.ISSUED and can_issue and revoked_by is None:
        context["revoke_form"] = RevokeForm()
    context.update(_annex_context(request, decision, editable and decision.revokes_id is None))
    context.update(extra)
    return context


def _read_only_at(user: Any, unit: AdministrativeUnit) -> bool:
    try:
        require_write(user, unit)
    except (PermissionDenied, Http404):
        return True
    return False


def _render_editor(
    request: AuthedRequest, decision: Decision, status: int = 200, **extra: Any
) -> HttpResponse:
    return render(
        request,
        "recognition/decision/decision_detail.html",
        editor_context(request, decision, **extra),
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def decision_detail_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    """The decision: the editor of a draft (form, live preview, annex, issue) or
    the issued document read-only (PDF, certificates, revoke)."""
    decision = get_decision_for_user(request.user, public_id)
    if request.method == "GET":
        return _render_editor(request, decision)
    _require_issuer(request, decision)
    if decision.status != S.DRAFT:
        messages.error(
            request,
            _("An issued decision cannot be changed. To correct it, issue a decision revoking it."),
        )
        return _editor(decision)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _render_editor(request, decision, status=400, form=form)
    try:
        services.decision_update(
            actor=request.user,
            decision=decision,
            expected_version=form.cleaned_data["version"],
            data=form.document_values(),
        )
    except ConcurrentEditError:
        # Keep what the user typed; take the current version so a second save applies it.
        decision.refresh_from_db()
        data = request.POST.copy()
        data["version"] = str(decision.version)
        form = DecisionForm(data)
        form.is_valid()
        form.add_error(
            None,
            _(
                "Someone else changed this decision while you were editing it. Your text is "
                "kept below: check it against the preview and save again to apply it."
            ),
        )
        return _render_editor(request, decision, status=409, form=form, conflict=True)
    except ApplicationError as exc:
        forbid_wrong_role(exc)
        form.add_error(None, str(exc))
        return _render_editor(request, decision, status=400, form=form)
    messages.success(request, _("The draft was saved."))
    return _editor(decision)


def _unsaved_copy(decision: Decision, form: DecisionForm) -> Decision:
    """``decision`` with the posted values that are valid; never saved."""
    draft = copy.copy(decision)
    data = form.cleaned_data if hasattr(form, "cleaned_data") else {}
    for name in services.EDITABLE_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name == "articles":
            value = [line for line in value.splitlines() if line]
        setattr(draft, name, value)
    return draft


@login_required
@require_http_methods(["GET", "POST"])
def decision_preview_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    """The live preview (an iframe's ``srcdoc``) of the saved decision (GET) or of
    the values being typed (POST, htmx) — rendered, never saved."""
    from recognition.documents.decision_pdf import render_decision_html
    from recognition.documents.snapshot import decision_doc_from

    decision = get_decision_for_user(request.user, public_id)
    if request.method == "POST":
        _require_issuer(request, decision)
        form = DecisionForm(request.POST)
        form.is_valid()
        shown = _unsaved_copy(decision, form) if decision.status == S.DRAFT else decision
    else:
        shown = decision
    with translation.override("vi"):
        if shown.status == S.DRAFT:
            doc = decision_doc_from(shown, draft=True)
        else:
            doc = decision_doc_from(shown)
        html = render_decision_html(doc, preview_rows=PREVIEW_ROWS)
    response = render(request, "recognition/decision/_preview.html", {"srcdoc": html})
    response["Cache-Control"] = "private, no-store"
    return response


# --- The annex --------------------------------------------------------------------------


@login_required
@require_POST
def decision_annex_add_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Add every candidate matching the filters (``all``) or the ticked ones (``items``)."""
    decision = _writable(request, public_id)
    filter_form = _annex_filter_form(request.POST, decision)
    filters = filter_form.filters()
    ids = None if request.POST.get("all") else _uuids(request.POST.getlist("items"))
    if ids is not None and not ids:
        messages.info(request, _("Tick the items to add first."))
        return _editor(decision)
    try:
        added = services.annex_add(
            actor=request.user, decision=decision, filters=filters, assessment_ids=ids
        )
    except ApplicationError as exc:
        forbid_wrong_role(exc)
        messages.error(request, str(exc))
    else:
        if added:
            messages.success(
                request,
                ngettext(
                    "%(count)s item was added to the annex.",
                    "%(count)s items were added to the annex.",
                    added,
                )
                % {"count": _number(added)},
            )
        else:
            messages.info(request, _("No approved item matched: nothing was added."))
    return _editor(decision)


@login_required
@require_POST
def decision_annex_remove_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Remove one item (``item``) or the whole annex (``all``)."""
    decision = _writable(request, public_id)
    if request.POST.get("all"):
        ids = None
    else:
        ids = _uuids(request.POST.getlist("item"))
        if not ids:
            messages.info(request, _("Choose the item to remove."))
            return _editor(decision)
    try:
        removed = services.annex_remove(actor=request.user, decision=decision, assessment_ids=ids)
    except ApplicationError as exc:
        forbid_wrong_role(exc)
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            ngettext(
                "%(count)s item was taken out of the annex.",
                "%(count)s items were taken out of the annex.",
                removed,
            )
            % {"count": _number(removed)},
        )
    return _editor(decision)


# --- Issue, PDFs, certificates, revoke --------------------------------------------------


@login_required
@require_POST
def decision_issue_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Start issuing (numbering, PDF, recognition) as a job; the editor follows it."""
    decision = _writable(request, public_id)
    version = _int(request.POST.get("version"))
    try:
        services.decision_issue_start(
            actor=request.user, decision=decision, expected_version=version
        )
    except ConcurrentEditError:
        messages.error(
            request,
            _(
                "The draft was changed since you opened it (by you in another tab, or by "
                "someone else). Check it below and issue it again."
            ),
        )
    except ApplicationError as exc:
        forbid_wrong_role(exc)
        messages.error(request, str(exc))
    else:
        messages.info(
            request,
            _("Issuing has started: the number is given and the PDF rendered; follow it below."),
        )
    return _editor(decision)


@login_required
@require_POST
def decision_preview_pdf_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    decision = _writable(request, public_id)
    try:
        services.decision_preview_start(actor=request.user, decision=decision)
    except ApplicationError as exc:
        forbid_wrong_role(exc)
        messages.error(request, str(exc))
    else:
        messages.info(request, _("The draft PDF is being rendered; download it below."))
    return _editor(decision)


@login_required
@require_POST
def decision_certificates_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    decision = _writable(request, public_id)
    try:
        services.certificates_start(actor=request.user, decision=decision)
    except ApplicationError as exc:
        forbid_wrong_role(exc)
        messages.error(request, str(exc))
    else:
        messages.info(request, _("The certificates are being rendered; download them below."))
    return _editor(decision)


@login_required
@require_POST
def decision_revoke_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Draft a decision revoking this one (issuing it revokes)."""
    decision = _writable(request, public_id)
    form = RevokeForm(request.POST)
    if not form.is_valid():
        return _render_editor(request, decision, status=400, revoke_form=form)
    try:
        revoking = services.revocation_create(
            actor=request.user, decision=decision, reason=form.cleaned_data["reason"]
        )
    except ApplicationError as exc:
        forbid_wrong_role(exc)
        messages.error(request, str(exc))
        return _editor(decision)
    messages.success(
        request,
        _("The revoking decision was drafted: check it, date it and issue it to revoke %(ref)s.")
        % {"ref": decision.reference},
    )
    return _editor(revoking)


@login_required
@require_GET
def decision_pdf_view(request: AuthedRequest, public_id: str) -> FileResponse:
    """The issued decision's stored PDF, as an attachment (QD-05-2025.pdf)."""
    decision = get_decision_for_user(request.user, public_id)
    if decision.status == S.DRAFT or not decision.pdf:
        raise Http404
    try:
        handle = decision.pdf.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404 from exc
    response = FileResponse(
        handle, as_attachment=True, filename=pdf_file_name(decision), content_type="application/pdf"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- The issuer's profile ------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def issuer_profile_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    """How a unit writes its decisions (agency block, symbol, signer, recipients)."""
    unit = get_unit_for_user(request.user, public_id)
    if request.method == "POST":
        require_write(request.user, unit)
    if not may_issue(request.user, unit):
        raise PermissionDenied
    profile = services.issuer_profile_for(unit)
    back = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = ""
    initial = {name: getattr(profile, name) for name in IssuerProfileForm.FIELDS}
    form = IssuerProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.issuer_profile_save(actor=request.user, unit=unit, data=form.cleaned_data)
        except ApplicationError as exc:
            forbid_wrong_role(exc)
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("The issuer profile was saved; new decisions of %(unit)s start from it.")
                % {"unit": unit.name},
            )
            return redirect(back or reverse("recognition:decision-list"))
    context = {"unit": unit, "form": form, "saved": profile.pk is not None, "back": back}
    return render(request, "recognition/decision/issuer_profile.html", context)


# --- Public verification of a certificate ------------------------------------------------


@never_cache
@require_GET
@ratelimit("verify", setting="VERIFY_RATE_LIMIT", default="30/m")
def verify_view(request: HttpRequest, token: str) -> HttpResponse:
    """What the certificate itself shows, and whether it is still valid.

    Public (the QR code of a printed certificate points here). Nothing else is
    shown: no identity number, birth year, scores or evidence. An unknown token
    answers the same "not found" page as a malformed one, after the same single
    indexed lookup.
    """
    certificate = certificate_for_token(token)
    if certificate is None:
        response = render(request, "recognition/verify/not_found.html", status=404)
    else:
        item = certificate.item
        decision = item.decision
        revoking = getattr(decision, "revoked_by", None) if decision.status == S.REVOKED else None
        context = {
            "name": item.subject_name,
            "kind": item.subject_kind,
            # As the certificate prints it: a clan's representative, else the address.
            "address": item.address,
            "address_label": _("Representative") if item.subject_kind == "clan" else _("Address"),
            "title_label": Title(decision.title).label if decision.title else "",
            "year": decision.year,
            "agency": decision.agency,
            "parent_agency": decision.parent_agency,
            "reference": decision.reference,
            "issued_on": decision.issued_on,
            "valid": decision.status == S.ISSUED,
            "revoking": revoking,
        }
        response = render(request, "recognition/verify/certificate.html", context)
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
