"""Exports: every import kind (and the subject lists with their filters) as XLSX or CSV.

An export is a job ("export.build"): the handler streams the kind's
``export_rows`` over the kind's scoped queryset — narrowed by the list
screen's filters, through the list's own FilterSet — into a temporary file and
attaches it to the job; the user downloads it through the scoped job views.
An exported file imports back unchanged (the kind's ``export_values`` write
exactly what its columns parse).
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from django.conf import settings
from django.http import Http404, QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import audit_record
from core.jobs import job_attach, job_create, job_progress
from core.models import Job
from core.text import fold
from recognition.personal_data.exports import log_list_export
from spreadsheets.exceptions import ImportError_
from spreadsheets.kinds.base import ImportContext, ImportKind
from spreadsheets.registry import kind_class
from spreadsheets.writers import ColumnSpec, write_csv, write_xlsx
from units.models import AdministrativeUnit, Tenant
from units.selectors import roles_at, units_for_user

FORMATS = ("xlsx", "csv")
#: Rows between two progress reports.
PROGRESS_EVERY = 2000


class ExportError(ImportError_):
    code = "export_error"
    default_message = gettext_lazy("The export could not be made.")


def kind_for(
    key: str, *, user: Any, unit: AdministrativeUnit, options: dict[str, Any] | None = None
) -> ImportKind:
    """A kind with its context: some kinds' columns depend on the options (the
    assessment results have one column per indicator of the title's criteria set)."""
    ctx = ImportContext(
        tenant=Tenant.objects.get(pk=unit.tenant_id),
        unit=unit,
        actor=user,
        options=dict(options or {}),
    )
    return kind_class(key)(ctx=ctx)


def column_specs(kind: ImportKind | type[ImportKind]) -> list[ColumnSpec]:
    """The kind's columns as the writers take them (template, export)."""
    return [
        ColumnSpec(
            header=column.header,
            width=column.width,
            help=str(column.help),
            required=column.required,
            choices=[str(choice) for choice in column.choices],
            number_format=column.number_format,
        )
        for column in kind.columns()
    ]


def template_xlsx(kind: ImportKind | type[ImportKind]) -> bytes:
    """The blank template (mẫu Excel) of a kind: the header row and the instructions sheet."""
    out = io.BytesIO()
    write_xlsx(
        out,
        columns=column_specs(kind),
        rows=[],
        instructions=[str(line) for line in kind.instructions],
        title=_("Template: %(kind)s") % {"kind": kind.label},
    )
    return out.getvalue()


def template_file_name(kind: ImportKind | type[ImportKind]) -> str:
    return f"mau-{_slug(str(kind.label))}.xlsx"


def _slug(text: str) -> str:
    folded = fold(text)
    return "-".join("".join(c if c.isalnum() else " " for c in folded).split()) or "du-lieu"


def list_filters() -> dict[str, Any]:
    """Kind key -> the FilterSet of its list screen (lazy: recognition imports spreadsheets)."""
    from recognition.filters import CitizenFilter, ClanFilter, HouseholdFilter, OrganisationFilter

    return {
        "households": HouseholdFilter,
        "clans": ClanFilter,
        "organisations": OrganisationFilter,
        "citizens": CitizenFilter,
    }


def clean_filters(filters: Mapping[str, Any] | str | None) -> dict[str, str] | None:
    """A list's query string (or dict) as plain strings, without paging and sorting.

    ``None`` (no list) exports the whole kind; an empty query string is a list
    without filters, which still applies the list's defaults (active rows only).
    """
    if filters is None:
        return None
    if isinstance(filters, str):
        filters = QueryDict(filters.lstrip("?"))
    dropped = {"page", "sort", "per_page"}
    return {
        str(k): str(v)
        for k, v in (filters.items() if hasattr(filters, "items") else [])
        if k not in dropped and v not in (None, "")
    }


