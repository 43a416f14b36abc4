"""After a deadline the ward's forms lock; an extension reopens them for that
unit only (the recognition services check the lock the deadline created)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from campaigns.models import DeadlineKind
from campaigns.services import deadlines as services
from core.models import AuditEvent
from recognition.exceptions import DeadlineLockedError
from recognition.locks import active_lock
from recognition.models import AssessmentStatus, DossierStatus
from recognition.services import assessment as assessment_services
from recognition.services import dossier as dossier_services
from recognition.titles import Title
from tests.campaigns.test_deadlines_services import make_plan
from tests.factories import make_unit
from tests.recognition.assessment_support import ids_by_code, start
from tests.recognition.conftest import (
    YEAR,
    cycle,  # noqa: F401 (fixture)
)
from tests.recognition.dossier_factories import ready_households, ward_dossier
from units.levels import Level


def _passed_deadline(cast, kind: str):
    """A district deadline of the family title for ``YEAR`` that passed yesterday."""
    plan = make_plan(cast.district)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    return services.deadline_save(
        actor=cast.reviewer,
        plan=plan,
        data={
            "kind": kind,
            "title": Title.FAMILY,
            "year": YEAR,
            "level": Level.COMMUNE,
            "due_on": yesterday,
            "label": "",
            "remind_days": 0,
        },
    )


def _extend(cast, deadline, unit, days: int = 3):
    return services.extension_grant(
        actor=cast.reviewer,
        deadline=deadline,
        unit=unit,
        until=timezone.localdate() + dt.timedelta(days=days),
        reason="Phường bị ngập, nộp bổ sung",
    )


def test_a_passed_dossier_deadline_refuses_the_submission_until_an_extension(cycle) -> None:  # noqa: F811 (the fixture)
    cast = cycle.cast
    ready_households(cast, cycle.points_set, 2)
    dossier = ward_dossier(cast)
    dossier_services.dossier_add_ready(actor=cast.ward_official, dossier=dossier)
    deadline = _passed_deadline(cast, DeadlineKind.DOSSIER)
    with pytest.raises(DeadlineLockedError):
        dossier_services.dossier_submit(actor=cast.ward_official, dossier=dossier)
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.DRAFT

    sibling = make_unit(cast.tenant, cast.district, "phuong", "Phường Đa Kao", "27187")
    extension = _extend(cast, deadline, cast.ward)
    event = AuditEvent.objects.get(action="deadline.extend", object_id=str(deadline.public_id))
    assert event.unit == cast.ward and event.after["reason"] == "Phường bị ngập, nộp bổ sung"
    # Reopened for that ward only.
    assert active_lock(unit=cast.ward, title=Title.FAMILY, year=YEAR, stage="dossier") is None
    assert (
        active_lock(unit=sibling, title=Title.FAMILY, year=YEAR, stage="dossier")
        == deadline.form_lock
    )
    submitted = dossier_services.dossier_submit(actor=cast.ward_official, dossier=dossier)
    assert submitted.status == DossierStatus.SUBMITTED

    # Ending the extension locks the stage again.
    services.extension_revoke(actor=cast.reviewer, deadline=deadline, extension_id=extension.pk)
    assert (
        active_lock(unit=cast.ward, title=Title.FAMILY, year=YEAR, stage="dossier")
        == deadline.form_lock
    )


def test_a_passed_self_assessment_deadline_refuses_the_wards_save(cycle) -> None:  # noqa: F811 (the fixture)
    cast = cycle.cast
    assessment = start(cast, cycle.registration)
    assert assessment.status == AssessmentStatus.DRAFT
    codes = ids_by_code(assessment)
    deadline = _passed_deadline(cast, DeadlineKind.ASSESSMENT)
    with pytest.raises(DeadlineLockedError):
        assessment_services.assessment_save_scores(
            actor=cast.ward_official,
            assessment=assessment,
            expected_version=assessment.version,
            values={codes["1.1"]: "35"},
        )
    assessment.refresh_from_db()
    assert assessment.scores.get(indicator__code="1.1").self_points is None

    _extend(cast, deadline, cast.ward)
    saved = assessment_services.assessment_save_scores(
        actor=cast.ward_official,
        assessment=assessment,
        expected_version=assessment.version,
        values={codes["1.1"]: "35"},
    )
    assert saved.scores.get(indicator__code="1.1").self_points == 35


def test_moving_the_deadline_later_reopens_the_forms(cycle) -> None:  # noqa: F811 (the fixture)
    cast = cycle.cast
    deadline = _passed_deadline(cast, DeadlineKind.ASSESSMENT)
    assert active_lock(unit=cast.ward, title=Title.FAMILY, year=YEAR, stage="assessment")
    services.deadline_save(
        actor=cast.reviewer,
        plan=deadline.plan,
        data={
            "kind": deadline.kind,
            "title": deadline.title,
            "year": deadline.year,
            "level": deadline.level,
            "due_on": timezone.localdate() + dt.timedelta(days=5),
            "label": "",
            "remind_days": 0,
        },
        deadline=deadline,
    )
    assert active_lock(unit=cast.ward, title=Title.FAMILY, year=YEAR, stage="assessment") is None
    assert start(cast, cycle.other_registration, actor=cast.admin).pk
