"""Invitations: a person made without a password gets a mailed link to set their first one.

`invite` works inside the caller's transaction (the people import calls it once per row and commits
once); the other public calls commit themselves. The link is `/invitations/<token>`; the token is
stored only hashed (see tokens.py) and works once, for `INVITATION_DAYS`, until revoked or replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, has_request_context, url_for
from flask_babel import gettext
from sqlalchemy import select, update

from .. import mail
from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from ..pagination import paginate
from ..types import utcnow
from ..accounts import audit, services, tokens
from ..accounts.access import require_role
from ..accounts.enums import Role
from ..accounts.models import AccountToken, User

#: What `pending` says of a person's latest invitation.
LIVE, EXPIRED, REVOKED, NOT_SENT = "live", "expired", "revoked", "not_sent"


@dataclass
class PendingInvitation:
    """A person who has not set a password yet, and their latest invitation (if any)."""

    user: User
    token: AccountToken | None

    @property
    def id(self) -> int | None:
        return self.token.id if self.token else None

    @property
    def sent_at(self) -> datetime | None:
        return self.token.created_at if self.token else None

    @property
    def expires_at(self) -> datetime | None:
        return self.token.expires_at if self.token else None

    @property
    def invited_by(self) -> str | None:
        if self.token is None or self.token.created_by_id is None:
            return None
        inviter = db.session.get(User, self.token.created_by_id)
        return inviter.name if inviter else None

    @property
    def mail(self):
        """The outbox row of the invitation's mail, or None (an invitation made before mails were linked)."""
        return self.token.mail_message if self.token else None

    @property
    def mail_status(self) -> str | None:
        """What became of the mail, from its outbox row: "queued" (waiting or retrying), "sent" or "failed"."""
        return mail.status_of(self.mail) if self.mail is not None else None

    @property
    def mail_error(self) -> str | None:
        return self.mail.last_error if self.mail is not None else None

    @property
    def status(self) -> str:
        if self.token is None:
            return NOT_SENT
        if self.token.revoked_at is not None:
            return REVOKED
        if self.token.expires_at <= utcnow():
            return EXPIRED
        return LIVE


def absolute_url(endpoint: str, **values) -> str:
    """A link for a mail: the request's own host inside a request, else `BASE_URL`."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["BASE_URL"].rstrip("/") + path


def lifetime() -> timedelta:
    return timedelta(days=current_app.config["INVITATION_DAYS"])


def invite(user: User, actor) -> AccountToken:
    """Issue an invitation and queue its mail in the person's language, in the caller's transaction (no commit).

    Replaces (revokes) the person's earlier live invitation. `actor` is the organiser who invites,
    or None when the person asked for it themselves (a password reset before their first password).
    """
    if actor is not None:
        require_role(actor, Role.ORGANISER)
    plain, token = tokens.issue(user, tokens.INVITATION, lifetime(), actor=actor)
    token.mail_message = mail.queue(
        user.email, "invitation", user.locale,
        person=user, inviter=actor, expires_at=token.expires_at,
        link=absolute_url("people.accept_invitation", token=plain),
    )
    audit.record("invitation_sent", actor=actor, subject=user, expires_at=token.expires_at.isoformat())
    return token


def send_invitation(user: User, actor) -> PendingInvitation:
    """Send (or re-send) a person their invitation; the older link stops working.

    Raises Conflict when the person already has a password or is deactivated.
    """
    require_role(actor, Role.ORGANISER)
    if user.password_hash:
        raise Conflict(gettext("%(name)s has already set a password; there is nothing to accept.", name=user.name),
                       code="already_accepted")
    if not user.active:
        raise Conflict(gettext("%(name)s is deactivated; reactivate the account before inviting.", name=user.name),
                       code="user_inactive")
    token = invite(user, actor)
    db.session.commit()
    return PendingInvitation(user, token)


resend = send_invitation


def create_and_invite(actor, **fields) -> User:
    """Create a person without a password and send them an invitation (the page's and API's "invite a person")."""
    fields["password"] = None
    user = services.create_user(actor, **fields)
    send_invitation(user, actor)
    return user


def revoke(user: User, actor) -> int:
    """Revoke the person's live invitation, so its link stops working. Raises NotFound when there is none."""
    require_role(actor, Role.ORGANISER)
    live = tokens.live_tokens(user.id, tokens.INVITATION)
    if not live:
        raise NotFound(gettext("%(name)s has no invitation that could still be used.", name=user.name),
                       code="no_live_invitation")
    now = utcnow()
    for token in live:
        token.revoked_at = now
    audit.record("invitation_revoked", actor=actor, subject=user)
    db.session.commit()
    return len(live)


