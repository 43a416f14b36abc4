"""Isolation registry of the subject and registration screens and API
(tests/test_isolation.py).

The world: a household, clan, organisation and citizen in the ward official's
ward, the same in another ward of the tenant and in the other tenant, and a
registered household in each of the three places.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from recognition.models import LabourGroup, Organisation, Registration
from recognition.services import registration as registration_services
from recognition.services import subjects as services
from recognition.titles import Title
from tests.conftest import Cast
from tests.factories import make_unit
from tests.isolation.base import Entry, Ids, _pid
from units.models import AdministrativeUnit

YEAR = 2025


@dataclass
class World:
    households: tuple[Any, Any, Any]
    clans: tuple[Any, Any, Any]
    organisations: tuple[Any, Any, Any]
    citizens: tuple[Any, Any, Any]
    registrations: tuple[Registration, Registration, Registration]
    spare: Any  # a household of the ward with no registration (to register)


def _other_tenant_neighbourhood(cast: Cast) -> AdministrativeUnit:
    found = AdministrativeUnit.objects.filter(tenant=cast.other_tenant, code="ISO-SUBJ-TDP").first()
    return found or make_unit(
        cast.other_tenant, cast.other_tenant_ward, "to_dan_pho", "Tổ dân phố 7", "ISO-SUBJ-TDP"
    )


def _world(cast: Cast) -> World:
    """Built once per cast (ids and bodies are asked for many times)."""
    cached = getattr(cast, "_subjects_world", None)
    if cached is not None:
        return cached
    places = (
        (cast.neighbourhood, cast.ward),
        (cast.other_neighbourhood, cast.other_ward),
        (_other_tenant_neighbourhood(cast), cast.other_tenant_ward),
    )
    households, clans, organisations, citizens, registrations = [], [], [], [], []
    for i, (neighbourhood, ward) in enumerate(places):
        household = services.household_create(
            actor=None, unit=neighbourhood, code=f"ISO-S-{i}", head_name=f"Chủ hộ {i}"
        )
        households.append(household)
        clans.append(
            services.clan_create(
                actor=None, unit=ward, name=f"Họ Thử {i}", representative="Người đại diện"
            )
        )
        organisations.append(
            services.organisation_create(
                actor=None, unit=ward, name=f"Trường Thử {i}", kind=Organisation.Kind.SCHOOL
            )
        )
        citizens.append(
            services.citizen_create(
                actor=None,
                unit=neighbourhood,
                full_name=f"Công Dân {i}",
                birth_year=1990,
                labour_group=LabourGroup.WORKERS,
                national_id=f"07900000000{i}",
            )
        )
        registrations.append(
            registration_services.registration_create(
                actor=None, title=Title.FAMILY, year=YEAR, subject=household
            )
        )
    spare = services.household_create(
        actor=None, unit=cast.neighbourhood, code="ISO-S-SPARE", head_name="Hộ chưa đăng ký"
    )
    world = World(
        households=(households[0], households[1], households[2]),
        clans=(clans[0], clans[1], clans[2]),
        organisations=(organisations[0], organisations[1], organisations[2]),
        citizens=(citizens[0], citizens[1], citizens[2]),
        registrations=(registrations[0], registrations[1], registrations[2]),
        spare=spare,
    )
    cast._subjects_world = world  # type: ignore[attr-defined]
    return world


def _ids(objects: tuple[Any, Any, Any], cast: Cast) -> Ids:
    """The ward official asks for their ward's object, another ward's, another tenant's."""
    return Ids(
        actor=cast.ward_official,
        in_scope=_pid(objects[0]),
        other_subtree=_pid(objects[1]),
        other_tenant=_pid(objects[2]),
    )


def household_ids(cast: Cast) -> Ids:
    return _ids(_world(cast).households, cast)


def clan_ids(cast: Cast) -> Ids:
    return _ids(_world(cast).clans, cast)


def organisation_ids(cast: Cast) -> Ids:
    return _ids(_world(cast).organisations, cast)


def citizen_ids(cast: Cast) -> Ids:
    return _ids(_world(cast).citizens, cast)


def registration_ids(cast: Cast) -> Ids:
    return _ids(_world(cast).registrations, cast)


def ward_ids(cast: Cast) -> Ids:
    _world(cast)
    return Ids(
        actor=cast.ward_official,
        in_scope=_pid(cast.ward),
        other_subtree=_pid(cast.other_ward),
        other_tenant=_pid(cast.other_tenant_ward),
    )


# --- Valid bodies (were a guard missing, the write would land) -------------------------


def _household_form(cast: Cast) -> dict[str, Any]:
    return {
        "unit_code": cast.neighbourhood.code,
        "code": "ISO-NEW-1",
        "head_name": "Hộ Mới",
        "address": "1 Đường Thử",
        "member_count": 3,
        "version": 1,
    }


