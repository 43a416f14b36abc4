"""Criteria sets: everyone reads (the shipped national sets and their own
tenant's); the tenant's root administrators create, clone, version, edit,
publish and retire. Every lookup goes through recognition.selectors.criteria
(another tenant's set: 404); every write through recognition.services.criteria.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import ApplicationError
from core.http import AuthedRequest
from recognition.exceptions import IncompleteSetError, PublishedSetImmutableError
from recognition.forms.criteria import (
    CloneForm,
    CriteriaSetForm,
    CriterionForm,
    IndicatorForm,
    MoveForm,
    PreviewForm,
    RemoveCriterionForm,
    VersionForm,
)
from recognition.models import CriteriaSet, ScoringMethod, SetStatus
from recognition.scoring import Result, rule_from_set, score, threshold_for
from recognition.selectors.criteria import (
    assessment_count,
    can_manage_criteria,
    criteria_set_for,
    criteria_set_history,
    criteria_sets_for_user,
    criteria_with_indicators,
    get_criteria_set_for_user,
    get_criterion_of_set,
    get_indicator_for_user,
    indicators_of,
    require_criteria_admin,
    search_criteria_sets,
    versions_of,
)
from recognition.services import criteria as services
from recognition.titles import Title
from units.selectors import tenant_for_user

LIST_LIMIT = 300

#: How each audit action on a set reads in its history.
ACTION_LABELS = {
    "criteria_set.create": gettext_lazy("Set created"),
    "criteria_set.import": gettext_lazy("Loaded from the shipped national data"),
    "criteria_set.clone": gettext_lazy("Copied from another set"),
    "criteria_set.new_version": gettext_lazy("New version started"),
    "criteria_set.update": gettext_lazy("Details changed"),
    "criteria_set.publish": gettext_lazy("Published"),
    "criteria_set.retire": gettext_lazy("Retired"),
    "criterion.add": gettext_lazy("Criterion added"),
    "criterion.update": gettext_lazy("Criterion changed"),
    "criterion.remove": gettext_lazy("Criterion removed"),
    "criterion.move": gettext_lazy("Criteria reordered"),
    "indicator.add": gettext_lazy("Indicator added"),
    "indicator.update": gettext_lazy("Indicator changed"),
    "indicator.remove": gettext_lazy("Indicator removed"),
    "indicator.move": gettext_lazy("Indicators reordered"),
}


def _detail_url(cs: CriteriaSet) -> str:
    return reverse("recognition:criteria-detail", args=[cs.public_id])


def _editable_or_redirect(request: AuthedRequest, cs: CriteriaSet) -> HttpResponse | None:
    """Editing pages: 403 for the shipped sets and for anyone but the root
    administrators; a published or retired set sends back to its page."""
    require_criteria_admin(request.user)
    if cs.tenant_id is None:
        raise PermissionDenied
    if cs.status != SetStatus.DRAFT:
        messages.error(request, str(PublishedSetImmutableError.default_message))
        return redirect(_detail_url(cs))
    return None


def _year(value: str) -> int | None:
    return int(value) if value.isdigit() and 1990 <= int(value) <= 2100 else None


# --- Reading ------------------------------------------------------------------------


@login_required
def set_list(request: AuthedRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    title = request.GET.get("title", "")
    status = request.GET.get("status", "")
    year_text = request.GET.get("year", "").strip()
    sets = search_criteria_sets(
        criteria_sets_for_user(request.user).select_related("tenant"),
        q=q,
        title=title if title in Title.values else "",
        status=status if status in SetStatus.values else "",
        year=_year(year_text),
    ).order_by("title", "scope_level", "tenant_id", "code", "-version")
    context = {
        "sets": sets[:LIST_LIMIT],
        "limit": LIST_LIMIT,
        "q": q,
        "title": title,
        "status": status,
        "year": year_text,
        "titles": Title.choices,
        "statuses": SetStatus.choices,
        "can_manage": can_manage_criteria(request.user),
    }
    return render(request, "recognition/criteria/set_list.html", context)


def _detail_context(
    request: AuthedRequest,
    cs: CriteriaSet,
    *,
    preview: PreviewForm | None = None,
    result: Result | None = None,
) -> dict[str, Any]:
    criteria = criteria_with_indicators(cs)
    indicators = [i for c in criteria for i in c.indicators.all()]
    level_numbers = [int(lv["number"]) for lv in cs.levels or []]
    for indicator in indicators:
        requirements = indicator.requirements or {}
        indicator.level_texts = [  # type: ignore[attr-defined]
            str(requirements.get(str(n), "")) for n in level_numbers
        ]
    history = criteria_set_history(cs)
    for event in history:
        event.label = ACTION_LABELS.get(event.action, event.action)  # type: ignore[attr-defined]
    year = timezone.localdate().year
    can_manage = can_manage_criteria(request.user)
    can_edit = can_manage and cs.tenant_id is not None and cs.status == SetStatus.DRAFT
    return {
        "cs": cs,
        "criteria": criteria,
        "indicator_count": len(indicators),
        "incomplete_indicators": [i for i in indicators if i.needs_completion],
        "needs_completion": cs.needs_completion or any(i.needs_completion for i in indicators),
        "legal_lines": [line for line in cs.legal_basis.splitlines() if line.strip()],
        "year": year,
        "in_use": criteria_set_for(
            tenant=request.user.tenant, title=cs.title, scope_level=cs.scope_level, year=year
        )
        if request.user.tenant
        else None,
        "assessments": assessment_count(cs),
        "versions": list(versions_of(cs)),
        "history": history,
        "can_manage": can_manage,
        "can_edit": can_edit,
        "problems": services.publish_problems(cs) if can_edit else [],
        "preview": preview
        or PreviewForm(criteria_set=cs, indicators=indicators, auto_id="preview_%s"),
        "result": result,
        "is_points": cs.method == ScoringMethod.POINTS,
        "levels": {int(lv["number"]): lv["label"] for lv in cs.levels or []},
        "version_form": VersionForm(initial={"version": cs.edit_version}),
    }


@login_required
def set_detail(request: AuthedRequest, public_id: str) -> HttpResponse:
    cs = get_criteria_set_for_user(request.user, public_id)
    return render(request, "recognition/criteria/set_detail.html", _detail_context(request, cs))


def _preview_context(cs: CriteriaSet, form: PreviewForm) -> dict[str, Any]:
    result = None
    threshold = None
    if form.is_valid():
        area = form.cleaned_data.get("area_class", "normal")
        rule = rule_from_set(cs)
        result = score(rule, form.values(), area)
        threshold = threshold_for(rule, area) if form.is_points else None
    levels = {int(lv["number"]): lv["label"] for lv in cs.levels or []}
    bands = {str(b.get("code")): b.get("label") for b in cs.grade_bands or []}
    return {
        "cs": cs,
        "preview": form,
        "result": result,
        "threshold": threshold,
        "is_points": cs.method == ScoringMethod.POINTS,
        "level_label": levels.get(result.level or 0, "") if result else "",
        "grade_label": bands.get(result.grade, "") if result and result.grade else "",
        "has_bands": bool(bands),
    }


@login_required
@require_POST
def set_preview(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Try the set's scoring on entered points or levels (saves nothing).

    htmx gets the result partial; a plain form post gets the whole page.
    """
    cs = get_criteria_set_for_user(request.user, public_id)
    form = PreviewForm(
        request.POST, criteria_set=cs, indicators=list(indicators_of(cs)), auto_id="preview_%s"
    )
    context = _preview_context(cs, form)
    if getattr(request, "htmx", False):
        return render(request, "recognition/criteria/_preview_result.html", context)
    page = _detail_context(request, cs, preview=form, result=context["result"])
    page.update(context)
    return render(request, "recognition/criteria/set_detail.html", page)


