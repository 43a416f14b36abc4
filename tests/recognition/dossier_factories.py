"""Builders for the dossier and review tests: self-assessed (READY) assessments
written directly as rows, so these tests do not depend on the assessment
services, and dossiers moved along their cycle through our own services."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from recognition.models import (
    Assessment,
    AssessmentStatus,
    CriteriaSet,
    Dossier,
    Evidence,
    Indicator,
    IndicatorScore,
    Registration,
)
from recognition.services import dossier as dossier_services
from tests.conftest import Cast
from tests.recognition.conftest import YEAR, make_household, register_household


def indicators_of(criteria_set: CriteriaSet) -> list[Indicator]:
    return list(
        Indicator.objects.filter(criterion__criteria_set=criteria_set).order_by(
            "criterion__order", "order"
        )
    )


def make_assessment(
    registration: Registration,
    criteria_set: CriteriaSet,
    *,
    status: str = AssessmentStatus.READY,
    points: Sequence[Any] = (40, 25, 25),
    evidence: bool = True,
    by: Any = None,
) -> Assessment:
    """An assessment scored ``points`` (in indicator order), with a file for each
    evidence-required indicator unless ``evidence`` is False."""
    indicators = indicators_of(criteria_set)
    total = sum((Decimal(str(p)) for p in points), Decimal(0))
    assessment = Assessment.objects.create(
        tenant=registration.tenant,
        unit=registration.unit,
        registration=registration,
        criteria_set=criteria_set,
        status=status,
        self_total=total,
        self_passed=total >= 80 and all(Decimal(str(p)) >= 5 for p in points),
        assessed_by=by,
    )
    for indicator, value in zip(indicators, points, strict=False):
        IndicatorScore.objects.create(assessment=assessment, indicator=indicator, self_points=value)
    if evidence:
        for indicator in indicators:
            if indicator.evidence_required:
                add_evidence(assessment, indicator, name="bien-ban.pdf")
    return assessment


def add_evidence(assessment: Assessment, indicator: Indicator | None, *, name: str) -> Evidence:
    digest = hashlib.sha256(f"{assessment.pk}:{name}".encode()).hexdigest()
    return Evidence.objects.create(
        tenant=assessment.tenant,
        assessment=assessment,
        indicator=indicator,
        file=f"evidence/test/{digest}",
        original_name=name,
        content_type="application/pdf",
        size=1024,
        sha256=digest,
    )


def ready_households(
    cast: Cast,
    criteria_set: CriteriaSet,
    count: int,
    *,
    unit: Any = None,
    year: int = YEAR,
    **kwargs: Any,
) -> list[Assessment]:
    """``count`` households of ``unit`` (the cast's neighbourhood), registered and
    self-assessed."""
    out = []
    for _ in range(count):
        household = make_household(cast, unit=unit)
        registration = register_household(cast, household, year=year)
        out.append(make_assessment(registration, criteria_set, **kwargs))
    return out


def ward_dossier(cast: Cast, *, ward: Any = None, actor: Any = None) -> Dossier:
    ward = ward or cast.ward
    return dossier_services.dossier_for(
        actor=actor or cast.ward_official,
        proposing_unit=ward,
        title="gia_dinh",
        scope_level="",
        year=YEAR,
    )


def submitted_dossier(
    cast: Cast, criteria_set: CriteriaSet, count: int = 2, *, ward: Any = None, unit: Any = None
) -> tuple[Dossier, list[Assessment]]:
    """A dossier of ``count`` ready households, submitted by the ward official
    (or the admin for another ward)."""
    ward = ward or cast.ward
    actor = cast.ward_official if ward == cast.ward else cast.admin
    items = ready_households(cast, criteria_set, count, unit=unit)
    dossier = ward_dossier(cast, ward=ward, actor=actor)
    dossier_services.dossier_add_ready(actor=actor, dossier=dossier)
    dossier = dossier_services.dossier_submit(actor=actor, dossier=dossier)
    for item in items:
        item.refresh_from_db()
    return dossier, items
