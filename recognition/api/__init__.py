"""Recognition API routers, mounted under /api/v1/ by core.api."""

from recognition.api import (
    assessment,
    criteria,
    decision,
    dossier,
    personal_data,
    registration,
    subjects,
)

ROUTERS = [
    ("/criteria-sets", criteria.router),
    ("/subjects", subjects.router),
    ("/registrations", registration.router),
    ("/assessments", assessment.router),
    ("/dossiers", dossier.router),
    ("/decisions", decision.router),
    ("/personal-data", personal_data.router),
]
