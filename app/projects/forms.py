from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length, Optional

from ..accounts.schemas import BIO_MAX, NAME_MAX
from ..bilingual import form_fields
from ..forms import Form


class ProjectForm(Form):
    title_zh, title_en = form_fields(_l("Title in Chinese"), _l("Title in English"), max_length=200)
    summary_zh, summary_en = form_fields(_l("Summary in Chinese"), _l("Summary in English"), max_length=5000, area=True)
    sector = SelectField(_l("Sector"), choices=[], validate_choice=False)
    country = SelectField(_l("Origin country"), choices=[], validate_choice=False)
    investment_amount = StringField(_l("Investment amount"), validators=[Optional(), Length(max=30)])
    currency = StringField(_l("Currency (ISO 4217, e.g. EUR)"), validators=[Optional(), Length(max=3)])
    submit = SubmitField(_l("Save project"))


class UploadForm(Form):
    file = FileField(_l("File (PDF, PPTX, DOCX, PNG, JPEG or MP4)"))
    replaces = SelectField(_l("This is a new version of"), choices=[], validate_choice=False)
    submit = SubmitField(_l("Upload"))


class ReviewForm(Form):
    note = TextAreaField(_l("Note to the presenter (required to reject)"), validators=[Optional(), Length(max=2000)])
    approve = SubmitField(_l("Approve"))
    reject = SubmitField(_l("Reject"))


class ProfileForm(Form):
    """My profile: the form only renders the fields and shows the messages of `SettingsSchema`
    (accounts/schemas.py), which `update_settings` loads: the one check."""

    name = StringField(_l("Name"), render_kw={"required": True, "maxlength": NAME_MAX})
    bio = TextAreaField(_l("About you"), render_kw={"maxlength": BIO_MAX})
    languages = StringField(_l("Languages you speak, separated by commas (e.g. English, German, Chinese)"))
    timezone = StringField(_l("Time zone (IANA, e.g. Europe/Berlin)"), render_kw={"required": True, "maxlength": 64})
    #: Each language by its own name, whatever the page's language.
    locale = SelectField(_l("Language of CloudFair"), choices=[("en", "English"), ("zh", "中文")], validate_choice=False)
    submit = SubmitField(_l("Save profile"))


class PhotoForm(Form):
    file = FileField(_l("Photo (PNG or JPEG)"))
    submit = SubmitField(_l("Upload photo"))
