"""API of the recognition cycle: registration."""

from ninja import Router

router = Router(tags=["registration"])
