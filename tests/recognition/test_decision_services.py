"""Decision services: the prefilled draft, editing, the annex, issuing (numbered,
rendered, recognising) with every refusal leaving the data as it was, storage
failures and retries, revocation and certificates."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

import pytest
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.exceptions import ConcurrentEditError
from core.jobs import JobError, job_retry
from core.models import AuditEvent, Job, JobStatus
from recognition.exceptions import DecisionError, RoleNotAllowedError
from recognition.models import (
    Assessment,
    AssessmentStatus,
    Certificate,
    Decision,
    DecisionCounter,
    DecisionItem,
    DecisionStatus,
    Household,
)
from recognition.selectors.decision import certificate_for_token
from recognition.services import decision as services
from recognition.titles import Title
from tests.recognition.conftest import YEAR
from tests.recognition.decision_support import (
    SIGNER_NAME,
    approved_dossier,
    backdate_review,
    draft_decision,
    issue,
    issued_decision,
    pdf_pages,
    pdf_text,
    read_file,
    ready_decision,
    run,
)
from tests.recognition.dossier_factories import submitted_dossier

A = AssessmentStatus
S = DecisionStatus


def vn_date(day: dt.date) -> str:
    """ "ngày 05 tháng 02 năm 2026": a leading zero for days below 10 and for
    months 1 and 2 (RULES.md §6.2, ô 4)."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def _snapshot(decision: Decision) -> dict[str, Any]:
    """Everything an issue may change, to compare before and after a refusal."""
    decision.refresh_from_db()
    return {
        "decision": (decision.status, decision.number, decision.version, decision.pdf.name),
        "items": sorted(
            Assessment.objects.filter(decision_items__decision=decision).values_list(
                "pk", "status", "version"
            )
        ),
        "counters": list(DecisionCounter.objects.values_list("issuing_unit_id", "last_number")),
        "recognise_events": AuditEvent.objects.filter(action="assessment.recognise").count(),
    }


def _household(item: Assessment) -> Household:
    household = item.registration.household
    assert household is not None
    return household


def _names(items: list[Assessment]) -> list[str]:
    return [_household(a).head_name for a in items]


# --- The draft ------------------------------------------------------------------------


def test_create_prefills_the_state_format(cycle) -> None:
    cast = cycle.cast
    decision = services.decision_create(
        actor=cast.reviewer, issuing_unit=cast.district, title=Title.FAMILY, year=YEAR
    )
    assert decision.status == S.DRAFT and decision.number is None and decision.reference == ""
    assert decision.agency == "ỦY BAN NHÂN DÂN QUẬN MỘT"
    assert decision.symbol == "QĐ-UBND"
    assert decision.place_name == "Quận Một"
    bases = decision.legal_bases.splitlines()
    assert "Căn cứ Bộ tiêu chí dùng cho kiểm thử" in bases  # the criteria set's legal basis
    assert all(line.startswith(("Căn cứ", "Xét")) for line in bases)
    assert len(decision.articles) == 3
    assert [a.split(".")[0] for a in decision.articles] == ["Điều 1", "Điều 2", "Điều 3"]
    assert services.COUNT_PLACEHOLDER in decision.articles[0]
    assert str(YEAR) in decision.summary
    assert decision.recipients.splitlines()[-1].startswith("Lưu: VT")
    assert decision.signing_form == "TM."
    assert AuditEvent.objects.filter(
        action="decision.create", object_id=str(decision.public_id)
    ).exists()


def test_create_prefers_the_tenants_own_criteria_set(cycle) -> None:
    """The tenant's adaptation of the criteria wins over the national set (as in
    recognition.selectors.criteria.criteria_set_for), on every database: SQLite
    sorts a NULL tenant first, PostgreSQL last."""
    from recognition.models import CriteriaSet
    from tests.recognition.conftest import make_points_set

    cast = cycle.cast
    own = make_points_set(tenant=cast.tenant, code="TEST-GDHT-79")
    CriteriaSet.objects.filter(pk=own.pk).update(
        legal_basis="Quyết định số 12/2024/QĐ-UBND của Ủy ban nhân dân Thành phố"
    )
    decision = services.decision_create(
        actor=cast.reviewer, issuing_unit=cast.district, title=Title.FAMILY, year=YEAR
    )
    bases = decision.legal_bases.splitlines()
    assert "Căn cứ Quyết định số 12/2024/QĐ-UBND của Ủy ban nhân dân Thành phố" in bases
    assert "Căn cứ Bộ tiêu chí dùng cho kiểm thử" not in bases


