"""API of the recognition cycle: criteria."""

from ninja import Router

router = Router(tags=["criteria"])
