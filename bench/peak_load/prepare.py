"""The deadline-peak tenant: a city of wards at the start of the year's family cycle.

Called by ``run.py`` inside a configured Django process. Three steps:

1. :func:`ensure_tenant` (once, reused while the tenant has enough wards): the
   synthetic city ``bench-peak`` of the two-tier tree of 2026 (the district level
   ended on 30/06/2025, RULES.md §7.2/§8), ``wards`` wards under the city, each
   with 2 khu phố and 3 households per khu phố; one ward official per ward,
   ``reviewers`` reviewers and ``viewers`` steering viewers at the city; the
   tenant's published family set and its default review chains. Units, role
   assignments, chains and sets go through the services (``units.services``,
   ``recognition.services.chain``, ``recognition.demo.sets``); households are
   bulk rows built exactly as the demo's (``search_text_for``); users are made
   by :func:`accounts.services.user_ensure` once and the rest copy its row
   shape and password hash (one PBKDF2 hash instead of ~500 seconds of them).
2. :func:`reset_cycle` (every run): the year's family cycle from scratch —
   the tenant's registrations, assessments and dossiers of the year are
   deleted, then registered again (``registration_bulk_create``), every
   assessment started (``assessment_start``: a draft with one empty score per
   indicator) and every ward's dossier opened (``dossier_for``). With the
   two-tier chain a 2026 family dossier goes to the city, so the reviewers sit
   there (``recognition.services.chain``); each reviewer is given a disjoint
   share of the wards to work on (all of them see the city's queue). The
   rollups are rebuilt afterwards.
   The first ward's assessments are started by the service and the others by
   :func:`_bulk_start`, which writes the same rows (checked on every run).
   Then :func:`head_start` moves the cycle to the deadline week: most of each
   ward's households already assessed and in its dossier, some dossiers sent.
3. :func:`credentials` (every run): an API token per user
   (``accounts.services.api_token_create``) and a signed-in session per user
   written to the session store (what ``django.contrib.auth.login`` stores,
   without 530 password checks), saved with the ids the load needs.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from importlib import import_module
from typing import Any

SLUG = "bench-peak"
CITY_CODE = "97"
NEIGHBOURHOODS_PER_WARD = 2
HOUSEHOLDS_PER_NEIGHBOURHOOD = 3
REFORM_DATE = dt.date(2025, 7, 1)
PASSWORD = "bench-peak-password-not-a-secret"  # noqa: S105 - a throwaway bench database
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng"]
GIVEN = ["An", "Bình", "Chi", "Dũng", "Hà", "Hải", "Lan", "Minh", "Nga", "Phúc", "Thảo", "Tú"]


def _ward_username(n: int) -> str:
    return f"{SLUG}.ward{n:04d}"


def _users(tenant: Any, specs: list[tuple[str, str]]) -> list[Any]:
    """The users named in ``specs`` (username, full name), created if missing.

    The first missing one goes through ``user_ensure``; the others copy its
    password hash in one bulk insert (same columns ``user_ensure`` sets)."""
    from accounts.models import User
    from accounts.services import user_ensure
    from core.text import nfc

    existing = {u.username: u for u in User.objects.filter(username__in=[s[0] for s in specs])}
    missing = [s for s in specs if s[0] not in existing]
    if missing:
        first = user_ensure(
            tenant=tenant,
            username=missing[0][0],
            email=f"{missing[0][0]}@bench.invalid",
            full_name=missing[0][1],
            password=PASSWORD,
        )
        existing[first.username] = first
        rows = [
            User(
                username=username,
                email=f"{username}@bench.invalid",
                full_name=nfc(full_name),
                tenant=tenant,
                is_active=True,
                password=first.password,
            )
            for username, full_name in missing[1:]
        ]
        for user in User.objects.bulk_create(rows, batch_size=500):
            existing[user.username] = user
    return [existing[s[0]] for s in specs]


def _assign(user: Any, unit: Any, role: str) -> None:
    from units import services as units
    from units.models import RoleAssignment

    if not RoleAssignment.objects.filter(user=user, unit=unit, role=role).exists():
        units.role_assign(actor=None, user=user, unit=unit, role=role)


def _authenticator(user: Any) -> None:
    """Reviewers sign in with two factors (issue 10 §1): give each an authenticator
    app the way allauth's set-up page does, so their sessions are not sent there."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, generate_totp_secret())


