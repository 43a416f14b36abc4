"""Campaign URLs, one module per sub-domain (namespace ``campaigns``)."""

from campaigns.urls import deadlines, events, nominations, plans

app_name = "campaigns"

urlpatterns = [
    *plans.urlpatterns,
    *deadlines.urlpatterns,
    *events.urlpatterns,
    *nominations.urlpatterns,
]
