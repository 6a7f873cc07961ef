from flask_babel import gettext
from marshmallow import Schema, ValidationError, fields, validate

from ..i18n import ui_locale

from ..bounds import NONBLANK_PATTERN, TEXT_PATTERN, Id
from ..schemas import LANG_CODES, PageQuery, i18n_object, email_in, nonblank, one_of, organisation_i18n_out, page_of
from ..reference.services import country_codes, language_codes, timezone_names
from .enums import MIN_PASSWORD_LENGTH, OrganisationKind, Role


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
    city = fields.Method("dump_city", deserialize="load_text", allow_none=True, metadata={
        "type": "string", "nullable": True, "maxLength": 100, "pattern": TEXT_PATTERN,
        "description": "in China, a known city, district or county (Chinese, English or pinyin); elsewhere free text"})
    #: The GB/T 2260 code of the organisation's division (Chinese organisations), or null.
    division = fields.Method("dump_division", deserialize="load_text", allow_none=True, metadata={
        "type": "string", "nullable": True, "pattern": r"^([0-9]{6})?$",
        "description": "a known GB/T 2260 code, only for organisations in China (\"\" or null: none)"})
    country = one_of(country_codes())
    demand_sectors = fields.List(fields.String())
    demand_countries = fields.List(one_of(country_codes()))
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
    organisation_i18n = organisation_i18n_out()
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


# ---------------------------------------------------------------- a person's settings
# One set of rules for a person's name, language, time zone, bio and languages, whichever way they
# arrive (the settings and profile pages, `PATCH /api/v1/me`, the language switch, an organiser's
# `PATCH /api/v1/users/<id>`): `services.update_settings` loads `SettingsSchema`.

NAME_MAX = 200
BIO_MAX = 2000
LANGUAGES_MAX = 20


class PersonName(fields.String):
    """A person's name: white space runs become one space; 1 to 200 characters."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not " ".join(text.split()):
            raise ValidationError(gettext("A name is required."))
        if len(text.strip()) > NAME_MAX:
            raise ValidationError(gettext("At most %(n)d characters.", n=NAME_MAX))
        return " ".join(text.split())


class ZoneName(fields.String):
    """An IANA time zone name the reference list knows."""

    def _deserialize(self, value, attr, data, **kwargs):
        zone = value.strip() if isinstance(value, str) else value
        if not isinstance(zone, str) or zone not in timezone_names():
            raise ValidationError(gettext(
                "%(zone)s is not a known time zone. Pick one from the list, e.g. Europe/Berlin or Asia/Shanghai.",
                zone=repr(zone),
            ))
        return zone


class InterfaceLanguage(fields.String):
    """The language CloudFair speaks to the person: zh or en."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value not in LANG_CODES:
            raise ValidationError(gettext("Choose 中文 (zh) or English (en)."))
        return value


class Bio(fields.String):
    """Free text about the person, at most 2,000 characters; blank is none."""

    def _deserialize(self, value, attr, data, **kwargs):
        import unicodedata

        if not isinstance(value, str):
            raise ValidationError(gettext("Must be text."))
        text = value
        if len(text) > BIO_MAX:
            raise ValidationError(gettext("The bio has at most 2,000 characters."))
        return unicodedata.normalize("NFC", text.strip()) or None


class LanguageList(fields.List):
    """The languages a person speaks, as codes Babel knows ("de", "en-us"); duplicates dropped, at
    most 20. The whole list is named in an error (not an index)."""

    def _deserialize(self, value, attr, data, **kwargs):
        from babel import Locale as BabelLocale
        from babel.core import UnknownLocaleError

        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValidationError(gettext("Give a list of language codes, e.g. [\"en\", \"de\"]."))
        codes: list[str] = []
        for raw in value:
            code = raw.strip().lower().replace("_", "-")
            try:
                BabelLocale.parse(code, sep="-")
            except (ValueError, UnknownLocaleError):
                raise ValidationError(gettext("%(code)r is not a language code.", code=raw)) from None
            if code not in codes:
                codes.append(code)
        if len(codes) > LANGUAGES_MAX:
            raise ValidationError(gettext("List at most 20 languages."))
        return codes


class SettingsSchema(Schema):
    """A person's own settings; every field may be left out (only those sent change)."""

    name = PersonName(metadata={"pattern": NONBLANK_PATTERN, "maxLength": NAME_MAX})
    bio = Bio(allow_none=True)
    languages = LanguageList(one_of(language_codes()), validate=validate.Length(max=LANGUAGES_MAX), metadata={
        "description": "language codes (ISO 639), at most 20"})
    timezone = ZoneName(metadata={"enum": sorted(timezone_names())})
    locale = InterfaceLanguage(metadata={"enum": sorted(LANG_CODES)})


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
