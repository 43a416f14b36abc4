"""Writes on the subjects of recognition: households, clans, organisations, citizens.

Issue 4 §4 and ARCHITECTURE.md, Recognition: households (hộ gia đình) sit in a
neighbourhood; a clan (dòng họ) is managed by a commune or ward and lives in
units of that commune; an organisation (cơ quan, trường học, doanh nghiệp) is
managed by a commune, district or province (QĐ 448/QĐ-KHVN for commune-managed
units, TT 24/2023 for district and province units, RULES.md §0); a citizen
(Công dân học tập, QĐ 244/QĐ-KHVN, RULES.md §4.4) belongs to a neighbourhood or
commune. Units themselves are the subjects of the community titles and have no
record here.

Every function is atomic, checks the actor's role over the unit (ward
official, neighbourhood lead, administrator; reviewers and the steering
committee only read), refuses a stale edit with :class:`ConcurrentEditError`,
stores user text NFC-normalised and writes an audit event (STYLE.md §2–3).
``actor=None`` is the system (demo data, imports).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from core.audit import audit_record
from core.exceptions import ConcurrentEditError
from core.text import nfc
from recognition.exceptions import (
    DuplicateSubjectError,
    RoleNotAllowedError,
    SubjectError,
    SubjectUnitError,
)
from recognition.models import Citizen, Clan, Household, LabourGroup, Organisation
from recognition.models.subjects import SubjectBase
from recognition.personal_data.crypto import blind_index
from recognition.personal_data.exceptions import SubjectErasedError
from recognition.selectors.subjects import SUBJECT_WRITERS, kind_of, search_text_for
from units.levels import Level
from units.models import AdministrativeUnit
from units.selectors import roles_at

S = TypeVar("S", bound=SubjectBase)

FIRST_BIRTH_YEAR = 1900
HOUSEHOLD_MAX_MEMBERS = 32767  # the column's range
MAX_MEMBERS = 2_147_483_647
_NATIONAL_ID = re.compile(r"^[0-9]{12}$")


# --- Checks ---------------------------------------------------------------------------


def _require_writer(actor: Any, unit: AdministrativeUnit) -> None:
    """Only a ward official, neighbourhood lead or administrator over ``unit`` writes."""
    if actor is not None and not roles_at(actor, unit) & SUBJECT_WRITERS:
        raise RoleNotAllowedError()


def _require_text(value: str, label: Any) -> str:
    text = nfc(value)
    if not text:
        raise SubjectError(
            _("This field cannot be empty: %(field)s.") % {"field": label}, code="required"
        )
    return text


def _check_in_force(unit: AdministrativeUnit) -> None:
    if not unit.is_valid_on(timezone.localdate()):
        raise SubjectUnitError(_("%(unit)s is no longer in force.") % {"unit": unit.name})


def _check_household_unit(unit: AdministrativeUnit) -> None:
    if unit.level != Level.NEIGHBOURHOOD:
        raise SubjectUnitError(
            _("A household must belong to a neighbourhood (khu phố, ấp, thôn or tổ dân phố).")
        )
    _check_in_force(unit)


def _check_clan_unit(unit: AdministrativeUnit) -> None:
    if unit.level != Level.COMMUNE:
        raise SubjectUnitError(
            _("A clan is managed by a commune or ward: choose a commune-level unit.")
        )
    _check_in_force(unit)


def _check_organisation_unit(unit: AdministrativeUnit) -> None:
    if unit.level == Level.NEIGHBOURHOOD:
        raise SubjectUnitError(
            _(
                "An organisation is managed by a commune, district or province, "
                "not by a neighbourhood."
            )
        )
    _check_in_force(unit)


def _check_citizen_unit(unit: AdministrativeUnit) -> None:
    if unit.level not in (Level.NEIGHBOURHOOD, Level.COMMUNE):
        raise SubjectUnitError(_("A citizen belongs to a neighbourhood or a commune."))
    _check_in_force(unit)


def _check_member_count(value: int | None, *, required: bool, maximum: int) -> int | None:
    if value is None and not required:
        return None
    if value is None or value < 1:
        raise SubjectError(
            _("The number of members must be at least 1."), code="invalid_member_count"
        )
    if value > maximum:
        raise SubjectError(
            _("The number of members must be at most %(max)s.")
            % {"max": number_format(maximum, force_grouping=True)},
            code="invalid_member_count",
        )
    return value


def _check_birth_year(value: int) -> int:
    this_year = timezone.localdate().year
    if not FIRST_BIRTH_YEAR <= value <= this_year:
        raise SubjectError(
            _("The year of birth must lie between %(first)s and %(last)s.")
            % {"first": FIRST_BIRTH_YEAR, "last": this_year},
            code="invalid_birth_year",
        )
    return value


def normalise_national_id(value: str | None) -> str:
    """A citizen ID number (số CCCD) as stored: 12 digits, or empty.

    Spaces and dots people type between groups are ignored, full-width digits
    (typed with some input methods) count as digits; anything else that is not
    exactly 12 digits is refused.
    """
    digits = re.sub(r"[\s.]", "", unicodedata.normalize("NFKC", nfc(value)))
    if digits and not _NATIONAL_ID.match(digits):
        raise SubjectError(
            _("A citizen ID number (CCCD) has exactly 12 digits."), code="invalid_national_id"
        )
    return digits


def _check_labour_group(value: str) -> str:
    if value not in LabourGroup.values:
        raise SubjectError(_("Choose a labour group from the list."), code="invalid_labour_group")
    return value


def _check_organisation_kind(value: str) -> str:
    if value not in Organisation.Kind.values:
        raise SubjectError(
            _("Choose a kind of organisation from the list."), code="invalid_organisation_kind"
        )
    return value


# --- Shared steps ---------------------------------------------------------------------


def _lock(subject: S, expected_version: int) -> S:
    """The subject's row, locked; a stale ``expected_version`` changes nothing."""
    locked: S = (
        type(subject)
        ._default_manager.select_for_update(of=("self",))
        .select_related("unit")
        .get(pk=subject.pk)
    )
    if locked.version != expected_version:
        raise ConcurrentEditError()
    if getattr(locked, "erased_at", None) is not None:
        raise SubjectErasedError()
    return locked


