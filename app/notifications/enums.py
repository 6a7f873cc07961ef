"""Every kind of in-app notification. Each is written in both languages when it happens
(`services.notify(..., texts=in_both(...))`, or the interests' fold); `notify` refuses any other kind."""

from __future__ import annotations

from enum import StrEnum


class NotificationKind(StrEnum):
    #: To a project's presenter: an organisation expressed interest (leads).
    INTEREST = "interest"
    #: To each organiser: a session's interests in one window, folded (leads).
    INTERESTS = "interests"
    #: To the presenter and the uploader: a document version was reviewed (projects).
    MATERIAL_APPROVED = "material_approved"
    MATERIAL_REJECTED = "material_rejected"
    #: To both people of a meeting (meetings).
    MEETING_REQUESTED = "meeting_requested"
    MEETING_ACCEPTED = "meeting_accepted"
    MEETING_DECLINED = "meeting_declined"
    MEETING_CANCELLED = "meeting_cancelled"
    MEETING_RESCHEDULED = "meeting_rescheduled"
    MEETING_15M = "meeting_15m"
    #: To a person who moved up from a fair's waiting list (fairs).
    WAITLIST_MOVED_UP = "waitlist_moved_up"
    #: Session reminders to attendees and presenters (the scheduler).
    SESSION_24H = "session_24h"
    SESSION_15M = "session_15m"
    #: To a lead's responsible person (the scheduler).
    LEAD_STALLED = "lead_stalled"
    LEAD_NEXT_ACTION = "lead_next_action"
    #: To an organisation's people: the monthly progress report is due (the scheduler).
    REPORT_REQUEST = "report_request"
    #: To every organiser: a confirmed sign-up request waits for a decision (people).
    SIGNUP = "signup"
    #: To a park's people: its figures need confirming (parks).
    PARK_STALE = "park_stale"
    #: To a project's presenter: a city proposed sites for it (parks).
    SITE_PROPOSAL = "site_proposal"
