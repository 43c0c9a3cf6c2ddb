"""Forms for the register pages: input shape only; the services check the rules and their
DomainError fields land on these forms' fields (linli/people/views/register.py)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.areas.models import Area, Building
from linli.people.models import ETHNICITIES, AccessLog, Household, Resident, Talent

PAGE_SIZE = 50


class BootstrapMixin:
    """Bootstrap classes on every widget, and `is-invalid` on fields with errors, so the
    templates can render `{{ field }}` as is."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def add_error(self, field, error):
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                if "is-invalid" not in attrs.get("class", ""):
                    attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AreaChoiceField(forms.ModelChoiceField):
    """Communities and grids, a grid indented under its community."""

    def label_from_instance(self, obj):
        if obj.level in (Area.Level.GRID, Area.Level.MICROGRID):
            return f"— {obj.name}"
        return obj.name


# --- lists and filters ---------------------------------------------------------------------


class AreaPickForm(BootstrapMixin, forms.Form):
    area = AreaChoiceField(
        label=_("Community or grid"),
        queryset=Area.objects.none(),
        required=False,
        empty_label=_("everything in my area"),
    )

    def __init__(self, *args, areas=None, **kwargs):
        """`areas`: the communities and grids in the viewer's scope."""
        super().__init__(*args, **kwargs)
        if areas is not None:
            self.fields["area"].queryset = areas


SEARCH_HELP = _(
    "A name, or a full 18-character ID number, or a full mobile number. Parts of a "
    "number find nothing: numbers are stored encrypted."
)


class ResidentFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=50, help_text=SEARCH_HELP)
    tag = forms.ChoiceField(label=_("Tag"), required=False)
    grid = AreaChoiceField(
        label=_("Community or grid"),
        queryset=Area.objects.none(),
        required=False,
        empty_label=_("all"),
    )
    moved_out = forms.BooleanField(label=_("Include people who moved out"), required=False)

    def __init__(self, *args, areas=None, tags=(), **kwargs):
        """`areas`: communities and grids in scope; `tags`: the tags the viewer may see."""
        super().__init__(*args, **kwargs)
        if areas is not None:
            self.fields["grid"].queryset = areas
        self.fields["tag"].choices = [("", _("all tags")), *((t.code, t.name) for t in tags)]


class HouseholdFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("Household number or address"), required=False, max_length=100)
    grid = AreaChoiceField(
        label=_("Community or grid"),
        queryset=Area.objects.none(),
        required=False,
        empty_label=_("all"),
    )

    def __init__(self, *args, areas=None, **kwargs):
        super().__init__(*args, **kwargs)
        if areas is not None:
            self.fields["grid"].queryset = areas


class TalentFilterForm(BootstrapMixin, forms.Form):
    skill = forms.ChoiceField(
        label=_("Skill"), required=False, choices=[("", _("all skills")), *Talent.Skill.choices]
    )


class AccessLogFilterForm(BootstrapMixin, forms.Form):
    viewer = forms.CharField(label=_("Viewer (username)"), required=False, max_length=150)
    field = forms.ChoiceField(
        label=_("Field"), required=False, choices=[("", _("all")), *AccessLog.Field.choices]
    )
    since = forms.DateField(label=_("From"), required=False, widget=_date_input())
    until = forms.DateField(label=_("To"), required=False, widget=_date_input())


class OverviewForm(forms.Form):
    level = forms.ChoiceField(
        choices=[(Area.Level.COMMUNITY, _("by community")), (Area.Level.GRID, _("by grid"))],
        required=False,
    )


# --- residents -----------------------------------------------------------------------------


class ResidentForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    id_number = forms.CharField(
        label=_("ID number"),
        required=False,
        max_length=30,
        help_text=_("18 characters. Date of birth and gender are taken from it."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    birth_date = forms.DateField(
        label=_("Date of birth"),
        required=False,
        help_text=_("Only needed without an ID number."),
        widget=_date_input(),
    )
    gender = forms.ChoiceField(
        label=_("Gender"),
        required=False,
        choices=[("", "—"), *Resident.Gender.choices],
        help_text=_("Only needed without an ID number."),
    )
    phone = forms.CharField(
        label=_("Mobile"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off", "type": "tel"}),
    )
    ethnicity = forms.ChoiceField(
        label=_("Ethnicity"), choices=[(e, e) for e in ETHNICITIES], initial="汉族", required=False
    )
    relation = forms.ChoiceField(
        label=_("Relation to the head"), choices=[("", "—"), *Resident.Relation.choices]
    )
    moved_in_on = forms.DateField(label=_("Moved in"), required=False, widget=_date_input())


class ResidentEditForm(ResidentForm):
    """Never prefilled with a stored ID number or phone: those are shown only through a
    logged reveal. A blank field keeps what is stored."""

    phone_remove = forms.BooleanField(label=_("Remove the stored mobile number"), required=False)

    def __init__(self, *args, resident: Resident, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "name": resident.name,
                "ethnicity": resident.ethnicity,
                "relation": resident.relation,
                "moved_in_on": resident.moved_in_on,
                "birth_date": resident.birth_date,
                "gender": resident.gender,
            },
        )
        super().__init__(*args, **kwargs)
        keep = _("Leave blank to keep the stored number (%(masked)s).")
        self.fields["id_number"].help_text = keep % {"masked": resident.id_number_masked or "—"}
        self.fields["phone"].help_text = keep % {"masked": resident.phone_masked or "—"}
        if resident.id_number_masked:
            # Birth date and gender follow the stored ID number; showing them here would
            # give away the digits the mask hides.
            del self.fields["birth_date"]
            del self.fields["gender"]
        if not resident.phone_masked:
            del self.fields["phone_remove"]

    def changes(self) -> dict:
        """The keyword arguments for services.resident_update."""
        data = self.cleaned_data
        changes = {
            "name": data["name"],
            "ethnicity": data["ethnicity"],
            "relation": data["relation"],
            "moved_in_on": data["moved_in_on"],
        }
        if "birth_date" in self.fields:
            changes["birth_date"] = data["birth_date"]
            changes["gender"] = data["gender"]
        if data["id_number"].strip():
            changes["id_number"] = data["id_number"].strip()
        if data["phone"].strip():
            changes["phone"] = data["phone"].strip()
        elif data.get("phone_remove"):
            changes["phone"] = ""
        return changes


REVEAL_FIELDS = [AccessLog.Field.ID_NUMBER, AccessLog.Field.PHONE, AccessLog.Field.ADDRESS]


class RevealForm(BootstrapMixin, forms.Form):
    field = forms.ChoiceField(choices=[(f.value, f.label) for f in REVEAL_FIELDS])
    # Checked by services.resident_reveal, so the page and the API give the same message.
    reason = forms.CharField(
        label=_("Why do you need to see it?"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class MoveOutForm(BootstrapMixin, forms.Form):
    on = forms.DateField(label=_("Moved out on"), required=False, widget=_date_input())
    reason = forms.CharField(label=_("Reason for leaving"), required=False, max_length=100)


class TagForm(BootstrapMixin, forms.Form):
    action = forms.ChoiceField(choices=[("add", "add"), ("remove", "remove")])
    tag = forms.ModelChoiceField(label=_("Tag"), queryset=None, to_field_name="code")
    grade = forms.CharField(label=_("Grade"), required=False, max_length=20)
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def __init__(self, *args, tags, **kwargs):
        """`tags`: the tags the viewer may see (and so set)."""
        super().__init__(*args, **kwargs)
        self.fields["tag"].queryset = tags


class TalentForm(BootstrapMixin, forms.Form):
    skill = forms.ChoiceField(label=_("Skill"), choices=Talent.Skill.choices)
    detail = forms.CharField(label=_("Detail"), required=False, max_length=200)
    certificate = forms.CharField(label=_("Certificate"), required=False, max_length=100)
    willing_to_serve = forms.BooleanField(label=_("Willing to serve"), required=False)
    consent = forms.BooleanField(
        label=_("The person agrees to be listed in the talent pool"),
        required=False,
        help_text=_("Needed before they can be listed as willing to serve."),
    )


# --- households ----------------------------------------------------------------------------


class HouseholdForm(BootstrapMixin, forms.Form):
    grid = forms.ModelChoiceField(label=_("Grid"), queryset=Area.objects.none())
    building = forms.ModelChoiceField(
        label=_("Building"), queryset=Building.objects.none(), required=False
    )
    address = forms.CharField(
        label=_("Address"),
        max_length=200,
        help_text=_("Street and number, down to the building."),
    )
    unit = forms.CharField(label=_("Unit"), required=False, max_length=20)
    room = forms.CharField(
        label=_("Room"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    tenure = forms.ChoiceField(label=_("Tenure"), choices=Household.Tenure.choices)
    registration = forms.ChoiceField(
        label=_("Registration"), choices=Household.Registration.choices
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, grids, buildings, refresh_url: str = "", **kwargs):
        """`grids`: the grids the viewer may edit; `buildings`: the buildings of the chosen
        grid; `refresh_url`: the page itself, asked again with ?grid=… for its buildings."""
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = grids
        self.fields["building"].queryset = buildings
        if refresh_url:
            self.fields["grid"].widget.attrs.update(
                {
                    "hx-get": refresh_url,
                    "hx-trigger": "change",
                    "hx-select": "#building-field",
                    "hx-target": "#building-field",
                    "hx-swap": "outerHTML",
                }
            )


class HouseholdEditForm(HouseholdForm):
    """The room is part of the full address, shown only through a logged reveal; a blank
    room keeps the stored one."""

    def __init__(self, *args, household: Household, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "grid": household.grid_id,
                "building": household.building_id,
                "address": household.address,
                "unit": household.unit,
                "tenure": household.tenure,
                "registration": household.registration,
                "note": household.note,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["room"].help_text = (
            _("Leave blank to keep the stored room.") if household.room else ""
        )