# --- Creating ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def set_create(request: AuthedRequest) -> HttpResponse:
    require_criteria_admin(request.user)
    form = CriteriaSetForm(
        request.POST or None,
        initial={"year_from": timezone.localdate().year, "method": ScoringMethod.POINTS},
    )
    if request.method == "POST" and form.is_valid():
        try:
            cs = services.criteria_set_create(
                actor=request.user, tenant=request.user.tenant, fields=form.to_fields()
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The criteria set was created as a draft."))
            return redirect(_detail_url(cs))
    return render(request, "recognition/criteria/set_form.html", {"form": form, "cs": None})


def _free_code(request: AuthedRequest, code: str) -> str:
    """A code for a copy that the tenant does not use yet."""
    taken = set(
        criteria_sets_for_user(request.user)
        .filter(tenant__isnull=False)
        .values_list("code", flat=True)
    )
    if code not in taken:
        return code
    n = 2
    while f"{code}-{n}" in taken:
        n += 1
    return f"{code}-{n}"


@login_required
@require_http_methods(["GET", "POST"])
def set_clone(request: AuthedRequest, public_id: str) -> HttpResponse:
    source = get_criteria_set_for_user(request.user, public_id)
    require_criteria_admin(request.user)
    tenant = tenant_for_user(request.user)
    form = CloneForm(
        request.POST or None,
        initial={"code": _free_code(request, source.code), "name": source.name},
    )
    if request.method == "POST" and form.is_valid():
        try:
            cs = services.criteria_set_clone(
                actor=request.user,
                source=source,
                tenant=tenant,
                code=form.cleaned_data["code"],
                name=form.cleaned_data["name"],
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _(
                    "The set was copied into your organisation as a draft. "
                    "Complete it, then publish it."
                ),
            )
            return redirect(_detail_url(cs))
    return render(request, "recognition/criteria/set_clone.html", {"form": form, "source": source})


@login_required
@require_http_methods(["GET", "POST"])
def set_new_version(request: AuthedRequest, public_id: str) -> HttpResponse:
    cs = get_criteria_set_for_user(request.user, public_id)
    require_criteria_admin(request.user)
    if cs.tenant_id is None:
        raise PermissionDenied
    form = VersionForm(request.POST or None, initial={"version": cs.edit_version})
    if request.method == "POST" and form.is_valid():
        try:
            draft = services.criteria_set_new_version(actor=request.user, criteria_set=cs)
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("Version %(version)s was created as a draft.") % {"version": draft.version},
            )
            return redirect(_detail_url(draft))
    return render(
        request,
        "recognition/criteria/set_confirm.html",
        {"cs": cs, "form": form, "action": "new-version"},
    )


