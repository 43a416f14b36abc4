"""URLs of campaign deadlines (filled by its owner)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