def test_create_needs_a_reviewer_of_the_unit_and_a_title(cycle) -> None:
    cast = cycle.cast
    for actor in (cast.ward_official, cast.viewer):
        with pytest.raises(RoleNotAllowedError):
            services.decision_create(
                actor=actor, issuing_unit=cast.district, title=Title.FAMILY, year=YEAR
            )
    with pytest.raises(RoleNotAllowedError):  # another district
        services.decision_create(
            actor=cast.reviewer, issuing_unit=cast.other_district, title=Title.FAMILY, year=YEAR
        )
    with pytest.raises(DecisionError):
        services.decision_create(
            actor=cast.reviewer, issuing_unit=cast.district, title="nope", year=YEAR
        )
    assert not Decision.objects.exists()


def test_update_normalises_and_checks(cycle) -> None:
    cast = cycle.cast
    decision = draft_decision(cast, annex=False)
    decomposed = unicodedata.normalize("NFD", "Trần Thị Ngọc Ánh")
    updated = services.decision_update(
        actor=cast.reviewer,
        decision=decision,
        expected_version=decision.version,
        data={
            "signer_name": f"  {decomposed} ",
            "articles": "Điều 1. Công nhận.\n\nĐiều 2. Hiệu lực.\nĐiều 3. Thi hành.",
        },
    )
    assert updated.signer_name == "Trần Thị Ngọc Ánh"
    assert unicodedata.is_normalized("NFC", updated.signer_name)
    assert updated.articles == ["Điều 1. Công nhận.", "Điều 2. Hiệu lực.", "Điều 3. Thi hành."]
    assert updated.version == decision.version + 1

    before = _snapshot(updated)
    bad: tuple[dict[str, Any], ...] = (
        {"symbol": "QĐ UBND"},
        {"symbol": "qđ-ubnd"},
        {"articles": ["Điều 1. Một.", "Điều 3. Ba."]},
        {"articles": []},
        {"agency": "  "},
        {"signing_form": "XX."},
    )
    for data in bad:
        with pytest.raises(DecisionError):
            services.decision_update(
                actor=cast.reviewer, decision=updated, expected_version=updated.version, data=data
            )
    assert _snapshot(updated) == before


def test_update_keeps_one_legal_basis_per_line(cycle) -> None:
    """The legal bases and the recipients are one entry per line: normalising the
    text must not join the lines."""
    cast = cycle.cast
    decision = draft_decision(cast, annex=False)
    bases = "Căn cứ Luật Tổ chức chính quyền địa phương;\nCăn cứ Thông tư 25/2023/TT-BGDĐT;"
    recipients = "Như Điều 3;\nLưu: VT, VX."
    updated = services.decision_update(
        actor=cast.reviewer,
        decision=decision,
        expected_version=decision.version,
        data={"legal_bases": bases, "recipients": recipients},
    )
    assert updated.legal_bases.splitlines() == bases.splitlines()
    assert updated.recipients.splitlines() == recipients.splitlines()


def test_stale_version_changes_nothing(cycle) -> None:
    cast = cycle.cast
    decision = draft_decision(cast, annex=False)
    services.decision_update(
        actor=cast.reviewer,
        decision=decision,
        expected_version=decision.version,
        data={"summary": "Về việc công nhận (bản 1)"},
    )
    with pytest.raises(ConcurrentEditError):
        services.decision_update(
            actor=cast.reviewer,
            decision=decision,
            expected_version=decision.version,  # the version before the first edit
            data={"summary": "Về việc công nhận (bản 2)"},
        )
    decision.refresh_from_db()
    assert decision.summary == "Về việc công nhận (bản 1)"
    assert (
        AuditEvent.objects.filter(action="decision.edit", object_id=str(decision.public_id)).count()
        == 2  # the signer and date of draft_decision, then bản 1
    )


# --- The annex ------------------------------------------------------------------------


