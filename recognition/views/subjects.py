"""Households, clans, organisations and citizens: list, detail, create, edit,
deactivate. One set of thin views, configured per kind; every lookup goes
through the scoped selectors (404 outside the user's area, 403 for roles that
only read)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from django_tables2 import RequestConfig

from core.exceptions import ApplicationError
from core.http import AuthedRequest
from recognition.filters import (
    CitizenFilter,
    ClanFilter,
    HouseholdFilter,
    OrganisationFilter,
    SubjectFilterSet,
)
from recognition.forms.subjects import (
    CitizenForm,
    ClanForm,
    HouseholdForm,
    OrganisationForm,
    SubjectActiveForm,
    SubjectForm,
)
from recognition.models import Citizen, Clan, Household, Organisation
from recognition.personal_data.access_log import is_person, log_detail_view
from recognition.personal_data.erasure import can_erase
from recognition.personal_data.exceptions import SubjectErasedError
from recognition.selectors.registration import registrations_of_subject
from recognition.selectors.subjects import (
    can_see_national_id,
    can_write_subjects,
    get_subject_for_user,
    require_subject_write,
    subject_name,
    subject_timeline,
    subject_write_units,
    subjects_for_user,
    writes_subjects_somewhere,
)
from recognition.services import subjects as services
from recognition.tables import SUBJECT_TABLES
from recognition.titles import TITLE_SUBJECT, SubjectKind
from spreadsheets.selectors import list_export_kind
from units.selectors import units_for_user

Facts = list[tuple[Any, Any]]


def _household_facts(h: Household, show_id: bool) -> Facts:
    return [
        (gettext_lazy("Household code"), h.code),
        (gettext_lazy("Head of household"), h.head_name),
        (gettext_lazy("Address"), h.address or "—"),
        (gettext_lazy("Number of members"), h.member_count),
    ]


def _clan_facts(c: Clan, show_id: bool) -> Facts:
    homes = ", ".join(f"{u.name} ({u.code})" for u in c.home_units.all())
    return [
        (gettext_lazy("Clan name"), c.name),
        (gettext_lazy("Representative"), c.representative),
        (gettext_lazy("Number of members"), c.member_count or "—"),
        (gettext_lazy("Home units"), homes or "—"),
    ]


def _organisation_facts(o: Organisation, show_id: bool) -> Facts:
    return [
        (gettext_lazy("Name"), o.name),
        (gettext_lazy("Kind"), o.get_kind_display()),
        (gettext_lazy("Address"), o.address or "—"),
        (gettext_lazy("Number of members"), o.member_count or "—"),
    ]


def _citizen_facts(c: Citizen, show_id: bool) -> Facts:
    national_id = c.national_id if show_id else c.national_id_masked
    return [
        (gettext_lazy("Full name"), c.full_name),
        (gettext_lazy("Year of birth"), str(c.birth_year) if c.birth_year else "—"),
        (gettext_lazy("Labour group"), c.get_labour_group_display()),
        (gettext_lazy("Citizen ID number (CCCD)"), national_id or "—"),
    ]


def _household_initial(h: Household) -> dict[str, Any]:
    return {
        "code": h.code,
        "head_name": h.head_name,
        "address": h.address,
        "member_count": h.member_count,
    }


def _clan_initial(c: Clan) -> dict[str, Any]:
    return {
        "name": c.name,
        "representative": c.representative,
        "member_count": c.member_count,
        "home_unit_codes": ", ".join(u.code for u in c.home_units.all()),
    }


def _organisation_initial(o: Organisation) -> dict[str, Any]:
    return {
        "name": o.name,
        "kind": o.kind,
        "address": o.address,
        "member_count": o.member_count,
    }


def _citizen_initial(c: Citizen) -> dict[str, Any]:
    return {
        "full_name": c.full_name,
        "birth_year": c.birth_year,
        "labour_group": c.labour_group,
        "national_id": c.national_id,
    }


def _household_write(actor: Any, subject: Household | None, data: dict[str, Any]) -> Household:
    fields = {
        "unit": data["unit_code"],
        "code": data["code"],
        "head_name": data["head_name"],
        "address": data["address"],
        "member_count": data["member_count"],
    }
    if subject is None:
        return services.household_create(actor=actor, **fields)
    return services.household_update(
        actor=actor, household=subject, expected_version=data["version"] or 0, **fields
    )


def _clan_write(actor: Any, subject: Clan | None, data: dict[str, Any]) -> Clan:
    fields = {
        "unit": data["unit_code"],
        "name": data["name"],
        "representative": data["representative"],
        "member_count": data["member_count"],
        "home_units": data["home_unit_codes"],
    }
    if subject is None:
        return services.clan_create(actor=actor, **fields)
    return services.clan_update(
        actor=actor, clan=subject, expected_version=data["version"] or 0, **fields
    )


def _organisation_write(
    actor: Any, subject: Organisation | None, data: dict[str, Any]
) -> Organisation:
    fields = {
        "unit": data["unit_code"],
        "name": data["name"],
        "kind": data["kind"],
        "address": data["address"],
        "member_count": data["member_count"],
    }
    if subject is None:
        return services.organisation_create(actor=actor, **fields)
    return services.organisation_update(
        actor=actor, organisation=subject, expected_version=data["version"] or 0, **fields
    )


def _citizen_write(actor: Any, subject: Citizen | None, data: dict[str, Any]) -> Citizen:
    fields = {
        "unit": data["unit_code"],
        "full_name": data["full_name"],
        "birth_year": data["birth_year"],
        "labour_group": data["labour_group"],
        "national_id": data["national_id"],
    }
    if subject is None:
        return services.citizen_create(actor=actor, **fields)
    return services.citizen_update(
        actor=actor, citizen=subject, expected_version=data["version"] or 0, **fields
    )


@dataclass(frozen=True)
class SubjectPage:
    """How the generic views handle one kind of subject."""

    kind: str
    plural: Any
    singular: Any
    add_label: Any
    form_class: type[SubjectForm]
    filter_class: type[SubjectFilterSet]
    facts: Callable[[Any, bool], Facts]
    initial: Callable[[Any], dict[str, Any]]
    write: Callable[[Any, Any, dict[str, Any]], Any]
    #: Which form field a service error code belongs to.
    error_fields: dict[str, str]


_COMMON_ERRORS = {"subject_unit": "unit_code", "required": None}

PAGES: dict[str, SubjectPage] = {
    SubjectKind.HOUSEHOLD: SubjectPage(
        kind=SubjectKind.HOUSEHOLD,
        plural=gettext_lazy("Households"),
        singular=gettext_lazy("Household"),
        add_label=gettext_lazy("Add a household"),
        form_class=HouseholdForm,
        filter_class=HouseholdFilter,
        facts=_household_facts,
        initial=_household_initial,
        write=_household_write,
        error_fields={"invalid_member_count": "member_count", "duplicate_subject": "code"},
    ),
    SubjectKind.CLAN: SubjectPage(
        kind=SubjectKind.CLAN,
        plural=gettext_lazy("Clans"),
        singular=gettext_lazy("Clan"),
        add_label=gettext_lazy("Add a clan"),
        form_class=ClanForm,
        filter_class=ClanFilter,
        facts=_clan_facts,
        initial=_clan_initial,
        write=_clan_write,
        error_fields={"invalid_member_count": "member_count", "duplicate_subject": "name"},
    ),
    SubjectKind.ORGANISATION: SubjectPage(
        kind=SubjectKind.ORGANISATION,
        plural=gettext_lazy("Organisations"),
        singular=gettext_lazy("Organisation"),
        add_label=gettext_lazy("Add an organisation"),
        form_class=OrganisationForm,
        filter_class=OrganisationFilter,
        facts=_organisation_facts,
        initial=_organisation_initial,
        write=_organisation_write,
        error_fields={
            "invalid_member_count": "member_count",
            "duplicate_subject": "name",
            "invalid_organisation_kind": "kind",
        },
    ),
    SubjectKind.CITIZEN: SubjectPage(
        kind=SubjectKind.CITIZEN,
        plural=gettext_lazy("Citizens"),
        singular=gettext_lazy("Citizen"),
        add_label=gettext_lazy("Add a citizen"),
        form_class=CitizenForm,
        filter_class=CitizenFilter,
        facts=_citizen_facts,
        initial=_citizen_initial,
        write=_citizen_write,
        error_fields={
            "invalid_birth_year": "birth_year",
            "invalid_national_id": "national_id",
            "duplicate_national_id": "national_id",
            "invalid_labour_group": "labour_group",
        },
    ),
}

#: The tabs on top of every subject list.
TABS = [
    (SubjectKind.HOUSEHOLD, gettext_lazy("Households")),
    (SubjectKind.CLAN, gettext_lazy("Clans")),
    (SubjectKind.ORGANISATION, gettext_lazy("Organisations")),
    (SubjectKind.CITIZEN, gettext_lazy("Citizens")),
]


def _context(page: SubjectPage, **extra: Any) -> dict[str, Any]:
    return {
        "page": page,
        "kind": page.kind,
        "list_url": reverse(f"recognition:{page.kind}-list"),
        "tabs": [(k, label, reverse(f"recognition:{k}-list")) for k, label in TABS],
        **extra,
    }


def _attach_error(form: forms.Form, page: SubjectPage, exc: ApplicationError) -> None:
    field = page.error_fields.get(exc.code) or _COMMON_ERRORS.get(exc.code)
    form.add_error(field if field in form.fields else None, str(exc.message))


@login_required
def subject_list(request: AuthedRequest, kind: str) -> HttpResponse:
    page = PAGES[kind]
    filterset = page.filter_class(
        request.GET,
        queryset=subjects_for_user(request.user, kind),
        units=units_for_user(request.user),
        request=request,
    )
    table = SUBJECT_TABLES[kind](filterset.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    return render(
        request,
        "recognition/subjects/subject_list.html",
        _context(
            page,
            filter=filterset,
            table=table,
            can_create=writes_subjects_somewhere(request.user),
            export_kind=list_export_kind(request.user, kind),
        ),
    )


@login_required
def subject_detail(request: AuthedRequest, kind: str, public_id: str) -> HttpResponse:
    page = PAGES[kind]
    subject = get_subject_for_user(request.user, kind, public_id)
    show_id = kind == SubjectKind.CITIZEN and can_see_national_id(request.user, subject)
    log_detail_view(request, subject, show_id=show_id)
    return render(
        request,
        "recognition/subjects/subject_detail.html",
        _context(
            page,
            subject=subject,
            name=subject_name(subject),
            facts=page.facts(subject, show_id),
            registrations=registrations_of_subject(subject),
            timeline=subject_timeline(subject),
            can_write=can_write_subjects(request.user, subject.unit)
            and getattr(subject, "erased_at", None) is None,
            personal_data_admin=is_person(subject) and can_erase(request.user, subject),
            active_form=SubjectActiveForm(
                initial={"active": not subject.is_active, "version": subject.version}
            ),
            titles=[t for t, k in TITLE_SUBJECT.items() if k == kind],
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def subject_create(request: AuthedRequest, kind: str) -> HttpResponse:
    page = PAGES[kind]
    if not writes_subjects_somewhere(request.user):
        raise PermissionDenied
    form = page.form_class(request.POST or None, units=subject_write_units(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            subject = page.write(request.user, None, form.cleaned_data)
        except ApplicationError as exc:
            _attach_error(form, page, exc)
        else:
            messages.success(request, _("%(name)s was added.") % {"name": subject_name(subject)})
            return redirect(f"recognition:{kind}-detail", public_id=subject.public_id)
    return render(
        request, "recognition/subjects/subject_form.html", _context(page, form=form, subject=None)
    )


@login_required
@require_http_methods(["GET", "POST"])
def subject_edit(request: AuthedRequest, kind: str, public_id: str) -> HttpResponse:
    page = PAGES[kind]
    subject = get_subject_for_user(request.user, kind, public_id)
    require_subject_write(request.user, subject.unit)
    if getattr(subject, "erased_at", None) is not None:
        messages.error(request, str(SubjectErasedError().message))
        return redirect(f"recognition:{kind}-detail", public_id=subject.public_id)
    if request.method == "GET":  # the form shows every personal field, the ID number in full
        log_detail_view(request, subject, show_id=True, via="edit")
    initial = {
        **page.initial(subject),
        "unit_code": subject.unit.code,
        "version": subject.version,
    }
    form = page.form_class(
        request.POST or None, units=subject_write_units(request.user), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            page.write(request.user, subject, form.cleaned_data)
        except ApplicationError as exc:
            _attach_error(form, page, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect(f"recognition:{kind}-detail", public_id=subject.public_id)
    return render(
        request,
        "recognition/subjects/subject_form.html",
        _context(page, form=form, subject=subject, name=subject_name(subject)),
    )


@login_required
@require_POST
def subject_set_active(request: AuthedRequest, kind: str, public_id: str) -> HttpResponse:
    subject = get_subject_for_user(request.user, kind, public_id)
    require_subject_write(request.user, subject.unit)
    form = SubjectActiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The request was incomplete; reload the page and try again."))
    else:
        active = form.cleaned_data["active"]
        try:
            services.subject_set_active(
                actor=request.user,
                subject=subject,
                active=active,
                expected_version=form.cleaned_data["version"],
            )
        except ApplicationError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(
                request,
                _("%(name)s is active again.") % {"name": subject_name(subject)}
                if active
                else _("%(name)s is now inactive.") % {"name": subject_name(subject)},
            )
    return redirect(f"recognition:{kind}-detail", public_id=subject.public_id)
