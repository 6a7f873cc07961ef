"""Finding China's administrative divisions (GB/T 2260) from what people write.

People write a place as "石家庄", "石家庄市", "Shijiazhuang", "Shijiazhuang City", "shi jia zhuang",
"Chang'an District" or "changan qu". Every spelling is folded to one key (`fold`): Unicode NFKC,
case-folded, without spaces, apostrophes, dots and hyphens. Each division is known under the keys of
its Chinese name, English name, toneless pinyin and aliases, and of the Chinese and English names
without their suffix (市/区/县/省, City/District/County), as long as at least two characters remain.

A short name may belong to several divisions: "桥西" is a district of Shijiazhuang and one of
Zhangjiakou; "承德" is a prefecture-level city and a county inside it. When one of the candidates is
a prefecture-level city (or a province) and the others lie deeper, the city wins; otherwise the name
is ambiguous and `match_division` answers None (`division_candidates` lists them for a message).

The index is built once per process from the `divisions` table (which only the seed data fills), as
plain tuples: matching costs no query; only the Division rows returned are loaded.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field

from sqlalchemy import select

from ..extensions import db
from .models import Division

LEVEL_ORDER = {"province": 0, "prefecture": 1, "county": 2}
_ZH_SUFFIXES = ("特别行政区", "自治区", "自治县", "地区", "省", "市", "区", "县")
_EN_SUFFIXES = ("specialadministrativeregion", "autonomousregion", "autonomouscounty", "miningdistrict",
                "municipality", "prefecture", "province", "district", "county", "city")
#: Pinyin suffixes, tried only on what people type ("shijiazhuang shi"), never to make keys ("yuanshi").
_PINYIN_SUFFIXES = ("sheng", "shi", "xian", "qu")
_DROP = re.compile(r"[\s'’‘`ʼ.\-_·•,，()（）]+")
_CJK = re.compile(r"[\u3400-\u9fff]")


def fold(text: object) -> str:
    """The key a spelling is compared by: "Chang'an  District" → "changandistrict"."""
    if not isinstance(text, str):
        return ""
    return _DROP.sub("", unicodedata.normalize("NFKC", text).casefold())


def _strip_suffix(key: str, suffixes: tuple[str, ...]) -> str | None:
    for suffix in suffixes:
        if key.endswith(suffix) and len(key) - len(suffix) >= (2 if _CJK.match(key) else 3):
            return key[: -len(suffix)]
    return None


def _within_prefix(code: str | None) -> str:
    if not code:
        return ""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


@dataclass(frozen=True)
class Entry:
    code: str
    level: str
    parent_code: str | None
    name_zh: str
    name_en: str
    pinyin: str
    aliases: tuple[str, ...]
    #: The folded spellings searched by prefix (names, pinyin, aliases).
    spellings: tuple[str, ...] = ()


@dataclass
class DivisionIndex:
    """Folded spellings to division codes, and the terms that find a place inside an organisation's name."""

    entries: dict[str, Entry] = field(default_factory=dict)
    keys: dict[str, set[str]] = field(default_factory=dict)
    #: Chinese terms (full names; the bare name of provinces, cities and 3+ character counties).
    zh_terms: dict[str, set[str]] = field(default_factory=dict)
    #: English terms, lower case with single spaces ("shijiazhuang", "zhengding county").
    en_terms: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows) -> "DivisionIndex":
        """Build from mappings with the Division columns (table rows or the seed file's rows)."""
        index = cls()
        for row in rows:
            aliases = tuple(row["aliases"] or ())
            spellings = tuple(dict.fromkeys(
                k for k in (fold(row["name_zh"]), fold(row["name_en"]), row["pinyin"], *map(fold, aliases)) if k))
            entry = Entry(row["code"], row["level"], row["parent_code"], row["name_zh"], row["name_en"],
                          row["pinyin"], aliases, spellings)
            index.entries[entry.code] = entry
            keys = set(spellings)
            for key in spellings:
                stripped = _strip_suffix(key, _ZH_SUFFIXES if _CJK.match(key) else _EN_SUFFIXES)
                if stripped:
                    keys.add(stripped)
            for key in keys:
                index.keys.setdefault(key, set()).add(entry.code)
            index._add_terms(entry)
        return index

    def _add_terms(self, entry: Entry) -> None:
        zh = {entry.name_zh}
        en = {_words(entry.name_en)}
        core_zh = _strip_suffix(entry.name_zh, _ZH_SUFFIXES)
        core_en = re.sub(r" (city|district|county|mining district|autonomous county)$", "", _words(entry.name_en))
        if entry.level != "county" or (core_zh and len(core_zh) >= 3):
            zh |= {core_zh, *(a for a in entry.aliases if _CJK.match(a))} - {None}
        if entry.level != "county":
            en |= {core_en, *(_words(a) for a in entry.aliases if not _CJK.match(a))}
        for term in zh:
            self.zh_terms.setdefault(term, set()).add(entry.code)
        for term in en:
            if len(term) >= 4:
                self.en_terms.setdefault(term, set()).add(entry.code)

    # ------------------------------------------------------------ lookups

    def candidates(self, text: object, *, within: str | None = None) -> list[str]:
        """Codes the text may mean (best first); one code when it is unambiguous."""
        key = fold(text)
        if not key:
            return []
        prefix = _within_prefix(within)
        found: set[str] = set()
        for variant in (key, _strip_suffix(key, _ZH_SUFFIXES + _EN_SUFFIXES + _PINYIN_SUFFIXES)):
            if variant:
                found = {c for c in self.keys.get(variant, ()) if c.startswith(prefix)}
                if found:
                    break
        return self._prefer(found)

    def _prefer(self, codes: set[str]) -> list[str]:
        ordered = sorted(codes, key=lambda c: (LEVEL_ORDER[self.entries[c].level], c))
        if len(ordered) > 1:
            top = [c for c in ordered if self.entries[c].level == self.entries[ordered[0]].level]
            if len(top) == 1 and self.entries[top[0]].level != "county":
                return top
        return ordered

    def match(self, text: object, *, within: str | None = None) -> str | None:
        found = self.candidates(text, within=within)
        return found[0] if len(found) == 1 else None

    def from_organisation_name(self, name: object) -> str | None:
        """The division an organisation's name names ("石家庄市商务局" → 130100), else None.

        A county found by its full name (or a bare name of three or more characters) beats the city
        it lies in; a county name shared by several places is resolved by a city named beside it.
        """
        if not isinstance(name, str) or not name.strip():
            return None
        text = unicodedata.normalize("NFKC", name)
        padded = f" {_words(text)} "
        found: set[str] = set()
        for term, codes in self.zh_terms.items():
            if term in text:
                found |= codes
        for term, codes in self.en_terms.items():
            if f" {term} " in padded:
                found |= codes
        by_level = {level: {c for c in found if self.entries[c].level == level} for level in LEVEL_ORDER}
        counties = by_level["county"]
        if by_level["prefecture"]:
            counties = {c for c in counties if self.entries[c].parent_code in by_level["prefecture"]}
        for level_codes in (counties, by_level["prefecture"], by_level["province"]):
            if len(level_codes) == 1:
                return next(iter(level_codes))
            if len(level_codes) > 1:
                return None
        return None

    def search(self, q: object, *, level: str | None = None, parent: str | None = None) -> list[str]:
        """Codes whose names, pinyin or aliases equal, start with or contain `q`, best first."""
        needle = fold(q)
        ranked = []
        for entry in self.entries.values():
            if (level and entry.level != level) or (parent and entry.parent_code != parent):
                continue
            if not needle:
                rank = 0
            elif needle in entry.spellings:
                rank = 0
            elif any(s.startswith(needle) for s in entry.spellings):
                rank = 1
            elif any(needle in s for s in entry.spellings):
                rank = 2
            else:
                continue
            ranked.append((rank, LEVEL_ORDER[entry.level], entry.code))
        return [code for *_, code in sorted(ranked)]

    def suggestions(self, text: object, limit: int = 3) -> list[str]:
        """Up to `limit` codes spelled like `text`, for a message when nothing matched."""
        key = fold(text)
        if not key:
            return []
        codes = list(dict.fromkeys(self.search(key)))
        for close in difflib.get_close_matches(key, self.keys.keys(), n=limit * 3, cutoff=0.6):
            codes.extend(sorted(self.keys[close]))
        return list(dict.fromkeys(codes))[:limit]


