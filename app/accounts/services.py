"""Accounts: users, organisations, passwords, API tokens, calendar links."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import bindparam, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import Conflict, NotFound, Unauthorized, ValidationFailed, gathering, get_or_not_found
from ..extensions import db
from ..pagination import paginate
from ..reference.services import check_country, check_timezone
from ..types import utcnow
from .access import require_role
from .enums import DEFAULT_KIND_FOR_ROLE, MIN_PASSWORD_LENGTH, Locale, OrganisationKind, Role
from .models import ApiToken, Organisation, User

#: Checked against when the address is unknown, so both answers take as long (one per hash method).
_DUMMY_HASHES: dict[str, str] = {}


def hash_password(password: str) -> str:
    """The stored form of a password, with the method PASSWORD_HASH_METHOD names (scrypt unless a
    deployment says otherwise; only the tests' settings choose a cheap one)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _dummy_hash() -> str:
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash("not-a-real-password", method=method)
    return _DUMMY_HASHES[method]


def normalise_email(email: object, field: str = "email") -> str:
    if not isinstance(email, str):
        raise ValidationFailed({field: gettext("An e-mail address is required.")})
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        # email-validator explains in English; say it in the reader's language.
        if "@" not in email:
            message = gettext("An e-mail address must have an @ sign, as in name@example.com.")
        else:
            message = gettext("“%(address)s” is not a valid e-mail address.", address=email.strip()[:254])
        raise ValidationFailed({field: message}) from None


def _check_choice(value: object, enum, field: str) -> str:
    allowed = [e.value for e in enum]
    if value not in allowed:
        raise ValidationFailed({field: gettext("Must be one of: %(choices)s.", choices=", ".join(allowed))})
    return str(value)


def _check_password(password: object) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed({"password": gettext("Use at least %(num)d characters.", num=MIN_PASSWORD_LENGTH)})
    return password


def get_user(user_id: int) -> User:
    return get_or_not_found(User, user_id, _l("No such user."))


def _clean_name(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def organisation_name_holder(name: str, *, exclude_id: int | None = None) -> Organisation | None:
    """The organisation called `name` or known by it as an alias (case-insensitive), if any."""
    key = _clean_name(name).casefold()
    if not key:
        return None
    query = select(Organisation).where(func.lower(Organisation.name) == key)
    if exclude_id is not None:
        query = query.where(Organisation.id != exclude_id)
    org = db.session.scalars(query).first()
    if org is None:  # SQL lower() folds ASCII only: compare the rest in Python
        query = select(Organisation.id, Organisation.name, Organisation.aliases)
        for org_id, org_name, aliases in db.session.execute(query):
            if org_id != exclude_id and key in {n.casefold() for n in [org_name, *(aliases or [])]}:
                org = db.session.get(Organisation, org_id)
                break
    return org


def find_or_create_organisation(
    name: str, *, kind: str | None, city: str | None, country: str | None, role: str
) -> Organisation:
    """Find an organisation by name or one of its aliases (case-insensitive), or make it; flushes only."""
    name = _clean_name(name)
    if not name:
        raise ValidationFailed({"organisation": gettext("An organisation name is required.")})
    org = organisation_name_holder(name)
    if org is not None:
        return org
    kind = _check_choice(kind or DEFAULT_KIND_FOR_ROLE[Role(role)].value, OrganisationKind, "kind")
    country = check_country(country or "CN")
    city = _clean_name(city) or None
    division = None
    if country == "CN":
        from ..reference.divisions import city_from_organisation_name

        if city:
            division, suggestions = resolve_city(city)
            if division is None:
                exc = ValidationFailed({"city": city_error(city, suggestions)})
                exc.details["suggestions"] = {"city": suggestions}
                raise exc
        else:
            division = city_from_organisation_name(name)
    org = Organisation(
        name=name,
        kind=kind,
        city=city or (division.name_zh if division is not None else None),
        division_code=division.code if division is not None else None,
        country=country,
    )
    db.session.add(org)
    db.session.flush()
    return org


def resolve_city(city: str) -> tuple[object, list[dict]]:
    """(the division a Chinese city names, []) or (None, up to 3 suggestions {"code", "name_zh", "name_en"})."""
    from ..reference.divisions import division_candidates, match_division, suggest_divisions

    division = match_division(city)
    if division is not None:
        return division, []
    options = division_candidates(city) or suggest_divisions(city)
    return None, [{"code": d.code, "name_zh": d.name_zh, "name_en": d.name_en} for d in options[:3]]


def city_error(city: str, suggestions: list[dict]) -> str:
    """The message for a Chinese city that names no division (or several)."""
    names = ", ".join(f"{s['name_zh']} ({s['name_en']}, {s['code']})" for s in suggestions)
    if names:
        return gettext("“%(city)s” is not one place in China that CloudFair knows. Did you mean: %(names)s?",
                       city=city, names=names)
    return gettext("“%(city)s” is not a place in China that CloudFair knows; give a city, district or county "
                   "in Chinese, English or pinyin.", city=city)


def create_user(
    actor,
    *,
    email: str,
    name: str,
    role: str,
    organisation: str,
    password: str | None,
    kind: str | None = None,
    city: str | None = None,
    country: str | None = None,
    timezone: str | None = None,
    locale: str | None = None,
    bio: str | None = None,
) -> User:
    """Create a user, finding or making the organisation by name.

    `actor` is None only for the command line, which runs as the operator.
    """
    if actor is not None:
        require_role(actor, Role.ORGANISER)
    errors: dict[str, str] = {}
    checks = [
        ("email", lambda: normalise_email(email)),
        ("role", lambda: _check_choice(role, Role, "role")),
        ("timezone", lambda: check_timezone(timezone or current_app.config["HOST_TIMEZONE"])),
        ("locale", lambda: _check_choice(locale or "zh", Locale, "locale")),
    ]
    values: dict[str, str] = {}
    for field, check in checks:
        with gathering(errors):
            values[field] = check()
    if not (name or "").strip():
        errors["name"] = gettext("A name is required.")
    if password is not None:
        with gathering(errors):
            _check_password(password)
    if errors:
        raise ValidationFailed(errors)
    if db.session.scalar(select(User.id).where(User.email == values["email"])):
        raise Conflict(gettext("A user with the address %(email)s already exists.", email=values["email"]),
                       code="already_exists")
    org = find_or_create_organisation(organisation, kind=kind, city=city, country=country, role=values["role"])
    user = User(
        email=values["email"],
        name=name.strip(),
        role=values["role"],
        organisation=org,
        timezone=values["timezone"],
        locale=values["locale"],
        bio=bio,
        password_hash=hash_password(password) if password else None,
        calendar_token=secrets.token_urlsafe(24),
    )
    db.session.add(user)
    db.session.commit()
    return user


def update_settings(user: User, data: dict, actor: User | None) -> User:
    """Change a person's own name, language (`locale`), time zone, bio or languages: the one writer
    of these settings (the settings and profile pages, `PATCH /api/v1/me`, the language switch).

    Only the fields in `data` change; nothing is written when one is bad (ValidationFailed naming it).
    """
    from ..schemas import load
    from .schemas import SettingsSchema

    if actor is None:
        raise Unauthorized(gettext("Log in first."))
    if actor.id != user.id:
        raise NotFound(gettext("No such user."))
    values = load(SettingsSchema(), data, partial=True)
    for field, value in values.items():
        setattr(user, field, value)
    db.session.commit()
    return user


def update_user(actor, user: User, changes: dict) -> User:
    """Change a user's name, role, timezone, locale or active flag (organisers; self for own settings).

    The name, time zone and language go through the same rules as one's own settings (`SettingsSchema`).
    """
    from ..schemas import load
    from .schemas import SettingsSchema

    own_fields = {"name", "timezone", "locale"}
    if actor.role != Role.ORGANISER and (actor.id != user.id or set(changes) - own_fields):
        raise NotFound(gettext("No such user."))
    errors: dict[str, list[str]] = {}
    settings: dict = {}
    try:
        settings = load(SettingsSchema(only=tuple(own_fields)), {k: v for k, v in changes.items() if k in own_fields},
                        partial=True)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    role = None
    if "role" in changes:
        try:
            role = _check_choice(changes["role"], Role, "role")
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed(errors)
    old_role = user.role
    for field, value in settings.items():
        setattr(user, field, value)
    if role is not None:
        user.role = role
    if "active" in changes:
        user.active = bool(changes["active"])
    if user.role != old_role:
        from . import audit

        audit.record("role_changed", actor=actor, subject=user, old=old_role, new=user.role)
    db.session.commit()
    return user


def set_password(user: User, password: str) -> None:
    """Set a new password; ends the user's other login sessions and API tokens."""
    from . import login_sessions

    user.password_hash = hash_password(_check_password(password))
    user.session_version += 1
    login_sessions.revoke_all(user)
    now = utcnow()
    for token in db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ):
        token.revoked_at = now
    db.session.commit()


def authenticate(email: str, password: str) -> User:
    """Return the user for these credentials or raise 401 (same answer for every failure)."""
    try:
        address = normalise_email(email)
    except ValidationFailed:
        address = ""
    user = db.session.scalar(select(User).where(User.email == address)) if address else None
    hashed = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    ok = check_password_hash(hashed, password or "")
    if user is None or not user.password_hash or not ok or not user.active:
        raise Unauthorized(gettext("The e-mail address or password is wrong."), code="invalid_credentials")
    return user


def hash_token(token: str) -> str:
    """How a token is stored and looked up: its SHA-256, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User) -> tuple[str, ApiToken]:
    """Make an API token; the plain token is returned once and stored only hashed."""
    plain = "cf_" + secrets.token_urlsafe(32)
    hours = current_app.config["TOKEN_TTL_HOURS"]
    token = ApiToken(user=user, token_hash=hash_token(plain), expires_at=utcnow() + timedelta(hours=hours))
    db.session.add(token)
    db.session.commit()
    return plain, token


#: When a token lets its person in, as SQL for a query joining `ApiToken` to `User` (with `:now` bound):
#: unrevoked, unexpired, the person active (`user_for_token`, the live room's connects).
TOKEN_LETS_IN = (ApiToken.revoked_at.is_(None), ApiToken.expires_at > bindparam("now"), User.active.is_(True))
#: The person a token lets in, by its hash (built once: every API call asks it).
_TOKEN_USER = (select(User).join(ApiToken, ApiToken.user_id == User.id)
               .where(ApiToken.token_hash == bindparam("token_hash"), *TOKEN_LETS_IN))


def user_for_token(plain: str) -> User | None:
    """The active user behind a valid, unexpired, unrevoked token, else None."""
    if not plain:
        return None
    return db.session.scalar(_TOKEN_USER, {"token_hash": hash_token(plain), "now": utcnow()})


def revoke_token(plain: str) -> bool:
    """Revoke one token; True when it existed and was live."""
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(plain)))
    if token is None or token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    db.session.commit()
    return True


def load_session_user(cookie_id: str) -> User | None:
    """Flask-Login's loader: the cookie holds "<id>:<session_version>:<sign-in key>" (see login_sessions)."""
    from . import login_sessions

    return login_sessions.load(cookie_id)


def regenerate_calendar_token(user: User) -> str:
    """Give the user a new private calendar link; the old one stops working."""
    user.calendar_token = secrets.token_urlsafe(24)
    db.session.commit()
    return user.calendar_token


def user_by_calendar_token(token: str) -> User | None:
    return db.session.scalar(select(User).where(User.calendar_token == token, User.active.is_(True)))


def list_users(actor, *, page: int, per_page: int, role: str | None = None, organisation_id: int | None = None):
    require_role(actor, Role.ORGANISER)
    query = select(User).order_by(User.id)
    if role:
        query = query.where(User.role == role)
    if organisation_id:
        query = query.where(User.organisation_id == organisation_id)
    return paginate(query, page, per_page)


def list_organisations(actor, *, page: int, per_page: int, q: str | None = None, kind: str | None = None,
                       city: str | None = None):
    """Organisations by name (organisers); `q` matches the name or an alias, `kind` and `city` filter."""
    require_role(actor, Role.ORGANISER)
    query = select(Organisation).order_by(Organisation.name, Organisation.id)
    if kind:
        if kind not in {k.value for k in OrganisationKind}:
            raise ValidationFailed({"kind": gettext("Must be one of: %(choices)s.",
                                                    choices=", ".join(k.value for k in OrganisationKind))})
        query = query.where(Organisation.kind == kind)
    if city and city.strip():
        from ..reference.divisions import match_division

        division = match_division(city)
        if division is None:
            query = query.where(func.lower(Organisation.city) == city.strip().lower())
        elif division.level == "county":
            query = query.where(Organisation.division_code == division.code)
        else:  # a city or province: the organisations anywhere in it
            prefix = division.code[:2] if division.level == "province" else division.code[:4]
            query = query.where(Organisation.division_code.like(prefix + "%"))
    needle = _clean_name(q).casefold()
    if needle:
        # Aliases live in a JSON list: match them in Python (organisations number in the hundreds).
        ids = [org_id for org_id, name, aliases in db.session.execute(
            select(Organisation.id, Organisation.name, Organisation.aliases))
            if any(needle in n.casefold() for n in [name, *(aliases or [])])]
        query = query.where(Organisation.id.in_(ids))
    return paginate(query, page, per_page)
