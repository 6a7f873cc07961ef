"""Self sign-up: a person of a bureau, park or enterprise asks for an attendee account.

1. `request_signup` (public, rate-limited by the adapters): name, address, organisation (its name in
   Chinese, English or both; found by either or an alias, else proposed new with its name in each
   language, its kind and division; approval makes it with both names). The
   answer is the same whatever the address: a known address gets a "you already have an account"
   mail instead of a confirmation link, so nobody learns which addresses have accounts.
2. `confirm`: the mailed link (`/signup/confirm/<token>`, valid `SIGNUP_CONFIRM_HOURS`) moves the
   request to `pending`, the organisers' queue.
3. `decide` (organisers; the page decides many at once): `approve` makes the organisation if it
   was proposed (or files the person under an existing one the organiser picks, e.g. after the
   look-alike warning), makes the account without a password and mails an invitation link to set
   one (the invitations' token), then registers the person for the fair they came from;
   `decline` mails the person the organiser's note. Mail goes in the person's language.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext
from sqlalchemy import func, or_, select

from .. import bilingual, mail
from ..accounts import audit, services, tokens
from ..accounts.access import require_role
from ..accounts.enums import OrganisationKind, Role
from ..accounts.models import Organisation, User
from ..errors import Conflict, NotFound, ServiceError, ValidationFailed, gathering
from ..extensions import db
from ..fairs import services as fair_services
from ..notifications.services import in_both, notify
from ..pagination import paginate
from ..reference.divisions import get_division
from ..reference.services import check_timezone
from ..types import utcnow
from . import invitations
from .models import SignupRequest
from .people_import import names_look_alike

UNCONFIRMED, PENDING, APPROVED, DECLINED = "unconfirmed", "pending", "approved", "declined"
STATUSES = (UNCONFIRMED, PENDING, APPROVED, DECLINED)
APPROVE, DECLINE = "approve", "decline"
#: The kinds of organisation whose people may sign up themselves (the agency's staff are invited).
SIGNUP_KINDS = (OrganisationKind.CITY_BUREAU.value, OrganisationKind.PARK.value, OrganisationKind.ENTERPRISE.value)


def confirm_lifetime() -> timedelta:
    return timedelta(hours=current_app.config.get("SIGNUP_CONFIRM_HOURS", 48))


def _clean(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def find_organisation(name: str) -> Organisation | None:
    """The organisation called `name` in either language, or by an alias (case and spacing ignored)."""
    key = _clean(name).casefold()
    if not key:
        return None
    org = services.organisation_name_holder(key)
    if org is not None:
        return org
    return db.session.scalars(select(Organisation).where(or_(
        func.lower(Organisation.name_zh) == key, func.lower(Organisation.name_en) == key,
    )).order_by(Organisation.id)).first()


# ---------------------------------------------------------------- asking


def _check(data: dict) -> dict:
    """The request's clean values; 422 naming every bad field at once."""
    errors: dict[str, str] = {}
    values: dict = {}
    name = _clean(data.get("name"))
    if not name:
        errors["name"] = gettext("A name is required.")
    elif len(name) > 200:
        errors["name"] = gettext("At most %(n)d characters.", n=200)
    values["name"] = name
    try:
        values["email"] = services.normalise_email(data.get("email"))
    except ValidationFailed:
        errors["email"] = gettext("Enter a valid e-mail address.")
    locale = data.get("locale") or "zh"
    if locale not in ("zh", "en"):
        errors["locale"] = gettext("Must be one of: %(choices)s.", choices="zh, en")
    values["locale"] = locale
    with gathering(errors):
        values["timezone"] = check_timezone(data.get("timezone") or current_app.config["HOST_TIMEZONE"])
    values["organisation"], names = None, {"zh": "", "en": ""}
    # `organisation` (one name, an older client) goes to the language it is written in; the name in
    # each language (`organisation_i18n`, or the form's two fields) takes precedence.
    plain = _clean(data.get("organisation"))
    if len(plain) > 200:
        errors["organisation"] = gettext("At most %(n)d characters.", n=200)
    with gathering(errors):
        given = bilingual.resolve({k: data[k] for k in ("organisation_i18n", "organisation_zh", "organisation_en")
                                   if k in data}, "organisation", max_length=200)
        names = {lang: _clean(given[lang]) or text for lang, text in bilingual.split_text(plain).items()}
    org_name = bilingual.primary(names, locale if locale in ("zh", "en") else "zh")
    if not org_name and not any(k.startswith("organisation") for k in errors):
        errors["organisation"] = gettext("An organisation name is required (in Chinese, English or both).")
    elif org_name:
        found = {org.id: org for org in (find_organisation(n) for n in names.values() if n) if org is not None}
        org = next(iter(found.values()), None)
        if len(found) > 1:
            errors["organisation"] = gettext("“%(zh)s” and “%(en)s” are the names of two different organisations: "
                                             "give the names of yours.", zh=names["zh"], en=names["en"])
        elif org is not None and org.kind not in SIGNUP_KINDS:
            errors["organisation"] = gettext("People of %(name)s get their account from an organiser.", name=org_name)
        values["organisation"] = org
    values["organisation_name"], values["organisation_names"] = org_name, names
    if values["organisation"] is None and "organisation" not in errors:
        # A new organisation: its kind and place are needed.
        kind = data.get("kind")
        if kind not in SIGNUP_KINDS:
            errors["kind"] = gettext("Your organisation is new to CloudFair: choose its kind (%(choices)s).",
                                     choices=", ".join(SIGNUP_KINDS))
        values["kind"] = kind
        division = get_division(data.get("division")) if data.get("division") else None
        if division is None:
            errors["division"] = gettext("Your organisation is new to CloudFair: choose the city, district or "
                                         "county it is in.")
        values["division"] = division
    fair_id = data.get("fair_id")
    values["fair_id"] = None
    if fair_id not in (None, ""):
        fair = _public_fair(fair_id)
        if fair is None:
            errors["fair_id"] = gettext("No such fair.")
        else:
            values["fair_id"] = fair.id
    if errors:
        raise ValidationFailed(errors)
    return values


