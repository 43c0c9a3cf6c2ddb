"""The KPI page's inputs: the period and the breakdown; the drill-down's figure; the month of
the evaluation workbook. The API checks its dates with the same `period_errors`."""

from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.insights.facts import FACTS
from linli.insights.models import Dim
from linli.insights.selectors import month_end

# A longer span reads too many rollup rows per key for a page, and no evaluation needs it.
MOST_YEARS = 10


def month_start(day: date) -> date:
    return day.replace(day=1)


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def period_errors(start: date, end: date) -> dict[str, list[str]]:
    """Field errors of a span of days, {} when it is fine."""
    if start > end:
        return {"end": [_("The end must not be before the start.")]}
    if end >= _years_later(start, MOST_YEARS):
        return {"end": [_("Choose at most %(n)d years.") % {"n": MOST_YEARS}]}
    return {}


class Period:
    MONTH = "month"
    LAST_MONTH = "last_month"
    YEAR = "year"
    CUSTOM = "custom"
    CHOICES = [
        (MONTH, gettext_lazy("This month")),
        (LAST_MONTH, gettext_lazy("Last month")),
        (YEAR, gettext_lazy("This year")),
        (CUSTOM, gettext_lazy("Dates…")),
    ]


def period_span(period: str, today: date) -> tuple[date, date]:
    if period == Period.LAST_MONTH:
        last = month_start(today) - timedelta(days=1)
        return month_start(last), last
    if period == Period.YEAR:
        return date(today.year, 1, 1), date(today.year, 12, 31)
    return month_start(today), month_end(today)


class KpiForm(forms.Form):
    period = forms.ChoiceField(label=gettext_lazy("Period"), choices=Period.CHOICES, required=False)
    start = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = forms.DateField(
        label=gettext_lazy("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    dim = forms.ChoiceField(label=gettext_lazy("Breakdown"), required=False)

    def __init__(self, *args, dims: list[str], today: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()
        self.fields["dim"].choices = [(dim, Dim(dim).label) for dim in dims]
        self.dims = dims
        for field in self.fields.values():
            css = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        period = data.get("period") or Period.MONTH
        data["period"] = period
        data["dim"] = data.get("dim") or self.dims[0]
        if period != Period.CUSTOM:
            data["start"], data["end"] = period_span(period, self.today)
            return data
        for name in ("start", "end"):
            if data.get(name) is None:
                self.add_error(name, _("Give a date, or choose a period."))
        if self.errors:
            return data
        for name, errors in period_errors(data["start"], data["end"]).items():
            for error in errors:
                self.add_error(name, error)
        return data


class DrillForm(forms.Form):
    """The figure behind a drill-down link: a fact of one row (no key: the total)."""

    dim = forms.ChoiceField(choices=Dim.choices)
    key = forms.IntegerField(required=False, min_value=0)
    start = forms.DateField()
    end = forms.DateField()
    fact = forms.ChoiceField(choices=[(name, name) for name in FACTS])

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end"):
            for name, errors in period_errors(data["start"], data["end"]).items():
                for error in errors:
                    self.add_error(name, error)
        return data


class MonthField(forms.CharField):
    """A month as YYYY-MM (the value of <input type="month">), cleaned to its first day."""

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            year, month = (int(part) for part in value.split("-"))
            return date(year, month, 1)
        except ValueError:
            raise forms.ValidationError(_("Give a month as YYYY-MM, e.g. 2026-10.")) from None


class EvaluationForm(forms.Form):
    month = MonthField(
        label=gettext_lazy("Month"),
        widget=forms.TextInput(attrs={"type": "month", "class": "form-control"}),
    )

    def clean_month(self):
        month = self.cleaned_data["month"]
        if month.year < 2000 or month > timezone.localdate():
            raise forms.ValidationError(_("Choose a month from 2000 up to this one."))
        return month
