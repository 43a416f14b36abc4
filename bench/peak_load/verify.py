"""After the run: every write the load recorded as successful, checked against the database.

Called by ``run.py`` in its Django process with the prepared data (ids and
starting versions), the recorded writes (``locustfile.record``) and the time
the load started. Each check gives its expected and found figures and a list
of the objects that differ (the first 20).

* **no lost save**: each indicator's stored self-score is the value of the last
  successful save that sent it;
* **no duplicated write**: an assessment's version is its starting version plus
  one per successful write on it (saves, completion, the dossier's submit,
  approval); the versions the saves returned are all different; the audit log
  holds exactly one ``assessment.scores`` event per successful save (none more);
* dossier items = successful adds, dossiers submitted = successful submits (one
  ``DossierSubmission`` each), approved items = successful approvals, reviewed
  dossiers = successful finishes. Items added and dossiers submitted before the
  run (``prepare.head_start``, read from the prepared data) count as adds and
  submits.

A write the load attempted but got no answer to (cut when the run stopped) may
or may not have landed: its assessment, its dossier and the dossier's items are
left out of the exact checks and counted apart.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any


def _check(name: str, expected: int, found: int, problems: list[str]) -> dict[str, Any]:
    return {
        "check": name,
        "expected": expected,
        "found": found,
        "ok": expected == found and not problems,
        "problems": problems[:20],
        "problem_count": len(problems),
    }


def _cut_writes(writes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Writes attempted but given no outcome: cut by the end of the run."""
    answered = {w["write"] for w in writes if w["kind"] != "attempt" and w.get("write")}
    return [w for w in writes if w["kind"] == "attempt" and w["write"] not in answered]


