"""URLs of the recognition cycle: criteria."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
