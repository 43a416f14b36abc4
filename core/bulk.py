"""Bulk inserts of model instances: PostgreSQL ``COPY`` where it runs, ``bulk_create`` elsewhere.

Imports write tens of thousands of rows in one transaction; Django's
``bulk_create`` spends most of that time building the INSERT statement value by
value. ``COPY ... FROM STDIN`` streams the same rows several times faster. The
instances are not given their primary keys back (callers that need them look
the rows up by their natural key).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, connections, models


def bulk_insert(model: type[models.Model], objs: Sequence[models.Model]) -> int:
    """Insert ``objs`` (new instances of ``model``); returns how many were written."""
    if not objs:
        return 0
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs, batch_size=2000)
        return len(objs)
    fields = [
        f
        for f in model._meta.concrete_fields
        if not (f.primary_key and isinstance(f, models.AutoField | models.BigAutoField))
    ]
    real = connections[connection.alias]  # not the proxy: it is asked once per value
    plain = (models.CharField, models.TextField, models.IntegerField, models.BooleanField)
    convert = [
        None if type(f) in plain or (isinstance(f, plain) and not f.is_relation) else f
        for f in fields
    ]
    quote = real.ops.quote_name
    sql = (
        f"COPY {quote(model._meta.db_table)} "
        f"({', '.join(quote(str(f.column)) for f in fields)}) FROM STDIN"
    )
    with real.cursor() as cursor:
        raw: Any = cursor.cursor  # the psycopg 3 cursor under Django's wrapper
        with raw.copy(sql) as copy:
            for obj in objs:
                copy.write_row(
                    [
                        getattr(obj, f.attname)
                        if c is None
                        else c.get_db_prep_save(c.pre_save(obj, add=True), real)
                        for f, c in zip(fields, convert, strict=True)
                    ]
                )
    return len(objs)
