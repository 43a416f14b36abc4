"""The official criteria sets shipped with XHHT, as data (one JSON file per set).

Each file cites its source: ``legal_basis`` (one document per line) and
``source_note`` (the RULES.md section, what was SEEN and what is NOT FOUND).
Nothing here invents an official text: where RULES.md says NOT FOUND the set
and the indicator carry ``needs_completion`` and the set stays a draft that a
tenant administrator completes (after cloning it) before publishing.

- ``qd244_cong_dan_hoc_tap.json`` — Công dân học tập, QĐ 244/QĐ-KHVN (RULES.md §4.4)
- ``tt25_cong_dong_hoc_tap_cap_xa.json`` — Cộng đồng học tập cấp xã, TT 25/2023 (§2)
- ``qd448_gia_dinh_hoc_tap.json`` — Gia đình học tập, QĐ 448/QĐ-KHVN (§4.1, §4.3)
- ``tt22_don_vi_hoc_tap.json`` — Đơn vị học tập, TT 22/2020 (§3.3, historical)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.db import transaction

DATA_DIR = Path(__file__).parent


def shipped_definitions() -> list[dict[str, Any]]:
    """Every shipped set definition, in file-name order."""
    return [
        json.loads(path.read_text(encoding="utf-8")) for path in sorted(DATA_DIR.glob("*.json"))
    ]


@transaction.atomic
def load_shipped_criteria() -> dict[str, int]:
    """Create the shipped sets that are not there yet (tenant empty), keyed by
    code and version; an existing one is left exactly as it is, so running it
    twice changes nothing."""
    from recognition.models import CriteriaSet
    from recognition.services.criteria import criteria_set_import

    created = existing = 0
    for data in shipped_definitions():
        if CriteriaSet.objects.filter(
            tenant__isnull=True, code=data["code"], version=data.get("version", 1)
        ).exists():
            existing += 1
            continue
        criteria_set_import(tenant=None, data=data)
        created += 1
    return {"created": created, "existing": existing}
