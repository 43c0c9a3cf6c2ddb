"""The centre's import of 12345 orders (CSV or xlsx): check first, then import every row or
none, or only the good rows. The work is in linli.cases.intake.hotline, which
`manage.py import_hotline` calls too."""

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from linli.cases.intake import hotline
from linli.core.decorators import permission_required
from linli.core.errors import DomainError
from linli.core.forms import form_errors_add
from linli.people.excel import XLSX_TYPE

PROBLEMS_SHOWN = 500

centre_required = permission_required(hotline.may_import)


class HotlineImportForm(forms.Form):
    file = forms.FileField(
        label=_("Orders file (.csv or .xlsx)"),
        help_text=_(
            "The 12345 platform's export or the filled-in template; at most 5,000 rows and 5 MB."
        ),
    )
    crs = forms.ChoiceField(
        label=_("Coordinates in the file"),
        choices=[
            ("wgs84", _("WGS-84 (GPS, 天地图)")),
            ("gcj02", _("GCJ-02 (高德, 腾讯)")),
            ("bd09", _("BD-09 (百度)")),
        ],
        initial="wgs84",
    )
    mode = forms.ChoiceField(
        label=_("When some rows have problems"),
        choices=[
            (hotline.MODE_ALL, _("import nothing (all or nothing)")),
            (hotline.MODE_GOOD, _("import the good rows only")),
        ],
        initial=hotline.MODE_ALL,
        widget=forms.RadioSelect,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > hotline.MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)d MB; split it into smaller files.")
                % {"mb": hotline.MAX_FILE_BYTES // 2**20}
            )
        return upload


@centre_required
def hotline_import(request: HttpRequest) -> HttpResponse:
    form = HotlineImportForm(request.POST or None, request.FILES or None)
    report = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                report = hotline.hotline_import(
                    file=form.cleaned_data["file"],
                    actor=request.user,
                    mode=form.cleaned_data["mode"],
                    crs=form.cleaned_data["crs"],
                    dry_run="import" not in request.POST,
                    request=request,
                )
            except DomainError as error:
                form_errors_add(form, error)
            else:
                if report.ok or report.committed:
                    status = 200
    context = {
        "form": form,
        "report": report,
        "problems": report.problems[:PROBLEMS_SHOWN] if report else [],
        "shown": PROBLEMS_SHOWN,
    }
    return render(request, "cases/import.html", context, status=status)


@centre_required
def hotline_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(hotline.hotline_template(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = 'attachment; filename="12345-orders-template.xlsx"'
    return response
