from __future__ import annotations

from enum import StrEnum


class QuestionStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    HIDDEN = "hidden"


class Moderation(StrEnum):
    ANSWER = "answer"
    HIDE = "hide"
    PIN = "pin"
    UNPIN = "unpin"


class Audience(StrEnum):
    ROOM = "room"  # everyone in session:<id>
    STAFF = "staff"  # session:<id>:staff only
