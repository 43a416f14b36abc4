"""Personal data on request: a person's export, erasure (with a confirmation
screen), and the tenant administrator's access log (Luật 91/2025/QH15).

Every lookup goes through the scoped selectors: 404 outside the user's tenant
or subtree, 403 for roles other than the tenant administrator.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.exceptions import ApplicationError
from core.http import AuthedRequest
from recognition.forms.personal_data import AccessLogFilterForm, ErasureForm
from recognition.models import DecisionItem, Evidence, Registration
from recognition.personal_data.access_log import PERSON_MODELS
from recognition.personal_data.erasure import can_erase, person_erase
from recognition.personal_data.selectors import (
    access_log_for_user,
    filter_access_log,
    subject_names,
)
from recognition.personal_data.subject_export import person_export
from recognition.selectors.subjects import get_subject_for_user, subject_name
from recognition.titles import SubjectKind

PERSON_KINDS = (SubjectKind.HOUSEHOLD, SubjectKind.CITIZEN)


def _person_for_admin(request: AuthedRequest, kind: str, public_id: str) -> Any:
    """The household or citizen, for a tenant administrator over it (404 / 403)."""
    if kind not in PERSON_KINDS:
        raise Http404
    subject = get_subject_for_user(request.user, kind, public_id)
    if not can_erase(request.user, subject):
        raise PermissionDenied
    return subject


@login_required
@require_GET
def person_data_export(request: AuthedRequest, kind: str, public_id: str) -> HttpResponse:
    subject = _person_for_admin(request, kind, public_id)
    content = person_export(actor=request.user, subject=subject, request=request)
    stamp = timezone.localdate().strftime("%Y%m%d")
    response = HttpResponse(content, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="du-lieu-ca-nhan-{kind}-{subject.public_id.hex[:8]}-{stamp}.json"'
    )
    return response


def _erasure_impact(subject: Any) -> dict[str, int]:
    kind = PERSON_MODELS[type(subject)]
    registrations = Registration.objects.filter(**{kind: subject})
    return {
        "registrations": registrations.count(),
        "evidence_files": Evidence.objects.filter(
            assessment__registration__in=registrations
        ).count(),
        "decision_items": DecisionItem.objects.filter(
            assessment__registration__in=registrations
        ).count(),
    }


@login_required
@require_http_methods(["GET", "POST"])
def person_data_erase(request: AuthedRequest, kind: str, public_id: str) -> HttpResponse:
    """First screen: the request's reference and reason; second screen: confirm."""
    subject = _person_for_admin(request, kind, public_id)
    detail_url = f"recognition:{kind}-detail"
    if subject.erased_at is not None:
        messages.error(request, _("This person's data was already erased."))
        return redirect(detail_url, public_id=subject.public_id)
    form = ErasureForm(request.POST or None)
    confirming = False
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["confirm"]:
            try:
                result = person_erase(
                    actor=request.user,
                    subject=subject,
                    reason=form.cleaned_data["reason"],
                    reference=form.cleaned_data["reference"],
                    request=request,
                )
            except ApplicationError as exc:
                form.add_error(None, str(exc.message))
            else:
                messages.success(
                    request,
                    _(
                        "The personal data was erased: %(files)s evidence files deleted, "
                        "%(items)s annex lines anonymised."
                    )
                    % {"files": result.evidence_files, "items": result.decision_items},
                )
                return redirect(detail_url, public_id=subject.public_id)
        else:
            confirming = True
    return render(
        request,
        "recognition/personal_data/erase_form.html",
        {
            "subject": subject,
            "kind": kind,
            "name": subject_name(subject),
            "form": form,
            "confirming": confirming,
            "impact": _erasure_impact(subject) if confirming else None,
        },
    )


@login_required
@require_GET
def access_log(request: AuthedRequest) -> HttpResponse:
    queryset = access_log_for_user(request.user)
    form = AccessLogFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        queryset = filter_access_log(queryset, user=request.user, **form.cleaned_data)
    elif form.is_bound:
        queryset = queryset.none()
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    names = subject_names(rows)
    for row in rows:
        row.person_name = names.get(row.subject_id, "")  # type: ignore[attr-defined]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "recognition/personal_data/access_log.html",
        {
            "form": form,
            "page_obj": page,
            "rows": rows,
            "query": query.urlencode(),
        },
    )
