from flask_babel import lazy_gettext as _l
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

from ..forms import Form as PageForm
from .enums import DOCUMENT_KIND_LABELS


class ProgressForm(PageForm):
    stage = SelectField(_l("Stage"), choices=[], validate_choice=False)
    note = TextAreaField(_l("What happened (the reason, when moving back or dropping)"), validators=[Optional(), Length(max=4000)])
    amount = StringField(_l("Amount (expected or contracted)"), validators=[Optional(), Length(max=30)])
    currency = StringField(_l("Currency (ISO 4217)"), validators=[Optional(), Length(max=3)])
    next_action_on = DateField(_l("Next action on"), validators=[Optional()])
    submit = SubmitField(_l("Save progress"))


class OwnerForm(PageForm):
    owner_id = SelectField(_l("Responsible person"), coerce=int, choices=[], validate_choice=False)
    submit = SubmitField(_l("Set responsible person"))


class DocumentForm(PageForm):
    kind = SelectField(_l("Kind"), choices=[(kind.value, label) for kind, label in DOCUMENT_KIND_LABELS.items()])
    file = FileField(_l("File (PDF, PPTX, DOCX, PNG, JPEG or MP4)"))
    submit = SubmitField(_l("Upload document"))


class ReportRow(Form):
    """One open lead in the monthly report (no CSRF of its own: the report form carries it)."""

    lead_id = HiddenField()
    stage = SelectField(_l("Stage"), choices=[], validate_choice=False)
    note = TextAreaField(_l("Progress"), validators=[Optional(), Length(max=4000)])
    next_action_on = DateField(_l("Next action"), validators=[Optional()])
    amount = StringField(_l("Amount"), validators=[Optional(), Length(max=30)])
    currency = StringField(_l("Currency"), validators=[Optional(), Length(max=3)])


class ReportForm(PageForm):
    rows = FieldList(FormField(ReportRow))
    note = TextAreaField(_l("A word on the month (optional)"), validators=[Optional(), Length(max=4000)])
    submit = SubmitField(_l("File the report"))


class RateForm(PageForm):
    currency = StringField(_l("Currency (ISO 4217)"), validators=[DataRequired(), Length(max=3)])
    cny_per_unit = StringField(_l("Yuan per unit"), validators=[DataRequired(), Length(max=20)])
    submit = SubmitField(_l("Save rate"))


class StallLimitForm(PageForm):
    stage = SelectField(_l("Stage"), choices=[], validate_choice=False)
    days = IntegerField(_l("Days without progress"), validators=[InputRequired()])
    submit = SubmitField(_l("Save limit"))


class SigningForm(PageForm):
    lead_id = SelectField(_l("Lead"), coerce=int, choices=[], validate_choice=False)
    amount = StringField(_l("Contracted amount"), validators=[Optional(), Length(max=30)])
    currency = StringField(_l("Currency (ISO 4217)"), validators=[Optional(), Length(max=3)])
    file = FileField(_l("Signed agreement (PDF or image)"))
    submit = SubmitField(_l("Record the signing"))


class DemandForm(PageForm):
    demand_sectors = SelectMultipleField(_l("Sectors you seek"), choices=[], validate_choice=False)
    demand_countries = SelectMultipleField(_l("Countries you seek investors from"), choices=[], validate_choice=False)
    demand_note = TextAreaField(_l("What you need, in a sentence"), validators=[Optional(), Length(max=1000)])
    submit = SubmitField(_l("Save demand profile"))
