from django.urls import path

from spreadsheets import views

app_name = "spreadsheets"

urlpatterns = [
    path("", views.index_view, name="index"),
    path("template/", views.template_view, name="template"),
    path("imports/new/", views.import_new_view, name="import-new"),
    path("imports/<str:public_id>/", views.import_detail_view, name="import-detail"),
    path("imports/<str:public_id>/confirm/", views.import_confirm_view, name="import-confirm"),
    path("imports/<str:public_id>/cancel/", views.import_cancel_view, name="import-cancel"),
    path("imports/<str:public_id>/errors/", views.import_errors_view, name="import-errors"),
    path("export/", views.export_view, name="export"),
]
