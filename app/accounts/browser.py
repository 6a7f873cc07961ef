"""Signing a browser in and out: a stored sign-in (`login_sessions`) behind Flask-Login's cookies."""

from __future__ import annotations

from flask_login import current_user, login_user, logout_user

from . import login_sessions
from .models import User


def log_in(user: User, *, remember: bool = False) -> None:
    """Start a sign-in and give this browser its cookies (the remember-me one only when asked)."""
    login_sessions.start(user, remember=remember)
    login_user(user, remember=remember)


def log_out() -> None:
    """End this browser's sign-in on the server too: a copy of its cookies stops working."""
    if current_user.is_authenticated:
        login_sessions.revoke(getattr(current_user, "login_key", None))
    logout_user()