def pending(actor, page: int = 1, per_page: int = 50) -> tuple[list[PendingInvitation], int]:
    """People (active, without a password yet) with their latest invitation, newest people first."""
    require_role(actor, Role.ORGANISER)
    query = select(User).where(User.password_hash.is_(None), User.active.is_(True)).order_by(User.id.desc())
    users, total = paginate(query, page, per_page)
    latest: dict[int, AccountToken] = {}
    if users:
        for token in db.session.scalars(
            select(AccountToken).where(
                AccountToken.user_id.in_([u.id for u in users]), AccountToken.purpose == tokens.INVITATION,
            ).order_by(AccountToken.created_at, AccountToken.id)
        ):
            latest[token.user_id] = token  # ordered oldest first: the last one wins
    return [PendingInvitation(u, latest.get(u.id)) for u in users], total


def dead_link_error() -> NotFound:
    return NotFound(
        gettext("This invitation link no longer works: it was used already, replaced by a newer one, revoked, "
                "or it has expired. Ask the organiser to send you a new invitation."),
        code="invitation_invalid",
    )


def live_link(plain: str, purpose: str, *, first_password: bool = False) -> AccountToken | None:
    """The live token of `purpose` behind a mailed link, or None when the link is dead (reads only):
    its person is active and, for a `first_password` link, has not set one yet."""
    token = tokens.find_live(plain, purpose)
    if token is None or not token.user.active or (first_password and token.user.password_hash):
        return None
    return token


def lookup(plain: str) -> AccountToken | None:
    """The live invitation behind a link, or None when the link is dead (reads only)."""
    return live_link(plain, tokens.INVITATION, first_password=True)


def check_new_password(password: object) -> str:
    """services._check_password's rule, with the message in the reader's language."""
    try:
        return services._check_password(password)
    except ValidationFailed:
        raise ValidationFailed({"password": gettext("Use at least %(count)s characters.",
                                                    count=services.MIN_PASSWORD_LENGTH)}) from None


def consume(token: AccountToken) -> bool:
    """Mark a token used, once: False when another request used it first."""
    result = db.session.execute(
        update(AccountToken).where(AccountToken.id == token.id, AccountToken.used_at.is_(None),
                                   AccountToken.revoked_at.is_(None)).values(used_at=utcnow())
    )
    return result.rowcount == 1


def revoke_other_links(user: User) -> None:
    """After a password is set, no older invitation or reset link may set it again."""
    now = utcnow()
    for purpose in (tokens.INVITATION, tokens.PASSWORD_RESET):
        for token in tokens.live_tokens(user.id, purpose):
            token.revoked_at = now


def accept(plain: str, password: str) -> User:
    """Accept an invitation: set the first password and return the person.

    Raises NotFound (code "invitation_invalid") for an unknown, used, revoked or expired link, and
    ValidationFailed naming `password` for a too short one (the link then still works).
    """
    return set_password_by_link(lookup(plain), password, dead_link_error, "invitation_accepted")


def set_password_by_link(token: AccountToken | None, password: str, dead_link, action: str, **details) -> User:
    """Set a password through a mailed link's live token (None when the link is dead): the token is used
    up, the person's other invitation and reset links stop working, and `action` is audited (with
    `details`). Raises `dead_link()` when the link is dead or another request used it first, and
    ValidationFailed naming `password` for a too short one (the link then still works)."""
    if token is None:
        raise dead_link()
    check_new_password(password)
    user = token.user
    if not consume(token):
        db.session.rollback()
        raise dead_link()
    revoke_other_links(user)
    audit.record(action, actor=user, subject=user, **details)
    services.set_password(user, password)  # commits all of it
    return user
