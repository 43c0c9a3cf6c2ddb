"""Forms for visits and corrections: input shape only; the services check the rules."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.areas.models import Area
from linli.core.forms import PhotosField
from linli.people.models import CorrectionRequest, Visit
from linli.people.services import MAX_PHOTOS_PER_VISIT

VISITED_AT_FORMAT = "%Y-%m-%dT%H:%M"


class VisitForm(forms.Form):
    method = forms.ChoiceField(
        label=_("How"),
        choices=Visit.Method.choices,
        initial=Visit.Method.HOME,
        widget=forms.RadioSelect,
    )
    findings = forms.CharField(
        label=_("Findings"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    follow_up_needed = forms.BooleanField(label=_("Follow-up needed"), required=False)
    follow_up_note = forms.CharField(label=_("What follow-up"), max_length=500, required=False)
    visited_at = forms.DateTimeField(
        label=_("Visited at"),
        required=False,
        input_formats=[VISITED_AT_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=VISITED_AT_FORMAT),
    )
    photos = PhotosField(
        label=_("Photos"), help_text=_("Up to %(n)d photos.") % {"n": MAX_PHOTOS_PER_VISIT}
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {})
        # The default is "now" in the street's time zone, to the minute, as the
        # datetime-local input shows it.
        kwargs["initial"].setdefault("visited_at", timezone.localtime().replace(second=0))
        super().__init__(*args, **kwargs)

    def clean_photos(self):
        photos = self.cleaned_data["photos"]
        if len(photos) > MAX_PHOTOS_PER_VISIT:
            raise forms.ValidationError(_("At most %(n)d photos.") % {"n": MAX_PHOTOS_PER_VISIT})
        return photos


class OverdueFilterForm(forms.Form):
    grid = forms.ModelChoiceField(
        label=_("Grid"), queryset=Area.objects.none(), required=False, empty_label=_("all grids")
    )

    def __init__(self, *args, grids=None, **kwargs):
        """`grids`: the grids in the viewer's scope."""
        super().__init__(*args, **kwargs)
        if grids is not None:
            self.fields["grid"].queryset = grids


class VisitFilterForm(OverdueFilterForm):
    visitor = forms.TypedChoiceField(label=_("Visitor"), coerce=int, required=False)
    follow_up = forms.BooleanField(label=_("Follow-up needed only"), required=False)

    def __init__(self, *args, visitors=(), **kwargs):
        """`visitors`: (id, name) pairs of the people who made visits in the scope."""
        super().__init__(*args, **kwargs)
        self.fields["visitor"].choices = [("", _("all visitors")), *visitors]


class CorrectionRequestForm(forms.Form):
    resident = forms.TypedChoiceField(label=_("Whose entry"), coerce=int)
    field = forms.ChoiceField(label=_("What is wrong"), choices=CorrectionRequest.Field.choices)
    proposed = forms.CharField(label=_("The correct value"), max_length=200)
    explanation = forms.CharField(
        label=_("Explanation"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, members=(), **kwargs):
        """`members`: the current members of the requester's household."""
        super().__init__(*args, **kwargs)
        self.fields["resident"].choices = [(m.pk, m.name) for m in members]


class CorrectionStatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("all")), *CorrectionRequest.Status.choices],
    )


class CorrectionAnswerForm(forms.Form):
    approve = forms.TypedChoiceField(
        choices=[("1", _("Approve")), ("0", _("Answer without change"))],
        coerce=lambda v: v == "1",
    )
    answer = forms.CharField(label=_("Answer"), max_length=500, required=False)
