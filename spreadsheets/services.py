"""The import flow: upload -> check (a job, giving the preview) -> confirm -> apply (a job, one transaction).

Issue 8 §2: a file with any error changes nothing; re-importing the same file
changes nothing (natural keys); the uploaded file lives in the configured
storage so any process can confirm it, and is deleted once it is no longer needed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from pathlib import PurePath
from typing import Any, BinaryIO, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.exceptions import ConcurrentEditError
from core.jobs import job_create, job_progress
from core.models import Job
from core.text import nfc
from spreadsheets.engine import Outcome, run_import
from spreadsheets.exceptions import FileRejected, ImportStateError
from spreadsheets.kinds.base import ImportContext, ImportKind
from spreadsheets.models import FINISHED_STATUSES, ImportRun, ImportStatus
from spreadsheets.registry import kind_class
from units.models import AdministrativeUnit, Tenant
from units.selectors import require_write, roles_at

log = logging.getLogger(__name__)

ALLOWED_SUFFIXES = (".xlsx", ".csv")


class _Rollback(Exception):
    """Raised inside the apply transaction when the file has errors: nothing stays written."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__("import has errors")
        self.outcome = outcome


def require_importer(actor: Any, unit: AdministrativeUnit, kind: type[ImportKind]) -> None:
    """404 outside the actor's scope, 403 for read-only roles and kinds that need a higher role."""
    require_write(actor, unit)
    if kind.roles and not roles_at(actor, unit) & kind.roles:
        raise PermissionDenied


def _check_upload(upload: Any) -> str:
    name = nfc(PurePath(str(upload.name or "")).name)[:255]
    if not name.lower().endswith(ALLOWED_SUFFIXES):
        raise FileRejected(
            _("Only .xlsx (Excel) and .csv files can be imported; %(name)s is neither.")
            % {"name": name or "?"}
        )
    if upload.size > settings.IMPORT_MAX_BYTES:
        raise FileRejected(
            _("The file is %(size)s MB; the limit is %(limit)s MB.")
            % {
                "size": f"{upload.size / 1048576:.1f}".replace(".", ","),
                "limit": settings.IMPORT_MAX_BYTES // 1048576,
            }
        )
    return name


@transaction.atomic
def import_upload(
    *,
    actor: Any,
    unit: AdministrativeUnit,
    kind: str,
    upload: Any,
    options: dict[str, Any] | None = None,
) -> ImportRun:
    """Store the file and start checking it (the preview is ready when the job is done)."""
    kind_cls = kind_class(kind)
    require_importer(actor, unit, kind_cls)
    name = _check_upload(upload)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    run = ImportRun(
        tenant_id=unit.tenant_id,
        unit=unit,
        kind=kind,
        options=options or {},
        file_name=name,
        file_size=upload.size,
        sha256=digest.hexdigest(),
        language=translation.get_language() or settings.LANGUAGE_CODE,
        created_by=actor,
    )
    run.file.save(name, File(upload), save=False)
    run.save()
    run.validate_job = job_create(
        kind="import.validate",
        actor=actor,
        unit=unit,
        label=_("Checking %(file)s") % {"file": name},
        obj=run,
    )
    run.save(update_fields=["validate_job"])
    audit_record(
        actor=actor,
        action="import.upload",
        obj=run,
        tenant=unit.tenant,
        unit=unit,
        after={"kind": kind, "file": name, "size": upload.size, "sha256": run.sha256},
    )
    return run


def _context(run: ImportRun, *, dry_run: bool) -> ImportContext:
    return ImportContext(
        tenant=Tenant.objects.get(pk=run.tenant_id),
        unit=run.unit,
        actor=run.created_by,
        options=dict(run.options),
        dry_run=dry_run,
    )


