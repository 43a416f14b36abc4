"""Helpers shared by the subject and registration tests (no tests here)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone, translation
from django.utils.html import escape

from accounts.models import User
from core.models import AuditEvent
from recognition.models import (
    Citizen,
    Clan,
    FormLock,
    Household,
    LabourGroup,
    Organisation,
    Registration,
)
from recognition.services import subjects as services
from tests.conftest import Cast
from tests.factories import grant, make_user
from units.models import AdministrativeUnit
from units.roles import Role

YEAR = 2025


def vi(message: Any, **params: Any) -> str:
    """``message`` as a Vietnamese page shows it, checked to be translated.

    A message with parameters is already a string (formatted in the active
    language, Vietnamese): it is checked to read as Vietnamese.
    """
    if isinstance(message, str):
        assert any(
            c in message.lower() for c in "ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ"
        ), f"not Vietnamese: {message!r}"
        return message
    with translation.override("en"):
        english = str(message) % params if params else str(message)
    with translation.override("vi"):
        vietnamese = str(message) % params if params else str(message)
    assert vietnamese != english, f"no Vietnamese translation for {english!r}"
    return vietnamese


def vi_html(message: Any, **params: Any) -> str:
    return escape(vi(message, **params))


def lead(cast: Cast, unit: AdministrativeUnit | None = None, username: str = "lead") -> User:
    """A neighbourhood lead of ``unit`` (the cast's neighbourhood by default)."""
    user = User.objects.filter(username=username).first() or make_user(cast.tenant, username)
    return grant(user, unit or cast.neighbourhood, Role.NEIGHBOURHOOD_LEAD)


def other_official(cast: Cast) -> User:
    user = User.objects.filter(username="tan.dinh").first() or make_user(cast.tenant, "tan.dinh")
    return grant(user, cast.other_ward, Role.WARD_OFFICIAL)


def household(
    cast: Cast, unit: AdministrativeUnit | None = None, code: str = "HH-0001", **kwargs: Any
) -> Household:
    unit = unit or cast.neighbourhood
    existing = Household.objects.filter(tenant_id=unit.tenant_id, code=code).first()
    if existing is not None:
        return existing
    return services.household_create(
        actor=None,
        unit=unit,
        code=code,
        head_name=kwargs.pop("head_name", "Nguyễn Văn An"),
        address=kwargs.pop("address", "12 Lê Lợi"),
        member_count=kwargs.pop("member_count", 4),
    )


def clan(cast: Cast, unit: AdministrativeUnit | None = None, name: str = "Họ Nguyễn") -> Clan:
    unit = unit or cast.ward
    return Clan.objects.filter(unit=unit, name=name).first() or services.clan_create(
        actor=None, unit=unit, name=name, representative="Nguyễn Văn Tộc"
    )


def organisation(
    cast: Cast, unit: AdministrativeUnit | None = None, name: str = "Trường Tiểu học Lê Lợi"
) -> Organisation:
    unit = unit or cast.ward
    found = Organisation.objects.filter(unit=unit, name=name).first()
    return found or services.organisation_create(
        actor=None, unit=unit, name=name, kind=Organisation.Kind.SCHOOL
    )


def citizen(
    cast: Cast,
    unit: AdministrativeUnit | None = None,
    name: str = "Trần Thị Bình",
    national_id: str = "079123456789",
) -> Citizen:
    unit = unit or cast.neighbourhood
    found = Citizen.objects.filter(unit=unit, full_name=name).first()
    return found or services.citizen_create(
        actor=None,
        unit=unit,
        full_name=name,
        birth_year=1980,
        labour_group=LabourGroup.WORKERS,
        national_id=national_id,
    )


def lock_registration(unit: AdministrativeUnit, title: str, year: int = YEAR) -> FormLock:
    """The registration deadline of ``title``/``year`` passed yesterday at ``unit``."""
    return FormLock.objects.create(
        tenant=unit.tenant,
        unit=unit,
        title=title,
        year=year,
        stage="registration",
        locks_at=timezone.now() - dt.timedelta(days=1),
        label="Hạn đăng ký",
    )


def state() -> tuple[Any, ...]:
    """Everything a refused subject or registration write must leave unchanged."""
    return (
        list(Household.objects.order_by("pk").values()),
        list(Clan.objects.order_by("pk").values()),
        list(Organisation.objects.order_by("pk").values()),
        list(Citizen.objects.order_by("pk").values()),
        list(Registration.objects.order_by("pk").values()),
        AuditEvent.objects.count(),
    )
