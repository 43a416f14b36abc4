"""URLs of the dossier (ward) and of its review (reviewer, review chains)."""

from django.urls import URLPattern, path

from recognition.views import dossier as dossier_views
from recognition.views import review as review_views

urlpatterns: list[URLPattern] = [
    path("dossiers/", dossier_views.dossier_list_view, name="dossier-list"),
    path("dossiers/<str:public_id>/", dossier_views.dossier_detail_view, name="dossier-detail"),
    path("dossiers/<str:public_id>/add/", dossier_views.dossier_add_view, name="dossier-add"),
    path(
        "dossiers/<str:public_id>/remove/",
        dossier_views.dossier_remove_view,
        name="dossier-remove",
    ),
    path(
        "dossiers/<str:public_id>/submit/",
        dossier_views.dossier_submit_view,
        name="dossier-submit",
    ),
    path(
        "dossiers/<str:public_id>/timeline/",
        dossier_views.dossier_timeline_view,
        name="dossier-timeline",
    ),
    path("review/", review_views.review_queue_view, name="review-queue"),
    path("review/chains/", review_views.review_chain_list_view, name="review-chain-list"),
    path(
        "review/chains/defaults/",
        review_views.review_chain_defaults_view,
        name="review-chain-defaults",
    ),
    path(
        "review/chains/<str:public_id>/end/",
        review_views.review_chain_end_view,
        name="review-chain-end",
    ),
    path(
        "review/items/<str:public_id>/score/",
        review_views.review_score_view,
        name="review-score",
    ),
    path("review/<str:public_id>/", review_views.review_detail_view, name="review-detail"),
    path("review/<str:public_id>/items/", review_views.review_items_view, name="review-items"),
    path("review/<str:public_id>/return/", review_views.review_return_view, name="review-return"),
    path("review/<str:public_id>/finish/", review_views.review_finish_view, name="review-finish"),
]
