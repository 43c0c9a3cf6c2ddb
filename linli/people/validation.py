"""Checks of ID numbers and phones with well-kept libraries: python-stdnum's `cn.ric`
(length, check digit, birth date, area code) and phonenumbers. Each problem is one
translated message for one field, so a form, the API and the Excel import say the same."""

from dataclasses import dataclass
from datetime import date
from functools import cache

from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_errors
from stdnum import numdb
from stdnum.cn import ric

from linli.accounts.backends import normalise_phone


@dataclass(frozen=True)
class IdNumber:
    number: str  # 18 characters, final X upper-case
    birth_date: date
    gender: str  # "M" or "F": the 17th digit is odd for men


class FieldProblem(ValueError):
    """One field's problem, with a message in the current language."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def compact_id_number(raw: str) -> str:
    return ric.compact(raw or "").upper()


def check_id_number(raw: str, *, today: date | None = None) -> IdNumber:
    """Parse a resident identity card number (GB 11643) or raise FieldProblem."""
    number = compact_id_number(raw)
    if len(number) != 18:
        raise FieldProblem(
            "id_number",
            _("An ID number has 18 characters; this one has %(n)d.") % {"n": len(number)},
        )
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise FieldProblem("id_number", _("An ID number is 17 digits followed by a digit or X."))
    if number[17] != ric.calc_check_digit(number):
        raise FieldProblem(
            "id_number", _("The check digit (the last character) is wrong: a typing error?")
        )
    try:
        ric.get_birth_date(number)
    except stdnum_errors.ValidationError:
        raise FieldProblem("id_number", _("Digits 7 to 14 are not a real date of birth.")) from None
    # stdnum's get_birth_place also requires the county to have existed in the birth year,
    # but numbers were assigned from 1984 on with the area code of that time: a woman born
    # in 1950 in 东营区 (created 1983) rightly has 370502. Any code the table knows passes.
    if not _known_area(number[:6]):
        raise FieldProblem("id_number", _("The first six digits are not a known area code."))
    birth = ric.get_birth_date(number)
    if birth > (today or date.today()):  # noqa: DTZ011 - a calendar date, not a time
        raise FieldProblem("id_number", _("The date of birth in this ID number is in the future."))
    gender = "M" if int(number[16]) % 2 else "F"
    return IdNumber(number=number, birth_date=birth, gender=gender)


@cache
def _known_area(code: str) -> bool:
    info = {k: v for _part, props in numdb.get("cn/loc").info(code) for k, v in props.items()}
    return "county" in info


def check_agrees_with_id(parsed: IdNumber, *, birth_date: date | None, gender: str | None) -> None:
    """Raise FieldProblem when a given birth date or gender contradicts the ID number."""
    if birth_date is not None and birth_date != parsed.birth_date:
        raise FieldProblem(
            "birth_date",
            _("The date of birth does not match the ID number, which says %(date)s.")
            % {"date": parsed.birth_date.isoformat()},
        )
    if gender and gender != parsed.gender:
        raise FieldProblem(
            "gender",
            _("The gender does not match the ID number (its 17th digit is %(digit)s).")
            % {"digit": parsed.number[16]},
        )


def check_phone(raw: str) -> str:
    """The E.164 form of a mainland mobile number, or raise FieldProblem."""
    e164 = normalise_phone(raw or "")
    if e164 is None:
        raise FieldProblem(
            "phone", _("Not a valid mainland mobile number; enter 11 digits, e.g. 13812345678.")
        )
    return e164


def id_number_make(area_code: str, birth_date: date, sequence: int) -> str:
    """A well-formed ID number for `area_code` (6 digits), a birth date and a 3-digit
    sequence whose parity is the gender (odd: male). For demo data and tests only: real
    numbers are issued by the public security bureau."""
    body = f"{area_code}{birth_date:%Y%m%d}{sequence % 1000:03d}"
    # calc_check_digit expects the number with a (placeholder) check digit at the end.
    return body + ric.calc_check_digit(body + "0")
