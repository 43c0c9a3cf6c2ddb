"""Pages of the register: Excel import (with a dry run), export (masked unless the user
may and says why) and the template to fill in. The work is in linli/people/excel/,
which the management commands call too."""

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext_lazy as _

from linli.core.errors import DomainError
from linli.core.forms import form_errors_add
from linli.people import excel, permissions, selectors
from linli.people.views.common import register_required

PROBLEMS_SHOWN = 500


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Excel file (.xlsx)"),
        help_text=_("Fill in the template; at most 100,000 rows and 20 MB."),
    )
    mode = forms.ChoiceField(
        label=_("When some rows have problems"),
        choices=[
            (excel.MODE_ALL, _("import nothing (all or nothing)")),
            (excel.MODE_GOOD, _("import the good rows only")),
        ],
        initial=excel.MODE_ALL,
        widget=forms.RadioSelect,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > excel.MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)d MB; split it into smaller files.")
                % {"mb": excel.MAX_FILE_BYTES // 2**20}
            )
        return upload


class ExportForm(forms.Form):
    area = forms.ChoiceField(label=_("Community or grid"), required=False)
    tag = forms.ChoiceField(label=_("Tag"), required=False)
    full = forms.BooleanField(
        label=_("Unmasked (full ID numbers, phones and rooms)"), required=False
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=200,
        help_text=_("Required for an unmasked export; written to the access log."),
    )

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.areas = {a.code: a for a in excel.export_areas_for(viewer=viewer)}
        self.fields["area"].choices = [
            ("", _("everyone in my area")),
            *((a.code, f"{a.name} ({a.code})") for a in self.areas.values()),
        ]
        self.fields["tag"].choices = [
            ("", _("all people")),
            *((t.code, t.name) for t in selectors.visible_tags_for(viewer=viewer)),
        ]
        # The unmasked choice stays in the form for everyone (the page shows it only to
        # those who may use it), so that a forged request is refused, not quietly masked.

    def clean(self):
        data = super().clean()
        data["area"] = self.areas.get(data.get("area") or "")
        return data


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=excel.XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Personal data: no copy in a browser or proxy cache.
    response["Cache-Control"] = "no-store"
    return response


@register_required
def residents_import(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            report = excel.residents_import(
                file=form.cleaned_data["file"],
                actor=request.user,
                mode=form.cleaned_data["mode"],
                dry_run="import" not in request.POST,
                request=request,
            )
            if report.problems and not report.committed:
                status = 400
        else:
            status = 400
    context = {
        "form": form,
        "report": report,
        "problems": report.problems[:PROBLEMS_SHOWN] if report else [],
        "shown": PROBLEMS_SHOWN,
    }
    return render(request, "people/import.html", context, status=status)


@register_required
def import_template(request: HttpRequest) -> HttpResponse:
    content = excel.template_workbook(viewer=request.user)
    return _xlsx(content, "residents-template.xlsx")


@register_required
def residents_export(request: HttpRequest) -> HttpResponse:
    form = ExportForm(request.POST or None, viewer=request.user)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                export = excel.residents_export(
                    viewer=request.user,
                    area=data["area"],
                    tag=data.get("tag") or None,
                    full=bool(data.get("full")),
                    reason=data.get("reason", ""),
                    request=request,
                )
            except DomainError as error:
                form_errors_add(form, error)
                status = 403 if error.code == "forbidden" else 400
            else:
                return _xlsx(export.content, export.filename)
    may_full = permissions.may_export_full(request.user)
    return render(
        request, "people/export.html", {"form": form, "may_full": may_full}, status=status
    )


urlpatterns = [
    path("import/", residents_import, name="import"),
    path("import/template.xlsx", import_template, name="template"),
    path("export/", residents_export, name="export"),
]
