"""Screens of the reviewer: the queue of dossiers from the units below, the review
page (per-item and bulk actions, the changes since the last return, return the
dossier, finish the review), the reviewer's score of one item, and the tenant
administrator's review-chain configuration.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import ApplicationError
from core.http import AuthedRequest
from recognition.forms.dossier import (
    ChainEndForm,
    ItemActionForm,
    ReasonForm,
    ReviewChainForm,
    ReviewScoreForm,
    VersionForm,
)
from recognition.models import (
    AssessmentStatus,
    Dossier,
    DossierStatus,
    Indicator,
    IndicatorScore,
    ScoringMethod,
)
from recognition.selectors.dossier import (
    QueueFilters,
    dossier_item_page,
    get_chain_for_user,
    get_dossier_for_user,
    get_item,
    get_review_item_for_user,
    queue_counts,
    review_chains_for_user,
    review_queue,
    scope_label,
    subject_label,
    timeline_entries,
)
from recognition.selectors.dossier import dossier_events as events_of
from recognition.services import chain as chain_services
from recognition.services import dossier as dossier_services
from recognition.services import review as services
from recognition.titles import Title
from recognition.transitions import REVIEWER
from recognition.views.dossier import forbid_wrong_role
from units.models import AdministrativeUnit
from units.selectors import has_any_role, is_admin_at, require_write, roles_at

ITEMS_PER_PAGE = 200
RECENT_EVENTS = 12


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
@require_http_methods(["GET"])
def review_queue_view(request: AuthedRequest) -> HttpResponse:
    """Dossiers sent to the units the user reviews, with filters and counts."""
    status = request.GET.get("status", DossierStatus.SUBMITTED)
    if status not in {"", DossierStatus.SUBMITTED, DossierStatus.RETURNED, DossierStatus.APPROVED}:
        status = DossierStatus.SUBMITTED
    title = request.GET.get("title", "")
    if title not in Title.values:
        title = ""
    filters = QueueFilters(
        status=status,
        title=title,
        year=_int(request.GET.get("year")),
        q=request.GET.get("q", "").strip()[:100],
    )
    page = Paginator(review_queue(request.user, filters), 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filters": filters,
        "titles": Title.choices,
        "is_reviewer": has_any_role(request.user, REVIEWER),
        "can_configure": _is_tenant_admin(request),
        "tabs": [
            (status, DossierStatus(status).label, n)
            for status, n in queue_counts(request.user, filters).items()
        ],
    }
    for dossier in page:
        dossier.scope_label = scope_label(dossier.scope_level)  # type: ignore[attr-defined]
    return render(request, "recognition/review/review_queue.html", context)


def may_review(user: Any, dossier: Dossier) -> bool:
    return bool(roles_at(user, dossier.reviewing_unit) & REVIEWER)


def _review_context(request: AuthedRequest, dossier: Dossier, **extra: Any) -> dict[str, Any]:
    can_review = may_review(request.user, dossier) and dossier.status == DossierStatus.SUBMITTED
    items = dossier_item_page(dossier, request.GET.get("page"), ITEMS_PER_PAGE)
    recent = list(events_of(dossier).reverse()[:RECENT_EVENTS])
    context: dict[str, Any] = {
        "dossier": dossier,
        "progress": dossier_services.dossier_progress(dossier),
        "items": items,
        "changes": dossier_services.dossier_changes(dossier),
        "can_review": can_review,
        "statuses": AssessmentStatus,
        "action_form": ItemActionForm(),
        "return_form": ReasonForm(initial={"version": dossier.version}),
        "version_form": VersionForm(initial={"version": dossier.version}),
        "recent": timeline_entries(recent),
        "scope_label": scope_label(dossier.scope_level),
        "submitted_count": dossier.items.filter(status=AssessmentStatus.SUBMITTED).count(),
    }
    context.update(extra)
    return context


@login_required
@require_http_methods(["GET"])
def review_detail_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    dossier = get_dossier_for_user(request.user, public_id)
    return render(
        request, "recognition/review/review_detail.html", _review_context(request, dossier)
    )


def _writable(request: AuthedRequest, public_id: str) -> Dossier:
    dossier = get_dossier_for_user(request.user, public_id)
    require_write(request.user, dossier.proposing_unit)
    return dossier


def _back(dossier: Dossier, request: AuthedRequest) -> HttpResponse:
    url = reverse("recognition:review-detail", kwargs={"public_id": dossier.public_id})
    page = _int(request.POST.get("page"))
    return redirect(f"{url}?page={page}" if page and page > 1 else url)


@login_required
@require_POST
def review_items_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Approve, return or refuse one item (``item``) or the checked ones (``items``)."""
    dossier = _writable(request, public_id)
    form = ItemActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose an action."))
        return _back(dossier, request)
    action, reason = form.cleaned_data["action"], form.cleaned_data["reason"]
    single = request.POST.get("item", "")
    ids = request.POST.getlist("items")
    if request.POST.get("all_submitted"):
        ids = [
            str(pk)
            for pk in dossier.items.filter(status=AssessmentStatus.SUBMITTED).values_list(
                "public_id", flat=True
            )
        ]
    try:
        if single:
            item = get_item(dossier, single)
            decide = {
                "approve": lambda: services.item_approve(actor=request.user, item=item),
                "return": lambda: services.item_return(
                    actor=request.user, item=item, reason=reason
                ),
                "reject": lambda: services.item_reject(
                    actor=request.user, item=item, reason=reason
                ),
            }[action]
            decide()
            count = 1
        else:
            count = services.items_decide(
                actor=request.user,
                dossier=dossier,
                action=action,
                assessment_ids=ids,
                reason=reason,
            )
    except ApplicationError as exc:
        forbid_wrong_role(exc)
        messages.error(request, str(exc))
    else:
        done = {
            "approve": ngettext(
                "%(count)s item was approved.", "%(count)s items were approved.", count
            ),
            "return": ngettext(
                "%(count)s item was returned to the ward.",
                "%(count)s items were returned to the ward.",
                count,
            ),
            "reject": ngettext(
                "%(count)s item was not approved.", "%(count)s items were not approved.", count
            ),
        }[action]
        messages.success(request, done % {"count": count})
    return _back(dossier, request)


