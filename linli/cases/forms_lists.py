"""Forms of the staff lists (linli/cases/views/lists.py): the filters of the case list and
the queue, and the queue's bulk accept / dispatch. Input shape only; the services decide
what may happen to each case."""

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import Department
from linli.accounts.scopes import restrict_to_areas
from linli.areas.models import Area
from linli.cases.models import Source, Urgency
from linli.cases.selectors import matter_choices_for
from linli.cases.workflow import OPEN_STATUSES, Status
from linli.people.forms import BootstrapMixin

PAGE_SIZE = 50
# A bulk action acts on at most one page of the queue.
BULK_MAX = PAGE_SIZE
NOTE_MAX = 1000
# Ids are BigAutoField primary keys; a larger number is not an id (and SQLite cannot bind it).
ID_MAX = 2**63 - 1

OPEN = "open"
SORT_CHOICES = [
    ("-reported", _("newest first")),
    ("reported", _("oldest first")),
    ("deadline", _("deadline first")),
]
OVERDUE_CHOICES = [("", _("overdue or not")), ("yes", _("overdue")), ("no", _("not overdue"))]
# Handlers work for a department across the street: like the areas pages, they may pick
# any community or grid (linli.areas.selectors.PLACE_READERS).
PLACE_READERS = {"handler"}


def area_choices_for(viewer) -> list[tuple[str, str]]:
    """(code, name) of the communities and grids the viewer may filter by, each grid
    indented under its community. One query."""
    areas = Area.objects.filter(level__in=[Area.Level.COMMUNITY, Area.Level.GRID])
    if viewer.role not in PLACE_READERS:
        areas = restrict_to_areas(areas, viewer)
    return [
        (area.code, f"— {area.name}" if area.level == Area.Level.GRID else area.name)
        for area in areas.order_by("path").only("code", "name", "level")
    ]


def _matter_choices() -> list:
    """Matters grouped by class; each group starts with its whole class (the filter takes
    a code prefix). One query."""
    choices: list = [("", _("all matters"))]
    for group in matter_choices_for(public_only=False):
        klass = group.matter_class
        options = [(klass.code, _("%(class)s — all") % {"class": f"{klass.code} {klass.name}"})]
        options += [(m.code, f"{m.code} {m.name}") for m in group.matters]
        choices.append((f"{klass.code} {klass.name}", options))
    return choices


def _department_choices() -> list[tuple[str, str]]:
    departments = Department.objects.filter(is_active=True).order_by("code")
    return [("", _("all departments"))] + [(d.code, d.name) for d in departments]


class QueueFilterForm(BootstrapMixin, forms.Form):
    """What the queue filters by: a search and the place."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("A full case number, or words of the description or address."),
    )
    area = forms.ChoiceField(label=_("Community or grid"), required=False)

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = [("", _("everywhere in my area")), *area_choices_for(viewer)]
        self.fields["q"].widget.attrs.update(
            {"type": "search", "autocomplete": "off", "data-linli-search": ""}
        )

    def filters(self) -> dict:
        """Keyword arguments for selectors.case_filter, from valid data."""
        data = self.cleaned_data
        return {"q": data.get("q") or None, "grid": data.get("area") or None}


class CaseFilterForm(QueueFilterForm):
    """Every filter of the case list (selectors.case_filter)."""

    status = forms.ChoiceField(label=_("Status"), required=False)
    matter = forms.ChoiceField(label=_("Matter"), required=False)
    source = forms.ChoiceField(
        label=_("Source"), required=False, choices=[("", _("all sources")), *Source.choices]
    )
    department = forms.ChoiceField(label=_("Lead department"), required=False)
    overdue = forms.ChoiceField(label=_("Overdue"), required=False, choices=OVERDUE_CHOICES)
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=SORT_CHOICES)

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, viewer=viewer, **kwargs)
        self.fields["status"].choices = [
            ("", _("every status")),
            (OPEN, _("open (still being worked on)")),
            *Status.choices,
        ]
        self.fields["matter"].choices = _matter_choices()
        self.fields["department"].choices = _department_choices()

    def filters(self) -> dict:
        data = self.cleaned_data
        status = data.get("status") or None
        overdue = data.get("overdue")
        return {
            **super().filters(),
            "status": sorted(OPEN_STATUSES) if status == OPEN else status,
            "matter": data.get("matter") or None,
            "source": data.get("source") or None,
            "department": data.get("department") or None,
            "overdue": {"yes": True, "no": False}.get(overdue),
            "sort": data.get("sort") or "-reported",
        }


class CaseIdsField(forms.Field):
    """The ticked rows: whole numbers, in the order given, each once."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if not value:
            return []
        if not isinstance(value, list | tuple):
            value = [value]
        try:
            ids = [int(v) for v in value]
        except (TypeError, ValueError):
            raise forms.ValidationError(_("Tick cases from the list."), code="invalid") from None
        if any(not 1 <= i <= ID_MAX for i in ids):
            raise forms.ValidationError(_("Tick cases from the list."), code="invalid")
        return list(dict.fromkeys(ids))


class BulkForm(BootstrapMixin, forms.Form):
    """The queue's bulk action on the ticked cases. The ids are only a request: the view
    looks each up again through the viewer's scope."""

    ACCEPT, DISPATCH = "accept", "dispatch"

    action = forms.ChoiceField(
        label=_("Action"),
        choices=[(ACCEPT, _("accept")), (DISPATCH, _("dispatch"))],
        widget=forms.HiddenInput,
    )
    ids = CaseIdsField(label=_("Cases"), required=False)
    department = forms.ModelChoiceField(
        label=_("Lead department"),
        queryset=Department.objects.filter(is_active=True).order_by("code"),
        required=False,
        empty_label=_("each matter's own department"),
    )
    urgency = forms.ChoiceField(
        label=_("Urgency"),
        required=False,
        choices=[("", _("as reported")), *Urgency.choices],
    )
    note = forms.CharField(
        label=_("Note (optional)"), required=False, max_length=NOTE_MAX, widget=forms.TextInput
    )

    def clean_ids(self):
        ids = self.cleaned_data["ids"]
        if not ids:
            raise forms.ValidationError(_("Tick at least one case."))
        if len(ids) > BULK_MAX:
            raise forms.ValidationError(
                _("At most %(n)d cases at a time.") % {"n": BULK_MAX}, code="too_many"
            )
        return ids
