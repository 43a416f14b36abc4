"""Builders for the decision tests (services, API, views): reviewed dossiers
with approved household items, and drafts ready to issue, all made through the
services as in production.

Typical use::

    setup = ready_decision(cycle, count=3)          # approved dossier + draft with 3 items
    job = issue(setup.decision, cycle.cast.reviewer)  # start and run the job
    assert job.status == "done"
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from core.jobs import job_run
from core.models import Job
from recognition.models import Assessment, Decision, Dossier
from recognition.services import decision as decision_services
from recognition.services import review as review_services
from recognition.titles import Title
from tests.conftest import Cast
from tests.recognition.conftest import YEAR
from tests.recognition.dossier_factories import submitted_dossier

SIGNER_NAME = "Nguyễn Thị Hạnh"
SIGNER_TITLE = "CHỦ TỊCH"


def approved_dossier(
    cast: Cast,
    criteria_set: Any,
    count: int = 3,
    *,
    ward: Any = None,
    unit: Any = None,
) -> tuple[Dossier, list[Assessment]]:
    """A ward's dossier of ``count`` households, submitted, every item approved
    and the review finished: the dossier is APPROVED (reviewed today).

    By default the cast's ward (under ``cast.district``, reviewed by
    ``cast.reviewer``), or a new ward of that district once the cast's ward has
    a reviewed dossier; pass ``ward=cast.other_ward, unit=cast.other_neighbourhood``
    for the other district (reviewed by the tenant admin).
    """
    if ward is None:
        ward, unit = _open_ward(cast)
    reviewer = cast.reviewer if ward.path.startswith(cast.district.path) else cast.admin
    dossier, items = submitted_dossier(cast, criteria_set, count, ward=ward, unit=unit)
    review_services.items_decide(
        actor=reviewer,
        dossier=dossier,
        action="approve",
        assessment_ids=[a.public_id for a in items],
    )
    dossier = review_services.dossier_finish(actor=reviewer, dossier=dossier)
    for item in items:
        item.refresh_from_db()
    index_households(items)
    return dossier, items


def index_households(items: list[Assessment]) -> None:
    """Fill the households' search text as the subject services would (the
    dossier factories create them as plain rows)."""
    from recognition.models import Household
    from recognition.selectors.subjects import search_text_for
    from recognition.titles import SubjectKind

    for household in Household.objects.filter(registrations__assessment__in=items):
        Household.objects.filter(pk=household.pk).update(
            search_text=search_text_for(SubjectKind.HOUSEHOLD, household)
        )


def _open_ward(cast: Cast) -> tuple[Any, Any]:
    """The cast's ward while its dossier can still take items; once it is
    reviewed, a new ward (and neighbourhood) under the same district, so a test
    can build several approved dossiers."""
    from recognition.models import DossierStatus
    from tests.factories import make_unit

    taken = Dossier.objects.filter(proposing_unit=cast.ward, year=YEAR).exclude(
        status__in=[DossierStatus.DRAFT, DossierStatus.RETURNED]
    )
    if not taken.exists():
        return cast.ward, None
    n = Dossier.objects.count() + 1
    ward = make_unit(cast.tenant, cast.district, "phuong", f"Phường Thử {n}", f"27{n:03d}")
    neighbourhood = make_unit(cast.tenant, ward, "khu_pho", "Khu phố 1", f"27{n:03d}-KP01")
    return ward, neighbourhood


def backdate_review(dossier: Dossier, when: dt.datetime | dt.date) -> None:
    """Pretend the dossier was reviewed on ``when`` (test setup only)."""
    if isinstance(when, dt.date) and not isinstance(when, dt.datetime):
        when = timezone.make_aware(dt.datetime.combine(when, dt.time(9, 0)))
    Dossier.objects.filter(pk=dossier.pk).update(reviewed_at=when)


def draft_decision(
    cast: Cast,
    *,
    issuing_unit: Any = None,
    actor: Any = None,
    title: str = Title.FAMILY,
    year: int = YEAR,
    issued_on: dt.date | None = None,
    signer_name: str = SIGNER_NAME,
    assessments: list[Assessment] | None = None,
    filters: dict[str, Any] | None = None,
    annex: bool = True,
) -> Decision:
    """A draft of ``issuing_unit`` (the cast's district) with signer and date
    filled in and, unless ``annex`` is False, its annex built: the given
    ``assessments`` only, or every candidate matching ``filters``."""
    issuing_unit = issuing_unit or cast.district
    actor = actor or cast.reviewer
    decision = decision_services.decision_create(
        actor=actor, issuing_unit=issuing_unit, title=title, year=year
    )
    decision = decision_services.decision_update(
        actor=actor,
        decision=decision,
        expected_version=decision.version,
        data={
            "signer_name": signer_name,
            "signer_title": SIGNER_TITLE,
            "issued_on": issued_on or timezone.localdate(),
        },
    )
    if annex:
        decision_services.annex_add(
            actor=actor,
            decision=decision,
            filters=filters,
            assessment_ids=None if assessments is None else [a.public_id for a in assessments],
        )
    decision.refresh_from_db()
    return decision


@dataclass
class DecisionSetup:
    dossier: Dossier
    items: list[Assessment]
    decision: Decision


def ready_decision(
    cycle: Any, count: int = 3, *, issued_on: dt.date | None = None, **kwargs: Any
) -> DecisionSetup:
    """An approved dossier of ``count`` households under the cast's district and
    a draft of the district holding exactly those items, ready to issue."""
    cast = cycle.cast
    dossier, items = approved_dossier(cast, cycle.points_set, count)
    decision = draft_decision(cast, assessments=items, issued_on=issued_on, **kwargs)
    return DecisionSetup(dossier=dossier, items=items, decision=decision)


def issue(decision: Decision, actor: Any, *, run: bool = True) -> Job:
    """Start the issuing job and (unless ``run`` is False) run it in-process,
    as the Celery task would; returns the job as it ended."""
    job = decision_services.decision_issue_start(actor=actor, decision=decision)
    if run:
        job_run(job.pk)
        job.refresh_from_db()
    return job


def run(job: Job) -> Job:
    """Run a job in-process and return it refreshed."""
    job_run(job.pk)
    job.refresh_from_db()
    return job


def issued_decision(cycle: Any, count: int = 3, **kwargs: Any) -> DecisionSetup:
    """:func:`ready_decision`, issued by the cast's reviewer."""
    setup = ready_decision(cycle, count, **kwargs)
    job = issue(setup.decision, cycle.cast.reviewer)
    assert job.status == "done", job.message
    setup.decision.refresh_from_db()
    return setup


def pdf_pages(content: bytes) -> list[str]:
    """The text of each page of a PDF (pypdf)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    return [page.extract_text() or "" for page in reader.pages]


def pdf_text(content: bytes) -> str:
    return "\n".join(pdf_pages(content))


def read_file(field: Any) -> bytes:
    """The bytes of a stored FileField (decision PDF or job file)."""
    with field.storage.open(field.name, "rb") as handle:
        data: bytes = handle.read()
    return data
