"""Demo: a complete 2025 cycle in Quận 10 (DỮ LIỆU MẪU).

- ~3,200 households over the 79 khu phố, registered for "Gia đình học tập" 2025
  and self-assessed under the tenant's demo set (mostly complete, some still
  being assessed);
- dossiers in every state: Phường 2 submitted, Phường 4 returned with reasons,
  Phường 5 reviewed, Phường 6 under review, Phường 7 being prepared; Phường 1
  (the demo ward official) has its assessments ready and no dossier yet;
- every ward's own "Cộng đồng học tập" self-assessment (TT 25/2023, levels).

The mass of households is written in bulk (one audit event per ward); every
dossier, review and community assessment goes through the services, so their
timelines are real. Idempotent: a second run changes nothing.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction

from accounts.models import User
from core.audit import audit_record
from recognition.demo.sets import ensure_demo_sets
from recognition.models import (
    Assessment,
    AssessmentStatus,
    Household,
    IndicatorScore,
    Registration,
)
from recognition.scoring import rule_from_set, score
from recognition.selectors.subjects import search_text_for
from recognition.services import assessment as assessment_services
from recognition.services import dossier as dossier_services
from recognition.services import review as review_services
from recognition.services.chain import ensure_default_chains
from recognition.services.evidence import evidence_upload
from recognition.services.registration import registration_bulk_create, registration_create
from recognition.titles import Title
from units.models import AdministrativeUnit, Tenant

YEAR = 2025
HOUSEHOLDS_PER_NEIGHBOURHOOD = 40
SEED = 2025

SURNAMES = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
]
MIDDLE = ["Văn", "Thị", "Hữu", "Minh", "Ngọc", "Thanh", "Đức", "Quốc", "Thu", "Hoàng", "Kim", "Gia"]
GIVEN = [
    "An",
    "Bình",
    "Châu",
    "Dũng",
    "Giang",
    "Hà",
    "Hải",
    "Hạnh",
    "Hòa",
    "Hùng",
    "Khoa",
    "Lan",
    "Linh",
    "Long",
    "Mai",
    "Nam",
    "Nga",
    "Phúc",
    "Quân",
    "Sơn",
    "Tâm",
    "Thảo",
    "Trang",
    "Tuấn",
    "Vy",
    "Yến",
]
STREETS = [
    "Ba Tháng Hai",
    "Sư Vạn Hạnh",
    "Thành Thái",
    "Lý Thường Kiệt",
    "Nguyễn Tri Phương",
    "Tô Hiến Thành",
    "Hòa Hảo",
    "Ngô Gia Tự",
    "Lê Hồng Phong",
    "Nguyễn Chí Thanh",
    "Cao Thắng",
    "Hồ Thị Kỷ",
    "Vĩnh Viễn",
    "Bà Hạt",
]

#: Ward code -> what happens to its 2025 family dossier.
DOSSIER_PLAN = {
    "27190": "submitted",  # Phường 2
    "27193": "returned",  # Phường 4
    "27199": "approved",  # Phường 5
    "27202": "in_review",  # Phường 6
    "27196": "draft",  # Phường 7
    "27187": "approved",  # Phường 8 (reviewed; no decision yet: build one in the demo)
}
#: Wards whose own community dossier (TT 25/2023) is sent to the district.
COMMUNITY_SUBMITTED = {"27190", "27199", "27178"}

# A minimal, valid one-page PDF used as demo evidence.
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _name(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _households(tenant: Tenant, district: AdministrativeUnit, rng: random.Random) -> None:
    rows = []
    for kp in AdministrativeUnit.objects.filter(
        parent__parent=district, level="neighbourhood"
    ).order_by("code"):
        for n in range(1, HOUSEHOLDS_PER_NEIGHBOURHOOD + 1):
            household = Household(
                tenant=tenant,
                unit=kp,
                code=f"{kp.code}-H{n:03d}",
                head_name=_name(rng),
                address=f"{rng.randint(1, 450)} {rng.choice(STREETS)}, {kp.name}",
                member_count=rng.randint(2, 7),
            )
            household.search_text = search_text_for("household", household)
            rows.append(household)
    Household.objects.bulk_create(rows, batch_size=1000)


def _family_assessments(
    tenant: Tenant, ward: AdministrativeUnit, criteria_set: Any, rng: random.Random
) -> None:
    """Bulk self-assessments of the ward's registered households."""
    rule = rule_from_set(criteria_set)
    indicators = list(rule.indicators)
    registrations = list(
        Registration.objects.filter(
            proposing_unit=ward, title=Title.FAMILY, year=YEAR, assessment__isnull=True
        )
    )
    assessments, values_of = [], {}
    for registration in registrations:
        strong = rng.random() < 0.85
        values: dict[Any, Decimal | None] = {
            ind.key: Decimal(rng.randint(8 if strong else 5, 10) if ind.max_points == 10 else 0)
            for ind in indicators
        }
        draft = rng.random() < 0.12
        if draft:  # still being assessed: the last criterion not scored yet
            for ind in indicators[-2:]:
                values[ind.key] = None
        result = score(rule, values, "normal")
        assessments.append(
            Assessment(
                tenant=tenant,
                unit=registration.unit,
                registration=registration,
                criteria_set=criteria_set,
                status=AssessmentStatus.DRAFT if draft else AssessmentStatus.READY,
                self_total=result.total,
                self_grade=result.grade,
                self_passed=result.passed,
            )
        )
        values_of[registration.pk] = values
    Assessment.objects.bulk_create(assessments, batch_size=500)
    created = Assessment.objects.filter(registration__in=registrations)
    scores = [
        IndicatorScore(assessment=a, indicator_id=key, self_points=value)
        for a in created
        for key, value in values_of[a.registration_id].items()
    ]
    IndicatorScore.objects.bulk_create(scores, batch_size=2000)
    audit_record(
        actor=None,
        action="assessment.demo_generate",
        obj=ward,
        tenant=tenant,
        unit=ward,
        after={"title": Title.FAMILY, "year": YEAR, "assessments": len(assessments)},
    )


