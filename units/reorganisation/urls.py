"""URLs of the reorganisation screens, included by ``units/urls.py`` under
``reorganisations/`` (names in the ``units`` namespace)."""

from django.urls import path

from units.reorganisation import views

urlpatterns = [
    path("", views.plan_list, name="reorganisation-list"),
    path("new/", views.plan_create, name="reorganisation-create"),
    path("import/", views.plan_import, name="reorganisation-import"),
    path(
        "import/template/",
        views.mapping_template_download,
        name="reorganisation-import-template",
    ),
    path("roles-to-reassign/", views.reassignment_list, name="reassignment-list"),
    path(
        "roles-to-reassign/<str:public_id>/",
        views.reassignment_resolve,
        name="reassignment-resolve",
    ),
    path("<str:public_id>/", views.plan_detail, name="reorganisation-detail"),
    path("<str:public_id>/steps/new/", views.step_add, name="reorganisation-step-add"),
    path("<str:public_id>/steps/remove/", views.step_remove, name="reorganisation-step-remove"),
    path("<str:public_id>/preview/", views.plan_preview, name="reorganisation-preview"),
    path("<str:public_id>/apply/", views.plan_apply, name="reorganisation-apply"),
    path("<str:public_id>/cancel/", views.plan_cancel, name="reorganisation-cancel"),
]
