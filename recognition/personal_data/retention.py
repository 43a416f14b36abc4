"""Retention of personal data (Luật 91/2025/QH15: kept no longer than the purpose needs).

Two rules, each a setting (``config/settings/personal_data.py``; the numbers of
years are the deployment's choice, UNCERTAIN in law for this purpose):

* ``PERSONAL_DATA_EVIDENCE_YEARS``: the evidence files of an assessment are
  kept until the end of the assessment's year plus this many years, then deleted
  (rows now, files after the transaction commits). Scores, results and
  decisions stay.
* ``PERSONAL_DATA_INACTIVE_YEARS``: a household or citizen inactive and
  unchanged for this many years has its personal fields anonymised as in an
  erasure (:func:`recognition.personal_data.erasure.anonymise`), keeping the
  legal record of its recognitions.

Run daily by Celery beat (``recognition.personal_data_retention``) and by
``manage.py personal_data_retention [--dry-run]``. Each subject or assessment is
handled in its own transaction, audited (``*.retention``) and, for subjects,
logged in the access log; a run stops at ``PERSONAL_DATA_RETENTION_BATCH`` items
of each rule (the next run continues), so it is safe to interrupt and rerun.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from core.audit import audit_record
from recognition.models import AccessAction, Assessment, Citizen, Evidence, Household
from recognition.personal_data.access_log import PERSON_MODELS, access_log_record
from recognition.personal_data.crypto import setting
from recognition.personal_data.erasure import RETAINED_NAME, _delete_files, anonymise


@dataclass
class RetentionResult:
    dry_run: bool
    evidence_before_year: int
    inactive_since: dt.datetime
    evidence_files: int = 0
    assessments: int = 0
    subjects: dict[str, int] = field(default_factory=lambda: {"household": 0, "citizen": 0})


def _years_before(moment: dt.datetime, years: int) -> dt.datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


def _expire_evidence(assessment_id: int) -> int:
    with transaction.atomic():
        assessment = (
            Assessment.objects.select_for_update(of=("self",))
            .select_related("tenant", "unit", "registration")
            .get(pk=assessment_id)
        )
        evidence = Evidence.objects.filter(assessment=assessment)
        files = [(e.file.storage, e.file.name) for e in evidence.only("file")]
        count = evidence.delete()[1].get(Evidence._meta.label, 0)
        transaction.on_commit(lambda: _delete_files(files))
        audit_record(
            actor=None,
            action="assessment.evidence_retention",
            obj=assessment,
            tenant=assessment.tenant,
            unit=assessment.unit,
            after={"evidence_files": count, "year": assessment.registration.year},
        )
    return count


def _anonymise_inactive(model: type[Household] | type[Citizen], pk: int, cutoff: Any) -> bool:
    with transaction.atomic():
        subject = (
            model._default_manager.select_for_update(of=("self",))
            .select_related("tenant", "unit")
            .get(pk=pk)
        )
        if subject.is_active or subject.erased_at is not None or subject.updated_at >= cutoff:
            return False  # changed since it was selected
        inactive_since = subject.updated_at
        result = anonymise(subject, placeholder=RETAINED_NAME)
        kind = PERSON_MODELS[model]
        audit_record(
            actor=None,
            action=f"{kind}.retention",
            obj=subject,
            tenant=subject.tenant,
            unit=subject.unit,
            before={"erased_at": None},
            after={
                "inactive_since": inactive_since.isoformat(),
                "evidence_files": result.evidence_files,
                "decision_items": result.decision_items,
            },
        )
        access_log_record(
            actor=None,
            action=AccessAction.RETENTION,
            tenant=subject.tenant_id,
            subject=subject,
            detail={"inactive_since": inactive_since.isoformat()},
        )
    return True


def retention_apply(*, now: dt.datetime | None = None, dry_run: bool = False) -> RetentionResult:
    """Apply both retention rules as of ``now`` (default: the current time)."""
    now = now or timezone.now()
    local_year = timezone.localtime(now).year
    batch = int(setting("PERSONAL_DATA_RETENTION_BATCH"))
    result = RetentionResult(
        dry_run=dry_run,
        evidence_before_year=local_year - int(setting("PERSONAL_DATA_EVIDENCE_YEARS")),
        inactive_since=_years_before(now, int(setting("PERSONAL_DATA_INACTIVE_YEARS"))),
    )
    expired = (
        Assessment.objects.filter(registration__year__lt=result.evidence_before_year)
        .annotate(files=Count("evidence"))
        .filter(files__gt=0)
        .order_by("pk")
        .values_list("pk", "files")[:batch]
    )
    for pk, files in expired:
        result.assessments += 1
        result.evidence_files += files if dry_run else _expire_evidence(pk)
    for model in (Household, Citizen):
        kind = PERSON_MODELS[model]
        stale = (
            model._default_manager.filter(
                is_active=False, erased_at__isnull=True, updated_at__lt=result.inactive_since
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        for pk in stale:
            if dry_run or _anonymise_inactive(model, pk, result.inactive_since):
                result.subjects[kind] += 1
    return result
