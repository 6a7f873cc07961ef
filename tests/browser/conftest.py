"""Browser fixtures: the real server on a free port with the demo data, and Chromium through Playwright.

`live_server` runs `flask db upgrade`, `flask demo seed` and `flask run` in a subprocess against a fresh
SQLite file, exactly as `make run` does, its mail addressed to the session's own SMTP server (aiosmtpd):
`live_server.deliver_mail()` runs the scheduler's mail job once and `mailbox` holds what arrived. `browser`
launches Debian's Chromium (or $CHROMIUM) and skips with a reason when there is none; `page` opens a new
context per test. `log_in` and `page_as` sign a demo account in and put it in English (or the language
asked for), whatever the account's saved setting; the helpers beside this file: `language.py` (the footer's
switch), `a11y.py` (axe-core), `zh.py` (the Chinese catalogue), `demo.py` (ids from the API). Every test
under tests/browser is marked `browser`, so the per-test app fixture in tests/conftest.py leaves it alone.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import hashlib
import time
import urllib.request
import warnings
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from .language import set_language
from .layout import MEASURED, PHONE, html_page_visited, too_wide

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
DEMO_PASSWORD = "demo"
DESKTOP = {"width": 1280, "height": 800}
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]


def pytest_collection_modifyitems(config, items):
    """Mark everything collected from this folder as a browser test."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


# ---------------------------------------------------------------- the real server


@dataclass(frozen=True)
class LiveServer:
    url: str
    log: Path
    #: The server's environment (database, uploads, SMTP server …), for commands run beside it.
    env: dict = field(default_factory=dict, repr=False, compare=False)

    def api(self, path: str) -> dict:
        """GET a JSON document from the server's API, as an anonymous client."""
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return json.load(response)

    def run_job(self, job_id: str) -> dict:
        """One of the scheduler's jobs (app/jobs.py), once, now, in a process of its own, as the
        scheduler that `make run` starts would run it on its next tick."""
        code = ("import json\nfrom wsgi import app\nfrom app.jobs import BY_ID\n"
                f"with app.app_context():\n    print(json.dumps(BY_ID[{job_id!r}].run()))")
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"the {job_id} job failed:\n{done.stdout}\n{done.stderr}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def deliver_mail(self) -> dict:
        """Send the outbox's due mail now: the scheduler's mail job, once, in a process of its own.

        Only that job: `flask scheduler --run-due` would also run the lead reminders, which notify the demo's
        attendees of stalled leads and so change pages other tests look at.
        """
        code = ("import json\nfrom wsgi import app\nfrom app.jobs import BY_ID\n"
                "with app.app_context():\n    print(json.dumps(BY_ID['mail'].run()))")
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"the mail job failed:\n{done.stdout}\n{done.stderr}")
        return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- mail