def _ward(tenant: Any, city: Any, n: int, rng: random.Random) -> None:
    """Ward ``n`` with its khu phố (services) and their households (bulk rows)."""
    from recognition.models import Household
    from recognition.selectors.subjects import search_text_for
    from units import services as units
    from units.levels import Kind

    ward = units.unit_create(
        actor=None,
        tenant=tenant,
        parent=city,
        kind=Kind.WARD,
        name=f"Phường Đo Tải {n}",
        code=f"{CITY_CODE}{n:04d}",
        valid_from=REFORM_DATE,
    )
    households = []
    for k in range(1, NEIGHBOURHOODS_PER_WARD + 1):
        kp = units.unit_create(
            actor=None,
            tenant=tenant,
            parent=ward,
            kind=Kind.QUARTER,
            name=f"Khu phố {k}",
            code=f"{ward.code}-KP{k}",
            valid_from=REFORM_DATE,
        )
        for h in range(1, HOUSEHOLDS_PER_NEIGHBOURHOOD + 1):
            household = Household(
                tenant=tenant,
                unit=kp,
                code=f"{kp.code}-H{h:02d}",
                head_name=f"{rng.choice(SURNAMES)} Văn {rng.choice(GIVEN)}",
                address=f"{rng.randint(1, 300)} đường số {k}, {kp.name}",
                member_count=rng.randint(2, 7),
            )
            household.search_text = search_text_for("household", household)
            households.append(household)
    Household.objects.bulk_create(households)


def ensure_tenant(*, wards: int, reviewers: int, viewers: int) -> Any:
    """The bench city with at least ``wards`` wards (built or extended once)."""
    from django.db import transaction

    from recognition.demo.sets import ensure_demo_sets
    from recognition.services.chain import ensure_default_chains
    from units import services as units
    from units.levels import Kind, Level
    from units.models import AdministrativeUnit, Tenant
    from units.roles import Role

    started = time.perf_counter()
    tenant = Tenant.objects.filter(slug=SLUG).first()
    if tenant is None:
        far = dt.date(1900, 1, 1)
        tenant = units.tenant_create(
            name="Thành phố Đo Tải (DỮ LIỆU MẪU)",
            slug=SLUG,
            code=CITY_CODE,
            levels=[
                (Level.PROVINCE, far, None),
                (Level.DISTRICT, far, REFORM_DATE - dt.timedelta(days=1)),
                (Level.COMMUNE, far, None),
                (Level.NEIGHBOURHOOD, far, None),
            ],
        )
        units.unit_create(
            actor=None,
            tenant=tenant,
            parent=None,
            kind=Kind.CENTRAL_CITY,
            name="Thành phố Đo Tải",
            code=CITY_CODE,
        )
    # The load users sign in by writing sessions: no authenticator app, so the
    # bench tenant does not require two-factor sign-in (new tenants do, issue 10 §1).
    from accounts.security import tenant_set_mfa_roles

    tenant_set_mfa_roles(actor=None, tenant=tenant, roles=[])
    city = AdministrativeUnit.objects.get(tenant=tenant, depth=0)
    have = AdministrativeUnit.objects.filter(parent=city, level=Level.COMMUNE).count()
    rng = random.Random(2026)
    for n in range(have + 1, wards + 1):
        with transaction.atomic():  # one commit per ward, not per unit
            _ward(tenant, city, n, rng)
        if n % 100 == 0:
            print(f"  {n} wards built ({time.perf_counter() - started:.0f} s)", flush=True)
    ward_units = list(
        AdministrativeUnit.objects.filter(parent=city, level=Level.COMMUNE).order_by("code")[:wards]
    )
    officials = _users(
        tenant,
        [(_ward_username(n), f"Cán bộ {w.name}") for n, w in enumerate(ward_units, start=1)],
    )
    for user, ward in zip(officials, ward_units, strict=True):
        _assign(user, ward, Role.WARD_OFFICIAL)
    for user in _users(
        tenant,
        [(f"{SLUG}.reviewer{n:02d}", f"Chuyên viên Sở GD&ĐT {n}") for n in range(1, reviewers + 1)],
    ):
        _assign(user, city, Role.REVIEWER)
        _authenticator(user)
    for user in _users(
        tenant, [(f"{SLUG}.viewer{n}", f"Ban Chỉ đạo {n}") for n in range(1, viewers + 1)]
    ):
        _assign(user, city, Role.STEERING_VIEWER)
    ensure_demo_sets(tenant)
    ensure_default_chains(tenant)
    print(
        f"tenant {SLUG!r}: {len(ward_units)} wards ready ({time.perf_counter() - started:.1f} s)",
        flush=True,
    )
    return tenant


