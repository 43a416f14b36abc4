"""Nomination screens: propose (the nominee kind switches the fields; an
out-of-scope nominee is refused and nothing saved), the list scoped to the
user's subtree with filters, the detail with timeline and review actions (a
ward cannot approve: 403), and the award decision drafted from the list."""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import escape

from campaigns.models import AwardForm, Nomination, NominationStatus, NomineeKind
from campaigns.services import nominations as services
from recognition.models import Decision, DecisionKind

N = NominationStatus
YEAR = 2025


def _propose(cast, unit=None, actor=None, name: str = "Trần Thị Bích") -> Nomination:
    return services.nomination_create(
        actor=actor or cast.admin,
        nominating_unit=unit or cast.ward,
        year=YEAR,
        nominee_kind=NomineeKind.PERSON,
        award_form=AwardForm.DISTRICT_COMMENDATION,
        achievements="Tổ chức 12 buổi đọc sách",
        person_name=name,
    )


def _detail(nomination: Nomination) -> str:
    return reverse("campaigns:nomination-detail", args=[nomination.public_id])


def _form(cast, **changes) -> dict[str, str]:
    data = {
        "nominating_unit": str(cast.ward.public_id),
        "year": str(YEAR),
        "nominee_kind": NomineeKind.UNIT,
        "award_form": AwardForm.COMMUNE_COMMENDATION,
        "nominee_unit": str(cast.neighbourhood.public_id),
        "achievements": "Khu phố đạt 90% gia đình học tập",
    }
    data.update(changes)
    return data


def test_propose_a_unit_and_the_kind_switches_the_fields(cast, login) -> None:
    client = login(cast.ward_official)
    page = client.get(reverse("campaigns:nomination-create"))
    assert page.status_code == 200
    assert [f.name for f in page.context["form"].kind_fields()] == [
        "person_name",
        "person_position",
    ]
    switched = client.get(reverse("campaigns:nomination-create") + "?nominee_kind=household")
    assert [f.name for f in switched.context["form"].kind_fields()] == ["household_code"]
    response = client.post(reverse("campaigns:nomination-create"), _form(cast))
    nomination = Nomination.objects.get()
    assert response.status_code == 302 and response["Location"] == _detail(nomination)
    assert nomination.nominee_unit == cast.neighbourhood and nomination.reviewing_unit == cast.ward


def test_an_out_of_scope_nominee_is_refused_and_nothing_saved(cast, login) -> None:
    client = login(cast.reviewer)
    response = client.post(
        reverse("campaigns:nomination-create"),
        _form(
            cast,
            nominating_unit=str(cast.ward.public_id),
            nominee_unit=str(cast.district.public_id),
            award_form=AwardForm.DISTRICT_COMMENDATION,
        ),
    )
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert not Nomination.objects.exists()
    # A unit the user cannot even see is not a choice at all.
    outside = client.post(
        reverse("campaigns:nomination-create"),
        _form(cast, nominee_unit=str(cast.other_ward.public_id)),
    )
    assert outside.status_code == 400 and not Nomination.objects.exists()


def test_list_is_scoped_and_filters(cast, login) -> None:
    mine = _propose(cast)
    other = _propose(cast, unit=cast.other_ward, name="Lê Văn Cường")
    page = login(cast.ward_official).get(reverse("campaigns:nomination-list"))
    assert [n.pk for n in page.context["page"]] == [mine.pk]
    reviewer = login(cast.reviewer)
    assert [n.pk for n in reviewer.get(reverse("campaigns:nomination-list")).context["page"]] == [
        mine.pk
    ]
    admin = login(cast.admin)
    both = admin.get(reverse("campaigns:nomination-list"))
    assert {n.pk for n in both.context["page"]} == {mine.pk, other.pk}
    services.nomination_review(actor=cast.admin, nomination=other)
    filtered = admin.get(reverse("campaigns:nomination-list") + "?status=reviewed&year=2025")
    assert [n.pk for n in filtered.context["page"]] == [other.pk]
    assert login(cast.other_tenant_official).get(_detail(mine)).status_code == 404


