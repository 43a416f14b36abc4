"""Append-only records (the audit trail, the personal-data access log).

Inserts (``create``, ``bulk_create``) and reads pass; saving a stored row, and
every bulk change or deletion through the ORM, raise
:class:`core.exceptions.AuditImmutableError`. On PostgreSQL each table also has
a trigger refusing raw UPDATE and DELETE (migrations ``core.0003`` and
``recognition.0008``).
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models

from core.exceptions import AuditImmutableError


class AppendOnlyQuerySet(models.QuerySet[Any]):
    """Reads and inserts; no ``update``, ``bulk_update`` or ``delete``."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise AuditImmutableError()

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> NoReturn:
        raise AuditImmutableError()

    def delete(self) -> NoReturn:
        raise AuditImmutableError()

    delete.alters_data = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]

    def _raw_delete(self, using: Any) -> NoReturn:
        raise AuditImmutableError()


class AppendOnlyModel(models.Model):
    """A row is written once and never changed or deleted through the application."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert only: saving a row already stored is refused."""
        if not self._state.adding or kwargs.get("force_update") or kwargs.get("update_fields"):
            raise AuditImmutableError()
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditImmutableError()
