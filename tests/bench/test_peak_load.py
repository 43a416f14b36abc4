"""The peak-load benchmark's preparation and its after-the-run database checks
(bench/peak_load): writes made through the services and recorded as the Locust
users record them pass; a lost save, an unrecorded (duplicated) save and a
missing submit are caught."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench" / "peak_load"))

import prepare
from verify import verify

from recognition.models import Assessment, AssessmentStatus, Dossier, IndicatorScore
from recognition.services import assessment as assessment_services
from recognition.services import dossier as dossier_services

pytestmark = pytest.mark.django_db
RNG = random.Random(2026)


@pytest.fixture
def bench(db: None) -> dict[str, Any]:
    year = timezone.localdate().year
    tenant = prepare.ensure_tenant(wards=2, reviewers=1, viewers=1)
    counts = prepare.reset_cycle(tenant=tenant, wards=2, year=year)
    data = prepare.credentials(tenant=tenant, wards=2, reviewers=1, viewers=1, year=year)
    return {"tenant": tenant, "counts": counts, "data": data, "since": timezone.now()}


def _save(item: dict[str, Any], indicators: list[dict[str, Any]], writes: list[dict]) -> None:
    assessment = Assessment.objects.get(public_id=item["id"])
    values = {i["id"]: RNG.randint(0, i["max"]) for i in indicators}
    saved = assessment_services.assessment_save_scores(
        actor=None, assessment=assessment, expected_version=assessment.version, values=values
    )
    writes.append(
        {"kind": "save", "assessment": item["id"], "version": saved.version, "values": values}
    )


def _ward_cycle(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The first ward's official: every assessment saved twice, completed and
    added, the dossier submitted; the writes recorded as the locustfile does."""
    ward = data["wards"][0]
    writes: list[dict[str, Any]] = []
    for item in ward["assessments"]:
        _save(item, data["indicators"], writes)
        _save(item, data["indicators"], writes)
        done = assessment_services.assessment_complete(
            actor=None, assessment=Assessment.objects.get(public_id=item["id"])
        )
        writes.append({"kind": "complete", "assessment": item["id"], "version": done.version})
        dossier = Dossier.objects.get(public_id=ward["dossier"])
        count = dossier_services.dossier_add_items(
            actor=None, dossier=dossier, assessment_ids=[item["id"]]
        )
        writes.append({"kind": "add", "dossier": ward["dossier"], "count": count})
    dossier_services.dossier_submit(
        actor=None, dossier=Dossier.objects.get(public_id=ward["dossier"])
    )
    writes.append(
        {
            "kind": "submit",
            "dossier": ward["dossier"],
            "items": [i["id"] for i in ward["assessments"]],
        }
    )
    return writes


def _failed(results: list[dict[str, Any]]) -> set[str]:
    return {r["check"] for r in results if not r["ok"]}


def test_prepare_builds_the_two_tier_cycle(bench: dict[str, Any]) -> None:
    data = bench["data"]
    assert bench["counts"] == {"wards": 2, "registrations": 12, "assessments": 12, "dossiers": 2}
    assert {a.status for a in Assessment.objects.all()} == {AssessmentStatus.DRAFT}
    # Every assessment, by the service or in bulk, has one empty score per indicator.
    assert IndicatorScore.objects.count() == 12 * len(data["indicators"])
    assert IndicatorScore.objects.exclude(self_points=None).count() == 0
    # 2026 family dossiers go to the city (the district level ended on 30/06/2025).
    assert {d.reviewing_unit.depth for d in Dossier.objects.select_related("reviewing_unit")} == {0}
    assert len(data["wards"]) == 2 and data["reviewers"][0]["wards"] == [0, 1]
    assert all(w["token"].startswith("xhht_") and w["session"] for w in data["wards"])


def test_recorded_writes_match_the_database(bench: dict[str, Any]) -> None:
    writes = _ward_cycle(bench["data"])
    results = verify(data=bench["data"], writes=writes, since=bench["since"])
    assert _failed(results) == set()
    by_name = {r["check"]: r for r in results}
    assert by_name["dossier items = successful adds"]["found"] == 6
    assert by_name["dossiers submitted = successful submits"]["found"] == 1


def test_a_lost_save_is_caught(bench: dict[str, Any]) -> None:
    writes = _ward_cycle(bench["data"])
    last = max((w for w in writes if w["kind"] == "save"), key=lambda w: w["version"])
    indicator = next(iter(last["values"]))
    last["values"][indicator] = (last["values"][indicator] + 1) % 11  # sent, never stored
    assert _failed(verify(data=bench["data"], writes=writes, since=bench["since"])) == {
        "saved scores stored (no lost save)"
    }