def _words(text: str) -> str:
    """Lower case, apostrophes dropped, anything else between letters as one space."""
    text = re.sub(r"['’‘`ʼ]", "", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


# ---------------------------------------------------------------- the process's index

_INDEX: dict[str, DivisionIndex] = {}


def index() -> DivisionIndex:
    """The index over the `divisions` table, built on first use (not kept while the table is empty)."""
    built = _INDEX.get("index")
    if built is None:
        columns = (Division.code, Division.level, Division.parent_code, Division.name_zh, Division.name_en,
                   Division.pinyin, Division.aliases)
        rows = [row._mapping for row in db.session.execute(select(*columns).order_by(Division.code))]
        built = DivisionIndex.from_rows(rows)
        if rows:
            _INDEX["index"] = built
    return built


def forget_index() -> None:
    """Rebuild the index on next use (after the table changed)."""
    _INDEX.clear()


def _load(codes: list[str]) -> list[Division]:
    if not codes:
        return []
    by_code = {d.code: d for d in db.session.scalars(select(Division).where(Division.code.in_(codes)))}
    return [by_code[c] for c in codes if c in by_code]


def get_division(code: object) -> Division | None:
    return db.session.get(Division, code) if isinstance(code, str) and code in index().entries else None


def match_division(text: object, *, within: str | None = None) -> Division | None:
    """The one division `text` names (Chinese, English, pinyin or an alias), else None (unknown or ambiguous).

    `within`: a province or prefecture code the answer must lie in ("桥西", within="130100").
    """
    code = index().match(text, within=within)
    return db.session.get(Division, code) if code else None


def division_candidates(text: object, *, within: str | None = None) -> list[Division]:
    """Every division `text` may name, best first (several when it is ambiguous)."""
    return _load(index().candidates(text, within=within))


def city_from_organisation_name(name: object) -> Division | None:
    """The division an organisation's name implies ("石家庄市商务局" → Shijiazhuang), else None."""
    code = index().from_organisation_name(name)
    return db.session.get(Division, code) if code else None


def search_divisions(q: object = None, limit: int = 20, *, level: str | None = None,
                     parent: str | None = None) -> tuple[list[Division], int]:
    """Divisions matching `q` in Chinese, English or pinyin (exact, then prefix, then anywhere), and the total."""
    codes = index().search(q, level=level, parent=parent)
    return _load(codes[:limit]), len(codes)


def suggest_divisions(text: object, limit: int = 3) -> list[Division]:
    return _load(index().suggestions(text, limit))


def hebei_choices(locale: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Hebei's cities, each with itself and its counties, for a grouped picker: [(city name, [(code, label)])]."""
    entries = index().entries
    groups = []
    for city in sorted((e for e in entries.values() if e.parent_code == "130000"), key=lambda e: e.code):
        name = city.name_zh if locale == "zh" else city.name_en
        options = [(city.code, name)]
        options += [(e.code, e.name_zh if locale == "zh" else e.name_en)
                    for e in sorted(entries.values(), key=lambda e: e.code) if e.parent_code == city.code]
        groups.append((name, options))
    return groups


# ---------------------------------------------------------------- mapping free-text cities (migration 0009, CLI)


@dataclass
class CityMapping:
    """What mapping organisations' free-text cities to divisions found: (id, code, division's Chinese
    name) for those it maps, (id, name, city) for those it cannot."""

    mapped: list[tuple[int, str, str]] = field(default_factory=list)
    unmapped: list[tuple[int, str, str | None]] = field(default_factory=list)

    def report_lines(self) -> list[str]:
        lines = [f"could not map organisation {org_id} {name!r} (city {city!r})"
                 for org_id, name, city in self.unmapped]
        lines.append(f"{len(self.mapped)} organisation(s) mapped to a division, {len(self.unmapped)} not mapped")
        return lines


def plan_city_mapping(places: DivisionIndex, organisations) -> CityMapping:
    """Match each (id, name, city) of an organisation in China to a division: its city first, else its name."""
    result = CityMapping()
    for org_id, name, city in organisations:
        code = places.match(city) if city else None
        if code is None:
            code = places.from_organisation_name(name)
        if code is None:
            result.unmapped.append((org_id, name, city))
        else:
            result.mapped.append((org_id, code, places.entries[code].name_zh))  # the city text stays
    return result


def map_organisation_cities(connection, places: DivisionIndex, *, dry_run: bool = False) -> CityMapping:
    """Set `division_code` of every organisation in China that has none, where its city or name matches (the
    free-text city stays as it was); used by migration 0009 and `flask divisions map-cities`."""
    from sqlalchemy import column, table, update

    organisations = table("organisations", column("id"), column("name"), column("city"), column("country"),
                          column("division_code"))
    rows = connection.execute(select(organisations.c.id, organisations.c.name, organisations.c.city).where(
        organisations.c.country == "CN", organisations.c.division_code.is_(None)).order_by(organisations.c.id)).all()
    result = plan_city_mapping(places, rows)
    if not dry_run:
        for org_id, code, name_zh in result.mapped:
            connection.execute(update(organisations).where(organisations.c.id == org_id)
                               .values(division_code=code))
    return result
