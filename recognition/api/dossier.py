"""API of the recognition cycle: dossier."""

from ninja import Router

router = Router(tags=["dossier"])
