"""The registration screen: counts, filters, single register/withdraw, bulk, lock, roles."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditEvent
from recognition.models import Household, Registration, RegistrationStatus
from recognition.services import registration as services
from recognition.titles import Title
from tests.conftest import Cast, client_for
from tests.factories import make_unit
from tests.recognition.test_subjects_helpers import (
    YEAR,
    citizen,
    household,
    lock_registration,
    state,
)

URL = "/recognition/registrations/"


def _screen(user: Any, **params: Any) -> Any:
    return client_for(user).get(reverse("recognition:registration-list"), params)


def _households(cast: Cast, unit: Any, n: int, prefix: str) -> list[Household]:
    return Household.objects.bulk_create(
        Household(
            tenant=cast.tenant,
            unit=unit,
            code=f"{prefix}-{i:05d}",
            head_name=f"Chủ hộ {i}",
            member_count=2,
            search_text=f"{prefix.lower()}-{i:05d} chu ho {i}",
        )
        for i in range(n)
    )


def _post(user: Any, name: str, data: dict[str, Any], *args: Any) -> Any:
    return client_for(user).post(reverse(f"recognition:{name}", args=args), data)


def test_the_screen_counts_registered_and_not(cast: Cast) -> None:
    hs = _households(cast, cast.neighbourhood, 7, "A")
    _households(cast, cast.other_neighbourhood, 3, "B")
    services.registration_create(actor=None, title=Title.FAMILY, year=YEAR, subject=hs[0])
    services.registration_create(actor=None, title=Title.FAMILY, year=YEAR, subject=hs[1])
    response = _screen(cast.ward_official, title=Title.FAMILY, year=YEAR)
    assert response.status_code == 200
    counts = response.context["counts"]
    assert (counts.total, counts.registered, counts.not_registered) == (7, 2, 5)
    content = response.content.decode()
    assert 'data-testid="count-registered">2<' in content
    assert "A-00003" in content and "B-00000" not in content
    assert reverse("recognition:registration-bulk") in content
    not_yet = _screen(cast.ward_official, title=Title.FAMILY, year=YEAR, state="not_registered")
    assert len(not_yet.context["table"].rows) == 5
    by_code = _screen(cast.ward_official, title=Title.FAMILY, year=YEAR, q="a-00006")
    assert [r.record.code for r in by_code.context["table"].paginated_rows] == ["A-00006"]


def test_the_screen_defaults_and_bad_input(cast: Cast) -> None:
    response = _screen(cast.ward_official)
    assert response.status_code == 200
    assert response.context["form"].cleaned_data["title"] == Title.FAMILY
    bad_year = _screen(cast.ward_official, title=Title.FAMILY, year=1990)
    assert bad_year.status_code == 200 and bad_year.context["table"] is None
    assert "Chỉ đăng ký được cho các năm" in bad_year.content.decode()
    bad_unit = _screen(cast.ward_official, title=Title.FAMILY, year=YEAR, unit=cast.other_ward.code)
    assert bad_unit.context["table"] is None
    assert _screen(cast.ward_official, title="nobel", year=YEAR).context["table"] is None


def test_the_screen_is_fast_for_a_big_ward(cast: Cast) -> None:
    """No query per row: the same number of queries for 60 or 1,500 households."""
    _households(cast, cast.neighbourhood, 60, "A")
    client = client_for(cast.ward_official)
    url = reverse("recognition:registration-list")
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url, {"title": Title.FAMILY, "year": YEAR})
    _households(cast, cast.neighbourhood, 1440, "B")
    with CaptureQueriesContext(connection) as large:
        response = client.get(url, {"title": Title.FAMILY, "year": YEAR, "page": 4})
    assert response.context["counts"].total == 1500
    assert len(large) == len(small)


def test_register_one_and_withdraw(cast: Cast) -> None:
    h = household(cast)
    back = f"{URL}?title=gia_dinh&year={YEAR}"
    response = _post(
        cast.ward_official,
        "registration-create",
        {"title": Title.FAMILY, "year": YEAR, "subject": str(h.public_id), "next": back},
    )
    assert response.status_code == 302 and response["Location"] == back
    r = Registration.objects.get(household=h)
    assert r.status == RegistrationStatus.REGISTERED and r.proposing_unit == cast.ward
    again = client_for(cast.ward_official).post(
        reverse("recognition:registration-create"),
        {"title": Title.FAMILY, "year": YEAR, "subject": str(h.public_id)},
        follow=True,
    )
    assert "đã đăng ký danh hiệu" in again.content.decode()
    assert Registration.objects.count() == 1
    w = _post(cast.ward_official, "registration-withdraw", {"next": back}, r.public_id)
    assert w.status_code == 302
    assert Registration.objects.get(pk=r.pk).status == RegistrationStatus.WITHDRAWN
    # An external "next" is not followed.
    evil = _post(
        cast.ward_official,
        "registration-create",
        {
            "title": Title.FAMILY,
            "year": YEAR,
            "subject": str(h.public_id),
            "next": "https://evil.example/",
        },
    )
    assert evil["Location"] == reverse("recognition:registration-list")


def test_register_a_community(cast: Cast) -> None:
    response = _screen(cast.ward_official, title=Title.COMMUNITY, year=YEAR, level="neighbourhood")
    assert [r.record for r in response.context["table"].paginated_rows] == [cast.neighbourhood]
    _post(
        cast.ward_official,
        "registration-create",
        {"title": Title.COMMUNITY, "year": YEAR, "subject": str(cast.ward.public_id)},
    )
    r = Registration.objects.get(subject_unit=cast.ward)
    assert r.proposing_unit == cast.ward


def test_single_register_refuses_what_the_user_may_not_touch(cast: Cast) -> None:
    theirs = household(cast, cast.other_neighbourhood, code="T-1")
    mine = household(cast, code="M-1")
    c = citizen(cast)
    data = {"title": Title.FAMILY, "year": YEAR}
    before = state()
    assert (
        _post(cast.ward_official, "registration-create", {**data, "subject": str(theirs.public_id)})
    ).status_code == 404
    for user in (cast.reviewer, cast.viewer):
        response = _post(user, "registration-create", {**data, "subject": str(mine.public_id)})
        assert response.status_code == 403
    # A citizen's id given for the family title is not a household: 404.
    assert (
        _post(cast.ward_official, "registration-create", {**data, "subject": str(c.public_id)})
    ).status_code == 404
    assert state() == before


def test_bulk_registers_every_matching_subject(cast: Cast) -> None:
    kp2 = make_unit(cast.tenant, cast.ward, "khu_pho", "Khu phố 2", "27184-KP02")
    first = _households(cast, cast.neighbourhood, 30, "A")
    _households(cast, kp2, 12, "B")
    services.registration_create(actor=None, title=Title.FAMILY, year=YEAR, subject=first[0])
    events = AuditEvent.objects.count()
    response = client_for(cast.ward_official).post(
        reverse("recognition:registration-bulk"),
        {"title": Title.FAMILY, "year": YEAR, "unit": "27184-KP01", "q": "", "mode": "all"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Đã đăng ký 29 đối tượng." in response.content.decode()
    assert Registration.objects.filter(title=Title.FAMILY, year=YEAR).count() == 30
    assert not Registration.objects.filter(household__unit=kp2).exists()
    assert AuditEvent.objects.count() == events + 1
    # The whole ward (no unit filter) now: only the 12 of KP02 are new.
    client_for(cast.ward_official).post(
        reverse("recognition:registration-bulk"),
        {"title": Title.FAMILY, "year": YEAR, "mode": "all"},
    )
    assert Registration.objects.filter(title=Title.FAMILY, year=YEAR).count() == 42


def test_bulk_selected(cast: Cast) -> None:
    hs = _households(cast, cast.neighbourhood, 5, "A")
    response = _post(
        cast.ward_official,
        "registration-bulk",
        {
            "title": Title.FAMILY,
            "year": YEAR,
            "mode": "selected",
            "selected": [str(hs[1].public_id), str(hs[3].public_id)],
        },
    )
    assert response.status_code == 302
    assert set(Registration.objects.values_list("household", flat=True)) == {hs[1].pk, hs[3].pk}
    nothing = client_for(cast.ward_official).post(
        reverse("recognition:registration-bulk"),
        {"title": Title.FAMILY, "year": YEAR, "mode": "selected"},
        follow=True,
    )
    assert "Hãy đánh dấu ít nhất một đối tượng" in nothing.content.decode()
    theirs = household(cast, cast.other_neighbourhood, code="T-1")
    before = state()
    _post(
        cast.ward_official,
        "registration-bulk",
        {
            "title": Title.FAMILY,
            "year": YEAR,
            "mode": "selected",
            "selected": [str(theirs.public_id)],
        },
    )
    assert state() == before  # another ward's household is simply not among the candidates


def test_bulk_refused_for_read_only_roles_and_after_the_deadline(cast: Cast) -> None:
    _households(cast, cast.neighbourhood, 5, "A")
    body = {"title": Title.FAMILY, "year": YEAR, "unit": cast.neighbourhood.code, "mode": "all"}
    before = state()
    for user in (cast.reviewer, cast.viewer):
        assert _post(user, "registration-bulk", body).status_code == 403
    assert (
        _post(cast.ward_official, "registration-bulk", {**body, "unit": cast.other_ward.code})
    ).status_code == 302
    assert state() == before
    lock_registration(cast.ward, Title.FAMILY)
    response = client_for(cast.ward_official).post(
        reverse("recognition:registration-bulk"), body, follow=True
    )
    assert "Đã quá hạn: biểu mẫu này đã bị khóa." in response.content.decode()
    assert state() == before
    screen = _screen(cast.ward_official, title=Title.FAMILY, year=YEAR)
    content = screen.content.decode()
    assert 'data-testid="deadline-passed"' in content
    assert 'data-testid="register-all"' not in content


def test_read_only_users_see_the_screen_without_actions(cast: Cast) -> None:
    h = household(cast)
    services.registration_create(actor=None, title=Title.FAMILY, year=YEAR, subject=h)
    for user in (cast.reviewer, cast.viewer):
        response = _screen(user, title=Title.FAMILY, year=YEAR)
        assert response.status_code == 200
        content = response.content.decode()
        assert h.code in content
        assert 'data-testid="register-all"' not in content
        assert "registration-withdraw" not in content and "/withdraw/" not in content
    r = Registration.objects.get()
    before = state()
    for user in (cast.reviewer, cast.viewer):
        assert _post(user, "registration-withdraw", {}, r.public_id).status_code == 403
    assert state() == before


def test_citizen_registration_rows_show_the_masked_id_only(cast: Cast) -> None:
    citizen(cast, national_id="079123456789")
    for user in (cast.ward_official, cast.reviewer):
        content = _screen(user, title=Title.CITIZEN, year=YEAR).content.decode()
        assert "*********789" in content and "079123456789" not in content
