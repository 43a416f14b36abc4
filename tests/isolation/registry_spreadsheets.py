"""Isolation registry of the spreadsheet import and export screens and API
(tests/test_isolation.py).

The world: an import with errors (and its error report) in the cast's ward, in
the other district's ward and in the other tenant's ward, written directly so
the walk runs no job. The ward official reads and writes the first; the other
two are out of sight (404).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile

from spreadsheets.models import ImportRun, ImportStatus
from tests.conftest import Cast
from tests.isolation.base import Entry, Ids, _pid

Three = tuple[Any, Any, Any]


@dataclass
class World:
    imports: Three


def _import(unit: Any, user: Any) -> ImportRun:
    run = ImportRun(
        tenant_id=unit.tenant_id,
        unit=unit,
        kind="households",
        status=ImportStatus.INVALID,
        file_name="ho-gia-dinh.xlsx",
        file_size=10,
        counts={"total": 1, "new": 0, "changed": 0, "unchanged": 0, "error": 1},
        errors=[{"row": 2, "column": "Chủ hộ (B)", "message": "Ô này không được để trống."}],
        error_count=1,
        created_by=user,
    )
    run.file.save("ho-gia-dinh.xlsx", ContentFile(b"PK\x03\x04"), save=False)
    run.report.save("errors.csv", ContentFile("Dòng,Cột,Lỗi\r\n".encode("utf-8-sig")), save=False)
    run.save()
    return run


def _world(cast: Cast) -> World:
    cached = getattr(cast, "_spreadsheet_world", None)
    if cached is not None:
        return cached
    places = (
        (cast.ward, cast.ward_official),
        (cast.other_ward, cast.admin),
        (cast.other_tenant_ward, cast.other_tenant_official),
    )
    world = World(imports=tuple(_import(unit, user) for unit, user in places))  # type: ignore[arg-type]
    cast._spreadsheet_world = world  # type: ignore[attr-defined]
    return world


def import_ids(cast: Cast) -> Ids:
    runs = _world(cast).imports
    return Ids(
        actor=cast.ward_official,
        in_scope=_pid(runs[0]),
        other_subtree=_pid(runs[1]),
        other_tenant=_pid(runs[2]),
    )


def unit_ids(cast: Cast) -> Ids:
    return Ids(
        actor=cast.ward_official,
        in_scope=_pid(cast.ward),
        other_subtree=_pid(cast.other_ward),
        other_tenant=_pid(cast.other_tenant_ward),
    )


def _version(cast: Cast) -> dict[str, Any]:
    return {"version": ImportRun.objects.get(pk=_world(cast).imports[0].pk).version}


def _export_form(cast: Cast) -> dict[str, Any]:
    return {"kind": "households", "unit": _pid(cast.ward), "fmt": "xlsx"}


HTML_REGISTRY: dict[str, Entry] = {
    "spreadsheets:index": Entry(),
    "spreadsheets:template": Entry(),
    "spreadsheets:import-new": Entry(writes=("POST",), body=lambda cast: {"unit_code": "27184"}),
    "spreadsheets:import-detail": Entry(ids=import_ids),
    "spreadsheets:import-confirm": Entry(reads=(), writes=("POST",), ids=import_ids, body=_version),
    "spreadsheets:import-cancel": Entry(reads=(), writes=("POST",), ids=import_ids),
    "spreadsheets:import-errors": Entry(ids=import_ids),
    "spreadsheets:export": Entry(reads=(), writes=("POST",), body=_export_form),
}

API_REGISTRY: dict[str, Entry] = {
    "GET /api/v1/imports": Entry(),
    "POST /api/v1/units/{public_id}/imports": Entry(
        reads=(), writes=("POST",), ids=unit_ids, body=lambda cast: {"kind": "households"}
    ),
    "GET /api/v1/imports/{public_id}": Entry(ids=import_ids),
    "POST /api/v1/imports/{public_id}/confirm": Entry(
        reads=(), writes=("POST",), ids=import_ids, body=_version
    ),
    "POST /api/v1/imports/{public_id}/cancel": Entry(reads=(), writes=("POST",), ids=import_ids),
    "GET /api/v1/imports/{public_id}/errors": Entry(ids=import_ids),
    "POST /api/v1/exports": Entry(
        reads=(),
        writes=("POST",),
        body=lambda cast: {"kind": "households", "unit": _pid(cast.ward), "format": "xlsx"},
    ),
}
