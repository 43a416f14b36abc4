"""Recognition URLs, one module per sub-domain (namespace ``recognition``)."""

from recognition.urls import assessment, criteria, decision, dossier, registration, subjects

app_name = "recognition"

urlpatterns = [
    *criteria.urlpatterns,
    *subjects.urlpatterns,
    *registration.urlpatterns,
    *assessment.urlpatterns,
    *dossier.urlpatterns,
    *decision.urlpatterns,
]
