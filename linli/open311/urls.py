"""/open311/v2/: the page, and every resource with a .xml or .json suffix (open311.md G1)."""

from django.urls import path, re_path

from linli.open311 import views

app_name = "open311"

FMT = r"\.(?P<fmt>xml|json)$"

urlpatterns = [
    path("v2/", views.index, name="index"),
    re_path(rf"^v2/discovery{FMT}", views.discovery, name="discovery"),
    re_path(rf"^v2/services{FMT}", views.services_list, name="services"),
    re_path(rf"^v2/services/(?P<code>[^/]*){FMT}", views.service_definition, name="service"),
    re_path(rf"^v2/requests{FMT}", views.requests, name="requests"),
    re_path(rf"^v2/requests/(?P<number>[^/]*){FMT}", views.request_detail, name="request"),
    re_path(rf"^v2/tokens/(?P<token>[^/]*){FMT}", views.token, name="token"),
    re_path(rf"^v2/servicerequestupdates{FMT}", views.updates, name="updates"),
    re_path(rf"^v2/(?P<rest>.*){FMT}", views.missing, name="missing"),
]
