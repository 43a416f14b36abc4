"""URLs of campaign plans (namespace ``campaigns``)."""

from django.urls import URLPattern, path

from campaigns.views import plans as views

urlpatterns: list[URLPattern] = [
    path("plans/", views.plan_list_view, name="plan-list"),
    path("plans/new/", views.plan_create_view, name="plan-create"),
    path("plans/<str:public_id>/", views.plan_detail_view, name="plan-detail"),
    path("plans/<str:public_id>/derive/", views.plan_derive_view, name="plan-derive"),
    path("plans/<str:public_id>/sections/", views.section_save_view, name="plan-section-save"),
    path(
        "plans/<str:public_id>/sections/delete/",
        views.section_delete_view,
        name="plan-section-delete",
    ),
    path("plans/<str:public_id>/sections/move/", views.section_move_view, name="plan-section-move"),
    path("plans/<str:public_id>/phases/", views.phase_save_view, name="plan-phase-save"),
    path("plans/<str:public_id>/phases/delete/", views.phase_delete_view, name="plan-phase-delete"),
    path("plans/<str:public_id>/targets/", views.target_save_view, name="plan-target-save"),
    path(
        "plans/<str:public_id>/targets/delete/",
        views.target_delete_view,
        name="plan-target-delete",
    ),
    path("plans/<str:public_id>/pdf/", views.plan_pdf_view, name="plan-pdf"),
]
