"""Logging spreadsheet exports that carry personal data (Luật 91/2025/QH15).

The export engine (``spreadsheets.exports``) calls :func:`log_list_export` when
an export file is written. Lists of households and citizens, and registrations
and assessments (which name the household head or citizen), are logged; a
citizens list always shows ID numbers masked, while registrations and
assessments carry them in full for the roles of ``PERSONAL_DATA_EXPORT_ID_ROLES``
(``sees_national_ids``), and the row then says it contained identifiers.
"""

from __future__ import annotations

from typing import Any

from recognition.models import AccessAction
from recognition.personal_data.access_log import access_log_record
from recognition.personal_data.policy import exports_full_ids

#: Export kinds with personal data -> the personal fields they write.
PERSONAL_EXPORTS: dict[str, tuple[str, ...]] = {
    "households": ("code", "head_name", "address", "member_count"),
    "citizens": ("full_name", "birth_year", "labour_group", "national_id_masked"),
    "registrations": ("subject_name", "subject_code", "birth_year"),
    "assessments": ("subject_name", "subject_code", "birth_year"),
}

#: Kinds whose subject-code column carries a citizen's full ID number for the
#: export roles (spreadsheets.kinds.subject_keys.subject_cells).
FULL_ID_KINDS = frozenset({"registrations", "assessments"})


def log_list_export(
    *, actor: Any, unit: Any, kind: str, rows: int, params: dict[str, Any] | None = None
) -> bool:
    """Append the access row of an export of ``kind``; False when it has no personal data."""
    fields = PERSONAL_EXPORTS.get(kind)
    if fields is None:
        return False
    identifiers = kind in FULL_ID_KINDS and exports_full_ids(actor, unit)
    access_log_record(
        actor=actor,
        action=AccessAction.EXPORT_LIST,
        tenant=unit.tenant_id,
        unit=unit,
        fields=[*fields, "national_id"] if identifiers else fields,
        identifiers=identifiers,
        row_count=rows,
        detail={
            "kind": kind,
            "format": (params or {}).get("format", ""),
            "filters": (params or {}).get("filters"),
        },
    )
    return True