def _objects_of(cut: list[dict[str, Any]], data: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The assessments and dossiers a cut write may have changed (from its path;
    a dossier's submit changes every item of it)."""
    items = {w["dossier"]: {a["id"] for a in w["assessments"]} for w in data["wards"]}
    assessments: set[str] = set()
    dossiers: set[str] = set()
    for w in cut:
        parts = w["path"].strip("/").split("/")  # api v1 <collection> <id> ...
        if parts[2] == "assessments":
            assessments.add(parts[3])
        else:
            dossiers.add(parts[3])
            assessments |= items.get(parts[3], set())
            if len(parts) > 5 and parts[4] == "items":
                assessments.add(parts[5])
    # An assessment left out takes its dossier's counts with it, and a dossier
    # left out its items (their submit and approvals are left out with it).
    for dossier, ids in items.items():
        if ids & assessments:
            dossiers.add(dossier)
            assessments |= ids
    return assessments, dossiers


def verify(*, data: dict[str, Any], writes: list[dict[str, Any]], since: dt.datetime) -> list[dict]:
    from core.models import AuditEvent
    from recognition.models import (
        Assessment,
        AssessmentStatus,
        Dossier,
        DossierStatus,
        DossierSubmission,
        IndicatorScore,
    )

    cut = _cut_writes(writes)
    cut_a, cut_d = _objects_of(cut, data)
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for w in writes:
        if w.get("assessment") in cut_a or w.get("dossier") in cut_d:
            continue
        by_kind[w["kind"]].append(w)
    start_version = {
        a["id"]: a["version"]
        for w in data["wards"]
        for a in w["assessments"]
        if a["id"] not in cut_a
    }
    dossier_ids = [w["dossier"] for w in data["wards"] if w["dossier"] not in cut_d]
    assessments = {
        str(a.public_id): a for a in Assessment.objects.filter(public_id__in=list(start_version))
    }
    results = []

    # --- Lost saves: the stored score is the last value sent.
    last_value: dict[tuple[str, str], int] = {}
    for w in sorted(by_kind["save"], key=lambda w: (w["assessment"], w["version"])):
        for indicator, value in w["values"].items():
            last_value[(w["assessment"], indicator)] = value
    stored = {
        (str(a_id), str(i_id)): points
        for a_id, i_id, points in IndicatorScore.objects.filter(
            assessment__public_id__in={a for a, _i in last_value}
        ).values_list("assessment__public_id", "indicator__public_id", "self_points")
    }
    lost = [
        f"{a} {i}: sent {v}, stored {stored.get((a, i))}"
        for (a, i), v in last_value.items()
        if stored.get((a, i)) != Decimal(v)
    ]
    results.append(
        _check(
            "saved scores stored (no lost save)", len(last_value), len(last_value) - len(lost), lost
        )
    )

    # --- Duplicated writes: versions and audit events.
    bumps: Counter[str] = Counter()
    for kind in ("save", "complete", "approve"):
        for w in by_kind[kind]:
            bumps[w["assessment"]] += 1
    for w in by_kind["submit"]:
        for a in w["items"]:
            bumps[a] += 1
    wrong_version = [
        f"{a}: started {v}, {bumps[a]} writes, stored {assessments[a].version}"
        for a, v in start_version.items()
        if assessments[a].version != v + bumps[a]
    ]
    results.append(
        _check(
            "assessment versions = start + successful writes",
            sum(v + bumps[a] for a, v in start_version.items()),
            sum(a.version for a in assessments.values()),
            wrong_version,
        )
    )
    seen: Counter[tuple[str, int]] = Counter(
        (w["assessment"], w["version"]) for w in by_kind["save"]
    )
    repeated = [f"{a} v{v} returned {n}×" for (a, v), n in seen.items() if n > 1]
    results.append(
        _check("save responses carry distinct versions", len(seen), len(by_kind["save"]), repeated)
    )
    audit = Counter(
        AuditEvent.objects.filter(
            action="assessment.scores", created_at__gte=since, object_id__in=list(start_version)
        ).values_list("object_id", flat=True)
    )
    saves = Counter(w["assessment"] for w in by_kind["save"])
    audit_diff = [
        f"{a}: {saves[a]} saves, {audit[a]} audit events"
        for a in set(saves) | set(audit)
        if saves[a] != audit[a]
    ]
    results.append(
        _check(
            "audit events 'assessment.scores' = successful saves",
            sum(saves.values()),
            sum(audit.values()),
            audit_diff,
        )
    )

    # --- Dossiers.
    in_dossier = Counter(
        str(d)
        for d in Assessment.objects.filter(dossier__public_id__in=dossier_ids).values_list(
            "dossier__public_id", flat=True
        )
    )
    added = Counter(w["dossier"] for w in by_kind["add"] if w["count"])
    # Items added before the run (``prepare.head_start``) count as adds.
    for ward in data["wards"]:
        if ward["dossier"] in dossier_ids:
            added[ward["dossier"]] += sum(1 for a in ward["assessments"] if a.get("in_dossier"))
    add_diff = [
        f"{d}: {added[d]} added, {in_dossier[d]} in the dossier"
        for d in set(added) | set(in_dossier)
        if added[d] != in_dossier[d]
    ]
    results.append(
        _check(
            "dossier items = successful adds",
            sum(added.values()),
            sum(in_dossier.values()),
            add_diff,
        )
    )

    submitted_ids = Counter(w["dossier"] for w in by_kind["submit"])
    # Dossiers submitted before the run (``prepare.head_start``) count as submits.
    for ward in data["wards"]:
        if ward["dossier"] in dossier_ids:
            submitted_ids[ward["dossier"]] += ward.get("dossier_submissions", 0)
    dossiers = {str(d.public_id): d for d in Dossier.objects.filter(public_id__in=dossier_ids)}
    sent = {d for d, x in dossiers.items() if x.status != DossierStatus.DRAFT}
    submissions = Counter(
        str(d)
        for d in DossierSubmission.objects.filter(dossier__public_id__in=dossier_ids).values_list(
            "dossier__public_id", flat=True
        )
    )
    submit_diff = [
        f"{d}: {submitted_ids[d]} submits, status {dossiers[d].status}, "
        f"{submissions[d]} submissions, submission_count {dossiers[d].submission_count}"
        for d in dossiers
        if not (submitted_ids[d] == submissions[d] == dossiers[d].submission_count)
        or (d in sent) != (submitted_ids[d] > 0)
    ]
    results.append(
        _check(
            "dossiers submitted = successful submits",
            sum(submitted_ids.values()),
            len(sent),
            submit_diff,
        )
    )

    approved_ids = {w["assessment"] for w in by_kind["approve"]}
    approved_db = {a for a, x in assessments.items() if x.status == AssessmentStatus.APPROVED}
    approve_diff = [f"{a}: approved in the database only" for a in approved_db - approved_ids] + [
        f"{a}: approval recorded, status {assessments[a].status}"
        for a in approved_ids - approved_db
    ]
    results.append(
        _check(
            "approved items = successful approvals",
            len(by_kind["approve"]),
            len(approved_db),
            approve_diff,
        )
    )
    finished = {w["dossier"] for w in by_kind["finish"]}
    reviewed = {d for d, x in dossiers.items() if x.status == DossierStatus.APPROVED}
    finish_diff = [f"{d}: reviewed in the database only" for d in reviewed - finished] + [
        f"{d}: finish recorded, status {dossiers[d].status}" for d in finished - reviewed
    ]
    results.append(
        _check(
            "reviewed dossiers = successful finishes",
            len(by_kind["finish"]),
            len(reviewed),
            finish_diff,
        )
    )
    results.append(
        {
            "check": "writes cut by the end of the run (their objects left out above)",
            "expected": 0,
            "found": len(cut),
            "ok": True,
            "info": True,
            "problems": [f"{w['name']} {w['path']}" for w in cut[:20]],
            "problem_count": len(cut),
            "left_out": {"assessments": len(cut_a), "dossiers": len(cut_d)},
        }
    )
    return results