def _bulk_start(registrations: list[Any]) -> None:
    """What ``assessment_start`` writes, for many registrations at once: the draft
    assessment under the criteria set the service would pick (same lookup), one
    empty score per indicator, one ``assessment.start`` audit event each."""
    from django.db import transaction

    from core.models import AuditEvent
    from recognition.models import Assessment, IndicatorScore
    from recognition.selectors.criteria import criteria_set_for
    from recognition.services.assessment import (
        _indicators_of,
        area_class_for,
        scope_levels,
        subject_unit_of,
    )

    sets: dict[tuple[str, ...], Any] = {}
    classes: dict[int, str] = {}
    rows = []
    for reg in registrations:
        levels = tuple(scope_levels(reg))
        if levels not in sets:
            sets[levels] = next(
                s
                for level in levels
                if (
                    s := criteria_set_for(
                        tenant=reg.tenant, title=reg.title, scope_level=level, year=reg.year
                    )
                )
                is not None
            )
        unit = subject_unit_of(reg)
        if unit.pk not in classes:
            classes[unit.pk] = area_class_for(unit)
        rows.append(
            Assessment(
                tenant_id=reg.tenant_id,
                unit_id=reg.unit_id,
                registration=reg,
                criteria_set=sets[levels],
                area_class=classes[unit.pk],
            )
        )
    with transaction.atomic():
        created = Assessment.objects.bulk_create(rows, batch_size=1000)
        indicators = {s.pk: _indicators_of(s) for s in sets.values()}
        IndicatorScore.objects.bulk_create(
            [
                IndicatorScore(assessment=a, indicator=i)
                for a in created
                for i in indicators[a.criteria_set_id]
            ],
            batch_size=5000,
        )
        AuditEvent.objects.bulk_create(
            [
                AuditEvent(
                    tenant_id=a.tenant_id,
                    actor=None,
                    unit_id=a.unit_id,
                    action="assessment.start",
                    object_type=Assessment._meta.label_lower,
                    object_id=str(a.public_id),
                    after={
                        "status": a.status,
                        "criteria_set": f"{a.criteria_set.code} v{a.criteria_set.version}",
                        "area_class": a.area_class,
                    },
                )
                for a in created
            ],
            batch_size=1000,
        )


