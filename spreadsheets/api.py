"""API of spreadsheet imports and exports, mounted by core.api:
``api.add_router("/imports", router)``, ``api.add_router("/exports", exports_router)``
and ``api.add_router("/units", unit_router)`` (the upload: ``POST /api/v1/units/{id}/imports``).

Scoped like the screens: an import is visible in its unit's subtree scope (404
elsewhere); uploads, confirms, cancels and exports need a role that may import
the kind at the unit (403 read-only). The upload answers 202 with the import:
poll ``GET /api/v1/imports/{id}`` until its status is ``ready`` or
``invalid``, read the preview, then confirm with the ``version`` you read (409
if it changed). An export answers 202 with its job: poll
``/api/v1/jobs/{id}`` and download the file there.
"""

import datetime as dt
import json
import uuid
from typing import Any

from django.db.models import QuerySet
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from core.api_jobs import JobOut
from core.api_pagination import PageNumberPagination
from core.http import AuthedRequest
from core.models import Job
from recognition.api.dossier import UnitRef
from spreadsheets import exports, services
from spreadsheets.exceptions import FileRejected, ImportError_
from spreadsheets.models import ImportRun, ImportStatus
from spreadsheets.registry import KINDS, kind_class
from spreadsheets.selectors import get_import_for_user, imports_for_user
from spreadsheets.views import error_report_response
from units.selectors import get_unit_for_user, require_write

router = Router(tags=["imports"])
exports_router = Router(tags=["imports"])
#: Mounted at "/units": uploads go to a unit (POST /api/v1/units/{id}/imports).
unit_router = Router(tags=["imports"])


class RowErrorOut(Schema):
    row: int
    column: str
    message: str


class SampleOut(Schema):
    row: int
    status: str
    key: str
    #: attribute -> [stored, new]
    changes: dict[str, list[Any]]


class ImportLinks(Schema):
    detail: str
    confirm: str
    cancel: str
    errors: str | None


class ImportOut(Schema):
    public_id: uuid.UUID
    kind: str
    unit: UnitRef
    options: dict[str, Any]
    status: ImportStatus
    version: int
    file_name: str
    file_size: int
    counts: dict[str, int]
    error_count: int
    message: str
    created_at: dt.datetime
    validated_at: dt.datetime | None
    applied_at: dt.datetime | None
    validate_job: JobOut | None
    apply_job: JobOut | None
    links: ImportLinks

    @staticmethod
    def resolve_links(obj: ImportRun) -> dict[str, str | None]:
        kwargs = {"public_id": obj.public_id}
        return {
            "detail": reverse("api:import-detail", kwargs=kwargs),
            "confirm": reverse("api:import-confirm", kwargs=kwargs),
            "cancel": reverse("api:import-cancel", kwargs=kwargs),
            "errors": reverse("api:import-errors", kwargs=kwargs) if obj.report else None,
        }


class ImportDetailOut(ImportOut):
    #: The first 1,000 errors; all of them at ``links.errors`` (CSV).
    errors: list[RowErrorOut]
    samples: list[SampleOut]


class VersionIn(Schema):
    version: int


class ExportIn(Schema):
    kind: str
    unit: uuid.UUID
    format: str = "xlsx"
    #: A subject list's filters, as its screen takes them (e.g. {"q": "Nguyễn",
    #: "status": "all"}); without them the whole data type is exported.
    filters: dict[str, str] | None = None
    #: The kind's options: {"title", "year", "scope_level"} of assessment results.
    options: dict[str, Any] = {}


def _fresh(run: ImportRun) -> ImportRun:
    return ImportRun.objects.select_related("unit", "validate_job", "apply_job").get(pk=run.pk)


def _writable(request: AuthedRequest, public_id: str) -> ImportRun:
    run = get_import_for_user(request.user, public_id)
    services.require_importer(request.user, run.unit, kind_class(run.kind))
    return run