def organisation_name(signup: SignupRequest, lang: str) -> str:
    """The organisation's name for a reader of `lang` in plain text: the existing organisation's, else
    the name the requester gave in that language, else in the other one (marked)."""
    if signup.organisation is not None:
        return bilingual.plain(signup.organisation, "name", lang)
    return bilingual.plain(signup, "organisation_name", lang)


def _public_fair(fair_id: object):
    """A published fair by id (an int or digits), else None."""
    if isinstance(fair_id, bool) or not (isinstance(fair_id, int) or (isinstance(fair_id, str) and fair_id.isdigit())):
        return None
    if not 0 < int(fair_id) < 2**31:
        return None
    try:
        return fair_services.get_fair(None, int(fair_id))
    except NotFound:
        return None


def request_signup(data: dict) -> None:
    """Ask for an account; always commits. Raises ValidationFailed (nothing written) for bad fields.

    Whatever the address, the caller gives the same answer; what the mail says differs.
    """
    values = _check(data)
    email = values["email"]
    existing = db.session.scalar(select(User).where(User.email == email))
    if existing is not None:
        mail.queue(email, "signup_exists", existing.locale, person=existing,
                   login=invitations.absolute_url("accounts.login"),
                   reset=invitations.absolute_url("people.forgot_password"))
        audit.record("signup_requested", subject=existing, email=email, known=True)
        db.session.commit()
        return
    signup = db.session.scalars(select(SignupRequest).where(
        SignupRequest.email == email, SignupRequest.status.in_([UNCONFIRMED, PENDING]),
    ).order_by(SignupRequest.id.desc())).first()
    if signup is None:
        signup = SignupRequest(email=email)
        db.session.add(signup)
    org = values["organisation"]
    signup.name, signup.locale, signup.timezone = values["name"], values["locale"], values["timezone"]
    signup.status, signup.confirmed_at = UNCONFIRMED, None
    signup.organisation_id = org.id if org is not None else None
    signup.organisation_name = org.name if org is not None else values["organisation_name"]
    names = values["organisation_names"] if org is None else bilingual.pair(org, "name")
    signup.organisation_name_zh, signup.organisation_name_en = names["zh"] or None, names["en"] or None
    signup.organisation_kind = None if org is not None else values["kind"]
    signup.division_code = None if org is not None else values["division"].code
    signup.fair_id = values["fair_id"] or signup.fair_id
    plain = secrets.token_urlsafe(32)
    signup.confirm_hash = tokens.hash_token(plain)
    signup.confirm_expires_at = utcnow() + confirm_lifetime()
    db.session.flush()
    mail.queue(email, "signup_confirm", signup.locale, person=signup, expires_at=signup.confirm_expires_at,
               link=invitations.absolute_url("people.confirm_signup", token=plain))
    audit.record("signup_requested", email=email, signup_id=signup.id)
    db.session.commit()