# --- Editing a draft -------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def set_edit(request: AuthedRequest, public_id: str) -> HttpResponse:
    cs = get_criteria_set_for_user(request.user, public_id)
    if (refused := _editable_or_redirect(request, cs)) is not None:
        return refused
    form = CriteriaSetForm(
        request.POST or None, with_code=False, initial=CriteriaSetForm.initial_from(cs)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.criteria_set_update(
                actor=request.user,
                criteria_set=cs,
                expected_version=form.cleaned_data["version"] or 0,
                fields=form.to_fields(),
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Changes saved."))
            return redirect(_detail_url(cs))
    return render(request, "recognition/criteria/set_form.html", {"form": form, "cs": cs})


@login_required
@require_http_methods(["GET", "POST"])
def criterion_edit(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Add a criterion (no ``n``) or edit criterion number ``n`` of a draft set."""
    cs = get_criteria_set_for_user(request.user, public_id)
    if (refused := _editable_or_redirect(request, cs)) is not None:
        return refused
    n = request.POST.get("n") or request.GET.get("n")
    criterion = get_criterion_of_set(cs, n) if n else None
    initial = (
        CriterionForm.initial_from(criterion, cs.edit_version)
        if criterion
        else {"version": cs.edit_version}
    )
    form = CriterionForm(request.POST or None, criteria_set=cs, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if criterion is None:
                services.criterion_add(
                    actor=request.user,
                    criteria_set=cs,
                    expected_version=form.cleaned_data["version"],
                    fields=form.to_fields(),
                )
            else:
                services.criterion_update(
                    actor=request.user,
                    criterion=criterion,
                    expected_version=form.cleaned_data["version"],
                    fields=form.to_fields(),
                )
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("Criterion added.") if criterion is None else _("Changes saved.")
            )
            return redirect(_detail_url(cs))
    return render(
        request,
        "recognition/criteria/criterion_form.html",
        {"form": form, "cs": cs, "criterion": criterion},
    )


def _post_outcome(request: AuthedRequest, cs: CriteriaSet, form: Any, done: str) -> HttpResponse:
    """After a one-click action: the message, then back to the set's page."""
    if form.errors:
        messages.error(request, _("The request was not understood; reload the page."))
    else:
        messages.success(request, done)
    return redirect(_detail_url(cs))


@login_required
@require_POST
def criterion_remove(request: AuthedRequest, public_id: str) -> HttpResponse:
    cs = get_criteria_set_for_user(request.user, public_id)
    if (refused := _editable_or_redirect(request, cs)) is not None:
        return refused
    form = RemoveCriterionForm(request.POST)
    if form.is_valid():
        criterion = get_criterion_of_set(cs, form.cleaned_data["n"])
        try:
            services.criterion_remove(
                actor=request.user,
                criterion=criterion,
                expected_version=form.cleaned_data["version"],
            )
        except ApplicationError as exc:
            messages.error(request, str(exc))
            return redirect(_detail_url(cs))
    return _post_outcome(request, cs, form, _("Criterion removed."))


@login_required
@require_POST
def criterion_move(request: AuthedRequest, public_id: str) -> HttpResponse:
    cs = get_criteria_set_for_user(request.user, public_id)
    if (refused := _editable_or_redirect(request, cs)) is not None:
        return refused
    form = MoveForm(request.POST)
    if form.is_valid():
        criterion = get_criterion_of_set(cs, form.cleaned_data["n"])
        try:
            services.criterion_move(
                actor=request.user,
                criterion=criterion,
                expected_version=form.cleaned_data["version"],
                up=form.cleaned_data["direction"] == "up",
            )
        except ApplicationError as exc:
            messages.error(request, str(exc))
            return redirect(_detail_url(cs))
    return _post_outcome(request, cs, form, _("Order changed."))


@login_required
@require_http_methods(["GET", "POST"])
def indicator_add(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Add an indicator to criterion number ``criterion`` of a draft set."""
    cs = get_criteria_set_for_user(request.user, public_id)
    if (refused := _editable_or_redirect(request, cs)) is not None:
        return refused
    criteria = list(cs.criteria.order_by("order"))
    if not criteria:
        messages.error(request, _("Add a criterion first: every indicator belongs to one."))
        return redirect(_detail_url(cs))
    form = IndicatorForm(
        request.POST or None,
        criteria_set=cs,
        criteria=criteria,
        initial={
            "version": cs.edit_version,
            "criterion": request.GET.get("criterion") or criteria[0].order,
        },
    )
    if request.method == "POST" and form.is_valid():
        criterion = get_criterion_of_set(cs, form.cleaned_data["criterion"])
        try:
            services.indicator_add(
                actor=request.user,
                criterion=criterion,
                expected_version=form.cleaned_data["version"],
                fields=form.to_fields(),
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Indicator added."))
            return redirect(_detail_url(cs))
    return render(
        request,
        "recognition/criteria/indicator_form.html",
        {"form": form, "cs": cs, "criterion": None, "indicator": None},
    )


@login_required
@require_http_methods(["GET", "POST"])
def indicator_edit(request: AuthedRequest, public_id: str) -> HttpResponse:
    indicator = get_indicator_for_user(request.user, public_id)
    cs = indicator.criterion.criteria_set
    if (refused := _editable_or_redirect(request, cs)) is not None:
        return refused
    form = IndicatorForm(
        request.POST or None,
        criteria_set=cs,
        initial=IndicatorForm.initial_from(indicator, cs.edit_version),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.indicator_update(
                actor=request.user,
                indicator=indicator,
                expected_version=form.cleaned_data["version"],
                fields=form.to_fields(),
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Changes saved."))
            return redirect(_detail_url(cs))
    return render(
        request,
        "recognition/criteria/indicator_form.html",
        {"form": form, "cs": cs, "criterion": indicator.criterion, "indicator": indicator},
    )


@login_required
@require_POST
def indicator_remove(request: AuthedRequest, public_id: str) -> HttpResponse:
    indicator = get_indicator_for_user(request.user, public_id)
    cs = indicator.criterion.criteria_set
    if (refused := _editable_or_redirect(request, cs)) is not None:
        return refused
    form = VersionForm(request.POST)
    if form.is_valid():
        try:
            services.indicator_remove(
                actor=request.user,
                indicator=indicator,
                expected_version=form.cleaned_data["version"],
            )
        except ApplicationError as exc:
            messages.error(request, str(exc))
            return redirect(_detail_url(cs))
    return _post_outcome(request, cs, form, _("Indicator removed."))


@login_required
@require_POST
def indicator_move(request: AuthedRequest, public_id: str) -> HttpResponse:
    indicator = get_indicator_for_user(request.user, public_id)
    cs = indicator.criterion.criteria_set
    if (refused := _editable_or_redirect(request, cs)) is not None:
        return refused
    form = MoveForm(request.POST)
    if form.is_valid():
        try:
            services.indicator_move(
                actor=request.user,
                indicator=indicator,
                expected_version=form.cleaned_data["version"],
                up=form.cleaned_data["direction"] == "up",
            )
        except ApplicationError as exc:
            messages.error(request, str(exc))
            return redirect(_detail_url(cs))
    return _post_outcome(request, cs, form, _("Order changed."))


# --- Publishing ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def set_publish(request: AuthedRequest, public_id: str) -> HttpResponse:
    """GET shows what still stops publication; POST publishes or lists the problems."""
    cs = get_criteria_set_for_user(request.user, public_id)
    if (refused := _editable_or_redirect(request, cs)) is not None:
        return refused
    form = VersionForm(request.POST or None, initial={"version": cs.edit_version})
    problems = services.publish_problems(cs)
    if request.method == "POST" and form.is_valid():
        try:
            services.criteria_set_publish(
                actor=request.user, criteria_set=cs, expected_version=form.cleaned_data["version"]
            )
        except IncompleteSetError as exc:
            problems = list(exc.params.get("problems", [])) or [str(exc)]
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _(
                    "The criteria set is published. New assessments of its title and "
                    "years are scored under it."
                ),
            )
            return redirect(_detail_url(cs))
    return render(
        request,
        "recognition/criteria/set_confirm.html",
        {"cs": cs, "form": form, "action": "publish", "problems": problems},
    )


@login_required
@require_http_methods(["GET", "POST"])
def set_retire(request: AuthedRequest, public_id: str) -> HttpResponse:
    cs = get_criteria_set_for_user(request.user, public_id)
    require_criteria_admin(request.user)
    if cs.tenant_id is None:
        raise PermissionDenied
    form = VersionForm(request.POST or None, initial={"version": cs.edit_version})
    if request.method == "POST" and form.is_valid():
        try:
            services.criteria_set_retire(
                actor=request.user, criteria_set=cs, expected_version=form.cleaned_data["version"]
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The criteria set is no longer in use."))
            return redirect(_detail_url(cs))
    return render(
        request,
        "recognition/criteria/set_confirm.html",
        {"cs": cs, "form": form, "action": "retire", "assessments": assessment_count(cs)},
    )
