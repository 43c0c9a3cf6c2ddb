"""The one error that services raise for a broken domain rule.

Pages turn it into form errors, the API into `{"code", "message", "fields"}` (STYLE.md 7, 15).
"""

from django.utils.functional import Promise


class DomainError(Exception):
    def __init__(
        self,
        code: str,
        message: str | Promise,
        fields: dict[str, list[str | Promise]] | None = None,
    ):
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.fields = fields or {}

    def summary(self) -> str:
        """One line for a message bar: the field messages, or the message."""
        problems = [str(m) for messages in self.fields.values() for m in messages]
        return " ".join(problems) or str(self.message)

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "message": str(self.message),
            "fields": {name: [str(m) for m in msgs] for name, msgs in self.fields.items()},
        }
