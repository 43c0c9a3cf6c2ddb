"""Input-shape errors (pydantic's, behind django-ninja's 422) in the caller's language.

pydantic writes its messages in English only; the API answers every error in the
language the client asks for, so the common kinds are said again here, with the limit
they name. A kind not listed keeps pydantic's message."""

import re

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

NUMBER_KINDS = {"int_parsing", "int_type", "float_parsing", "float_type", "finite_number"}
MOMENT_KINDS = {
    "datetime_parsing",
    "datetime_type",
    "datetime_from_date_parsing",
    "date_parsing",
    "date_type",
    "date_from_datetime_parsing",
}


def validation_message(error: dict) -> str:
    """One pydantic error (`type`, `ctx`, `msg`) as a sentence for the field's list."""
    kind = error.get("type", "")
    context = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind == "string_too_long":
        n = context["max_length"]
        return ngettext("At most %(n)d character.", "At most %(n)d characters.", n) % {"n": n}
    if kind == "string_too_short":
        n = context["min_length"]
        return ngettext("At least %(n)d character.", "At least %(n)d characters.", n) % {"n": n}
    if kind == "too_long":
        n = context["max_length"]
        return ngettext("At most %(n)d item.", "At most %(n)d items.", n) % {"n": n}
    if kind in ("greater_than_equal", "greater_than"):
        bound = context.get("ge", context.get("gt"))
        return _("Must be at least %(bound)s.") % {"bound": bound}
    if kind in ("less_than_equal", "less_than"):
        bound = context.get("le", context.get("lt"))
        return _("Must be at most %(bound)s.") % {"bound": bound}
    if kind in NUMBER_KINDS:
        return _("Please give a number.")
    if kind == "int_from_float":
        return _("Please give a whole number.")
    if kind in ("bool_parsing", "bool_type"):
        return _("Please give true or false.")
    if kind in ("literal_error", "enum"):
        return _("Choose one of: %(expected)s.") % {"expected": context.get("expected", "")}
    if kind in MOMENT_KINDS:
        return _("Please give a date and time such as 2026-05-01T08:30.")
    if kind == "string_type":
        return _("Please give text.")
    if kind == "dict_type":
        return _("Please give a JSON object.")
    if kind == "list_type":
        return _("Please give a list.")
    return str(error.get("msg", _("Not valid.")))


# An HTML tag, comment or declaration as a browser reads one: "<" straight before a letter
# (or "/", "!", "?" and a letter), on to ">". "温度<30度", "a < b >" and "《通知》" hold none.
MARKUP = re.compile(r"<!--|<[/!?]?[A-Za-z][^<>]*>")
MARKUP_SHOWN = 40


def markup_problem(text: str) -> str | None:
    """Why `text` cannot be taken as plain text, or None. A resident's words are shown as
    typed, escaped, wherever they appear; markup in them is refused at the door all the
    same, so that no tag is stored for a later screen, export or client to render (Open311
    P3: "no HTML")."""
    found = MARKUP.search(text)
    if found is None:
        return None
    tag = found.group(0)
    if len(tag) > MARKUP_SHOWN:
        tag = tag[: MARKUP_SHOWN - 1] + "…"
    return _("Please write plain text: %(tag)s looks like HTML, which is not accepted.") % {
        "tag": tag
    }
