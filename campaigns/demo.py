"""Demo campaigns of TP. Hồ Chí Minh (DỮ LIỆU MẪU where the seeds are silent).

- The city's plan 734/KH-UBND of 15/02/2024 implementing the 2023–2030
  emulation movement (named in seed 002), with its two phases (sơ kết 2025,
  tổng kết 2030), the national targets of QĐ 387/QĐ-TTg and QĐ 677/QĐ-TTg for
  2025 (RULES.md §5) and the yearly report deadlines;
- Quận 11's plan 102/KH-UBND of 02/04/2024 derived from it in one step, with a
  tightened target: a plan of the three-tier years, kept as history (Quận 11
  closed on 30/06/2025, ``units/demo/reform.py``);
- the yearly deadlines as they stand after the reform: wards report before
  1 November (the district consolidation of the seed's plans is gone with the
  districts, RULES.md §7.2, §8), commune Cộng đồng học tập dossiers of 2026 by
  28/02/2027 and the city's decisions by 31/03/2027;
- the city's 2023–2025 sơ kết conference (12/12/2025; seed 000 is Quận 10's
  earlier one) and its 2026 lifelong-learning week (1–7 October) with reports of
  six of the new wards;
- 2026 award nominations of the new wards in every state, reviewed by the city.

Runs after the reform plan. Everything goes through the services; idempotent
(a second run changes nothing).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from accounts.models import User
from campaigns.models import (
    AwardForm,
    DeadlineKind,
    EventKind,
    NomineeKind,
    Plan,
    ReviewKind,
    TargetKind,
)
from campaigns.services import deadlines as deadline_services
from campaigns.services import events as event_services
from campaigns.services import nominations as nomination_services
from campaigns.services import plans as plan_services
from recognition.models import Household
from recognition.titles import Title
from units.levels import Level
from units.models import AdministrativeUnit, Tenant

MOVEMENT = (
    "Tổ chức thực hiện Phong trào thi đua “Cả nước thi đua xây dựng xã hội học tập, "
    "đẩy mạnh học tập suốt đời giai đoạn 2023 - 2030”"
)
CITY_SECTIONS = [
    (
        "I. MỤC ĐÍCH, YÊU CẦU",
        "Tuyên truyền, nâng cao nhận thức của các tầng lớp Nhân dân về vai trò, ý nghĩa của "
        "học tập suốt đời, xây dựng xã hội học tập; cụ thể hóa các chỉ tiêu của Phong trào "
        "thi đua phù hợp với từng địa phương, đơn vị. [DỮ LIỆU MẪU]",
    ),
    (
        "II. NỘI DUNG THI ĐUA",
        "Thi đua hoàn thành các mục tiêu xây dựng, nhân rộng các mô hình Gia đình học tập, "
        "Dòng họ học tập, Cộng đồng học tập, Đơn vị học tập và Công dân học tập theo lộ trình "
        "từng năm, từng giai đoạn đến năm 2030. [DỮ LIỆU MẪU]",
    ),
    (
        "III. TỔ CHỨC THỰC HIỆN",
        "Các quận, huyện, thành phố Thủ Đức xây dựng kế hoạch thực hiện; định kỳ báo cáo kết "
        "quả về Sở Giáo dục và Đào tạo để tổng hợp. [DỮ LIỆU MẪU]",
    ),
]
#: QĐ 387/QĐ-TTg (by 2025) and QĐ 677/QĐ-TTg (2025, 2030), RULES.md §5 (SEEN).
CITY_TARGETS = [
    (Title.FAMILY, 2025, Decimal("70")),
    (Title.CLAN, 2025, Decimal("65")),
    (Title.COMMUNITY, 2025, Decimal("65")),
    (Title.ORGANISATION, 2025, Decimal("80")),
    (Title.CITIZEN, 2025, Decimal("40")),
    (Title.CITIZEN, 2030, Decimal("60")),
]


CITY = "79"


def _unit(tenant: Tenant, code: str) -> AdministrativeUnit:
    """The unit of ``code`` in force today, or else the closed one (Quận 11)."""
    units = AdministrativeUnit.objects.filter(tenant=tenant, code=code)
    return units.filter(valid_to__isnull=True).first() or units.get()


def _city_plan(tenant: Tenant, admin: User) -> Plan:
    city = _unit(tenant, "79")
    plan = plan_services.plan_create(
        actor=admin,
        issuing_unit=city,
        title=f"{MOVEMENT} trên địa bàn Thành phố Hồ Chí Minh",
        start_year=2023,
        end_year=2030,
        number=734,
        symbol="KH-UBND",
        issued_on=dt.date(2024, 2, 15),
        legal_bases=(
            "Căn cứ Quyết định số 1315/QĐ-TTg ngày 09/11/2023 của Thủ tướng Chính phủ ban hành "
            "Kế hoạch triển khai Phong trào thi đua “Cả nước thi đua xây dựng xã hội học tập, "
            "đẩy mạnh học tập suốt đời giai đoạn 2023 - 2030”"
        ),
        signer_title="KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH",
        signer_name="Nguyễn Văn Mẫu",
        recipients="Bộ Giáo dục và Đào tạo\nCác sở, ban, ngành Thành phố\nUBND các quận, huyện",
    )
    for heading, body in CITY_SECTIONS:
        plan_services.section_add(actor=admin, plan=plan, heading=heading, body=body)
    plan_services.phase_save(
        actor=admin,
        plan=plan,
        data={
            "name": "Giai đoạn 1",
            "start_year": 2023,
            "end_year": 2025,
            "review_kind": ReviewKind.INTERIM,
            "review_due": dt.date(2025, 12, 31),
        },
    )
    plan_services.phase_save(
        actor=admin,
        plan=plan,
        data={
            "name": "Giai đoạn 2",
            "start_year": 2026,
            "end_year": 2030,
            "review_kind": ReviewKind.FINAL,
            "review_due": dt.date(2030, 12, 31),
        },
    )
    for title, year, value in CITY_TARGETS:
        plan_services.target_save(
            actor=admin,
            plan=plan,
            unit=city,
            title=title,
            year=year,
            kind=TargetKind.RATE,
            value=value,
        )
    for year in (2025, 2026):
        deadline_services.deadline_save(
            actor=admin,
            plan=plan,
            data={
                "kind": DeadlineKind.REPORT,
                "title": "",
                "year": year,
                "level": Level.COMMUNE,
                "due_on": dt.date(year, 11, 1),
                "label": f"Phường, xã báo cáo kết quả Phong trào thi đua năm {year}",
                "remind_days": 7,
            },
        )
    # Commune Cộng đồng học tập dossiers of 2026 by 28/02/2027 and decisions by
    # 31/03/2027 (TT 25/2023, RULES.md §2.5).
    community = [
        (DeadlineKind.DOSSIER, Level.COMMUNE, dt.date(2027, 2, 28), "Hồ sơ đề nghị công nhận"),
        (DeadlineKind.DECISION, Level.PROVINCE, dt.date(2027, 3, 31), "Hoàn thành công nhận"),
    ]
    for kind, level, day, label in community:
        deadline_services.deadline_save(
            actor=admin,
            plan=plan,
            data={
                "kind": kind,
                "title": Title.COMMUNITY,
                "year": 2026,
                "level": level,
                "due_on": day,
                "label": f"{label} Cộng đồng học tập cấp xã năm 2026",
                "remind_days": 14,
            },
        )
    return plan


def _district_11(tenant: Tenant, admin: User, city_plan: Plan) -> Plan:
    district = _unit(tenant, "772")
    plan = plan_services.plan_derive(actor=admin, parent=city_plan, issuing_unit=district)
    plan.refresh_from_db()
    plan = plan_services.plan_update(
        actor=admin,
        plan=plan,
        expected_version=plan.version,
        data={
            "number": 102,
            "issued_on": dt.date(2024, 4, 2),
            "title": f"{MOVEMENT} trên địa bàn Quận 11",
        },
    )
    # Quận 11 aims higher than the city for families (a tightened target).
    plan_services.target_save(
        actor=admin,
        plan=plan,
        unit=district,
        title=Title.FAMILY,
        year=2025,
        kind=TargetKind.RATE,
        value=Decimal("75"),
        target=plan.targets.get(title=Title.FAMILY, year=2025, unit=district),
    )
    return plan


def _events(tenant: Tenant, admin: User) -> None:
    city = _unit(tenant, CITY)
    event_services.event_create(
        actor=admin,
        unit=city,
        kind=EventKind.INTERIM_REVIEW,
        name=(
            "Hội nghị sơ kết giai đoạn 2023 - 2025 Phong trào thi đua xây dựng xã hội học tập "
            "trên địa bàn Thành phố Hồ Chí Minh"
        ),
        starts_on=dt.date(2025, 12, 12),
        ends_on=dt.date(2025, 12, 12),
        reports_due=dt.date(2025, 12, 19),
    )
    week = event_services.lifelong_week_create(
        actor=admin, unit=city, year=2026, reports_due=dt.date(2026, 10, 15)
    )
    reports = {
        "27190": ("Khai mạc Tuần lễ tại nhà văn hóa phường; thi đọc sách thiếu nhi.", 420, 6),
        "27169": ("Ngày hội đọc sách; tọa đàm “Gia đình học tập”.", 310, 4),
        "27163": (
            "Tuyên truyền qua loa phát thanh khu phố; lớp tin học cho người cao tuổi.",
            150,
            3,
        ),
        "27043": ("Trao giấy công nhận Gia đình học tập; giao lưu dòng họ khuyến học.", 560, 7),
        "27238": ("Câu lạc bộ đọc sách; lớp kỹ năng số cho người lao động.", 230, 4),
        "27226": ("Hội thi tìm hiểu về học tập suốt đời.", 190, 2),
    }
    for code, (activities, participants, sessions) in reports.items():
        event_services.event_report_save(
            actor=None,
            event=week,
            unit=_unit(tenant, code),
            activities=f"{activities} [DỮ LIỆU MẪU]",
            participants=participants,
            sessions=sessions,
        )


def _nominations(tenant: Tenant, reviewer: User) -> None:
    city = _unit(tenant, CITY)
    vuon_lai = _unit(tenant, "27190")  # Phường Vườn Lài (ward.q10.p1's ward)
    dien_hong = _unit(tenant, "27169")
    household = (
        Household.objects.filter(tenant=tenant, unit__parent=vuon_lai).order_by("code").first()
    )
    approved = nomination_services.nomination_create(
        actor=None,
        nominating_unit=vuon_lai,
        year=2026,
        nominee_kind=NomineeKind.PERSON,
        award_form=AwardForm.PROVINCE_MERIT,
        person_name="Trần Thị Khuyến Học",
        person_position="Chi hội trưởng Chi hội Khuyến học khu phố 1, Phường Vườn Lài",
        achievements="Vận động 24 hộ đăng ký “Gia đình học tập”; duy trì tủ sách khu phố. [DỮ LIỆU MẪU]",
    )
    nomination_services.nomination_review(actor=reviewer, nomination=approved)
    approved.refresh_from_db()
    nomination_services.nomination_approve(actor=reviewer, nomination=approved)
    reviewed = nomination_services.nomination_create(
        actor=None,
        nominating_unit=city,
        year=2026,
        nominee_kind=NomineeKind.UNIT,
        nominee_unit=dien_hong,
        award_form=AwardForm.PROVINCE_MERIT,
        achievements="Phường mới dẫn đầu Thành phố về tỷ lệ Gia đình học tập năm 2026. [DỮ LIỆU MẪU]",
    )
    nomination_services.nomination_review(actor=reviewer, nomination=reviewed)
    if household is not None:
        nomination_services.nomination_create(
            actor=None,
            nominating_unit=vuon_lai,
            year=2026,
            nominee_kind=NomineeKind.HOUSEHOLD,
            household=household,
            award_form=AwardForm.COMMUNE_COMMENDATION,
            achievements="Ba thế hệ cùng tham gia lớp học cộng đồng. [DỮ LIỆU MẪU]",
        )


def seed_campaigns_demo(tenant: Tenant) -> dict[str, int]:
    if Plan.objects.filter(tenant=tenant).exists():
        return {"plans": Plan.objects.filter(tenant=tenant).count()}
    admin = User.objects.get(username="admin.hcm")
    reviewer = User.objects.get(username="reviewer.q10")
    with transaction.atomic():
        city_plan = _city_plan(tenant, admin)
        _district_11(tenant, admin, city_plan)
        _events(tenant, admin)
        _nominations(tenant, reviewer)
    return {"plans": Plan.objects.filter(tenant=tenant).count()}
