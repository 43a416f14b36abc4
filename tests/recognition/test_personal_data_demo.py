"""The demo shows Vườn Lài's citizens (ID numbers encrypted) and an access log."""

from __future__ import annotations

import pytest
from django.db import connection

from recognition.demo.personal_data import CITIZENS, seed_personal_data_demo
from recognition.models import Citizen
from recognition.models.personal_data import AccessAction, PersonalDataAccess
from units.demo.seed import seed_demo
from units.models import Tenant

pytestmark = pytest.mark.django_db


def test_the_demo_log_and_citizens_once() -> None:
    seed_demo(with_cycle=False)
    hcm = Tenant.objects.get(slug="hcm")
    seed_personal_data_demo(hcm)
    citizens = Citizen.objects.filter(tenant=hcm).order_by("pk")
    assert [c.full_name for c in citizens] == [c[0] for c in CITIZENS]
    assert [c.national_id for c in citizens] == [c[3] for c in CITIZENS]
    assert all(c.unit.parent.name == "Phường Vườn Lài" for c in citizens)
    with connection.cursor() as cursor:
        cursor.execute("SELECT national_id FROM recognition_citizen")
        stored = [row[0] for row in cursor.fetchall()]
    assert not any(c[3] and c[3] in value for value in stored for c in CITIZENS)
    actions = sorted(PersonalDataAccess.objects.filter(tenant=hcm).values_list("action", flat=True))
    assert actions.count(AccessAction.VIEW_DETAIL) >= 2
    assert AccessAction.EXPORT_LIST in actions
    assert PersonalDataAccess.objects.filter(identifiers=True).count() == 1
    seed_personal_data_demo(hcm)
    assert Citizen.objects.filter(tenant=hcm).count() == len(CITIZENS)
    assert PersonalDataAccess.objects.filter(tenant=hcm).count() == len(actions)
