"""CloudFair settings: the only module that reads the environment."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Production-shaped settings; every value can be set from the environment."""

    ENV_NAME = os.environ.get("CLOUDFAIR_ENV", "production")
    DEVELOPMENT = ENV_NAME == "development"
    TESTING = False

    SECRET_KEY = os.environ.get("SECRET_KEY") or None
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'cloudfair.db'}"
    )
    #: Connections each server process keeps open (`pool_size`) and may open beyond them for a moment
    #: (`max_overflow`, closed again when given back). A gevent worker runs hundreds of events at once: a
    #: join storm with SQLAlchemy's default of 5 opened and closed a connection for most of its joins.
    DATABASE_POOL_SIZE = int(os.environ.get("DATABASE_POOL_SIZE", "15"))
    DATABASE_MAX_OVERFLOW = int(os.environ.get("DATABASE_MAX_OVERFLOW", "10"))
    SQLALCHEMY_ENGINE_OPTIONS: dict = (
        {} if SQLALCHEMY_DATABASE_URI.startswith("sqlite")  # SQLite's pools are its own: a file, one process
        else {"pool_size": DATABASE_POOL_SIZE, "max_overflow": DATABASE_MAX_OVERFLOW})
    #: A pooled connection idle this long or longer is pinged when checked out (`app/pool.py`); one given back
    #: more recently is handed out as it is (0: ping every checkout, as SQLAlchemy's `pool_pre_ping`).
    DATABASE_PING_AFTER_SECONDS = float(os.environ.get("DATABASE_PING_AFTER_SECONDS", "0.5"))
    REDIS_URL = os.environ.get("REDIS_URL") or None
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(BASE_DIR / "instance" / "uploads"))
    MAX_UPLOAD_MB = int(os.environ.get("MAX_UPLOAD_MB", "50"))
    #: Total size of what one presenter may upload.
    UPLOAD_QUOTA_MB = int(os.environ.get("UPLOAD_QUOTA_MB", "1000"))
    HOST_TIMEZONE = os.environ.get("HOST_TIMEZONE", "Asia/Shanghai")
    #: The province whose prefecture-level cities the numbers list even when they have none (GB/T 2260).
    HOME_DIVISION = os.environ.get("HOME_DIVISION", "130000")
    SMTP_HOST = os.environ.get("SMTP_HOST") or None
    SMTP_PORT = int(os.environ.get("SMTP_PORT", "25"))
    MAIL_FROM = os.environ.get("MAIL_FROM", "cloudfair@localhost")
    #: Run the scheduled jobs inside the web process (`flask run` only): on by default in development.
    RUN_SCHEDULER_IN_PROCESS = _bool("RUN_SCHEDULER_IN_PROCESS")
    #: The development mail page (/dev/mail): the outbox, readable in the browser. On by default in development.
    DEV_MAIL_PAGE = _bool("DEV_MAIL_PAGE")
    #: Where CloudFair is reached from outside: links in mail and reminders.
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    #: Where APScheduler keeps its jobs (defaults to the application's database).
    SCHEDULER_JOBSTORE_URL = os.environ.get("SCHEDULER_JOBSTORE_URL") or None
    #: A reminder that fell due while the scheduler was down is still sent this long after.
    REMINDER_GRACE_MINUTES = int(os.environ.get("REMINDER_GRACE_MINUTES", "60"))
    #: Joining a session counts as attending from this long before it starts until this long after it ends.
    ATTENDANCE_GRACE_MINUTES = int(os.environ.get("ATTENDANCE_GRACE_MINUTES", "15"))
    #: Park figures (parks, plots, incentives) not confirmed for this many days are stale; owners are nudged.
    PARK_STALE_DAYS = int(os.environ.get("PARK_STALE_DAYS", "180"))
    #: The matcher keeps plots short of a need by up to this share (with a gap line) and drops the rest.
    SITE_MATCH_SHORTFALL = float(os.environ.get("SITE_MATCH_SHORTFALL", "0.25"))
    #: …and plots ready up to this many days after the project's date.
    SITE_MATCH_LATE_DAYS = int(os.environ.get("SITE_MATCH_LATE_DAYS", "90"))
    #: The CJK font site proposals (bilingual PDFs) are written in: an OpenType/TrueType file or a
    #: collection (.ttc) and the face in it (Noto Sans CJK: 2 is Simplified Chinese). Debian's
    #: fonts-noto-cjk puts it here; without the file, proposals are refused with a 503 naming it.
    PROPOSAL_FONT = os.environ.get("PROPOSAL_FONT", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
    PROPOSAL_FONT_INDEX = int(os.environ.get("PROPOSAL_FONT_INDEX", "2"))
    PORT = int(os.environ.get("PORT", "8000"))
    DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "demo")
    CORS_ORIGINS = [o.strip() for o in os.environ.get("CORS_ORIGINS", "").split(",") if o.strip()]

    #: Socket.IO: the server's async mode ("gevent" under gunicorn; `flask run` uses threading).
    SOCKETIO_ASYNC_MODE = os.environ.get("SOCKETIO_ASYNC_MODE") or None
    #: Per-connection token bucket for live events: sustained rate and burst.
    LIVE_RATE_PER_SECOND = float(os.environ.get("LIVE_RATE_PER_SECOND", "5"))
    LIVE_BURST = int(os.environ.get("LIVE_BURST", "20"))
    #: Largest live message (JSON) a handler accepts; the transport refuses beyond LIVE_MAX_PACKET_BYTES.
    LIVE_MAX_MESSAGE_BYTES = int(os.environ.get("LIVE_MAX_MESSAGE_BYTES", str(16 * 1024)))
    LIVE_MAX_PACKET_BYTES = int(os.environ.get("LIVE_MAX_PACKET_BYTES", str(64 * 1024)))
    #: Most Engine.IO packets one long-polling request may carry (Engine.IO's default, 16, refuses a
    #: reconnecting page's queued burst with HTTP 400); the page also sends its outbox in batches of 10.
    LIVE_MAX_PACKETS_PER_PAYLOAD = int(os.environ.get("LIVE_MAX_PACKETS_PER_PAYLOAD", "256"))
    #: Packets one long-polling answer carries at most: every Engine.IO client decodes 16 (app/live/wire.py).
    LIVE_PACKETS_PER_POLL = int(os.environ.get("LIVE_PACKETS_PER_POLL", "16"))
    #: The page holds an event that arrives ahead of a missing number this long (events from several
    #: processes overtake each other) before it fetches the missing ones from the event log.
    LIVE_REORDER_MS = int(os.environ.get("LIVE_REORDER_MS", "300"))
    #: Staff-only events' numbers reach the room folded into one `skip` at most this often (well
    #: under LIVE_REORDER_MS, so a page never fetches a number that a skip is about to bring).
    LIVE_SKIP_MS = int(os.environ.get("LIVE_SKIP_MS", "100"))
    #: The writer of a batch of interests waits this long for the rest of a burst before it writes.
    LIVE_INTEREST_GATHER_MS = float(os.environ.get("LIVE_INTEREST_GATHER_MS", "8"))
    #: The reader of a batch of connects' tokens, or of joins, waits this long for the rest of a wave.
    LIVE_JOIN_GATHER_MS = float(os.environ.get("LIVE_JOIN_GATHER_MS", "0"))
    #: The page asks the event log for anything newer this often, so an event committed by a process
    #: that died before broadcasting it still arrives when no later event reveals the gap.
    LIVE_HEAD_POLL_SECONDS = float(os.environ.get("LIVE_HEAD_POLL_SECONDS", "15"))
    #: Redis calls (presence, per-person limits, the rate limiter, publishing) give up after this
    #: long, so a Redis outage slows nothing down: the service carries on degraded (see /healthz).
    REDIS_TIMEOUT_SECONDS = float(os.environ.get("REDIS_TIMEOUT_SECONDS", "0.5"))
    #: Deployments sharing one Redis keep apart: presence and per-person limits live under keys that
    #: start with this, the rate limiter's under it too, and the processes talk on this channel.
    REDIS_KEY_PREFIX = os.environ.get("REDIS_KEY_PREFIX", "cloudfair")
    LIVE_QUEUE_CHANNEL = os.environ.get("LIVE_QUEUE_CHANNEL", "flask-socketio")
    #: A live join this soon after its connection's token check uses the person that check read
    #: (a join storm's second read of everyone); later joins read the person again. 0: always read.
    LIVE_PERSON_FRESH_SECONDS = float(os.environ.get("LIVE_PERSON_FRESH_SECONDS", "5"))
    #: The Socket.IO queue's listener tries to reach Redis again this often while it is gone.
    LIVE_QUEUE_RETRY_SECONDS = float(os.environ.get("LIVE_QUEUE_RETRY_SECONDS", "0.5"))
    #: Each process's share of a room's presence expires this long after its last heartbeat (a crashed
    #: process's people leave the count by then); the heartbeat runs every third of it.
    LIVE_PRESENCE_TTL = int(os.environ.get("LIVE_PRESENCE_TTL", "30"))
    #: One limit per person (all their connections and HTTP together): questions, votes and interests
    #: per minute, and simultaneous live connections.
    LIVE_QUESTIONS_PER_MINUTE = int(os.environ.get("LIVE_QUESTIONS_PER_MINUTE", "10"))
    LIVE_VOTES_PER_MINUTE = int(os.environ.get("LIVE_VOTES_PER_MINUTE", "60"))
    LIVE_INTERESTS_PER_MINUTE = int(os.environ.get("LIVE_INTERESTS_PER_MINUTE", "30"))
    LIVE_MAX_CONNECTIONS_PER_USER = int(os.environ.get("LIVE_MAX_CONNECTIONS_PER_USER", "10"))
    #: Interest counts go to a room at most once per this many seconds.
    LIVE_COUNT_INTERVAL = float(os.environ.get("LIVE_COUNT_INTERVAL", "0.5"))
    #: A room's presence broadcasts stay under this many deliveries a second (a larger room hears the
    #: count less often than every `LIVE_COUNT_INTERVAL`); 0: no bound.
    LIVE_PRESENCE_DELIVERIES = float(os.environ.get("LIVE_PRESENCE_DELIVERIES", "2000"))
    #: Live messages shorter than this many bytes go out uncompressed (permessage-deflate); 0: none compressed.
    LIVE_DEFLATE_THRESHOLD = int(os.environ.get("LIVE_DEFLATE_THRESHOLD", "1024"))
    LIVE_DEFLATE_LEVEL = int(os.environ.get("LIVE_DEFLATE_LEVEL", "1"))
    #: An organiser's in-app notification of a session's interests gathers those of one window this
    #: long (one row per organiser, session and window, with the count and the latest); 0: one per interest.
    INTEREST_NOTIFY_WINDOW_SECONDS = int(os.environ.get("INTEREST_NOTIFY_WINDOW_SECONDS", "60"))
    #: A session's projects and the people told of an interest are kept per process this long at most
    #: (and only while the fair's revision stays the same).
    LIVE_ROOM_CACHE_SECONDS = float(os.environ.get("LIVE_ROOM_CACHE_SECONDS", "30"))
    #: `GET /api/v1/fairs/<id>` is built once per fair revision, session statuses and language in each
    #: process, and kept at most this long (for renamed projects, people and organisations).
    FAIR_API_CACHE_SECONDS = float(os.environ.get("FAIR_API_CACHE_SECONDS", "30"))
    #: A fair feed's validator (the fair's revision) is read at most this often per process: calendar
    #: programs poll a feed every few minutes or hours, so a change shows in the feed within seconds.
    FEED_VERSION_SECONDS = float(os.environ.get("FEED_VERSION_SECONDS", "2"))
    #: The same for `GET /api/v1/fairs/<id>` read by anyone but an organiser: a fair opening is thousands
    #: of readers of one agenda, and each read within this long of the last costs no query. Organisers
    #: (who change fairs) always read the current version. 0: every request reads it.
    FAIR_API_VERSION_SECONDS = float(os.environ.get("FAIR_API_VERSION_SECONDS", "2"))
    #: A join (and the room page) carries the first this many questions in the room's order; the page
    #: fetches the rest page by page when the reader asks (GET /sessions/<id>/questions?per_page=).
    #: 20, not 100: each joiner gets its own marked copy, so in a join storm the page's size is the
    #: join's cost (BENCHMARKS.md, 2026-12-04 late evening).
    LIVE_JOIN_QUESTIONS = int(os.environ.get("LIVE_JOIN_QUESTIONS", "20"))
    #: What every joiner of a room gets alike (first questions, interest counts) is kept this long per
    #: process while the room's seq stands (0: read for every join).
    LIVE_JOIN_CACHE_SECONDS = float(os.environ.get("LIVE_JOIN_CACHE_SECONDS", "2"))
    #: Attendance from live-room joins is written in one transaction per this many seconds per process
    #: (app/live/attendance.py): a join storm costs no commit per join. 0: each join writes at once.
    LIVE_ATTENDANCE_BATCH_SECONDS = float(os.environ.get("LIVE_ATTENDANCE_BATCH_SECONDS", "1"))
    #: Largest request body other than uploads (JSON, forms).
    MAX_BODY_KB = int(os.environ.get("MAX_BODY_KB", "256"))
    #: Most people one CSV import may hold (the file's size is bounded by MAX_UPLOAD_MB).
    IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", "10000"))

    #: How passwords are stored (werkzeug's `generate_password_hash` method): scrypt, werkzeug's strong
    #: default. Only the tests' settings pick a cheap one; a stored hash names its own method, so a
    #: password saved under one setting is still checked correctly under another.
    PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt")
    #: API tokens live this long unless revoked first.
    TOKEN_TTL_HOURS = int(os.environ.get("TOKEN_TTL_HOURS", str(24 * 30)))
    #: An invitation link (set a first password) works this many days.
    INVITATION_DAYS = int(os.environ.get("INVITATION_DAYS", "14"))
    #: A password reset link works this many minutes, once.
    PASSWORD_RESET_MINUTES = int(os.environ.get("PASSWORD_RESET_MINUTES", "60"))
    #: The domain part of calendar UIDs; never change it once feeds are subscribed.
    CALENDAR_UID_DOMAIN = os.environ.get("CALENDAR_UID_DOMAIN", "cloudfair")
    #: Where a meeting without the presenter's own address gets its room: this prefix plus a random name.
    MEETING_ROOM_BASE = os.environ.get("MEETING_ROOM_BASE", "https://meet.jit.si/CloudFair-")
    #: Hosts whose stream or meeting pages the live room embeds (https only); also the CSP's frame-src.
    EMBED_HOSTS = [h.strip().lower() for h in os.environ.get(
        "EMBED_HOSTS", "player.bilibili.com,www.youtube-nocookie.com,meet.jit.si").split(",") if h.strip()]

    # Request bodies: uploads get their own limit; everything else is small.
    MAX_CONTENT_LENGTH = (MAX_UPLOAD_MB + 1) * 1024 * 1024

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", default=not DEVELOPMENT)
    #: "Keep me logged in" lasts this many days (the cookie and the sign-in behind it); a sign-in
    #: without it ends with the browser, and in any case after this long.
    REMEMBER_DAYS = int(os.environ.get("REMEMBER_DAYS", "14"))
    REMEMBER_COOKIE_DURATION = timedelta(days=REMEMBER_DAYS)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    #: How many reverse proxies in front append to X-Forwarded-For/-Proto (0: none, the headers are
    #: ignored). With 1, the client address is the one the proxy saw (rate limits, the audit log).
    PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0"))
    #: Strict-Transport-Security outside development (0: not sent).
    HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", str(365 * 24 * 3600)))
    HSTS_INCLUDE_SUBDOMAINS = _bool("HSTS_INCLUDE_SUBDOMAINS")
    #: The Permissions-Policy header (empty: not sent): CloudFair uses no camera, microphone, place or payment.
    PERMISSIONS_POLICY = os.environ.get(
        "PERMISSIONS_POLICY",
        "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    )
    WTF_CSRF_TIME_LIMIT = None

    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", default=True)
    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL") or "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_KEY_PREFIX = REDIS_KEY_PREFIX
    #: Without Redis the limiter counts in memory (per process) instead of failing every request.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_STORAGE_OPTIONS = {"socket_timeout": REDIS_TIMEOUT_SECONDS, "socket_connect_timeout": REDIS_TIMEOUT_SECONDS}
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    #: Failed sign-ins per typed e-mail address (from any client) before that address is locked out for the window.
    LOGIN_ADDRESS_LIMIT = os.environ.get("LOGIN_ADDRESS_LIMIT", "5 per 15 minutes")
    #: Password reset requests, counted per client address and per typed e-mail address.
    RESET_RATE_LIMIT = os.environ.get("RESET_RATE_LIMIT", "5 per 15 minutes")
    #: Self sign-up requests, per client address and per typed address (page and API together).
    SIGNUP_RATE_LIMIT = os.environ.get("SIGNUP_RATE_LIMIT", "5 per 15 minutes")
    #: How long a sign-up's address-confirmation link works.
    SIGNUP_CONFIRM_HOURS = int(os.environ.get("SIGNUP_CONFIRM_HOURS", "48"))

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = ("en", "zh")

    API_TITLE = "CloudFair API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    API_SPEC_OPTIONS = {
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}
        },
        "security": [{"bearer": []}],
    }


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEVELOPMENT = True
    SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-not-secret"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    #: No HSTS on a developer's machine: it would stick to localhost for a year.
    HSTS_SECONDS = 0
    #: `make run` sends reminders, invitations and resets without a second process (`=0` turns it off).
    RUN_SCHEDULER_IN_PROCESS = _bool("RUN_SCHEDULER_IN_PROCESS", default=True)
    #: Without SMTP_HOST, mail is only logged: read it at /dev/mail.
    DEV_MAIL_PAGE = _bool("DEV_MAIL_PAGE", default=True)
    #: `flask run` serves with Werkzeug's threads; auto-detection would pick gevent (installed for
    #: gunicorn), whose long-polling and websockets do not work under Werkzeug.
    SOCKETIO_ASYNC_MODE = os.environ.get("SOCKETIO_ASYNC_MODE") or "threading"