def _save(subject: S, *, duplicate: DuplicateSubjectError) -> S:
    """Save inside a savepoint: a uniqueness race becomes ``duplicate``, not a 500."""
    subject.search_text = search_text_for(kind_of(subject), subject)
    try:
        with transaction.atomic():
            subject.save()
    except IntegrityError as exc:
        raise duplicate from exc
    return subject


def _bump(subject: S, *, duplicate: DuplicateSubjectError) -> S:
    old_unit_id = (
        type(subject)._default_manager.values_list("unit_id", flat=True).get(pk=subject.pk)
    )
    subject.version = F("version") + 1  # type: ignore[assignment]
    _save(subject, duplicate=duplicate)
    subject.refresh_from_db()
    if old_unit_id != subject.unit_id and subject.is_active:  # moved: the bases follow it
        _rollup_base(subject, -1, unit_id=old_unit_id)
        _rollup_base(subject, 1)
    return subject


def _rollup_base(subject: SubjectBase, delta: int, unit_id: int | None = None) -> None:
    from reports.services import rollup_subject_changed  # lazy: import cycle

    rollup_subject_changed(subject=subject, delta=delta, unit_id=unit_id)


def _audit(actor: Any, action: str, subject: SubjectBase, **kwargs: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=subject,
        tenant=subject.tenant,
        unit=subject.unit,
        **kwargs,
    )


def _move_allowed(actor: Any, subject: SubjectBase, unit: AdministrativeUnit) -> None:
    """Moving a subject to another unit needs the writing role at both ends."""
    if unit.tenant_id != subject.tenant_id:
        raise SubjectUnitError()
    _require_writer(actor, subject.unit)
    _require_writer(actor, unit)


# --- Households -----------------------------------------------------------------------


def household_snapshot(household: Household) -> dict[str, Any]:
    return {
        "code": household.code,
        "head_name": household.head_name,
        "address": household.address,
        "member_count": household.member_count,
        "unit": household.unit.code,
        "is_active": household.is_active,
    }


