"""Checks and names for countries, currencies, time zones and sectors; the seeded divisions."""

from __future__ import annotations

import csv
import re
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale
from babel.numbers import list_currencies
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import insert, select, update

from ..audiences import require_role
from ..errors import Conflict, ValidationFailed
from ..extensions import db
from .models import Division, Sector

#: The taxonomy every installation starts with (the migration seeds the same rows).
DEFAULT_SECTORS = [
    ("new_materials", "New materials", "新材料"),
    ("biomedicine_health", "Biomedicine & health", "生物医药健康"),
    ("energy_saving_environment", "Energy saving & environmental protection", "节能环保"),
    ("ice_snow", "Ice & snow industry", "冰雪产业"),
    ("information_intelligence", "Information & intelligent technology", "信息智能"),
    ("high_end_equipment", "High-end equipment manufacturing", "高端装备制造"),
    ("modern_logistics", "Modern commerce & logistics", "现代商贸物流"),
]

#: Babel's territory keys that are not ISO 3166-1 alpha-2 countries: groupings, private-use codes and
#: the "exceptionally reserved" codes of islands that belong to another country (Ascension, Clipperton,
#: Sark, Diego Garcia, Ceuta & Melilla, the Canaries, Tristan da Cunha), which pickers showed as "CQ (CQ)".
_NOT_ISO_3166 = {"EU", "EZ", "UN", "QO", "XA", "XB", "XK", "ZZ", "AC", "CP", "CQ", "DG", "EA", "IC", "TA"}


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    territories = Locale("en").territories
    return frozenset(
        code for code in territories if re.fullmatch(r"[A-Z]{2}", code) and code not in _NOT_ISO_3166
    )


def country_name(code: str, locale: str = "en") -> str:
    return Locale("zh" if locale == "zh" else "en").territories.get(code, code)


def collation_key(name: str, locale: str) -> tuple:
    """How lists of names are sorted for people: by pinyin in Chinese (德国 between 丹麦 and 俄罗斯, as a
    Chinese reader looks for it, not by character code), case- and accent-insensitively in English."""
    import unicodedata

    if locale == "zh":
        from pypinyin import Style, lazy_pinyin

        return (" ".join(lazy_pinyin(name, style=Style.TONE3, errors="default")).casefold(), name)
    plain = unicodedata.normalize("NFKD", name)
    return ("".join(ch for ch in plain if not unicodedata.combining(ch)).casefold(), name)


@lru_cache(maxsize=4)
def _country_choices(locale: str) -> tuple[tuple[str, str], ...]:
    names = {code: country_name(code, locale) for code in country_codes()}
    return tuple(sorted(names.items(), key=lambda item: collation_key(item[1], locale)))


def country_choices(locale: str = "en") -> list[tuple[str, str]]:
    """(code, name) for every country, named and sorted in `locale` (pinyin order in Chinese)."""
    return list(_country_choices("zh" if locale == "zh" else "en"))


def language_name(code: str, locale: str = "en") -> str:
    """A language code ("de", "pt-BR") as the reader names the language ("德语"); an unknown code as it is."""
    from babel import Locale as BabelLocale
    from babel.core import UnknownLocaleError

    try:
        return BabelLocale.parse(code.replace("-", "_")).get_display_name("zh" if locale == "zh" else "en") or code
    except (ValueError, UnknownLocaleError):
        return code


@lru_cache(maxsize=1)
def _language_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for locale in ("en", "zh"):
        for code, name in Locale(locale).languages.items():
            if re.fullmatch(r"[a-z]{2,3}", code):
                names.setdefault(name.casefold(), code)
    names.update({"中文": "zh", "汉语": "zh", "普通话": "zh", "英文": "en", "德文": "de", "法文": "fr"})
    return names