# ---------------------------------------------------------------- confirming the address


def dead_link_error() -> NotFound:
    return NotFound(gettext("This confirmation link no longer works: it was used already, replaced by a newer one, "
                            "or it has expired. Sign up again to get a new one."), code="signup_link_invalid")


def lookup(plain: str) -> SignupRequest | None:
    """The unconfirmed request behind a live link, else None (reads only)."""
    if not plain or len(plain) > 200:
        return None
    signup = db.session.scalar(select(SignupRequest).where(SignupRequest.confirm_hash == tokens.hash_token(plain)))
    if signup is None or signup.status != UNCONFIRMED or signup.confirm_expires_at <= utcnow():
        return None
    return signup


def confirm(plain: str) -> SignupRequest:
    """Confirm the address: the request joins the organisers' queue (they get an in-app notice)."""
    signup = lookup(plain)
    if signup is None:
        raise dead_link_error()
    signup.status, signup.confirmed_at, signup.confirm_hash = PENDING, utcnow(), None
    texts = in_both(lambda lang: (gettext("%(name)s of %(organisation)s asks for an account", name=signup.name,
                                          organisation=organisation_name(signup, lang)), ""))
    for organiser_id, locale in db.session.execute(select(User.id, User.locale).where(
            User.role == Role.ORGANISER.value, User.active.is_(True)).order_by(User.id)):
        notify(organiser_id, kind="signup", texts=texts, lang=locale, link="/people/signups")
    audit.record("signup_confirmed", email=signup.email, signup_id=signup.id)
    db.session.commit()
    return signup


# ---------------------------------------------------------------- the organisers' queue


@dataclass
class Lookalike:
    id: int
    name: str


def lookalikes(signup: SignupRequest, organisations: list[Organisation] | None = None) -> list[Lookalike]:
    """Existing organisations a proposed new one looks like (the import's rule: names contain one
    another, or share a Chinese part; in the same prefecture when both have a place)."""
    if signup.organisation_id is not None or signup.status not in (UNCONFIRMED, PENDING):
        return []
    if organisations is None:
        organisations = list(db.session.scalars(select(Organisation).order_by(Organisation.id)))
    place = _prefecture(signup.division_code)
    proposed = {n for n in (signup.organisation_name, signup.organisation_name_zh, signup.organisation_name_en) if n}
    found = []
    for org in organisations:
        other = _prefecture(org.division_code)
        if place and other and place != other:
            continue
        names = [org.name, org.name_zh, org.name_en, *(org.aliases or [])]
        if any(n and names_look_alike(own, n) for n in names for own in proposed):
            found.append(Lookalike(org.id, org.name))
    return found


def _prefecture(code: str | None) -> str | None:
    if not code:
        return None
    return code if code.endswith("0000") else code[:4] + "00"


def list_signups(actor, *, status: str | None = PENDING, page: int = 1, per_page: int = 50):
    """Requests, oldest first (the queue), each with `similar` set; organisers only."""
    require_role(actor, Role.ORGANISER)
    if status is not None and status not in STATUSES:
        raise ValidationFailed({"status": gettext("Must be one of: %(choices)s.", choices=", ".join(STATUSES))})
    query = select(SignupRequest).order_by(SignupRequest.id)
    if status is not None:
        query = query.where(SignupRequest.status == status)
    items, total = paginate(query, page, per_page)
    organisations = list(db.session.scalars(select(Organisation).order_by(Organisation.id)))
    for signup in items:
        signup.similar = lookalikes(signup, organisations)
    return items, total


def get_signup(actor, signup_id: int) -> SignupRequest:
    require_role(actor, Role.ORGANISER)
    signup = db.session.get(SignupRequest, signup_id)
    if signup is None:
        raise NotFound(gettext("No such sign-up request."))
    signup.similar = lookalikes(signup)
    return signup


