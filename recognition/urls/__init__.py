"""Recognition URLs, one module per sub-domain (namespace ``recognition``)."""

from recognition.urls import (
    assessment,
    criteria,
    decision,
    dossier,
    personal_data,
    registration,
    subjects,
)

app_name = "recognition"

urlpatterns = [
    *criteria.urlpatterns,
    *subjects.urlpatterns,
    *personal_data.urlpatterns,
    *registration.urlpatterns,
    *assessment.urlpatterns,
    *dossier.urlpatterns,
    *decision.urlpatterns,
]
