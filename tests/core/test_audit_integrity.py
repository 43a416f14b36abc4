"""The audit log is append-only: written once, never changed or deleted through
the application, and on PostgreSQL not even by raw SQL (a trigger refuses it)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.utils import translation

from core.audit import audit_record, purge_tenant_events
from core.exceptions import ApplicationError, AuditImmutableError
from core.models import AuditEvent
from tests.conftest import Cast

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only trigger exists on PostgreSQL only"
)


def _event(cast: Cast, **overrides: Any) -> AuditEvent:
    fields: dict[str, Any] = {
        "actor": cast.admin,
        "action": "unit.update",
        "obj": cast.ward,
        "tenant": cast.tenant,
        "unit": cast.ward,
        "before": {"name": "Phường Cũ"},
        "after": {"name": "Phường Bến Nghé"},
    }
    fields.update(overrides)
    return audit_record(**fields)


def _table() -> str:
    return connection.ops.quote_name(AuditEvent._meta.db_table)


def test_an_event_carries_actor_time_unit_object_and_before_after(cast: Cast) -> None:
    event = AuditEvent.objects.get(pk=_event(cast).pk)
    assert event.actor == cast.admin
    assert event.created_at is not None
    assert event.unit == cast.ward
    assert event.tenant == cast.tenant
    assert (event.object_type, event.object_id) == (
        "units.administrativeunit",
        str(cast.ward.public_id),
    )
    assert event.before == {"name": "Phường Cũ"}
    assert event.after == {"name": "Phường Bến Nghé"}


def test_inserts_still_work_one_by_one_and_in_bulk(cast: Cast) -> None:
    already = AuditEvent.objects.filter(tenant=cast.tenant).count()
    _event(cast)
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(tenant=cast.tenant, action="x.bulk", object_type="t", object_id=str(i))
            for i in range(3)
        ]
    )
    assert AuditEvent.objects.filter(tenant=cast.tenant).count() == already + 4
    assert AuditEvent.objects.filter(action="x.bulk").count() == 3


def test_queryset_update_is_refused(cast: Cast) -> None:
    event = _event(cast)
    with pytest.raises(AuditImmutableError) as caught:
        AuditEvent.objects.filter(pk=event.pk).update(action="forged")
    assert isinstance(caught.value, ApplicationError)
    assert caught.value.code == "audit_immutable"
    with translation.override("en"):
        assert "append-only" in str(AuditImmutableError())
    assert AuditEvent.objects.get(pk=event.pk).action == "unit.update"


def test_bulk_update_is_refused(cast: Cast) -> None:
    event = _event(cast)
    event.action = "forged"
    with pytest.raises(AuditImmutableError):
        AuditEvent.objects.bulk_update([event], ["action"])
    assert AuditEvent.objects.get(pk=event.pk).action == "unit.update"


def test_queryset_delete_is_refused(cast: Cast) -> None:
    already = AuditEvent.objects.filter(tenant=cast.tenant).count()
    _event(cast)
    _event(cast, action="unit.rename")
    with pytest.raises(AuditImmutableError):
        AuditEvent.objects.filter(tenant=cast.tenant).delete()
    with pytest.raises(AuditImmutableError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.filter(tenant=cast.tenant).count() == already + 2


def test_saving_an_existing_event_is_refused(cast: Cast) -> None:
    event = AuditEvent.objects.get(pk=_event(cast).pk)
    event.after = {"name": "Forged"}
    with pytest.raises(AuditImmutableError):
        event.save()
    with pytest.raises(AuditImmutableError):
        event.save(update_fields=["after"])
    assert AuditEvent.objects.get(pk=event.pk).after == {"name": "Phường Bến Nghé"}


def test_an_unsaved_event_with_a_taken_pk_cannot_overwrite_the_stored_one(cast: Cast) -> None:
    event = _event(cast)
    clone = AuditEvent(pk=event.pk, action="forged", object_type="t", object_id="1")
    with pytest.raises(DatabaseError), transaction.atomic():
        clone.save()  # forced INSERT: the primary key clashes, nothing is updated
    assert AuditEvent.objects.get(pk=event.pk).action == "unit.update"


def test_deleting_an_event_is_refused(cast: Cast) -> None:
    event = _event(cast)
    with pytest.raises(AuditImmutableError):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_admin_shows_events_read_only(cast: Cast) -> None:
    model_admin = admin.site._registry[AuditEvent]
    request = RequestFactory().get("/admin/core/auditevent/")
    request.user = cast.admin
    cast.admin.is_superuser = True
    cast.admin.is_staff = True
    event = _event(cast)
    assert model_admin.has_view_permission(request, event)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)
    assert "delete_selected" not in model_admin.get_actions(request)


@postgres_only
def test_raw_sql_update_is_refused_by_the_trigger(cast: Cast) -> None:
    event = _event(cast)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            f"UPDATE {_table()} SET action = 'forged' WHERE id = %s",  # noqa: S608
            [event.pk],
        )
    assert AuditEvent.objects.get(pk=event.pk).action == "unit.update"


@postgres_only
def test_raw_sql_delete_is_refused_by_the_trigger(cast: Cast) -> None:
    event = _event(cast)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"DELETE FROM {_table()} WHERE id = %s", [event.pk])  # noqa: S608
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@postgres_only
def test_raw_sql_insert_passes_the_trigger(cast: Cast) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table()} (public_id, action, object_type, object_id, created_at) "  # noqa: S608
            "VALUES (gen_random_uuid(), 'raw.insert', 't', '1', now())"
        )
    assert AuditEvent.objects.filter(action="raw.insert").count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_truncate_still_empties_the_table_for_test_flushes() -> None:
    """Transactional tests and ``flush`` empty the tables with TRUNCATE, which
    the row trigger does not see."""
    AuditEvent.objects.create(action="x.flush", object_type="t", object_id="1")
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {_table()}")
    assert not AuditEvent.objects.exists()


def test_the_maintenance_purge_removes_one_tenants_events_only(cast: Cast) -> None:
    _event(cast)
    _event(cast, action="unit.rename")
    other = _event(cast, tenant=cast.other_tenant, obj=cast.other_city, unit=cast.other_city)
    mine = AuditEvent.objects.filter(tenant=cast.tenant).count()
    assert mine >= 2
    assert purge_tenant_events(cast.tenant) == mine
    assert not AuditEvent.objects.filter(tenant=cast.tenant).exists()
    assert AuditEvent.objects.filter(pk=other.pk).exists()
    if connection.vendor == "postgresql":
        # The trigger guards the rest of the transaction again.
        with connection.cursor() as cursor:
            cursor.execute("SHOW session_replication_role")
            assert cursor.fetchone()[0] == "origin"
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(f"DELETE FROM {_table()} WHERE id = %s", [other.pk])  # noqa: S608
    assert AuditEvent.objects.filter(pk=other.pk).exists()
