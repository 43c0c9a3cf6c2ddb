import json

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.areas.models import Area
from linli.areas.services import DEFAULT_GAP_TOLERANCE_M2

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class AreaFilterForm(forms.Form):
    q = forms.CharField(label=_("Code or name"), required=False, max_length=50)
    level = forms.ChoiceField(
        label=_("Level"), required=False, choices=[("", _("all levels")), *Area.Level.choices]
    )
    community = forms.ChoiceField(label=_("Community"), required=False)

    def __init__(self, *args, communities=(), **kwargs):
        """`communities`: (code, name) pairs of the communities the viewer may see."""
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = [
            ("", _("all communities")),
            *((code, f"{name} ({code})") for code, name in communities),
        ]


class GridImportForm(forms.Form):
    file = forms.FileField(
        label=_("GeoJSON file"),
        help_text=_(
            "A FeatureCollection of unit grids, each with the properties code and name and a "
            "polygon; new communities may come in the same file."
        ),
    )
    gap_tolerance_m2 = forms.FloatField(
        label=_("Gap tolerance (m²)"), min_value=0, initial=DEFAULT_GAP_TOLERANCE_M2
    )
    replace = forms.BooleanField(label=_("Update areas that already exist"), required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)d MB.") % {"mb": MAX_UPLOAD_BYTES // 2**20}
            )
        try:
            return json.loads(upload.read().decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise forms.ValidationError(
                _("The file is not valid JSON: %(error)s") % {"error": exc}
            ) from exc
