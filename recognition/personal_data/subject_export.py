"""Everything held about one person, as JSON, on the person's request.

Luật 91/2025/QH15 gives the data subject the right to obtain the personal data
processed about them; the tenant administrator answers such a request with this
export (logged as ``export_person``, containing identifiers). It covers the
household's or citizen's record, its registrations and assessments with their
scores and notes, the list of evidence files (name, type, size, checksum, date;
the files themselves stay in the system), the decisions that recognised it as
printed in their annexes, the history of changes and the access log about it.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from core.models import AuditEvent
from recognition.models import (
    AccessAction,
    DecisionItem,
    Evidence,
    IndicatorScore,
    PersonalDataAccess,
)
from recognition.personal_data.access_log import PERSON_MODELS, access_log_record
from recognition.selectors.registration import registrations_of_subject

LEGAL_BASIS = "Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15"


def _record(subject: Any) -> dict[str, Any]:
    kind = PERSON_MODELS[type(subject)]
    data: dict[str, Any] = {
        "kind": kind,
        "public_id": str(subject.public_id),
        "unit": {"code": subject.unit.code, "name": subject.unit.name},
        "is_active": subject.is_active,
        "created_at": subject.created_at,
        "updated_at": subject.updated_at,
        "erased_at": subject.erased_at,
    }
    if kind == "household":
        data.update(
            code=subject.code,
            head_name=subject.head_name,
            address=subject.address,
            member_count=subject.member_count,
        )
    else:
        data.update(
            full_name=subject.full_name,
            birth_year=subject.birth_year,
            labour_group=subject.labour_group,
            national_id=subject.national_id,
        )
    return data


def _assessment(assessment: Any) -> dict[str, Any]:
    scores = IndicatorScore.objects.filter(assessment=assessment).select_related("indicator")
    evidence = Evidence.objects.filter(assessment=assessment).order_by("uploaded_at", "pk")
    return {
        "status": assessment.status,
        "criteria_set": assessment.criteria_set.code,
        "self_total": assessment.self_total,
        "self_level": assessment.self_level,
        "self_grade": assessment.self_grade,
        "final_total": assessment.final_total,
        "final_level": assessment.final_level,
        "final_grade": assessment.final_grade,
        "return_reason": assessment.return_reason,
        "scores": [
            {
                "indicator": s.indicator.code,
                "self_points": s.self_points,
                "self_level": s.self_level,
                "review_points": s.review_points,
                "review_level": s.review_level,
                "note": s.note,
            }
            for s in scores.order_by("indicator__order", "pk")
        ],
        "evidence_files": [
            {
                "file_name": e.original_name,
                "content_type": e.content_type,
                "size": e.size,
                "sha256": e.sha256,
                "uploaded_at": e.uploaded_at,
            }
            for e in evidence
        ],
    }


def _recognitions(assessment_ids: list[int]) -> list[dict[str, Any]]:
    items = (
        DecisionItem.objects.filter(assessment_id__in=assessment_ids)
        .select_related("decision")
        .order_by("decision__year", "decision__issued_on", "pk")
    )
    return [
        {
            "decision": item.decision.reference,
            "issued_on": item.decision.issued_on,
            "status": item.decision.status,
            "title": item.decision.title,
            "year": item.decision.year,
            "printed_name": item.subject_name,
            "printed_code": item.subject_code,
            "printed_address": item.address,
            "unit": item.unit_name,
            "result": item.result,
        }
        for item in items
    ]


def person_export_data(subject: Any) -> dict[str, Any]:
    """Everything held about ``subject`` (a household or citizen already in scope)."""
    registrations = list(
        registrations_of_subject(subject).select_related("assessment__criteria_set")
    )
    assessments = [r.assessment for r in registrations if hasattr(r, "assessment")]
    history = AuditEvent.objects.filter(
        tenant_id=subject.tenant_id,
        object_type=subject._meta.label_lower,
        object_id=str(subject.public_id),
    ).order_by("created_at", "id")
    accesses = (
        PersonalDataAccess.objects.filter(
            tenant_id=subject.tenant_id, subject_id=str(subject.public_id)
        )
        .select_related("actor")
        .order_by("created_at", "id")
    )
    return {
        "legal_basis": LEGAL_BASIS,
        "generated_at": timezone.now(),
        "person": _record(subject),
        "registrations": [
            {
                "year": r.year,
                "title": r.title,
                "status": r.status,
                "proposing_unit": r.proposing_unit.name,
                "created_at": r.created_at,
                "assessment": _assessment(r.assessment) if hasattr(r, "assessment") else None,
            }
            for r in registrations
        ],
        "recognitions": _recognitions([a.pk for a in assessments]),
        "history": [
            {"action": e.action, "time": e.created_at, "before": e.before, "after": e.after}
            for e in history
        ],
        "access_log": [
            {
                "action": a.action,
                "time": a.created_at,
                "by": a.actor.display_name if a.actor else "",
                "fields": a.fields,
                "full_id_numbers": a.identifiers,
            }
            for a in accesses
        ],
    }


def person_export(*, actor: Any, subject: Any, request: Any = None) -> bytes:
    """The JSON document of :func:`person_export_data`, logged as ``export_person``."""
    data = person_export_data(subject)
    access_log_record(
        actor=actor,
        action=AccessAction.EXPORT_PERSON,
        tenant=subject.tenant_id,
        subject=subject,
        fields=[k for k in data["person"] if k not in ("kind", "public_id")],
        identifiers=bool(getattr(subject, "national_id", "")),
        request=request,
    )
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode()
