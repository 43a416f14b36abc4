"""Award nominations (đề nghị khen thưởng) and the award decision.

A unit proposes a collective or a person under it for one of the movement's
reward forms (QĐ 1315/QĐ-TTg, RULES.md §5). Who reviews follows the form:

* Giấy khen của UBND cấp xã → the commune-level unit (the nominator or its
  commune ancestor);
* Giấy khen của UBND cấp huyện → the district ancestor (before the July 2025
  reform; where there is none, or it no longer exists, the province);
* Bằng khen của UBND tỉnh/thành phố and Bằng khen của Thủ tướng → the province
  (which forwards the Prime Minister's certificates; nothing above the
  province is reviewed here).

The nominee must be inside the nominator's scope (its subtree; a person is
the nominator's own). Reviews go through the transition map
(campaigns.transitions) with audit events; the award decision is a decision of
kind "award" (recognition.services.decision) whose annex is the approved
nominations, and issuing it awards them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.exceptions import CampaignError
from campaigns.models import (
    AwardForm,
    Nomination,
    NominationStatus,
    NomineeKind,
    Plan,
)
from campaigns.permissions import require_planner, require_reviewer
from campaigns.transitions import NOMINATION_TRANSITIONS
from core.audit import audit_record
from core.exceptions import ConcurrentEditError
from core.text import nfc
from recognition.models import Decision, DecisionKind, Household, Organisation
from recognition.transitions import apply_transition, apply_transition_many
from units.levels import Level
from units.models import AdministrativeUnit
from units.selectors import ancestors

N = NominationStatus
MIN_YEAR, MAX_YEAR = 2000, 2100
EDITABLE_FIELDS = (
    "year",
    "nominee_kind",
    "award_form",
    "achievements",
    "nominee_unit",
    "organisation",
    "household",
    "person_name",
    "person_position",
    "plan",
)


class NominationError(CampaignError):
    code = "nomination_error"


class OutOfScopeError(NominationError):
    code = "nominee_out_of_scope"


# --- Who reviews -------------------------------------------------------------------


def _lines(value: Any) -> str:
    return "\n".join(line for line in (nfc(x) for x in str(value or "").splitlines()) if line)


def _in_force(unit: AdministrativeUnit, on: dt.date) -> bool:
    return unit.valid_to is None or unit.valid_to >= on


def reviewing_unit_for(nominating_unit: AdministrativeUnit, award_form: str) -> AdministrativeUnit:
    """The unit that reviews (and awards) ``award_form`` proposed by ``nominating_unit``."""
    chain = [*ancestors(nominating_unit), nominating_unit]

    def at(level: str) -> AdministrativeUnit | None:
        return next((u for u in reversed(chain) if u.level == level), None)

    province = at(Level.PROVINCE)
    if award_form == AwardForm.COMMUNE_COMMENDATION:
        commune = at(Level.COMMUNE)
        if commune is None:
            raise NominationError(
                _(
                    "A commendation of the commune People's Committee is proposed by a "
                    "commune or a unit under it, not by %(unit)s."
                )
                % {"unit": nominating_unit.name}
            )
        return commune
    if award_form == AwardForm.DISTRICT_COMMENDATION:
        district = at(Level.DISTRICT)
        if district is not None and _in_force(district, timezone.localdate()):
            return district
        if province is not None:
            return province
    if award_form in (AwardForm.PROVINCE_MERIT, AwardForm.PM_MERIT) and province is not None:
        return province
    if award_form not in AwardForm.values:
        raise NominationError(_("Choose the proposed award."))
    raise NominationError(
        _("%(unit)s has no province above it to review this award.")
        % {"unit": nominating_unit.name}
    )


# --- Validation ----------------------------------------------------------------------


def _inside(unit: AdministrativeUnit | None, nominating_unit: AdministrativeUnit) -> bool:
    return (
        unit is not None
        and unit.tenant_id == nominating_unit.tenant_id
        and unit.path.startswith(nominating_unit.path)
    )


def _plan_covers(plan: Any, unit: AdministrativeUnit) -> bool:
    return (
        isinstance(plan, Plan)
        and plan.tenant_id == unit.tenant_id
        and unit.path.startswith(plan.issuing_unit.path)
    )


def _clean(nominating_unit: AdministrativeUnit, data: Mapping[str, Any]) -> dict[str, Any]:
    """The nomination's fields, validated; raises with a clear message."""
    try:
        year = int(data.get("year") or 0)
    except (TypeError, ValueError):
        year = 0
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise NominationError(_("Enter a year between 2000 and 2100."))
    kind = str(data.get("nominee_kind") or "")
    if kind not in NomineeKind.values:
        raise NominationError(
            _("Choose who is nominated: a unit, an organisation, a household or a person.")
        )
    award_form = str(data.get("award_form") or "")
    if award_form not in AwardForm.values:
        raise NominationError(_("Choose the proposed award."))
    achievements = _lines(data.get("achievements"))
    if not achievements:
        raise NominationError(_("Describe the achievements."))
    values: dict[str, Any] = {
        "year": year,
        "nominee_kind": kind,
        "award_form": award_form,
        "achievements": achievements,
        "nominee_unit": None,
        "organisation": None,
        "household": None,
        "person_name": "",
        "person_position": nfc(data.get("person_position"))[:300],
    }
    outside = _(
        "%(nominee)s is not under %(unit)s: a unit may only nominate collectives and "
        "people within its own area."
    )
    if kind == NomineeKind.UNIT:
        unit = data.get("nominee_unit")
        if not isinstance(unit, AdministrativeUnit):
            raise NominationError(_("Choose the unit nominated."))
        if not _inside(unit, nominating_unit):
            raise OutOfScopeError(outside % {"nominee": unit.name, "unit": nominating_unit.name})
        values["nominee_unit"] = unit
        values["person_position"] = ""
    elif kind == NomineeKind.ORGANISATION:
        organisation = data.get("organisation")
        if not isinstance(organisation, Organisation):
            raise NominationError(_("Choose the organisation nominated."))
        if organisation.tenant_id != nominating_unit.tenant_id or not _inside(
            organisation.unit, nominating_unit
        ):
            raise OutOfScopeError(
                outside % {"nominee": organisation.name, "unit": nominating_unit.name}
            )
        values["organisation"] = organisation
        values["person_position"] = ""
    elif kind == NomineeKind.HOUSEHOLD:
        household = data.get("household")
        if not isinstance(household, Household):
            raise NominationError(_("Choose the household nominated."))
        if household.tenant_id != nominating_unit.tenant_id or not _inside(
            household.unit, nominating_unit
        ):
            raise OutOfScopeError(
                outside % {"nominee": f"Hộ {household.head_name}", "unit": nominating_unit.name}
            )
        values["household"] = household
        values["person_position"] = ""
    else:
        person = nfc(data.get("person_name"))
        if not person:
            raise NominationError(_("Enter the full name of the person nominated."))
        values["person_name"] = person[:200]
    plan = data.get("plan")
    if plan is not None and not _plan_covers(plan, nominating_unit):
        raise NominationError(
            _("The nomination can only belong to a plan of its unit or of a unit above it.")
        )
    values["plan"] = plan
    values["reviewing_unit"] = reviewing_unit_for(nominating_unit, award_form)
    return values


