"""The registration screen: per title and year, the subjects of the user's area
with their registration, counts (registered / not yet), filters, single
register and withdraw, and bulk registration of everything that matches."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from core.exceptions import ApplicationError
from core.http import AuthedRequest
from recognition.forms.registration import (
    BulkRegisterForm,
    RegisterOneForm,
    RegistrationScopeForm,
)
from recognition.forms.subjects import resolve_unit_code
from recognition.locks import active_lock
from recognition.models.config import Stage
from recognition.selectors.registration import (
    CandidateState,
    candidate_counts,
    candidate_kind,
    get_registration_for_user,
    proposing_unit_for,
    registration_candidates,
)
from recognition.selectors.subjects import (
    can_write_subjects,
    get_subject_for_user,
    require_subject_write,
    subject_name,
    subject_unit,
    writes_subjects_somewhere,
)
from recognition.services import registration as services
from recognition.tables import RegistrationCandidateTable
from recognition.titles import SubjectKind, Title
from units.models import AdministrativeUnit
from units.selectors import home_units, parse_public_id, units_for_user


def _back(request: AuthedRequest) -> HttpResponse:
    """Back to the screen the action was posted from (same filters and page)."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("recognition:registration-list")
    return redirect(target)


def _resolve_unit(request: AuthedRequest, code: str) -> AdministrativeUnit | None:
    return resolve_unit_code(units_for_user(request.user), code) if code else None


def _lock_unit(
    request: AuthedRequest, unit: AdministrativeUnit | None
) -> AdministrativeUnit | None:
    """The proposing unit whose registration deadline the screen reports: that of
    the filtered unit, or of the user's one home unit."""
    if unit is None:
        homes = list(home_units(request.user)[:2])
        if len(homes) != 1:
            return None
        unit = homes[0]
    return proposing_unit_for(unit)


@login_required
def registration_list(request: AuthedRequest) -> HttpResponse:
    data: dict[str, Any] = RegistrationScopeForm.defaults()
    data.update({k: v for k, v in request.GET.items() if v != "" or k in ("q", "unit", "state")})
    form = RegistrationScopeForm(data)
    context: dict[str, Any] = {"form": form, "table": None, "counts": None}
    if form.is_valid():
        title = form.cleaned_data["title"]
        year = form.cleaned_data["year"]
        level = form.cleaned_data["level"]
        kind = candidate_kind(title)
        unit = _resolve_unit(request, form.cleaned_data["unit"])
        if form.cleaned_data["unit"] and unit is None:
            form.add_error(
                "unit",
                _("No unit in force with code %(code)s in your area.")
                % {"code": form.cleaned_data["unit"]},
            )
        else:
            filters = {
                "title": title,
                "year": year,
                "level": level,
                "unit": unit,
                "q": form.cleaned_data["q"],
            }
            counts = candidate_counts(
                registration_candidates(request.user, **filters), title=title, year=year
            )
            candidates = registration_candidates(
                request.user, state=form.cleaned_data["state"], **filters
            )
            can_write = writes_subjects_somewhere(request.user) and (
                unit is None or can_write_subjects(request.user, unit)
            )
            lock_unit = _lock_unit(request, unit)
            lock = (
                active_lock(unit=lock_unit, title=title, year=year, stage=Stage.REGISTRATION)
                if lock_unit is not None
                else None
            )
            table = RegistrationCandidateTable(
                candidates, kind=kind, can_write=can_write and lock is None
            )
            RequestConfig(request, paginate={"per_page": 50}).configure(table)
            context.update(
                table=table,
                counts=counts,
                kind=kind,
                title_label=Title(title).label,
                is_community=kind == SubjectKind.UNIT,
                can_write=can_write,
                lock=lock,
                lock_unit=lock_unit,
            )
    return render(request, "recognition/registration/registration_list.html", context)


@login_required
@require_POST
def registration_create(request: AuthedRequest) -> HttpResponse:
    form = RegisterOneForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The request was incomplete; reload the page and try again."))
        return _back(request)
    title, year = form.cleaned_data["title"], form.cleaned_data["year"]
    subject = get_subject_for_user(
        request.user, candidate_kind(title), form.cleaned_data["subject"]
    )
    require_subject_write(request.user, subject_unit(subject))
    try:
        services.registration_create(actor=request.user, title=title, year=year, subject=subject)
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request,
            _("%(subject)s is registered for “%(title)s” %(year)s.")
            % {
                "subject": subject.name
                if isinstance(subject, AdministrativeUnit)
                else subject_name(subject),
                "title": Title(title).label,
                "year": year,
            },
        )
    return _back(request)


@login_required
@require_POST
def registration_bulk(request: AuthedRequest) -> HttpResponse:
    form = BulkRegisterForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return _back(request)
    data = form.cleaned_data
    unit = _resolve_unit(request, data["unit"])
    if data["unit"] and unit is None:
        messages.error(
            request,
            _("No unit in force with code %(code)s in your area.") % {"code": data["unit"]},
        )
        return _back(request)
    if unit is not None:
        require_subject_write(request.user, unit)
    elif not writes_subjects_somewhere(request.user):
        raise PermissionDenied
    subjects = registration_candidates(
        request.user,
        title=data["title"],
        year=data["year"],
        level=data["level"],
        unit=unit,
        q=data["q"],
        state=CandidateState.NOT_REGISTERED,
    )
    if data["mode"] == BulkRegisterForm.SELECTED:
        subjects = subjects.filter(public_id__in=[parse_public_id(v) for v in data["selected"]])
    try:
        result = services.registration_bulk_create(
            actor=request.user, title=data["title"], year=data["year"], subjects=subjects
        )
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
        return _back(request)
    if result.registered:
        messages.success(
            request,
            ngettext(
                "%(count)s subject registered.", "%(count)s subjects registered.", result.registered
            )
            % {"count": result.registered},
        )
    else:
        messages.info(request, _("Nothing to register: every matching subject is registered."))
    if result.not_eligible:
        messages.warning(
            request,
            ngettext(
                "%(count)s subject was skipped: inactive, or its unit is not in force that year.",
                "%(count)s subjects were skipped: inactive, or their unit is not in force "
                "that year.",
                result.not_eligible,
            )
            % {"count": result.not_eligible},
        )
    return _back(request)


@login_required
@require_POST
def registration_withdraw(request: AuthedRequest, public_id: str) -> HttpResponse:
    registration = get_registration_for_user(request.user, public_id)
    require_subject_write(request.user, registration.unit)
    try:
        services.registration_withdraw(actor=request.user, registration=registration)
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The registration was withdrawn."))
    return _back(request)
