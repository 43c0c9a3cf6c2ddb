"""Routes of the cases app. Each views module adds its own block."""

from django.urls import path  # noqa: F401 - used by the blocks below

from linli.cases.views import case, exemptions, imports, lists, report, suggest

app_name = "cases"

urlpatterns = [
    # report.py
    path("report/", report.report, name="report"),
    path("report/duplicates/", report.duplicates, name="duplicates"),
    path("mine/", report.mine, name="mine"),
    path("<int:pk>/me-too/", report.me_too, name="me_too"),
    path("matters/search/", report.matter_search, name="matter_search"),
    path("matters/<str:code>/questions/", report.matter_questions, name="matter_questions"),
    # case.py
    path("<int:pk>/", case.case_page, name="case"),
    path("<int:pk>/act/<str:action>/", case.case_act, name="act"),
    path("extensions/<int:pk>/decide/", case.extension_decide, name="extension_decide"),
    path("whistle-calls/<int:pk>/report-in/", case.report_in, name="report_in"),
    path("photos/<int:pk>/<str:kind>/", case.photo, name="photo"),
    # lists.py
    path("", lists.case_list, name="list"),
    path("queue/", lists.queue, name="queue"),
    path("queue/bulk/", lists.bulk, name="bulk"),
    path("inbox/", lists.inbox, name="inbox"),
    path("verify/", lists.verify, name="verify"),
    path("extensions/", lists.extensions, name="extensions"),
    # imports.py
    path("import/", imports.hotline_import, name="import"),
    path("import/template.xlsx", imports.hotline_template, name="import_template"),
    # suggest.py
    path("report/suggest/", suggest.suggest_report, name="suggest_report"),
    path("<int:pk>/suggest/", suggest.suggest_case, name="suggest_case"),
    path("<int:pk>/matter/", suggest.reclassify, name="reclassify"),
    path("suggester/", suggest.suggester, name="suggester"),
    # exemptions.py
    path("exemptions/", exemptions.exemption_list, name="exemptions"),
    path("<int:pk>/exemption/", exemptions.exemption_request, name="exemption_request"),
    path("exemptions/<int:pk>/decide/", exemptions.exemption_decide, name="exemption_decide"),
]
