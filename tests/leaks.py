"""Find English words and raw codes in what a Chinese reader is shown (tests/test_walk_zh.py).

A page or mail is read as a person reads it: its text and the attributes that are read aloud or shown
(title, placeholder, aria-label, alt, a button's value). Left out are what is meant to stay as it is:
elements marked `translate="no"`, text in another language marked `lang="en"` (the fallback of bilingual
content), code samples (`<code>`, `<kbd>`, `<pre>`), scripts and styles; and, inside the text, what
people typed (names, titles, notes: `DataStrings`, taken from the database), e-mail addresses, web
addresses, time-zone names, amounts' currency codes and numbers. Any Latin word left is a leak.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from babel.numbers import list_currencies

#: Words that are the same in a Chinese interface: names of products, formats and standards.
ALLOWED_WORDS = frozenset({
    "CloudFair", "CSV", "UTF", "GB18030", "Excel", "PDF", "PNG", "JPEG", "JPG", "WebP", "GIF", "API", "URL", "UTC",
    "ISO", "IANA", "iCalendar", "ICS", "JSON", "HTTP", "HTTPS", "Word", "PowerPoint", "Outlook", "Google", "Apple",
    "Zoom", "Teams", "WeChat", "English", "ID", "HH", "MM", "YYYY", "DD", "GMP", "PPT", "PPTX", "DOCX", "XLSX",
    "Chromium", "Chrome", "Firefox", "Safari", "Edge", "OK", "IP", "Thunderbird", "Ctrl", "Mac", "JavaScript",
    "KB", "MB", "GB", "RRULE", "RFC",
    # Examples of what may be typed in English, given as such ("New York or Shanghai", "Baoding, Beijing").
    "New", "York", "Shanghai", "Baoding", "Beijing",
})
CURRENCIES = frozenset(list_currencies())

_SKIP_TAGS = {"script", "style", "code", "kbd", "pre", "samp", "template", "svg", "math"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_READ_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")

_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_URL = re.compile(r"(?:https?|webcal|wss?)://\S+|www\.\S+|(?<![\w/])/[\w\-./?=&%#]*[\w/]")
_ZONE = re.compile(r"\b(?:Africa|America|Antarctica|Arctic|Asia|Atlantic|Australia|Europe|Indian|Pacific|Etc)"
                   r"/[A-Za-z_\-]+(?:/[A-Za-z_\-]+)?|\bUTC(?:[+\-−]\d{1,2}(?::\d\d)?)?")
_FILE = re.compile(r"[\w\-.()\[\] ]+\.(?:pdf|png|jpe?g|webp|gif|docx?|pptx?|xlsx?|csv|ics|txt|zip)\b", re.I)
#: File types and units as written everywhere: ".ics", "UTF-8", "YYYY-MM-DD", "50 MB", "MP4".
_FORMAT = re.compile(r"(?<![\w])\.[a-z]{2,4}\b|\bUTF-8\b|\b(?:YYYY-MM-DD|HH:MM)\b|\b\d+(?:\.\d+)?\s?(?:[KMG]B|bytes?)\b|\bMP4\b")
#: A recurrence rule is a code sample wherever it is shown (the series form's advanced field).
_RRULE = re.compile(r"\bFREQ=[A-Z0-9;=,+\-]+")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_'\-]*")


@dataclass
class Leak:
    where: str
    word: str
    context: str

    def __str__(self) -> str:
        return f"{self.where}: {self.word!r} in {self.context!r}"


class DataStrings:
    """What people typed, to be taken out of a text before it is checked: the longest first, so that
    "Bavaria Invest Partners" goes as a whole before "Bavaria" would."""

    def __init__(self, values):
        kept = sorted({v.strip() for v in values if isinstance(v, str) and len(v.strip()) >= 2},
                      key=len, reverse=True)
        self._values = kept
        # Whole words only: a typed "JP" must not eat into "JPEG".
        self._pattern = (re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(re.escape(v) for v in kept) + r")(?![A-Za-z0-9])")
                         if kept else None)

    @property
    def values(self) -> list[str]:
        return list(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def remove(self, text: str) -> str:
        return self._pattern.sub(" ", text) if self._pattern else text


def leaks_in_text(text: str, where: str, data: DataStrings | None = None) -> list[Leak]:
    """The Latin words in `text` that are neither typed by people nor allowed."""
    if not re.search(r"[A-Za-z]", text):
        return []
    rest = text
    for pattern in (_EMAIL, _URL, _ZONE, _FILE, _FORMAT, _RRULE):
        rest = pattern.sub(" ", rest)
    rest = data.remove(rest) if data else rest
    found = []
    for match in _WORD.finditer(rest):
        word = match.group(0).strip("'-")
        if len(word) < 2 or word in ALLOWED_WORDS or word in CURRENCIES:
            continue
        start = max(match.start() - 30, 0)
        found.append(Leak(where, word, rest[start:match.end() + 30].strip()))
    return found


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, skipped)
        self.texts: list[str] = []

    @property
    def skipping(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        lang = (attributes.get("lang") or "").lower()
        skipped = (self.skipping or tag in _SKIP_TAGS or attributes.get("translate") == "no"
                   or (lang and not lang.startswith("zh")))
        if not skipped:
            for name in _READ_ATTRIBUTES:
                if attributes.get(name):
                    self.texts.append(attributes[name])
            if tag == "input" and attributes.get("type") in ("submit", "button", "reset") and attributes.get("value"):
                self.texts.append(attributes["value"])
        if tag not in _VOID:
            self.stack.append((tag, skipped))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.texts.append(data)


def readable_texts(html: str) -> list[str]:
    """The texts and read attributes of a page that a reader sees, without the parts left out (above)."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.texts


def leaks_in_html(html: str, where: str, data: DataStrings | None = None) -> list[Leak]:
    found = []
    for text in readable_texts(html):
        found += leaks_in_text(" ".join(text.split()), where, data)
    return found


def strings_in(value) -> list[str]:
    """Every string inside a JSON-like value (lists of aliases, bilingual {"zh": …, "en": …} pairs)."""
    if isinstance(value, str):
        try:
            parsed = json.loads(value) if value[:1] in "[{" else None
        except ValueError:
            parsed = None
        return strings_in(parsed) + [value] if parsed is not None else [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in strings_in(v)]
    return []
