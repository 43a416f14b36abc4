"""Recognition after an administrative reorganisation (issue 9): registrations of
the current year refuse a unit the reform closed, a draft dossier of a closed
ward is refused with the unit that continues it, and unit writes take a no-key
tenant lock.

Today is fixed at 15/09/2025; the plan renames Phường Bến Nghé into Phường Sài
Gòn from 01/07/2025 (Bến Nghé ends 30/06/2025).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from recognition.exceptions import DossierIncompleteError, RegistrationError
from recognition.models import Assessment, AssessmentStatus, DossierStatus, Registration
from recognition.services import dossier as dossier_services
from recognition.services.registration import registration_bulk_create, registration_create
from recognition.titles import Title
from tests.conftest import Cast
from tests.factories import make_unit
from tests.recognition.conftest import make_household, make_points_set
from tests.recognition.dossier_factories import ready_households, ward_dossier
from units import services as unit_services
from units.models import AdministrativeUnit
from units.reorganisation import services as reorg


@pytest.fixture(autouse=True)
def _messages_in_english() -> Iterator[None]:
    """Messages are asserted in English (the msgids); the Vietnamese catalogue translates them."""
    with translation.override("en"):
        yield


TODAY = dt.date(2025, 9, 15)
EFFECTIVE = dt.date(2025, 7, 1)


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)


def _rename_ward(cast: Cast) -> AdministrativeUnit:
    """Apply the plan; return the successor ward (Phường Sài Gòn)."""
    plan = reorg.reorganisation_create(
        actor=cast.admin,
        name="Đổi tên phường",
        effective_on=EFFECTIVE,
        legal_basis="Nghị quyết thử",
    )
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="rename",
        sources=[cast.ward],
        targets=[{"name": "Phường Sài Gòn"}],
    )
    plan.refresh_from_db()
    reorg.reorganisation_apply(actor=cast.admin, plan=plan, expected_version=plan.version)
    cast.ward.refresh_from_db()
    cast.neighbourhood.refresh_from_db()
    return AdministrativeUnit.objects.get(succession_in__predecessor=cast.ward)


def _old_neighbourhood_household(cast: Cast) -> Any:
    """A household left on the closed neighbourhood (e.g. written by a stale form)."""
    return make_household(cast, unit=cast.neighbourhood)


# --- Registrations -------------------------------------------------------------------------


def test_registration_refuses_a_closed_unit_for_the_current_year(cast: Cast) -> None:
    successor = _rename_ward(cast)
    household = _old_neighbourhood_household(cast)
    with pytest.raises(RegistrationError) as caught:
        registration_create(actor=None, title=Title.FAMILY, year=2025, subject=household)
    assert caught.value.code == "unit_closed"
    message = str(caught.value)
    assert "Khu phố 1" in message
    assert "30/06/2025" in message
    # The neighbourhood's copy under the successor ward continues it.
    copy = AdministrativeUnit.objects.get(succession_in__predecessor=cast.neighbourhood)
    assert copy.parent_id == successor.pk
    assert copy.name in message
    assert not Registration.objects.filter(household=household).exists()


def test_registration_refuses_a_closed_proposing_ward(cast: Cast) -> None:
    _rename_ward(cast)
    # A neighbourhood still in force under the closed ward (a stale tree): its
    # proposing unit is the closed ward.
    stray = make_unit(
        cast.tenant,
        cast.ward,
        "khu_pho",
        "Khu phố 9",
        "27184-KP09",
        valid_from=dt.date(2020, 1, 1),
        valid_to=dt.date(2025, 6, 30),
    )
    AdministrativeUnit.objects.filter(pk=stray.pk).update(valid_to=None)
    stray.refresh_from_db()
    household = make_household(cast, unit=stray)
    with pytest.raises(RegistrationError) as caught:
        registration_create(actor=None, title=Title.FAMILY, year=2026, subject=household)
    assert caught.value.code == "unit_closed"
    assert "Phường Bến Nghé" in str(caught.value)
    assert "Phường Sài Gòn" in str(caught.value)


def test_registration_of_a_past_year_keeps_the_unit_it_was_made_under(cast: Cast) -> None:
    _rename_ward(cast)
    household = _old_neighbourhood_household(cast)
    registration = registration_create(actor=None, title=Title.FAMILY, year=2024, subject=household)
    assert registration.unit_id == cast.neighbourhood.pk
    assert registration.proposing_unit_id == cast.ward.pk


def test_registration_on_the_successor_is_accepted(cast: Cast) -> None:
    successor = _rename_ward(cast)
    copy = AdministrativeUnit.objects.get(succession_in__predecessor=cast.neighbourhood)
    household = make_household(cast, unit=copy)
    registration = registration_create(actor=None, title=Title.FAMILY, year=2025, subject=household)
    assert registration.proposing_unit_id == successor.pk


def test_bulk_registration_refuses_closed_units_whole(cast: Cast) -> None:
    successor = _rename_ward(cast)
    copy = AdministrativeUnit.objects.get(succession_in__predecessor=cast.neighbourhood)
    fine = make_household(cast, unit=copy)
    stale = _old_neighbourhood_household(cast)
    subjects = type(fine).objects.filter(pk__in=[fine.pk, stale.pk])
    with pytest.raises(RegistrationError) as caught:
        registration_bulk_create(actor=None, title=Title.FAMILY, year=2025, subjects=subjects)
    assert caught.value.code == "unit_closed"
    assert "30/06/2025" in str(caught.value)
    assert not Registration.objects.exists()

    result = registration_bulk_create(
        actor=None, title=Title.FAMILY, year=2025, subjects=subjects.filter(pk=fine.pk)
    )
    assert result.created == 1
    assert Registration.objects.get().proposing_unit_id == successor.pk


# --- Dossiers ------------------------------------------------------------------------------


def test_draft_dossier_of_a_closed_ward_is_refused_cleanly(cast: Cast) -> None:
    points_set = make_points_set()
    items = ready_households(cast, points_set, 2)
    dossier = ward_dossier(cast)
    dossier_services.dossier_add_ready(actor=cast.ward_official, dossier=dossier)
    successor = _rename_ward(cast)

    with pytest.raises(DossierIncompleteError) as caught:
        dossier_services.dossier_submit(actor=cast.admin, dossier=dossier)
    assert caught.value.code == "proposing_unit_closed"
    message = str(caught.value)
    assert "Phường Bến Nghé was closed on 30/06/2025" in message
    assert "Phường Sài Gòn" in message
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.DRAFT
    assert dossier.submission_count == 0
    # The items went to the successor with the plan and are still self-assessed there.
    for item in items:
        item.refresh_from_db()
        assert item.dossier_id is None
        assert item.status == AssessmentStatus.READY
        assert item.registration.proposing_unit_id == successor.pk

    # Adding items goes through the same lock helper.
    with pytest.raises(DossierIncompleteError):
        dossier_services.dossier_add_ready(actor=cast.admin, dossier=dossier)


def test_dossier_of_a_ward_in_force_is_submitted(cast: Cast) -> None:
    points_set = make_points_set()
    ready_households(cast, points_set, 1)
    dossier = ward_dossier(cast)
    dossier_services.dossier_add_ready(actor=cast.ward_official, dossier=dossier)
    submitted = dossier_services.dossier_submit(actor=cast.ward_official, dossier=dossier)
    assert submitted.status == DossierStatus.SUBMITTED
    assert Assessment.objects.filter(dossier=submitted, status=AssessmentStatus.SUBMITTED).count()


# --- Tenant lock ---------------------------------------------------------------------------


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite has no row locks (no FOR clause)"
)
def test_unit_writes_take_a_no_key_tenant_lock(cast: Cast) -> None:
    with CaptureQueriesContext(connection) as queries:
        unit_services._lock_tenant(cast.tenant)
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "FOR NO KEY UPDATE" in sql


def test_closed_ward_refusal_is_a_409_with_its_problem() -> None:
    # A kind of DossierIncompleteError: screens and the API show its problems.
    error = dossier_services.ProposingUnitClosedError("Phường A was closed.")
    assert error.problems == ["Phường A was closed."]
    assert error.http_status == 409
    assert str(error) == "Phường A was closed."
