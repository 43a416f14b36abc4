"""Campaign API routers, mounted under /api/v1/ by core.api."""

from campaigns.api import deadlines, events, nominations, plans

ROUTERS = [
    ("/plans", plans.router),
    ("/deadlines", deadlines.router),
    ("/events", events.router),
    ("/nominations", nominations.router),
]
