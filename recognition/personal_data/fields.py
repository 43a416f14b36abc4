"""A model field holding a national ID number encrypted at rest, with its blind index.

The Python value is the plain number; the column holds the Fernet token
(:mod:`recognition.personal_data.crypto`). Assigning the number also sets the
blind-index field named by ``index_field`` on the instance, so every way a row
is written (``save``, ``bulk_create``, the COPY writer, ``bulk_update`` listing
both fields) keeps the two in step.

The field is deliberately not a ``CharField`` subclass: code that writes
"plain" character columns without preparing them (``core.bulk.bulk_insert``)
must not mistake it for one. Lookups on it are refused (a ciphertext cannot be
compared): query the blind index with :func:`~recognition.personal_data.crypto.blind_index`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldError
from django.db import models
from django.db.models.query_utils import DeferredAttribute

from recognition.personal_data import crypto


class _IndexedAttribute(DeferredAttribute):
    """Stores the plain value and keeps the blind index in step with it."""

    def __set__(self, instance: Any, value: Any) -> None:
        field: EncryptedIdField = self.field  # type: ignore[assignment]
        instance.__dict__[field.attname] = value
        if field.index_field and isinstance(value, str):
            instance.__dict__[field.index_field] = crypto.blind_index(value)


class EncryptedIdField(models.Field):  # type: ignore[type-arg]
    """A short identifier stored encrypted; the empty string is stored as empty."""

    descriptor_class = _IndexedAttribute
    description = "An identifier encrypted at rest (Fernet)"

    def __init__(self, *args: Any, index_field: str = "", **kwargs: Any) -> None:
        self.index_field = index_field
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.index_field:
            kwargs["index_field"] = self.index_field
        if kwargs.get("default") == "":
            del kwargs["default"]
        return name, path, args, kwargs

    def get_internal_type(self) -> str:
        return "TextField"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str:
        return crypto.decrypt(value or "")

    def to_python(self, value: Any) -> str:
        """Form and fixture input: the plain number, or a token written by
        :meth:`value_to_string` (a 12-digit number never starts like a Fernet token)."""
        text = "" if value is None else str(value)
        return crypto.decrypt(text) if text.startswith(crypto.TOKEN_PREFIX) else text

    def get_prep_value(self, value: Any) -> str:
        value = super().get_prep_value(value)
        return crypto.encrypt("" if value is None else str(value))

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise FieldError(
            f"{self.model.__name__}.{self.name} is encrypted and cannot be compared "
            f"({lookup_name!r}): filter on {self.index_field or 'its blind index'} "
            "with recognition.personal_data.crypto.blind_index()."
        )

    def value_to_string(self, obj: Any) -> str:
        # Serialisation (dumpdata, fixtures) never writes the plain number.
        return crypto.encrypt(str(self.value_from_object(obj) or ""))
