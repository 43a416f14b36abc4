"""Criteria set pages: reading for everyone, editing for the root administrator."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from core.models import AuditEvent
from recognition.models import CriteriaSet, Criterion, Indicator, SetStatus
from recognition.services import criteria as services
from recognition.shipped import load_shipped_criteria
from tests.conftest import Cast

BANNER = (
    "Bản dự thảo — một phần văn bản chính thức chưa được tìm thấy; "
    "quản trị cần bổ sung trước khi ban hành"
)


def _url(name: str, obj: Any = None) -> str:
    return reverse(f"recognition:{name}", args=[obj.public_id] if obj is not None else [])


def _set(cast: Cast, tenant: Any = None, code: str = "GDHT-HCM", **extra: Any) -> CriteriaSet:
    return services.criteria_set_import(
        tenant=tenant if tenant is not None else cast.tenant,
        data={
            "code": code,
            "title": "gia_dinh",
            "name": f"Bộ tiêu chí {code}",
            "legal_basis": "Quyết định số 448/QĐ-KHVN ngày 01/12/2015",
            "year_from": 2020,
            "method": "points",
            "max_total": 20,
            "pass_thresholds": {"normal": 15, "disadvantaged": 12},
            "min_indicator_points": 5,
            "criteria": [
                {
                    "code": "TC1",
                    "name": "Học tập của trẻ em",
                    "indicators": [
                        {"code": "1.1", "text": "Trẻ em đến trường", "max_points": 10},
                        {"code": "1.2", "text": "Kết quả học tập", "max_points": 10},
                    ],
                }
            ],
            **extra,
        },
    )


def _set_form(**extra: Any) -> dict[str, Any]:
    return {
        "code": "CDHT-HCM",
        "title": "cong_dan",
        "scope_level": "",
        "name": "Tiêu chí Công dân học tập của Thành phố",
        "legal_basis": "Quyết định số 244/QĐ-KHVN ngày 28/7/2022",
        "year_from": "2025",
        "method": "points",
        "max_total": "100",
        "threshold_normal": "80",
        "threshold_disadvantaged": "70",
        "min_indicator_points": "5",
        "grade_bands": "",
        "levels": "",
        **extra,
    }


# --- Reading --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_list_shows_shipped_and_own_sets_only(cast: Cast, login: Any) -> None:
    load_shipped_criteria()
    own = _set(cast)
    other = _set(cast, tenant=cast.other_tenant, code="KHAC")
    response = login(cast.ward_official).get(_url("criteria-list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert own.name in body and other.name not in body
    assert "QĐ 244/QĐ-KHVN" in body and "TT25-CDHT-XA" in body
    assert "Bộ tiêu chí" in body  # the navigation entry
    assert _url("criteria-create") not in body  # no editing for a ward official
    assert _url("criteria-create") in login(cast.admin).get(_url("criteria-list")).content.decode()


@pytest.mark.django_db
def test_list_filters(cast: Cast, login: Any) -> None:
    load_shipped_criteria()
    client = login(cast.viewer)

    def names(**query: str) -> set[str]:
        response = client.get(_url("criteria-list"), query)
        assert response.status_code == 200
        return set(response.context["sets"].values_list("code", flat=True))

    assert names(title="cong_dong") == {"TT25-CDHT-XA"}
    assert names(q="gia dinh") == {"QD448-GDHT"}
    assert names(year="2018") == {"QD448-GDHT"}
    assert names(status="published") == set()
    assert names(title="nonsense", status="nonsense", year="x") == names()


@pytest.mark.django_db
def test_shipped_draft_shows_the_banner_and_its_sources(cast: Cast, login: Any) -> None:
    load_shipped_criteria()
    shipped = CriteriaSet.objects.get(tenant__isnull=True, code="TT25-CDHT-XA")
    response = login(cast.ward_official).get(_url("criteria-detail", shipped))
    assert response.status_code == 200
    body = response.content.decode()
    assert BANNER in body
    assert "Thông tư số 25/2023/TT-BGDĐT" in body
    assert "RULES.md §2" in body
    assert "Mức độ 2" in body
    assert "Chưa có bộ tiêu chí nào được ban hành" in body
    assert _url("criteria-edit", shipped) not in body
    admin = login(cast.admin).get(_url("criteria-detail", shipped)).content.decode()
    assert _url("criteria-clone", shipped) in admin
    assert _url("criteria-edit", shipped) not in admin  # shipped: clone, never edit


@pytest.mark.django_db
def test_other_tenants_set_and_malformed_ids_are_404(cast: Cast, login: Any) -> None:
    other = _set(cast, tenant=cast.other_tenant, code="KHAC")
    indicator = Indicator.objects.filter(criterion__criteria_set=other).first()
    client = login(cast.admin)
    for url in (
        _url("criteria-detail", other),
        _url("criteria-edit", other),
        _url("criteria-indicator-edit", indicator),
        "/recognition/criteria/not-a-uuid/",
        f"/recognition/criteria/{other.pk}/",
    ):
        assert client.get(url).status_code == 404, url


@pytest.mark.django_db
def test_detail_says_which_version_assessments_use(cast: Cast, login: Any) -> None:
    v1 = _set(cast, status="published")
    assert v1.status == SetStatus.PUBLISHED
    body = login(cast.ward_official).get(_url("criteria-detail", v1)).content.decode()
    assert "được chấm theo bộ tiêu chí này" in body
    v2 = services.criteria_set_new_version(actor=cast.admin, criteria_set=v1)
    body = login(cast.admin).get(_url("criteria-detail", v2)).content.decode()
    assert "theo một bộ tiêu chí khác" in body and _url("criteria-detail", v1) in body
    assert "Bản dự thảo — chưa ban hành" in body


# --- Writing -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_read_only_and_non_admin_users_get_403(cast: Cast, login: Any) -> None:
    cs = _set(cast)
    before = AuditEvent.objects.count()
    for user in (cast.viewer, cast.ward_official, cast.reviewer):
        client = login(user)
        assert client.get(_url("criteria-create")).status_code == 403
        assert client.post(_url("criteria-create"), _set_form()).status_code == 403
        assert client.get(_url("criteria-edit", cs)).status_code == 403
        assert client.post(_url("criteria-publish", cs), {"version": 1}).status_code == 403
        assert (
            client.post(_url("criteria-clone", cs), {"code": "X", "name": "X"}).status_code == 403
        )
    assert AuditEvent.objects.count() == before
    assert CriteriaSet.objects.count() == 1


@pytest.mark.django_db
def test_admin_creates_a_set(cast: Cast, login: Any) -> None:
    client = login(cast.admin)
    assert client.get(_url("criteria-create")).status_code == 200
    response = client.post(
        _url("criteria-create"), _set_form(grade_bands="Tốt: 85\nKhá = 70,5", levels="")
    )
    assert response.status_code == 302
    cs = CriteriaSet.objects.get(code="CDHT-HCM")
    assert response["Location"] == _url("criteria-detail", cs)
    assert cs.tenant == cast.tenant and cs.status == SetStatus.DRAFT
    assert cs.pass_thresholds == {"normal": 80, "disadvantaged": 70}
    assert cs.grade_bands == [
        {"code": "tot", "label": "Tốt", "min": 85},
        {"code": "kha", "label": "Khá", "min": 70.5},
    ]
    again = client.post(_url("criteria-create"), _set_form())
    assert again.status_code == 200
    assert "đã được dùng" in again.content.decode()
    bad = client.post(_url("criteria-create"), _set_form(code="X2", grade_bands="Tốt tám lăm"))
    assert bad.status_code == 200 and "Dòng 1" in bad.content.decode()
    assert CriteriaSet.objects.count() == 1


@pytest.mark.django_db
def test_admin_clones_a_shipped_set(cast: Cast, login: Any) -> None:
    load_shipped_criteria()
    shipped = CriteriaSet.objects.get(tenant__isnull=True, code="QD244-CDHT")
    client = login(cast.admin)
    page = client.get(_url("criteria-clone", shipped))
    assert page.status_code == 200 and 'value="QD244-CDHT"' in page.content.decode()
    response = client.post(
        _url("criteria-clone", shipped), {"code": "QD244-CDHT", "name": "CDHT Thành phố"}
    )
    copy = CriteriaSet.objects.get(tenant=cast.tenant)
    assert response["Location"] == _url("criteria-detail", copy)
    assert copy.name == "CDHT Thành phố" and copy.needs_completion
    assert Indicator.objects.filter(criterion__criteria_set=copy).count() == 10
    second = client.get(_url("criteria-clone", shipped)).content.decode()
    assert 'value="QD244-CDHT-2"' in second
    detail = client.get(_url("criteria-detail", copy)).content.decode()
    assert BANNER in detail and _url("criteria-edit", copy) in detail


@pytest.mark.django_db
def test_admin_edits_the_set_and_a_stale_form_is_refused(cast: Cast, login: Any) -> None:
    cs = _set(cast)
    client = login(cast.admin)
    page = client.get(_url("criteria-edit", cs))
    assert page.status_code == 200 and "code" not in page.context["form"].fields
    form = _set_form(name="Tên mới", version=cs.edit_version)
    form.pop("code")
    assert client.post(_url("criteria-edit", cs), form).status_code == 302
    cs.refresh_from_db()
    assert cs.name == "Tên mới" and cs.title == "cong_dan"
    stale = client.post(_url("criteria-edit", cs), {**form, "name": "Cũ"})
    assert stale.status_code == 200
    assert "Người khác đã sửa bản ghi này" in stale.content.decode()
    cs.refresh_from_db()
    assert cs.name == "Tên mới"


@pytest.mark.django_db
def test_admin_edits_criteria_and_indicators(cast: Cast, login: Any) -> None:
    cs = _set(cast)
    client = login(cast.admin)
    assert client.get(_url("criteria-criterion-edit", cs)).status_code == 200
    response = client.post(
        _url("criteria-criterion-edit", cs),
        {"code": "TC2", "name": "Học tập của người lớn", "version": cs.edit_version},
    )
    assert response.status_code == 302
    cs.refresh_from_db()
    edit = client.get(_url("criteria-criterion-edit", cs) + "?n=2")
    assert edit.status_code == 200 and "Học tập của người lớn" in edit.content.decode()
    assert client.get(_url("criteria-criterion-edit", cs) + "?n=9").status_code == 404
    assert client.get(_url("criteria-indicator-add", cs) + "?criterion=2").status_code == 200
    response = client.post(
        _url("criteria-indicator-add", cs),
        {
            "criterion": 2,
            "code": "2.1",
            "text": "Người lớn biết chữ",
            "max_points": "7,5",
            "version": cs.edit_version,
        },
    )
    assert response.status_code == 302
    added = Indicator.objects.get(criterion__criteria_set=cs, code="2.1")
    assert str(added.max_points) == "7.50" and added.criterion.code == "TC2"
    cs.refresh_from_db()
    client.post(
        _url("criteria-criterion-move", cs),
        {"n": 2, "direction": "up", "version": cs.edit_version},
    )
    assert list(cs.criteria.order_by("order").values_list("code", flat=True)) == ["TC2", "TC1"]
    cs.refresh_from_db()
    response = client.post(
        _url("criteria-indicator-edit", added),
        {"code": "2.1", "text": "Đổi", "max_points": "10", "version": cs.edit_version},
    )
    assert response.status_code == 302
    added.refresh_from_db()
    assert added.text == "Đổi"
    cs.refresh_from_db()
    other = Indicator.objects.get(criterion__criteria_set=cs, code="1.2")
    client.post(
        _url("criteria-indicator-move", other), {"direction": "up", "version": cs.edit_version}
    )
    assert other.criterion.indicators.order_by("order").first() == other
    cs.refresh_from_db()
    client.post(_url("criteria-indicator-remove", other), {"version": cs.edit_version})
    assert not Indicator.objects.filter(pk=other.pk).exists()
    cs.refresh_from_db()
    client.post(_url("criteria-criterion-remove", cs), {"n": 1, "version": cs.edit_version})
    assert list(cs.criteria.values_list("code", flat=True)) == ["TC1"]
    stale = client.post(_url("criteria-criterion-remove", cs), {"n": 1, "version": 1}, follow=True)
    assert "Người khác đã sửa bản ghi này" in stale.content.decode()
    assert Criterion.objects.filter(criteria_set=cs).count() == 1


@pytest.mark.django_db
def test_levels_indicator_form_asks_a_requirement_per_level(cast: Cast, login: Any) -> None:
    load_shipped_criteria()
    shipped = CriteriaSet.objects.get(tenant__isnull=True, code="TT25-CDHT-XA")
    copy = services.criteria_set_clone(
        actor=cast.admin, source=shipped, tenant=cast.tenant, code="TT25-HCM"
    )
    placeholder = Indicator.objects.get(criterion__criteria_set=copy, code="3.?")
    client = login(cast.admin)
    page = client.get(_url("criteria-indicator-edit", placeholder))
    fields = page.context["form"].fields
    assert "requirement_1" in fields and "requirement_2" in fields
    assert "max_points" not in fields
    response = client.post(
        _url("criteria-indicator-edit", placeholder),
        {
            "code": "3.1",
            "text": "Trung tâm học tập cộng đồng hoạt động hiệu quả",
            "requirement_1": "Xếp loại Khá",
            "requirement_2": "Xếp loại Tốt",
            "version": copy.edit_version,
        },
    )
    assert response.status_code == 302
    placeholder.refresh_from_db()
    assert placeholder.requirements == {"1": "Xếp loại Khá", "2": "Xếp loại Tốt"}
    assert placeholder.needs_completion is False


@pytest.mark.django_db
def test_publish_page_lists_problems_then_publishes(cast: Cast, login: Any) -> None:
    cs = _set(cast, needs_completion=True)
    client = login(cast.admin)
    page = client.get(_url("criteria-publish", cs))
    assert page.status_code == 200
    body = page.content.decode()
    assert "chưa thể ban hành" in body.lower()
    refused = client.post(_url("criteria-publish", cs), {"version": cs.edit_version})
    assert refused.status_code == 200 and refused.context["problems"]
    cs.refresh_from_db()
    assert cs.status == SetStatus.DRAFT
    services.criteria_set_update(
        actor=cast.admin,
        criteria_set=cs,
        expected_version=cs.edit_version,
        fields={"needs_completion": False},
    )
    cs.refresh_from_db()
    assert client.get(_url("criteria-publish", cs)).context["problems"] == []
    done = client.post(_url("criteria-publish", cs), {"version": cs.edit_version})
    assert done.status_code == 302
    cs.refresh_from_db()
    assert cs.status == SetStatus.PUBLISHED
    # A published set sends its editing pages back to its page with a message.
    back = client.get(_url("criteria-edit", cs), follow=True)
    assert back.redirect_chain[-1][0] == _url("criteria-detail", cs)
    assert "phiên bản mới" in back.content.decode()


@pytest.mark.django_db
def test_new_version_and_retire_pages(cast: Cast, login: Any) -> None:
    cs = _set(cast, status="published")
    client = login(cast.admin)
    assert client.get(_url("criteria-new-version", cs)).status_code == 200
    response = client.post(_url("criteria-new-version", cs), {"version": cs.edit_version})
    draft = CriteriaSet.objects.get(code=cs.code, version=2)
    assert response["Location"] == _url("criteria-detail", draft)
    again = client.post(_url("criteria-new-version", cs), {"version": cs.edit_version})
    assert again.status_code == 200 and "phiên bản 2" in again.content.decode()
    assert client.get(_url("criteria-retire", cs)).status_code == 200
    assert client.post(_url("criteria-retire", cs), {"version": cs.edit_version}).status_code == 302
    cs.refresh_from_db()
    assert cs.status == SetStatus.RETIRED


# --- Scoring preview ----------------------------------------------------------------------


def _preview_data(cs: CriteriaSet, values: list[str], area: str = "normal") -> dict[str, str]:
    indicators = Indicator.objects.filter(criterion__criteria_set=cs).order_by(
        "criterion__order", "order"
    )
    data = {f"i_{i.public_id.hex}": v for i, v in zip(indicators, values, strict=True)}
    return {**data, "area_class": area}


@pytest.mark.django_db
def test_preview_computes_the_result_with_htmx_for_everyone(cast: Cast, login: Any) -> None:
    cs = _set(cast)
    client = login(cast.viewer)
    before = AuditEvent.objects.count()
    url = _url("criteria-preview", cs)
    passes = client.post(url, _preview_data(cs, ["8", "7"]), headers={"HX-Request": "true"})
    assert passes.status_code == 200
    assert "<html" not in passes.content.decode()
    assert passes.context["result"].passed is True
    fails = client.post(url, _preview_data(cs, ["10", "4"]), headers={"HX-Request": "true"})
    assert fails.context["result"].passed is False
    assert "Dưới mức tối thiểu" in fails.content.decode()
    area = client.post(
        url, _preview_data(cs, ["7", "6"], "disadvantaged"), headers={"HX-Request": "true"}
    )
    assert area.context["result"].passed is True
    missing = client.post(url, _preview_data(cs, ["10", ""]), headers={"HX-Request": "true"})
    assert missing.context["result"].missing == ("1.2",)
    too_high = client.post(url, _preview_data(cs, ["11", "5"]), headers={"HX-Request": "true"})
    assert too_high.context["result"] is None
    assert "1.1" in too_high.content.decode()
    page = client.post(url, _preview_data(cs, ["8", "7"]))
    assert page.status_code == 200 and "<html" in page.content.decode()
    assert client.get(url).status_code == 405
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_preview_of_a_levels_set(cast: Cast, login: Any) -> None:
    from tests.recognition.conftest import make_levels_set

    cs = make_levels_set(tenant=cast.tenant)
    client = login(cast.ward_official)
    url = _url("criteria-preview", cs)
    cases = {("1", "2"): 2, ("1", "1"): 1, ("0", "2"): 0}
    for values, level in cases.items():
        response = client.post(url, _preview_data(cs, list(values)), headers={"HX-Request": "1"})
        assert response.context["result"].level == level
    reached = client.post(url, _preview_data(cs, ["1", "2"]), headers={"HX-Request": "1"})
    assert "Mức độ 2" in reached.content.decode()
