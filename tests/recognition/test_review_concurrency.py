"""Two reviewers acting on the same dossier at the same moment (PostgreSQL).

Each thread opens its own database connection; a barrier releases them
together. The dossier row lock serialises them: exactly one wins, the other
gets a TransitionError whose Vietnamese message says someone acted first, and
the audit trail holds exactly one decision on the dossier.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.utils import translation

from core.models import AuditEvent
from recognition.exceptions import TransitionError
from recognition.models import Dossier, DossierStatus
from recognition.services import review as services
from tests.factories import grant, make_user
from tests.recognition.dossier_factories import submitted_dossier
from units.roles import Role

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks (SELECT … FOR UPDATE) need PostgreSQL; SQLite serialises whole "
        "transactions, so the race cannot happen there",
    ),
    pytest.mark.django_db(transaction=True),
]


def _race(*actions: Callable[[], Any]) -> tuple[list[Any], list[Exception]]:
    barrier = threading.Barrier(len(actions))
    wins: list[Any] = []
    errors: list[Exception] = []
    lock = threading.Lock()

    def run(action: Callable[[], Any]) -> None:
        from django.db import connection as thread_connection

        try:
            barrier.wait(timeout=10)
            result = action()
            with lock:
                wins.append(result)
        except Exception as exc:
            with lock:
                errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=run, args=(a,)) for a in actions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a reviewer thread hung"
    return wins, errors


def _decisions(dossier: Dossier) -> list[str]:
    return list(
        AuditEvent.objects.filter(
            object_type="recognition.dossier",
            object_id=str(dossier.public_id),
            action__in=["dossier.approve", "dossier.return"],
        ).values_list("action", flat=True)
    )


def _assert_clear_conflict(error: Exception) -> None:
    assert isinstance(error, TransitionError), repr(error)
    assert error.http_status == 409
    english = "no longer possible"
    text = str(error)
    assert english not in text, "the message must be in Vietnamese"
    with translation.override("vi"):
        expected_start = str(TransitionError.default_message).split("“")[0]
    assert text.startswith(expected_start), text


def test_two_reviewers_approve_and_return_at_once(cycle) -> None:
    cast = cycle.cast
    second = grant(make_user(cast.tenant, "reviewer.two"), cast.district, Role.REVIEWER)
    dossier, items = submitted_dossier(cast, cycle.points_set, 3)
    for item in items:
        services.item_approve(actor=cast.reviewer, item=item)
    wins, errors = _race(
        lambda: services.dossier_finish(actor=cast.reviewer, dossier=dossier),
        lambda: services.dossier_return(actor=second, dossier=dossier, reason="Hồ sơ thiếu"),
    )
    assert len(wins) == 1, (wins, errors)
    assert len(errors) == 1
    _assert_clear_conflict(errors[0])
    dossier.refresh_from_db()
    assert dossier.status == wins[0].status
    assert dossier.status in {DossierStatus.APPROVED, DossierStatus.RETURNED}
    assert len(_decisions(dossier)) == 1


def test_two_reviewers_finish_at_once(cycle) -> None:
    cast = cycle.cast
    second = grant(make_user(cast.tenant, "reviewer.two"), cast.district, Role.REVIEWER)
    dossier, items = submitted_dossier(cast, cycle.points_set, 2)
    for item in items:
        services.item_approve(actor=cast.reviewer, item=item)
    wins, errors = _race(
        lambda: services.dossier_finish(actor=cast.reviewer, dossier=dossier),
        lambda: services.dossier_finish(actor=second, dossier=dossier),
    )
    assert len(wins) == 1 and len(errors) == 1, (wins, errors)
    _assert_clear_conflict(errors[0])
    assert _decisions(dossier) == ["dossier.approve"]


def test_two_reviewers_decide_the_same_item_at_once(cycle) -> None:
    cast = cycle.cast
    second = grant(make_user(cast.tenant, "reviewer.two"), cast.district, Role.REVIEWER)
    _dossier, (item,) = submitted_dossier(cast, cycle.points_set, 1)
    wins, errors = _race(
        lambda: services.item_approve(actor=cast.reviewer, item=item),
        lambda: services.item_return(actor=second, item=item, reason="Thiếu minh chứng"),
    )
    assert len(wins) == 1 and len(errors) == 1, (wins, errors)
    _assert_clear_conflict(errors[0])
    decisions = AuditEvent.objects.filter(
        object_id=str(item.public_id), action__in=["assessment.approve", "assessment.return"]
    )
    assert decisions.count() == 1
