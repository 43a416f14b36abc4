"""API of campaign plans."""

from ninja import Router

router = Router(tags=["campaigns: plans"])
