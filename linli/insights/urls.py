"""Routes of the insights app (docs/kpis.md)."""

from django.urls import path

from linli.insights import views

app_name = "insights"

urlpatterns = [
    path("", views.kpis, name="kpis"),
    path("cases", views.cases, name="cases"),
    path("evaluation.xlsx", views.evaluation, name="evaluation"),
]
