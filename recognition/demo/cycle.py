"""Demo: the live 2026 "Gia đình học tập" cycle in the new wards (DỮ LIỆU MẪU).

Today (24/11/2026) TP. Hồ Chí Minh has no districts: since 01/07/2025 its wards sit
directly under the city (RULES.md §7.2, §8; ``units/demo/reform.py``). The 2026
cycle therefore runs in the ten successor wards, under the post-reform review
chain (the wards propose, the city — Sở GD&ĐT — reviews; ``ensure_default_chains``
after the reform, RULES.md §8 UNCERTAIN and configurable), reviewed by
``reviewer.q10``, whose district role the reform moved to the city:

- every household of the ten wards (the 1,896 of Quận 10's 79 khu phố, moved to
  the new wards' khu phố, and Quận 11's and Phú Nhuận's) registered for 2026 and
  self-assessed (most complete, some still being assessed);
- dossiers in every state (:data:`DOSSIER_PLAN`): Phường Vườn Lài — the demo ward
  official's — has its assessments ready and no dossier yet;
- every new ward's own "Cộng đồng học tập" self-assessment (TT 25/2023, levels),
  three of them submitted to the city.

The 2023–2025 years stay in the old wards (``recognition/demo/history.py``,
``recognition/demo/decisions.py``). The mass of households is written in bulk
(one audit event per ward); every dossier, review and community assessment goes
through the services, so their timelines are real. Idempotent.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q

from accounts.models import User
from core.audit import audit_record
from recognition.demo.history import seed_households_after_reform
from recognition.demo.sets import ensure_demo_sets
from recognition.models import (
    Assessment,
    AssessmentStatus,
    Household,
    IndicatorScore,
    Registration,
)
from recognition.scoring import rule_from_set, score
from recognition.services import assessment as assessment_services
from recognition.services import dossier as dossier_services
from recognition.services import review as review_services
from recognition.services.evidence import evidence_upload
from recognition.services.registration import registration_bulk_create, registration_create
from recognition.titles import Title
from units.demo.reform import in_force, new_ward_codes
from units.models import AdministrativeUnit, Tenant

YEAR = 2026
SEED = 2026

#: New ward code -> what happens to its 2026 family dossier (none: no dossier yet).
DOSSIER_PLAN = {
    "27169": "approved",  # Phường Diên Hồng: reviewed, waiting for a decision (build it)
    "27163": "in_review",  # Phường Hòa Hưng
    "27238": "submitted",  # Phường Minh Phụng
    "27232": "returned",  # Phường Bình Thới
    "27211": "draft",  # Phường Hòa Bình
    "27226": "approved",  # Phường Phú Thọ
    "27043": "approved",  # Phường Đức Nhuận
    "27058": "submitted",  # Phường Cầu Kiệu
    "27073": "in_review",  # Phường Phú Nhuận
    # Phường Vườn Lài (27190): assessments ready, no dossier (ward.q10.p1 builds it).
}
#: Wards whose own community dossier (TT 25/2023) is sent to the city.
COMMUNITY_SUBMITTED = {"27169", "27163", "27043"}

# A minimal, valid one-page PDF used as demo evidence.
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def ward_households(tenant: Tenant, ward: AdministrativeUnit) -> Any:
    """The households living in ``ward`` or its khu phố."""
    return Household.objects.filter(tenant=tenant).filter(Q(unit=ward) | Q(unit__parent=ward))


def family_assessments(
    tenant: Tenant,
    ward: AdministrativeUnit,
    criteria_set: Any,
    rng: random.Random,
    *,
    year: int = YEAR,
    drafts: bool = True,
) -> None:
    """Bulk self-assessments of the ward's registered households (with ``drafts``,
    about one in eight still being assessed)."""
    rule = rule_from_set(criteria_set)
    indicators = list(rule.indicators)
    registrations = list(
        Registration.objects.filter(
            proposing_unit=ward, title=Title.FAMILY, year=year, assessment__isnull=True
        )
    )
    assessments, values_of = [], {}
    for registration in registrations:
        strong = rng.random() < 0.85
        values: dict[Any, Decimal | None] = {
            ind.key: Decimal(rng.randint(8 if strong else 5, 10) if ind.max_points == 10 else 0)
            for ind in indicators
        }
        draft = drafts and rng.random() < 0.12
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
        after={"title": Title.FAMILY, "year": year, "assessments": len(assessments)},
    )


def family_dossier(
    ward: AdministrativeUnit,
    plan: str,
    reviewer: User,
    *,
    year: int = YEAR,
    on: dt.date | None = None,
) -> None:
    """The ward's family dossier of ``year`` brought to ``plan``'s state (``on``:
    the day it is opened, which picks the review chain in force)."""
    dossier = dossier_services.dossier_for(
        actor=None, proposing_unit=ward, title=Title.FAMILY, year=year, on=on
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
            reason="Thiếu minh chứng kết quả học tập của trẻ em (chỉ số 1.2); đề nghị bổ sung học bạ năm học 2025–2026.",
        )
        review_services.item_return(
            actor=reviewer,
            item=items[1],
            reason="Điểm chỉ số 4.2 chưa khớp: gia đình chưa có quyết định công nhận “Gia đình văn hóa” năm 2026.",
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
    """Load the live 2026 cycle into the new wards of ``tenant`` (the HCMC demo
    tenant, after the reform plan)."""
    sets = ensure_demo_sets(tenant)
    wards = [in_force(tenant, code) for code in new_ward_codes()]
    if Registration.objects.filter(
        tenant=tenant, year=YEAR, title=Title.FAMILY, proposing_unit__in=wards
    ).exists():
        return {"households": Household.objects.filter(tenant=tenant).count()}
    seed_households_after_reform(tenant)  # none yet when the demo began after the reform
    rng = random.Random(SEED)  # noqa: S311 — reproducible demo data, not security
    reviewer = User.objects.get(username="reviewer.q10")
    for ward in wards:
        registration_bulk_create(
            actor=None,
            title=Title.FAMILY,
            year=YEAR,
            subjects=ward_households(tenant, ward),
        )
        family_assessments(tenant, ward, sets["family"], rng)
    for ward in wards:
        if ward.code in DOSSIER_PLAN:
            family_dossier(ward, DOSSIER_PLAN[ward.code], reviewer)
        _community(ward, sets["community"], reviewer, rng)
    return {"households": Household.objects.filter(tenant=tenant).count()}