def test_review_actions_and_roles(cast, login) -> None:
    nomination = _propose(cast, actor=cast.ward_official)
    ward = login(cast.ward_official)
    page = ward.get(_detail(nomination))
    assert page.status_code == 200 and not page.context["can_review"]
    assert (
        ward.post(reverse("campaigns:nomination-review", args=[nomination.public_id])).status_code
        == 403
    )
    assert (
        login(cast.viewer)
        .post(reverse("campaigns:nomination-review", args=[nomination.public_id]))
        .status_code
        == 403
    )
    reviewer = login(cast.reviewer)
    assert reviewer.get(_detail(nomination)).context["can_review"]
    reviewer.post(reverse("campaigns:nomination-review", args=[nomination.public_id]), {"note": ""})
    nomination.refresh_from_db()
    assert nomination.status == N.REVIEWED
    assert (
        ward.post(reverse("campaigns:nomination-approve", args=[nomination.public_id])).status_code
        == 403
    )
    reviewer.post(reverse("campaigns:nomination-reject", args=[nomination.public_id]), {"note": ""})
    nomination.refresh_from_db()
    assert nomination.status == N.REVIEWED  # a reason is needed
    reviewer.post(
        reverse("campaigns:nomination-approve", args=[nomination.public_id]), {"note": "Đồng ý"}
    )
    nomination.refresh_from_db()
    assert nomination.status == N.APPROVED
    timeline = reviewer.get(_detail(nomination)).context["timeline"]
    assert [e.action for e in timeline] == ["create", "review", "approve"]


def test_award_decision_from_the_list_opens_the_editor(cast, login) -> None:
    nomination = _propose(cast)
    services.nomination_review(actor=cast.reviewer, nomination=nomination)
    services.nomination_approve(actor=cast.reviewer, nomination=nomination)
    client = login(cast.reviewer)
    page = client.get(reverse("campaigns:nomination-list"))
    groups = page.context["award_groups"]
    assert [(g["unit_id"], g["year"], g["count"]) for g in groups] == [
        (cast.district.public_id, YEAR, 1)
    ]
    assert 'name="year" value="2025"' in page.content.decode()
    assert (
        login(cast.ward_official).get(reverse("campaigns:nomination-list")).context["award_groups"]
        == []
    )
    response = client.post(
        reverse("campaigns:nomination-award-decision"),
        {"unit": str(cast.district.public_id), "year": str(YEAR)},
    )
    decision = Decision.objects.get()
    assert decision.kind == DecisionKind.AWARD and decision.item_count == 1
    assert response["Location"] == reverse("recognition:decision-detail", args=[decision.public_id])
    editor = client.get(response["Location"])
    assert editor.status_code == 200
    assert "Trần Thị Bích" in editor.content.decode()
    refused = login(cast.ward_official).post(
        reverse("campaigns:nomination-award-decision"),
        {"unit": str(cast.ward.public_id), "year": str(YEAR)},
    )
    assert refused.status_code == 403


def test_the_decision_editor_lists_approved_nominations_as_candidates(cast, login) -> None:
    nomination = _propose(cast)
    services.nomination_review(actor=cast.reviewer, nomination=nomination)
    services.nomination_approve(actor=cast.reviewer, nomination=nomination)
    decision = services.award_decision_start(
        actor=cast.reviewer, reviewing_unit=cast.district, year=YEAR
    )
    client = login(cast.reviewer)
    editor = reverse("recognition:decision-detail", args=[decision.public_id])
    removed = client.post(
        reverse("recognition:decision-annex-remove", args=[decision.public_id]),
        {"item": str(nomination.public_id)},
    )
    assert removed.status_code == 302
    decision.refresh_from_db()
    assert decision.item_count == 0
    page = client.get(editor)
    candidates = page.context["candidate_table"]
    assert [row.record.pk for row in candidates.rows] == [nomination.pk]
    html = page.content.decode()
    assert "Trần Thị Bích" in html and escape(str(nomination.get_award_form_display())) in html
    client.post(
        reverse("recognition:decision-annex-add", args=[decision.public_id]),
        {"items": [str(nomination.public_id)]},
    )
    decision.refresh_from_db()
    assert decision.item_count == 1
    annex = client.get(editor).context["annex"]
    assert [row.record.nomination_id for row in annex.rows] == [nomination.pk]
