"""The files a job writes, noted before they are written, so that a job killed in
the middle (worker lost, machine restarted) leaves nothing behind (issue 10 §4).

A job handler saves its results (a decision PDF, a report's PDF and XLSX, an
export) through the default storage and records them on database rows in one
transaction. Killed between the two, the file exists and no row points to it.
While :func:`core.jobs.job_run` runs a handler, :class:`core.storage.JournalledStorageMixin`
calls :func:`note` with every name *before* writing it; the names go to a small
manifest in the storage (``jobs/<tenant>/<job>/.written.json``), durable whatever
the database transaction does. When the job fails, or when a new attempt takes
over a job whose worker died, :func:`sweep` deletes each noted file that no
``FileField`` of any model refers to. Files committed on a row are never touched.
"""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models

if TYPE_CHECKING:
    from core.models import Job

log = logging.getLogger(__name__)


@dataclass
class Journal:
    manifest: str
    names: list[str] = field(default_factory=list)


_current: contextvars.ContextVar[Journal | None] = contextvars.ContextVar(
    "xhht_job_journal", default=None
)


def manifest_name(job: Job) -> str:
    return f"jobs/{job.tenant_id or 0}/{job.public_id.hex}/.written.json"


@contextmanager
def journal(job: Job) -> Iterator[Journal]:
    """Note the files written while the block runs (the handler of ``job``)."""
    current = Journal(manifest=manifest_name(job), names=read(job))
    token = _current.set(current)
    try:
        yield current
    finally:
        _current.reset(token)


def note(name: str) -> None:
    """Called by the storage before it writes ``name`` (no-op outside a job)."""
    current = _current.get()
    if current is None or name == current.manifest or name in current.names:
        return
    current.names.append(name)
    _write_manifest(current.manifest, current.names)


def read(job: Job) -> list[str]:
    name = manifest_name(job)
    storage = default_storage
    try:
        if not storage.exists(name):
            return []
        with storage.open(name, "rb") as handle:
            data = json.loads(handle.read().decode("utf-8"))
    except (OSError, ValueError):
        log.warning("unreadable job manifest %s", name)
        return []
    return [str(item) for item in data] if isinstance(data, list) else []


def _write_manifest(name: str, names: list[str]) -> None:
    """Replace the manifest (outside any journal, so it is not noted itself)."""
    token = _current.set(None)
    try:
        storage = default_storage
        content = json.dumps(names).encode("utf-8")
        replace = getattr(storage, "replace_file", None)
        if replace is not None:
            replace(name, content)
        else:
            if storage.exists(name):
                storage.delete(name)
            storage.save(name, ContentFile(content))
    finally:
        _current.reset(token)


def _file_fields() -> list[tuple[type[models.Model], str]]:
    found = []
    for model in apps.get_models():
        for model_field in model._meta.concrete_fields:
            if isinstance(model_field, models.FileField):
                found.append((model, model_field.name))
    return found


def referenced(name: str) -> bool:
    """Does a row of any model hold ``name`` in a file field?"""
    return any(
        model._default_manager.filter(**{field_name: name}).exists()
        for model, field_name in _file_fields()
    )


def sweep(job: Job) -> list[str]:
    """Delete the files ``job`` wrote that no row refers to; forget the manifest.

    Returns the names deleted. Called when the job ends failed and before a new
    attempt takes over a job whose previous runner died.
    """
    names = read(job)
    removed: list[str] = []
    storage = default_storage
    for name in names:
        if referenced(name):
            continue
        for candidate in (name, *_partial_names(storage, name)):
            if storage.exists(candidate):
                storage.delete(candidate)
                removed.append(candidate)
    forget(job)
    if removed:
        log.warning("job %s: removed %d unfinished file(s)", job.public_id, len(removed))
    return removed


def forget(job: Job) -> None:
    """The job ended: its manifest is no longer needed."""
    name = manifest_name(job)
    try:
        if default_storage.exists(name):
            default_storage.delete(name)
    except OSError:
        log.warning("could not delete job manifest %s", name)


def _partial_names(storage: Any, name: str) -> list[str]:
    partials = getattr(storage, "partial_names", None)
    return list(partials(name)) if partials is not None else []