@login_required
@require_POST
def review_return_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Return the whole dossier with a reason."""
    dossier = _writable(request, public_id)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        context = _review_context(request, dossier, return_form=form)
        return render(request, "recognition/review/review_detail.html", context, status=400)
    try:
        services.dossier_return(
            actor=request.user,
            dossier=dossier,
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data.get("version"),
            base_url=request.build_absolute_uri("/"),
        )
    except ApplicationError as exc:
        forbid_wrong_role(exc)
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("The dossier was returned to the ward, which has been notified.")
        )
    return _back(dossier, request)


@login_required
@require_POST
def review_finish_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    dossier = _writable(request, public_id)
    form = VersionForm(request.POST)
    version = form.cleaned_data.get("version") if form.is_valid() else None
    try:
        result = services.dossier_finish(
            actor=request.user,
            dossier=dossier,
            expected_version=version,
            base_url=request.build_absolute_uri("/"),
        )
    except ApplicationError as exc:
        forbid_wrong_role(exc)
        messages.error(request, str(exc))
    else:
        if result.status == DossierStatus.APPROVED:
            messages.success(request, _("The review is finished; the ward has been notified."))
        else:
            messages.warning(
                request,
                _("Some items were returned: the dossier went back to the ward to fix them."),
            )
    return _back(dossier, request)


@login_required
@require_http_methods(["GET", "POST"])
def review_score_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    """The reviewer's own points (or levels) for one item."""
    item = get_review_item_for_user(request.user, public_id)
    dossier = item.dossier
    assert dossier is not None  # noqa: S101 — get_review_item_for_user only finds dossier items
    if request.method == "POST":
        require_write(request.user, dossier.proposing_unit)
    criteria_set = item.criteria_set
    indicators = list(
        Indicator.objects.filter(criterion__criteria_set=criteria_set)
        .select_related("criterion")
        .order_by("criterion__order", "order")
    )
    scores = {s.indicator_id: s for s in IndicatorScore.objects.filter(assessment=item)}
    levels = [int(lv["number"]) for lv in criteria_set.levels or []] or [1, 2]
    levels_method = criteria_set.method == ScoringMethod.LEVELS
    initial: dict[str, Any] = {"version": item.version}
    for ind in indicators:
        row = scores.get(ind.pk)
        if row is not None:
            value = row.review_level if levels_method else row.review_points
            if value is not None:
                initial[ReviewScoreForm.field_name(ind)] = value
    form = ReviewScoreForm(
        request.POST or None,
        initial=initial,
        indicators=indicators,
        method=criteria_set.method,
        max_level=max(levels),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.item_confirm_score(
                actor=request.user,
                item=item,
                scores=form.scores(),
                expected_version=form.cleaned_data.get("version"),
            )
        except ApplicationError as exc:
            forbid_wrong_role(exc)
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The reviewer's scores were saved."))
            return redirect("recognition:review-detail", public_id=dossier.public_id)
    rows = [
        {
            "indicator": ind,
            "field": form[ReviewScoreForm.field_name(ind)],
            "self": (
                (scores[ind.pk].self_level if levels_method else scores[ind.pk].self_points)
                if ind.pk in scores
                else None
            ),
        }
        for ind in indicators
    ]
    context = {
        "item": item,
        "label": subject_label(item),
        "dossier": dossier,
        "form": form,
        "rows": rows,
        "levels_method": levels_method,
        "can_review": may_review(request.user, dossier)
        and dossier.status == DossierStatus.SUBMITTED
        and item.status == AssessmentStatus.SUBMITTED,
    }
    return render(request, "recognition/review/review_score.html", context)


# --- Review chains (tenant administrator) -------------------------------------------


def _tenant_root(request: AuthedRequest) -> AdministrativeUnit | None:
    tenant_id = request.user.tenant_id
    if tenant_id is None:
        return None
    return AdministrativeUnit.objects.filter(tenant_id=tenant_id, parent__isnull=True).first()


def _is_tenant_admin(request: AuthedRequest) -> bool:
    root = _tenant_root(request)
    return root is not None and is_admin_at(request.user, root)


def _require_tenant_admin(request: AuthedRequest) -> AdministrativeUnit:
    root = _tenant_root(request)
    if root is None or not is_admin_at(request.user, root):
        raise PermissionDenied
    return root


@login_required
@require_http_methods(["GET", "POST"])
def review_chain_list_view(request: AuthedRequest) -> HttpResponse:
    """Who proposes, reviews and recognises each title, per period."""
    root = _require_tenant_admin(request)
    form = ReviewChainForm(
        request.POST or None,
        initial={
            "proposer_level": "commune",
            "reviewer_level": "district",
            "recogniser_level": "commune",
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            chain_services.review_chain_create(
                actor=request.user,
                tenant=root.tenant,
                title=data["title"],
                scope_level=data["scope_level"] or "",
                valid_from=data["valid_from"],
                valid_to=data["valid_to"],
                proposer_level=data["proposer_level"],
                reviewer_level=data["reviewer_level"],
                recogniser_level=data["recogniser_level"],
                recogniser_label=data["recogniser_label"],
                legal_basis=data["legal_basis"],
            )
        except ApplicationError as exc:
            forbid_wrong_role(exc)
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The review chain was added."))
            return redirect("recognition:review-chain-list")
    context = {
        "chains": review_chains_for_user(request.user),
        "form": form,
        "end_form": ChainEndForm(),
    }
    return render(request, "recognition/review/chain_list.html", context)


@login_required
@require_POST
def review_chain_defaults_view(request: AuthedRequest) -> HttpResponse:
    """Add the default chains the tenant lacks (chains already set stay as they are)."""
    root = _require_tenant_admin(request)
    created = chain_services.ensure_default_chains(root.tenant, actor=request.user)
    if created:
        messages.success(
            request,
            ngettext(
                "%(count)s default review chain was added.",
                "%(count)s default review chains were added.",
                created,
            )
            % {"count": created},
        )
    else:
        messages.info(request, _("Every title already has a review chain."))
    return redirect("recognition:review-chain-list")


@login_required
@require_POST
def review_chain_end_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    chain = get_chain_for_user(request.user, public_id)
    _require_tenant_admin(request)
    form = ChainEndForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the last day as dd/mm/yyyy."))
        return redirect("recognition:review-chain-list")
    try:
        chain_services.review_chain_end(
            actor=request.user, chain=chain, valid_to=form.cleaned_data["valid_to"]
        )
    except ApplicationError as exc:
        forbid_wrong_role(exc)
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The review chain now ends on the day given."))
    return redirect("recognition:review-chain-list")