def _household_code_free(tenant_id: int, code: str, exclude_pk: int | None = None) -> None:
    clash = Household.objects.filter(tenant_id=tenant_id, code__iexact=code)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise _household_duplicate(code)


def _household_duplicate(code: str) -> DuplicateSubjectError:
    return DuplicateSubjectError(
        _("Household code %(code)s is already used by another household.") % {"code": code}
    )


@transaction.atomic
def household_create(
    *,
    actor: Any,
    unit: AdministrativeUnit,
    code: str,
    head_name: str,
    address: str = "",
    member_count: int = 1,
) -> Household:
    """Add a household to a neighbourhood; its code is unique in the tenant."""
    _require_writer(actor, unit)
    _check_household_unit(unit)
    code = _require_text(code, _("household code"))
    head_name = _require_text(head_name, _("head of household"))
    count = _check_member_count(member_count, required=True, maximum=HOUSEHOLD_MAX_MEMBERS)
    _household_code_free(unit.tenant_id, code)
    household = Household(
        tenant_id=unit.tenant_id,
        unit=unit,
        code=code,
        head_name=head_name,
        address=nfc(address),
        member_count=count or 1,
    )
    _save(household, duplicate=_household_duplicate(code))
    _audit(actor, "household.create", household, after=household_snapshot(household))
    _rollup_base(household, 1)
    return household


@transaction.atomic
def household_update(
    *,
    actor: Any,
    household: Household,
    expected_version: int,
    unit: AdministrativeUnit,
    code: str,
    head_name: str,
    address: str,
    member_count: int,
) -> Household:
    """Edit a household (it may move to another neighbourhood the actor writes in)."""
    locked = _lock(household, expected_version)
    _move_allowed(actor, locked, unit)
    _check_household_unit(unit)
    code = _require_text(code, _("household code"))
    head_name = _require_text(head_name, _("head of household"))
    count = _check_member_count(member_count, required=True, maximum=HOUSEHOLD_MAX_MEMBERS)
    _household_code_free(locked.tenant_id, code, exclude_pk=locked.pk)
    before = household_snapshot(locked)
    locked.unit, locked.code, locked.head_name = unit, code, head_name
    locked.address, locked.member_count = nfc(address), count or 1
    _bump(locked, duplicate=_household_duplicate(code))
    _audit(actor, "household.update", locked, before=before, after=household_snapshot(locked))
    return locked


# --- Clans ----------------------------------------------------------------------------


def clan_snapshot(clan: Clan) -> dict[str, Any]:
    return {
        "name": clan.name,
        "representative": clan.representative,
        "member_count": clan.member_count,
        "unit": clan.unit.code,
        "home_units": sorted(u.code for u in clan.home_units.all()),
        "is_active": clan.is_active,
    }


def _check_home_units(
    unit: AdministrativeUnit, home_units: Iterable[AdministrativeUnit]
) -> list[AdministrativeUnit]:
    """A clan lives in units of the commune that manages it (the commune itself or
    its neighbourhoods)."""
    found = list({u.pk: u for u in home_units}.values())
    for home in found:
        if home.tenant_id != unit.tenant_id or not home.path.startswith(unit.path):
            raise SubjectUnitError(
                _(
                    "A clan's home units must lie inside the commune that manages it: "
                    "%(name)s does not."
                )
                % {"name": home.name}
            )
    return found


def _clan_name_free(unit: AdministrativeUnit, name: str, exclude_pk: int | None = None) -> None:
    clash = Clan.objects.filter(unit=unit, name__iexact=name)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise _clan_duplicate(unit, name)


def _clan_duplicate(unit: AdministrativeUnit, name: str) -> DuplicateSubjectError:
    return DuplicateSubjectError(
        _("%(unit)s already has a clan named %(name)s.") % {"unit": unit.name, "name": name}
    )