def _check_same_rows(by_service: Any, by_bulk: Any) -> None:
    """The bulk rows must be what the service writes (else the bench stops)."""
    from core.models import AuditEvent
    from recognition.models import Assessment

    def shape(registration: Any) -> dict[str, Any]:
        a = Assessment.objects.get(registration=registration)
        event = AuditEvent.objects.get(action="assessment.start", object_id=str(a.public_id))
        fields = ("tenant_id", "criteria_set_id", "area_class", "status", "version", "dossier_id")
        return {
            **{f: getattr(a, f) for f in fields},
            "self": (a.self_total, a.self_level, a.self_grade, a.self_passed, a.assessed_by_id),
            "unit is the registration's": a.unit_id == registration.unit_id,
            "scores": sorted(
                a.scores.values_list("indicator_id", "self_points", "self_level", "note")
            ),
            "audit": (event.actor_id, event.unit_id == a.unit_id, event.before, event.after),
        }

    service, bulk = shape(by_service), shape(by_bulk)
    if service != bulk:
        raise RuntimeError(f"bulk assessments differ from assessment_start's: {service} != {bulk}")


def reset_cycle(*, tenant: Any, wards: int, year: int) -> dict[str, int]:
    """Delete the year's family cycle of the tenant and start it again (see module doc)."""
    from django.db import transaction

    from recognition.models import (
        Assessment,
        Dossier,
        DossierSubmission,
        Household,
        IndicatorScore,
        Registration,
    )
    from recognition.services.assessment import assessment_start
    from recognition.services.dossier import dossier_for
    from recognition.services.registration import registration_bulk_create
    from recognition.titles import Title
    from reports.services import rollups_rebuild
    from units.levels import Level
    from units.models import AdministrativeUnit

    started = time.perf_counter()
    city = AdministrativeUnit.objects.get(tenant=tenant, depth=0)
    ward_units = list(
        AdministrativeUnit.objects.filter(parent=city, level=Level.COMMUNE).order_by("code")[:wards]
    )
    cycle = {"tenant": tenant, "title": Title.FAMILY, "year": year}
    with transaction.atomic():
        IndicatorScore.objects.filter(
            assessment__tenant=tenant, assessment__registration__year=year
        ).delete()
        Assessment.objects.filter(tenant=tenant, registration__year=year).delete()
        DossierSubmission.objects.filter(dossier__tenant=tenant, dossier__year=year).delete()
        Dossier.objects.filter(**cycle).delete()
        Registration.objects.filter(**cycle).delete()
    registration_bulk_create(
        actor=None,
        title=Title.FAMILY,
        year=year,
        subjects=Household.objects.filter(unit__parent__in=ward_units),
    )
    registrations = list(
        Registration.objects.filter(**cycle, proposing_unit__in=ward_units)
        .select_related("tenant", "unit", "subject_unit")
        .order_by("pk")
    )
    # The first ward's assessments through ``assessment_start``; the others in bulk,
    # the same rows (checked against the service's by ``_check_same_rows``).
    first_ward = registrations[0].proposing_unit_id
    by_service = [r for r in registrations if r.proposing_unit_id == first_ward]
    for registration in by_service:
        assessment_start(actor=None, registration=registration)
    _bulk_start([r for r in registrations if r.proposing_unit_id != first_ward])
    _check_same_rows(by_service[0], registrations[-1])
    with transaction.atomic():  # one commit for the 500 dossiers, each a savepoint
        for ward in ward_units:
            dossier_for(actor=None, proposing_unit=ward, title=Title.FAMILY, year=year)
    rollups_rebuild(tenant=tenant)
    counts = {
        "wards": len(ward_units),
        "registrations": len(registrations),
        "assessments": Assessment.objects.filter(tenant=tenant, registration__year=year).count(),
        "dossiers": Dossier.objects.filter(**cycle).count(),
    }
    print(
        f"cycle {year} reset: {counts['assessments']} draft assessments, {counts['dossiers']} "
        f"dossiers ({time.perf_counter() - started:.1f} s)",
        flush=True,
    )
    return counts


