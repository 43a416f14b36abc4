"""API of the recognition cycle: assessment."""

from ninja import Router

router = Router(tags=["assessment"])
