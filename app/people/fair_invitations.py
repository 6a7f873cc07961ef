"""Invitations to a fair from a session's suggested invitees (organisers).

The organiser ticks organisations on the suggestions page; each one's active attendees get a mail in
their own language and time zone with the fair's agenda and a link to its page (where they
register). The link (`/fairs/invitation/<token>`, only its SHA-256 stored) marks the invitation
*opened* the first time it is followed; *registered* is read from the fair's registrations, so it
stays true whichever way the person registered. A person already registered, or already invited to
this fair, is skipped (no second mail).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flask_babel import gettext
from sqlalchemy import select

from .. import bilingual, mail
from ..accounts import audit, tokens
from ..accounts.access import require_role
from ..accounts.enums import OrganisationKind, Role
from ..accounts.models import Organisation, User
from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from ..fairs import services as fair_services
from ..fairs import queries as fair_queries
from ..types import utcnow
from . import invitations
from .models import FairInvitation

MAX_ORGANISATIONS = 200


@dataclass
class Outcome:
    sent: list[FairInvitation] = field(default_factory=list)
    #: (person's name, why) for each person who got no mail.
    skipped: list[tuple[str, str]] = field(default_factory=list)


def invite_organisations(actor, session_id: int, organisation_ids: list[int]) -> Outcome:
    """Mail the chosen organisations' attendees an invitation to the session's fair; commits once.

    Raises 404 (unknown session), 409 `registration_closed` (the fair is not published or live),
    422 naming `organisation_ids` (none given, too many, unknown, or the agency).
    """
    require_role(actor, Role.ORGANISER)
    session = fair_services.get_session(actor, session_id)
    fair = session.fair
    if fair.status not in ("published", "live"):
        raise Conflict(gettext("Only a published fair takes registrations; publish it before inviting."),
                       code="registration_closed")
    ids = sorted({i for i in organisation_ids if isinstance(i, int) and not isinstance(i, bool)})
    if not ids or len(ids) > MAX_ORGANISATIONS or len(ids) != len(organisation_ids):
        raise ValidationFailed({"organisation_ids": gettext("Choose between 1 and %(n)d organisations, each once.",
                                                            n=MAX_ORGANISATIONS)})
    organisations = list(db.session.scalars(select(Organisation).where(Organisation.id.in_(ids))))
    if len(organisations) != len(ids) or any(o.kind == OrganisationKind.AGENCY for o in organisations):
        raise ValidationFailed({"organisation_ids": gettext("Unknown organisation, or the agency itself.")})
    people = list(db.session.scalars(select(User).where(
        User.organisation_id.in_(ids), User.role == Role.ATTENDEE.value, User.active.is_(True)).order_by(User.id)))
    registered = fair_queries.holding_places(fair.id)
    invited = set(db.session.scalars(select(FairInvitation.user_id).where(FairInvitation.fair_id == fair.id)))
    outcome = Outcome()
    for person in people:
        if person.id in registered:
            outcome.skipped.append((person.name, gettext("already registered")))
            continue
        if person.id in invited:
            outcome.skipped.append((person.name, gettext("already invited")))
            continue
        plain = secrets.token_urlsafe(32)
        invitation = FairInvitation(fair_id=fair.id, session_id=session.id, organisation_id=person.organisation_id,
                                    user_id=person.id, sent_by_id=actor.id, token_hash=tokens.hash_token(plain))
        invitation.mail_message = _mail(person, fair, plain)
        db.session.add(invitation)
        outcome.sent.append(invitation)
    if not people:
        outcome.skipped.append(("—", gettext("these organisations have nobody with an account yet")))
    audit.record("fair_invitations_sent", actor=actor, fair_id=fair.id, session_id=session.id,
                 organisation_ids=ids, sent=len(outcome.sent))
    db.session.commit()
    return outcome


def _mail(person: User, fair, plain: str):
    locale = person.locale if person.locale in ("zh", "en") else "en"
    zone = ZoneInfo(person.timezone)
    agenda = [{"title": bilingual.text(s, "title", locale), "starts": s.starts_at.astimezone(zone),
               "ends": s.ends_at.astimezone(zone)} for s in fair.sessions if s.status != "cancelled"]
    return mail.queue(person.email, "fair_invitation", locale, person=person, fair=fair,
                      title=bilingual.text(fair, "title", locale), agenda=agenda,
                      starts=fair.starts_at.astimezone(zone), ends=fair.ends_at.astimezone(zone),
                      link=invitations.absolute_url("people.open_fair_invitation", token=plain))


def open_invitation(plain: str) -> FairInvitation:
    """Follow the mail's link: the first time marks it opened. 404 for an unknown link."""
    invitation = None
    if plain and len(plain) <= 200:
        invitation = db.session.scalar(select(FairInvitation).where(FairInvitation.token_hash == tokens.hash_token(plain)))
    if invitation is None:
        raise NotFound(gettext("This invitation link is not known."), code="invitation_invalid")
    if invitation.opened_at is None:
        invitation.opened_at = utcnow()
        db.session.commit()
    return invitation


@dataclass
class Tracking:
    organisation_id: int
    sent: int = 0
    opened: int = 0
    registered: int = 0


def tracking(actor, fair_id: int) -> dict[int, Tracking]:
    """Per invited organisation: how many of its people were sent, opened, registered."""
    require_role(actor, Role.ORGANISER)
    rows = list(db.session.scalars(select(FairInvitation).where(FairInvitation.fair_id == fair_id)))
    registered = _registered(fair_id, [r.user_id for r in rows])
    out: dict[int, Tracking] = {}
    for row in rows:
        t = out.setdefault(row.organisation_id, Tracking(row.organisation_id))
        t.sent += 1
        t.opened += row.opened_at is not None
        t.registered += row.user_id in registered
    return out


def _registered(fair_id: int, user_ids: list[int]) -> set[int]:
    return fair_queries.holding_places(fair_id, user_ids)


def list_invitations(actor, fair_id: int) -> list[dict]:
    """Every invitation to a fair with its state: `sent`, `opened` or `registered` (organisers)."""
    require_role(actor, Role.ORGANISER)
    fair_services.get_fair(actor, fair_id)
    rows = list(db.session.scalars(select(FairInvitation).where(FairInvitation.fair_id == fair_id)
                                   .order_by(FairInvitation.id)))
    registered = _registered(fair_id, [r.user_id for r in rows])
    return [{"id": r.id, "fair_id": r.fair_id, "session_id": r.session_id, "organisation_id": r.organisation_id,
             "user_id": r.user_id, "name": r.user.name, "email": r.user.email, "sent_at": r.sent_at,
             "opened_at": r.opened_at,
             "mail_status": mail.status_of(r.mail_message) if r.mail_message is not None else None,
             "status": "registered" if r.user_id in registered else "opened" if r.opened_at else "sent"}
            for r in rows]