def head_start(
    *, tenant: Any, wards: int, year: int, done: int | tuple[int, int], submitted_every: int
) -> dict:
    """The deadline week rather than the campaign's first day.

    The plans in ``shared/seeds`` give wards weeks to assess their households
    before the dossier deadline, so at the peak most of a ward's households are
    already self-assessed and the officials are finishing the last ones. Here,
    through the services and as each ward's own official: the first ``done``
    assessments of every ward (``(low, high)``: a number drawn per ward, as wards
    are at different stages and so do not all submit in the same minute) are
    scored (every indicator), completed and added to the ward's dossier; every ``submitted_every``-th ward (0: none) has done
    all of them and submitted its dossier, so the reviewers have work from the
    first second. ``done=0, submitted_every=0`` leaves the cycle as reset.
    Each ward is one transaction."""
    from django.db import transaction

    from accounts.models import User
    from recognition.models import Assessment, Dossier
    from recognition.services.assessment import assessment_complete, assessment_save_scores
    from recognition.services.dossier import dossier_add_items, dossier_submit
    from recognition.titles import Title
    from units.levels import Level
    from units.models import AdministrativeUnit

    started = time.perf_counter()
    low, high = done if isinstance(done, tuple) else (done, done)
    if not high and not submitted_every:
        return {"assessed": 0, "submitted": 0}
    rng = random.Random(year)
    city = AdministrativeUnit.objects.get(tenant=tenant, depth=0)
    ward_units = list(
        AdministrativeUnit.objects.filter(parent=city, level=Level.COMMUNE).order_by("code")[:wards]
    )
    officials = {
        u.username: u
        for u in User.objects.filter(username__in=[_ward_username(n) for n in range(1, wards + 1)])
    }
    assessed = submitted = 0
    for n, ward in enumerate(ward_units):
        official = officials[_ward_username(n + 1)]
        submit = bool(submitted_every) and n % submitted_every == 0
        with transaction.atomic():
            dossier = Dossier.objects.get(
                tenant=tenant, proposing_unit=ward, title=Title.FAMILY, year=year
            )
            mine = list(
                Assessment.objects.filter(
                    registration__proposing_unit=ward, registration__year=year
                )
                .select_related("criteria_set", "unit", "registration")
                .order_by("pk")
            )
            for assessment in mine if submit else mine[: rng.randint(low, high)]:
                values = {
                    str(score.indicator.public_id): rng.randint(
                        0, int(score.indicator.max_points or 0)
                    )
                    for score in assessment.scores.select_related("indicator")
                }
                saved = assessment_save_scores(
                    actor=official,
                    assessment=assessment,
                    expected_version=assessment.version,
                    values=values,
                )
                assessment_complete(actor=official, assessment=saved)
                dossier_add_items(
                    actor=official, dossier=dossier, assessment_ids=[assessment.public_id]
                )
                assessed += 1
            if submit:
                dossier.refresh_from_db()
                dossier_submit(actor=official, dossier=dossier)
                submitted += 1
    print(
        f"head start: {assessed} assessments done and in their dossiers, {submitted} dossiers "
        f"submitted ({time.perf_counter() - started:.1f} s)",
        flush=True,
    )
    return {"assessed": assessed, "submitted": submitted}