class TestConfig(Config):
    ENV_NAME = "test"
    DEVELOPMENT = False
    TESTING = True
    SECRET_KEY = "test-secret"
    #: One round of PBKDF2 instead of scrypt (~0.2 s a hash): test users are made by the thousand.
    #: Never outside tests (tests/accounts/test_password_hashing.py checks production's default).
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    #: Tests that need Redis build their app with REDIS_URL=TEST_REDIS_URL themselves.
    REDIS_URL = None
    #: Counts and presence go out at once (no background sends outliving a test); tests of the
    #: throttle set an interval themselves.
    LIVE_COUNT_INTERVAL = 0.0
    LIVE_PRESENCE_DELIVERIES = 0.0  # presence at once (tests/live/test_presence_interval.py sets a bound)
    #: Attendance written at each join, so a test reads it right after (tests of the batches set their own).
    LIVE_ATTENDANCE_BATCH_SECONDS = 0.0
    #: Every join reads the room afresh (names changed by a test show at once); tests of the cache set it.
    LIVE_JOIN_CACHE_SECONDS = 0.0
    #: Every feed request reads the fair's revision (a test changes a fair and reads its feed at once).
    FEED_VERSION_SECONDS = FAIR_API_VERSION_SECONDS = 0.0
    #: Tests write many questions as one person; the tests of the per-person limits set their own.
    LIVE_QUESTIONS_PER_MINUTE = LIVE_VOTES_PER_MINUTE = LIVE_INTERESTS_PER_MINUTE = 10_000
    SOCKETIO_ASYNC_MODE = "threading"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    WTF_CSRF_ENABLED = True
    SMTP_HOST = None
    #: Never a scheduler thread in a test unless the test asks for one.
    RUN_SCHEDULER_IN_PROCESS = False
    DEV_MAIL_PAGE = False


def config_for_environment() -> type[Config]:
    """Pick the settings class from `CLOUDFAIR_ENV`."""
    return DevelopmentConfig if os.environ.get("CLOUDFAIR_ENV") == "development" else Config