@router.get(
    "",
    response=list[ImportOut],
    url_name="import-list",
    summary="Imports in scope, newest first (paginated)",
)
@paginate(PageNumberPagination, page_size=50)
def list_imports(request: AuthedRequest) -> QuerySet[ImportRun]:
    return imports_for_user(request.user)


@unit_router.post(
    "/{public_id}/imports",
    response={202: ImportDetailOut},
    url_name="import-upload",
    summary=(
        "Upload a file to check into the unit's subtree (multipart: kind, file, options as "
        "a JSON object). 202: poll the import until it is ready or invalid"
    ),
)
def upload_import(
    request: AuthedRequest,
    public_id: str,
    kind: Form[str | None] = None,
    options: Form[str | None] = None,
    file: File[UploadedFile | None] = None,
) -> Status[ImportRun]:
    """Every part is optional in the schema so that the scope checks run first
    (404 / 403) and a missing part gets a Vietnamese message (400)."""
    target = get_unit_for_user(request.user, public_id)
    require_write(request.user, target)
    if kind not in KINDS:
        raise ImportError_(
            _("Send the data type in the form field “kind”: one of %(kinds)s.")
            % {"kinds": ", ".join(KINDS)},
            code="import_kind",
        )
    kind_cls = kind_class(kind)
    services.require_importer(request.user, target, kind_cls)
    if file is None:
        raise FileRejected(_("Send the file in the form field “file”."))
    try:
        parsed = json.loads(options) if options else {}
    except ValueError as exc:
        raise ImportError_(_("The options must be a JSON object."), code="import_options") from exc
    if not isinstance(parsed, dict):
        raise ImportError_(_("The options must be a JSON object."), code="import_options")
    run = services.import_upload(
        actor=request.user, unit=target, kind=kind_cls.key, upload=file, options=parsed
    )
    return Status(202, _fresh(run))


@router.get(
    "/{public_id}",
    response=ImportDetailOut,
    url_name="import-detail",
    summary="One import: status, counts, the first errors (row, column, message), samples",
)
def get_import(request: AuthedRequest, public_id: str) -> ImportRun:
    return get_import_for_user(request.user, public_id)


@router.post(
    "/{public_id}/confirm",
    response={202: ImportDetailOut},
    url_name="import-confirm",
    summary="Apply a ready import (send the version you read; 409 if it changed)",
)
def confirm_import(request: AuthedRequest, public_id: str, payload: VersionIn) -> Status[ImportRun]:
    run = _writable(request, public_id)
    services.import_confirm(actor=request.user, run=run, expected_version=payload.version)
    return Status(202, _fresh(run))


@router.post(
    "/{public_id}/cancel",
    response=ImportDetailOut,
    url_name="import-cancel",
    summary="Cancel a checked import (its file is deleted)",
)
def cancel_import(request: AuthedRequest, public_id: str) -> ImportRun:
    run = _writable(request, public_id)
    services.import_cancel(actor=request.user, run=run)
    return _fresh(run)


@router.get(
    "/{public_id}/errors",
    response={200: None},
    url_name="import-errors",
    summary="Every error of the check as CSV (UTF-8 with BOM; 404 when there is none)",
)
def download_errors(request: AuthedRequest, public_id: str) -> HttpResponseBase:
    return error_report_response(get_import_for_user(request.user, public_id))


@exports_router.post(
    "",
    response={202: JobOut},
    url_name="export-start",
    summary="Export a data type of a unit's subtree as xlsx or csv (202 with the job to poll)",
)
def start_export(request: AuthedRequest, payload: ExportIn) -> Status[Job]:
    unit = get_unit_for_user(request.user, payload.unit)
    kind = kind_class(payload.kind)
    services.require_importer(request.user, unit, kind)
    job = exports.export_start(
        actor=request.user,
        unit=unit,
        kind=kind.key,
        fmt=payload.format,
        filters=payload.filters,
        options=payload.options,
    )
    return Status(202, job)