def _duplicate(values: Mapping[str, Any], exclude_pk: int | None = None) -> bool:
    """The same nominee already proposed for the same award and year (not refused)."""
    qs = Nomination.objects.filter(
        year=values["year"], award_form=values["award_form"], nominee_kind=values["nominee_kind"]
    ).exclude(status=N.REJECTED)
    kind = values["nominee_kind"]
    if kind == NomineeKind.UNIT:
        qs = qs.filter(nominee_unit=values["nominee_unit"])
    elif kind == NomineeKind.ORGANISATION:
        qs = qs.filter(organisation=values["organisation"])
    elif kind == NomineeKind.HOUSEHOLD:
        qs = qs.filter(household=values["household"])
    else:
        qs = qs.filter(
            nominating_unit=values["nominating_unit"], person_name__iexact=values["person_name"]
        )
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def _audit_values(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if hasattr(value, "public_id"):
            out[key] = str(value.public_id)
        elif hasattr(value, "pk"):
            out[key] = value.pk
        else:
            out[key] = value
    return out


# --- Create and edit -------------------------------------------------------------------


@transaction.atomic
def nomination_create(
    *,
    actor: Any,
    nominating_unit: AdministrativeUnit,
    year: int,
    nominee_kind: str,
    award_form: str,
    achievements: str,
    nominee_unit: AdministrativeUnit | None = None,
    organisation: Organisation | None = None,
    household: Household | None = None,
    person_name: str = "",
    person_position: str = "",
    plan: Plan | None = None,
) -> Nomination:
    """Propose a nominee inside the nominator's scope for an award (status proposed)."""
    require_planner(actor, nominating_unit)
    values = _clean(
        nominating_unit,
        {
            "year": year,
            "nominee_kind": nominee_kind,
            "award_form": award_form,
            "achievements": achievements,
            "nominee_unit": nominee_unit,
            "organisation": organisation,
            "household": household,
            "person_name": person_name,
            "person_position": person_position,
            "plan": plan,
        },
    )
    values["nominating_unit"] = nominating_unit
    if _duplicate(values):
        raise NominationError(
            _("This nominee is already proposed for the same award in %(year)s.")
            % {"year": values["year"]}
        )
    nomination = Nomination.objects.create(
        tenant_id=nominating_unit.tenant_id,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        **values,
    )
    audit_record(
        actor=actor,
        action="nomination.create",
        obj=nomination,
        tenant=nominating_unit.tenant,
        unit=nominating_unit,
        after=_audit_values(values),
    )
    return nomination


@transaction.atomic
def nomination_update(
    *,
    actor: Any,
    nomination: Nomination,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> Nomination:
    """Edit a proposed nomination (fields given in ``data``; optimistic concurrency)."""
    require_planner(actor, nomination.nominating_unit)
    locked = Nomination.objects.select_for_update(of=("self",)).get(pk=nomination.pk)
    if locked.status != N.PROPOSED:
        raise NominationError(
            _("Only a proposed nomination can be changed; this one is “%(status)s”.")
            % {"status": locked.get_status_display()}
        )
    if expected_version is not None and locked.version != expected_version:
        raise ConcurrentEditError()
    unit = locked.nominating_unit
    current = {f: getattr(locked, f) for f in EDITABLE_FIELDS}
    values = _clean(unit, {**current, **{k: v for k, v in data.items() if k in EDITABLE_FIELDS}})
    values["nominating_unit"] = unit
    if _duplicate(values, exclude_pk=locked.pk):
        raise NominationError(
            _("This nominee is already proposed for the same award in %(year)s.")
            % {"year": values["year"]}
        )
    changes = {
        k: v for k, v in values.items() if k != "nominating_unit" and getattr(locked, k) != v
    }
    if not changes:
        return locked
    before = _audit_values({k: getattr(locked, k) for k in changes})
    Nomination.objects.filter(pk=locked.pk).update(version=F("version") + 1, **changes)
    locked.refresh_from_db()
    audit_record(
        actor=actor,
        action="nomination.edit",
        obj=locked,
        tenant=locked.tenant,
        unit=unit,
        before=before,
        after=_audit_values(changes),
    )
    return locked


# --- Review ----------------------------------------------------------------------------


def _transition(
    *, actor: Any, nomination: Nomination, action: str, note: str, expected_version: int | None
) -> Nomination:
    note = _lines(note)
    return apply_transition(
        obj=nomination,
        transitions=NOMINATION_TRANSITIONS,
        action=action,
        actor=actor,
        role_unit=nomination.reviewing_unit,
        expected_version=expected_version,
        changes={"review_note": note} if note else None,
        audit_after={"note": note} if note else None,
    )


def nomination_review(
    *, actor: Any, nomination: Nomination, note: str = "", expected_version: int | None = None
) -> Nomination:
    """The reviewing unit has checked the proposal (proposed → reviewed)."""
    return _transition(
        actor=actor,
        nomination=nomination,
        action="review",
        note=note,
        expected_version=expected_version,
    )


def nomination_approve(
    *, actor: Any, nomination: Nomination, note: str = "", expected_version: int | None = None
) -> Nomination:
    """Approved for the award (reviewed → approved); the award decision awards it."""
    return _transition(
        actor=actor,
        nomination=nomination,
        action="approve",
        note=note,
        expected_version=expected_version,
    )


def nomination_reject(
    *, actor: Any, nomination: Nomination, note: str = "", expected_version: int | None = None
) -> Nomination:
    """Not approved, with the reason (proposed or reviewed → rejected)."""
    if not _lines(note):
        raise NominationError(_("Give the reason why the nomination is not approved."))
    return _transition(
        actor=actor,
        nomination=nomination,
        action="reject",
        note=note,
        expected_version=expected_version,
    )


@transaction.atomic
def nomination_approve_many(
    *, actor: Any, reviewing_unit: AdministrativeUnit, public_ids: Iterable[Any]
) -> int:
    """Approve many reviewed nominations of ``reviewing_unit`` at once (all or nothing)."""
    require_reviewer(actor, reviewing_unit)
    ids = [str(pid) for pid in public_ids]
    queryset = Nomination.objects.filter(reviewing_unit=reviewing_unit, public_id__in=ids)
    if queryset.count() != len(set(ids)):
        raise NominationError(
            _("Some of the selected nominations could not be found; reload the page.")
        )
    return apply_transition_many(
        queryset=queryset,
        transitions=NOMINATION_TRANSITIONS,
        action="approve",
        actor=actor,
        role_unit=reviewing_unit,
    )


# --- The award decision ------------------------------------------------------------------


def approved_for_award(reviewing_unit: AdministrativeUnit, year: int) -> Any:
    """Approved nominations reviewed by ``reviewing_unit`` for ``year``, in no decision yet."""
    return Nomination.objects.filter(
        reviewing_unit=reviewing_unit, year=year, status=N.APPROVED
    ).exclude(Q(decision_items__decision__status__in=["draft", "issued"]))


@transaction.atomic
def award_decision_start(*, actor: Any, reviewing_unit: AdministrativeUnit, year: int) -> Decision:
    """A draft award decision of ``reviewing_unit`` for ``year`` holding every approved
    nomination it reviewed (not yet in another decision). Edit, date and issue it in
    the decision editor; issuing it awards the nominations."""
    from recognition.services import decision as decision_services

    require_reviewer(actor, reviewing_unit)
    ids = list(approved_for_award(reviewing_unit, year).values_list("public_id", flat=True))
    if not ids:
        raise NominationError(
            _("%(unit)s has no approved nomination of %(year)s waiting for an award decision.")
            % {"unit": reviewing_unit.name, "year": year}
        )
    decision = decision_services.decision_create(
        actor=actor, issuing_unit=reviewing_unit, title="", year=year, kind=DecisionKind.AWARD
    )
    decision_services.annex_add(actor=actor, decision=decision, assessment_ids=ids)
    decision.refresh_from_db()
    return decision
