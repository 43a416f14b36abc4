"""Retention of personal data (Luật 91/2025/QH15): evidence files past their years
are deleted, households and citizens inactive for years are anonymised; both
audited, the dry run changes nothing, a second run finds nothing. Dates are fixed
(``now=``) instead of the clock."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation

from core.models import AuditEvent
from recognition.models import (
    AccessAction,
    Citizen,
    DecisionItem,
    Evidence,
    Household,
    PersonalDataAccess,
)
from recognition.personal_data.retention import retention_apply
from recognition.personal_data.tasks import personal_data_retention
from recognition.services import subjects as subject_services
from tests.recognition.conftest import YEAR
from tests.recognition.decision_support import issued_decision
from tests.recognition.test_subjects_helpers import citizen, household

pytestmark = pytest.mark.django_db

ZONE = dt.timezone(dt.timedelta(hours=7))


def at(year: int, month: int = 6, day: int = 1) -> dt.datetime:
    return dt.datetime(year, month, day, 9, 0, tzinfo=ZONE)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def _inactive(subject: Any, since: dt.datetime) -> Any:
    subject = subject_services.subject_set_active(
        actor=None, subject=subject, active=False, expected_version=subject.version
    )
    type(subject).objects.filter(pk=subject.pk).update(updated_at=since)
    return subject


@override_settings(PERSONAL_DATA_EVIDENCE_YEARS=5)
def test_evidence_files_go_after_their_years(
    cycle: Any, django_capture_on_commit_callbacks: Any
) -> None:
    setup = issued_decision(cycle, count=2)
    evidence = list(Evidence.objects.all())
    assert evidence and {e.assessment.registration.year for e in evidence} == {YEAR}
    for e in evidence:
        Path(e.file.path).parent.mkdir(parents=True, exist_ok=True)
        Path(e.file.path).write_bytes(b"evidence")
    # The year ends plus 5 years: still kept during YEAR + 5.
    assert retention_apply(now=at(YEAR + 5, 12, 31)).evidence_files == 0
    dry = retention_apply(now=at(YEAR + 6, 1, 2), dry_run=True)
    assert (dry.evidence_files, dry.assessments) == (len(evidence), len(setup.items))
    assert Evidence.objects.count() == len(evidence)
    with django_capture_on_commit_callbacks(execute=True):
        done = retention_apply(now=at(YEAR + 6, 1, 2))
    assert done.evidence_files == len(evidence) and not Evidence.objects.exists()
    assert not any(Path(e.file.path).exists() for e in evidence)
    assert AuditEvent.objects.filter(action="assessment.evidence_retention").count() == len(
        setup.items
    )
    # Results and decisions stay.
    assert DecisionItem.objects.count() == len(setup.items)
    assert retention_apply(now=at(YEAR + 6, 1, 3)).evidence_files == 0  # idempotent


@override_settings(PERSONAL_DATA_INACTIVE_YEARS=5)
def test_inactive_people_are_anonymised_after_their_years(cast: Any) -> None:
    old_home = _inactive(household(cast, code="HH-OLD"), at(2019, 3, 1))
    recent_home = _inactive(household(cast, code="HH-NEW"), at(2023, 3, 1))
    active_home = household(cast, code="HH-ACTIVE")
    Household.objects.filter(pk=active_home.pk).update(updated_at=at(2010))
    old_citizen = _inactive(citizen(cast, national_id="079123456789"), at(2020, 1, 1))

    dry = retention_apply(now=at(2025, 6, 1), dry_run=True)
    assert dry.subjects == {"household": 1, "citizen": 1}
    assert Household.objects.get(pk=old_home.pk).erased_at is None

    done = retention_apply(now=at(2025, 6, 1))
    assert done.subjects == {"household": 1, "citizen": 1}
    old_home.refresh_from_db()
    assert old_home.head_name == "Đã ẩn danh do hết thời hạn lưu trữ" and old_home.erased_at
    old_citizen = Citizen.objects.get(pk=old_citizen.pk)
    assert (old_citizen.national_id, old_citizen.birth_year) == ("", None)
    assert Household.objects.get(pk=recent_home.pk).erased_at is None
    assert Household.objects.get(pk=active_home.pk).erased_at is None
    assert AuditEvent.objects.filter(action="household.retention").count() == 1
    assert AuditEvent.objects.filter(action="citizen.retention").count() == 1
    assert PersonalDataAccess.objects.filter(action=AccessAction.RETENTION).count() == 2
    # A second run finds nothing; the recent one's turn comes in 2028.
    assert retention_apply(now=at(2025, 6, 2)).subjects == {"household": 0, "citizen": 0}
    assert retention_apply(now=at(2028, 3, 2)).subjects == {"household": 1, "citizen": 0}


def test_the_command_and_the_task(cast: Any) -> None:
    _inactive(household(cast, code="HH-OLD"), at(2000))
    out = io.StringIO()
    call_command("personal_data_retention", "--dry-run", stdout=out)
    assert "Would anonymise 1 households" in out.getvalue()
    assert Household.objects.get(code="HH-OLD").erased_at is None
    assert personal_data_retention.delay().get()["households"] == 1
    assert not Household.objects.filter(code="HH-OLD").exists()  # code anonymised
    out = io.StringIO()
    call_command("personal_data_retention", stdout=out)
    assert "Anonymised 0 households" in out.getvalue()


def test_the_task_is_scheduled_daily() -> None:
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["personal-data-retention"]
    assert entry["task"] == personal_data_retention.name
    assert "recognition.personal_data.tasks" in settings.CELERY_IMPORTS


def test_the_history_names_the_retention(cast: Any) -> None:
    from recognition.selectors.subjects import subject_timeline

    home = _inactive(household(cast, code="HH-OLD"), at(2000))
    retention_apply(now=at(2025))
    home.refresh_from_db()
    with translation.override("en"):
        labels = [str(e.label) for e in subject_timeline(home)]
    assert labels[0] == "Anonymised after the retention period"