class Mailbox:
    """What the session's SMTP server received, parsed (`email.message.EmailMessage`, policy.default)."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        """The messages sent to `address`, oldest first."""
        with self._lock:
            return [m for m in self.messages if address.lower() in str(m["To"]).lower()]


@pytest.fixture(scope="session")
def _smtp_server():
    """A real SMTP server (aiosmtpd) on a free port for the session: (Mailbox, port), or None without aiosmtpd."""
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        yield None
        return
    mailbox = Mailbox()
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def mailbox(_smtp_server, live_server) -> Mailbox:
    """The mail the live server sent, once `live_server.deliver_mail()` has run; skips without aiosmtpd."""
    if _smtp_server is None:
        pytest.skip("aiosmtpd is not installed (requirements-dev.txt)")
    return _smtp_server[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _flask(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


def _wait_until_live(url: str, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "/livez", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"The server did not answer /livez within {timeout}s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, _smtp_server) -> LiveServer:
    """The real app (`flask run`) on a free port, on a fresh SQLite file holding the demo province."""
    workdir = tmp_path_factory.mktemp("live-server")
    env = dict(os.environ)
    env.update({
        "CLOUDFAIR_ENV": "development",
        "DATABASE_URL": f"sqlite:///{workdir / 'cf.db'}",
        "UPLOAD_DIR": str(workdir / "uploads"),
        "DEMO_PASSWORD": DEMO_PASSWORD,
        "REDIS_URL": "",  # in-memory rate limits and no message queue: nothing shared with other runs
        "SOCKETIO_ASYNC_MODE": "threading",  # `flask run` is Werkzeug: threads, websockets via simple-websocket
        "RUN_SCHEDULER_IN_PROCESS": "0",
        # Mail goes to the session's SMTP server when the mail job runs (`deliver_mail`); only logged without it.
        "SMTP_HOST": "127.0.0.1" if _smtp_server else "",
        "SMTP_PORT": str(_smtp_server[1]) if _smtp_server else "25",
        "MAIL_FROM": "CloudFair <noreply@cloudfair.example>",
        "LOGIN_RATE_LIMIT": "1000 per minute",  # many journeys log in from one address
        # The demo's people are hashed and checked on every sign-in: one PBKDF2 round, not scrypt, as in TestConfig.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
        # Many journeys ask and express interest as the same demo people within a minute.
        "LIVE_QUESTIONS_PER_MINUTE": "1000", "LIVE_INTERESTS_PER_MINUTE": "1000", "LIVE_VOTES_PER_MINUTE": "1000",
        "PYTHONUNBUFFERED": "1",
    })
    env.pop("FLASK_DEBUG", None)
    for step in (_flask("db", "upgrade"), _flask("demo", "seed")):
        done = subprocess.run(step, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(step[2:])} failed:\n{done.stdout}\n{done.stderr}")

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = workdir / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            _flask("run", "--host", "127.0.0.1", "--port", str(port), "--no-reload", "--no-debugger"),
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_live(url, process, log)
        yield LiveServer(url=url, log=log, env=env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ---------------------------------------------------------------- the browser


def _chromium_path() -> str | None:
    candidate = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
    if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
        return candidate
    return shutil.which(candidate)


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (CHROMIUM, else /usr/bin/chromium); the test skips when there is none."""
    executable = _chromium_path()
    if executable is None:
        pytest.skip(f"no Chromium at {os.environ.get('CHROMIUM') or '/usr/bin/chromium'} "
                    "(apt-get install chromium, or set CHROMIUM)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    playwright = sync_api.sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
    except Exception:
        playwright.stop()
        raise
    yield browser
    browser.close()
    playwright.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test (`item.rep_call`), so fixtures know how the test went."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def _measure_visited(context, paths: list[str]) -> list[str]:
    """Every HTML page the context visited, once more in a new page of the same context (the same
    person, cookies and language) at a phone's width: what is wider than the phone. A page already
    measured for the same person and language in this session is not measured again."""
    from playwright.sync_api import Error as PlaywrightError

    me = context.request.get("/api/v1/me")
    if me.ok:
        body = me.json()
        who, language = body.get("email", "?"), body.get("locale") or ""
    else:
        who, language = "anonymous", ""
    todo = []
    for path in dict.fromkeys(paths):
        key = (who, language, path)
        if key not in MEASURED:
            MEASURED.add(key)
            todo.append(path)
    if not todo:
        return []
    page = context.new_page()
    page.set_viewport_size(PHONE)
    wide = []
    try:
        for path in todo:
            try:
                answer = page.goto(path, wait_until="load")
            except PlaywrightError:  # a download, or a page that no longer answers: nothing to measure
                continue
            if answer is None or not answer.ok:
                continue
            problem = too_wide(page, path, f"{who}, {language or 'anonymous'}")
            if problem:
                wide.append(problem)
    finally:
        page.close()
    return wide


#: Every HTML document the browser received in this run ("path #body-hash" → HTML): the W3C checker
#: reads them all once the last browser test is done (`_pages_validate`).
VISITED_PAGES: dict[str, str] = {}
MAX_VALIDATED_PAGES = 1500


def _keep_page(response) -> None:
    """Keep a page (or frame) the server sent, as sent: scripts cannot have changed it yet."""
    try:
        if response.request.resource_type != "document" or response.status != 200:
            return
        if "text/html" not in (response.headers.get("content-type") or ""):
            return
        body = response.text()
    except Exception:  # the page was closed meanwhile: nothing to keep
        return
    from urllib.parse import urlsplit

    parts = urlsplit(response.url)
    key = f"{parts.path}{'?' + parts.query if parts.query else ''} #{hashlib.sha1(body.encode()).hexdigest()[:8]}"
    if len(VISITED_PAGES) < MAX_VALIDATED_PAGES:
        VISITED_PAGES.setdefault(key, body)


@pytest.fixture(scope="session", autouse=True)
def _pages_validate():
    """At the end of the browser run, every page it visited must be valid HTML (W3C Nu HTML Checker)."""
    yield
    if not VISITED_PAGES:
        return
    from tests.page_validity import report, validate, vnu_missing

    missing = vnu_missing()
    if missing:
        warnings.warn(f"{len(VISITED_PAGES)} visited pages not validated: {missing}", stacklevel=1)
        return
    errors = validate(VISITED_PAGES)
    assert not errors, report(errors)


@pytest.fixture
def new_page(request, browser, live_server):
    """Open a page in a fresh context: `new_page(timezone_id="Europe/Berlin", viewport={...})`.

    Contexts speak en-GB, are 1280×800 and live in Asia/Shanghai unless told otherwise; all are
    closed when the test ends. Before that, when the test passed, every HTML page its contexts visited
    is measured at a 390 px phone's width (`layout.py`): a page wider than the phone fails the test
    (an error at its teardown, naming the page and what sticks out).
    """
    contexts = []

    def open_page(timezone_id: str = "Asia/Shanghai", **options):
        options = {"locale": "en-GB", "viewport": DESKTOP, "base_url": live_server.url, **options}
        context = browser.new_context(timezone_id=timezone_id, **options)
        context.set_default_timeout(10_000)
        visited: list[str] = []
        context.on("response", _keep_page)
        context.on("response", lambda response: (path := html_page_visited(response)) and visited.append(path))
        contexts.append((context, visited))
        return context.new_page()

    yield open_page
    wide = []
    try:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.passed:
            for context, visited in contexts:
                wide += _measure_visited(context, visited)
    finally:
        for context, _ in contexts:
            context.close()
    assert not wide, "pages wider than a phone:\n" + "\n".join(wide)


@pytest.fixture
def page(request, new_page):
    """A page in a new context per test; parametrize indirectly to set its options:
    `@pytest.mark.parametrize("page", [{"timezone_id": "Europe/Berlin"}], indirect=True)`."""
    return new_page(**getattr(request, "param", {}))


def _logout_button(page):
    return page.locator('form[action="/logout"] button[type="submit"]')


@pytest.fixture(scope="session")
def log_in():
    """Log in through the login form with a demo account; ends on the page the form leads to.

    `language` ("en" by default, None to keep the account's own setting) is then chosen with the footer's
    switch, which saves it on the account: the demo's organiser and cities speak Chinese, and tests
    that read English words must not depend on that. The form is found by its fields' names, so it
    works whatever language the login page is in.
    """
    from playwright.sync_api import expect

    def do_log_in(page, email: str, password: str = DEMO_PASSWORD, language: str | None = "en"):
        if "/login" not in page.url:
            page.goto("/login")
        form = page.locator("form").filter(has=page.locator('input[name="password"]'))
        form.locator('input[name="email"]').fill(email)
        form.locator('input[name="password"]').fill(password)
        form.locator('[type="submit"]').click()
        expect(_logout_button(page)).to_be_visible()
        if language:
            set_language(page, language)
        return page

    return do_log_in


@pytest.fixture(scope="module")
def _signed_in() -> dict:
    """Per module: each account's cookies and CSRF token after its one use of the login form."""
    return {}


@pytest.fixture
def page_as(new_page, log_in, live_server, _signed_in):
    """`page_as(email, language="en", **context_options)`: a fresh context signed in as a demo account.

    The login form is used once per module and account (it is rate-limited per address); later pages reuse
    the cookies. Every page is put in `language` first, through the same POST the footer's switch sends,
    because the setting lives on the account and another test may have changed it.
    """

    def open_as(email: str, language: str = "en", **options):
        key = (live_server.url, email)
        if key not in _signed_in:
            page = new_page(**options)
            log_in(page, email, language=language)
            token = page.locator('form.language-switch input[name="csrf_token"]').input_value()
            _signed_in[key] = (page.context.storage_state(), token)
            return page
        state, token = _signed_in[key]
        page = new_page(storage_state=state, **options)
        answer = page.request.post("/language", form={"lang": language, "next": "/livez", "csrf_token": token},
                                   max_redirects=0)
        assert answer.status == 302, f"the language switch answered {answer.status}: {answer.text()[:300]}"
        return page

    return open_as


@pytest.fixture(scope="session")
def screenshot():
    """Save the page as it is (viewport only, so 1280×800 on desktop) to docs/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shoot(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path))
        return path

    return shoot


#: The membrane pitch of the demo's published Europe fair (tests/browser/test_live.py, test_meetings.py).
MEMBRANE_SESSION = "Belgian wastewater membrane technology"  # Weber and Peeters pitch the membrane project
MEMBRANE_PROJECT = "Wastewater-treatment membrane technology"


@pytest.fixture(scope="module")
def membrane(live_server) -> dict:
    """The membrane pitch of the published Europe fair, with its project, from the API."""
    fairs = live_server.api("/api/v1/fairs?status=published&per_page=50")["items"]
    [europe] = [f for f in fairs if f["title"].startswith("Europe")]
    [session] = [s for s in live_server.api(f"/api/v1/fairs/{europe['id']}")["sessions"] if s["title"] == MEMBRANE_SESSION]
    [project] = [p for p in session["projects"] if p["title"] == MEMBRANE_PROJECT]
    return {"id": session["id"], "fair_id": europe["id"], "project_id": project["id"]}