def _progress(job: Job, verb: str) -> Any:
    def report(rows: int, total: int | None) -> None:
        percent = min(95, rows * 95 // total) if total else 50
        job_progress(
            job,
            percent,
            _("%(verb)s: %(rows)s rows") % {"verb": verb, "rows": f"{rows:,}".replace(",", ".")},
        )

    return report


def _store_outcome(run: ImportRun, outcome: Outcome, *, status: str, message: str = "") -> None:
    run.counts = outcome.counts
    run.errors = [e.as_dict() for e in outcome.errors]
    run.error_count = outcome.error_count
    run.samples = outcome.samples
    run.message = message
    run.status = status
    if run.report:
        run.report.delete(save=False)
    if outcome.report is not None:
        run.report.save("errors.csv", File(outcome.report), save=False)
        outcome.report.close()
    run.version += 1


def _load_for_job(job: Job) -> ImportRun:
    return ImportRun.objects.select_related("unit", "created_by").get(public_id=job.object_id)


def import_validate_run(job: Job) -> None:
    """Job handler "import.validate": check the whole file and store the preview."""
    run = _load_for_job(job)
    if run.status not in (ImportStatus.UPLOADED, ImportStatus.VALIDATING, ImportStatus.FAILED):
        return  # already checked (the task ran twice)
    ImportRun.objects.filter(pk=run.pk).update(status=ImportStatus.VALIDATING)
    with translation.override(run.language):
        try:
            ctx = _context(run, dry_run=True)
            kind = kind_class(run.kind)(ctx=ctx)
            with run.file.open("rb") as source:
                outcome = run_import(
                    kind=kind,
                    file=cast(BinaryIO, source),
                    filename=run.file_name,
                    ctx=ctx,
                    apply=False,
                    progress=_progress(job, _("Checked")),
                )
        except FileRejected as exc:
            _store_outcome(run, Outcome(), status=ImportStatus.INVALID, message=str(exc))
        except Exception:
            ImportRun.objects.filter(pk=run.pk).update(status=ImportStatus.FAILED)
            raise
        else:
            status = ImportStatus.INVALID if outcome.error_count else ImportStatus.READY
            message = "" if outcome.total else _("The file has a header row but no data rows.")
            if not outcome.total:
                status = ImportStatus.INVALID
            _store_outcome(run, outcome, status=status, message=message)
        run.validated_at = timezone.now()
        run.save()


@transaction.atomic
def import_confirm(*, actor: Any, run: ImportRun, expected_version: int) -> ImportRun:
    """The user read the preview and confirms: apply it (in a job)."""
    locked = ImportRun.objects.select_for_update(of=("self",)).get(pk=run.pk)
    require_importer(actor, locked.unit, kind_class(locked.kind))
    if locked.version != expected_version:
        raise ConcurrentEditError()
    if locked.status != ImportStatus.READY:
        raise ImportStateError(
            _("Only a checked file without errors can be imported (this one is: %(status)s).")
            % {"status": locked.get_status_display()}
        )
    locked.status = ImportStatus.APPLYING
    locked.version += 1
    locked.apply_job = job_create(
        kind="import.apply",
        actor=actor,
        unit=locked.unit,
        label=_("Importing %(file)s") % {"file": locked.file_name},
        obj=locked,
    )
    locked.save()
    audit_record(
        actor=actor,
        action="import.confirm",
        obj=locked,
        tenant=locked.unit.tenant,
        unit=locked.unit,
        after={"kind": locked.kind, "counts": locked.counts},
    )
    return locked


def import_apply_run(job: Job) -> None:
    """Job handler "import.apply": check again and write everything in one transaction.

    The data may have changed since the preview (another import, an edit): the
    file is checked again inside the transaction and, if anything is now wrong,
    nothing is written and the import goes back to "has errors" with the new
    preview. Imports of one tenant are applied one at a time (the tenant row is
    locked), so two files with the same new household cannot both create it.
    """
    run = _load_for_job(job)
    if run.status not in (ImportStatus.APPLYING, ImportStatus.FAILED):
        return  # applied already (the task ran twice)
    with translation.override(run.language):
        try:
            with transaction.atomic():
                Tenant.objects.select_for_update().filter(pk=run.tenant_id).first()
                ctx = _context(run, dry_run=False)
                kind = kind_class(run.kind)(ctx=ctx)
                with run.file.open("rb") as source:
                    outcome = run_import(
                        kind=kind,
                        file=cast(BinaryIO, source),
                        filename=run.file_name,
                        ctx=ctx,
                        apply=True,
                        progress=_progress(job, _("Imported")),
                    )
                if outcome.error_count:
                    raise _Rollback(outcome)
                audit_record(
                    actor=run.created_by,
                    action="import.apply",
                    obj=run,
                    tenant=run.unit.tenant,
                    unit=run.unit,
                    after={"kind": run.kind, "file": run.file_name, "counts": outcome.counts},
                )
                _store_outcome(run, outcome, status=ImportStatus.APPLIED)
                run.applied_at = timezone.now()
                run.save()
                transaction.on_commit(lambda: _delete_source(run.pk))
        except _Rollback as rollback:
            run.refresh_from_db()
            _store_outcome(
                run,
                rollback.outcome,
                status=ImportStatus.INVALID,
                message=_(
                    "The data changed since the check: nothing was imported. "
                    "Read the errors below, fix the file and upload it again."
                ),
            )
            run.save()
        except FileRejected as exc:
            run.refresh_from_db()
            _store_outcome(run, Outcome(), status=ImportStatus.INVALID, message=str(exc))
            run.save()
        except Exception:
            ImportRun.objects.filter(pk=run.pk).update(status=ImportStatus.FAILED)
            raise


def _delete_source(run_pk: int) -> None:
    """Drop the uploaded file (the row keeps its name, size and SHA-256)."""
    run = ImportRun.objects.filter(pk=run_pk).first()
    if run is None or not run.file:
        return
    try:
        run.file.delete(save=False)
    except OSError:  # storage hiccup: the expiry task tries again
        log.warning("could not delete the source of import %s", run.public_id)
        return
    ImportRun.objects.filter(pk=run_pk).update(file="")


@transaction.atomic
def import_cancel(*, actor: Any, run: ImportRun) -> ImportRun:
    """Drop a checked import that the user does not want (its file is deleted)."""
    locked = ImportRun.objects.select_for_update(of=("self",)).get(pk=run.pk)
    require_importer(actor, locked.unit, kind_class(locked.kind))
    if locked.status not in (ImportStatus.READY, ImportStatus.INVALID, ImportStatus.FAILED):
        raise ImportStateError(
            _("This import cannot be cancelled now (it is: %(status)s).")
            % {"status": locked.get_status_display()}
        )
    locked.status = ImportStatus.CANCELLED
    locked.version += 1
    locked.save(update_fields=["status", "version"])
    audit_record(
        actor=actor, action="import.cancel", obj=locked, tenant=locked.unit.tenant, unit=locked.unit
    )
    transaction.on_commit(lambda: _delete_source(locked.pk))
    return locked


def imports_expire(*, now: dt.datetime | None = None) -> int:
    """Beat task: imports left unconfirmed for IMPORT_EXPIRY_HOURS expire and lose their
    files; finished imports whose file is still there (a failed delete) lose it too."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(hours=settings.IMPORT_EXPIRY_HOURS)
    stale = ImportRun.objects.filter(
        created_at__lt=cutoff,
        status__in=[ImportStatus.READY, ImportStatus.INVALID, ImportStatus.FAILED],
    )
    expired = 0
    for run in stale.iterator():
        ImportRun.objects.filter(pk=run.pk, status=run.status).update(
            status=ImportStatus.EXPIRED, version=run.version + 1
        )
        _delete_source(run.pk)
        expired += 1
    for run in ImportRun.objects.filter(status__in=FINISHED_STATUSES).exclude(file=""):
        _delete_source(run.pk)
    return expired
