"""Helpers for the import tests: build a file in memory and run it through the engine
(or through the whole flow of services and jobs)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from openpyxl import Workbook

from spreadsheets.engine import Outcome, run_import
from spreadsheets.kinds.base import ImportContext, ImportKind
from spreadsheets.registry import kind_class
from units.models import AdministrativeUnit


class _Rollback(Exception):
    pass


def xlsx_bytes(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """A plain workbook (openpyxl directly, so these tests do not depend on our writers)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Dữ liệu"
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def kind_headers(key: str) -> list[str]:
    return [c.header for c in kind_class(key).columns()]


def import_file(
    key: str,
    user: Any,
    unit: AdministrativeUnit,
    rows: Sequence[Sequence[Any]] | bytes,
    *,
    apply: bool = False,
    filename: str = "data.xlsx",
    options: dict[str, Any] | None = None,
) -> Outcome:
    """Run a file through the engine as the services do. ``rows`` without a header
    row get the kind's template headers. With ``apply`` the writes stay only when
    there was no error (all or nothing), like ``import_apply_run``."""
    content = rows if isinstance(rows, bytes) else xlsx_bytes(kind_headers(key), rows)
    ctx = ImportContext(
        tenant=unit.tenant, unit=unit, actor=user, options=options or {}, dry_run=not apply
    )
    kind: ImportKind = kind_class(key)(ctx=ctx)
    if not apply:
        return run_import(
            kind=kind, file=io.BytesIO(content), filename=filename, ctx=ctx, apply=False
        )
    outcome: Outcome | None = None
    try:
        with transaction.atomic():
            outcome = run_import(
                kind=kind, file=io.BytesIO(content), filename=filename, ctx=ctx, apply=True
            )
            if outcome.error_count:
                raise _Rollback
    except _Rollback:
        pass
    assert outcome is not None
    return outcome


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)
