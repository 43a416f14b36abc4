"""API of campaign events."""

from ninja import Router

router = Router(tags=["campaigns: events"])
