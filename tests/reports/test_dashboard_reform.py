"""The steering dashboard across an administrative reorganisation (issue 9 §3):
"as the units were then" (the stored tree) and "mapped onto today's units", with
hand-computed figures before and after a merge, the trend continuous through
2025, a split flagged, and the cache keyed by the view.

Quận Một: Phường Bến Nghé (its households in Khu phố 1) and Phường Đa Kao (its
households directly in the ward) merge into Phường Sài Gòn from 01/07/2025.

====================  ===========  ========  ==========
year                  ward         reg.      recognised
====================  ===========  ========  ==========
2024                  Bến Nghé     3         2
2024                  Đa Kao       2         1
2025 (before plan)    Bến Nghé     1         1
2025 (before plan)    Đa Kao       2         1
2026                  Sài Gòn      2         1
====================  ===========  ========  ==========

Five households in all (the eligible base of Sài Gòn today).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Q
from django.urls import reverse

from recognition.models import AssessmentStatus, Household, Registration
from recognition.titles import SubjectKind, Title
from reports import views
from reports.dashboard import (
    MODE_MAPPED,
    MODE_THEN,
    Figures,
    dashboard_for_unit,
    figures_fingerprint,
)
from reports.services import rollups_rebuild
from tests.conftest import Cast, client_for
from tests.factories import make_unit
from tests.recognition.conftest import make_household, make_points_set
from tests.recognition.dossier_factories import make_assessment
from units.models import AdministrativeUnit
from units.reorganisation import services as reorg

pytestmark = pytest.mark.django_db

EFFECTIVE = dt.date(2025, 7, 1)
TODAY = dt.date(2026, 6, 1)
URL = reverse("reports:dashboard")
RECOGNISED = AssessmentStatus.RECOGNISED


def _register(
    household: Household, ward: AdministrativeUnit, year: int, points_set: Any, recognised: bool
) -> Registration:
    household.refresh_from_db()
    registration = Registration.objects.create(
        tenant=household.tenant,
        unit_id=household.unit_id,
        proposing_unit=ward,
        title=Title.FAMILY,
        year=year,
        subject_kind=SubjectKind.HOUSEHOLD,
        household=household,
    )
    if recognised:
        make_assessment(registration, points_set, status=RECOGNISED)
    return registration


def _merge(cast: Cast, sources: list[AdministrativeUnit]) -> AdministrativeUnit:
    plan = reorg.reorganisation_create(
        actor=cast.admin,
        name="Sáp nhập phường",
        effective_on=EFFECTIVE,
        legal_basis="Nghị quyết thử",
    )
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="merge",
        sources=sources,
        targets=[{"code": "27184", "name": "Phường Sài Gòn", "kind": "phuong"}],
    )
    plan.refresh_from_db()
    reorg.reorganisation_apply(actor=cast.admin, plan=plan, expected_version=plan.version)
    return AdministrativeUnit.objects.get(
        succession_in__predecessor=sources[0], valid_to__isnull=True
    )


@pytest.fixture
def reform(cast: Cast) -> dict[str, Any]:
    points_set = make_points_set()
    ben_nghe = cast.ward
    da_kao = make_unit(cast.tenant, cast.district, "phuong", "Phường Đa Kao", "27190")
    a = [make_household(cast, unit=cast.neighbourhood) for _ in range(3)]
    b = [make_household(cast, unit=da_kao) for _ in range(2)]
    for household, recognised in zip(a, (True, True, False), strict=True):
        _register(household, ben_nghe, 2024, points_set, recognised)
    for household, recognised in zip(b, (True, False), strict=True):
        _register(household, da_kao, 2024, points_set, recognised)
    _register(a[0], ben_nghe, 2025, points_set, True)
    _register(b[0], da_kao, 2025, points_set, False)
    _register(b[1], da_kao, 2025, points_set, True)
    # The 2025 registration without an assessment is open: it moves with the plan.
    rollups_rebuild(tenant=cast.tenant)
    before = {
        "district": dashboard_for_unit(
            unit=cast.district, title=Title.FAMILY, year=2025, today=TODAY, mode=MODE_MAPPED
        )
    }
    sai_gon = _merge(cast, [ben_nghe, da_kao])
    _register(a[0], sai_gon, 2026, points_set, True)
    _register(b[0], sai_gon, 2026, points_set, False)
    rollups_rebuild(tenant=cast.tenant)
    ben_nghe.refresh_from_db()
    da_kao.refresh_from_db()
    return {
        "ben_nghe": ben_nghe,
        "da_kao": da_kao,
        "sai_gon": sai_gon,
        "before": before,
        "points_set": points_set,
    }


def _fig(figures: Figures) -> tuple[int, int, int]:
    return (figures.registered, figures.recognised, figures.eligible_base)


def _board(unit: AdministrativeUnit, year: int, mode: str) -> Any:
    return dashboard_for_unit(unit=unit, title=Title.FAMILY, year=year, today=TODAY, mode=mode)


def test_before_the_merge_both_views_agree(cast: Cast, reform: dict[str, Any]) -> None:
    board = reform["before"]["district"]
    # Nothing was closed yet: the mapped view is the stored tree.
    by_name = {r.unit.name: _fig(r.figures) for r in board.children}
    assert by_name == {"Phường Bến Nghé": (1, 1, 3), "Phường Đa Kao": (2, 1, 2)}
    assert _fig(board.figures) == (3, 2, 5)


def test_then_view_keeps_the_old_wards(cast: Cast, reform: dict[str, Any]) -> None:
    board = _board(cast.district, 2024, MODE_THEN)
    by_name = {r.unit.name: _fig(r.figures) for r in board.children}
    # Old wards keep their 2024 figures and the base they had when they closed
    # (their households moved to Sài Gòn since): the 2024 rates stay readable.
    # Sài Gòn did not exist in 2024 and is not listed.
    assert by_name == {"Phường Bến Nghé": (3, 2, 3), "Phường Đa Kao": (2, 1, 2)}
    rates = {r.unit.name: r.figures.rate for r in board.children}
    assert rates == {"Phường Bến Nghé": Decimal("66.7"), "Phường Đa Kao": 50}
    assert _fig(board.figures) == (5, 3, 5)
    # Rebuilding the rollups again keeps the bases kept at closing.
    rollups_rebuild(tenant=cast.tenant)
    again = _board(cast.district, 2024, MODE_THEN)
    assert {r.unit.name: _fig(r.figures) for r in again.children} == by_name
    # The reform year lists the old wards (in force until 30/06) and the new one.
    names_2025 = {r.unit.name for r in _board(cast.district, 2025, MODE_THEN).children}
    assert names_2025 == {"Phường Bến Nghé", "Phường Đa Kao", "Phường Sài Gòn"}
    # The new ward, as it was then, has no history before 2026.
    sai_gon = _board(reform["sai_gon"], 2026, MODE_THEN)
    assert [(p.year, _fig(p.figures)) for p in sai_gon.trend if p.year >= 2024] == [
        (2024, (0, 0, 0)),
        (2025, (1, 0, 5)),  # the open 2025 registration moved to it
        (2026, (2, 1, 5)),
    ]


def test_mapped_view_puts_the_old_wards_under_todays(cast: Cast, reform: dict[str, Any]) -> None:
    board = _board(cast.district, 2024, MODE_MAPPED)
    # Today's children only: the merged ward carries both old wards.
    assert [(r.unit.name, _fig(r.figures)) for r in board.children] == [
        ("Phường Sài Gòn", (5, 3, 5))
    ]
    assert board.children[0].figures.rate == 60
    assert not board.any_shared
    # The district was not reformed: its own figures are the same in both views.
    assert _fig(board.figures) == (5, 3, 5)
    assert _fig(board.children_total) == _fig(board.figures)


def test_mapped_trend_is_continuous_through_2025(cast: Cast, reform: dict[str, Any]) -> None:
    board = _board(reform["sai_gon"], 2026, MODE_MAPPED)
    # 2025: Bến Nghé 1/1, Đa Kao 1/1 and the open registration that moved to
    # Sài Gòn 1/0: each counted once, where it is registered now.
    assert [(p.year, _fig(p.figures)) for p in board.trend if p.year >= 2024] == [
        (2024, (5, 3, 5)),
        (2025, (3, 2, 5)),
        (2026, (2, 1, 5)),
    ]
    assert [p.figures.rate for p in board.trend if p.year >= 2024] == [60, 40, 20]
    # The neighbourhood copy carries the old Khu phố 1.
    kp = {
        r.unit.name: _fig(r.figures) for r in _board(reform["sai_gon"], 2024, MODE_MAPPED).children
    }
    assert kp == {"Khu phố 1": (3, 2, 3)}


def test_a_split_is_shown_once_and_flagged(cast: Cast, reform: dict[str, Any]) -> None:
    other = make_unit(cast.tenant, cast.city, "quan", "Quận Hai Mươi", "790")
    ward = make_unit(cast.tenant, other, "phuong", "Phường Gốc", "27990")
    household = make_household(cast, unit=ward)
    _register(household, ward, 2024, reform["points_set"], True)
    rollups_rebuild(tenant=cast.tenant)
    plan = reorg.reorganisation_create(
        actor=cast.admin, name="Chia phường", effective_on=EFFECTIVE, legal_basis="Thử"
    )
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="split",
        sources=[ward],
        targets=[
            {"code": "27991", "name": "Phường Bắc", "kind": "phuong", "default": True},
            {"code": "27992", "name": "Phường Nam", "kind": "phuong"},
        ],
    )
    plan.refresh_from_db()
    reorg.reorganisation_apply(actor=cast.admin, plan=plan, expected_version=plan.version)
    board = _board(other, 2024, MODE_MAPPED)
    rows = {r.unit.name: (_fig(r.figures), r.shared) for r in board.children}
    # The default successor takes the split ward's figures once, flagged. Neither
    # new ward has a rollup row of its own yet: their bases are counted live
    # (the household went to the default successor).
    assert rows == {"Phường Bắc": ((1, 1, 1), True), "Phường Nam": ((0, 0, 0), False)}
    assert board.any_shared
    assert _fig(board.figures) == (1, 1, 1)


def test_the_page_switches_views_and_caches_each(
    cast: Cast, reform: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    renders: list[str] = []
    original = views.dashboard_for_unit

    def counting(**kwargs: Any) -> Any:
        renders.append(kwargs["mode"])
        return original(**kwargs)

    monkeypatch.setattr(views, "dashboard_for_unit", counting)
    client = client_for(cast.admin)
    query = {"unit": cast.district.public_id, "year": 2024, "title": Title.FAMILY}
    then = client.get(URL, query).content.decode()
    mapped = client.get(URL, {**query, "view": MODE_MAPPED}).content.decode()
    assert "Phường Bến Nghé" in then and 'data-testid="dashboard-mapped-note"' not in then
    assert "Phường Bến Nghé" not in mapped and 'data-testid="dashboard-mapped-note"' in mapped
    # Served from the cache the second time, each view under its own key.
    again = client.get(URL, {**query, "view": MODE_MAPPED}).content.decode()
    assert 'data-testid="dashboard-mapped-note"' in again
    assert "Phường Bến Nghé" in client.get(URL, query).content.decode()
    assert renders == [MODE_THEN, MODE_MAPPED]
    # Drill-down links and exports keep the view.
    assert "view=mapped" in mapped


def test_cache_key_and_fingerprint_differ_by_view(cast: Cast, reform: dict[str, Any]) -> None:
    common = {"unit": cast.district, "title": Title.FAMILY, "year": 2024, "scope_level": ""}
    prints = {
        mode: figures_fingerprint(**common, mode=mode, today=TODAY)
        for mode in (MODE_THEN, MODE_MAPPED)
    }
    assert prints[MODE_THEN] != prints[MODE_MAPPED]
    keys = {
        views.figures_cache_key(**common, fingerprint="f", mode=mode)
        for mode in (MODE_THEN, MODE_MAPPED)
    }
    assert len(keys) == 2
    # A later change to a closed ward's rollups moves the mapped fingerprint.
    from reports.models import Rollup

    Rollup.objects.filter(unit=reform["ben_nghe"], year=2024).update(recognised=0)
    assert figures_fingerprint(**common, mode=MODE_MAPPED, today=TODAY) != prints[MODE_MAPPED]


def test_demo_reform_gives_a_continuous_mapped_trend() -> None:
    """The demo's history sits in the old wards of the three districts; mapped onto
    today's units, each new ward's trend runs 2023 → 2025 without a break."""
    from recognition.demo.history import seed_history_demo
    from units.demo.reform import MERGES, apply_reform
    from units.demo.seed import seed_base

    tenant = seed_base()["hcm"]
    seed_history_demo(tenant)
    rollups_rebuild(tenant=tenant)  # as seed_demo does before the plan
    apply_reform(tenant)
    city = AdministrativeUnit.objects.get(tenant=tenant, code="79")
    # As the units were then, 2024 at the city: the three districts, each with the
    # base it had when it closed (its households have moved to the new wards).
    then_2024 = dashboard_for_unit(unit=city, title=Title.FAMILY, year=2024, today=TODAY)
    districts = {r.unit.name: r.figures for r in then_2024.children}
    assert set(districts) == {"Quận 10", "Quận 11", "Quận Phú Nhuận"}
    for name, figures in districts.items():
        assert figures.eligible_base == figures.registered > 0, name
        assert figures.rate is not None, name
    for code, name, sources in MERGES:
        ward = AdministrativeUnit.objects.get(tenant=tenant, code=code, valid_to__isnull=True)
        assert ward.name == name and ward.parent_id == city.pk
        size = (
            Household.objects.filter(tenant=tenant)
            .filter(Q(unit=ward) | Q(unit__parent=ward))
            .count()
        )
        assert size > 0
        mapped = dashboard_for_unit(
            unit=ward, title=Title.FAMILY, year=2026, today=TODAY, mode=MODE_MAPPED
        )
        trend = {p.year: p.figures for p in mapped.trend}
        # Phường 5 (Quận 10, into Vườn Lài) has its 2025 through the decision demo.
        years = (2023, 2024) if "27199" in sources else (2023, 2024, 2025)
        for year in years:
            assert trend[year].registered == size, (name, year)
            assert 0 < trend[year].recognised < size
        then = dashboard_for_unit(unit=ward, title=Title.FAMILY, year=2026, today=TODAY)
        assert [p.figures.registered for p in then.trend][1:4] == [0, 0, 0]
    # The old wards keep their history under their district, as they were then.
    district = AdministrativeUnit.objects.get(tenant=tenant, code="768")
    old = dashboard_for_unit(unit=district, title=Title.FAMILY, year=2024, today=TODAY)
    closed = [r for r in old.children if r.unit.valid_to is not None]
    assert len(closed) == 13
    assert all(r.figures.registered == 12 for r in closed)
    # And the city, as it was in 2024, shows its three districts.
    then = dashboard_for_unit(unit=city, title=Title.FAMILY, year=2024, today=TODAY)
    districts = {r.unit.name: r.figures.registered for r in then.children if r.figures.registered}
    assert districts == {"Quận 10": 79 * 24, "Quận 11": 16 * 12, "Quận Phú Nhuận": 13 * 12}
