"""Sample documents (DỮ LIỆU MẪU) for the benchmark, the PNG renders in
``docs/decisions/`` and the tests: a decision of UBND Quận 10 recognising N
households of Phường 5, and their certificates. No database."""

from __future__ import annotations

import datetime

from recognition.documents.certificates import CertificateDoc
from recognition.documents.snapshot import AnnexRow, DecisionDoc, format_count

FAMILY_NAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Hoàng", "Võ", "Đặng", "Bùi", "Đỗ")
MIDDLE_NAMES = ("Văn", "Thị", "Hữu", "Thị Kiều", "Minh", "Thị Ánh", "Quốc", "Thị Thu")
GIVEN_NAMES = ("Tuyết", "Ưng", "Oanh", "Phúc", "Hạnh", "Dũng", "Yến", "Khoa", "Lộc", "Thảo", "Ý")
STREETS = ("Ba Tháng Hai", "Nguyễn Tri Phương", "Lý Thường Kiệt", "Sư Vạn Hạnh", "Hòa Hảo")

#: Names the tests look for in the rendered text (diacritics of every kind).
FIXED_NAMES = ("Nguyễn Thị Ánh Tuyết", "Đặng Văn Ưng", "Huỳnh Thị Kiều Oanh")


def sample_rows(count: int) -> list[AnnexRow]:
    rows = []
    for i in range(count):
        if i < len(FIXED_NAMES):
            name = FIXED_NAMES[i]
        else:
            name = (
                f"{FAMILY_NAMES[i % len(FAMILY_NAMES)]} "
                f"{MIDDLE_NAMES[(i // 10) % len(MIDDLE_NAMES)]} "
                f"{GIVEN_NAMES[(i // 80) % len(GIVEN_NAMES)]}"
            )
        kp = i % 6 + 1
        rows.append(
            AnnexRow(
                code=f"HGD-27199-{i + 1:05d}",
                name=name,
                address=f"{10 + i % 390}/{i % 17 + 1} đường {STREETS[i % len(STREETS)]}",
                unit_name=f"Khu phố {kp}",
                result=f"Đạt {80 + i % 21} điểm",
            )
        )
    return rows


def sample_decision(rows: int = 40, *, draft: bool = False, number: int | None = 5) -> DecisionDoc:
    count = format_count(rows)
    return DecisionDoc(
        parent_agency="",
        agency="Ủy ban nhân dân Quận 10",
        symbol="QĐ-UBND",
        number=number,
        place_name="Quận 10",
        issued_on=datetime.date(2026, 1, 5),
        summary="Về việc công nhận danh hiệu “Gia đình học tập” năm 2025 trên địa bàn Phường 5",
        authority="ỦY BAN NHÂN DÂN QUẬN 10",
        legal_bases=[
            "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 02 năm 2025",
            "Căn cứ Thông tư số 25/2023/TT-BGDĐT ngày 28 tháng 12 năm 2023 của Bộ trưởng "
            "Bộ Giáo dục và Đào tạo quy định về đánh giá, công nhận “Gia đình học tập”, "
            "“Dòng họ học tập”, “Cộng đồng học tập” cấp thôn và tương đương, "
            "“Đơn vị học tập” cấp huyện, cấp xã",
            "Xét đề nghị của Trưởng Phòng Giáo dục và Đào tạo Quận 10",
        ],
        articles=[
            f"Điều 1. Công nhận {count} hộ gia đình đạt danh hiệu “Gia đình học tập” "
            "năm 2025 (có danh sách kèm theo).",
            "Điều 2. Quyết định này có hiệu lực kể từ ngày ký.",
            "Điều 3. Chánh Văn phòng Ủy ban nhân dân Quận 10, Trưởng Phòng Giáo dục và "
            "Đào tạo, Chủ tịch Ủy ban nhân dân Phường 5 và các hộ gia đình có tên tại "
            "Điều 1 chịu trách nhiệm thi hành Quyết định này.",
        ],
        signing_form="KT.",
        signer_collective="CHỦ TỊCH",
        signer_title="PHÓ CHỦ TỊCH",
        signer_name="Nguyễn Văn Mẫu",
        recipients=[
            "Như Điều 3",
            "Ban Chỉ đạo xây dựng xã hội học tập Thành phố",
            "Thường trực Quận ủy, HĐND Quận",
            "Hội Khuyến học Quận 10",
            "Lưu: VT, PGDĐT",
        ],
        annex_title="Danh sách hộ gia đình đạt danh hiệu “Gia đình học tập” năm 2025",
        annex_kind="household",
        rows=sample_rows(rows),
        draft=draft,
    )


def sample_certificates(count: int) -> list[CertificateDoc]:
    decision = sample_decision(0)
    return [
        CertificateDoc(
            token=f"sample-token-{i:05d}-Zx9_Qm",
            subject_name=row.name,
            subject_kind="household",
            address=f"{row.address}, {row.unit_name}, Phường 5, Quận 10",
            title_label="Gia đình học tập",
            year=2025,
            agency="ỦY BAN NHÂN DÂN QUẬN 10",
            parent_agency="",
            place_name=decision.place_name,
            decision_reference="05/QĐ-UBND",
            decision_date=datetime.date(2026, 1, 5),
            signing_form="KT.",
            signer_collective="CHỦ TỊCH",
            signer_title="PHÓ CHỦ TỊCH",
            signer_name="Nguyễn Văn Mẫu",
        )
        for i, row in enumerate(sample_rows(count))
    ]
