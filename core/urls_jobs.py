"""URLs of long jobs (namespace ``jobs``), mounted at ``/jobs/``."""

from django.urls import URLPattern, path

from core import views_jobs as views

app_name = "jobs"

urlpatterns: list[URLPattern] = [
    path("<str:public_id>/", views.job_detail_view, name="detail"),
    path("<str:public_id>/progress", views.job_progress_view, name="progress"),
    path("<str:public_id>/download", views.job_download_view, name="download"),
    path("<str:public_id>/retry", views.job_retry_view, name="retry"),
]