def _clan_form(cast: Cast) -> dict[str, Any]:
    return {
        "unit_code": cast.ward.code,
        "name": "Họ Mới",
        "representative": "Người Mới",
        "home_unit_codes": cast.neighbourhood.code,
        "version": 1,
    }


def _organisation_form(cast: Cast) -> dict[str, Any]:
    return {
        "unit_code": cast.ward.code,
        "name": "Trường Mới",
        "kind": Organisation.Kind.SCHOOL,
        "version": 1,
    }


def _citizen_form(cast: Cast) -> dict[str, Any]:
    return {
        "unit_code": cast.neighbourhood.code,
        "full_name": "Công Dân Mới",
        "birth_year": 1991,
        "labour_group": LabourGroup.FARMERS,
        "national_id": "079111111111",
        "version": 1,
    }


def _register_form(cast: Cast) -> dict[str, Any]:
    return {"title": Title.FAMILY, "year": YEAR, "subject": _pid(_world(cast).spare)}


def _bulk_form(cast: Cast) -> dict[str, Any]:
    _world(cast)
    return {
        "title": Title.FAMILY,
        "year": YEAR,
        "unit": cast.neighbourhood.code,
        "mode": "all",
    }


def _household_json(cast: Cast) -> dict[str, Any]:
    return {"unit": _pid(cast.neighbourhood), "code": "ISO-NEW-2", "head_name": "Hộ Mới"}


def _clan_json(cast: Cast) -> dict[str, Any]:
    return {"unit": _pid(cast.ward), "name": "Họ Mới", "representative": "Người Mới"}


def _organisation_json(cast: Cast) -> dict[str, Any]:
    return {"unit": _pid(cast.ward), "name": "Trường Mới", "kind": "school"}


def _citizen_json(cast: Cast) -> dict[str, Any]:
    return {
        "unit": _pid(cast.neighbourhood),
        "full_name": "Công Dân Mới",
        "birth_year": 1991,
        "labour_group": "farmers",
    }


def _patch_json(cast: Cast) -> dict[str, Any]:
    return {"version": 1, "is_active": False}


def _registration_json(cast: Cast) -> dict[str, Any]:
    return {"title": Title.FAMILY, "year": YEAR, "subject": _pid(_world(cast).spare)}


def _bulk_json(cast: Cast) -> dict[str, Any]:
    _world(cast)
    return {"title": Title.FAMILY, "year": YEAR, "unit": _pid(cast.neighbourhood)}


_KINDS = (
    ("household", "households", household_ids, _household_form, _household_json),
    ("clan", "clans", clan_ids, _clan_form, _clan_json),
    ("organisation", "organisations", organisation_ids, _organisation_form, _organisation_json),
    ("citizen", "citizens", citizen_ids, _citizen_form, _citizen_json),
)

HTML_REGISTRY: dict[str, Entry] = {
    "recognition:registration-list": Entry(),
    "recognition:registration-create": Entry(reads=(), writes=("POST",), body=_register_form),
    "recognition:registration-bulk": Entry(reads=(), writes=("POST",), body=_bulk_form),
    "recognition:registration-withdraw": Entry(reads=(), writes=("POST",), ids=registration_ids),
}

API_REGISTRY: dict[str, Entry] = {
    "GET /api/v1/registrations": Entry(ids=ward_ids, query="unit"),
    "POST /api/v1/registrations": Entry(body=_registration_json),
    "POST /api/v1/registrations/bulk": Entry(body=_bulk_json),
    "GET /api/v1/registrations/{public_id}": Entry(ids=registration_ids),
    "POST /api/v1/registrations/{public_id}/withdraw": Entry(ids=registration_ids),
}

for _kind, _segment, _ids_of, _form, _json in _KINDS:
    HTML_REGISTRY.update(
        {
            f"recognition:{_kind}-list": Entry(),
            f"recognition:{_kind}-create": Entry(writes=("POST",), body=_form),
            f"recognition:{_kind}-detail": Entry(ids=_ids_of),
            f"recognition:{_kind}-edit": Entry(writes=("POST",), ids=_ids_of, body=_form),
            f"recognition:{_kind}-set-active": Entry(
                reads=(), writes=("POST",), ids=_ids_of, body=lambda cast: {"version": 1}
            ),
        }
    )
    API_REGISTRY.update(
        {
            f"GET /api/v1/subjects/{_segment}": Entry(ids=ward_ids, query="unit"),
            f"POST /api/v1/subjects/{_segment}": Entry(body=_json),
            f"GET /api/v1/subjects/{_segment}/{{public_id}}": Entry(ids=_ids_of),
            f"PATCH /api/v1/subjects/{_segment}/{{public_id}}": Entry(
                ids=_ids_of, body=_patch_json
            ),
        }
    )
