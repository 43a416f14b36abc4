"""The self-assessment screens: list, form with live result, save (with
conflicts and refused values), complete/reopen/copy, evidence, timeline."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from recognition.models import (
    Assessment,
    AssessmentStatus,
    Evidence,
    FormLock,
    IndicatorScore,
    Registration,
)
from recognition.services.evidence import evidence_upload
from recognition.titles import SubjectKind, Title
from tests.recognition.assessment_support import (
    EXE,
    PDF,
    PNG,
    ids_by_code,
    register_community,
    save,
    start,
    upload,
)
from tests.recognition.conftest import make_household, register_household

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def detail_url(a: Assessment) -> str:
    return reverse("recognition:assessment-detail", args=[a.public_id])


def url(name: str, obj) -> str:
    return reverse(f"recognition:{name}", args=[obj.public_id])


def saved(a: Assessment) -> dict[str, object]:
    return {
        s.indicator.code: s.self_points
        for s in IndicatorScore.objects.filter(assessment=a).select_related("indicator")
    }


def form_data(a: Assessment, by_code: dict[str, str], **extra) -> dict[str, str]:
    a.refresh_from_db()
    ids = ids_by_code(a)
    data = {"version": str(a.version), **extra}
    data.update({f"score_{ids[code]}": value for code, value in by_code.items()})
    return data


# --- list ---------------------------------------------------------------------------------


def test_list_shows_registrations_with_their_assessment_and_a_start_button(cycle, login):
    a = start(cycle.cast, cycle.registration)
    second = register_household(cycle.cast, make_household(cycle.cast, code="HH-THU-2"))
    response = login(cycle.cast.ward_official).get(reverse("recognition:assessment-list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert detail_url(a) in html
    assert url("assessment-start", second) in html
    assert "Bắt đầu đánh giá" in html
    # Another ward's household is not listed.
    assert cycle.other_household.code not in html


def test_list_filters_by_status_title_year_and_code(cycle, login):
    start(cycle.cast, cycle.registration)
    register_household(cycle.cast, make_household(cycle.cast, code="HH-CHUA-BAT-DAU"))
    client = login(cycle.cast.ward_official)
    base = reverse("recognition:assessment-list")
    html = client.get(base, {"status": "not_started"}).content.decode()
    assert "HH-CHUA-BAT-DAU" in html and cycle.household.code not in html
    html = client.get(base, {"status": "draft"}).content.decode()
    assert "HH-CHUA-BAT-DAU" not in html and cycle.household.code in html
    html = client.get(base, {"q": "hh-chua"}).content.decode()
    assert "HH-CHUA-BAT-DAU" in html and cycle.household.code not in html
    html = client.get(base, {"year": "2024"}).content.decode()
    assert cycle.household.code not in html
    html = client.get(base, {"title": Title.CITIZEN}).content.decode()
    assert cycle.household.code not in html
    # Unknown filter values are ignored, not errors.
    assert client.get(base, {"status": "x", "title": "y", "year": "abc"}).status_code == 200


def test_list_by_unit_outside_scope_is_404(cycle, login):
    client = login(cycle.cast.ward_official)
    base = reverse("recognition:assessment-list")
    assert client.get(base, {"unit": str(cycle.cast.other_ward.public_id)}).status_code == 404
    assert client.get(base, {"unit": "rác"}).status_code == 404
    assert client.get(base, {"unit": str(cycle.cast.ward.public_id)}).status_code == 200


def test_list_is_paginated_with_a_fixed_number_of_queries(
    cycle, login, django_assert_max_num_queries
):
    regs = []
    for n in range(120):
        regs.append(register_household(cycle.cast, make_household(cycle.cast, code=f"HH-P{n:03d}")))
    for reg in regs[:60]:
        start(cycle.cast, reg)
    client = login(cycle.cast.ward_official)
    client.get(reverse("recognition:assessment-list"))  # warm the session
    with django_assert_max_num_queries(14):
        response = client.get(reverse("recognition:assessment-list"), {"page": 2})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 121
    assert len(response.context["rows"]) == 50
    last = client.get(reverse("recognition:assessment-list"), {"page": 3})
    assert len(last.context["rows"]) == 21


# --- start ------------------------------------------------------------------------------------


def test_start_view_opens_the_form(cycle, login):
    response = login(cycle.cast.ward_official).post(url("assessment-start", cycle.registration))
    a = Assessment.objects.get(registration=cycle.registration)
    assert response.status_code == 302 and response["Location"] == detail_url(a)


def test_start_view_refusals(cycle, login):
    target = url("assessment-start", cycle.registration)
    assert login(cycle.cast.viewer).post(target).status_code == 403
    assert login(cycle.cast.reviewer).post(target).status_code == 403
    other = url("assessment-start", cycle.other_registration)
    assert login(cycle.cast.ward_official).post(other).status_code == 404
    assert login(cycle.cast.ward_official).get(target).status_code == 405
    assert not Assessment.objects.exists()


def test_start_without_a_set_says_why(cycle, login):
    Registration.objects.filter(pk=cycle.registration.pk).update(title=Title.CLAN)
    client = login(cycle.cast.ward_official)
    response = client.post(url("assessment-start", cycle.registration), follow=True)
    assert "Chưa có bộ tiêu chí" in response.content.decode()


# --- the form ----------------------------------------------------------------------------------


def test_the_form_has_live_inputs_the_period_and_evidence_uploads(cycle, login):
    a = start(cycle.cast, cycle.registration)
    response = login(cycle.cast.ward_official).get(detail_url(a))
    assert response.status_code == 200
    html = response.content.decode()
    preview = url("assessment-preview", a)
    assert f'hx-post="{preview}"' in html
    assert 'hx-trigger="input changed delay:300ms"' in html
    assert 'form="score-form"' in html
    assert "01/01/2025 – 31/12/2025" in html
    assert 'enctype="multipart/form-data"' in html
    assert "Bắt buộc có minh chứng" in html
    assert "<script>" not in html.split("<body", 1)[1]  # no inline JS


@pytest.mark.parametrize("who", ["viewer", "reviewer"])
def test_reviewers_and_the_steering_viewer_see_it_read_only(cycle, login, who):
    a = start(cycle.cast, cycle.registration)
    save(cycle.cast, a, {"1.1": "35,5"})
    response = login(getattr(cycle.cast, who)).get(detail_url(a))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="score_' not in html and 'type="file"' not in html
    assert "35,5" in html


def test_a_submitted_assessment_is_read_only_for_the_ward(cycle, login):
    a = start(cycle.cast, cycle.registration)
    Assessment.objects.filter(pk=a.pk).update(status=AssessmentStatus.SUBMITTED)
    client = login(cycle.cast.ward_official)
    html = client.get(detail_url(a)).content.decode()
    assert 'name="score_' not in html
    assert "chỉ xem" in html
    response = client.post(detail_url(a), form_data(a, {"1.1": "30"}), follow=True)
    assert "không thể sửa điểm" in response.content.decode()
    assert saved(a)["1.1"] is None


def test_save_valid_scores(cycle, login):
    a = start(cycle.cast, cycle.registration)
    client = login(cycle.cast.ward_official)
    response = client.post(detail_url(a), form_data(a, {"1.1": "40", "2.1": "30", "2.2": "10,5"}))
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.self_total == Decimal("80.50") and a.self_passed is True
    html = client.get(detail_url(a)).content.decode()
    assert "80,5" in html and "Đạt tiêu chí" in html


def test_a_value_out_of_range_is_refused_the_input_kept_and_nothing_saved(cycle, login):
    a = start(cycle.cast, cycle.registration)
    save(cycle.cast, a, {"1.1": 20, "2.2": 15})
    client = login(cycle.cast.ward_official)
    response = client.post(detail_url(a), form_data(a, {"1.1": "45", "2.2": "25"}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Chỉ số 1.1: 45 nằm ngoài khoảng 0–40 điểm." in html
    assert 'value="45"' in html and 'value="25"' in html  # the user's input is kept
    assert saved(a) == {"1.1": Decimal(20), "2.1": None, "2.2": Decimal(15)}


def test_a_stale_save_shows_the_conflict_and_keeps_the_input(cycle, login):
    a = start(cycle.cast, cycle.registration)
    stale = form_data(a, {"1.1": "11"})
    save(cycle.cast, a, {"1.1": 30})  # someone else saves first
    client = login(cycle.cast.ward_official)
    response = client.post(detail_url(a), stale)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Người khác" in html or "người khác" in html
    assert 'value="11"' in html
    assert "Giá trị đã lưu hiện nay:" in html and "30" in html
    assert saved(a)["1.1"] == Decimal(30)
    # The form now carries the current version: a deliberate second save lands.
    a.refresh_from_db()
    assert f'value="{a.version}"' in html


def test_save_and_complete_reports_what_is_missing(cycle, login):
    a = start(cycle.cast, cycle.registration)
    client = login(cycle.cast.ward_official)
    data = form_data(a, {"1.1": "40", "2.1": "30", "2.2": "20"}, action="complete")
    response = client.post(detail_url(a), data, follow=True)
    html = response.content.decode()
    assert "2.1" in html and "minh chứng" in html
    a.refresh_from_db()
    assert a.status == AssessmentStatus.DRAFT and a.self_total == Decimal(90)  # scores kept
    evidence_upload(
        actor=cycle.cast.ward_official,
        assessment=a,
        indicator_public_id=ids_by_code(a)["2.1"],
        file=upload("a.pdf", PDF),
    )
    response = client.post(detail_url(a), form_data(a, {"2.2": "25"}, action="complete"))
    a.refresh_from_db()
    assert a.status == AssessmentStatus.READY and a.self_total == Decimal(95)


def test_the_form_is_locked_after_the_deadline(cycle, login):
    a = start(cycle.cast, cycle.registration)
    FormLock.objects.create(
        tenant=cycle.cast.tenant,
        unit=cycle.cast.district,
        title="gia_dinh",
        year=2025,
        stage="assessment",
        locks_at=timezone.now() - dt.timedelta(minutes=1),
        label="31/10/2025",
    )
    client = login(cycle.cast.ward_official)
    html = client.get(detail_url(a)).content.decode()
    assert 'data-testid="deadline-lock"' in html and 'name="score_' not in html
    response = client.post(detail_url(a), form_data(a, {"1.1": "30"}), follow=True)
    assert "Đã quá hạn" in response.content.decode() or "hạn" in response.content.decode()
    assert saved(a)["1.1"] is None


# --- live preview ----------------------------------------------------------------------------------


def test_the_preview_computes_without_saving(cycle, login):
    a = start(cycle.cast, cycle.registration)
    save(cycle.cast, a, {"1.1": 10})
    events = AuditEvent.objects.count()
    client = login(cycle.cast.ward_official)
    response = client.post(
        url("assessment-preview", a),
        form_data(a, {"1.1": "40", "2.1": "30", "2.2": "10"}),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html  # a partial
    assert 'data-testid="result-total"' in html and "80" in html
    assert "Đạt tiêu chí" in html and "chưa lưu" in html
    assert saved(a)["1.1"] == Decimal(10)
    assert AuditEvent.objects.count() == events


def test_the_preview_reports_bad_values_and_counts_them_unscored(cycle, login):
    a = start(cycle.cast, cycle.registration)
    client = login(cycle.cast.ward_official)
    response = client.post(url("assessment-preview", a), form_data(a, {"1.1": "99", "2.1": "30"}))
    html = response.content.decode()
    assert "Chỉ số 1.1" in html and "1.1, 2.2" in html


def test_the_preview_of_levels_shows_the_level(cycle, login):
    a = start(cycle.cast, register_community(cycle.cast))
    ids = ids_by_code(a)
    client = login(cycle.cast.ward_official)
    response = client.post(
        url("assessment-preview", a),
        {"version": "1", f"score_{ids['1.1']}": "2", f"score_{ids['1.2']}": "1"},
    )
    assert "Mức độ 1" in response.content.decode()


def test_the_preview_is_for_those_who_enter_scores(cycle, login):
    a = start(cycle.cast, cycle.registration)
    assert login(cycle.cast.viewer).post(url("assessment-preview", a)).status_code == 403
    assert login(cycle.cast.reviewer).post(url("assessment-preview", a)).status_code == 403
    b = start(cycle.cast, cycle.other_registration, actor=cycle.cast.admin)
    assert login(cycle.cast.ward_official).post(url("assessment-preview", b)).status_code == 404


# --- complete / reopen / copy ------------------------------------------------------------------------


def test_complete_and_reopen_views(cycle, login):
    a = start(cycle.cast, cycle.registration)
    client = login(cycle.cast.ward_official)
    response = client.post(url("assessment-complete", a), {"version": a.version}, follow=True)
    assert "chưa chấm điểm: 1.1, 2.1, 2.2" in response.content.decode()
    save(cycle.cast, a, {"1.1": 40, "2.1": 30, "2.2": 20})
    evidence_upload(
        actor=cycle.cast.ward_official,
        assessment=a,
        indicator_public_id=ids_by_code(a)["2.1"],
        file=upload("a.pdf", PDF),
    )
    a.refresh_from_db()
    client.post(url("assessment-complete", a), {"version": a.version})
    a.refresh_from_db()
    assert a.status == AssessmentStatus.READY
    html = client.get(detail_url(a)).content.decode()
    assert url("assessment-reopen", a) in html and 'name="score_' not in html
    client.post(url("assessment-reopen", a), {"version": a.version})
    a.refresh_from_db()
    assert a.status == AssessmentStatus.DRAFT


def test_transition_views_refuse_the_reviewer_and_the_viewer(cycle, login):
    a = start(cycle.cast, cycle.registration)
    for name in ("assessment-complete", "assessment-reopen", "assessment-copy-previous"):
        assert login(cycle.cast.viewer).post(url(name, a)).status_code == 403
        assert login(cycle.cast.reviewer).post(url(name, a)).status_code == 403


def test_copy_previous_view(cycle, login):
    old = start(cycle.cast, register_household(cycle.cast, cycle.household, year=2024))
    save(cycle.cast, old, {"1.1": 35, "2.1": 25})
    a = start(cycle.cast, cycle.registration)
    client = login(cycle.cast.ward_official)
    html = client.get(detail_url(a)).content.decode()
    assert "Chép điểm từ năm 2024" in html
    response = client.post(url("assessment-copy-previous", a), {"version": a.version}, follow=True)
    assert "Đã chép 2 điểm từ năm 2024" in response.content.decode()
    assert saved(a) == {"1.1": Decimal(35), "2.1": Decimal(25), "2.2": None}


# --- evidence --------------------------------------------------------------------------------------------


def test_upload_without_htmx_redirects_to_the_indicator(cycle, login):
    a = start(cycle.cast, cycle.registration)
    ind = ids_by_code(a)["2.1"]
    response = login(cycle.cast.ward_official).post(
        url("assessment-evidence-upload", a),
        {"indicator": ind, "file": upload("Biên bản.pdf", PDF)},
    )
    assert response.status_code == 302
    assert response["Location"] == detail_url(a) + f"#ind-{ind}"
    assert Evidence.objects.get().original_name == "Biên bản.pdf"


def test_upload_with_htmx_returns_the_indicators_files(cycle, login):
    a = start(cycle.cast, cycle.registration)
    ind = ids_by_code(a)["2.1"]
    client = login(cycle.cast.ward_official)
    response = client.post(
        url("assessment-evidence-upload", a),
        {"indicator": ind, "file": upload("anh.png", PNG)},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200 and f'id="evidence-{ind}"' in html and "anh.png" in html
    fake = client.post(
        url("assessment-evidence-upload", a),
        {"indicator": ind, "file": upload("giay-khen.pdf", EXE)},
        headers={"HX-Request": "true"},
    )
    html = fake.content.decode()
    assert "không phải là tệp PDF" in html and "anh.png" in html
    assert Evidence.objects.count() == 1


def test_upload_without_a_file_says_so(cycle, login):
    a = start(cycle.cast, cycle.registration)
    response = login(cycle.cast.ward_official).post(
        url("assessment-evidence-upload", a), {"indicator": ids_by_code(a)["2.1"]}, follow=True
    )
    assert "Hãy chọn tệp" in response.content.decode()


def test_download_is_an_attachment_under_the_original_name(cycle, login):
    a = start(cycle.cast, cycle.registration)
    ev = evidence_upload(
        actor=cycle.cast.ward_official,
        assessment=a,
        indicator_public_id=ids_by_code(a)["2.1"],
        file=upload("Giấy khen 2025.pdf", PDF),
    )
    for who in ("ward_official", "viewer", "reviewer"):
        response = login(getattr(cycle.cast, who)).get(url("assessment-evidence-download", ev))
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment;")
        assert "Gi%E1%BA%A5y%20khen%202025.pdf" in response["Content-Disposition"]
        assert response["X-Content-Type-Options"] == "nosniff"
    other = login(cycle.cast.other_tenant_official)
    assert other.get(url("assessment-evidence-download", ev)).status_code == 404


def test_download_of_a_missing_file_is_404(cycle, login, media):
    a = start(cycle.cast, cycle.registration)
    ev = evidence_upload(
        actor=cycle.cast.ward_official,
        assessment=a,
        indicator_public_id=ids_by_code(a)["2.1"],
        file=upload("a.pdf", PDF),
    )
    (media / ev.file.name).unlink()
    assert (
        login(cycle.cast.ward_official).get(url("assessment-evidence-download", ev)).status_code
        == 404
    )


def test_delete_view(cycle, login, django_capture_on_commit_callbacks):
    a = start(cycle.cast, cycle.registration)
    ev = evidence_upload(
        actor=cycle.cast.ward_official,
        assessment=a,
        indicator_public_id=ids_by_code(a)["2.1"],
        file=upload("a.pdf", PDF),
    )
    assert login(cycle.cast.viewer).post(url("assessment-evidence-delete", ev)).status_code == 403
    client = login(cycle.cast.ward_official)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("assessment-evidence-delete", ev), headers={"HX-Request": "true"}
        )
    assert response.status_code == 200 and "Bắt buộc có minh chứng" in response.content.decode()
    assert not Evidence.objects.exists()


# --- timeline ---------------------------------------------------------------------------------------------


def test_timeline_lists_every_event_in_vietnamese_with_before_and_after(cycle, login):
    a = start(cycle.cast, cycle.registration)
    save(cycle.cast, a, {"1.1": 20})
    save(cycle.cast, a, {"1.1": "25,5"})
    response = login(cycle.cast.viewer).get(url("assessment-timeline", a))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Bắt đầu tự đánh giá" in html and "Lưu điểm" in html
    assert "Chỉ số 1.1:</span>" in html and "20 → 25,5" in html
    assert "— → 20" in html
    assert (
        timezone.localtime(AuditEvent.objects.earliest("created_at").created_at).strftime(
            "%d/%m/%Y %H:%M"
        )
        in html
    )
    assert cycle.cast.ward_official.display_name in html
    entries = response.context["entries"]
    assert [e.event.action for e in entries] == [
        "assessment.start",
        "assessment.scores",
        "assessment.scores",
    ]


def test_timeline_of_another_ward_is_404(cycle, login):
    b = start(cycle.cast, cycle.other_registration, actor=cycle.cast.admin)
    assert login(cycle.cast.ward_official).get(url("assessment-timeline", b)).status_code == 404


def test_a_citizen_subject_never_shows_the_id_number(cycle, login):
    from recognition.models import Citizen

    citizen = Citizen.objects.create(
        tenant=cycle.cast.tenant,
        unit=cycle.cast.neighbourhood,
        full_name="Lê Thị Học",
        birth_year=1980,
        labour_group="other",
        national_id="079180001234",
    )
    reg = Registration.objects.create(
        tenant=cycle.cast.tenant,
        unit=cycle.cast.neighbourhood,
        proposing_unit=cycle.cast.ward,
        title=Title.CITIZEN,
        year=2025,
        subject_kind=SubjectKind.CITIZEN,
        citizen=citizen,
    )
    html = login(cycle.cast.ward_official).get(reverse("recognition:assessment-list")).content
    assert "Lê Thị Học" in html.decode() and b"079180001234" not in html
    assert reg.pk


def test_writes_by_a_reviewer_are_403_and_by_another_ward_404(cycle, login):
    a = start(cycle.cast, cycle.registration)
    reviewer = login(cycle.cast.reviewer)
    assert reviewer.post(detail_url(a), form_data(a, {"1.1": "30"})).status_code == 403
    upload_url = url("assessment-evidence-upload", a)
    body = {"indicator": ids_by_code(a)["2.1"], "file": upload("a.pdf", PDF)}
    assert reviewer.post(upload_url, body).status_code == 403
    other = login(cycle.cast.other_tenant_official)
    for name in ("assessment-detail", "assessment-complete", "assessment-evidence-upload"):
        assert other.post(url(name, a), {"version": "1"}).status_code == 404
    assert saved(a)["1.1"] is None and not Evidence.objects.exists()
