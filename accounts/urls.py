from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("users/", views.user_list, name="user-list"),
    path("users/invite/", views.user_invite, name="user-invite"),
    path("users/<str:public_id>/", views.user_detail, name="user-detail"),
    path(
        "users/<str:public_id>/toggle-active/", views.user_toggle_active, name="user-toggle-active"
    ),
    path("roles/<str:public_id>/revoke/", views.role_revoke, name="role-revoke"),
    path("security/", views.tenant_security, name="tenant-security"),
    path("users/<str:public_id>/unlock/", views.user_unlock, name="user-unlock"),
    path("tokens/", views.token_list, name="token-list"),
    path("tokens/<str:public_id>/revoke/", views.token_revoke, name="token-revoke"),
]