def _session(user: Any) -> str:
    """A signed-in session of ``user`` in the configured store; its key."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    model_backend = "django.contrib.auth.backends.ModelBackend"
    backends = settings.AUTHENTICATION_BACKENDS
    store[BACKEND_SESSION_KEY] = model_backend if model_backend in backends else backends[-1]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return str(store.session_key)


def credentials(*, tenant: Any, wards: int, reviewers: int, viewers: int, year: int) -> dict:
    """Tokens, sessions and every id the load needs (the locustfile's data file)."""
    from django.conf import settings
    from django.db import transaction
    from django.urls import reverse

    from accounts.models import User
    from accounts.services import api_token_create
    from recognition.models import Assessment, Dossier, Indicator
    from recognition.titles import Title
    from units.levels import Level
    from units.models import AdministrativeUnit

    started = time.perf_counter()
    city = AdministrativeUnit.objects.get(tenant=tenant, depth=0)
    ward_units = list(
        AdministrativeUnit.objects.filter(parent=city, level=Level.COMMUNE).order_by("code")[:wards]
    )
    dossiers = {
        d.proposing_unit_id: d
        for d in Dossier.objects.filter(tenant=tenant, title=Title.FAMILY, year=year)
    }
    assessments: dict[int, list[Assessment]] = {}
    for a in (
        Assessment.objects.filter(tenant=tenant, registration__year=year)
        .select_related("registration")
        .order_by("pk")
    ):
        assessments.setdefault(a.registration.proposing_unit_id, []).append(a)
    criteria_set_id = next(iter(assessments.values()))[0].criteria_set_id
    indicators = [
        {"id": str(public_id), "max": int(max_points or 0)}
        for public_id, max_points in Indicator.objects.filter(
            criterion__criteria_set_id=criteria_set_id
        )
        .order_by("criterion__order", "order")
        .values_list("public_id", "max_points")
    ]

    def person(username: str) -> dict[str, str]:
        user = User.objects.get(username=username)
        _token, raw = api_token_create(user=user, name="bench peak load")
        return {"username": username, "token": raw, "session": _session(user)}

    with transaction.atomic():  # one commit for ~500 tokens and sessions
        officials = [person(_ward_username(n)) for n in range(1, len(ward_units) + 1)]
        checkers = [person(f"{SLUG}.reviewer{n:02d}") for n in range(1, reviewers + 1)]
        viewer_rows = [person(f"{SLUG}.viewer{n}") for n in range(1, viewers + 1)]
    ward_rows = []
    for official, ward in zip(officials, ward_units, strict=True):
        ward_rows.append(
            {
                **official,
                "ward": str(ward.public_id),
                "ward_name": ward.name,
                "dossier": str(dossiers[ward.pk].public_id),
                "dossier_version": dossiers[ward.pk].version,
                "dossier_status": dossiers[ward.pk].status,
                "dossier_submissions": dossiers[ward.pk].submission_count,
                # ``in_dossier``: done before the run (``head_start``).
                "assessments": [
                    {
                        "id": str(a.public_id),
                        "version": a.version,
                        "status": a.status,
                        "in_dossier": a.dossier_id is not None,
                    }
                    for a in assessments.get(ward.pk, [])
                ],
            }
        )
    reviewer_rows = [
        # A disjoint share of the wards each, round robin (all see the city's queue).
        {**checker, "wards": list(range(n, len(ward_rows), reviewers))}
        for n, checker in enumerate(checkers)
    ]
    data = {
        "tenant": SLUG,
        "year": year,
        "title": Title.FAMILY,
        "city": str(city.public_id),
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "indicators": indicators,
        "paths": {
            "dashboard": f"{reverse('reports:dashboard')}?unit={city.public_id}"
            f"&year={year}&title={Title.FAMILY}",
            "assessment_list": reverse("recognition:assessment-list"),
            "dossier_list": reverse("recognition:dossier-list"),
            "review_queue": reverse("recognition:review-queue"),
            # "{id}" stands for a public id.
            "assessment": reverse("recognition:assessment-detail", args=["ID"]).replace(
                "ID", "{id}"
            ),
            "dossier": reverse("recognition:dossier-detail", args=["ID"]).replace("ID", "{id}"),
            "review": reverse("recognition:review-detail", args=["ID"]).replace("ID", "{id}"),
        },
        "wards": ward_rows,
        "reviewers": reviewer_rows,
        "viewers": viewer_rows,
    }
    print(
        f"credentials: {len(ward_rows) + len(reviewer_rows) + len(viewer_rows)} tokens and "
        f"sessions ({time.perf_counter() - started:.1f} s)",
        flush=True,
    )
    return data
