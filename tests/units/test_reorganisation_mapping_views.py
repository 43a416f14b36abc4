"""Screen and API of the official old → new code mapping import (issue 9 §5): a
clean file becomes a draft plan and opens its preview with the warnings; a bad
file lists every error with its row and column and creates nothing; only tenant
administrators import (others 403); another tenant's codes are unknown and its
plans 404; the API answers 201 with counts, conflicts and warnings, or 400 with
the errors."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from core.models import AuditEvent
from tests.conftest import Cast, client_for
from tests.factories import grant, make_unit, make_user
from units.models import AdministrativeUnit
from units.reorganisation.models import (
    Reorganisation,
    ReorganisationSource,
    ReorganisationStatus,
    ReorganisationStep,
)
from units.roles import Role

HEADER = "Mã xã cũ,Mã xã mới,Tên xã mới,Loại,Ngày hiệu lực"
DAY = "01/07/2025"
API = "/api/v1/reorganisations/import"
IMPORT = reverse("units:reorganisation-import")
TEMPLATE = reverse("units:reorganisation-import-template")


def _csv(*rows: str, header: str = HEADER, name: str = "sap-xep.csv") -> SimpleUploadedFile:
    content = "\n".join([header, *rows]) + "\n"
    return SimpleUploadedFile(name, content.encode("utf-8"), content_type="text/csv")


def _clean_file() -> SimpleUploadedFile:
    """Bến Nghé and Đa Kao merge into 27184; Tân Định splits into 27260 and 27261."""
    return _csv(
        f"27184,27184,Phường Sài Gòn,phường,{DAY}",
        f"27190,27184,Phường Sài Gòn,,{DAY}",
        f"27247,27260,Phường Tân Định Mới,phường,{DAY}",
        f"27247,27261,Phường Xuân Hòa,phường,{DAY}",
    )


def _bad_file() -> SimpleUploadedFile:
    return _csv(
        f"27184,27184,Phường Sài Gòn,phường,{DAY}",
        f"99999,27184,Phường Sài Gòn,,{DAY}",
        f"27247,27260,,phường,{DAY}",
    )


def _form(file: SimpleUploadedFile, **extra: Any) -> dict[str, Any]:
    return {
        "name": "Sắp xếp theo bảng",
        "legal_basis": "NQ 1685/NQ-UBTVQH15",
        "file": file,
        **extra,
    }


@pytest.fixture
def da_kao(cast: Cast) -> AdministrativeUnit:
    return make_unit(cast.tenant, cast.district, "phuong", "Phường Đa Kao", "27190")


def _plans(cast: Cast) -> int:
    return Reorganisation.objects.filter(tenant=cast.tenant).count()


# --- Screen ------------------------------------------------------------------------------


def test_plans_list_offers_the_import_and_the_page_the_template(cast: Cast) -> None:
    admin = client_for(cast.admin)
    listing = admin.get(reverse("units:reorganisation-list")).content.decode()
    assert f'href="{IMPORT}"' in listing
    page = admin.get(IMPORT)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert f'href="{TEMPLATE}"' in html
    for field in ("file", "name", "legal_basis", "abolish_level"):
        assert f'name="{field}"' in html
    template = admin.get(TEMPLATE)
    assert template.status_code == 200
    assert template["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in template["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(template.content)).worksheets[0]
    headers = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert headers[:3] == ["Mã xã cũ", "Mã xã mới", "Tên xã mới"]
    # The steering viewer reads plans but is not offered the import.
    viewer_list = client_for(cast.viewer).get(reverse("units:reorganisation-list"))
    assert IMPORT not in viewer_list.content.decode()


def test_admin_uploads_a_clean_file_and_lands_on_the_preview(cast: Cast, da_kao) -> None:
    admin = client_for(cast.admin)
    audits = AuditEvent.objects.count()
    response = admin.post(IMPORT, _form(_clean_file(), abolish_level=""))
    plan = Reorganisation.objects.get(tenant=cast.tenant)
    assert response.status_code == 302
    assert response["Location"] == reverse("units:reorganisation-preview", args=[plan.public_id])
    assert plan.name == "Sắp xếp theo bảng"
    assert plan.legal_basis == "NQ 1685/NQ-UBTVQH15"
    assert plan.source == ReorganisationSource.IMPORT
    assert plan.status == ReorganisationStatus.DRAFT
    steps = ReorganisationStep.objects.filter(plan=plan).order_by("position")
    assert [s.kind for s in steps] == ["merge", "split"]
    assert AuditEvent.objects.count() > audits

    preview = admin.get(response["Location"])
    html = preview.content.decode()
    assert preview.status_code == 200
    assert 'data-testid="import-warnings"' in html
    # The split's warning names the first new code, which takes everything.
    warnings = html.split('data-testid="import-warnings"')[1].split("</div>")[0]
    assert "27260" in warnings and "Phường Tân Định Mới" in warnings
    assert 'data-testid="apply-form"' in html
    assert 'data-testid="conflicts"' not in html
    assert "Sắp xếp theo bảng" in html  # the success message and the title


def test_bad_file_lists_every_error_with_row_and_column_and_creates_nothing(
    cast: Cast,
) -> None:
    admin = client_for(cast.admin)
    audits = AuditEvent.objects.count()
    response = admin.post(IMPORT, _form(_bad_file()))
    assert response.status_code == 200
    assert _plans(cast) == 0
    assert AuditEvent.objects.count() == audits
    html = response.content.decode()
    assert 'data-testid="import-errors"' in html
    rows = html.split('data-testid="import-error"')[1:]
    cells = [[cell.split("</td>")[0].strip() for cell in row.split("<td>")[1:4]] for row in rows]
    assert [(c[0], c[1]) for c in cells] == [("3", "Mã xã cũ"), ("4", "Tên xã mới")]
    assert "99999" in cells[0][2]
    # The form keeps the name typed so the admin only picks the corrected file.
    assert 'value="Sắp xếp theo bảng"' in html


def test_a_file_that_is_not_a_spreadsheet_is_refused_on_the_file_field(cast: Cast) -> None:
    admin = client_for(cast.admin)
    response = admin.post(IMPORT, _form(SimpleUploadedFile("bang.txt", b"\x00\x01binary")))
    assert response.status_code == 200
    assert 'id="id_file_error"' in response.content.decode()
    assert _plans(cast) == 0
    missing = admin.post(IMPORT, {"name": "Không có tệp"})
    assert missing.status_code == 200
    assert 'id="id_file_error"' in missing.content.decode()
    assert _plans(cast) == 0


def test_read_only_and_non_admins_get_403_and_nothing_is_created(cast: Cast) -> None:
    for user in (cast.viewer, cast.reviewer, cast.ward_official):
        client = client_for(user)
        assert client.get(IMPORT).status_code == 403
        assert client.get(TEMPLATE).status_code == 403
        assert client.post(IMPORT, _form(_clean_file())).status_code == 403
        response = client.post(API, {"name": "Sắp xếp", "file": _clean_file()})
        assert response.status_code == 403
    assert _plans(cast) == 0
    anonymous = Client()
    assert anonymous.get(IMPORT).status_code == 302
    assert anonymous.post(API, {"name": "Sắp xếp", "file": _clean_file()}).status_code == 401


def test_other_tenant_codes_are_unknown_and_its_plan_is_404(cast: Cast, da_kao) -> None:
    other_admin = grant(
        make_user(cast.other_tenant, "other-admin"), cast.other_city, Role.TENANT_ADMIN
    )
    other = client_for(other_admin)
    # The other tenant's admin cannot plan our wards: their codes are not found there.
    response = other.post(IMPORT, _form(_clean_file()))
    assert response.status_code == 200
    assert 'data-testid="import-errors"' in response.content.decode()
    assert Reorganisation.objects.count() == 0
    api = other.post(API, {"name": "Sắp xếp", "file": _clean_file()})
    assert api.status_code == 400
    assert {e["column"] for e in api.json()["errors"]} == {"Mã xã cũ"}
    # Our plan, once imported, is a 404 to them on the screen and the API.
    client_for(cast.admin).post(IMPORT, _form(_clean_file()))
    plan = Reorganisation.objects.get(tenant=cast.tenant)
    assert (
        other.get(reverse("units:reorganisation-preview", args=[plan.public_id])).status_code == 404
    )
    assert other.get(f"/api/v1/reorganisations/{plan.public_id}/preview").status_code == 404


# --- API ---------------------------------------------------------------------------------


def test_api_import_answers_the_plan_counts_conflicts_and_warnings(cast: Cast, da_kao) -> None:
    admin = client_for(cast.admin)
    response = admin.post(
        API, {"name": "Sắp xếp API", "legal_basis": "NQ 1", "file": _clean_file()}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    plan = Reorganisation.objects.get(public_id=body["public_id"])
    assert plan.tenant_id == cast.tenant.pk and plan.source == ReorganisationSource.IMPORT
    assert body["plan"]["name"] == "Sắp xếp API"
    assert [s["kind"] for s in body["plan"]["steps"]] == ["merge", "split"]
    assert body["can_apply"] is True
    assert body["conflicts"] == []
    # Three wards close with their two neighbourhoods, copied under the new wards.
    assert body["counts"]["units_closed"] == 5
    assert body["counts"]["units_created"] == 5
    assert body["counts"]["neighbourhoods_copied"] == 2
    assert len(body["warnings"]) == 1 and "27260" in body["warnings"][0]


def test_api_import_of_a_conflicting_mapping_reports_conflicts_and_apply_is_refused(
    cast: Cast,
) -> None:
    """27184 re-coded onto 27247, a code still in use: the plan is created, its
    conflicts are answered, and applying it is refused whole."""
    admin = client_for(cast.admin)
    response = admin.post(
        API, {"name": "Xung đột", "file": _csv(f"27184,27247,Phường Bến Nghé,phường,{DAY}")}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["can_apply"] is False
    assert body["conflicts"] and all(c["message"] for c in body["conflicts"])
    plan = Reorganisation.objects.get(public_id=body["public_id"])
    preview = admin.get(reverse("units:reorganisation-preview", args=[plan.public_id]))
    assert 'data-testid="conflicts"' in preview.content.decode()
    applied = admin.post(
        reverse("units:reorganisation-apply", args=[plan.public_id]), {"version": plan.version}
    )
    assert applied.status_code == 409
    plan.refresh_from_db()
    assert plan.status == ReorganisationStatus.DRAFT
    cast.ward.refresh_from_db()
    assert cast.ward.valid_to is None and cast.ward.code == "27184"


def test_api_import_errors_answer_400_with_rows_and_columns(cast: Cast) -> None:
    admin = client_for(cast.admin)
    response = admin.post(API, {"name": "Sắp xếp", "file": _bad_file()})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "reorganisation_mapping_invalid"
    assert [(e["row"], e["column"]) for e in body["errors"]] == [
        (3, "Mã xã cũ"),
        (4, "Tên xã mới"),
    ]
    assert all(e["message"] for e in body["errors"])
    assert _plans(cast) == 0
    no_file = admin.post(API, {"name": "Sắp xếp"})
    assert no_file.status_code == 400
    assert no_file.json()["code"] == "import_file_rejected"
    no_name = admin.post(API, {"file": _clean_file()})
    assert no_name.status_code == 400
    assert no_name.json()["code"] == "reorganisation_import_name"
    assert _plans(cast) == 0
