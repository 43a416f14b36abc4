"""API of the reorganisation plans (mounted at ``/api/v1/reorganisations``).

Like the screens: tenant administrators write (403 for anyone else, the
read-only viewer included); they and steering viewers whose scope is the whole
tenant read; another tenant's plan is a 404. Units are addressed by
their public ids; a target's ``parent`` is the public id of a unit in force or
the code of another new unit of the plan. Writes take the ``version`` the
client read (409 if it changed). Apply answers 409 with every conflict when the
plan has any, and nothing changes.

``POST /import`` (multipart: ``file``, ``name``, ``legal_basis``,
``abolish_level``) turns the official old → new commune code mapping into a
draft plan and answers 201 with its id, the preview's counts, its conflicts and
the warnings to check; a file with errors answers 400 with every error (row,
column, message) and creates nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, BinaryIO, cast

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from core.http import AuthedRequest
from core.text import nfc
from spreadsheets.exceptions import FileRejected
from units.models import AdministrativeUnit
from units.reorganisation import selectors, services
from units.reorganisation.exceptions import ReorganisationConflictError, ReorganisationError
from units.reorganisation.mapping import MappingFileError, mapping_import
from units.reorganisation.models import Reorganisation, ReorganisationStep
from units.reorganisation.selectors import get_plan_for_reader, plans_for_reader
from units.selectors import is_tenant_admin, public_id_or_none, units_for_user

router = Router(tags=["reorganisations"])


class TargetOut(Schema):
    code: str
    name: str
    kind: str
    parent: int | str | None = None
    neighbourhoods: list[int] = []
    default: bool = False


class StepOut(Schema):
    id: int
    position: int
    kind: str
    sources: list[str]
    targets: list[TargetOut]


class PlanOut(Schema):
    public_id: uuid.UUID
    name: str
    legal_basis: str
    effective_on: dt.date
    abolish_level: str
    status: str
    source: str
    version: int
    applied_at: dt.datetime | None
    result: dict[str, Any]


class PlanDetailOut(PlanOut):
    steps: list[StepOut]


class PlanIn(Schema):
    name: str
    effective_on: dt.date
    legal_basis: str = ""
    abolish_level: str = ""


class TargetIn(Schema):
    code: str = ""
    name: str = ""
    kind: str = ""
    parent: str | None = None
    neighbourhoods: list[uuid.UUID] = []
    default: bool = False


class StepIn(Schema):
    kind: str
    sources: list[uuid.UUID]
    targets: list[TargetIn] = []
    version: int | None = None


class VersionIn(Schema):
    version: int


class ConflictOut(Schema):
    step: int | None
    unit_code: str
    message: str
    code: str


class PreviewOut(Schema):
    can_apply: bool
    counts: dict[str, int]
    steps: list[dict[str, Any]]
    abolished: list[str]
    conflicts: list[ConflictOut]
    #: What applying does that the administrator should check (never refusing).
    notices: list[ConflictOut] = []


class ConflictsOut(Schema):
    code: str
    detail: str
    conflicts: list[ConflictOut]


class RowErrorOut(Schema):
    row: int
    column: str
    message: str


class MappingImportOut(Schema):
    public_id: uuid.UUID
    plan: PlanDetailOut
    can_apply: bool
    counts: dict[str, int]
    conflicts: list[ConflictOut]
    warnings: list[str]


class MappingErrorsOut(Schema):
    code: str
    detail: str
    errors: list[RowErrorOut]


def _require_planner(request: AuthedRequest) -> None:
    if not is_tenant_admin(request.user):
        raise PermissionDenied


def _plan(request: AuthedRequest, public_id: str) -> Reorganisation:
    _require_planner(request)
    return selectors.get_reorganisation_for_user(request.user, public_id)


def _detail(plan: Reorganisation) -> dict[str, Any]:
    plan.refresh_from_db()
    steps = []
    for step, sources in selectors.plan_steps(plan):
        steps.append(
            {
                "id": step.pk,
                "position": step.position,
                "kind": step.kind,
                "sources": [u.code for u in sources],
                "targets": step.targets,
            }
        )
    return {**PlanOut.from_orm(plan).dict(), "steps": steps}


def _unit(request: AuthedRequest, public_id: Any) -> AdministrativeUnit:
    parsed = public_id_or_none(public_id)
    unit = units_for_user(request.user).filter(public_id=parsed).first() if parsed else None
    if unit is None:
        raise Http404
    return unit


@router.get("", response=list[PlanOut], summary="The tenant's reorganisation plans")
def list_plans(request: AuthedRequest) -> QuerySet[Reorganisation]:
    return plans_for_reader(request.user)


@router.post("", response={201: PlanDetailOut}, summary="A new draft plan")
def create_plan(request: AuthedRequest, payload: PlanIn) -> Status[dict[str, Any]]:
    _require_planner(request)
    plan = services.reorganisation_create(actor=request.user, **payload.dict())
    return Status(201, _detail(plan))


@router.post(
    "/import",
    response={201: MappingImportOut, 400: MappingErrorsOut},
    summary=(
        "Import the official old → new commune code mapping (multipart: file, name, "
        "legal_basis, abolish_level) as a draft plan (400 with every row and column error: "
        "nothing is created)"
    ),
)
def import_mapping(
    request: AuthedRequest,
    file: File[UploadedFile | None] = None,
    name: Form[str | None] = None,
    legal_basis: Form[str] = "",
    abolish_level: Form[str] = "",
) -> Status[dict[str, Any]]:
    """Every part is optional in the schema so that the permission check runs
    first (403) and a missing part gets a translated message (400)."""
    _require_planner(request)
    if file is None:
        raise FileRejected(_("Send the file in the form field “file”."))
    if not (name or "").strip():
        raise ReorganisationError(
            _("Send the name of the plan in the form field “name”."),
            code="reorganisation_import_name",
        )
    try:
        result = mapping_import(
            actor=request.user,
            file=cast(BinaryIO, file),
            filename=file.name or "",
            name=nfc(name or "").strip(),
            legal_basis=nfc(legal_basis).strip(),
            abolish_level=abolish_level,
        )
    except MappingFileError as exc:
        return Status(
            400,
            {"code": exc.code, "detail": str(exc), "errors": [e.as_dict() for e in exc.errors]},
        )
    preview = result.preview
    return Status(
        201,
        {
            "public_id": result.plan.public_id,
            "plan": _detail(result.plan),
            "can_apply": preview.can_apply,
            "counts": dict(preview.counts),
            "conflicts": [c.as_dict() for c in preview.conflicts],
            "warnings": result.warnings,
        },
    )


@router.get("/{public_id}", response=PlanDetailOut, summary="One plan with its steps")
def get_plan(request: AuthedRequest, public_id: str) -> dict[str, Any]:
    return _detail(get_plan_for_reader(request.user, public_id))


@router.post(
    "/{public_id}/steps",
    response={201: PlanDetailOut},
    summary="Add a step (merge, split, rename, recode, move) to a draft plan",
)
def add_step(request: AuthedRequest, public_id: str, payload: StepIn) -> Status[dict[str, Any]]:
    plan = _plan(request, public_id)
    sources = [_unit(request, pk) for pk in payload.sources]
    targets = []
    for target in payload.targets:
        parent: AdministrativeUnit | str | None = target.parent
        if target.parent and public_id_or_none(target.parent) is not None:
            parent = _unit(request, target.parent)
        targets.append(
            {
                "code": target.code,
                "name": target.name,
                "kind": target.kind,
                "parent": parent,
                "neighbourhoods": [_unit(request, pk) for pk in target.neighbourhoods],
                "default": target.default,
            }
        )
    services.step_add(
        actor=request.user,
        plan=plan,
        kind=payload.kind,
        sources=sources,
        targets=targets,
        expected_version=payload.version,
    )
    return Status(201, _detail(plan))


@router.delete(
    "/{public_id}/steps/{step_id}", response=PlanDetailOut, summary="Remove a step of a draft plan"
)
def remove_step(
    request: AuthedRequest, public_id: str, step_id: int, version: int | None = None
) -> dict[str, Any]:
    plan = _plan(request, public_id)
    step: ReorganisationStep = selectors.get_step_for_user(request.user, plan, step_id)
    services.step_remove(actor=request.user, step=step, expected_version=version)
    return _detail(plan)


@router.get(
    "/{public_id}/preview",
    response=PreviewOut,
    summary="What applying the plan would do, and every conflict",
)
def preview_plan(request: AuthedRequest, public_id: str) -> dict[str, Any]:
    plan = get_plan_for_reader(request.user, public_id)
    preview = services.reorganisation_preview(plan=plan)
    return {
        "can_apply": preview.can_apply,
        "counts": dict(preview.counts),
        "steps": [
            {
                "position": s.position,
                "kind": s.kind,
                "closes": [u.code for u in s.closes],
                "creates": [{"code": n.code, "name": n.name, "kind": n.kind} for n in s.creates],
                "copies": s.copies,
                "counts": dict(s.counts),
            }
            for s in preview.steps
        ],
        "abolished": [u.code for u in preview.abolished],
        "conflicts": [c.as_dict() for c in preview.conflicts],
        "notices": [n.as_dict() for n in preview.notices],
    }


@router.post(
    "/{public_id}/apply",
    response={200: PlanDetailOut, 409: ConflictsOut},
    summary="Apply the plan in one transaction (409 with every conflict: nothing changes)",
)
def apply_plan(request: AuthedRequest, public_id: str, payload: VersionIn) -> Any:
    plan = _plan(request, public_id)
    try:
        plan = services.reorganisation_apply(
            actor=request.user, plan=plan, expected_version=payload.version
        )
    except ReorganisationConflictError as exc:
        return Status(
            409,
            {
                "code": exc.code,
                "detail": str(exc),
                "conflicts": [c.as_dict() for c in exc.conflicts],
            },
        )
    return _detail(plan)


@router.post("/{public_id}/cancel", response=PlanDetailOut, summary="Cancel a draft plan")
def cancel_plan(request: AuthedRequest, public_id: str, payload: VersionIn) -> dict[str, Any]:
    plan = _plan(request, public_id)
    plan = services.reorganisation_cancel(
        actor=request.user, plan=plan, expected_version=payload.version
    )
    return _detail(plan)
