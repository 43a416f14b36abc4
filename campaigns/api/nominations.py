"""API of campaign nominations."""

from ninja import Router

router = Router(tags=["campaigns: nominations"])
