"""Demo: citizens with ID numbers and a personal-data access log (DỮ LIỆU MẪU).

Phường Vườn Lài gets four "Công dân học tập" candidates, three with a citizen
ID number (fictitious, encrypted at rest like any other: the list shows them
masked to reviewers and the steering committee). The access log then shows
what Luật 91/2025/QH15 asks a controller to be able to show: the ward official
opened a citizen's and a household's record, the reviewer opened one, and the
tenant administrator exported the ward's household list.

Idempotent: a tenant whose log already has rows is left as it is.
"""

from __future__ import annotations

from accounts.models import User
from recognition.models import Citizen, Household, LabourGroup
from recognition.models.personal_data import AccessAction, PersonalDataAccess
from recognition.personal_data.access_log import PERSONAL_FIELDS, access_log_record
from recognition.services.subjects import citizen_create
from recognition.titles import SubjectKind
from units.models import AdministrativeUnit, Tenant
from units.roles import Role

WARD_CODE = "27190"  # Phường Vườn Lài
#: Full name, year of birth, labour group, ID number (fictitious; empty: none given).
CITIZENS = [
    ("Nguyễn Thị Thu Hà", 1978, LabourGroup.OFFICIALS, "079178001234"),
    ("Trần Văn Bình", 1965, LabourGroup.WORKERS, "079065004321"),
    ("Lê Hoàng Nam", 1992, LabourGroup.OTHER, "079092007788"),
    ("Phạm Thị Mai", 1958, LabourGroup.OTHER, ""),
]


def _user(tenant: Tenant, username: str) -> User:
    return User.objects.get(tenant=tenant, username=username)


def seed_personal_data_demo(tenant: Tenant) -> None:
    """Citizens of Vườn Lài and a few rows of the access log (once)."""
    if PersonalDataAccess.objects.filter(tenant=tenant).exists():
        return
    ward = AdministrativeUnit.objects.get(tenant=tenant, code=WARD_CODE, valid_to__isnull=True)
    neighbourhood = (
        AdministrativeUnit.objects.filter(parent=ward, valid_to__isnull=True)
        .order_by("path")
        .first()
    )
    official = _user(tenant, "ward.q10.p1")
    reviewer = _user(tenant, "reviewer.q10")
    admin = _user(tenant, "admin.hcm")
    citizens = []
    for full_name, birth_year, group, national_id in CITIZENS:
        existing = Citizen.objects.filter(tenant=tenant, full_name=full_name).first()
        citizens.append(
            existing
            or citizen_create(
                actor=official,
                unit=neighbourhood or ward,
                full_name=full_name,
                birth_year=birth_year,
                labour_group=group,
                national_id=national_id,
            )
        )
    household = Household.objects.filter(tenant=tenant, unit__path__startswith=ward.path).first()
    citizen_fields = list(PERSONAL_FIELDS[SubjectKind.CITIZEN])
    access_log_record(
        actor=official,
        action=AccessAction.VIEW_DETAIL,
        tenant=tenant,
        subject=citizens[0],
        fields=citizen_fields,
        identifiers=True,
        detail={"via": "page", "role": Role.WARD_OFFICIAL},
    )
    access_log_record(
        actor=reviewer,
        action=AccessAction.VIEW_DETAIL,
        tenant=tenant,
        subject=citizens[1],
        fields=[f for f in citizen_fields if f != "national_id"],
        detail={"via": "page"},
    )
    if household is not None:
        access_log_record(
            actor=official,
            action=AccessAction.VIEW_DETAIL,
            tenant=tenant,
            subject=household,
            fields=list(PERSONAL_FIELDS[SubjectKind.HOUSEHOLD]),
            detail={"via": "api"},
        )
    access_log_record(
        actor=admin,
        action=AccessAction.EXPORT_LIST,
        tenant=tenant,
        unit=ward,
        fields=list(PERSONAL_FIELDS[SubjectKind.HOUSEHOLD]),
        row_count=Household.objects.filter(tenant=tenant, unit__path__startswith=ward.path).count(),
        detail={"kind": "households"},
    )