@lru_cache(maxsize=1)
def language_codes() -> frozenset[str]:
    """The language codes a profile takes (ISO 639 codes Babel names), as the document lists them."""
    from babel.core import UnknownLocaleError

    codes = set()
    for code in Locale("en").languages:
        if re.fullmatch(r"[a-z]{2,3}", code):
            try:
                Locale.parse(code)
            except (ValueError, UnknownLocaleError):
                continue
            codes.add(code)
    return frozenset(codes)


def language_code(text: str) -> str:
    """What a person typed for a language ("German", "德语", "de") as its code; else the text itself,
    for the settings schema (`app/accounts/schemas.py: LanguageList`) to refuse."""
    folded = " ".join(text.split()).casefold()
    return _language_names().get(folded, text.strip())


def _listed_code(code: object, codes: frozenset[str], field: str, message) -> str:
    """The upper-cased `code` when it is one of `codes`; else 422 naming `field` with `message`."""
    if not isinstance(code, str) or code.upper() not in codes:
        raise ValidationFailed({field: str(message)})
    return code.upper()


def check_country(code: object, field: str = "country") -> str:
    """Return the upper-cased ISO 3166-1 alpha-2 code or raise 422 naming `field`."""
    return _listed_code(code, country_codes(), field,
                        _l("%(code)s is not an ISO 3166-1 alpha-2 country code.", code=repr(code)))


@lru_cache(maxsize=1)
def currency_codes() -> frozenset[str]:
    return frozenset(list_currencies())


def check_currency(code: object, field: str = "currency") -> str:
    """Return the upper-cased ISO 4217 code or raise 422 naming `field`."""
    return _listed_code(code, currency_codes(), field, _l("%(code)s is not an ISO 4217 currency code.", code=repr(code)))


@lru_cache(maxsize=1)
def timezone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(name: object, field: str = "timezone") -> str:
    """Return the IANA zone name or raise 422 naming `field`."""
    if not isinstance(name, str) or name not in timezone_names():
        raise ValidationFailed({field: gettext("%(name)s is not a known IANA time zone.", name=repr(name))})
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed({field: gettext("%(name)s is not a known IANA time zone.", name=repr(name))}) from None
    return name


#: The areas of the IANA names people pick from; the rest are aliases and legacy names ("US/Eastern",
#: "Etc/GMT+5" with its inverted sign), still accepted when typed.
_ZONE_AREAS = ("Africa/", "America/", "Antarctica/", "Arctic/", "Asia/", "Atlantic/", "Australia/", "Europe/",
               "Indian/", "Pacific/")


@lru_cache(maxsize=1)
def pickable_timezones() -> tuple[str, ...]:
    return tuple(sorted(n for n in timezone_names() if n.startswith(_ZONE_AREAS) or n == "UTC"))


@lru_cache(maxsize=None)
def _zone(name: str) -> ZoneInfo:
    """ZoneInfo keeps only the last few zones alive: listing ~600 offsets would read ~600 files each time."""
    return ZoneInfo(name)


def utc_offset(zone: str, at: datetime | None = None) -> tuple[str, int]:
    """The zone's offset from UTC at `at` (default: now), as "+01:00" and in minutes."""
    moment = (at or datetime.now(timezone.utc)).astimezone(_zone(zone))
    minutes = int(moment.utcoffset().total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}", minutes


def search_timezones(q: str | None = None, *, at: datetime | None = None) -> list[dict]:
    """IANA zones whose name or current offset matches `q` ("berl", "new york", "+08:00"), each with its
    offset from UTC at `at` (default: now, so daylight saving time is taken into account).

    Zones whose city starts with `q` come first; an exact zone name is found even outside the usual areas.
    """
    needle = " ".join((q or "").split()).casefold()
    as_name = needle.replace(" ", "_")
    names = list(pickable_timezones())
    if needle and needle not in {n.casefold() for n in names}:
        names += [n for n in timezone_names() if n.casefold() == needle]
    items = []
    for name in names:
        offset, minutes = utc_offset(name, at)
        label = f"UTC{offset}"
        if needle:
            short = f"utc{offset[0]}{int(offset[1:3])}" + (offset[3:] if offset[4:] != "00" else "")
            if as_name not in name.casefold() and needle not in label.casefold() and needle != short:
                continue
        items.append({"name": name, "offset": offset, "offset_minutes": minutes, "label": f"{name} ({label})"})
    if needle:
        items.sort(key=lambda item: (not item["name"].rsplit("/", 1)[-1].casefold().startswith(as_name), item["name"]))
    return items


