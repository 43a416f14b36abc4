"""The access log of personal data (Luật 91/2025/QH15): written when a person's
detail is viewed (page, edit form, API) and when lists with personal data are
exported, append-only, and read by the tenant administrator on a scoped screen
with filters by person, user and date. Also: which roles see full ID numbers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone, translation

from core.exceptions import AuditImmutableError
from recognition.models import AccessAction, PersonalDataAccess
from recognition.selectors import subjects as sel
from recognition.services import registration as registration_services
from recognition.titles import Title
from spreadsheets import exports
from tests.conftest import client_for
from tests.recognition.test_subjects_helpers import citizen, clan, household, lead

pytestmark = pytest.mark.django_db

NUMBER = "079123456789"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def _detail(user: Any, kind: str, subject: Any) -> Any:
    return client_for(user).get(f"/recognition/subjects/{kind}/{subject.public_id}/")


def test_viewing_a_citizen_is_logged_with_or_without_the_full_number(cast: Any) -> None:
    c = citizen(cast, national_id=NUMBER)
    official = _detail(cast.ward_official, "citizens", c)
    assert official.status_code == 200 and NUMBER.encode() in official.content
    reviewer = _detail(cast.reviewer, "citizens", c)
    assert NUMBER.encode() not in reviewer.content and b"*********789" in reviewer.content
    rows = list(PersonalDataAccess.objects.order_by("id"))
    assert [(r.actor, r.action, r.identifiers) for r in rows] == [
        (cast.ward_official, AccessAction.VIEW_DETAIL, True),
        (cast.reviewer, AccessAction.VIEW_DETAIL, False),
    ]
    assert rows[0].subject_kind == "citizen" and rows[0].subject_id == str(c.public_id)
    assert rows[0].unit == c.unit and rows[0].tenant == cast.tenant
    assert "national_id" in rows[0].fields and "full_name" in rows[0].fields


def test_the_edit_form_and_households_are_logged_clans_are_not(cast: Any) -> None:
    home = household(cast)
    c = citizen(cast, national_id=NUMBER)
    _detail(cast.ward_official, "households", home)
    client_for(cast.ward_official).get(f"/recognition/subjects/citizens/{c.public_id}/edit/")
    _detail(cast.ward_official, "clans", clan(cast))
    rows = list(PersonalDataAccess.objects.order_by("id"))
    assert [(r.subject_kind, r.detail["via"], r.identifiers) for r in rows] == [
        ("household", "page", False),
        ("citizen", "edit", True),
    ]


def test_the_request_id_is_kept(cast: Any) -> None:
    c = citizen(cast)
    client_for(cast.ward_official).get(
        f"/recognition/subjects/citizens/{c.public_id}/", HTTP_X_REQUEST_ID="req-abc-123"
    )
    row = PersonalDataAccess.objects.get()
    assert row.request_id  # the structured logs' request id, or the proxy's header


def test_the_api_detail_is_logged(cast: Any) -> None:
    c = citizen(cast, national_id=NUMBER)
    response = client_for(cast.ward_official).get(f"/api/v1/subjects/citizens/{c.public_id}")
    assert response.status_code == 200 and response.json()["national_id"] == NUMBER
    row = PersonalDataAccess.objects.get()
    assert row.detail == {"via": "api"} and row.identifiers


def test_out_of_scope_views_log_nothing(cast: Any) -> None:
    c = citizen(cast, cast.other_neighbourhood, national_id=NUMBER)
    assert _detail(cast.ward_official, "citizens", c).status_code == 404
    assert _detail(cast.other_tenant_official, "citizens", c).status_code == 404
    assert not PersonalDataAccess.objects.exists()


def test_the_log_is_append_only(cast: Any) -> None:
    c = citizen(cast)
    _detail(cast.ward_official, "citizens", c)
    row = PersonalDataAccess.objects.get()
    with pytest.raises(AuditImmutableError):
        PersonalDataAccess.objects.update(action=AccessAction.ERASE)
    with pytest.raises(AuditImmutableError):
        PersonalDataAccess.objects.all().delete()
    with pytest.raises(AuditImmutableError):
        row.save()
    with pytest.raises(AuditImmutableError):
        row.delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgresql_refuses_raw_updates_of_the_log(cast: Any) -> None:
    from django.db import DatabaseError, transaction

    c = citizen(cast)
    _detail(cast.ward_official, "citizens", c)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE recognition_personaldataaccess SET action = 'erase'")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM recognition_personaldataaccess")


def test_which_roles_see_full_numbers_is_a_setting(cast: Any) -> None:
    c = citizen(cast, national_id=NUMBER)
    assert sel.can_see_national_id(cast.ward_official, c)
    assert sel.can_see_national_id(lead(cast), c)
    assert not sel.can_see_national_id(cast.reviewer, c)
    with override_settings(PERSONAL_DATA_FULL_ID_ROLES=["ward_official"]):
        assert sel.can_see_national_id(cast.ward_official, c)
        assert not sel.can_see_national_id(cast.admin, c)
        assert not sel.can_see_national_id(lead(cast), c)
        assert NUMBER.encode() not in _detail(cast.admin, "citizens", c).content


def _export(capture: Any, user: Any, unit: Any, kind: str) -> None:
    with capture(execute=True):
        exports.export_start(actor=user, unit=unit, kind=kind, fmt="csv")


def test_list_exports_are_logged_and_full_numbers_only_for_the_export_roles(
    cast: Any, django_capture_on_commit_callbacks: Any
) -> None:
    c = citizen(cast, national_id=NUMBER)
    registration_services.registration_create(actor=None, title=Title.CITIZEN, year=2025, subject=c)
    _export(django_capture_on_commit_callbacks, cast.ward_official, cast.ward, "citizens")
    _export(django_capture_on_commit_callbacks, cast.ward_official, cast.ward, "registrations")
    _export(django_capture_on_commit_callbacks, lead(cast), cast.neighbourhood, "registrations")
    _export(django_capture_on_commit_callbacks, cast.ward_official, cast.ward, "clans")
    rows = list(PersonalDataAccess.objects.order_by("id"))
    assert [(r.actor.username, r.detail["kind"], r.identifiers, r.row_count) for r in rows] == [
        (cast.ward_official.username, "citizens", False, 1),  # citizens lists mask always
        (cast.ward_official.username, "registrations", True, 1),
        ("lead", "registrations", False, 1),  # a lead's exports stay masked
    ]
    assert all(r.action == AccessAction.EXPORT_LIST and r.unit for r in rows)


# --- The screen -----------------------------------------------------------------------


LOG_URL = "/recognition/personal-data/access-log/"


def test_the_admin_reads_and_filters_the_log(cast: Any) -> None:
    c = citizen(cast, name="Trần Thị Bình", national_id=NUMBER)
    home = household(cast, head_name="Đỗ Văn Mười")
    _detail(cast.ward_official, "citizens", c)
    _detail(cast.reviewer, "households", home)
    admin = client_for(cast.admin)
    admin.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        page = admin.get(LOG_URL)
        assert page.status_code == 200 and len(page.context["rows"]) == 2
        assert "Trần Thị Bình" in page.content.decode()
        by_id = admin.get(LOG_URL, {"person": str(c.public_id)})
        assert [r.subject_id for r in by_id.context["rows"]] == [str(c.public_id)]
        by_name = admin.get(LOG_URL, {"person": "do van muoi"})  # accent-insensitive
        assert [r.subject_id for r in by_name.context["rows"]] == [str(home.public_id)]
        by_user = admin.get(LOG_URL, {"actor": cast.reviewer.username})
        assert [r.actor for r in by_user.context["rows"]] == [cast.reviewer]
        today = timezone.localdate()
        inside = admin.get(LOG_URL, {"date_from": today.strftime("%d/%m/%Y")})
        assert len(inside.context["rows"]) == 2
        tomorrow = (today + dt.timedelta(days=1)).strftime("%d/%m/%Y")
        assert admin.get(LOG_URL, {"date_from": tomorrow}).context["rows"] == []
        backwards = admin.get(
            LOG_URL, {"date_from": tomorrow, "date_to": today.strftime("%d/%m/%Y")}
        )
        assert backwards.context["rows"] == []
        assert "The start date is after the end date." in backwards.content.decode()


def test_the_log_screen_is_for_tenant_admins_of_their_tenant(cast: Any) -> None:
    c = citizen(cast)
    _detail(cast.ward_official, "citizens", c)
    assert client_for(cast.ward_official).get(LOG_URL).status_code == 403
    assert client_for(cast.viewer).get(LOG_URL).status_code == 403
    assert client_for(cast.reviewer).get(LOG_URL).status_code == 403
    assert Client().get(LOG_URL).status_code == 302
    from tests.factories import grant, make_user
    from units.roles import Role

    other_admin = grant(
        make_user(cast.other_tenant, "other.admin"), cast.other_city, Role.TENANT_ADMIN
    )
    page = client_for(other_admin).get(LOG_URL, {"person": str(c.public_id)})
    assert page.status_code == 200 and page.context["rows"] == []
    district_admin = grant(
        make_user(cast.tenant, "district.admin"), cast.other_district, Role.TENANT_ADMIN
    )
    assert client_for(district_admin).get(LOG_URL).context["rows"] == []  # another subtree


def test_the_menu_links_the_log_for_tenant_admins_only(cast: Any) -> None:
    home = client_for(cast.admin).get("/recognition/subjects/households/")
    assert LOG_URL.encode() in home.content
    assert (
        LOG_URL.encode()
        not in client_for(cast.ward_official).get("/recognition/subjects/households/").content
    )


def test_the_api_lists_the_log_for_tenant_admins(cast: Any) -> None:
    c = citizen(cast, national_id=NUMBER)
    _detail(cast.ward_official, "citizens", c)
    _detail(cast.reviewer, "citizens", c)
    api = "/api/v1/personal-data/access-log"
    listed = client_for(cast.admin).get(api)
    assert listed.status_code == 200 and listed.json()["count"] == 2
    first = listed.json()["items"][0]
    assert first["subject_id"] == str(c.public_id) and first["action"] == "view_detail"
    assert first["unit"] == c.unit.code and first["actor"] == cast.reviewer.username
    assert client_for(cast.admin).get(api, {"actor": "ward"}).json()["count"] == 1
    assert client_for(cast.admin).get(api, {"person": "tran thi binh"}).json()["count"] == 2
    later = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert client_for(cast.admin).get(api, {"date_from": later}).json()["count"] == 0
    assert client_for(cast.admin).get(api, {"date_from": "31/02/2026"}).status_code == 422
    assert client_for(cast.admin).get(api, {"action": "nothing"}).status_code == 422
    refused = client_for(cast.ward_official).get(api)  # no administrator role: no rows
    assert refused.status_code == 200 and refused.json()["count"] == 0
    assert Client().get(api).status_code == 401
