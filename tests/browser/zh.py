"""The Chinese interface's words, read from the catalogue rather than copied into the tests.

`zh("Log out")` is the catalogue's translation of that msgid: app/translations/zh/LC_MESSAGES/messages.po,
then, for msgids not there yet, the fragments in /tmp/i18n/*.po that translators hand in before they are
merged. A msgid with no translation anywhere fails the test that asks for it, naming the msgid; tests that read
Chinese words skip (`require_merged_catalogue`) only while the app's catalogue holds no translation at all.
"""

from __future__ import annotations

import glob
from functools import cache
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parents[2] / "app" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
FRAGMENTS = "/tmp/i18n/*.po"


class Untranslated(AssertionError):
    pass


@cache
def catalogue() -> dict[tuple[str | None, str], str | tuple[str, ...]]:
    """(msgctxt, msgid) → msgstr (a tuple for plurals), the catalogue's entries winning over the fragments'."""
    from babel.messages.pofile import read_po

    found: dict = {}
    for path in [CATALOGUE, *sorted(glob.glob(FRAGMENTS))]:
        if not Path(path).is_file():
            continue
        with open(path, "rb") as handle:
            for message in read_po(handle, locale="zh"):
                if not message.id or "fuzzy" in message.flags:
                    continue
                key = (message.context, message.id[0] if isinstance(message.id, tuple) else message.id)
                value = message.string
                if key not in found and value and (all(value) if isinstance(value, tuple) else True):
                    found[key] = value
    return found


def zh(msgid: str, n: int | None = None, *, context: str | None = None, **values) -> str:
    """The Chinese for `msgid` (in `context`, as pgettext), its %(name)s placeholders filled from `values`.

    For plurals pass the singular msgid and `n`: Chinese has one form, which gets `num=n`.
    """
    string = catalogue().get((context, msgid))
    if string is None:
        where = f" (context {context!r})" if context else ""
        raise Untranslated(f"no Chinese for {msgid!r}{where} in {CATALOGUE} nor in {FRAGMENTS}")
    if isinstance(string, tuple):
        string = string[0]
    if n is not None:
        values.setdefault("num", n)
    return string % values if values else string


def translated(msgid: str, context: str | None = None) -> bool:
    return (context, msgid) in catalogue()


@cache
def merged() -> bool:
    """Whether the app's own catalogue (what the server uses) holds any translation yet."""
    from babel.messages.pofile import read_po

    if not CATALOGUE.is_file():
        return False
    with open(CATALOGUE, "rb") as handle:
        return any(m.id and m.string for m in read_po(handle, locale="zh"))


def require_merged_catalogue() -> None:
    """Skip, saying why, while app/translations/zh has no translation at all (the fragments are not merged in).

    Once anything is merged, a missing string fails the test that needs it instead.
    """
    import pytest

    if not merged():
        pytest.skip(f"the Chinese catalogue {CATALOGUE.relative_to(CATALOGUE.parents[4])} holds no translation yet")
