from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TimeField,
    URLField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..bilingual import form_fields
from ..forms import Form as PageForm
from .enums import KIND_LABELS


def _fold_field(label) -> RadioField:
    """Which of the two instants a local time in the repeated hour means (choices set when it is asked)."""
    return RadioField(label, choices=[("0", "0"), ("1", "1")], validators=[Optional()], validate_choice=False)


class FairForm(PageForm):
    title_zh, title_en = form_fields(_l("Title in Chinese"), _l("Title in English"), max_length=200)
    theme_zh, theme_en = form_fields(_l("Theme in Chinese"), _l("Theme in English"), max_length=300)
    timezone = StringField(_l("Time zone (IANA)"), default="Asia/Shanghai", validators=[DataRequired(), Length(max=64)])
    starts_at = DateTimeLocalField(_l("Starts (fair's time zone)"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    ends_at = DateTimeLocalField(_l("Ends (fair's time zone)"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    starts_at_fold = _fold_field(_l("Which start do you mean?"))
    ends_at_fold = _fold_field(_l("Which end do you mean?"))
    focus_countries = SelectMultipleField(_l("Focus countries"), choices=[], validate_choice=False)
    focus_sectors = SelectMultipleField(_l("Focus sectors"), choices=[], validate_choice=False)
    capacity = IntegerField(_l("Capacity (empty: unlimited)"), validators=[Optional(), NumberRange(min=1)])
    waitlist = BooleanField(_l("Keep a waiting list when the fair is full"), default=True)
    stream_url = URLField(_l("Stream or meeting address"), validators=[Optional(), Length(max=500)])
    tracks_zh, tracks_en = form_fields(_l("Tracks in Chinese (comma-separated)"),
                                       _l("Tracks in English (comma-separated)"), max_length=1000)
    fair_day_start = TimeField(_l("Working hours start (fair)"), default=None, validators=[Optional()])
    fair_day_end = TimeField(_l("Working hours end (fair)"), validators=[Optional()])
    presenter_day_start = TimeField(_l("Working hours start (presenter)"), validators=[Optional()])
    presenter_day_end = TimeField(_l("Working hours end (presenter)"), validators=[Optional()])
    submit = SubmitField(_l("Save fair"))


class _LocalMoment(DateTimeLocalField):
    """A date and time typed in the fair's zone. Text that is none is kept as it is, so the session
    schema says what is wrong with it (the form does not check)."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = " ".join(valuelist)


class SessionForm(PageForm):
    """A session's fields. The form only renders them and shows the messages of `SessionValuesSchema`
    (session_values.py), which the services load: the one check of a session's values."""

    title_zh, title_en = form_fields(_l("Title in Chinese"), _l("Title in English"), max_length=200, checked=False)
    kind = SelectField(_l("Kind"), choices=[(kind.value, label) for kind, label in KIND_LABELS.items()],
                       validate_choice=False)
    starts_at = _LocalMoment(_l("Starts (fair's time zone)"), format="%Y-%m-%dT%H:%M", render_kw={"required": True})
    ends_at = _LocalMoment(_l("Ends (fair's time zone)"), format="%Y-%m-%dT%H:%M", render_kw={"required": True})
    starts_at_fold = _fold_field(_l("Which start do you mean?"))
    ends_at_fold = _fold_field(_l("Which end do you mean?"))
    track = SelectField(_l("Track"), choices=[], validate_choice=False)
    presenter_ids = SelectMultipleField(_l("Presenters"), choices=[], coerce=int, validate_choice=False)
    project_ids = SelectMultipleField(_l("Projects"), choices=[], coerce=int, validate_choice=False)
    join_url = URLField(_l("Join address"), render_kw={"maxlength": 500})
    description_zh, description_en = form_fields(_l("Description in Chinese"), _l("Description in English"),
                                                max_length=5000, area=True, checked=False)
    submit = SubmitField(_l("Save session"))


class ActionForm(PageForm):
    """A button that changes state: only its CSRF token is checked."""

    submit = SubmitField(_l("Go"))


#: The form's words for the recurrence (the values are app.fairs.series.ORDINALS, WEEKDAYS, INTERVALS).
SERIES_INTERVALS = [("1", _l("every month")), ("2", _l("every second month")), ("3", _l("every third month")),
                    ("6", _l("every sixth month"))]
SERIES_ORDINALS = [("1", _l("first")), ("2", _l("second")), ("3", _l("third")), ("4", _l("fourth")),
                   ("-1", _l("last"))]
SERIES_WEEKDAYS = [("MO", _l("Monday")), ("TU", _l("Tuesday")), ("WE", _l("Wednesday")), ("TH", _l("Thursday")),
                   ("FR", _l("Friday")), ("SA", _l("Saturday")), ("SU", _l("Sunday"))]

#: Empty month rows a new series form shows (more with "Add another month").
SERIES_EMPTY_ROWS = 3
SERIES_MAX_ROWS = 24


class SeriesThemeForm(Form):
    """One month of the rotation: its theme, focus countries and sectors (choices set by the view)."""

    theme_zh, theme_en = form_fields(_l("Theme in Chinese"), _l("Theme in English"), max_length=300)
    focus_countries = SelectMultipleField(_l("Focus countries"), choices=[], validate_choice=False)
    focus_sectors = SelectMultipleField(_l("Focus sectors"), choices=[], validate_choice=False,
                                        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())


class SeriesForm(PageForm):
    """A monthly themed series in words ("every month on the second Thursday at 15:00 Beijing time");
    the view composes the RRULE (app.fairs.series.build_rrule) and the service checks everything."""

    title_zh, title_en = form_fields(_l("Title in Chinese"), _l("Title in English"), max_length=200)
    interval = SelectField(_l("How often"), choices=SERIES_INTERVALS, default="1", validate_choice=False)
    pattern = RadioField(_l("On which day"), default="weekday", validate_choice=False, choices=[
        ("weekday", _l("a weekday of the month")), ("monthday", _l("a day of the month"))])
    ordinal = SelectField(_l("Which one"), choices=SERIES_ORDINALS, default="2", validate_choice=False)
    weekday = SelectField(_l("Weekday"), choices=[("", "—")] + SERIES_WEEKDAYS, default="TH", validate_choice=False)
    month_day = StringField(_l("Day of the month"), validators=[Optional(), Length(max=4)])
    local_start = StringField(_l("Start time (24-hour clock)"), default="15:00", validators=[Optional(), Length(max=8)])
    timezone = SelectField(_l("Host time zone"), choices=[], default="Asia/Shanghai", validate_choice=False)
    minutes = IntegerField(_l("Length (minutes)"), default=240, validators=[Optional()])
    starts_on = StringField(_l("First date (empty: today)"), validators=[Optional(), Length(max=10)])
    capacity = IntegerField(_l("Capacity (empty: unlimited)"), validators=[Optional()])
    #: Advanced: an RFC 5545 RRULE typed by hand; when given it replaces the recurrence chosen above.
    rrule = StringField(_l("RRULE (replaces the choices above)"), validators=[Optional(), Length(max=500)])
    themes = FieldList(FormField(SeriesThemeForm), min_entries=SERIES_EMPTY_ROWS, max_entries=SERIES_MAX_ROWS)
    submit = SubmitField(_l("Create series"))
    preview = SubmitField(_l("Preview the dates"))
    add_month = SubmitField(_l("Add another month"))
