"""Demo: two household imports of Phường Vườn Lài (DỮ LIỆU MẪU), made by ward.q10.p1.

Since 01/07/2025 the official's ward is Phường Vườn Lài, the successor of Phường 1
of Quận 10 (``units/demo/reform.py``); the old ward's khu phố continue under it
with their codes (``27184-KP03``…).

- "ho-gia-dinh-kp03-bo-sung.xlsx": six households newly settled in the old
  Phường 1's Khu phố 3 (``27184-KP03``, renumbered in Vườn Lài), checked and imported (their codes continue the khu phố's numbering, H041…);
- "ho-gia-dinh-kp04-can-sua.xlsx": five households of ``27184-KP04``, left "has
  errors" with two of them (an empty head of household; a khu phố code of
  Phường Diên Hồng), so the preview screen has something to show.

They go through the services and the same jobs the screens start, run here
whether or not a worker listens. Idempotent: a second run changes nothing.
"""

from __future__ import annotations

import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from accounts.models import User
from core.jobs import job_run
from spreadsheets.exports import column_specs
from spreadsheets.models import ImportRun
from spreadsheets.registry import kind_class
from spreadsheets.services import import_confirm, import_upload
from spreadsheets.writers import write_xlsx
from units.models import AdministrativeUnit, Tenant

WARD_CODE = "27190"  # Phường Vườn Lài (code of the old Phường 2, Quận 10)
#: The khu phố of the old Phường 1, Quận 10, continued under Phường Vườn Lài.
NEIGHBOURHOOD_PREFIX = "27184"
OFFICIAL = "ward.q10.p1"
APPLIED_FILE = "ho-gia-dinh-kp03-bo-sung.xlsx"
INVALID_FILE = "ho-gia-dinh-kp04-can-sua.xlsx"
#: A khu phố of the old Phường 8, now in Phường Diên Hồng: outside Phường Vườn
#: Lài, so a row naming it is an error.
OTHER_WARD_NEIGHBOURHOOD = "27187-KP01"

NEW_IN_KP03 = [
    ("Nguyễn Thị Thu Hà", "15/2 Ba Tháng Hai", 4),
    ("Trần Quốc Toản", "27 Sư Vạn Hạnh", 5),
    ("Lê Minh Châu", "102 Thành Thái", 3),
    ("Phạm Gia Huy", "8A Hồ Thị Kỷ", 6),
    ("Huỳnh Ngọc Bích", "44/7 Ngô Gia Tự", 2),
    ("Võ Thanh Tùng", "61 Vĩnh Viễn", 4),
]
TO_FIX_IN_KP04 = [
    ("Đặng Văn Lộc", "12 Lý Thường Kiệt", 5),
    ("", "33 Nguyễn Tri Phương", 3),  # error: no head of household
    ("Bùi Thị Kim Oanh", "7 Tô Hiến Thành", 4),
    ("Đỗ Hữu Phước", "90 Cao Thắng", 3),  # error: the khu phố of another ward
    ("Ngô Thị Mỹ Linh", "210 Bà Hạt", 2),
]


def _xlsx(rows: list[list[Any]]) -> bytes:
    out = io.BytesIO()
    write_xlsx(out, columns=column_specs(kind_class("households")), rows=rows)
    return out.getvalue()


def _upload(official: User, ward: AdministrativeUnit, name: str, content: bytes) -> ImportRun:
    with transaction.atomic():
        run = import_upload(
            actor=official,
            unit=ward,
            kind="households",
            upload=SimpleUploadedFile(name, content),
        )
    if run.validate_job_id is not None:  # the demo checks it here, worker or not
        job_run(run.validate_job_id)
    run.refresh_from_db()
    return run


def _name(tenant: Tenant, code: str) -> str:
    return AdministrativeUnit.objects.get(tenant=tenant, code=code, valid_to__isnull=True).name


def seed_import_demo() -> dict[str, int]:
    """The two imports (see the module docstring); {} when the demo tenant is missing."""
    tenant = Tenant.objects.filter(slug="hcm").first()
    official = User.objects.filter(username=OFFICIAL).first()
    if tenant is None or official is None:
        return {}
    ward = AdministrativeUnit.objects.get(tenant=tenant, code=WARD_CODE, valid_to__isnull=True)
    done = set(
        ImportRun.objects.filter(
            tenant=tenant, unit=ward, file_name__in=[APPLIED_FILE, INVALID_FILE]
        ).values_list("file_name", flat=True)
    )
    created = 0
    if APPLIED_FILE not in done:
        kp03 = f"{NEIGHBOURHOOD_PREFIX}-KP03"
        rows = [
            [f"{kp03}-H{n:03d}", name, f"{address}, {_name(tenant, kp03)}", members, kp03]
            for n, (name, address, members) in enumerate(NEW_IN_KP03, start=41)
        ]
        run = _upload(official, ward, APPLIED_FILE, _xlsx(rows))
        with transaction.atomic():
            run = import_confirm(actor=official, run=run, expected_version=run.version)
        if run.apply_job_id is not None:
            job_run(run.apply_job_id)
        created += 1
    if INVALID_FILE not in done:
        kp04 = f"{NEIGHBOURHOOD_PREFIX}-KP04"
        rows = [
            [
                f"{kp04}-H{n:03d}",
                name,
                f"{address}, {_name(tenant, kp04)}",
                members,
                OTHER_WARD_NEIGHBOURHOOD if n == 44 else kp04,
            ]
            for n, (name, address, members) in enumerate(TO_FIX_IN_KP04, start=41)
        ]
        _upload(official, ward, INVALID_FILE, _xlsx(rows))
        created += 1
    return {"imports": created}
