"""Writing audit events. Services call :func:`audit_record` inside their transaction."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction

from core.models import AuditEvent


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: Any,
    tenant: Any = None,
    unit: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event describing ``action`` on ``obj``."""
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        tenant=tenant,
        actor=actor_obj,
        unit=unit,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(getattr(obj, "public_id", obj.pk)),
        before=before,
        after=after,
    )


def purge_tenant_events(tenant: Any) -> int:
    """Maintenance only: delete every audit event of ``tenant``; returns the count.

    The one sanctioned deletion of audit rows, for a tenant removed as a whole
    by a maintenance command (``generate_synthetic --replace`` deleting a
    synthetic tenant). It goes around the append-only queryset with raw SQL and,
    on PostgreSQL, around the append-only trigger by switching the transaction
    to ``session_replication_role = replica`` for this one statement (allowed to
    superusers only, as for ``pg_restore --disable-triggers``); the previous
    role is restored right after, so the rest of the transaction is guarded again.
    """
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        previous = None
        if connection.vendor == "postgresql":
            cursor.execute("SELECT current_setting('session_replication_role')")
            previous = cursor.fetchone()[0]
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])  # noqa: S608
        deleted = cursor.rowcount
        if previous is not None:
            cursor.execute("SELECT set_config('session_replication_role', %s, true)", [previous])
    return deleted
