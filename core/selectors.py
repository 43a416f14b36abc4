"""Reads of cross-cutting records, scoped through units/selectors.py."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from core.models import Job
from units.selectors import parse_public_id, scope_queryset


def jobs_for_user(user: Any) -> QuerySet[Job]:
    """Jobs whose unit lies in the user's subtrees."""
    return scope_queryset(Job.objects.all(), user)


def get_job_for_user(user: Any, public_id: Any) -> Job:
    job = jobs_for_user(user).filter(public_id=parse_public_id(public_id)).first()
    if job is None:
        raise Http404
    return job


def jobs_for_object(user: Any, obj: Any, *, kind: str | None = None) -> QuerySet[Job]:
    qs = jobs_for_user(user).filter(object_type=obj._meta.label_lower, object_id=str(obj.public_id))
    return qs.filter(kind=kind) if kind else qs
