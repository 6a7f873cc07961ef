from flask_babel import lazy_gettext
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from ..forms import Form
from .schemas import NAME_MAX


class LoginForm(Form):
    email = EmailField(lazy_gettext("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(lazy_gettext("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(lazy_gettext("Keep me logged in on this computer"))
    submit = SubmitField(lazy_gettext("Log in"))


class LogoutForm(Form):
    submit = SubmitField("Log out")


class SettingsForm(Form):
    """My settings: name, language, time zone. The form only renders them and shows the messages of
    `SettingsSchema` (accounts/schemas.py), which `services.update_settings` loads: the one check."""

    name = StringField(lazy_gettext("Name"), render_kw={"required": True, "maxlength": NAME_MAX})
    locale = SelectField(lazy_gettext("Language"), choices=[("zh", "中文"), ("en", "English")], validate_choice=False)
    timezone = StringField(lazy_gettext("Time zone"), render_kw={"required": True, "maxlength": 64})
    submit = SubmitField(lazy_gettext("Save settings"))


class PasswordChangeForm(Form):
    current_password = PasswordField(lazy_gettext("Current password"), validators=[DataRequired(), Length(max=200)])
    new_password = PasswordField(lazy_gettext("New password"), validators=[DataRequired(), Length(max=200)])
    repeat_password = PasswordField(lazy_gettext("New password again"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(lazy_gettext("Change password"))


class CalendarLinkForm(Form):
    """Replace the private calendar link; `next` is the page to return to."""

    next = HiddenField()
    submit = SubmitField(lazy_gettext("Replace the link"))
