"""Who sees a citizen's full ID number (Luật 91/2025/QH15: access only as the purpose needs).

The roles come from settings (``PERSONAL_DATA_FULL_ID_ROLES`` for screens and
the API, ``PERSONAL_DATA_EXPORT_ID_ROLES`` for spreadsheet exports) and apply
over the citizen's unit only: a ward official sees the numbers of their own
ward, never another's. By default the officials who keep the record (ward
official, neighbourhood lead, tenant administrator) see the number on screen;
exports carry it only for ward officials and administrators, and such an
export is logged as containing identifiers. Reviewers and the steering
committee judge results, not identities: they always see ``*********123``.
"""

from __future__ import annotations

from typing import Any

from recognition.personal_data.crypto import setting
from units.models import AdministrativeUnit
from units.selectors import roles_at


def full_id_roles() -> frozenset[str]:
    return frozenset(setting("PERSONAL_DATA_FULL_ID_ROLES"))


def export_id_roles() -> frozenset[str]:
    return frozenset(setting("PERSONAL_DATA_EXPORT_ID_ROLES"))


def sees_full_ids(user: Any, unit: AdministrativeUnit) -> bool:
    """Whether ``user`` sees full ID numbers of the citizens of ``unit`` on screen."""
    return bool(roles_at(user, unit) & full_id_roles())


def exports_full_ids(user: Any, unit: AdministrativeUnit) -> bool:
    """Whether ``user``'s exports of ``unit``'s subtree carry full ID numbers."""
    return bool(roles_at(user, unit) & export_id_roles())