def test_annex_takes_only_approved_items_of_approved_dossiers_under_the_issuer(cycle) -> None:
    cast = cycle.cast
    _dossier, mine = approved_dossier(cast, cycle.points_set, 3)
    _other, theirs = approved_dossier(
        cast, cycle.points_set, 2, ward=cast.other_ward, unit=cast.other_neighbourhood
    )
    # A second ward under the district whose dossier is only submitted.
    from tests.factories import make_unit

    ward2 = make_unit(cast.tenant, cast.district, "phuong", "Phường Đa Kao", "27190")
    kp2 = make_unit(cast.tenant, ward2, "khu_pho", "Khu phố 2", "27190-KP02")
    _submitted, pending = submitted_dossier(cast, cycle.points_set, 2, ward=ward2, unit=kp2)

    decision = draft_decision(cast, annex=False)
    candidates = set(services.annex_candidates(decision).values_list("pk", flat=True))
    assert candidates == {a.pk for a in mine}

    added = services.annex_add(
        actor=cast.reviewer, decision=decision, filters={"unit": cast.ward.public_id}
    )
    assert added == 3
    decision.refresh_from_db()
    assert decision.item_count == 3
    rows = list(decision.items.order_by("position"))
    assert sorted(r.assessment_id for r in rows) == sorted(a.pk for a in mine)
    assert [r.position for r in rows] == [1, 2, 3]
    assert {r.subject_name for r in rows} == set(_names(mine))
    assert all(r.unit_name == "Khu phố 1" and r.result.startswith("Đạt") for r in rows)
    # Nothing of the other district, nothing of the submitted dossier, no duplicates.
    assert services.annex_add(actor=cast.reviewer, decision=decision) == 0
    assert not DecisionItem.objects.filter(assessment__in=[*theirs, *pending]).exists()
    # The city sees both districts' approved items.
    city_draft = draft_decision(cast, issuing_unit=cast.city, actor=cast.admin, annex=False)
    assert services.annex_candidates(city_draft).count() == 5


def test_annex_filters_by_name_and_removes(cycle) -> None:
    cast = cycle.cast
    _dossier, items = approved_dossier(cast, cycle.points_set, 3)
    decision = draft_decision(cast, annex=False)
    target = _household(items[1])
    # Accent-free search, as the wards type it.
    folded = "nguyen van chu ho " + target.head_name.rsplit(" ", 1)[1]
    assert (
        services.annex_add(
            actor=cast.reviewer, decision=decision, filters={"q": target.code.lower()}
        )
        == 1
    )
    assert services.annex_add(actor=cast.reviewer, decision=decision, filters={"q": folded}) == 0
    assert list(decision.items.values_list("assessment_id", flat=True)) == [items[1].pk]
    assert services.annex_add(actor=cast.reviewer, decision=decision) == 2
    version = Decision.objects.get(pk=decision.pk).version
    removed = services.annex_remove(
        actor=cast.reviewer, decision=decision, assessment_ids=[items[0].public_id]
    )
    assert removed == 1
    decision.refresh_from_db()
    assert decision.item_count == 2 and decision.version == version + 1
    assert services.annex_remove(actor=cast.reviewer, decision=decision) == 2
    decision.refresh_from_db()
    assert decision.item_count == 0
    with pytest.raises(RoleNotAllowedError):
        services.annex_add(actor=cast.ward_official, decision=decision)


def test_malformed_ids_change_nothing_and_raise_no_500(cycle) -> None:
    """Ids come from forms and URLs: a malformed one is a domain answer (nothing
    added or removed), never a ValidationError that becomes a 500."""
    cast = cycle.cast
    approved_dossier(cast, cycle.points_set, 1)
    decision = draft_decision(cast)
    for filters in ({"unit": "nope"}, {"proposing_unit": "nope"}, {"dossier": "nope"}):
        assert services.annex_add(actor=cast.reviewer, decision=decision, filters=filters) == 0
    for call in (services.annex_add, services.annex_remove):
        try:
            changed = call(actor=cast.reviewer, decision=decision, assessment_ids=["nope"])
        except DecisionError:
            changed = 0
        assert changed == 0
    decision.refresh_from_db()
    assert decision.item_count == 1


