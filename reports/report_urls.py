"""URLs of the reports screens, included into the ``reports`` namespace by
reports/urls.py: ``path("documents/", include("reports.report_urls"))``."""

from django.urls import path

from reports import report_views as views

urlpatterns = [
    path("", views.report_list_view, name="report-list"),
    path("new/", views.report_create_view, name="report-create"),
    path("<str:public_id>/", views.report_detail_view, name="report-detail"),
    path("<str:public_id>/build", views.report_build_view, name="report-build"),
    path("<str:public_id>/finalise", views.report_finalise_view, name="report-finalise"),
    path("<str:public_id>/pdf", views.report_pdf_view, name="report-pdf"),
    path("<str:public_id>/xlsx", views.report_xlsx_view, name="report-xlsx"),
]
