"""Isolation registry of the decision and job API (tests/test_isolation.py).

The world: in the cast's district (reviewed by the cast's reviewer), in the
other district of the same tenant and in the other tenant, one draft decision,
one issued decision (a stored PDF; the row is marked issued directly so the
walk renders nothing), one failed job and one finished job with a file.

Operations with two path ids (``…/items/{assessment_id}``) vary the decision
id while ``other_params`` fills the item id: a foreign decision answers 404
(and the viewer 403) before the item is looked at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from core.models import Job, JobStatus
from recognition.models import Decision, DecisionStatus
from recognition.services import decision as decision_services
from recognition.titles import Title
from tests.conftest import Cast
from tests.isolation.base import Entry, Ids, _pid
from tests.recognition.conftest import YEAR

Three = tuple[Any, Any, Any]
PDF = b"%PDF-1.4\n%%EOF\n"


@dataclass
class World:
    drafts: Three
    issued: Three
    failed_jobs: Three
    done_jobs: Three


def _draft(unit: Any) -> Decision:
    return decision_services.decision_create(
        actor=None, issuing_unit=unit, title=Title.FAMILY, year=YEAR
    )


def _issued(unit: Any) -> Decision:
    decision = _draft(unit)
    name = default_storage.save(
        f"decisions/isolation-api/{decision.public_id.hex}.pdf", ContentFile(PDF)
    )
    Decision.objects.filter(pk=decision.pk).update(
        status=DecisionStatus.ISSUED,
        number=1,
        number_year=YEAR,
        issued_on=timezone.localdate(),
        pdf=name,
    )
    decision.refresh_from_db()
    return decision


def _job(unit: Any, status: str, decision: Decision) -> Job:
    job = Job.objects.create(
        tenant_id=unit.tenant_id,
        unit=unit,
        kind="decision.preview",
        label="Isolation (API)",
        object_type="recognition.decision",
        object_id=str(decision.public_id),
        status=status,
        message="Lỗi thử" if status == JobStatus.FAILED else "",
    )
    if status == JobStatus.DONE:
        job.file.save("du-thao.pdf", ContentFile(PDF), save=False)
        Job.objects.filter(pk=job.pk).update(file=job.file.name, file_name="du-thao.pdf")
    return job


def _world(cast: Cast) -> World:
    """Built once per cast (the ids and bodies are asked for many times)."""
    cached = getattr(cast, "_decision_api_world", None)
    if cached is not None:
        return cached
    places = (cast.district, cast.other_district, cast.other_tenant_ward)
    drafts = tuple(_draft(unit) for unit in places)
    world = World(
        drafts=drafts,  # type: ignore[arg-type]
        issued=tuple(_issued(unit) for unit in places),  # type: ignore[arg-type]
        failed_jobs=tuple(  # type: ignore[arg-type]
            _job(unit, JobStatus.FAILED, d) for unit, d in zip(places, drafts, strict=True)
        ),
        done_jobs=tuple(  # type: ignore[arg-type]
            _job(unit, JobStatus.DONE, d) for unit, d in zip(places, drafts, strict=True)
        ),
    )
    cast._decision_api_world = world  # type: ignore[attr-defined]
    return world


def _ids(objects: Three, actor: Any) -> Ids:
    return Ids(
        actor=actor,
        in_scope=_pid(objects[0]),
        other_subtree=_pid(objects[1]),
        other_tenant=_pid(objects[2]),
    )


def draft_ids(cast: Cast) -> Ids:
    """The district reviewer asks for a draft of the district, of the other
    district, of the other tenant."""
    return _ids(_world(cast).drafts, cast.reviewer)


def issued_ids(cast: Cast) -> Ids:
    return _ids(_world(cast).issued, cast.reviewer)


def failed_job_ids(cast: Cast) -> Ids:
    return _ids(_world(cast).failed_jobs, cast.reviewer)


def done_job_ids(cast: Cast) -> Ids:
    return _ids(_world(cast).done_jobs, cast.reviewer)


def issuer_unit_ids(cast: Cast) -> Ids:
    _world(cast)
    return Ids(
        actor=cast.reviewer,
        in_scope=_pid(cast.district),
        other_subtree=_pid(cast.other_district),
        other_tenant=_pid(cast.other_tenant_ward),
    )


def _create_json(cast: Cast) -> dict[str, Any]:
    return {"issuing_unit": _pid(cast.district), "title": Title.FAMILY, "year": YEAR}


def _edit_json(cast: Cast) -> dict[str, Any]:
    return {"version": _world(cast).drafts[0].version, "summary": "Về việc công nhận"}


def _an_item(cast: Cast) -> dict[str, str]:
    """The second path id: any well-formed id (the decision is refused first)."""
    return {"assessment_id": _pid(_world(cast).drafts[0])}


def _draft_write(**kwargs: Any) -> Entry:
    return Entry(reads=(), writes=("POST",), ids=draft_ids, **kwargs)


def _issued_write(**kwargs: Any) -> Entry:
    return Entry(reads=(), writes=("POST",), ids=issued_ids, **kwargs)


API_REGISTRY: dict[str, Entry] = {
    "GET /api/v1/decisions": Entry(ids=issuer_unit_ids, query="unit"),
    "POST /api/v1/decisions": Entry(reads=(), writes=("POST",), body=_create_json),
    "GET /api/v1/decisions/{public_id}": Entry(ids=draft_ids),
    "PATCH /api/v1/decisions/{public_id}": Entry(
        reads=(), writes=("PATCH",), ids=draft_ids, body=_edit_json
    ),
    "GET /api/v1/decisions/{public_id}/items": Entry(ids=draft_ids),
    "POST /api/v1/decisions/{public_id}/items": _draft_write(),
    "POST /api/v1/decisions/{public_id}/items/remove": _draft_write(
        body=lambda cast: {"assessment_ids": None}
    ),
    "DELETE /api/v1/decisions/{public_id}/items/{assessment_id}": Entry(
        reads=(), writes=("DELETE",), ids=draft_ids, other_params=_an_item
    ),
    "GET /api/v1/decisions/{public_id}/candidates": Entry(ids=draft_ids),
    "POST /api/v1/decisions/{public_id}/issue": _draft_write(),
    "POST /api/v1/decisions/{public_id}/preview": _draft_write(),
    "POST /api/v1/decisions/{public_id}/revoke": _issued_write(
        body=lambda cast: {"reason": "Sai danh sách"}
    ),
    "GET /api/v1/decisions/{public_id}/pdf": Entry(ids=issued_ids),
    "POST /api/v1/decisions/{public_id}/certificates": _issued_write(),
    "GET /api/v1/decisions/{public_id}/certificates": Entry(ids=issued_ids),
    "GET /api/v1/jobs/{public_id}": Entry(ids=failed_job_ids),
    "GET /api/v1/jobs/{public_id}/download": Entry(ids=done_job_ids),
    "POST /api/v1/jobs/{public_id}/retry": Entry(reads=(), writes=("POST",), ids=failed_job_ids),
}