@transaction.atomic
def clan_create(
    *,
    actor: Any,
    unit: AdministrativeUnit,
    name: str,
    representative: str,
    member_count: int | None = None,
    home_units: Iterable[AdministrativeUnit] = (),
) -> Clan:
    """Add a clan managed by the commune/ward ``unit``."""
    _require_writer(actor, unit)
    _check_clan_unit(unit)
    name = _require_text(name, _("clan name"))
    representative = _require_text(representative, _("representative"))
    count = _check_member_count(member_count, required=False, maximum=MAX_MEMBERS)
    homes = _check_home_units(unit, home_units)
    _clan_name_free(unit, name)
    clan = Clan(
        tenant_id=unit.tenant_id,
        unit=unit,
        name=name,
        representative=representative,
        member_count=count,
    )
    _save(clan, duplicate=_clan_duplicate(unit, name))
    clan.home_units.set(homes)
    _audit(actor, "clan.create", clan, after=clan_snapshot(clan))
    _rollup_base(clan, 1)
    return clan


@transaction.atomic
def clan_update(
    *,
    actor: Any,
    clan: Clan,
    expected_version: int,
    unit: AdministrativeUnit,
    name: str,
    representative: str,
    member_count: int | None,
    home_units: Iterable[AdministrativeUnit],
) -> Clan:
    locked = _lock(clan, expected_version)
    _move_allowed(actor, locked, unit)
    _check_clan_unit(unit)
    name = _require_text(name, _("clan name"))
    representative = _require_text(representative, _("representative"))
    count = _check_member_count(member_count, required=False, maximum=MAX_MEMBERS)
    homes = _check_home_units(unit, home_units)
    _clan_name_free(unit, name, exclude_pk=locked.pk)
    before = clan_snapshot(locked)
    locked.unit, locked.name, locked.representative = unit, name, representative
    locked.member_count = count
    _bump(locked, duplicate=_clan_duplicate(unit, name))
    locked.home_units.set(homes)
    _audit(actor, "clan.update", locked, before=before, after=clan_snapshot(locked))
    return locked


# --- Organisations --------------------------------------------------------------------


def organisation_snapshot(organisation: Organisation) -> dict[str, Any]:
    return {
        "name": organisation.name,
        "kind": organisation.kind,
        "address": organisation.address,
        "member_count": organisation.member_count,
        "unit": organisation.unit.code,
        "is_active": organisation.is_active,
    }


def _organisation_name_free(
    unit: AdministrativeUnit, name: str, exclude_pk: int | None = None
) -> None:
    clash = Organisation.objects.filter(unit=unit, name__iexact=name)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise _organisation_duplicate(unit, name)


def _organisation_duplicate(unit: AdministrativeUnit, name: str) -> DuplicateSubjectError:
    return DuplicateSubjectError(
        _("%(unit)s already manages an organisation named %(name)s.")
        % {"unit": unit.name, "name": name}
    )


@transaction.atomic
def organisation_create(
    *,
    actor: Any,
    unit: AdministrativeUnit,
    name: str,
    kind: str,
    address: str = "",
    member_count: int | None = None,
) -> Organisation:
    """Add an agency, school or enterprise managed by ``unit``."""
    _require_writer(actor, unit)
    _check_organisation_unit(unit)
    name = _require_text(name, _("name"))
    kind = _check_organisation_kind(kind)
    count = _check_member_count(member_count, required=False, maximum=MAX_MEMBERS)
    _organisation_name_free(unit, name)
    organisation = Organisation(
        tenant_id=unit.tenant_id,
        unit=unit,
        name=name,
        kind=kind,
        address=nfc(address),
        member_count=count,
    )
    _save(organisation, duplicate=_organisation_duplicate(unit, name))
    _audit(actor, "organisation.create", organisation, after=organisation_snapshot(organisation))
    _rollup_base(organisation, 1)
    return organisation


@transaction.atomic
def organisation_update(
    *,
    actor: Any,
    organisation: Organisation,
    expected_version: int,
    unit: AdministrativeUnit,
    name: str,
    kind: str,
    address: str,
    member_count: int | None,
) -> Organisation:
    locked = _lock(organisation, expected_version)
    _move_allowed(actor, locked, unit)
    _check_organisation_unit(unit)
    name = _require_text(name, _("name"))
    kind = _check_organisation_kind(kind)
    count = _check_member_count(member_count, required=False, maximum=MAX_MEMBERS)
    _organisation_name_free(unit, name, exclude_pk=locked.pk)
    before = organisation_snapshot(locked)
    locked.unit, locked.name, locked.kind = unit, name, kind
    locked.address, locked.member_count = nfc(address), count
    _bump(locked, duplicate=_organisation_duplicate(unit, name))
    _audit(
        actor,
        "organisation.update",
        locked,
        before=before,
        after=organisation_snapshot(locked),
    )
    return locked


