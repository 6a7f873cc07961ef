"""Accounts: users, organisations, passwords, API tokens, calendar links."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import Conflict, NotFound, Unauthorized, ValidationFailed
from ..extensions import db
from ..pagination import paginate
from ..reference.services import check_country, check_timezone
from ..types import utcnow
from .access import require_role
from .enums import DEFAULT_KIND_FOR_ROLE, Locale, OrganisationKind, Role
from .models import ApiToken, Organisation, User

MIN_PASSWORD_LENGTH = 8
#: Checked against when the address is unknown, so both answers take as long.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def normalise_email(email: object, field: str = "email") -> str:
    if not isinstance(email, str):
        raise ValidationFailed({field: "An e-mail address is required."})
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationFailed({field: str(exc)}) from None


def _check_choice(value: object, enum, field: str) -> str:
    allowed = [e.value for e in enum]
    if value not in allowed:
        raise ValidationFailed({field: f"Must be one of: {', '.join(allowed)}."})
    return str(value)


def _check_password(password: object) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed({"password": f"Use at least {MIN_PASSWORD_LENGTH} characters."})
    return password


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def find_or_create_organisation(
    name: str, *, kind: str | None, city: str | None, country: str | None, role: str
) -> Organisation:
    """Find an organisation by name (case-insensitive) or make it; flushes only."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed({"organisation": "An organisation name is required."})
    org = db.session.scalar(select(Organisation).where(func.lower(Organisation.name) == name.lower()))
    if org is not None:
        return org
    kind = _check_choice(kind or DEFAULT_KIND_FOR_ROLE[Role(role)].value, OrganisationKind, "kind")
    org = Organisation(
        name=name,
        kind=kind,
        city=(city or "").strip() or None,
        country=check_country(country or "CN"),
    )
    db.session.add(org)
    db.session.flush()
    return org


def create_organisation(actor, *, name: str, kind: str, city: str | None, country: str) -> Organisation:
    """Create an organisation (organisers)."""
    require_role(actor, Role.ORGANISER)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed({"name": "A name is required."})
    if db.session.scalar(select(Organisation).where(func.lower(Organisation.name) == name.lower())):
        raise Conflict(f"An organisation called {name} already exists.", code="already_exists")
    org = Organisation(
        name=name,
        kind=_check_choice(kind, OrganisationKind, "kind"),
        city=(city or "").strip() or None,
        country=check_country(country),
    )
    db.session.add(org)
    db.session.commit()
    return org


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
        try:
            values[field] = check()
        except ValidationFailed as exc:
            errors.update({k: " ".join(v) for k, v in exc.fields.items()})
    if not (name or "").strip():
        errors["name"] = "A name is required."
    if password is not None:
        try:
            _check_password(password)
        except ValidationFailed as exc:
            errors.update({k: " ".join(v) for k, v in exc.fields.items()})
    if errors:
        raise ValidationFailed(errors)
    if db.session.scalar(select(User.id).where(User.email == values["email"])):
        raise Conflict(f"A user with the address {values['email']} already exists.", code="already_exists")
    org = find_or_create_organisation(organisation, kind=kind, city=city, country=country, role=values["role"])
    user = User(
        email=values["email"],
        name=name.strip(),
        role=values["role"],
        organisation=org,
        timezone=values["timezone"],
        locale=values["locale"],
        bio=bio,
        password_hash=generate_password_hash(password) if password else None,
        calendar_token=secrets.token_urlsafe(24),
    )
    db.session.add(user)
    db.session.commit()
    return user


def update_user(actor, user: User, changes: dict) -> User:
    """Change a user's name, role, timezone, locale or active flag (organisers; self for own settings)."""
    own_fields = {"name", "timezone", "locale"}
    if actor.role != Role.ORGANISER and (actor.id != user.id or set(changes) - own_fields):
        raise NotFound("No such user.")
    errors: dict[str, str] = {}
    if "name" in changes:
        if not (changes["name"] or "").strip():
            errors["name"] = "A name is required."
        else:
            user.name = changes["name"].strip()
    for field, check in (
        ("timezone", lambda v: check_timezone(v)),
        ("locale", lambda v: _check_choice(v, Locale, "locale")),
        ("role", lambda v: _check_choice(v, Role, "role")),
    ):
        if field in changes:
            try:
                setattr(user, field, check(changes[field]))
            except ValidationFailed as exc:
                errors.update({k: " ".join(v) for k, v in exc.fields.items()})
    if "active" in changes:
        user.active = bool(changes["active"])
    if errors:
        db.session.rollback()
        raise ValidationFailed(errors)
    db.session.commit()
    return user


def set_password(user: User, password: str) -> None:
    """Set a new password; ends the user's other login sessions and API tokens."""
    user.password_hash = generate_password_hash(_check_password(password))
    user.session_version += 1
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
    hashed = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    ok = check_password_hash(hashed, password or "")
    if user is None or not user.password_hash or not ok or not user.active:
        raise Unauthorized("The e-mail address or password is wrong.", code="invalid_credentials")
    return user


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User) -> tuple[str, ApiToken]:
    """Make an API token; the plain token is returned once and stored only hashed."""
    plain = "cf_" + secrets.token_urlsafe(32)
    hours = current_app.config["TOKEN_TTL_HOURS"]
    token = ApiToken(user=user, token_hash=_hash_token(plain), expires_at=utcnow() + timedelta(hours=hours))
    db.session.add(token)
    db.session.commit()
    return plain, token


def user_for_token(plain: str) -> User | None:
    """The active user behind a valid, unexpired, unrevoked token, else None."""
    if not plain:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(plain)))
    if token is None or token.revoked_at is not None or token.expires_at <= utcnow():
        return None
    return token.user if token.user.active else None


def revoke_token(plain: str) -> bool:
    """Revoke one token; True when it existed and was live."""
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(plain)))
    if token is None or token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    db.session.commit()
    return True


def load_session_user(cookie_id: str) -> User | None:
    """Flask-Login's loader: the cookie holds "<id>:<session_version>"."""
    try:
        user_id, version = (int(part) for part in cookie_id.split(":"))
    except (ValueError, AttributeError):
        return None
    user = db.session.get(User, user_id)
    if user is None or user.session_version != version or not user.active:
        return None
    return user


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


def list_organisations(actor, *, page: int, per_page: int):
    require_role(actor, Role.ORGANISER)
    return paginate(select(Organisation).order_by(Organisation.name), page, per_page)
