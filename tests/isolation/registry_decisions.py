"""Isolation registry of the decision screens and the job pages (tests/test_isolation.py).

The world: in the cast's district (reviewed by the cast's reviewer), in the
other district of the same tenant and in the other tenant, one draft decision,
one issued decision (its PDF stored; the row is marked issued directly so the
walk renders nothing), one failed job and one finished job with a file.

The public verification page ``/verify/<token>`` needs no sign-in: it is exempt
here and tested in tests/recognition/test_verify.py.
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


@dataclass
class World:
    drafts: Three
    issued: Three
    failed_jobs: Three
    done_jobs: Three


def _issued(unit: Any) -> Decision:
    decision = decision_services.decision_create(
        actor=None, issuing_unit=unit, title=Title.FAMILY, year=YEAR
    )
    name = default_storage.save(
        f"decisions/isolation/{decision.public_id.hex}.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n")
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


def _job(unit: Any, status: str) -> Job:
    job = Job.objects.create(
        tenant_id=unit.tenant_id,
        unit=unit,
        kind="decision.preview",
        label="Isolation",
        status=status,
        message="Lỗi thử" if status == JobStatus.FAILED else "",
    )
    if status == JobStatus.DONE:
        job.file.save("du-thao.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"), save=False)
        Job.objects.filter(pk=job.pk).update(file=job.file.name, file_name="du-thao.pdf")
    return job


def _world(cast: Cast) -> World:
    """Built once per cast (the ids and bodies are asked for many times)."""
    cached = getattr(cast, "_decision_world", None)
    if cached is not None:
        return cached
    places = (cast.district, cast.other_district, cast.other_tenant_ward)
    world = World(
        drafts=tuple(  # type: ignore[arg-type]
            decision_services.decision_create(
                actor=None, issuing_unit=unit, title=Title.FAMILY, year=YEAR
            )
            for unit in places
        ),
        issued=tuple(_issued(unit) for unit in places),  # type: ignore[arg-type]
        failed_jobs=tuple(_job(unit, JobStatus.FAILED) for unit in places),  # type: ignore[arg-type]
        done_jobs=tuple(_job(unit, JobStatus.DONE) for unit in places),  # type: ignore[arg-type]
    )
    cast._decision_world = world  # type: ignore[attr-defined]
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


def _create_form(cast: Cast) -> dict[str, Any]:
    return {"issuing_unit": _pid(cast.district), "title": Title.FAMILY, "year": YEAR}


def _edit_form(cast: Cast) -> dict[str, Any]:
    draft = _world(cast).drafts[0]
    return {
        "version": draft.version,
        "agency": "ỦY BAN NHÂN DÂN QUẬN MỘT",
        "symbol": "QĐ-UBND",
        "place_name": "Quận Một",
        "summary": "Về việc công nhận",
        "authority": "ỦY BAN NHÂN DÂN QUẬN MỘT",
        "legal_bases": "Căn cứ Luật Tổ chức chính quyền địa phương",
        "articles": "Điều 1. Công nhận.",
        "signing_form": "TM.",
        "signer_name": "Nguyễn Văn A",
    }


def _profile_form(cast: Cast) -> dict[str, Any]:
    return {
        "agency": "ỦY BAN NHÂN DÂN QUẬN MỘT",
        "authority": "ỦY BAN NHÂN DÂN QUẬN MỘT",
        "symbol": "QĐ-UBND",
        "place_name": "Quận Một",
        "signing_form": "TM.",
    }


def _draft_post(**kwargs: Any) -> Entry:
    return Entry(reads=(), writes=("POST",), ids=draft_ids, **kwargs)


def _issued_post(**kwargs: Any) -> Entry:
    return Entry(reads=(), writes=("POST",), ids=issued_ids, **kwargs)


HTML_REGISTRY: dict[str, Entry] = {
    "recognition:decision-list": Entry(writes=("POST",), body=_create_form),
    "recognition:decision-detail": Entry(writes=("POST",), ids=draft_ids, body=_edit_form),
    "recognition:decision-preview": Entry(writes=("POST",), ids=draft_ids, body=_edit_form),
    "recognition:decision-annex-add": _draft_post(body=lambda cast: {"all": "1"}),
    "recognition:decision-annex-remove": _draft_post(body=lambda cast: {"all": "1"}),
    "recognition:decision-issue": _draft_post(),
    "recognition:decision-preview-pdf": _draft_post(),
    "recognition:decision-certificates": _issued_post(),
    "recognition:decision-revoke": _issued_post(body=lambda cast: {"reason": "Sai danh sách"}),
    "recognition:decision-pdf": Entry(ids=issued_ids),
    "recognition:decision-issuer-profile": Entry(
        writes=("POST",), ids=issuer_unit_ids, body=_profile_form
    ),
    "jobs:detail": Entry(ids=failed_job_ids),
    "jobs:progress": Entry(ids=failed_job_ids),
    "jobs:download": Entry(ids=done_job_ids),
    "jobs:retry": Entry(reads=(), writes=("POST",), ids=failed_job_ids),
}

EXEMPT_URLS: dict[str, str] = {
    "verify": "public verification page of a printed certificate (QR code): no sign-in, "
    "a 256-bit random token, rate-limited (tests/recognition/test_verify.py)",
}
