"""Demo: recognition decisions on both sides of the 2025 reform (DỮ LIỆU MẪU).

- **Before** (``seed_decision_demo``, run before the reform plan): Phường 5 of
  Quận 10 registers and self-assesses its 2025 families, its dossier goes to the
  district (the chain in force on 02/06/2025), ``reviewer.q10`` reviews it for
  Phòng GD&ĐT Quận 10 and UBND Quận 10 issues **Quyết định số 01/QĐ-UBND** of
  20/06/2025 recognising the approved households; its PDF and certificates are
  stored. After the reform the decision, the dossier and the assessments stay
  with Phường 5 and Quận 10 (closed on 30/06/2025): paths are history.
- **After** (``seed_recent_decision_demo``, run after the live 2026 cycle): UBND
  phường Đức Nhuận — the post-reform recogniser of families, "Chủ tịch UBND
  phường" in the review chain (RULES.md §4.2, §8) — issues its own 01/QĐ-UBND of
  2026 for the approved households of its reviewed dossier. Phường Diên Hồng's
  reviewed dossier is left without a decision so a visitor can build one.

Everything goes through the services and the same jobs the UI starts. The demo
dates its 2025 timeline: the 2025 dossier's submission and review times are set
to June 2025 (a decision cannot be dated before the review of its items), the
one write here outside the services. Idempotent: a second run changes nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.jobs import job_run
from recognition.models import Decision, Dossier
from recognition.services import decision as decision_services
from recognition.services.registration import registration_bulk_create
from recognition.titles import Title
from units.demo.reform import in_force
from units.models import AdministrativeUnit, Tenant

PAST_YEAR = 2025
WARD_2025 = "27199"  # Phường 5, Quận 10
DISTRICT = "771"  # Quận 10
OPENED_ON = dt.date(2025, 6, 2)
#: 12/06/2025 09:30 in Vietnam (UTC+7).
REVIEWED_AT = dt.datetime(2025, 6, 12, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=7)))
ISSUED_ON = dt.date(2025, 6, 20)
PROFILE = {
    "parent_agency": "",
    "agency": "ỦY BAN NHÂN DÂN QUẬN 10",
    "authority": "ỦY BAN NHÂN DÂN QUẬN 10",
    "symbol": "QĐ-UBND",
    "place_name": "Quận 10",
    "legal_bases": "Căn cứ Luật Tổ chức chính quyền địa phương",
    "signing_form": "KT.",
    "signer_collective": "CHỦ TỊCH",
    "signer_title": "PHÓ CHỦ TỊCH",
    "signer_name": "Nguyễn Văn Mẫu",
    "recipients": (
        "Như Điều 3\nBan Chỉ đạo xây dựng xã hội học tập Thành phố\n"
        "Thường trực Quận ủy, HĐND Quận\nHội Khuyến học Quận 10"
    ),
    "executors": (
        "Chánh Văn phòng Ủy ban nhân dân Quận 10, Trưởng Phòng Giáo dục và Đào tạo, "
        "Chủ tịch Ủy ban nhân dân Phường 5"
    ),
    "archive_code": "PGDĐT",
}

RECENT_YEAR = 2026
RECENT_ISSUER = "27043"  # Phường Đức Nhuận
RECENT_PROFILE = {
    "parent_agency": "",
    "agency": "ỦY BAN NHÂN DÂN PHƯỜNG ĐỨC NHUẬN",
    "authority": "ỦY BAN NHÂN DÂN PHƯỜNG ĐỨC NHUẬN",
    "symbol": "QĐ-UBND",
    "place_name": "Thành phố Hồ Chí Minh",
    "legal_bases": "Căn cứ Luật Tổ chức chính quyền địa phương số 72/2025/QH15",
    "signing_form": "TM.",
    "signer_collective": "ỦY BAN NHÂN DÂN",
    "signer_title": "CHỦ TỊCH",
    "signer_name": "Trần Văn Mẫu",
    "recipients": ("Như Điều 3\nSở Giáo dục và Đào tạo Thành phố\nHội Khuyến học phường Đức Nhuận"),
    "executors": "Chánh Văn phòng HĐND và UBND phường, Trưởng Phòng Văn hóa – Xã hội",
    "archive_code": "VHXH",
}


def _issue(
    *,
    reviewer: User,
    issuer: AdministrativeUnit,
    profile: dict[str, str],
    year: int,
    issued_on: dt.date,
    summary: str,
    filters: dict[str, Any],
    certificates: bool,
) -> Decision:
    with transaction.atomic():
        decision_services.issuer_profile_save(actor=reviewer, unit=issuer, data=profile)
        decision = decision_services.decision_create(
            actor=reviewer, issuing_unit=issuer, title=Title.FAMILY, year=year
        )
        decision_services.annex_add(actor=reviewer, decision=decision, filters=filters)
        decision.refresh_from_db()
        decision = decision_services.decision_update(
            actor=reviewer,
            decision=decision,
            expected_version=decision.version,
            data={"issued_on": issued_on, "summary": summary},
        )
        job = decision_services.decision_issue_start(
            actor=reviewer, decision=decision, expected_version=decision.version
        )
    job_run(job.pk)  # the demo runs it here, whether or not a worker listens
    decision.refresh_from_db()
    if certificates:
        with transaction.atomic():
            batch = decision_services.certificates_start(actor=reviewer, decision=decision)
        job_run(batch.pk)
    return decision


def seed_decision_demo(tenant: Tenant) -> dict[str, int]:
    """Phường 5's 2025 cycle and UBND Quận 10's decision, before the reform."""
    from recognition.demo.cycle import family_assessments, family_dossier, ward_households
    from recognition.demo.sets import ensure_demo_sets

    district = AdministrativeUnit.objects.get(tenant=tenant, code=DISTRICT)
    if Decision.objects.filter(issuing_unit=district).exists():
        return {"decisions": Decision.objects.filter(issuing_unit=district).count()}
    reviewer = User.objects.get(username="reviewer.q10")
    ward = AdministrativeUnit.objects.get(tenant=tenant, code=WARD_2025, parent=district)
    family_set = ensure_demo_sets(tenant)["family"]
    with transaction.atomic():
        registration_bulk_create(
            actor=None,
            title=Title.FAMILY,
            year=PAST_YEAR,
            subjects=ward_households(tenant, ward),
        )
        rng = random.Random(PAST_YEAR)  # noqa: S311 — reproducible demo data
        family_assessments(tenant, ward, family_set, rng, year=PAST_YEAR, drafts=False)
        family_dossier(ward, "approved", reviewer, year=PAST_YEAR, on=OPENED_ON)
        reviewed = REVIEWED_AT
        Dossier.objects.filter(proposing_unit=ward, year=PAST_YEAR, title=Title.FAMILY).update(
            submitted_at=reviewed - dt.timedelta(days=8), reviewed_at=reviewed
        )
    decision = _issue(
        reviewer=reviewer,
        issuer=district,
        profile=PROFILE,
        year=PAST_YEAR,
        issued_on=ISSUED_ON,
        summary=(
            f"Về việc công nhận danh hiệu “Gia đình học tập” năm {PAST_YEAR} trên địa bàn Phường 5"
        ),
        filters={"proposing_unit": ward.public_id},
        certificates=True,
    )
    return {"decisions": 1, "recognised": decision.item_count}


def seed_recent_decision_demo(tenant: Tenant) -> dict[str, int]:
    """UBND phường Đức Nhuận's 2026 decision, after the reform and the live cycle."""
    issuer = in_force(tenant, RECENT_ISSUER)
    if Decision.objects.filter(issuing_unit=issuer).exists():
        return {"decisions": Decision.objects.filter(issuing_unit=issuer).count()}
    reviewer = User.objects.get(username="reviewer.q10")
    decision = _issue(
        reviewer=reviewer,
        issuer=issuer,
        profile=RECENT_PROFILE,
        year=RECENT_YEAR,
        issued_on=timezone.localdate(),  # its dossier was reviewed today
        summary=(
            f"Về việc công nhận danh hiệu “Gia đình học tập” năm {RECENT_YEAR} "
            "trên địa bàn phường Đức Nhuận"
        ),
        filters={"proposing_unit": issuer.public_id},
        certificates=False,
    )
    return {"decisions": 1, "recognised": decision.item_count}