# --- Issuing --------------------------------------------------------------------------


def test_issue_numbers_renders_and_recognises(cycle) -> None:
    cast = cycle.cast
    setup = ready_decision(cycle, 3)
    decision = setup.decision
    job = issue(decision, cast.reviewer)
    assert job.status == JobStatus.DONE, job.message
    assert job.progress == 100 and job.attempts == 1
    decision.refresh_from_db()
    assert decision.status == S.ISSUED
    assert (decision.number, decision.number_year) == (1, timezone.localdate().year)
    assert decision.reference == "01/QĐ-UBND"
    assert decision.issued_by == cast.reviewer and decision.issued_at is not None
    assert decision.item_count == 3
    # The job's file is the decision's own PDF.
    assert job.file.name == decision.pdf.name and job.file_name.endswith(".pdf")

    content = read_file(decision.pdf)
    assert content.startswith(b"%PDF")
    import hashlib

    assert decision.pdf_sha256 == hashlib.sha256(content).hexdigest()
    pages = pdf_pages(content)
    assert decision.page_count == len(pages)
    text = unicodedata.normalize("NFC", "\n".join(pages))
    assert "01/QĐ-UBND" in text
    assert decision.issued_on is not None
    assert vn_date(decision.issued_on) in text
    assert SIGNER_NAME in text
    assert "QUYẾT ĐỊNH" in text and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    names = _names(setup.items)
    flat = " ".join(text.split())  # a long name may wrap inside its cell
    for name in names:
        assert flat.count(name) == 1, name  # every annex row once, diacritics intact
    # Điều 1 counts the annex: the placeholder is replaced.
    assert services.COUNT_PLACEHOLDER not in text

    for item in setup.items:
        item.refresh_from_db()
        assert item.status == A.RECOGNISED
    events = AuditEvent.objects.filter(action="assessment.recognise")
    assert sorted(events.values_list("object_id", flat=True)) == sorted(
        str(a.public_id) for a in setup.items
    )
    assert all((e.after or {}).get("decision") == "01/QĐ-UBND" for e in events)
    assert AuditEvent.objects.filter(
        action="decision.issue", object_id=str(decision.public_id)
    ).exists()
    assert DecisionCounter.objects.get(issuing_unit=cast.district).last_number == 1


def test_numbers_per_issuer_and_year(cycle) -> None:
    cast = cycle.cast
    dossier, items = approved_dossier(cast, cycle.points_set, 4)
    today = timezone.localdate()
    last_year = dt.date(today.year - 1, 12, 30)
    new_year = dt.date(today.year, 1, 2)
    backdate_review(dossier, dt.date(today.year - 1, 12, 1))

    first = draft_decision(cast, assessments=items[:1], issued_on=last_year)
    second = draft_decision(cast, assessments=items[1:2], issued_on=new_year)
    third = draft_decision(cast, assessments=items[2:3], issued_on=today)
    city = draft_decision(
        cast, issuing_unit=cast.city, actor=cast.admin, assessments=items[3:], issued_on=today
    )
    for decision, actor in ((first, cast.reviewer), (second, cast.reviewer)):
        assert issue(decision, actor).status == JobStatus.DONE
    assert issue(third, cast.reviewer).status == JobStatus.DONE
    assert issue(city, cast.admin).status == JobStatus.DONE
    got = {
        d.pk: (d.number, d.number_year, d.reference)
        for d in Decision.objects.filter(pk__in=[first.pk, second.pk, third.pk, city.pk])
    }
    assert got[first.pk] == (1, today.year - 1, "01/QĐ-UBND")
    assert got[second.pk] == (1, today.year, "01/QĐ-UBND")
    assert got[third.pk] == (2, today.year, "02/QĐ-UBND")
    assert got[city.pk] == (1, today.year, "01/QĐ-UBND")  # another issuer, its own sequence
    assert dict(
        DecisionCounter.objects.filter(issuing_unit=cast.district).values_list(
            "year", "last_number"
        )
    ) == {today.year - 1: 1, today.year: 2}


