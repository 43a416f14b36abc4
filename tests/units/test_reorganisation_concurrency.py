"""A reorganisation applied while a dossier of an affected ward is being submitted
(PostgreSQL, real row locks, two threads with their own connections).

Both orders are forced: whoever holds the dossier row first finishes, the other
waits. Nothing is lost either way: a dossier submitted first stays with the old
ward, submitted; a submission arriving after the plan finds its items gone to
the successor ward and is refused cleanly, the items still self-assessed there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from recognition.exceptions import DossierIncompleteError
from recognition.models import Assessment, AssessmentStatus, Dossier, DossierStatus
from recognition.services import dossier as dossier_services
from tests.conftest import Cast
from tests.recognition.conftest import make_points_set
from tests.recognition.dossier_factories import ready_households, ward_dossier
from tests.units.test_reorganisation_support import EFFECTIVE
from units.models import AdministrativeUnit
from units.reorganisation import services as reorg
from units.reorganisation.models import ReorganisationStatus

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks (SELECT … FOR UPDATE) need PostgreSQL; SQLite serialises whole "
        "transactions, so the race cannot happen there",
    ),
    pytest.mark.django_db(transaction=True),
]


class Runner(threading.Thread):
    """Runs ``action`` in its own connection; keeps its result or error."""

    def __init__(self, action: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.action = action
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        from django.db import connection as thread_connection

        try:
            self.result = self.action()
        except BaseException as exc:  # reported to the test
            self.error = exc
        finally:
            thread_connection.close()


def _setup(cast: Cast) -> tuple[Any, Dossier, list[Assessment]]:
    points_set = make_points_set()
    items = ready_households(cast, points_set, 2)
    dossier = ward_dossier(cast)
    dossier_services.dossier_add_ready(actor=cast.ward_official, dossier=dossier)
    dossier.refresh_from_db()
    plan = reorg.reorganisation_create(
        actor=cast.admin, name="Đổi tên phường", effective_on=EFFECTIVE
    )
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="rename",
        sources=[cast.ward],
        targets=[{"name": "Phường Sài Gòn"}],
    )
    plan.refresh_from_db()
    return plan, dossier, items


def _apply(cast: Cast, plan: Any) -> Any:
    return reorg.reorganisation_apply(actor=cast.admin, plan=plan, expected_version=plan.version)


def _wait_blocked(thread: Runner, seconds: float = 1.5) -> None:
    thread.start()
    thread.join(timeout=seconds)
    assert thread.is_alive(), "the second transaction should wait for the row lock"


def test_submission_first_then_the_plan_waits(cast: Cast) -> None:
    plan, dossier, items = _setup(cast)
    holding = threading.Event()
    release = threading.Event()

    def submit() -> Any:
        with transaction.atomic():
            result = dossier_services.dossier_submit(actor=cast.admin, dossier=dossier)
            holding.set()
            assert release.wait(timeout=20)
            return result

    submitter = Runner(submit)
    submitter.start()
    assert holding.wait(timeout=20)
    applier = Runner(lambda: _apply(cast, plan))
    _wait_blocked(applier)
    release.set()
    submitter.join(timeout=30)
    applier.join(timeout=60)
    assert not submitter.is_alive() and not applier.is_alive()
    assert submitter.error is None, submitter.error
    assert applier.error is None, applier.error

    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.SUBMITTED
    assert dossier.proposing_unit_id == cast.ward.pk
    for item in items:
        item.refresh_from_db()
        assert item.status == AssessmentStatus.SUBMITTED
        assert item.dossier_id == dossier.pk
        assert item.unit_id == cast.neighbourhood.pk
    plan.refresh_from_db()
    assert plan.status == ReorganisationStatus.APPLIED
    assert plan.result["registrations"] == 0


def test_plan_first_then_the_submission_waits_and_is_refused(cast: Cast) -> None:
    plan, dossier, items = _setup(cast)
    holding = threading.Event()
    release = threading.Event()

    def apply_and_hold() -> Any:
        with transaction.atomic():
            result = _apply(cast, plan)
            holding.set()
            assert release.wait(timeout=20)
            return result

    applier = Runner(apply_and_hold)
    applier.start()
    assert holding.wait(timeout=60)
    submitter = Runner(lambda: dossier_services.dossier_submit(actor=cast.admin, dossier=dossier))
    _wait_blocked(submitter)
    release.set()
    applier.join(timeout=30)
    submitter.join(timeout=30)
    assert not submitter.is_alive() and not applier.is_alive()
    assert applier.error is None, applier.error
    # Refused cleanly (a domain error, not a 500): the dossier has no item left.
    assert isinstance(submitter.error, DossierIncompleteError), repr(submitter.error)

    successor = AdministrativeUnit.objects.get(succession_in__predecessor=cast.ward)
    new_kp = AdministrativeUnit.objects.get(succession_in__predecessor=cast.neighbourhood)
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.DRAFT
    assert not dossier.items.exists()
    for item in items:
        item.refresh_from_db()
        assert item.status == AssessmentStatus.READY
        assert item.dossier_id is None
        assert item.unit_id == new_kp.pk
        assert item.registration.proposing_unit_id == successor.pk
    plan.refresh_from_db()
    assert plan.status == ReorganisationStatus.APPLIED
    assert plan.result["registrations"] == 2
