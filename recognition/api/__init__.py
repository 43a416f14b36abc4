"""Recognition API routers, mounted under /api/v1/ by core.api."""

from recognition.api import assessment, criteria, decision, dossier, registration, subjects

ROUTERS = [
    ("/criteria-sets", criteria.router),
    ("/subjects", subjects.router),
    ("/registrations", registration.router),
    ("/assessments", assessment.router),
    ("/dossiers", dossier.router),
    ("/decisions", decision.router),
]
