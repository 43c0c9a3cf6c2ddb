from linli.people.views import excel, mine, register, visits

app_name = "people"
urlpatterns = [
    *excel.urlpatterns,
    *visits.urlpatterns,
    *mine.urlpatterns,
    *register.urlpatterns,
]