# --- Citizens -------------------------------------------------------------------------


def citizen_snapshot(citizen: Citizen) -> dict[str, Any]:
    """What the audit trail keeps of a citizen: the ID number only masked."""
    return {
        "full_name": citizen.full_name,
        "birth_year": citizen.birth_year,
        "labour_group": citizen.labour_group,
        "national_id": citizen.national_id_masked,
        "unit": citizen.unit.code,
        "is_active": citizen.is_active,
    }


def _national_id_free(tenant_id: int, national_id: str, exclude_pk: int | None = None) -> None:
    if not national_id:
        return
    # The number is encrypted at rest: equal numbers meet in the blind index.
    clash = Citizen.objects.filter(tenant_id=tenant_id, national_id_index=blind_index(national_id))
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise DuplicateSubjectError(
            _("Another citizen already has this citizen ID number."),
            code="duplicate_national_id",
        )


@transaction.atomic
def citizen_create(
    *,
    actor: Any,
    unit: AdministrativeUnit,
    full_name: str,
    birth_year: int,
    labour_group: str,
    national_id: str = "",
) -> Citizen:
    """Add a citizen (Công dân học tập, QĐ 244/QĐ-KHVN); the ID number is optional."""
    _require_writer(actor, unit)
    _check_citizen_unit(unit)
    full_name = _require_text(full_name, _("full name"))
    birth_year = _check_birth_year(birth_year)
    labour_group = _check_labour_group(labour_group)
    national_id = normalise_national_id(national_id)
    _national_id_free(unit.tenant_id, national_id)
    citizen = Citizen(
        tenant_id=unit.tenant_id,
        unit=unit,
        full_name=full_name,
        birth_year=birth_year,
        labour_group=labour_group,
        national_id=national_id,
    )
    _save(citizen, duplicate=DuplicateSubjectError())
    _audit(actor, "citizen.create", citizen, after=citizen_snapshot(citizen))
    _rollup_base(citizen, 1)
    return citizen


@transaction.atomic
def citizen_update(
    *,
    actor: Any,
    citizen: Citizen,
    expected_version: int,
    unit: AdministrativeUnit,
    full_name: str,
    birth_year: int,
    labour_group: str,
    national_id: str,
) -> Citizen:
    locked = _lock(citizen, expected_version)
    _move_allowed(actor, locked, unit)
    _check_citizen_unit(unit)
    full_name = _require_text(full_name, _("full name"))
    birth_year = _check_birth_year(birth_year)
    labour_group = _check_labour_group(labour_group)
    national_id = normalise_national_id(national_id)
    _national_id_free(locked.tenant_id, national_id, exclude_pk=locked.pk)
    before = citizen_snapshot(locked)
    locked.unit, locked.full_name, locked.birth_year = unit, full_name, birth_year
    locked.labour_group, locked.national_id = labour_group, national_id
    _bump(locked, duplicate=DuplicateSubjectError())
    _audit(actor, "citizen.update", locked, before=before, after=citizen_snapshot(locked))
    return locked


# --- Any subject ----------------------------------------------------------------------


@transaction.atomic
def subject_set_active(*, actor: Any, subject: S, active: bool, expected_version: int) -> S:
    """Deactivate a subject (it moved away, the household split …) or reactivate it.

    An inactive subject stays in the history and in its past registrations but
    can no longer be registered.
    """
    locked = _lock(subject, expected_version)
    _require_writer(actor, locked.unit)
    if locked.is_active == active:
        return locked
    locked.is_active = active
    _bump(locked, duplicate=DuplicateSubjectError())
    _rollup_base(locked, 1 if active else -1)
    _audit(
        actor,
        f"{kind_of(locked)}.{'activate' if active else 'deactivate'}",
        locked,
        before={"is_active": not active},
        after={"is_active": active},
    )
    return locked
