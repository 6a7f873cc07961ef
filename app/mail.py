"""Mail: bodies from templates in the person's language, an outbox delivered after the commit
with retries and back-off. Without SMTP_HOST, mail is logged instead of sent (and, in development,
read on the development mail page, /dev/mail, from this outbox)."""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app, render_template
from flask_babel import force_locale, gettext
from sqlalchemy import or_, select, update

from .extensions import db
from .notifications.models import MailMessage
from .types import utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


def queue(to_address: str, template: str, locale: str, *, ics: str | None = None, **context) -> MailMessage:
    """Render `templates/mail/<template>.<locale>.{txt,html}` (subject on the text's first line)
    and queue it in the caller's transaction."""
    subject, body, html = render(template, locale, **context)
    message = MailMessage(to_address=to_address, subject=subject, text_body=body, html_body=html, ics=ics)
    db.session.add(message)
    return message


def site_link(path: str) -> str:
    """The address of `path` on this site, for a mail or its calendar file (from `BASE_URL`: a scheduled
    job has no request)."""
    return current_app.config["BASE_URL"].rstrip("/") + path


def render(template: str, locale: str, **context) -> tuple[str, str, str]:
    """A mail's subject, text and HTML from `templates/mail/<template>.<locale>.{txt,html}`."""
    locale = locale if locale in ("zh", "en") else "en"
    with force_locale(locale):
        text = render_template(f"mail/{template}.{locale}.txt", **context)
        html = render_template(f"mail/{template}.{locale}.html", **context)
    subject, _, body = text.partition("\n")
    return subject.strip()[:300], body.strip() + "\n", html


#: What became of a message, from its outbox row.
QUEUED, SENT, FAILED = "queued", "sent", "failed"


def status_of(message: MailMessage) -> str:
    """Queued (waiting, or retrying after a failed attempt), sent, or failed for good."""
    if message.sent_at is not None:
        return SENT
    if message.failed_at is not None:
        return FAILED
    return QUEUED


def outbox(limit: int = 200) -> list[MailMessage]:
    """The newest messages first (the development mail page)."""
    return list(db.session.scalars(select(MailMessage).order_by(MailMessage.id.desc()).limit(limit)))


def get_message(message_id: int) -> MailMessage:
    from .errors import NotFound

    message = db.session.get(MailMessage, message_id)
    if message is None:
        raise NotFound(gettext("No such message."))
    return message


def _claim(now, limit: int = 50) -> list[MailMessage]:
    """Take pending messages for a few minutes (another sender skips them meanwhile)."""
    ids = list(db.session.scalars(
        select(MailMessage.id).where(
            MailMessage.sent_at.is_(None), MailMessage.failed_at.is_(None), MailMessage.next_attempt_at <= now,
            or_(MailMessage.claimed_until.is_(None), MailMessage.claimed_until < now),
        ).order_by(MailMessage.id).limit(limit)
    ))
    claimed = []
    for message_id in ids:
        result = db.session.execute(
            update(MailMessage).where(
                MailMessage.id == message_id, MailMessage.sent_at.is_(None),
                or_(MailMessage.claimed_until.is_(None), MailMessage.claimed_until < now),
            ).values(claimed_until=now + timedelta(minutes=5))
        )
        if result.rowcount == 1:
            claimed.append(message_id)
    db.session.commit()
    return [db.session.get(MailMessage, i) for i in claimed]


def _build(message: MailMessage) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = current_app.config["MAIL_FROM"]
    mail["To"] = message.to_address
    mail["Subject"] = message.subject
    mail["Message-ID"] = make_msgid(idstring=f"cloudfair-{message.id}")
    mail.set_content(message.text_body)
    mail.add_alternative(message.html_body, subtype="html")
    if message.ics:
        # The part's method is the calendar's own (PUBLISH for a session, REQUEST/CANCEL for a meeting invitation).
        method = next((line.split(":", 1)[1].strip() for line in message.ics.splitlines()
                       if line.startswith("METHOD:")), "PUBLISH")
        name = "invite.ics" if method != "PUBLISH" else "cloudfair.ics"
        mail.add_attachment(message.ics.encode("utf-8"), maintype="text", subtype="calendar",
                            filename=name, params={"method": method})
    return mail


def deliver_due(now=None) -> dict[str, int]:
    """Send what is due; a failure is retried later (1, 2, 4 … minutes) and never stops the rest."""
    now = now or utcnow()
    counts = {"sent": 0, "failed": 0, "retry": 0}
    host = current_app.config.get("SMTP_HOST")
    for message in _claim(now):
        try:
            if host:
                with smtplib.SMTP(host, int(current_app.config.get("SMTP_PORT") or 25), timeout=20) as smtp:
                    smtp.send_message(_build(message))
            else:
                log.info("Mail (no SMTP_HOST set) to %s: %s\n%s", message.to_address, message.subject, message.text_body)
            message.sent_at = utcnow()
            message.claimed_until = None
            counts["sent"] += 1
        except Exception as exc:  # every kind of SMTP or network failure is retried
            message.attempts += 1
            message.last_error = f"{exc.__class__.__name__}: {exc}"[:1000]
            message.claimed_until = None
            if message.attempts >= MAX_ATTEMPTS:
                message.failed_at = utcnow()
                counts["failed"] += 1
                log.error("Mail %s to %s failed for good: %s", message.id, message.to_address, message.last_error)
            else:
                message.next_attempt_at = utcnow() + timedelta(minutes=2 ** (message.attempts - 1))
                counts["retry"] += 1
                log.warning("Mail %s to %s failed (attempt %s): %s", message.id, message.to_address,
                            message.attempts, message.last_error)
        db.session.commit()
    return counts
