from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class FairForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    theme = StringField("Theme", validators=[Optional(), Length(max=300)])
    timezone = StringField("Time zone (IANA)", default="Asia/Shanghai", validators=[DataRequired(), Length(max=64)])
    starts_at = DateTimeLocalField("Starts (fair's time zone)", format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    ends_at = DateTimeLocalField("Ends (fair's time zone)", format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    focus_countries = SelectMultipleField("Focus countries", choices=[], validate_choice=False)
    focus_sectors = SelectMultipleField("Focus sectors", choices=[], validate_choice=False)
    capacity = IntegerField("Capacity (empty: unlimited)", validators=[Optional(), NumberRange(min=1)])
    stream_url = URLField("Stream or meeting address", validators=[Optional(), Length(max=500)])
    tracks = StringField("Tracks (comma-separated)", default="main", validators=[DataRequired(), Length(max=500)])
    fair_day_start = TimeField("Working hours start (fair)", default=None, validators=[Optional()])
    fair_day_end = TimeField("Working hours end (fair)", validators=[Optional()])
    presenter_day_start = TimeField("Working hours start (presenter)", validators=[Optional()])
    presenter_day_end = TimeField("Working hours end (presenter)", validators=[Optional()])
    submit = SubmitField("Save fair")


class SessionForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    kind = SelectField("Kind", choices=[
        ("pitch", "Pitch"), ("city_promotion", "City promotion"), ("training", "Training"),
        ("signing", "Signing ceremony"), ("panel", "Panel"),
    ])
    starts_at = DateTimeLocalField("Starts (fair's time zone)", format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    ends_at = DateTimeLocalField("Ends (fair's time zone)", format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    track = SelectField("Track", choices=[])
    presenter_ids = SelectMultipleField("Presenters", choices=[], coerce=int, validate_choice=False)
    project_ids = SelectMultipleField("Projects", choices=[], coerce=int, validate_choice=False)
    join_url = URLField("Join address", validators=[Optional(), Length(max=500)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])
    submit = SubmitField("Save session")


class ActionForm(FlaskForm):
    """A button that changes state: only its CSRF token is checked."""

    submit = SubmitField("Go")


class SeriesForm(FlaskForm):
    """A monthly themed series; the service checks the values (RRULE, zone, themes)."""

    title = StringField("Title", validators=[Optional(), Length(max=200)])
    timezone = StringField("Host time zone (IANA)", default="Asia/Shanghai", validators=[Optional(), Length(max=64)])
    rrule = StringField("Recurrence (RRULE)", default="FREQ=MONTHLY;BYDAY=2TH", validators=[Optional(), Length(max=500)])
    local_start = StringField("Local start (HH:MM)", default="15:00", validators=[Optional(), Length(max=8)])
    minutes = IntegerField("Length (minutes)", default=240, validators=[Optional()])
    starts_on = StringField("First date (YYYY-MM-DD; empty: today)", validators=[Optional(), Length(max=10)])
    capacity = IntegerField("Capacity (empty: unlimited)", validators=[Optional()])
    themes = TextAreaField("Themes, one a month in rotation", validators=[Optional(), Length(max=20000)])
    submit = SubmitField("Create series")
