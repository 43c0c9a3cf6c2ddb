"""Form helpers shared by every app's pages."""

from django import forms
from django.utils.translation import gettext as _

from linli.core.errors import DomainError


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos from one input, taken with a phone's camera or chosen from it (the
    Django 5.2 documentation's pattern for multiple files). Each photo's content is checked
    by linli.core.images in the service; `most` refuses more than that many here."""

    def __init__(self, *args, most: int | None = None, **kwargs):
        self.most = most
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "image/*", "capture": "environment"})
        )
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            photos = [single(d, initial) for d in data if d]
        else:
            photos = [single(data, initial)] if data else []
        if self.most is not None and len(photos) > self.most:
            raise forms.ValidationError(_("At most %(n)d photos.") % {"n": self.most})
        return photos


def form_errors_add(form, exc: DomainError, default: str | None = None) -> None:
    """A service's field errors on the form's fields; the rest on `default` (a field name)
    or, when None, above the form (STYLE.md 7: domain rules live in services)."""
    if not exc.fields:
        form.add_error(default, str(exc.message))
    for field, errors in exc.fields.items():
        for error in errors:
            form.add_error(field if field in form.fields else default, str(error))
