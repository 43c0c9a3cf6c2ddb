from django.contrib import admin
from django.urls import include, path

from linli import views
from linli.api import api

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("linli.accounts.urls")),
    path("areas/", include("linli.areas.urls")),
    path("people/", include("linli.people.urls")),
    path("cases/", include("linli.cases.urls")),
    path("notifications/", include("linli.notifications.urls")),
    path("insights/", include("linli.insights.urls")),
    path("api/v1/", api.urls),
    path("open311/", include("linli.open311.urls")),
    path("admin/", admin.site.urls),
]