def export_start(
    *,
    actor: Any,
    unit: AdministrativeUnit,
    kind: str,
    fmt: str,
    filters: Mapping[str, Any] | str | None = None,
    options: dict[str, Any] | None = None,
) -> Job:
    """Start an export of ``kind`` in ``unit``'s subtree (404 outside the actor's scope)."""
    kind_cls = kind_class(kind)
    if not roles_at(actor, unit):
        raise Http404
    if fmt not in FORMATS:
        raise ExportError(_("Choose XLSX or CSV."), code="export_format")
    cleaned = clean_filters(filters)
    if cleaned is not None and kind not in list_filters():
        raise ExportError(_("This list cannot be filtered."), code="export_filters")
    job = job_create(
        kind="export.build",
        actor=actor,
        unit=unit,
        label=_("Export: %(kind)s — %(unit)s") % {"kind": kind_cls.label, "unit": unit.name},
        params={
            "kind": kind,
            "format": fmt,
            "filters": cleaned,
            "options": options or {},
            "language": translation.get_language() or settings.LANGUAGE_CODE,
        },
    )
    audit_record(
        actor=actor,
        action="export.start",
        obj=job,
        tenant=unit.tenant,
        unit=unit,
        after={"kind": kind, "format": fmt, "filters": cleaned},
    )
    return job


def export_queryset(
    kind: ImportKind, *, user: Any, unit: AdministrativeUnit, filters: dict[str, str] | None
) -> Any:
    """The rows of an export: the kind's scoped queryset, narrowed like the list screen."""
    queryset = kind.export_queryset(user, unit)
    if filters is None:
        return queryset
    filterset_class = list_filters().get(kind.key)
    if filterset_class is None:
        raise ExportError(_("This list cannot be filtered."), code="export_filters")
    filterset = filterset_class(filters, queryset=queryset, units=units_for_user(user))
    if not filterset.is_valid() or filterset.form.errors:
        problems = "; ".join(str(e) for errors in filterset.form.errors.values() for e in errors)
        raise ExportError(
            _("The list's filters are not valid: %(problems)s") % {"problems": problems},
            code="export_filters",
        )
    return filterset.qs


def _with_progress(rows: Iterable[list[Any]], job: Job, total: int) -> Iterator[list[Any]]:
    for count, row in enumerate(rows, start=1):
        if count % PROGRESS_EVERY == 0:
            job_progress(
                job,
                min(95, count * 95 // max(total, 1)),
                _("Written: %(rows)s rows") % {"rows": f"{count:,}".replace(",", ".")},
            )
        yield row


def export_file_name(kind: ImportKind, unit: AdministrativeUnit, fmt: str) -> str:
    today = timezone.localdate().strftime("%Y%m%d")
    return f"{_slug(str(kind.label))}-{_slug(unit.code or unit.name)}-{today}.{fmt}"


def export_build_run(job: Job) -> None:
    """Job handler "export.build": write the file and attach it to the job."""
    params = job.params
    if job.unit_id is None:
        raise ExportError(_("The export has no unit."), code="export_scope")
    unit = AdministrativeUnit.objects.select_related("tenant").get(pk=job.unit_id)
    actor = job.created_by
    if actor is None or not roles_at(actor, unit):
        raise ExportError(_("You no longer have access to this unit."), code="export_scope")
    with translation.override(params.get("language") or settings.LANGUAGE_CODE):
        kind = kind_for(params["kind"], user=actor, unit=unit, options=params.get("options"))
        queryset = export_queryset(kind, user=actor, unit=unit, filters=params.get("filters"))
        total = queryset.count()
        job_progress(
            job, 1, _("Rows to write: %(rows)s") % {"rows": f"{total:,}".replace(",", ".")}
        )
        rows = _with_progress(kind.export_rows(queryset), job, total)
        columns = column_specs(kind)
        fmt = params.get("format", "xlsx")
        with tempfile.TemporaryFile() as out:
            if fmt == "csv":
                text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
                write_csv(text, columns=columns, rows=rows)
                text.flush()
                text.detach()
            else:
                write_xlsx(out, columns=columns, rows=rows, title=str(kind.label))
            out.seek(0)
            job_attach(job, content=out.read(), file_name=export_file_name(kind, unit, fmt))
    # Luật 91/2025/QH15: who exported which personal data (recognition.personal_data).
    log_list_export(actor=actor, unit=unit, kind=params["kind"], rows=total, params=params)
