"""Demo: Quận 10's recognition decision for Phường 5 (DỮ LIỆU MẪU).

The issuer profile of UBND Quận 10 is set up, a decision recognising the
approved households of Phường 5's reviewed dossier is drafted, issued (number
01/QĐ-UBND, PDF rendered and stored) and its certificates are printed — all
through the services and the same jobs the UI starts. Phường 8's reviewed
dossier is left without a decision so a visitor can build one as reviewer.q10.
Idempotent: a second run changes nothing.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.jobs import job_run
from recognition.models import Decision
from recognition.services import decision as decision_services
from recognition.titles import Title
from units.models import AdministrativeUnit, Tenant

YEAR = 2025
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


def seed_decision_demo(tenant: Tenant) -> dict[str, int]:
    district = AdministrativeUnit.objects.get(tenant=tenant, code="771")
    if Decision.objects.filter(issuing_unit=district).exists():
        return {"decisions": Decision.objects.filter(issuing_unit=district).count()}
    reviewer = User.objects.get(username="reviewer.q10")
    ward = AdministrativeUnit.objects.get(tenant=tenant, code="27199")  # Phường 5
    with transaction.atomic():
        decision_services.issuer_profile_save(actor=reviewer, unit=district, data=PROFILE)
        decision = decision_services.decision_create(
            actor=reviewer, issuing_unit=district, title=Title.FAMILY, year=YEAR
        )
        decision_services.annex_add(
            actor=reviewer, decision=decision, filters={"proposing_unit": ward.public_id}
        )
        decision.refresh_from_db()
        decision = decision_services.decision_update(
            actor=reviewer,
            decision=decision,
            expected_version=decision.version,
            data={
                "issued_on": timezone.localdate(),
                "summary": (
                    f"Về việc công nhận danh hiệu “Gia đình học tập” năm {YEAR} "
                    "trên địa bàn Phường 5"
                ),
            },
        )
        job = decision_services.decision_issue_start(
            actor=reviewer, decision=decision, expected_version=decision.version
        )
    job_run(job.pk)  # the demo runs it here, whether or not a worker listens
    decision.refresh_from_db()
    with transaction.atomic():
        certificates = decision_services.certificates_start(actor=reviewer, decision=decision)
    job_run(certificates.pk)
    return {"decisions": 1, "recognised": decision.item_count}