def list_sectors() -> list[Sector]:
    return list(db.session.scalars(select(Sector).order_by(Sector.id)))


def sector_codes() -> set[str]:
    return set(db.session.scalars(select(Sector.code)))


def check_sectors(codes: list[str], field: str = "focus_sectors") -> list[str]:
    known = sector_codes()
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise ValidationFailed({field: gettext("Unknown sector code(s): %(codes)s.", codes=", ".join(map(str, unknown)))})
    return list(dict.fromkeys(codes))


#: A sector's code (the document states it as the field's pattern).
SECTOR_CODE = r"^[a-z][a-z0-9_]{1,49}$"


def create_sector(actor, code: str, name_en: str, name_zh: str) -> Sector:
    """Add a sector to the taxonomy (organisers)."""
    require_role(actor, "organiser")
    if not re.fullmatch(SECTOR_CODE, code or ""):
        raise ValidationFailed({"code": gettext("Use lower-case letters, digits and underscores.")})
    if db.session.scalar(select(Sector).where(Sector.code == code)):
        raise Conflict(gettext("Sector %(code)s already exists.", code=code), code="already_exists")
    sector = Sector(code=code, name_en=name_en.strip(), name_zh=name_zh.strip())
    db.session.add(sector)
    db.session.commit()
    return sector


def ensure_default_sectors() -> None:
    """Insert the default taxonomy where missing (tests build tables without migrations)."""
    existing = sector_codes()
    for code, en, zh in DEFAULT_SECTORS:
        if code not in existing:
            db.session.add(Sector(code=code, name_en=en, name_zh=zh))
    db.session.commit()


# ---------------------------------------------------------------- administrative divisions (GB/T 2260)

#: Hebei's province, prefecture-level cities and county-level divisions, and every other provincial-level
#: division; the migration 0009 and `ensure_divisions` insert the same rows.
DIVISIONS_CSV = Path(__file__).resolve().parent / "data" / "divisions.csv"
_DIVISION_COLUMNS = ("code", "level", "parent_code", "name_zh", "name_en", "pinyin", "aliases")


@lru_cache(maxsize=1)
def division_rows() -> tuple[dict, ...]:
    """The seeded divisions as plain dicts, parents before children (read once per process)."""
    with DIVISIONS_CSV.open(encoding="utf-8", newline="") as handle:
        rows = []
        for row in csv.DictReader(handle):
            rows.append({
                "code": row["code"], "level": row["level"], "parent_code": row["parent_code"] or None,
                "name_zh": row["name_zh"], "name_en": row["name_en"], "pinyin": row["pinyin"],
                "aliases": [a for a in row["aliases"].split("|") if a],
            })
    return tuple(rows)


def ensure_divisions() -> None:
    """Insert the seeded divisions where missing and correct changed ones (idempotent; one bulk insert)."""
    rows = division_rows()
    existing = {
        code: (level, parent, zh, en, py, list(aliases or []))
        for code, level, parent, zh, en, py, aliases in db.session.execute(select(
            Division.code, Division.level, Division.parent_code, Division.name_zh, Division.name_en,
            Division.pinyin, Division.aliases))
    }
    missing = [row for row in rows if row["code"] not in existing]
    if missing:
        db.session.execute(insert(Division), missing)
    for row in rows:
        current = existing.get(row["code"])
        if current is not None and current != tuple(row[c] for c in _DIVISION_COLUMNS[1:]):
            db.session.execute(update(Division).where(Division.code == row["code"])
                               .values({c: row[c] for c in _DIVISION_COLUMNS[1:]}))
    db.session.commit()
