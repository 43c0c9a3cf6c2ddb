import string

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

CLASSES = [
    ("lower", lambda c: c in string.ascii_lowercase),
    ("upper", lambda c: c in string.ascii_uppercase),
    ("digit", lambda c: c.isdigit()),
    ("symbol", lambda c: not c.isalnum()),
]


class CharacterClassValidator:
    """等保 2.0 password complexity: at least `min_classes` of lower case, upper case,
    digits and symbols."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password, user=None):
        found = sum(1 for _name, test in CLASSES if any(test(c) for c in password))
        if found < self.min_classes:
            raise ValidationError(
                ngettext(
                    "The password must mix at least %(n)d kind of character: lower-case "
                    "letters, upper-case letters, digits, symbols.",
                    "The password must mix at least %(n)d kinds of characters: lower-case "
                    "letters, upper-case letters, digits, symbols.",
                    self.min_classes,
                )
                % {"n": self.min_classes},
                code="password_too_simple",
            )

    def get_help_text(self):
        return _(
            "Use at least %(n)d of: lower-case letters, upper-case letters, digits, symbols."
        ) % {"n": self.min_classes}
