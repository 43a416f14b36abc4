from django.urls import include, path

from units import views

app_name = "units"

urlpatterns = [
    path("", views.unit_browser, name="browser"),
    path("reorganisations/", include("units.reorganisation.urls")),
    path("<str:public_id>/", views.unit_detail, name="detail"),
    path("<str:public_id>/children/", views.unit_children, name="children"),
    path("<str:public_id>/new-child/", views.unit_create, name="create-child"),
    path("<str:public_id>/edit/", views.unit_edit, name="edit"),
    path("<str:public_id>/move/", views.unit_move, name="move"),
]
