"""The dashboard's cached figure fragment: a transition, a rebuild or a target
change shows on the next request; keys never mix units, titles, years, scope
levels or languages; the scope check runs before the cache is read."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation

from campaigns.models import TargetKind
from campaigns.services.plans import plan_create, target_save
from recognition.models import AssessmentStatus
from recognition.titles import Title
from recognition.transitions import ASSESSMENT_TRANSITIONS, apply_transition
from reports import views
from reports.services import rollups_rebuild
from tests.conftest import client_for
from tests.recognition.conftest import YEAR
from tests.recognition.conftest import cycle as cycle  # the fixture
from tests.recognition.dossier_factories import make_assessment
from units.levels import Level

pytestmark = pytest.mark.django_db

URL = reverse("reports:dashboard")


def _summary(page: str, name: str) -> str:
    match = re.search(rf'data-testid="summary-{name}">\s*(.*?)\s*</dd>', page, re.S)
    assert match, name
    return match.group(1)


def _figures(page: str) -> str:
    """The figure sections (the page around them has a fresh CSRF token each time)."""
    return page[page.index('data-testid="dashboard-summary"') : page.index('id="dashboard-charts"')]


def _child_row(page: str, unit_name: str) -> str:
    rows = re.findall(r'<tr data-testid="child-row".*?</tr>', page, re.S)
    [row] = [r for r in rows if unit_name in r]
    return row


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every unit whose figures were computed (a cache miss)."""
    calls: list[Any] = []
    original = views.dashboard_for_unit

    def counting(**kwargs: Any) -> Any:
        calls.append(kwargs["unit"])
        return original(**kwargs)

    monkeypatch.setattr(views, "dashboard_for_unit", counting)
    return calls


@pytest.fixture
def approved(cycle: Any) -> Any:
    """The cycle's household assessed and approved (not yet recognised), rollups built."""
    assessment = make_assessment(
        cycle.registration, cycle.points_set, status=AssessmentStatus.APPROVED
    )
    rollups_rebuild(tenant=cycle.cast.tenant)
    return assessment


def test_a_recognition_shows_on_the_next_request(
    cycle: Any, approved: Any, renders: list[Any]
) -> None:
    cast = cycle.cast
    client = client_for(cast.viewer)
    query = {"unit": cast.ward.public_id, "year": YEAR}
    page = client.get(URL, query).content.decode()
    assert _summary(page, "recognised") == "0"
    assert _figures(client.get(URL, query).content.decode()) == _figures(page)
    assert renders == [cast.ward]  # the second request was served from the cache

    apply_transition(
        obj=approved,
        transitions=ASSESSMENT_TRANSITIONS,
        action="recognise",
        actor=None,
        role_unit=cast.district,
    )
    page = client.get(URL, query).content.decode()
    assert renders == [cast.ward, cast.ward]
    assert _summary(page, "recognised") == "1"
    assert ">1</td>" in _child_row(page, cast.neighbourhood.name)

    # And back: "unrecognise" moves the figures again.
    approved.refresh_from_db()
    apply_transition(
        obj=approved,
        transitions=ASSESSMENT_TRANSITIONS,
        action="unrecognise",
        actor=None,
        role_unit=cast.district,
    )
    assert _summary(client.get(URL, query).content.decode(), "recognised") == "0"
    # The city's page (another key) shows the same figure, computed once.
    city = client.get(URL, {**query, "unit": cast.city.public_id}).content.decode()
    assert _summary(city, "recognised") == "0"


def test_a_rebuild_and_a_target_change_show_on_the_next_request(
    cycle: Any, approved: Any, renders: list[Any]
) -> None:
    cast = cycle.cast
    client = client_for(cast.viewer)
    query = {"unit": cast.ward.public_id, "year": YEAR}
    page = client.get(URL, query).content.decode()
    assert _summary(page, "target") == "—"
    plan = plan_create(
        actor=None, issuing_unit=cast.city, title="Kế hoạch", start_year=YEAR, end_year=YEAR
    )
    target_save(
        actor=None,
        plan=plan,
        unit=cast.city,
        title=Title.FAMILY,
        year=YEAR,
        kind=TargetKind.RATE,
        value=Decimal(70),
    )
    page = client.get(URL, query).content.decode()
    assert _summary(page, "target") == "70,0&nbsp;%"

    approved.status = AssessmentStatus.RECOGNISED
    approved.save(update_fields=["status"])  # behind the counters' back …
    assert _summary(client.get(URL, query).content.decode(), "recognised") == "0"
    rollups_rebuild(tenant=cast.tenant)  # … until the rollups are rebuilt
    assert _summary(client.get(URL, query).content.decode(), "recognised") == "1"
    assert len(renders) == 3


def test_keys_differ_by_unit_title_year_level_and_language(cycle: Any) -> None:
    cast = cycle.cast
    base = {
        "unit": cast.ward,
        "title": Title.FAMILY,
        "year": YEAR,
        "scope_level": "",
        "fingerprint": "f",
    }
    variants = [
        base,
        {**base, "unit": cast.other_ward},
        {**base, "title": Title.CLAN},
        {**base, "year": YEAR - 1},
        {**base, "title": Title.COMMUNITY, "scope_level": Level.COMMUNE},
        {**base, "title": Title.COMMUNITY, "scope_level": Level.NEIGHBOURHOOD},
        {**base, "fingerprint": "g"},
    ]
    with translation.override("vi"):
        keys = [views.figures_cache_key(**v) for v in variants]
    with translation.override("en"):
        keys.append(views.figures_cache_key(**base))
    assert len(set(keys)) == len(keys)


def test_the_scope_check_comes_before_the_cache(cycle: Any, approved: Any) -> None:
    cast = cycle.cast
    query = {"unit": cast.district.public_id, "year": YEAR}
    assert client_for(cast.viewer).get(URL, query).status_code == 200  # cached now
    assert client_for(cast.ward_official).get(URL, query).status_code == 404
    assert client_for(cast.other_tenant_official).get(URL, query).status_code == 404
    # The ward official's own page holds its ward's figures only.
    page = client_for(cast.ward_official).get(URL, {**query, "unit": cast.ward.public_id})
    assert page.status_code == 200
    assert page.context["unit"] == cast.ward