def _refused(decision: Decision, actor: Any, expected: str) -> None:
    """Starting the issue is refused with ``expected`` in the message; nothing changed."""
    before = _snapshot(decision)
    jobs = Job.objects.count()
    with pytest.raises(DecisionError) as info:
        services.decision_issue_start(actor=actor, decision=decision)
    assert expected in str(info.value)
    assert expected in " ".join(services.issue_problems(decision))
    assert _snapshot(decision) == before
    assert Job.objects.count() == jobs


def test_issue_refusals_leave_everything_as_it_was(cycle) -> None:
    cast = cycle.cast
    today = timezone.localdate()
    _dossier, items = approved_dossier(cast, cycle.points_set, 2)

    empty = draft_decision(cast, annex=False)
    _refused(empty, cast.reviewer, _("The annex is empty"))

    unsigned = draft_decision(cast, assessments=items[:1], signer_name="")
    _refused(unsigned, cast.reviewer, _("Enter the signer's position and full name."))

    early = draft_decision(cast, assessments=items[:1], issued_on=today - dt.timedelta(days=1))
    _refused(early, cast.reviewer, _("a decision cannot recognise items before they were approved"))

    future = draft_decision(cast, assessments=items[:1], issued_on=today + dt.timedelta(days=1))
    _refused(future, cast.reviewer, _("The date of the decision cannot be in the future."))

    undated = draft_decision(cast, assessments=items[:1])
    services.decision_update(
        actor=cast.reviewer,
        decision=undated,
        expected_version=Decision.objects.get(pk=undated.pk).version,
        data={"issued_on": None},
    )
    _refused(undated, cast.reviewer, _("Enter the date of the decision."))

    # The same item in two drafts: the first issued recognises it, the second is refused.
    first = draft_decision(cast, assessments=items)
    second = draft_decision(cast, assessments=items[1:])
    assert issue(first, cast.reviewer).status == JobStatus.DONE
    taken = ngettext(
        "%(count)d item of the annex is no longer approved (already recognised "
        "by another decision, or reopened); remove it.",
        "%(count)d items of the annex are no longer approved (already recognised "
        "by another decision, or reopened); remove them.",
        1,
    ) % {"count": 1}
    _refused(second, cast.reviewer, taken)
    assert services.issue_problems(second) == [taken]

    # Only the issuer's reviewers issue.
    ok = draft_decision(cast, issuing_unit=cast.city, actor=cast.admin, annex=False)
    with pytest.raises(RoleNotAllowedError):
        services.decision_issue_start(actor=cast.reviewer, decision=ok)


def test_issued_decision_never_changes(cycle) -> None:
    cast = cycle.cast
    setup = issued_decision(cycle, 1)
    decision = setup.decision
    before = _snapshot(decision)
    with pytest.raises(DecisionError):
        services.decision_update(
            actor=cast.reviewer,
            decision=decision,
            expected_version=decision.version,
            data={"summary": "Sửa sau khi ban hành"},
        )
    with pytest.raises(DecisionError):
        services.annex_remove(actor=cast.reviewer, decision=decision)
    with pytest.raises(DecisionError):
        services.annex_add(actor=cast.reviewer, decision=decision)
    with pytest.raises(DecisionError):
        services.decision_issue_start(actor=cast.reviewer, decision=decision)
    assert _snapshot(decision) == before
    assert decision.summary != "Sửa sau khi ban hành"


def test_a_draft_is_locked_while_it_is_being_issued(cycle) -> None:
    cast = cycle.cast
    setup = ready_decision(cycle, 1)
    job = issue(setup.decision, cast.reviewer, run=False)
    assert job.status == JobStatus.PENDING
    with pytest.raises(DecisionError):
        services.decision_update(
            actor=cast.reviewer,
            decision=setup.decision,
            expected_version=Decision.objects.get(pk=setup.decision.pk).version,
            data={"summary": "Đổi"},
        )
    with pytest.raises(DecisionError):
        services.decision_issue_start(actor=cast.reviewer, decision=setup.decision)
    assert run(job).status == JobStatus.DONE


