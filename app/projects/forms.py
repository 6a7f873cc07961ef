from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class ProjectForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    summary = TextAreaField("Summary", validators=[Optional(), Length(max=5000)])
    sector = SelectField("Sector", choices=[], validate_choice=False)
    country = SelectField("Origin country", choices=[], validate_choice=False)
    investment_amount = StringField("Investment amount", validators=[Optional(), Length(max=30)])
    currency = StringField("Currency (ISO 4217, e.g. EUR)", validators=[Optional(), Length(max=3)])
    submit = SubmitField("Save project")


class UploadForm(FlaskForm):
    file = FileField("File (PDF, PPTX, DOCX, PNG, JPEG or MP4)")
    replaces = SelectField("This is a new version of", choices=[], validate_choice=False)
    submit = SubmitField("Upload")


class ReviewForm(FlaskForm):
    note = TextAreaField("Note to the presenter (required to reject)", validators=[Optional(), Length(max=2000)])
    approve = SubmitField("Approve")
    reject = SubmitField("Reject")


class ProfileForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    bio = TextAreaField("About you", validators=[Optional(), Length(max=2000)])
    languages = StringField("Languages you speak (codes, comma-separated, e.g. en, de, zh)", validators=[Optional()])
    timezone = StringField("Time zone (IANA, e.g. Europe/Berlin)", validators=[DataRequired(), Length(max=64)])
    locale = SelectField("Language of CloudFair", choices=[("en", "English"), ("zh", "中文")])
    submit = SubmitField("Save profile")


class PhotoForm(FlaskForm):
    file = FileField("Photo (PNG or JPEG)")
    submit = SubmitField("Upload photo")


