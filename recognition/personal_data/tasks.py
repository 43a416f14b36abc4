"""Celery task of personal-data retention (thin: loads nothing, calls the service;
idempotent: a second run finds nothing left to do)."""

from __future__ import annotations

from celery import shared_task

from recognition.personal_data.retention import retention_apply


@shared_task(name="recognition.personal_data_retention")
def personal_data_retention() -> dict[str, int]:
    result = retention_apply()
    return {
        "evidence_files": result.evidence_files,
        "assessments": result.assessments,
        **{f"{kind}s": count for kind, count in result.subjects.items()},
    }
