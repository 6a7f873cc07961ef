"""`flask user create` and `flask demo seed`."""

from __future__ import annotations

from sqlalchemy import func, select

from app import create_app
from app.accounts import services
from app.accounts.models import Organisation, User
from app.extensions import db
from app.fairs.models import Fair, FairSession, Registration
from app.projects.models import Project
from tests.conftest import make_test_config


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def user_create(app, *extra: str, password: str = "secret-pass"):
    args = [
        "user", "create", "--email", "Wang.Li@Example.org", "--name", "Wang Li", "--role", "organiser",
        "--organisation", "Hebei Department of Commerce", "--password-stdin", *extra,
    ]
    return app.test_cli_runner().invoke(args=args, input=f"{password}\n")


def test_user_create_makes_a_user_who_can_log_in(app):
    result = user_create(app, "--city", "Shijiazhuang", "--timezone", "Asia/Shanghai", "--locale", "zh")

    assert result.exit_code == 0, result.output
    assert "Created organiser wang.li@example.org" in result.output
    user = services.authenticate("wang.li@example.org", "secret-pass")
    assert (user.name, user.role, user.timezone, user.locale) == ("Wang Li", "organiser", "Asia/Shanghai", "zh")
    org = user.organisation
    assert (org.name, org.kind, org.city, org.country) == ("Hebei Department of Commerce", "agency", "Shijiazhuang", "CN")
    assert "secret-pass" not in user.password_hash


def test_user_create_finds_an_existing_organisation_by_name(app):
    assert user_create(app).exit_code == 0
    orgs = count(Organisation)

    result = app.test_cli_runner().invoke(
        args=["user", "create", "--email", "colleague@example.org", "--name", "Colleague", "--role", "organiser",
              "--organisation", "hebei department of commerce", "--password-stdin"],
        input="another-secret\n",
    )

    assert result.exit_code == 0, result.output
    assert count(Organisation) == orgs
    assert services.authenticate("colleague@example.org", "another-secret").organisation.name == (
        "Hebei Department of Commerce"
    )


def test_user_create_defaults_the_kind_from_the_role(app):
    result = app.test_cli_runner().invoke(
        args=["user", "create", "--email", "agent@example.org", "--name", "Agent", "--role", "presenter",
              "--organisation", "Weber Consulting GmbH", "--country", "DE", "--timezone", "Europe/Berlin",
              "--password-stdin"],
        input="agent-secret\n",
    )

    assert result.exit_code == 0, result.output
    org = db.session.scalar(select(Organisation).where(Organisation.name == "Weber Consulting GmbH"))
    assert (org.kind, org.country) == ("agency", "DE")


def test_user_create_with_a_bad_role_fails_and_writes_nothing(app):
    result = app.test_cli_runner().invoke(
        args=["user", "create", "--email", "x@example.org", "--name", "X", "--role", "admin",
              "--organisation", "Somewhere", "--password-stdin"],
        input="secret-pass\n",
    )

    assert result.exit_code != 0
    assert "admin" in result.output
    assert (count(User), count(Organisation)) == (0, 0)


def test_user_create_with_a_bad_timezone_fails_and_writes_nothing(app):
    result = user_create(app, "--timezone", "Asia/Beijing")

    assert result.exit_code != 0
    assert "Time zone" in result.output  # by its label, never the field code
    assert (count(User), count(Organisation)) == (0, 0)


def test_user_create_with_a_bad_country_fails_and_writes_nothing(app):
    result = user_create(app, "--country", "ZZ")

    assert result.exit_code != 0
    assert (count(User), count(Organisation)) == (0, 0)


def test_user_create_with_a_short_password_fails_and_writes_nothing(app):
    result = user_create(app, password="short")

    assert result.exit_code != 0
    assert "Password" in result.output  # by its label, never the field code
    assert count(User) == 0


def test_user_create_with_a_taken_email_fails(app):
    assert user_create(app).exit_code == 0

    result = user_create(app)

    assert result.exit_code != 0
    assert "already exists" in result.output
    assert count(User) == 1


def test_demo_seed_refuses_outside_development_and_testing():
    production_like = create_app(make_test_config(TESTING=False, DEVELOPMENT=False))

    with production_like.app_context():  # the command runs in the current app context when one is open
        result = production_like.test_cli_runner().invoke(args=["demo", "seed"])

    assert result.exit_code != 0
    assert "development" in result.output
    assert count(User) == 0


def test_demo_seed_creates_the_demo_accounts_once(app):
    runner = app.test_cli_runner()

    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    counts = {m.__name__: count(m) for m in (User, Organisation, Fair, FairSession, Registration, Project)}
    second = runner.invoke(args=["demo", "seed"])

    assert second.exit_code == 0, second.output
    assert {m.__name__: count(m) for m in (User, Organisation, Fair, FairSession, Registration, Project)} == counts
    assert first.output == second.output
    assert "organiser@cloudfair.example" in first.output
    assert counts["User"] == 20 and counts["Fair"] >= 3
    roles = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    assert roles == {"organiser": 1, "presenter": 6, "attendee": 13}
    assert services.authenticate("organiser@cloudfair.example", app.config["DEMO_PASSWORD"]).role == "organiser"
