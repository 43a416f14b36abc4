"""Bulk inserts: PostgreSQL ``COPY`` where it runs, ``bulk_create`` elsewhere.

Imports write tens of thousands of rows in one transaction, synthetic data
millions; Django's ``bulk_create`` spends most of that time building the INSERT
statement value by value. ``COPY ... FROM STDIN`` streams the same rows several
times faster. Instances written by :func:`bulk_insert` are not given their
primary keys back (callers that need them look the rows up by natural key).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, connections, models
from psycopg.copy import QueuedLibpqWriter


def copy_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    threaded: bool = False,
) -> None:
    """``COPY`` rows of database values into ``model``'s table (PostgreSQL only).

    ``columns`` are column names and each row holds their values in that order.
    With ``threaded`` a writer thread sends the data while Python builds the
    next rows (worth it for millions of rows, e.g. synthetic data).
    """
    real = connections[connection.alias]  # not the proxy
    quote = real.ops.quote_name
    sql = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    with real.cursor() as cursor:
        raw: Any = cursor.cursor  # the psycopg 3 cursor under Django's wrapper
        writer = QueuedLibpqWriter(raw) if threaded else None
        with raw.copy(sql, writer=writer) as copy:
            for row in rows:
                copy.write_row(row)


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
    copy_rows(
        model,
        [str(f.column) for f in fields],
        (
            [
                getattr(obj, f.attname)
                if c is None
                else c.get_db_prep_save(c.pre_save(obj, add=True), real)
                for f, c in zip(fields, convert, strict=True)
            ]
            for obj in objs
        ),
    )
    return len(objs)
