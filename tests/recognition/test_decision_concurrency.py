"""Issuing decisions at the same moment (PostgreSQL).

Each thread runs an issuing job on its own database connection; a barrier
releases them together. The issuer's counter row lock serialises the commits:
numbers are distinct, consecutive and without gaps, the PDF of the decision
that lost the race is rendered again with its real number, and the same draft
issued twice at once is issued once, its items recognised once.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation

from core.jobs import job_retry, job_run
from core.models import AuditEvent, Job, JobStatus
from recognition.models import Assessment, AssessmentStatus, Decision, DecisionCounter
from recognition.services import decision as services
from tests.recognition.decision_support import (
    approved_dossier,
    draft_decision,
    issue,
    pdf_text,
    read_file,
)

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks (SELECT … FOR UPDATE) need PostgreSQL; SQLite serialises whole "
        "transactions, so the race cannot happen there",
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _no_enqueue(monkeypatch: pytest.MonkeyPatch) -> None:
    """Jobs are run by the test's threads, not on commit (Celery is eager in tests)."""
    monkeypatch.setattr("core.jobs.job_enqueue", lambda job: None)


def _race(*actions: Callable[[], Any]) -> list[Any]:
    """Run ``actions`` in threads released together; their results (or exceptions)."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(index: int, action: Callable[[], Any]) -> None:
        from django.db import connection as thread_connection

        try:
            barrier.wait(timeout=10)
            results[index] = action()
        except Exception as exc:
            results[index] = exc
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "an issuing thread hung"
    return results


def _reference_in_pdf(decision: Decision) -> None:
    text = unicodedata.normalize("NFC", pdf_text(read_file(decision.pdf)))
    assert decision.reference in text, (decision.reference, text[:400])


def _renders_meet(monkeypatch: pytest.MonkeyPatch, meet: int) -> list[int]:
    """Make the first ``meet`` renders wait for each other, so every racing job
    has rendered with the same next number before any commits (a deterministic
    race); returns the list of rendered numbers as they happen.

    The renders themselves take turns: WeasyPrint (Pango) is not thread-safe
    and crashes the process when two threads lay out text at once. Celery
    runs jobs in processes, so only this test's threads need the lock; what
    races here is the database work."""
    from recognition.documents import decision_pdf

    original = decision_pdf.render_decision_pdf
    barrier = threading.Barrier(meet)
    rendered: list[int] = []
    lock = threading.Lock()
    one_at_a_time = threading.Lock()

    def render(doc: Any, *args: Any, **kwargs: Any) -> Any:
        with one_at_a_time:
            result = original(doc, *args, **kwargs)
        with lock:
            rendered.append(getattr(doc, "number", None) or 0)
            first = len(rendered) <= meet
        if first:
            barrier.wait(timeout=60)
        return result

    monkeypatch.setattr(decision_pdf, "render_decision_pdf", render)
    return rendered


def test_two_drafts_issued_at_once_get_consecutive_numbers(cycle, monkeypatch) -> None:
    cast = cycle.cast
    _dossier, items = approved_dossier(cast, cycle.points_set, 5)
    first = draft_decision(cast, assessments=items[:2])
    second = draft_decision(cast, assessments=items[2:4])
    jobs = [services.decision_issue_start(actor=cast.reviewer, decision=d) for d in (first, second)]

    rendered = _renders_meet(monkeypatch, 2)
    results = _race(*(lambda pk=job.pk: job_run(pk) for job in jobs))
    # Both rendered number 1; the one that committed second rendered again with 2.
    assert rendered == [1, 1, 2], rendered
    assert results == ["done", "done"], [
        (r, Job.objects.get(pk=j.pk).message) for r, j in zip(results, jobs, strict=True)
    ]
    issued = list(Decision.objects.filter(pk__in=[first.pk, second.pk]))
    assert sorted(d.number or 0 for d in issued) == [1, 2]
    assert {d.reference for d in issued} == {"01/QĐ-UBND", "02/QĐ-UBND"}
    for decision in issued:
        _reference_in_pdf(decision)  # the loser was rendered again with its own number
    assert DecisionCounter.objects.get(issuing_unit=cast.district).last_number == 2
    assert set(
        Assessment.objects.filter(pk__in=[a.pk for a in items[:4]]).values_list("status", flat=True)
    ) == {AssessmentStatus.RECOGNISED}

    third = draft_decision(cast, assessments=items[4:])
    job = issue(third, cast.reviewer)
    assert job.status == JobStatus.DONE, job.message
    third.refresh_from_db()
    assert third.number == 3 and third.reference == "03/QĐ-UBND"


def test_the_same_draft_issued_twice_at_once_is_issued_once(cycle, monkeypatch) -> None:
    """An old failed job is retried while a new issue of the same draft runs."""
    from django.core.files.storage import default_storage

    cast = cycle.cast
    _dossier, items = approved_dossier(cast, cycle.points_set, 2)
    decision = draft_decision(cast, assessments=items)

    def refuse(*args: Any, **kwargs: Any) -> str:
        raise OSError("storage unavailable")

    default_storage.exists("probe")
    storage_class = type(default_storage._wrapped)  # type: ignore[attr-defined]
    with monkeypatch.context() as patch:
        patch.setattr(storage_class, "save", refuse)
        old = issue(decision, cast.reviewer)
    assert old.status == JobStatus.FAILED
    new = services.decision_issue_start(actor=cast.reviewer, decision=decision)
    old = job_retry(actor=cast.reviewer, job=old)

    rendered = _renders_meet(monkeypatch, 2)
    results = _race(lambda: job_run(old.pk), lambda: job_run(new.pk))
    assert rendered == [1, 1], rendered  # the loser stopped at its commit, no re-render
    assert sorted(results) == ["done", "failed"], results
    loser = Job.objects.get(pk=(old if results[0] == "failed" else new).pk)
    assert loser.status == JobStatus.FAILED
    # Jobs speak the site's language (they run outside any request).
    with translation.override(settings.LANGUAGE_CODE):
        expected = services.issue_problems(Decision.objects.get(pk=decision.pk))[0]
    assert loser.message == expected

    decision.refresh_from_db()
    assert decision.number == 1 and decision.reference == "01/QĐ-UBND"
    _reference_in_pdf(decision)
    assert DecisionCounter.objects.get(issuing_unit=cast.district).last_number == 1
    recognised = AuditEvent.objects.filter(action="assessment.recognise")
    assert sorted(recognised.values_list("object_id", flat=True)) == sorted(
        str(a.public_id) for a in items
    )
    assert AuditEvent.objects.filter(action="decision.issue").count() == 1
