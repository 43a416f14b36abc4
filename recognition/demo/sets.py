"""The demo tenant's own, completed criteria sets (DỮ LIỆU MẪU — illustrative).

The shipped national sets miss parts of the official text (RULES.md §2.3,
§4.1: NOT FOUND), so they are drafts no tenant can score with. A province
adapts them (RULES.md §4.1: "Bộ tiêu chí khung"; localities may adapt): the
demo does what a tenant admin would, copying the shipped set and completing
the missing parts. Every completed part is marked "[Minh họa]" and the set's
name and source note say it is demo content, not an official text.
"""

from __future__ import annotations

import copy
from typing import Any

from recognition.models import CriteriaSet
from recognition.services.criteria import criteria_set_import
from recognition.shipped import shipped_definitions
from units.models import Tenant

DEMO = "[Minh họa]"
DEMO_NOTE = (
    "DỮ LIỆU MẪU: bản vận dụng minh họa để chạy thử hệ thống. Các phần đánh dấu "
    "“[Minh họa]” do dữ liệu mẫu bổ sung vào chỗ văn bản chính thức chưa tìm thấy; "
    "không phải văn bản pháp lý."
)


def _shipped(code: str) -> dict[str, Any]:
    for data in shipped_definitions():
        if data["code"] == code:
            return copy.deepcopy(data)
    raise LookupError(code)


def family_set() -> dict[str, Any]:
    """Gia đình học tập, from QĐ 448/QĐ-KHVN completed to 100 points."""
    data = _shipped("QD448-GDHT")
    data.update(
        code="HCM-GDHT-2021",
        name="Gia đình học tập — bản vận dụng của TP. Hồ Chí Minh (DỮ LIỆU MẪU)",
        year_from=2021,
        year_to=None,
        needs_completion=False,
        pass_thresholds={"normal": 80, "disadvantaged": 70},
        min_indicator_points=None,
        grade_bands=[],
        status="published",
        source_note=f"{DEMO_NOTE}\n\n{data['source_note']}",
    )
    data["legal_basis"] += (
        "\nCông văn số 1092/UBND-VX ngày 15/3/2016 của UBND Thành phố Hồ Chí Minh "
        "về công nhận danh hiệu “Gia đình học tập”, “Dòng họ học tập”, “Cộng đồng học tập”"
    )
    _tc1, tc2, tc3, tc4 = data["criteria"]
    tc2["indicators"][1].update(
        text="Hằng năm, người lớn trong gia đình đều tham gia học ít nhất 01 nội dung "
        f"(chuyên đề, lớp bồi dưỡng, học trực tuyến) {DEMO}",
        max_points=10,
        needs_completion=False,
    )
    tc2["indicators"][2].update(
        text=f"Người lớn tham gia sinh hoạt câu lạc bộ, đọc sách báo ở thư viện, tủ sách {DEMO}",
        max_points=10,
        needs_completion=False,
    )
    tc2["indicators"][0]["evidence_required"] = False
    tc3.update(max_points=20, description="")
    tc3["indicators"] = [
        {
            "code": "3.1",
            "text": f"Gia đình có góc học tập, tủ sách cho các thành viên {DEMO}",
            "max_points": 10,
        },
        {
            "code": "3.2",
            "text": f"Gia đình có quỹ khuyến học hoặc phương tiện học tập trực tuyến {DEMO}",
            "max_points": 10,
        },
    ]
    tc4.update(max_points=20, description="")
    tc4["indicators"] = [
        {
            "code": "4.1",
            "text": f"Kinh tế gia đình ổn định, có thu nhập từ trung bình trở lên {DEMO}",
            "max_points": 10,
        },
        {
            "code": "4.2",
            "text": f"Gia đình đạt danh hiệu “Gia đình văn hóa” trong năm {DEMO}",
            "max_points": 10,
        },
    ]
    return data


def community_set() -> dict[str, Any]:
    """Cộng đồng học tập cấp xã, from TT 25/2023 with TC3–TC5 completed."""
    data = _shipped("TT25-CDHT-XA")
    data.update(
        code="HCM-CDHT-XA-2024",
        name="Cộng đồng học tập cấp xã — bản vận dụng của TP. Hồ Chí Minh (DỮ LIỆU MẪU)",
        needs_completion=False,
        status="published",
        source_note=f"{DEMO_NOTE}\n\n{data['source_note']}",
    )
    completions: dict[str, list[tuple[str, str, str | None]]] = {
        "TC3": [
            ("3.1", "Trung tâm học tập cộng đồng hoạt động thường xuyên, hiệu quả", None),
            ("3.2", "Thư viện, tủ sách cộng đồng phục vụ người dân", None),
        ],
        "TC4": [
            (
                "4.1",
                "Duy trì đạt chuẩn phổ cập giáo dục tiểu học, trung học cơ sở",
                "Đạt chuẩn phổ cập mức độ cao hơn",
            ),
            ("4.2", "Duy trì đạt chuẩn xóa mù chữ mức độ 1", "Đạt chuẩn xóa mù chữ mức độ 2"),
        ],
        "TC5": [
            (
                "5.1",
                "Tỷ lệ gia đình đạt danh hiệu “Gia đình học tập” từ 50% trở lên",
                "Từ 70% trở lên",
            ),
            (
                "5.2",
                "Tỷ lệ khu phố đạt danh hiệu “Cộng đồng học tập” từ 50% trở lên",
                "Từ 70% trở lên",
            ),
        ],
    }
    for criterion in data["criteria"]:
        rows = completions.get(criterion["code"])
        if rows is None:
            continue
        criterion["indicators"] = [
            {
                "code": code,
                "text": f"{text} {DEMO}",
                "requirements": {
                    "1": f"{text} {DEMO}",
                    **({"2": f"{level2} {DEMO}"} if level2 else {}),
                },
                "evidence_required": code == "4.2",
            }
            for code, text, level2 in rows
        ]
    return data


def ensure_demo_sets(tenant: Tenant) -> dict[str, CriteriaSet]:
    """Import and publish the demo tenant's sets (idempotent)."""
    result: dict[str, CriteriaSet] = {}
    for key, build in (("family", family_set), ("community", community_set)):
        data = build()
        existing = CriteriaSet.objects.filter(tenant=tenant, code=data["code"]).first()
        result[key] = existing or criteria_set_import(tenant=tenant, data=data)
    return result