def test_an_unrecorded_second_write_is_caught(bench: dict[str, Any]) -> None:
    data = bench["data"]
    item = data["wards"][1]["assessments"][0]
    writes: list[dict[str, Any]] = []
    _save(item, data["indicators"], writes)
    _save(item, data["indicators"], [])  # written twice, recorded once
    writes[0]["values"] = {
        str(i): int(p)
        for i, p in IndicatorScore.objects.filter(assessment__public_id=item["id"]).values_list(
            "indicator__public_id", "self_points"
        )
    }
    assert _failed(verify(data=data, writes=writes, since=bench["since"])) == {
        "assessment versions = start + successful writes",
        "audit events 'assessment.scores' = successful saves",
    }


def test_a_submit_missing_from_the_record_is_caught(bench: dict[str, Any]) -> None:
    writes = [w for w in _ward_cycle(bench["data"]) if w["kind"] != "submit"]
    failed = _failed(verify(data=bench["data"], writes=writes, since=bench["since"]))
    assert "dossiers submitted = successful submits" in failed


def test_a_write_cut_by_the_stop_is_counted_apart(bench: dict[str, Any]) -> None:
    data = bench["data"]
    item = data["wards"][1]["assessments"][0]
    writes = _ward_cycle(data)
    _save(item, data["indicators"], [])  # landed, but the answer never came back
    path = f"/api/v1/assessments/{item['id']}/scores"
    writes.append({"kind": "attempt", "write": 99, "name": "save: assessment scores", "path": path})
    results = verify(data=data, writes=writes, since=bench["since"])
    assert _failed(results) == set()
    cut = results[-1]
    assert cut["found"] == 1 and cut["left_out"] == {"assessments": 6, "dossiers": 1}
    # Without the attempt record the same unanswered write is a duplicated write.
    assert "assessment versions = start + successful writes" in _failed(
        verify(data=data, writes=writes[:-1], since=bench["since"])
    )


def test_head_start_is_the_deadline_week_and_verify_counts_it(db: None) -> None:
    """Before the run (``prepare.head_start``): the first ward has submitted its
    dossier of 6, the second has 2 households done and in its dossier; the checks
    count those as adds and submits, and catch a prepared state that is not there."""
    year = timezone.localdate().year
    tenant = prepare.ensure_tenant(wards=2, reviewers=1, viewers=1)
    prepare.reset_cycle(tenant=tenant, wards=2, year=year)
    done = prepare.head_start(tenant=tenant, wards=2, year=year, done=2, submitted_every=2)
    assert done == {"assessed": 8, "submitted": 1}
    data = prepare.credentials(tenant=tenant, wards=2, reviewers=1, viewers=1, year=year)
    first, second = data["wards"]
    assert first["dossier_status"] == "submitted" and first["dossier_submissions"] == 1
    assert [a["status"] for a in first["assessments"]] == [AssessmentStatus.SUBMITTED] * 6
    assert second["dossier_status"] == "draft"
    assert [a["in_dossier"] for a in second["assessments"]] == [True, True] + [False] * 4
    assert [a["status"] for a in second["assessments"][:3]] == [
        AssessmentStatus.READY,
        AssessmentStatus.READY,
        AssessmentStatus.DRAFT,
    ]
    results = verify(data=data, writes=[], since=timezone.now())
    assert _failed(results) == set()
    by_name = {r["check"]: r for r in results}
    assert by_name["dossier items = successful adds"]["found"] == 8
    assert by_name["dossiers submitted = successful submits"]["found"] == 1
    # The prepared data claims a state the database does not have: caught.
    second["assessments"][2]["in_dossier"] = True
    first["dossier_submissions"] = 0
    assert _failed(verify(data=data, writes=[], since=timezone.now())) == {
        "dossier items = successful adds",
        "dossiers submitted = successful submits",
    }


def test_minute_by_minute_figures() -> None:
    """The report's per-minute rows: requests per second, p95 per group, and the
    submits and approvals of each minute (the busiest minute is read from them)."""
    from report import minutes

    requests = [
        {"t": 100.0 + i, "name": "page: dossier", "ms": float(i), "status": 200, "ok": True}
        for i in range(60)
    ] + [{"t": 170.0, "name": "save: submit dossier", "ms": 400.0, "status": 200, "ok": True}]
    writes = [{"kind": "submit", "t": 170.5}, {"kind": "approve", "t": 171.0}]
    rows = minutes(requests, writes, first=100.0)
    assert rows == [
        {
            "minute": 1,
            "rps": 1.0,
            "page_p95_ms": 56.0,
            "save_p95_ms": 0.0,
            "submits": 0,
            "approvals": 0,
        },
        {
            "minute": 2,
            "rps": 0.1,
            "page_p95_ms": 0.0,
            "save_p95_ms": 400.0,
            "submits": 1,
            "approvals": 1,
        },
    ]
