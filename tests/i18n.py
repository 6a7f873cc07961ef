"""Chinese as the catalogue has it, for tests that check a page or message in Chinese."""

from __future__ import annotations

import re

from flask_babel import force_locale, gettext

CJK = re.compile(r"[\u4e00-\u9fff]")


def zh(msgid: str, **values) -> str:
    """The catalogue's Chinese for `msgid`, as a page would show it; fails if there is none."""
    with force_locale("zh"):
        text = gettext(msgid, **values)
    assert CJK.search(text), f"no Chinese for {msgid!r}"
    return text
