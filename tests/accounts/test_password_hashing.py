"""Passwords are stored with a strong method outside tests; the tests' cheap one never leaks out."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

import config
from app import create_app
from app.accounts import services
from app.accounts.models import User
from app.errors import Unauthorized
from app.extensions import db
from tests.conftest import make_test_config
from tests.factories import PASSWORD, make_user

ROOT = Path(__file__).resolve().parents[2]


def test_production_and_development_store_passwords_with_scrypt():
    """Read in a fresh interpreter without PASSWORD_HASH_METHOD, as a deployment starts."""
    env = {k: v for k, v in os.environ.items() if k != "PASSWORD_HASH_METHOD"}
    code = "import config; print(config.Config.PASSWORD_HASH_METHOD, config.DevelopmentConfig.PASSWORD_HASH_METHOD)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["scrypt", "scrypt"]
    assert config.TestConfig.PASSWORD_HASH_METHOD != "scrypt"  # the one cheap setting is the tests'


def test_a_password_saved_under_production_settings_is_scrypt(tmp_path):
    strong = create_app(make_test_config(UPLOAD_DIR=str(tmp_path), PASSWORD_HASH_METHOD=config.Config.PASSWORD_HASH_METHOD))
    with strong.app_context():
        user = make_user()
        stored = db.session.scalar(select(User.password_hash).where(User.id == user.id))
        assert stored.startswith("scrypt:") and PASSWORD not in stored
        assert services.authenticate(user.email, PASSWORD).id == user.id
        with pytest.raises(Unauthorized):
            services.authenticate("nobody@example.org", PASSWORD)  # checked against a scrypt dummy
        db.session.remove()
        db.engine.dispose()


def test_the_tests_cheap_hash_checks_and_refuses_and_a_stored_scrypt_hash_still_checks(app):
    user = make_user()
    stored = db.session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored.startswith("pbkdf2:sha256:1$") and PASSWORD not in stored
    assert services.authenticate(user.email, PASSWORD).id == user.id
    for wrong in ("", PASSWORD.upper(), "nope"):
        with pytest.raises(Unauthorized):
            services.authenticate(user.email, wrong)

    user.password_hash = generate_password_hash("another long phrase", method="scrypt")
    db.session.commit()
    assert services.authenticate(user.email, "another long phrase").id == user.id
    with pytest.raises(Unauthorized):
        services.authenticate(user.email, PASSWORD)
