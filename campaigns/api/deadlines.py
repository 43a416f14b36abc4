"""API of campaign deadlines."""

from ninja import Router

router = Router(tags=["campaigns: deadlines"])
