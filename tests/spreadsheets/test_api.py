"""The import and export API: upload (multipart), preview, confirm with the version,
cancel, the error report, exports through jobs; token auth; scope and read-only."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from accounts.services import api_token_create
from recognition.models import Household
from spreadsheets.models import ImportRun
from tests.conftest import client_for
from tests.spreadsheets.support import kind_headers, xlsx_bytes

pytestmark = pytest.mark.django_db

HEADERS = kind_headers("households")


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def bearer(user: Any) -> dict[str, str]:
    _token, raw = api_token_create(user=user, name="script")
    return {"authorization": f"Bearer {raw}"}


def rows(cast: Any, n: int = 3) -> list[list[Any]]:
    return [
        [f"API-{i:03d}", f"Đỗ Quốc Bảo {i}", "", 2, cast.neighbourhood.code]
        for i in range(1, n + 1)
    ]


def upload(
    client: Any,
    capture: Any,
    unit: Any,
    content: bytes | None,
    *,
    kind: str | None = "households",
    headers: dict[str, str] | None = None,
    options: str | None = None,
) -> Any:
    data: dict[str, Any] = {}
    if kind is not None:
        data["kind"] = kind
    if options is not None:
        data["options"] = options
    if content is not None:
        data["file"] = SimpleUploadedFile("ho.xlsx", content)
    with capture(execute=True):
        return client.post(f"/api/v1/units/{unit.public_id}/imports", data, headers=headers)


def upload_ready(client: Any, capture: Any, unit: Any, content: bytes, **kwargs: Any) -> Any:
    """Upload, let the check run, and read the import again."""
    response = upload(client, capture, unit, content, **kwargs)
    assert response.status_code == 202, response.content
    detail = client.get(response.json()["links"]["detail"], headers=kwargs.get("headers"))
    assert detail.json()["status"] == "ready", detail.content
    return detail.json()


def test_upload_preview_confirm_by_token(
    cast: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client, auth = Client(), bearer(cast.ward_official)
    bad = rows(cast)
    bad[1][3] = "1.234,5"
    response = upload(
        client,
        django_capture_on_commit_callbacks,
        cast.ward,
        xlsx_bytes(HEADERS, bad),
        headers=auth,
    )
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "uploaded"  # the check runs as a job
    body = client.get(response.json()["links"]["detail"], headers=auth).json()
    assert body["status"] == "invalid" and body["kind"] == "households"
    assert body["unit"]["code"] == cast.ward.code
    assert body["counts"] == {"total": 3, "new": 2, "changed": 0, "unchanged": 0, "error": 1}
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "Số nhân khẩu (D)")]
    assert body["validate_job"]["status"] == "done"
    report = client.get(body["links"]["errors"], headers=auth)
    assert report.status_code == 200
    assert "Số nhân khẩu (D)" in b"".join(report.streaming_content).decode("utf-8-sig")

    response = upload(
        client,
        django_capture_on_commit_callbacks,
        cast.ward,
        xlsx_bytes(HEADERS, rows(cast)),
        headers=auth,
    )
    ready = client.get(response.json()["links"]["detail"], headers=auth).json()
    assert ready["status"] == "ready" and ready["links"]["errors"] is None
    assert ready["samples"][0] == {"row": 2, "status": "new", "key": "API-001", "changes": {}}

    stale = client.post(
        ready["links"]["confirm"],
        json.dumps({"version": ready["version"] - 1}),
        content_type="application/json",
        headers=auth,
    )
    assert stale.status_code == 409 and stale.json()["code"] == "concurrent_edit"
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(
            ready["links"]["confirm"],
            json.dumps({"version": ready["version"]}),
            content_type="application/json",
            headers=auth,
        )
    assert confirmed.status_code == 202
    applied = client.get(ready["links"]["detail"], headers=auth).json()
    assert applied["status"] == "applied" and applied["apply_job"]["status"] == "done"
    assert Household.objects.filter(code__startswith="API-").count() == 3
    twice = client.post(
        ready["links"]["confirm"],
        json.dumps({"version": applied["version"]}),
        content_type="application/json",
        headers=auth,
    )
    assert twice.status_code == 409 and twice.json()["code"] == "import_state"

    listed = client.get("/api/v1/imports", headers=auth).json()
    assert {item["public_id"] for item in listed["items"]} == {
        body["public_id"],
        ready["public_id"],
    }


def test_cancel(cast: Any, django_capture_on_commit_callbacks: Any) -> None:
    client = client_for(cast.ward_official)
    ready = upload_ready(
        client, django_capture_on_commit_callbacks, cast.ward, xlsx_bytes(HEADERS, rows(cast))
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ready["links"]["cancel"])
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert not ImportRun.objects.get().file


def test_upload_refusals(cast: Any, django_capture_on_commit_callbacks: Any) -> None:
    content = xlsx_bytes(HEADERS, rows(cast))
    ward = client_for(cast.ward_official)
    capture = django_capture_on_commit_callbacks
    missing = upload(ward, capture, cast.ward, None)
    assert missing.status_code == 400 and missing.json()["code"] == "import_file_rejected"
    no_kind = upload(ward, capture, cast.ward, content, kind=None)
    assert no_kind.status_code == 400 and "households" in no_kind.json()["detail"]
    bad_options = upload(ward, capture, cast.ward, content, options="[1]")
    assert bad_options.status_code == 400 and bad_options.json()["code"] == "import_options"
    assert upload(client_for(cast.viewer), capture, cast.ward, content).status_code == 403
    assert upload(ward, capture, cast.other_ward, content).status_code == 404
    other = Client()
    assert (
        upload(
            other, capture, cast.ward, content, headers=bearer(cast.other_tenant_official)
        ).status_code
        == 404
    )
    assert upload(Client(), capture, cast.ward, content).status_code == 401
    assert not ImportRun.objects.exists()


def test_imports_outside_the_scope_are_404(
    cast: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ready = upload_ready(
        client_for(cast.ward_official),
        django_capture_on_commit_callbacks,
        cast.ward,
        xlsx_bytes(HEADERS, rows(cast)),
    )
    other = client_for(cast.other_tenant_official)
    assert other.get(ready["links"]["detail"]).status_code == 404
    assert (
        other.post(
            ready["links"]["confirm"],
            json.dumps({"version": ready["version"]}),
            content_type="application/json",
        ).status_code
        == 404
    )
    assert other.get("/api/v1/imports").json()["items"] == []
    viewer = client_for(cast.viewer)
    assert viewer.get(ready["links"]["detail"]).status_code == 200
    assert viewer.post(ready["links"]["cancel"]).status_code == 403
    assert ImportRun.objects.get().status == "ready"


def test_export_job_then_download(cast: Any, django_capture_on_commit_callbacks: Any) -> None:
    client, auth = Client(), bearer(cast.ward_official)
    ready = upload_ready(
        client,
        django_capture_on_commit_callbacks,
        cast.ward,
        xlsx_bytes(HEADERS, rows(cast)),
        headers=auth,
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            ready["links"]["confirm"],
            json.dumps({"version": ready["version"]}),
            content_type="application/json",
            headers=auth,
        )
    body = {"kind": "households", "unit": str(cast.ward.public_id), "format": "xlsx"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/exports", json.dumps(body), content_type="application/json", headers=auth
        )
    assert response.status_code == 202
    job = client.get(response.json()["links"]["detail"], headers=auth).json()
    assert job["status"] == "done" and job["file_available"]
    download = client.get(job["links"]["download"], headers=auth)
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content))).worksheets[0]
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == [
        "API-001",
        "API-002",
        "API-003",
    ]
    filtered = {**body, "format": "csv", "filters": {"q": "bao 3"}}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/exports", json.dumps(filtered), content_type="application/json", headers=auth
        )
    job = client.get(response.json()["links"]["detail"], headers=auth).json()
    csv_text = b"".join(client.get(job["links"]["download"], headers=auth).streaming_content)
    assert csv_text.decode("utf-8-sig").splitlines()[1].startswith("API-003,")

    viewer = client_for(cast.viewer)
    assert (
        viewer.post(
            "/api/v1/exports", json.dumps(body), content_type="application/json"
        ).status_code
        == 403
    )
    elsewhere = {**body, "unit": str(cast.other_ward.public_id)}
    assert (
        client.post(
            "/api/v1/exports", json.dumps(elsewhere), content_type="application/json", headers=auth
        ).status_code
        == 404
    )
    bad = {**body, "format": "pdf"}
    refused = client.post(
        "/api/v1/exports", json.dumps(bad), content_type="application/json", headers=auth
    )
    assert refused.status_code == 400 and refused.json()["code"] == "export_format"