def _storage_down(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.files.storage import default_storage

    def refuse(*args: Any, **kwargs: Any) -> str:
        raise OSError("No space left on device")

    default_storage.exists("probe")  # instantiate the lazy storage
    monkeypatch.setattr(type(default_storage._wrapped), "save", refuse)  # type: ignore[attr-defined]


def test_storage_failure_fails_the_job_and_a_retry_works(cycle, monkeypatch) -> None:
    cast = cycle.cast
    setup = ready_decision(cycle, 2)
    decision = setup.decision
    before = _snapshot(decision)
    _storage_down(monkeypatch)
    job = issue(decision, cast.reviewer)
    assert job.status == JobStatus.FAILED
    assert "OSError" in job.message
    assert not job.file
    assert _snapshot(decision) == before  # still a draft, no number used, nothing recognised
    assert not DecisionCounter.objects.filter(last_number__gt=0).exists()
    assert all(
        s == A.APPROVED
        for s in Assessment.objects.filter(pk__in=[a.pk for a in setup.items]).values_list(
            "status", flat=True
        )
    )

    monkeypatch.undo()
    job = job_retry(actor=cast.reviewer, job=job)
    assert job.status == JobStatus.PENDING
    job = run(job)
    assert job.status == JobStatus.DONE, job.message
    assert job.attempts == 2
    decision.refresh_from_db()
    assert decision.status == S.ISSUED and decision.number == 1  # gap-free
    assert set(
        Assessment.objects.filter(pk__in=[a.pk for a in setup.items]).values_list(
            "status", flat=True
        )
    ) == {A.RECOGNISED}
    with pytest.raises(JobError):
        job_retry(actor=cast.reviewer, job=job)  # only a failed job is retried


def test_a_draft_changed_after_the_issue_started_is_not_issued(cycle, monkeypatch) -> None:
    cast = cycle.cast
    setup = ready_decision(cycle, 1)
    decision = setup.decision
    job = issue(decision, cast.reviewer, run=False)
    # Changed behind the job's back (the services refuse while the job is pending).
    Decision.objects.filter(pk=decision.pk).update(summary="Về việc khác", version=F("version") + 1)
    job = run(job)
    assert job.status == JobStatus.FAILED
    assert job.message == _(
        "The draft was changed while it was being issued. Check it and issue it again."
    )
    decision.refresh_from_db()
    assert decision.status == S.DRAFT and decision.number is None and not decision.pdf
    assert not DecisionCounter.objects.filter(last_number__gt=0).exists()
    setup.items[0].refresh_from_db()
    assert setup.items[0].status == A.APPROVED


def test_retrying_an_old_job_after_the_draft_was_edited_is_refused(cycle, monkeypatch) -> None:
    """A failed job is retried after the draft was edited: the job issues the
    version it was started for, or nothing."""
    cast = cycle.cast
    setup = ready_decision(cycle, 1)
    decision = setup.decision
    _storage_down(monkeypatch)
    job = issue(decision, cast.reviewer)
    assert job.status == JobStatus.FAILED
    monkeypatch.undo()
    services.decision_update(
        actor=cast.reviewer,
        decision=decision,
        expected_version=Decision.objects.get(pk=decision.pk).version,
        data={"summary": "Về việc công nhận (đã sửa)"},
    )
    job = run(job_retry(actor=cast.reviewer, job=job))
    assert job.status == JobStatus.FAILED
    assert job.message == _(
        "The draft was changed while it was being issued. Check it and issue it again."
    )
    decision.refresh_from_db()
    assert decision.status == S.DRAFT
    # A new issue of the edited draft works.
    assert issue(decision, cast.reviewer).status == JobStatus.DONE


# --- Revocation -----------------------------------------------------------------------


def test_revocation_revokes_and_unrecognises(cycle) -> None:
    cast = cycle.cast
    setup = issued_decision(cycle, 2)
    original = setup.decision
    services.certificates_ensure(original)
    token = Certificate.objects.filter(item__decision=original).values_list("token", flat=True)[0]
    found = certificate_for_token(token)
    assert found is not None and found.item.decision.status == S.ISSUED

    with pytest.raises(DecisionError):
        services.revocation_create(actor=cast.reviewer, decision=original, reason="  ")
    revoking = services.revocation_create(
        actor=cast.reviewer, decision=original, reason="Kê khai không trung thực"
    )
    assert revoking.status == S.DRAFT and revoking.revokes == original
    assert "01/QĐ-UBND" in revoking.summary
    assert "Kê khai không trung thực" in revoking.articles[0]
    assert revoking.items.count() == 0
    with pytest.raises(DecisionError):  # one revocation per decision
        services.revocation_create(actor=cast.reviewer, decision=original, reason="Lần hai")

    revoking = services.decision_update(
        actor=cast.reviewer,
        decision=revoking,
        expected_version=revoking.version,
        data={"issued_on": timezone.localdate()},
    )
    job = issue(revoking, cast.reviewer)
    assert job.status == JobStatus.DONE, job.message
    revoking.refresh_from_db()
    original.refresh_from_db()
    assert revoking.status == S.ISSUED and revoking.reference == "02/QĐ-UBND"
    assert original.status == S.REVOKED and original.revoked_by == revoking
    text = pdf_text(read_file(revoking.pdf))
    assert "01/QĐ-UBND" in unicodedata.normalize("NFC", text)
    for item in setup.items:
        item.refresh_from_db()
        assert item.status == A.APPROVED
    unrecognised = AuditEvent.objects.filter(action="assessment.unrecognise")
    assert sorted(unrecognised.values_list("object_id", flat=True)) == sorted(
        str(a.public_id) for a in setup.items
    )
    assert AuditEvent.objects.filter(
        action="decision.revoke", object_id=str(original.public_id)
    ).exists()
    found = certificate_for_token(token)
    assert found is not None and found.item.decision.status == S.REVOKED
    assert certificate_for_token("x" * 43) is None

    with pytest.raises(DecisionError):
        services.revocation_create(actor=cast.reviewer, decision=original, reason="Lần ba")
    with pytest.raises(DecisionError):  # a draft cannot be revoked
        services.revocation_create(
            actor=cast.reviewer, decision=draft_decision(cast, annex=False), reason="Sai"
        )
    # The items may be recognised again by a corrected decision.
    corrected = draft_decision(cast, assessments=setup.items)
    assert issue(corrected, cast.reviewer).status == JobStatus.DONE


# --- Certificates ---------------------------------------------------------------------


def test_certificates_one_page_each(cycle) -> None:
    cast = cycle.cast
    setup = ready_decision(cycle, 3)
    with pytest.raises(DecisionError):  # drafts have none
        services.certificates_start(actor=cast.reviewer, decision=setup.decision)
    assert issue(setup.decision, cast.reviewer).status == JobStatus.DONE
    setup.decision.refresh_from_db()
    with pytest.raises(RoleNotAllowedError):
        services.certificates_start(actor=cast.ward_official, decision=setup.decision)
    job = run(services.certificates_start(actor=cast.reviewer, decision=setup.decision))
    assert job.status == JobStatus.DONE, job.message
    assert job.kind == "decision.certificates" and job.file_name.endswith(".pdf")
    pages = pdf_pages(read_file(job.file))
    assert len(pages) == 3
    text = unicodedata.normalize("NFC", "\n".join(pages))
    for name in _names(setup.items):
        assert name in text
    tokens = list(
        Certificate.objects.filter(item__decision=setup.decision).values_list("token", flat=True)
    )
    assert len(tokens) == 3 and len(set(tokens)) == 3
    assert all(len(t) >= 40 for t in tokens)
    # Running again reuses the tokens (idempotent).
    again = run(services.certificates_start(actor=cast.reviewer, decision=setup.decision))
    assert again.status == JobStatus.DONE
    assert sorted(
        Certificate.objects.filter(item__decision=setup.decision).values_list("token", flat=True)
    ) == sorted(tokens)


def test_preview_renders_a_draft_without_numbering(cycle) -> None:
    cast = cycle.cast
    setup = ready_decision(cycle, 2)
    job = run(services.decision_preview_start(actor=cast.reviewer, decision=setup.decision))
    assert job.status == JobStatus.DONE, job.message
    text = unicodedata.normalize("NFC", pdf_text(read_file(job.file)))
    assert "DỰ THẢO" in text.upper()
    assert "01/QĐ-UBND" not in text
    setup.decision.refresh_from_db()
    assert setup.decision.status == S.DRAFT and setup.decision.number is None
    assert not DecisionCounter.objects.exists()
