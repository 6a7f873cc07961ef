"""What the organisation tests share: counting organisations, and a create the API refuses."""

from __future__ import annotations

from sqlalchemy import func, select

from app.accounts.models import Organisation
from app.extensions import db


def organisation_count() -> int:
    return db.session.scalar(select(func.count(Organisation.id)))


def refused_organisation(client, headers: dict, body: dict) -> dict:
    """POST /api/v1/organisations with `body`, which the API refuses (422) without storing anything;
    returns the error's details."""
    before = organisation_count()
    response = client.post("/api/v1/organisations", headers=headers, json=body)
    assert response.status_code == 422, response.json
    assert organisation_count() == before
    return response.json["error"]["details"]
