"""Writing audit events. Services call :func:`audit_record` inside their transaction."""

from __future__ import annotations

from typing import Any

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
