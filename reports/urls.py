from django.urls import include, path

from reports import views

app_name = "reports"

urlpatterns = [
    path("dashboard/", views.dashboard_view, name="dashboard"),
    path("documents/", include("reports.report_urls")),
]
