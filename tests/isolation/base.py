"""Building blocks of the isolation registry (tests/test_isolation.py).

Each feature registers its URLs and API operations in a module
``tests/isolation/registry_<feature>.py`` defining ``HTML_REGISTRY`` and
``API_REGISTRY`` (and, if needed, ``EXEMPT_URLS`` with reasons); the suite
merges every such module, so a new feature never edits a shared file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from accounts.models import User
from tests.conftest import Cast


@dataclass
class Ids:
    """Ids to put in a URL, from the point of view of ``actor``.

    ``in_scope`` is inside ``actor``'s scope; ``other_subtree`` is in the same
    tenant but outside it; ``other_tenant`` belongs to the other tenant.
    ``viewer`` is an id inside the steering viewer's scope, used for the
    read-only check (defaults to ``in_scope``).
    """

    actor: User
    in_scope: str
    other_subtree: str
    other_tenant: str
    viewer: str | None = None


IdFactory = Callable[[Cast], Ids]
BodyFactory = Callable[[Cast], dict[str, Any]]


def _no_body(cast: Cast) -> dict[str, Any]:
    return {}


@dataclass
class Entry:
    """How to exercise one URL or API operation.

    ``reads``/``writes`` are the HTTP methods to check; a write by the
    read-only viewer must answer ``read_only_status`` (403, or the success
    status for the user's own data such as personal API tokens).
    ``body`` is a valid payload: were a guard missing, the write would land.
    ``query`` names a query parameter that carries an id (API list filters).
    """

    reads: tuple[str, ...] = ("GET",)
    writes: tuple[str, ...] = ()
    ids: IdFactory | None = None
    body: BodyFactory = _no_body
    read_only_status: int = 403
    read_only_reason: str = ""
    query: str | None = None
    path_param: str = "public_id"
    #: Other path parameters of the operation, filled with in-scope values (e.g.
    #: the item of a dossier): only ``path_param`` varies between the checks.
    other_params: Callable[[Cast], dict[str, str]] | None = None
    ok_statuses: frozenset[int] = field(default_factory=lambda: frozenset({200, 302, 403, 405}))


def _pid(obj: Any) -> str:
    return str(obj.public_id)
