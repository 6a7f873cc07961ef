"""What every page form shares."""

from __future__ import annotations

from flask_babel import gettext
from flask_wtf import FlaskForm

from .validation import field_label


class Form(FlaskForm):
    """The base of every page form. Its CSRF field and submit button render without an `id`: a page
    with several forms (settings, a lead, the people list) would otherwise repeat `id="csrf_token"`
    and `id="submit"`, which HTML forbids; neither has a label that needs one."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("csrf_token", "submit"):
            field = self._fields.get(name)
            if field is not None:
                field.id = False  # WTForms leaves out an attribute whose value is False


def attach_errors(form, fields: dict[str, list[str]]) -> list[str]:
    """Put a service's field errors beside the form's fields; return those that have no field on the form."""
    leftover = []
    for name, messages in fields.items():
        target = getattr(form, name, None)
        if target is not None and hasattr(target, "errors"):
            target.errors = list(target.errors) + list(messages)
        else:
            label = field_label(name)  # by its translated label, never its code
            leftover += [gettext("%(field)s: %(message)s", field=label, message=m) if label else str(m)
                         for m in messages]
    return leftover
