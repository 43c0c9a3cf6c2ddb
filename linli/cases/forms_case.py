"""Forms of the actions on the case page: input shape only; linli.cases.case_services
checks every rule (who may, in which state, what a note must say)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import Department
from linli.cases import permissions, selectors
from linli.cases.case_services import MAX_EXTENSION, SEND_BACK_REASONS
from linli.cases.models import (
    EVENT_NOTE_MAX,
    MAX_PHOTOS_PER_STEP,
    LimitUnit,
    Satisfaction,
    Urgency,
)
from linli.core.forms import PhotosField

# Readable labels of the send-back reason codes (case_services.SEND_BACK_REASONS).
SEND_BACK_LABELS = {
    "not_ours": _("not our department's matter"),
    "wrong_area": _("outside our area"),
    "unclear": _("the report is unclear"),
    "duplicate": _("a duplicate of another case"),
}
YES_NO = [("yes", _("yes")), ("no", _("no"))]


def _yes(value: str) -> bool:
    return value == "yes"


def photos_field(label) -> PhotosField:
    return PhotosField(
        label=label,
        most=MAX_PHOTOS_PER_STEP,
        help_text=_("Up to %(n)d photos.") % {"n": MAX_PHOTOS_PER_STEP},
    )


def _note_field(label=None, *, required: bool = False) -> forms.CharField:
    return forms.CharField(
        label=label or _("Note"),
        required=required,
        max_length=EVENT_NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _departments():
    return Department.objects.filter(is_active=True).order_by("code")


class ActionForm(forms.Form):
    """The base of every action form: it knows the case and the viewer (some choices
    depend on them) and puts Bootstrap's classes on its widgets."""

    def __init__(self, *args, case, viewer, **kwargs):
        self.case = case
        self.viewer = viewer
        super().__init__(*args, **kwargs)
        self.setup()
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs.setdefault("class", css)

    def setup(self) -> None:
        """Choices and initial values that depend on the case or the viewer."""


class NoteForm(ActionForm):
    note = _note_field()


class RequiredNoteForm(ActionForm):
    note = _note_field(required=True)


class ParkForm(ActionForm):
    note = _note_field(_("Why it cannot be solved now"), required=True)


class ReopenForm(ActionForm):
    note = _note_field(_("What is still wrong"), required=True)


class RejectForm(ActionForm):
    reason = _note_field(_("Reason (the reporter reads it)"), required=True)


class DispatchForm(ActionForm):
    department = forms.ModelChoiceField(
        label=_("Lead department"), queryset=Department.objects.none(), required=False
    )
    co_departments = forms.ModelMultipleChoiceField(
        label=_("Co-handling departments"),
        queryset=Department.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices)
    note = _note_field()

    def setup(self):
        self.fields["department"].queryset = _departments()
        self.fields["co_departments"].queryset = _departments()
        self.fields["department"].initial = self.case.matter.lead_department_id
        self.fields["urgency"].initial = self.case.urgency


class SendBackForm(ActionForm):
    reason_code = forms.ChoiceField(
        label=_("Why"), choices=[(code, SEND_BACK_LABELS[code]) for code in SEND_BACK_REASONS]
    )
    note = _note_field(required=True)


class ReplyForm(ActionForm):
    note = _note_field(_("Answer (the reporter reads it)"), required=True)
    photos = photos_field(_("Photos after handling"))


class VerifyForm(ActionForm):
    note = _note_field(_("What you found on site"), required=True)
    photos = photos_field(_("Photos of the check"))


class VerifyPassForm(VerifyForm):
    def setup(self):
        if self.case.matter.needs_check_photo:
            self.fields["photos"].help_text = _(
                "This matter needs at least one photo taken at the check before it can close."
            )


class RateForm(ActionForm):
    resolved = forms.TypedChoiceField(
        label=_("Was the problem resolved?"), choices=YES_NO, coerce=_yes, widget=forms.RadioSelect
    )
    satisfaction = forms.ChoiceField(
        label=_("How satisfied"), choices=Satisfaction.choices, widget=forms.RadioSelect
    )
    note = _note_field()


class MergeForm(ActionForm):
    """The case to merge into: one of the duplicates found for this case, or any case in
    the viewer's area typed by its number."""

    into = forms.TypedChoiceField(
        label=_("Likely duplicates"), coerce=int, required=False, widget=forms.RadioSelect
    )
    number = forms.CharField(label=_("or the case number"), max_length=32, required=False)
    note = _note_field()

    def setup(self):
        found = selectors.case_duplicates(
            matter=self.case.matter,
            lon=self.case.lon,
            lat=self.case.lat,
            description=self.case.description,
            exclude=self.case.pk,
        )
        self.duplicates = {
            d.case.pk: d.case for d in found if permissions.is_centre_for(self.viewer, d.case)
        }
        self.fields["into"].choices = [
            (
                d.case.pk,
                _("%(number)s · %(distance)d m · %(text)s")
                % {
                    "number": d.case.number,
                    "distance": round(d.distance_m),
                    "text": d.case.description[:40],
                },
            )
            for d in found
            if d.case.pk in self.duplicates
        ]
        if not self.duplicates:
            del self.fields["into"]

    def clean(self):
        data = super().clean()
        chosen = data.get("into")
        number = (data.get("number") or "").strip()
        if chosen and number:
            raise forms.ValidationError(_("Choose a duplicate or type a number, not both."))
        if chosen:
            data["into"] = self.duplicates[chosen]
        elif number:
            target = selectors.cases_for(self.viewer).filter(number=number).first()
            if target is None or target.pk == self.case.pk:
                self.add_error("number", _("No other case with this number in your area."))
            else:
                data["into"] = target
        elif not self.errors:
            raise forms.ValidationError(_("Choose the case to merge into."))
        return data


class ExtensionRequestForm(ActionForm):
    amount = forms.IntegerField(
        label=_("Extra time"), min_value=1, max_value=max(MAX_EXTENSION.values())
    )
    unit = forms.ChoiceField(label=_("Unit"), choices=LimitUnit.choices, initial=LimitUnit.DAYS)
    reason = _note_field(_("Reason"), required=True)


class WhistleForm(ActionForm):
    departments = forms.ModelMultipleChoiceField(
        label=_("Departments to summon"),
        queryset=Department.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )
    note = _note_field(_("What is needed"), required=True)

    def setup(self):
        self.fields["departments"].queryset = _departments()


class ExtensionDecideForm(ActionForm):
    approve = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("yes", _("approve")), ("no", _("refuse"))],
        coerce=_yes,
        widget=forms.RadioSelect,
    )
    note = _note_field(_("Note (needed to refuse)"))


class ReportInForm(ActionForm):
    note = _note_field()
