from flask_babel import gettext
from marshmallow import Schema, ValidationError, fields, validate

from ..i18n import ui_locale

from ..bounds import Id
from ..schemas import LANG_CODES, PageQuery, i18n_object, email_in, nonblank, one_of, page_of
from ..reference.services import country_codes, timezone_names
from .services import MIN_PASSWORD_LENGTH
from .enums import OrganisationKind, Role


class OrganisationSchema(Schema):
    """An organisation in and out. The service checks the values (and names every bad field), so
    the schema only fixes the types; nothing is required on PATCH."""

    id = fields.Integer(dump_only=True)
    #: The name it is registered and found by (unique).
    name = nonblank()
    #: The name in each language: in, any subset; out, both ("" where missing).
    name_i18n = fields.Method("dump_name_i18n", deserialize="load_i18n", allow_none=True,
                              metadata=i18n_object())
    kind = one_of([k.value for k in OrganisationKind])
    #: Out: the division's name in the viewer's language, else the free text; in: a place to match.
    city = fields.Method("dump_city", deserialize="load_text", allow_none=True)
    #: The GB/T 2260 code of the organisation's division (Chinese organisations), or null.
    division = fields.Method("dump_division", deserialize="load_text", allow_none=True)
    country = one_of(country_codes())
    demand_sectors = fields.List(fields.String())
    demand_countries = fields.List(fields.String())
    demand_note = fields.String()
    #: Other spellings the organisation is found by (names of organisations merged into it).
    aliases = fields.List(fields.String())
    people = fields.Integer(dump_only=True, attribute="people_count")
    leads = fields.Integer(dump_only=True, attribute="leads_count")

    def dump_city(self, org):
        return org.place(ui_locale())

    def dump_name_i18n(self, org):
        from ..bilingual import pair

        return pair(org, "name")

    def load_i18n(self, value):
        return value  # checked by the service (app/bilingual.py), which names what is wrong

    def dump_division(self, org):
        return org.division_code

    def load_text(self, value):
        if value is not None and not isinstance(value, str):
            raise ValidationError(gettext("Not a valid string."))
        return value


class OrganisationQuery(PageQuery):
    q = fields.String(load_default=None)
    kind = one_of([k.value for k in OrganisationKind], load_default=None)
    city = fields.String(load_default=None)


class OrganisationMergeSchema(Schema):
    duplicate_id = Id(required=True)


class UserSchema(Schema):
    id = fields.Integer(dump_only=True)
    email = fields.String()
    name = fields.String()
    role = fields.String()
    organisation = fields.Function(lambda u: u.organisation.name)
    organisation_id = fields.Integer()
    timezone = fields.String()
    locale = fields.String()
    active = fields.Boolean()


class UserCreateSchema(Schema):
    email = email_in(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    organisation = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = one_of([k.value for k in OrganisationKind], load_default=None)
    city = fields.String(load_default=None)
    country = one_of(country_codes(), load_default=None)
    timezone = one_of(timezone_names(), load_default=None)
    locale = one_of(LANG_CODES, load_default=None)
    password = fields.String(load_default=None, load_only=True, metadata={"minLength": MIN_PASSWORD_LENGTH})


class UserPatchSchema(Schema):
    name = nonblank()
    role = one_of([r.value for r in Role])
    timezone = one_of(timezone_names())
    locale = one_of(LANG_CODES)
    active = fields.Boolean()


class UserQuery(PageQuery):
    role = fields.String(load_default=None)
    organisation_id = Id(load_default=None)


class TokenRequestSchema(Schema):
    email = fields.String(required=True)
    password = fields.String(required=True, load_only=True)


class TokenSchema(Schema):
    token = fields.String()
    expires_at = fields.DateTime()
    user = fields.Nested(UserSchema)


UserPage = page_of(UserSchema, "UserPage")
OrganisationPage = page_of(OrganisationSchema, "OrganisationPage")


class OrganisationMemberSchema(UserSchema):
    """A person of an organisation, with whether their invitation is still pending (no password yet)."""

    invitation_pending = fields.Function(lambda u: u.password_hash is None)


OrganisationMemberPage = page_of(OrganisationMemberSchema, "OrganisationMemberPage")
