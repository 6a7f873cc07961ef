"""Command-line entry points: `flask user create`, `flask demo seed`, `flask divisions map-cities`."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from .errors import ServiceError

user_cli = AppGroup("user", help="Manage users.")
demo_cli = AppGroup("demo", help="Demo data.")
divisions_cli = AppGroup("divisions", help="China's administrative divisions (GB/T 2260).")


@user_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(["organiser", "presenter", "attendee"]))
@click.option("--organisation", required=True, help="Found by name, or made.")
@click.option("--kind", type=click.Choice(["city_bureau", "park", "enterprise", "agency"]))
@click.option("--city")
@click.option("--country", help="ISO 3166-1 alpha-2; default CN for a new organisation.")
@click.option("--timezone", "tz", help="IANA zone; default HOST_TIMEZONE.")
@click.option("--locale", type=click.Choice(["zh", "en"]))
@click.option("--password-stdin", is_flag=True, required=True, help="Read the password from standard input.")
def create_user_command(email, name, role, organisation, kind, city, country, tz, locale, password_stdin):
    """Create a user; the password is read from standard input, never from the command line."""
    from .accounts.services import create_user

    password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = create_user(
            None, email=email, name=name, role=role, organisation=organisation, password=password,
            kind=kind, city=city, country=country, timezone=tz, locale=locale,
        )
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Created {user.role} {user.email} (id {user.id}) in {user.organisation.name}.")


@demo_cli.command("seed")
def demo_seed_command():
    """Fill the database with a realistic demo province (development only)."""
    if not (current_app.config.get("DEVELOPMENT") or current_app.config.get("TESTING")):
        raise click.ClickException("demo seed runs only in development (CLOUDFAIR_ENV=development).")
    from .demo import seed

    accounts = seed(current_app.config["DEMO_PASSWORD"])
    click.echo("Demo accounts (password: DEMO_PASSWORD, default 'demo'):")
    for role, email, name in accounts:
        click.echo(f"  {role:10} {email:40} {name}")


@divisions_cli.command("map-cities")
@click.option("--dry-run", is_flag=True, help="Report what would be mapped; change nothing.")
def map_cities_command(dry_run):
    """Point organisations in China without a division to the one their city (or name) names; list the rest."""
    from .extensions import db
    from .reference.divisions import index, map_organisation_cities
    from .reference.services import ensure_divisions

    ensure_divisions()
    result = map_organisation_cities(db.session.connection(), index(), dry_run=dry_run)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    for org_id, code, name_zh in result.mapped:
        click.echo(f"{'would map' if dry_run else 'mapped'} organisation {org_id} to {code} {name_zh}")
    for line in result.report_lines():
        click.echo(line)


def register_cli(app: Flask) -> None:
    app.cli.add_command(divisions_cli)
    app.cli.add_command(user_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(scheduler_cli)


@click.command("scheduler")
@click.option("--run-due", is_flag=True, help="Run every job that is due now, once, and exit.")
@with_appcontext
def scheduler_cli(run_due: bool) -> None:
    """The scheduler process: reminders, status changes, series fairs, mail, heartbeat."""
    from flask import current_app

    from .jobs import make_scheduler
    from .jobs import run_due as run_all

    app = current_app._get_current_object()
    if run_due:
        for job_id, result in run_all(app).items():
            click.echo(f"{job_id}: {result}")
        return
    scheduler = make_scheduler(app)
    click.echo("CloudFair scheduler running; Ctrl+C to stop.")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
