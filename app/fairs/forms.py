from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from .enums import KIND_LABELS


def _fold_field(label) -> RadioField:
    """Which of the two instants a local time in the repeated hour means (choices set when it is asked)."""
    return RadioField(label, choices=[("0", "0"), ("1", "1")], validators=[Optional()], validate_choice=False)


class FairForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    theme = StringField(_l("Theme"), validators=[Optional(), Length(max=300)])
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
    tracks = StringField(_l("Tracks (comma-separated)"), default="main", validators=[DataRequired(), Length(max=500)])
    fair_day_start = TimeField(_l("Working hours start (fair)"), default=None, validators=[Optional()])
    fair_day_end = TimeField(_l("Working hours end (fair)"), validators=[Optional()])
    presenter_day_start = TimeField(_l("Working hours start (presenter)"), validators=[Optional()])
    presenter_day_end = TimeField(_l("Working hours end (presenter)"), validators=[Optional()])
    submit = SubmitField(_l("Save fair"))


class SessionForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=[(kind.value, label) for kind, label in KIND_LABELS.items()])
    starts_at = DateTimeLocalField(_l("Starts (fair's time zone)"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    ends_at = DateTimeLocalField(_l("Ends (fair's time zone)"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    starts_at_fold = _fold_field(_l("Which start do you mean?"))
    ends_at_fold = _fold_field(_l("Which end do you mean?"))
    track = SelectField(_l("Track"), choices=[])
    presenter_ids = SelectMultipleField(_l("Presenters"), choices=[], coerce=int, validate_choice=False)
    project_ids = SelectMultipleField(_l("Projects"), choices=[], coerce=int, validate_choice=False)
    join_url = URLField(_l("Join address"), validators=[Optional(), Length(max=500)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    submit = SubmitField(_l("Save session"))


class ActionForm(FlaskForm):
    """A button that changes state: only its CSRF token is checked."""

    submit = SubmitField(_l("Go"))


class SeriesForm(FlaskForm):
    """A monthly themed series; the service checks the values (RRULE, zone, themes)."""

    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    timezone = StringField(_l("Host time zone (IANA)"), default="Asia/Shanghai", validators=[Optional(), Length(max=64)])
    rrule = StringField(_l("Recurrence (RRULE)"), default="FREQ=MONTHLY;BYDAY=2TH", validators=[Optional(), Length(max=500)])
    local_start = StringField(_l("Local start (HH:MM)"), default="15:00", validators=[Optional(), Length(max=8)])
    minutes = IntegerField(_l("Length (minutes)"), default=240, validators=[Optional()])
    starts_on = StringField(_l("First date (YYYY-MM-DD; empty: today)"), validators=[Optional(), Length(max=10)])
    capacity = IntegerField(_l("Capacity (empty: unlimited)"), validators=[Optional()])
    themes = TextAreaField(_l("Themes, one a month in rotation"), validators=[Optional(), Length(max=20000)])
    submit = SubmitField(_l("Create series"))