def decide(actor, signup_id: int, decision: str, note: str | None = None,
           organisation_id: int | None = None) -> SignupRequest:
    """Approve or decline one confirmed request (organisers); the person is mailed either way.

    Raises 404 (unknown), 422 (bad decision or organisation), 409 `not_confirmed` (the address is not
    confirmed yet), `already_decided`, or `already_exists` (the address got an account meanwhile).
    """
    require_role(actor, Role.ORGANISER)
    if decision not in (APPROVE, DECLINE):
        raise ValidationFailed({"decision": gettext("Must be one of: %(choices)s.", choices="approve, decline")})
    note = (note or "").strip() or None
    if note and len(note) > 1000:
        raise ValidationFailed({"note": gettext("At most %(n)d characters.", n=1000)})
    signup = db.session.get(SignupRequest, signup_id)
    if signup is None:
        raise NotFound(gettext("No such sign-up request."))
    if signup.status == UNCONFIRMED:
        raise Conflict(gettext("%(name)s has not confirmed the address yet.", name=signup.name), code="not_confirmed")
    if signup.status != PENDING:
        raise Conflict(gettext("The request of %(name)s is already decided.", name=signup.name), code="already_decided")
    chosen = None
    if organisation_id is not None:
        chosen = db.session.get(Organisation, organisation_id)
        if chosen is None:
            raise ValidationFailed({"organisation_id": gettext("No such organisation.")})
    signup.decided_at, signup.decided_by_id, signup.decision_note = utcnow(), actor.id, note
    if decision == DECLINE:
        signup.status = DECLINED
        mail.queue(signup.email, "signup_declined", signup.locale, person=signup, note=note)
        audit.record("signup_declined", actor=actor, email=signup.email, signup_id=signup.id)
        db.session.commit()
        return signup
    if db.session.scalar(select(User.id).where(User.email == signup.email)):
        db.session.rollback()
        raise Conflict(gettext("A user with the address %(email)s already exists.", email=signup.email),
                       code="already_exists")
    org = chosen or signup.organisation or _new_organisation(signup)
    user = User(email=signup.email, name=signup.name, role=Role.ATTENDEE.value, organisation=org,
                timezone=signup.timezone, locale=signup.locale, password_hash=None,
                calendar_token=secrets.token_urlsafe(24))
    db.session.add(user)
    db.session.flush()
    signup.status, signup.user_id, signup.organisation_id = APPROVED, user.id, org.id
    audit.record("signup_approved", actor=actor, subject=user, organisation=org, signup_id=signup.id)
    db.session.commit()
    fair = None
    if signup.fair_id is not None:
        fair = _public_fair(signup.fair_id)
        try:
            registration, _ = fair_services.register(user, signup.fair_id)
            signup.registration = registration.status
        except ServiceError as exc:
            signup.registration = exc.message[:200]
    plain, token = tokens.issue(user, tokens.INVITATION, invitations.lifetime(), actor=actor)
    token.mail_message = mail.queue(
        user.email, "signup_approved", user.locale, person=user, fair=fair, registration=signup.registration,
        expires_at=token.expires_at, link=invitations.absolute_url("people.accept_invitation", token=plain))
    db.session.commit()
    return signup


def _new_organisation(signup: SignupRequest) -> Organisation:
    """The proposed organisation with its name in each language given, or the one that took one of
    its names meanwhile; flushes only."""
    texts = {"zh": signup.organisation_name_zh or "", "en": signup.organisation_name_en or ""}
    if not texts["zh"] and not texts["en"]:  # asked before the names were kept in each language
        texts = bilingual.split_text(signup.organisation_name)
    for name in (signup.organisation_name, texts["zh"], texts["en"]):
        org = find_organisation(name) if name else None
        if org is not None:
            return org
    division = signup.division
    org = Organisation(name=signup.organisation_name, name_zh=texts["zh"] or None, name_en=texts["en"] or None,
                       kind=signup.organisation_kind or OrganisationKind.ENTERPRISE.value, country="CN",
                       division_code=division.code if division is not None else None,
                       city=division.name_zh if division is not None else None,
                       demand_sectors=[], demand_countries=[], demand_note="", aliases=[])
    db.session.add(org)
    db.session.flush()
    return org


def decide_many(actor, signup_ids: list[int], decision: str, note: str | None = None) -> tuple[list, list[str]]:
    """The queue page's bulk decision: (decided requests, problems as sentences); each is its own commit."""
    require_role(actor, Role.ORGANISER)
    done, problems = [], []
    for signup_id in signup_ids:
        try:
            done.append(decide(actor, signup_id, decision, note))
        except ServiceError as exc:
            db.session.rollback()
            problems.append(exc.message)
    return done, problems