def _family_dossier(ward: AdministrativeUnit, plan: str, reviewer: User) -> None:
    dossier = dossier_services.dossier_for(
        actor=None, proposing_unit=ward, title=Title.FAMILY, year=YEAR
    )
    dossier_services.dossier_add_ready(actor=None, dossier=dossier)
    if plan == "draft":
        return
    dossier = dossier_services.dossier_submit(actor=None, dossier=dossier)
    if plan == "submitted":
        return
    items = list(dossier.items.order_by("registration__household__code"))
    if plan == "in_review":
        review_services.items_decide(
            actor=reviewer,
            dossier=dossier,
            action="approve",
            assessment_ids=[a.public_id for a in items[: len(items) // 3]],
        )
        return
    if plan == "returned":
        review_services.item_return(
            actor=reviewer,
            item=items[0],
            reason="Thiếu minh chứng kết quả học tập của trẻ em (chỉ số 1.2); đề nghị bổ sung học bạ năm học 2024–2025.",
        )
        review_services.item_return(
            actor=reviewer,
            item=items[1],
            reason="Điểm chỉ số 4.2 chưa khớp: gia đình chưa có quyết định công nhận “Gia đình văn hóa” năm 2025.",
        )
        review_services.items_decide(
            actor=reviewer,
            dossier=dossier,
            action="approve",
            assessment_ids=[a.public_id for a in items[2:]],
        )
        review_services.dossier_finish(actor=reviewer, dossier=dossier)
        return
    if plan == "approved":
        failing = [a for a in items if not a.self_passed]
        review_services.items_decide(
            actor=reviewer,
            dossier=dossier,
            action="reject",
            assessment_ids=[a.public_id for a in failing],
            reason="Tổng điểm dưới ngưỡng 80 điểm.",
        )
        review_services.items_decide(
            actor=reviewer,
            dossier=dossier,
            action="approve",
            assessment_ids=[a.public_id for a in items if a.self_passed],
        )
        review_services.dossier_finish(actor=reviewer, dossier=dossier)


def _community(
    ward: AdministrativeUnit, criteria_set: Any, reviewer: User, rng: random.Random
) -> None:
    """The ward's own "Cộng đồng học tập" self-assessment, through the services."""
    registration = registration_create(actor=None, title=Title.COMMUNITY, year=YEAR, subject=ward)
    assessment = assessment_services.assessment_start(actor=None, registration=registration)
    indicators = assessment.scores.select_related("indicator").order_by(
        "indicator__criterion__order", "indicator__order"
    )
    values = {
        str(s.indicator.public_id): (2 if rng.random() < 0.6 else 1)
        if "2" in (s.indicator.requirements or {})
        else 1
        for s in indicators
    }
    assessment = assessment_services.assessment_save_scores(
        actor=None, assessment=assessment, expected_version=assessment.version, values=values
    )
    for s in indicators:
        if s.indicator.evidence_required:
            evidence_upload(
                actor=None,
                assessment=assessment,
                indicator_public_id=s.indicator.public_id,
                file=ContentFile(DEMO_PDF, name=f"bien-ban-xoa-mu-chu-{ward.code}.pdf"),
            )
    assessment_services.assessment_complete(actor=None, assessment=assessment)
    if ward.code in COMMUNITY_SUBMITTED:
        dossier = dossier_services.dossier_for(
            actor=None, proposing_unit=ward, title=Title.COMMUNITY, scope_level="commune", year=YEAR
        )
        dossier_services.dossier_add_ready(actor=None, dossier=dossier)
        dossier_services.dossier_submit(actor=None, dossier=dossier)


@transaction.atomic
def seed_cycle_demo(tenant: Tenant) -> dict[str, int]:
    """Load the 2025 Quận 10 cycle into ``tenant`` (the HCMC demo tenant)."""
    sets = ensure_demo_sets(tenant)
    ensure_default_chains(tenant)
    district = AdministrativeUnit.objects.get(tenant=tenant, code="771")
    if Household.objects.filter(tenant=tenant, unit__parent__parent=district).exists():
        return {"households": Household.objects.filter(tenant=tenant).count()}
    rng = random.Random(SEED)  # noqa: S311 — reproducible demo data, not security
    reviewer = User.objects.get(username="reviewer.q10")
    _households(tenant, district, rng)
    wards = list(AdministrativeUnit.objects.filter(parent=district).order_by("sort_name"))
    for ward in wards:
        registration_bulk_create(
            actor=None,
            title=Title.FAMILY,
            year=YEAR,
            subjects=Household.objects.filter(tenant=tenant, unit__parent=ward),
        )
        _family_assessments(tenant, ward, sets["family"], rng)
    for ward in wards:
        if ward.code in DOSSIER_PLAN:
            _family_dossier(ward, DOSSIER_PLAN[ward.code], reviewer)
        _community(ward, sets["community"], reviewer, rng)
    return {"households": Household.objects.filter(tenant=tenant).count()}
