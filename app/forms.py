"""What every page form shares."""

from __future__ import annotations

from flask_babel import gettext

from .validation import field_label


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
