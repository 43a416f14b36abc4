"""API of the recognition cycle: subjects."""

from ninja import Router

router = Router(tags=["subjects"])
