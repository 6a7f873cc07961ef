from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields import DateField
from wtforms.validators import DataRequired, InputRequired, Length, Optional


class ProgressForm(FlaskForm):
    stage = SelectField("Stage", choices=[], validate_choice=False)
    note = TextAreaField("What happened (the reason, when moving back or dropping)", validators=[Optional(), Length(max=4000)])
    amount = StringField("Amount (expected or contracted)", validators=[Optional(), Length(max=30)])
    currency = StringField("Currency (ISO 4217)", validators=[Optional(), Length(max=3)])
    next_action_on = DateField("Next action on", validators=[Optional()])
    submit = SubmitField("Save progress")


class OwnerForm(FlaskForm):
    owner_id = SelectField("Responsible person", coerce=int, choices=[], validate_choice=False)
    submit = SubmitField("Set responsible person")


class DocumentForm(FlaskForm):
    kind = SelectField("Kind", choices=[("agreement", "Signed agreement"), ("brochure", "Brochure"), ("other", "Other")])
    file = FileField("File (PDF, PPTX, DOCX, PNG, JPEG or MP4)")
    submit = SubmitField("Upload document")


class ReportRow(Form):
    """One open lead in the monthly report (no CSRF of its own: the report form carries it)."""

    lead_id = HiddenField()
    stage = SelectField("Stage", choices=[], validate_choice=False)
    note = TextAreaField("Progress", validators=[Optional(), Length(max=4000)])
    next_action_on = DateField("Next action", validators=[Optional()])
    amount = StringField("Amount", validators=[Optional(), Length(max=30)])
    currency = StringField("Currency", validators=[Optional(), Length(max=3)])


class ReportForm(FlaskForm):
    rows = FieldList(FormField(ReportRow))
    note = TextAreaField("A word on the month (optional)", validators=[Optional(), Length(max=4000)])
    submit = SubmitField("File the report")


class RateForm(FlaskForm):
    currency = StringField("Currency (ISO 4217)", validators=[DataRequired(), Length(max=3)])
    cny_per_unit = StringField("Yuan per unit", validators=[DataRequired(), Length(max=20)])
    submit = SubmitField("Save rate")


class StallLimitForm(FlaskForm):
    stage = SelectField("Stage", choices=[], validate_choice=False)
    days = IntegerField("Days without progress", validators=[InputRequired()])
    submit = SubmitField("Save limit")


class SigningForm(FlaskForm):
    lead_id = SelectField("Lead", coerce=int, choices=[], validate_choice=False)
    amount = StringField("Contracted amount", validators=[Optional(), Length(max=30)])
    currency = StringField("Currency (ISO 4217)", validators=[Optional(), Length(max=3)])
    file = FileField("Signed agreement (PDF or image)")
    submit = SubmitField("Record the signing")


class DemandForm(FlaskForm):
    demand_sectors = SelectMultipleField("Sectors you seek", choices=[], validate_choice=False)
    demand_countries = SelectMultipleField("Countries you seek investors from", choices=[], validate_choice=False)
    demand_note = TextAreaField("What you need, in a sentence", validators=[Optional(), Length(max=1000)])
    submit = SubmitField("Save demand profile")
