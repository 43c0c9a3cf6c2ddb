"""The report form (随手拍, patrol report, 12345 call): input shape only. Every domain rule
(the place, the photos, the answers, anonymity) is checked by case_services.case_report,
so that one submit shows all the problems at once, next to their inputs."""

from functools import cached_property

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.cases.models import (
    DESCRIPTION_MAX,
    MAX_PHOTOS_PER_STEP,
    Datatype,
    Matter,
    MatterQuestion,
    Source,
    Urgency,
)
from linli.cases.selectors import matter_choices_for
from linli.core.forms import PhotosField

# The longest answer the one-line input takes (case_services.STRING_ANSWER_MAX).
STRING_ANSWER_MAX = 200
# A single-choice question with more options than this is a drop-down, not radio buttons.
RADIO_MAX = 6
ANSWER_PREFIX = "answers."


class AnswerField(forms.Field):
    """An answer as the browser sent it (a string, or a list for multiple choice); the
    service parses and checks it against the question."""

    def __init__(self, question: MatterQuestion, **kwargs):
        self.question = question
        self.datatype = question.datatype
        super().__init__(
            label=question.prompt, required=False, help_text=question.help_text, **kwargs
        )

    def to_python(self, value):
        if isinstance(value, list | tuple):
            return [v for v in value if v]
        return value.strip() if isinstance(value, str) else value


def _answer_widget(question: MatterQuestion, options: list[tuple[str, str]]) -> forms.Widget:
    kind = question.datatype
    if kind == Datatype.TEXT:
        return forms.Textarea(attrs={"rows": 3, "maxlength": DESCRIPTION_MAX})
    if kind == Datatype.NUMBER:
        return forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"})
    if kind == Datatype.DATETIME:
        return forms.DateTimeInput(attrs={"type": "datetime-local"})
    if kind == Datatype.SINGLEVALUELIST:
        if len(options) > RADIO_MAX:
            return forms.Select(choices=[("", "—"), *options])
        return forms.RadioSelect(choices=options)
    if kind == Datatype.MULTIVALUELIST:
        return forms.CheckboxSelectMultiple(choices=options)
    return forms.TextInput(attrs={"maxlength": STRING_ANSWER_MAX})


def answer_field(question: MatterQuestion) -> AnswerField:
    """The input of one of the matter's questions, by its Open311 datatype."""
    options = [(option.key, option.name) for option in question.options.all()]
    return AnswerField(question, widget=_answer_widget(question, options))


# Who files what: a resident's 随手拍, a grid worker's patrol report, a dispatcher taking
# a 12345 call for a caller who has no account.
SOURCE_FOR_ROLE = {
    "resident": Source.RESIDENT,
    "grid_worker": Source.GRID_WORKER,
    "dispatcher": Source.HOTLINE,
}


def matter_visible(code: str, *, public_only: bool) -> Matter | None:
    """The matter `code` if the filer may choose it (residents: the public ones). Retired
    matters are found, so that the service can say they are no longer in use."""
    matters = Matter.objects.select_related("matter_class")
    if public_only:
        matters = matters.filter(public=True)
    return matters.filter(code=code).first() if code else None


class ReportForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput, required=False)
    photos = PhotosField(
        label=_("Photos"),
        help_text=_("Up to %(n)d photos. Take them now or choose them from the phone.")
        % {"n": MAX_PHOTOS_PER_STEP},
    )
    # WGS-84, as navigator.geolocation and the map give them.
    lon = forms.FloatField(widget=forms.HiddenInput, required=False)
    lat = forms.FloatField(widget=forms.HiddenInput, required=False)
    address = forms.CharField(
        label=_("Address or landmark"),
        required=False,
        help_text=_("Optional: helps the handler find the spot, e.g. “east gate of building 3”."),
    )
    matter = forms.CharField(label=_("What is it about?"), required=False)
    description = forms.CharField(
        label=_("What is wrong?"),
        required=False,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": DESCRIPTION_MAX}),
    )
    anonymous = forms.BooleanField(
        label=_("Report anonymously"),
        required=False,
        help_text=_("The handlers will not see your name."),
    )
    contact_name = forms.CharField(label=_("Caller's name"), required=False)
    contact_phone = forms.CharField(
        label=_("Caller's phone"),
        required=False,
        help_text=_("Stored encrypted; pages show it masked."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    urgency = forms.ChoiceField(
        label=_("Urgency"), choices=Urgency.choices, initial=Urgency.NORMAL, required=False
    )
    external_ref = forms.CharField(label=_("12345 order number"), required=False)

    def __init__(self, *args, role: str, matter_code: str | None = None, **kwargs):
        """`role`: the filer's role (one of SOURCE_FOR_ROLE). The matter comes from the
        submitted data, or from `matter_code` for the questions partial; its questions
        become fields named "answers.<question code>"."""
        super().__init__(*args, **kwargs)
        self.role = role
        self.source = SOURCE_FOR_ROLE[role]
        self.public_only = role == "resident"
        if role != "resident":
            del self.fields["anonymous"]
        if self.source != Source.HOTLINE:
            for name in ("contact_name", "contact_phone", "urgency", "external_ref"):
                del self.fields[name]
        code = self.data.get("matter") if self.is_bound else matter_code
        self.chosen_matter = matter_visible(code or "", public_only=self.public_only)
        self.question_names: list[str] = []
        if self.chosen_matter is not None:
            questions = self.chosen_matter.questions.prefetch_related("options")
            for question in questions:
                name = f"{ANSWER_PREFIX}{question.code}"
                self.fields[name] = answer_field(question)
                self.question_names.append(name)

    @cached_property
    def matter_groups(self):
        """The whole list, grouped by class: the choice that works without JavaScript."""
        return matter_choices_for(public_only=self.public_only)

    @property
    def question_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.question_names]

    @property
    def anonymous_allowed(self) -> bool:
        """The anonymous box is offered to residents on a matter that allows it (and
        kept on screen when it carries an error)."""
        if "anonymous" not in self.fields or self.chosen_matter is None:
            return False
        return self.chosen_matter.allows_anonymous or bool(self["anonymous"].errors)

    def clean_matter(self) -> Matter:
        code = self.cleaned_data["matter"].strip()
        if not code:
            raise forms.ValidationError(_("Choose what the problem is about."))
        if self.chosen_matter is None:
            raise forms.ValidationError(_("Choose a matter from the list."))
        return self.chosen_matter

    def answers(self) -> dict:
        """The answers by question code, as given (empty ones included: the service says
        which required question is unanswered)."""
        return {
            name.removeprefix(ANSWER_PREFIX): self.cleaned_data.get(name)
            for name in self.question_names
        }
