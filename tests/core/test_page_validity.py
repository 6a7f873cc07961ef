"""Every page CloudFair serves, for each role, is valid HTML by the W3C Nu HTML Checker: the pages of
the permission table's world, rendered by the test client, checked in one run."""

from __future__ import annotations

import pytest

from tests.page_validity import report, validate, vnu_missing
from tests.test_permissions import DEV_PAGES, PAGES, ROLES, _fill, browser_for, world  # noqa: F401 (fixture)


def test_every_page_validates(app, world):  # noqa: F811
    missing = vnu_missing()
    if missing:
        pytest.skip(missing)
    app.config["DEV_MAIL_PAGE"] = True
    pages: dict[str, str] = {}
    for role in ROLES:
        client, _token = browser_for(app, world["users"].get(role))
        for row in PAGES + DEV_PAGES:
            if row.method != "GET":
                continue
            path = _fill(row.path, world["ids"])
            response = client.get(path)
            if response.status_code == 200 and response.mimetype == "text/html":
                pages[f"{role} {path}"] = response.get_data(as_text=True)
        # An error page and a form that was refused, too.
        pages[f"{role} 404"] = client.get("/fairs/999999").get_data(as_text=True)
    assert len(pages) > 80
    errors = validate(pages)
    assert not errors, report(errors)
