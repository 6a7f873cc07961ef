"""Bulk import of people from a CSV file: decode, validate every row, plan, apply all or nothing.

A file is read as UTF-8 (with or without the BOM Excel's "CSV UTF-8" writes) or, failing that, as
GB18030 (what Chinese Excel's plain "CSV" writes); comma-, semicolon- or tab-separated; with English
or Chinese column names. Every row is checked and planned against the database with a handful of
queries (the file's addresses in one IN query, all organisations in another), so a preview of
thousands of rows is quick. Applying re-reads and re-checks the file, then creates organisations
and people and updates existing people in one transaction; invitations go out after that commit,
so a failed import mails nobody.

An upload waiting for the organiser's confirmation is kept under `UPLOAD_DIR/imports/` (the bytes,
and beside them who uploaded it and its SHA-256), never in the session cookie.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from flask import current_app
from flask_babel import gettext, lazy_gettext
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from ..errors import Conflict, NotFound, ServiceError, TooLarge, UnsupportedType, ValidationFailed
from ..extensions import db
from ..reference.divisions import index as division_index
from ..reference.services import check_timezone, country_codes
from ..spreadsheets import csv_writer
from ..accounts import audit
from ..accounts.access import require_role
from ..accounts.enums import DEFAULT_KIND_FOR_ROLE, KIND_LABELS, ROLE_LABELS, Locale, OrganisationKind, Role, kind_label, role_label
from ..accounts.models import Organisation, User
from ..accounts.services import city_error, normalise_email, resolve_city

log = logging.getLogger(__name__)

#: The columns, in the order of the template file.
COLUMNS = ("name", "email", "role", "organisation", "kind", "city", "country", "timezone", "locale")
REQUIRED = ("name", "email", "role", "organisation")
DEFAULT_MAX_ROWS = 10000
#: A stored upload waiting for confirmation is removed after this long.
KEEP_SECONDS = 24 * 3600

NEW, UPDATED, UNCHANGED, INVALID = "new", "updated", "unchanged", "invalid"

#: Header spellings people use, folded (see `_fold_header`), for each column.
HEADER_ALIASES = {
    "name": {"name", "fullname", "person", "姓名", "名字", "联系人"},
    "email": {"email", "emailaddress", "mail", "邮箱", "电子邮箱", "电子邮件", "邮件", "邮箱地址", "电子邮箱地址"},
    "role": {"role", "角色"},
    "organisation": {"organisation", "organization", "org", "company", "单位", "组织", "单位/组织", "机构",
                     "单位名称", "组织名称", "所属单位"},
    "kind": {"kind", "type", "organisationkind", "organizationkind", "类型", "单位类型", "组织类型", "机构类型"},
    "city": {"city", "城市", "所在城市"},
    "country": {"country", "countrycode", "国家", "国家或地区", "国家/地区"},
    "timezone": {"timezone", "tz", "时区"},
    "locale": {"locale", "language", "lang", "语言"},
}
_HEADER_LOOKUP = {alias: column for column, aliases in HEADER_ALIASES.items() for alias in aliases}

#: Cell spellings accepted beside the codes (folded: lower case, spaces and hyphens as "_").
ROLE_ALIASES = {
    "organizer": "organiser", "组织者": "organiser", "主办方": "organiser", "管理员": "organiser",
    "推介人": "presenter", "推介方": "presenter", "演讲人": "presenter", "主讲人": "presenter",
    "海外代理": "presenter", "agent": "presenter",
    "参会者": "attendee", "参会人": "attendee", "与会者": "attendee", "观众": "attendee",
}
KIND_ALIASES = {
    "city": "city_bureau", "bureau": "city_bureau", "商务局": "city_bureau", "城市商务局": "city_bureau",
    "政府部门": "city_bureau", "园区": "park", "开发区": "park", "产业园": "park", "企业": "enterprise",
    "公司": "enterprise", "company": "enterprise", "机构": "agency", "代理机构": "agency",
    "投资促进机构": "agency", "招商机构": "agency",
}
LOCALE_ALIASES = {"中文": "zh", "汉语": "zh", "简体中文": "zh", "chinese": "zh", "英文": "en", "英语": "en",
                  "english": "en"}
#: Where a new person's language defaults to Chinese.
_CHINESE_COUNTRIES = {"CN", "TW", "HK", "MO"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: Invisible characters spreadsheets leave around cells.
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060\u00a0\u3000"
_IMPORT_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")


# ---------------------------------------------------------------- errors


class ImportInvalid(ServiceError):
    """422: some row has an error; nothing was written. `details` holds the whole report."""

    status = 422
    code = "import_invalid"

    def __init__(self, report: "ImportReport"):
        errors = len(report.errors)
        super().__init__(
            gettext("The file has %(count)s error(s); nothing was imported. Fix the rows named and upload it again.",
                    count=errors),
            details={"rows": [r.to_dict() for r in report.rows], "errors": report.errors,
                     "warnings": report.warnings, "summary": report.summary()},
        )
        self.report = report


class SimilarOrganisations(ServiceError):
    """422: a new organisation looks like an existing one and the request did not say which it is."""

    status = 422
    code = "similar_organisations"

    def __init__(self, report: "ImportReport", names: list[str]):
        super().__init__(
            gettext("%(names)s look(s) like organisations that already exist; nothing was imported. Say for each "
                    "which one it is, or that it is new, in the field map, e.g. {\"%(first)s\": 12} or "
                    "{\"%(first)s\": \"new\"}.", names=", ".join(names), first=names[0]),
            details={"fields": {"map": [gettext("Choose an existing organisation or \"new\" for: %(names)s.",
                                                names=", ".join(names))]},
                     "similar_organisations": report.similar_to_dict(), "summary": report.summary()},
        )
        self.report = report


class ImportChanged(Conflict):
    """409: the database changed since the preview, so the plan did too; show it again."""

    code = "import_changed"

    def __init__(self, report: "ImportReport"):
        super().__init__(gettext("People or organisations changed since the preview. Check the new preview and "
                                 "confirm again."), details={"summary": report.summary()})
        self.report = report


# ---------------------------------------------------------------- the report


def issue(row: int, column: str | None, value: object, message: str) -> dict:
    """One problem with a cell: `row` counted as the spreadsheet shows it (the header is row 1)."""
    return {"row": row, "column": column, "value": value, "message": message}


@dataclass
class PlannedRow:
    row: int
    #: The cells by column, tidied (codes normalised where they are valid).
    values: dict[str, str]
    email: str = ""
    outcome: str = INVALID
    #: For an existing person: {"role": {"from": "attendee", "to": "presenter"}, …}
    changes: dict[str, dict] = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    #: The folded organisation name, a key of the plan's organisations.
    organisation_key: str = ""
    new_organisation: bool = False
    user: User | None = None

    def to_dict(self) -> dict:
        return {
            "row": self.row,
            "email": self.email or self.values.get("email", ""),
            "name": self.values.get("name", ""),
            "organisation": self.values.get("organisation", ""),
            "outcome": self.outcome,
            "changes": self.changes,
            "new_organisation": self.new_organisation,
            "user_id": self.user.id if self.user is not None else None,
            "errors": self.errors,
            "warnings": self.warnings,
        }


@dataclass
class NewOrganisation:
    name: str
    kind: str
    city: str | None
    country: str
    row: int
    #: The GB/T 2260 division the city (or the name) names, for an organisation in China.
    division_code: str | None = None


@dataclass
class Lookalike:
    """A new organisation whose name looks like existing ones' in the same place and kind."""

    key: str
    name: str
    row: int
    #: (id, name) of the existing organisations it looks like, most alike first.
    similar: list[tuple[int, str]]
    #: Same division and kind and a name that contains the other's: the default is to use the existing one.
    strong: bool


@dataclass
class ImportReport:
    rows: list[PlannedRow] = field(default_factory=list)
    #: Problems with the file as a whole (row 1 = the header) followed by every row's.
    file_errors: list[dict] = field(default_factory=list)
    file_warnings: list[dict] = field(default_factory=list)
    #: By folded name, in the order of first appearance.
    new_organisations: dict[str, NewOrganisation] = field(default_factory=dict)
    #: The recognised columns, in the file's order.
    columns: list[str] = field(default_factory=list)
    delimiter: str = ","
    encoding: str = "utf-8"
    #: New organisations that look like existing ones, by folded name.
    lookalikes: dict[str, Lookalike] = field(default_factory=dict)
    #: What becomes of each new organisation named in the mapping or with a lookalike: an existing
    #: organisation's id, or NEW. A strong lookalike defaults to its first existing organisation.
    choices: dict[str, int | str] = field(default_factory=dict)
    #: New organisation keys the request chose for explicitly (the API refuses strong lookalikes without one).
    chosen: set[str] = field(default_factory=set)

    def mapped_to(self, key: str) -> int | None:
        """The existing organisation a new organisation of the file is filed under, if any."""
        choice = self.choices.get(key)
        return choice if isinstance(choice, int) else None

    def similar_to_dict(self) -> list[dict]:
        return [{"row": look.row, "organisation": look.name, "strong": look.strong,
                 "similar": [{"id": org_id, "name": name} for org_id, name in look.similar],
                 "choice": self.choices.get(look.key, NEW)} for look in self.lookalikes.values()]

    @property
    def errors(self) -> list[dict]:
        return self.file_errors + [e for r in self.rows for e in r.errors]

    @property
    def warnings(self) -> list[dict]:
        return self.file_warnings + [w for r in self.rows for w in r.warnings]

    @property
    def ok(self) -> bool:
        return not self.file_errors and all(not r.errors for r in self.rows)

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)

    def summary(self) -> dict:
        return {
            "rows": len(self.rows),
            "new": self.count(NEW),
            "updated": self.count(UPDATED),
            "unchanged": self.count(UNCHANGED),
            "invalid": self.count(INVALID),
            "new_organisations": sum(1 for key in self.new_organisations if self.mapped_to(key) is None),
            "similar_organisations": len(self.lookalikes),
            "errors": len(self.errors),
            "warnings": len(self.warnings),
        }

    def digest(self) -> str:
        """A fingerprint of what applying would do, to notice that it changed since the preview."""
        plan = [(r.row, r.outcome, r.email, sorted((k, str(v)) for k, v in r.changes.items())) for r in self.rows]
        plan.append(sorted(self.new_organisations))
        plan.append(sorted((key, [org_id for org_id, _ in look.similar]) for key, look in self.lookalikes.items()))
        return hashlib.sha256(json.dumps(plan, ensure_ascii=False).encode()).hexdigest()[:32]

    def to_dict(self) -> dict:
        return {
            "rows": [r.to_dict() for r in self.rows],
            "summary": self.summary(),
            "errors": self.errors,
            "warnings": self.warnings,
            "new_organisations": [
                {"name": o.name, "kind": o.kind, "city": o.city, "division": o.division_code, "country": o.country,
                 "row": o.row, "use_existing": self.mapped_to(key)}
                for key, o in self.new_organisations.items()
            ],
            "similar_organisations": self.similar_to_dict(),
        }


@dataclass
class ImportResult:
    report: ImportReport
    created: list[User]
    updated: list[User]
    organisations: list[Organisation]
    invited: int = 0
    invitations_failed: bool = False

    def summary(self) -> dict:
        return {
            **self.report.summary(),
            "created": len(self.created),
            "organisations_created": len(self.organisations),
            "invited": self.invited,
            "invitations_failed": self.invitations_failed,
        }

    def to_dict(self) -> dict:
        body = self.report.to_dict()
        body["summary"] = self.summary()
        return body


# ---------------------------------------------------------------- reading the file


def max_rows() -> int:
    return int(current_app.config.get("IMPORT_MAX_ROWS") or DEFAULT_MAX_ROWS)


def decode(data: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was read with: UTF-8 (BOM or not), else GB18030; 415 otherwise."""
    if not data or not data.strip():
        raise ValidationFailed({"file": gettext("The file is empty.")})
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise UnsupportedType(
            gettext("This is an Excel workbook, not a CSV file. In Excel use “Save as” and choose "
                    "“CSV UTF-8 (comma delimited)”."), code="unsupported_file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnsupportedType(
            gettext("The file is UTF-16 text (Excel's “Unicode text”). Save it as “CSV UTF-8 (comma delimited)”."),
            code="unsupported_encoding")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _CONTROL.search(text):
            break  # binary data that happened to decode
        return text, "utf-8" if encoding == "utf-8-sig" else encoding
    raise UnsupportedType(
        gettext("The file is not a text CSV in UTF-8 or GB18030. Save it from Excel as “CSV UTF-8 (comma "
                "delimited)” and upload it again."), code="unsupported_encoding")


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _clean(cell: str) -> str:
    return cell.strip().strip(_INVISIBLE).strip()


def _fold_header(cell: str) -> str:
    folded = _clean(cell).casefold()
    folded = re.sub(r"[\s_\-–—.()（）:：*]+", "", folded)
    return folded


def _fold_code(cell: str) -> str:
    return re.sub(r"[\s\-]+", "_", _clean(cell).casefold())


def fold_organisation(name: str) -> str:
    """How organisation names are compared: case-insensitive, whitespace collapsed."""
    return " ".join(name.split()).casefold()


def read(text: str) -> tuple[ImportReport, list[tuple[int, dict[str, str], list[str]]]]:
    """Split the text into the report's skeleton and the data rows: (row number, cells by column, extra cells)."""
    report = ImportReport()
    first_line = text.split("\n", 1)[0]
    report.delimiter = _delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=report.delimiter)
    limit = max_rows()
    rows: list[tuple[int, dict[str, str], list[str]]] = []
    header: list[str | None] = []
    try:
        for index, cells in enumerate(reader):
            number = index + 1
            if index == 0:
                header = _read_header(report, cells)
                continue
            if not any(_clean(c) for c in cells):
                continue  # a blank line: spreadsheets keep some at the end
            by_column: dict[str, str] = {}
            extra: list[str] = []
            for position, cell in enumerate(cells):
                column = header[position] if position < len(header) else None
                if column:
                    by_column[column] = _clean(cell)
                elif position >= len(header) and _clean(cell):
                    extra.append(_clean(cell))
            rows.append((number, by_column, extra))
            if len(rows) > limit:
                raise TooLarge(
                    gettext("The file has more than %(limit)s people; import at most %(limit)s at once.",
                            limit=limit),
                    code="too_many_rows", details={"limit_rows": limit})
    except csv.Error as exc:
        raise ValidationFailed({"file": gettext("The file is not valid CSV near row %(row)s: %(reason)s",
                                                row=reader.line_num, reason=str(exc))}) from None
    if not header:
        raise ValidationFailed({"file": gettext("The file is empty.")})
    return report, rows


def _read_header(report: ImportReport, cells: list[str]) -> list[str | None]:
    header: list[str | None] = []
    seen: dict[str, str] = {}
    for cell in cells:
        folded = _fold_header(cell)
        column = _HEADER_LOOKUP.get(folded)
        if not folded:
            header.append(None)
            continue
        if column is None:
            report.file_warnings.append(issue(1, None, _clean(cell), gettext(
                "The column “%(name)s” is not one CloudFair knows; it is ignored.", name=_clean(cell))))
        elif column in seen:
            report.file_errors.append(issue(1, column, _clean(cell), gettext(
                "The columns “%(first)s” and “%(second)s” both give %(column)s; keep one.",
                first=seen[column], second=_clean(cell), column=column_label(column))))
            column = None
        else:
            seen[column] = _clean(cell)
            report.columns.append(column)
        header.append(column)
    for column in REQUIRED:
        if column not in seen:
            report.file_errors.append(issue(1, column, None, gettext(
                "The column %(column)s is missing from the header row.", column=column_label(column))))
    return header


# ---------------------------------------------------------------- checking each row


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    """Country names in English and Chinese (folded) to ISO codes."""
    from babel import Locale as BabelLocale

    codes = country_codes()
    names: dict[str, str] = {}
    for locale in ("en", "zh", "zh_Hant"):
        for code, name in BabelLocale.parse(locale).territories.items():
            if code in codes:
                names.setdefault(name.casefold(), code)
    names.update({"usa": "US", "u.s.": "US", "u.s.a.": "US", "america": "US", "uk": "GB", "england": "GB",
                  "britain": "GB", "great britain": "GB", "中国大陆": "CN", "英国": "GB", "美国": "US"})
    return names


def country_code(value: str) -> str | None:
    """An ISO 3166-1 alpha-2 code for a code or a country's English or Chinese name, else None."""
    if value.upper() in country_codes():
        return value.upper()
    return _country_names().get(" ".join(value.split()).casefold())


_LABELS = {Role: ROLE_LABELS, OrganisationKind: KIND_LABELS}
_CODES = {enum: frozenset(e.value for e in enum) for enum in (Role, OrganisationKind, Locale)}


#: The words a person reads for each column (the header also accepts the codes and HEADER_ALIASES).
COLUMN_LABELS = {
    "name": lazy_gettext("Name"), "email": lazy_gettext("E-mail"), "role": lazy_gettext("Role"),
    "organisation": lazy_gettext("Organisation"), "kind": lazy_gettext("Kind"), "city": lazy_gettext("City"),
    "country": lazy_gettext("Country"), "timezone": lazy_gettext("Time zone"), "locale": lazy_gettext("Language"),
}


def column_label(column: str | None) -> str:
    return str(COLUMN_LABELS.get(column, column or ""))


def _label_names(labels: dict) -> dict[str, str]:
    """Each label as written in every language (folded like a cell) → its code: 参会代表 and attendee alike."""
    from flask_babel import force_locale

    names: dict[str, str] = {}
    for language in ("zh", "en"):
        with force_locale(language):
            names.update({_fold_code(str(label)): code.value for code, label in labels.items()})
    return names


def _choice(value: str, enum, aliases: dict[str, str]) -> str | None:
    folded = _fold_code(value)
    if folded in _CODES[enum]:
        return folded
    found = aliases.get(folded) or aliases.get(_clean(value))
    if found is None and enum in _LABELS:
        found = _label_names(_LABELS[enum]).get(folded)
    return found


def _locale_code(value: str) -> str | None:
    folded = re.split(r"[-_]", _fold_code(value))[0]
    return folded if folded in _CODES[Locale] else LOCALE_ALIASES.get(_fold_code(value))


def cell_label(column: str, value: str | None) -> str:
    """A tidied cell as the preview shows it: roles, kinds, languages and countries by their names."""
    if not value:
        return ""
    if column == "role":
        return role_label(value)
    if column == "kind":
        return kind_label(value)
    if column == "locale":
        return {"zh": "中文", "en": "English"}.get(value, value)
    if column == "country":
        from ..i18n import ui_locale
        from ..reference.services import country_name

        return country_name(value, ui_locale())
    return value


def _check_row(number: int, cells: dict[str, str], extra: list[str]) -> PlannedRow:
    """Check one row's cells on their own (no database); tidy them where valid."""
    row = PlannedRow(row=number, values=dict(cells))
    values = row.values

    def error(column: str, message: str) -> None:
        row.errors.append(issue(number, column, cells.get(column, ""), message))

    for column in REQUIRED:
        if not cells.get(column):
            error(column, gettext("%(column)s is required.", column=column_label(column)))
    for column, limit in (("name", 200), ("organisation", 200), ("city", 100)):
        if len(cells.get(column, "")) > limit:
            error(column, gettext("Use at most %(limit)s characters.", limit=limit))
    if cells.get("email"):
        try:
            row.email = values["email"] = normalise_email(cells["email"])
        except ValidationFailed as exc:
            error("email", " ".join(exc.fields["email"]))
    def known(column: str, code_of, unknown) -> None:
        """A cell naming one of a known set: its code, or the error `unknown()` says."""
        if cells.get(column):
            code = code_of(cells[column])
            if code is None:
                error(column, unknown())
            else:
                values[column] = code

    known("role", lambda text: _choice(text, Role, ROLE_ALIASES),
          lambda: gettext("Unknown role; use one of: %(choices)s.",
                          choices=gettext(", ").join(role_label(r) for r in Role)))
    known("kind", lambda text: _choice(text, OrganisationKind, KIND_ALIASES),
          lambda: gettext("Unknown kind of organisation; use one of: %(choices)s.",
                          choices=gettext(", ").join(kind_label(k) for k in OrganisationKind)))
    known("country", country_code,
          lambda: gettext("Unknown country; write its name in Chinese or English, or its two-letter code."))
    if cells.get("timezone"):
        try:
            values["timezone"] = check_timezone(cells["timezone"])
        except ValidationFailed:
            error("timezone", gettext("Unknown time zone; use an IANA name such as Asia/Shanghai or Europe/Berlin."))
    known("locale", _locale_code, lambda: gettext("Unknown language; use zh or en."))
    row.errors.sort(key=lambda e: COLUMNS.index(e["column"]))
    if extra:
        row.warnings.append(issue(number, None, ", ".join(extra), gettext(
            "This row has more cells than the header; the extra ones are ignored.")))
    return row


def _mark_duplicates(rows: list[PlannedRow]) -> None:
    by_email: dict[str, list[PlannedRow]] = {}
    for row in rows:
        if row.email:
            by_email.setdefault(row.email, []).append(row)
    for same in by_email.values():
        if len(same) < 2:
            continue
        for row in same:
            others = ", ".join(str(o.row) for o in same if o is not row)
            row.errors.append(issue(row.row, "email", row.values.get("email", ""), gettext(
                "This address is also on row %(rows)s; each person may appear once.", rows=others)))


# ---------------------------------------------------------------- the plan


def _existing_users(emails: list[str]) -> dict[str, User]:
    found: dict[str, User] = {}
    # One query for any file within the row limit; chunks only keep far larger lists under driver limits.
    for start in range(0, len(emails), DEFAULT_MAX_ROWS):
        chunk = emails[start:start + DEFAULT_MAX_ROWS]
        for user in db.session.scalars(select(User).where(User.email.in_(chunk))):
            found[user.email] = user
    return found


def _organisations_by_name() -> dict[str, Organisation]:
    orgs: dict[str, Organisation] = {}
    everything = list(db.session.scalars(select(Organisation)))
    for org in everything:  # names first: an alias never hides another organisation's own name
        orgs[fold_organisation(org.name)] = org
    for org in everything:
        for alias in org.aliases or []:
            orgs.setdefault(fold_organisation(alias), org)
    return orgs


def plan(actor, data: bytes, mapping: dict | None = None) -> ImportReport:
    """Read, check and plan a file without writing anything (organisers).

    `mapping` says what a new organisation of the file is: {"石家庄市商务局": 12} files its people
    under organisation 12 (and makes the name an alias of it), {"…": "new"} creates it. New
    organisations that look like existing ones are reported in `lookalikes`.

    Raises 415 for a file that is not UTF-8 or GB18030 text, 413 beyond IMPORT_MAX_ROWS, 422 for an
    empty or broken file or a bad mapping; problems in rows are in the report, not raised.
    """
    require_role(actor, Role.ORGANISER)
    text, encoding = decode(data)
    report, raw_rows = read(text)
    report.encoding = encoding
    if report.file_errors:  # without the header's columns the rows cannot be read
        return report
    report.rows = [_check_row(number, cells, extra) for number, cells, extra in raw_rows]
    if not report.rows:
        report.file_errors.append(issue(1, None, None, gettext("The file has a header row but nobody under it.")))
        return report
    _mark_duplicates(report.rows)
    existing = _existing_users(sorted({r.email for r in report.rows if r.email}))
    organisations = _organisations_by_name()
    host_timezone = current_app.config["HOST_TIMEZONE"]
    for row in report.rows:
        if row.errors:
            row.outcome = INVALID
            continue
        org, new_org = _plan_organisation(report, row, organisations)
        country = org.country if org is not None else new_org.country
        row.user = existing.get(row.email)
        if row.user is None:
            row.outcome = NEW
            if not row.values.get("timezone"):
                row.values["timezone"] = host_timezone
                if country not in _CHINESE_COUNTRIES:
                    row.warnings.append(issue(row.row, "timezone", "", gettext(
                        "No time zone given for someone outside China; %(zone)s is used until they change it.",
                        zone=host_timezone)))
            if not row.values.get("locale"):
                row.values["locale"] = Locale.ZH.value if country in _CHINESE_COUNTRIES else Locale.EN.value
        else:
            _plan_changes(actor, row, org)
            row.outcome = UPDATED if row.changes else UNCHANGED
            if not row.user.active:
                row.warnings.append(issue(row.row, "email", row.email, gettext(
                    "This person's account is deactivated; the import does not reactivate it.")))
        if row.errors:
            row.outcome = INVALID
    _find_lookalikes(report, organisations)
    _apply_mapping(report, mapping or {})
    return report


# ---------------------------------------------------------------- organisations that look alike

_SQUASH = re.compile(r"[\W_]+")
_CHINESE_RUN = re.compile(r"[\u3400-\u9fff]{4,}")


def _squash(name: str) -> str:
    return _SQUASH.sub("", unicodedata.normalize("NFKC", name).casefold())


def names_look_alike(a: str, b: str) -> bool:
    """True when one name, folded without spaces and punctuation, contains the other (at least four
    characters), or both share a Chinese part ("石家庄市商务局" in "Shijiazhuang Commerce Bureau 石家庄市商务局")."""
    fa, fb = _squash(a), _squash(b)
    if min(len(fa), len(fb)) >= 4 and (fa in fb or fb in fa):
        return True
    runs_b = _CHINESE_RUN.findall(b)
    return any(ra in rb or rb in ra for ra in _CHINESE_RUN.findall(a) for rb in runs_b)


def _prefecture(code: str | None) -> str | None:
    if not code:
        return None
    return code if code.endswith("0000") else code[:4] + "00"


def _find_lookalikes(report: ImportReport, organisations: dict[str, Organisation]) -> None:
    """Compare each new organisation with the existing ones (names and aliases), in the same place."""
    everything = {org.id: org for org in organisations.values()}.values()
    for key, new_org in report.new_organisations.items():
        strong, weak = [], []
        place = _prefecture(new_org.division_code)
        for org in everything:
            other = _prefecture(org.division_code)
            if place and other and place != other:
                continue  # two places: not the same organisation
            if org.country != new_org.country or not any(
                    names_look_alike(new_org.name, n) for n in [org.name, *(org.aliases or [])]):
                continue
            same_place = place is not None and place == other
            (strong if same_place and org.kind == new_org.kind else weak).append((org.id, org.name))
        if strong or weak:
            look = Lookalike(key=key, name=new_org.name, row=new_org.row, similar=sorted(strong) + sorted(weak),
                             strong=bool(strong))
            report.lookalikes[key] = look
            report.choices[key] = strong[0][0] if look.strong else NEW
            names = ", ".join(name for _, name in look.similar)
            first_row = next(r for r in report.rows if r.organisation_key == key)
            first_row.warnings.append(issue(first_row.row, "organisation", new_org.name, gettext(
                "%(organisation)s looks like %(existing)s, which already exists. Choose whether to file these "
                "people under it or to create a new organisation.", organisation=new_org.name, existing=names)))


def parse_mapping(raw: object) -> dict[str, int | str]:
    """The `map` field: a JSON object of organisation names to an existing organisation's id or "new"."""
    if raw in (None, ""):
        return {}
    try:
        mapping = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        mapping = None
    if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and (v == NEW or (isinstance(v, int) and not isinstance(v, bool)))
            for k, v in mapping.items()):
        raise ValidationFailed({"map": gettext("Give a JSON object of organisation names to an organisation id or "
                                               "\"new\", e.g. {\"石家庄市商务局\": 12}.")})
    return mapping


def _apply_mapping(report: ImportReport, mapping: dict[str, int | str]) -> None:
    unknown_names, unknown_ids = [], []
    ids = [v for v in mapping.values() if isinstance(v, int)]
    known = set(db.session.scalars(select(Organisation.id).where(Organisation.id.in_(ids)))) if ids else set()
    for name, choice in mapping.items():
        key = fold_organisation(name)
        if key not in report.new_organisations:
            unknown_names.append(name)
        elif choice != NEW and choice not in known:
            unknown_ids.append(str(choice))
        else:
            report.choices[key] = choice
            report.chosen.add(key)
    problems = []
    if unknown_names:
        problems.append(gettext("Not a new organisation of this file: %(names)s.", names=", ".join(unknown_names)))
    if unknown_ids:
        problems.append(gettext("No organisation with id %(ids)s.", ids=", ".join(unknown_ids)))
    if problems:
        raise ValidationFailed({"map": problems})


def _plan_organisation(report: ImportReport, row: PlannedRow, organisations: dict[str, Organisation]):
    """The existing organisation the row names (and warnings where the row disagrees with it), or the new one."""
    values = row.values
    key = fold_organisation(values["organisation"])
    row.organisation_key = key
    org = organisations.get(key)
    if org is not None:
        for column, current in (("kind", org.kind), ("city", org.city), ("country", org.country)):
            given = values.get(column)
            if column == "city" and given and org.division_code is not None:
                if division_index().match(given) == org.division_code:
                    continue
                current = org.division.name_zh
            if given and (current or "").casefold() != given.casefold():
                row.warnings.append(issue(row.row, column, given, gettext(
                    "%(organisation)s already exists with %(column)s “%(current)s”; it is not changed by the import.",
                    organisation=org.name, column=column, current=current or "—")))
        return org, None
    new_org = report.new_organisations.get(key)
    if new_org is None:
        name = " ".join(values["organisation"].split())
        country = values.get("country") or "CN"
        city = values.get("city") or None
        division = None
        if country == "CN":  # the index answers without a query: thousands of rows stay quick
            places = division_index()
            if city:
                division = places.entries.get(places.match(city) or "")
                if division is None:
                    _, suggestions = resolve_city(city)
                    row.errors.append(issue(row.row, "city", city, city_error(city, suggestions)))
                    return None, NewOrganisation(name=name, kind="", city=city, country=country, row=row.row)
            else:
                division = places.entries.get(places.from_organisation_name(name) or "")
        new_org = NewOrganisation(
            name=name,
            kind=values.get("kind") or DEFAULT_KIND_FOR_ROLE[Role(values["role"])].value,
            city=city or (division.name_zh if division is not None else None),
            country=country,
            row=row.row,
            division_code=division.code if division is not None else None,
        )
        report.new_organisations[key] = new_org
        row.new_organisation = True
    else:
        for column, first in (("kind", new_org.kind), ("city", new_org.city), ("country", new_org.country)):
            given = values.get(column)
            if column == "city" and given and new_org.division_code is not None:
                if division_index().match(given) == new_org.division_code:
                    continue
            if given and (first or "").casefold() != given.casefold():
                row.warnings.append(issue(row.row, column, given, gettext(
                    "Row %(first_row)s makes %(organisation)s with %(column)s “%(first)s”; this row's value is "
                    "ignored.", first_row=new_org.row, organisation=new_org.name, column=column, first=first or "—")))
    return None, new_org


def _plan_changes(actor, row: PlannedRow, org: Organisation | None) -> None:
    user, values = row.user, row.values
    changes: dict[str, dict] = {}
    if values["name"] != user.name:
        changes["name"] = {"from": user.name, "to": values["name"]}
    if values["role"] != user.role:
        if actor is not None and user.id == actor.id:
            row.errors.append(issue(row.row, "role", values["role"], gettext(
                "You cannot change your own role; another organiser has to.")))
        changes["role"] = {"from": user.role, "to": values["role"]}
    for column in ("timezone", "locale"):
        if values.get(column) and values[column] != getattr(user, column):
            changes[column] = {"from": getattr(user, column), "to": values[column]}
    if org is None or org.id != user.organisation_id:
        changes["organisation"] = {"from": user.organisation.name, "to": org.name if org is not None else
                                   " ".join(values["organisation"].split())}
    row.changes = changes


# ---------------------------------------------------------------- applying


def _create_organisation(new_org: NewOrganisation) -> Organisation:
    org = Organisation(name=new_org.name, kind=new_org.kind, city=new_org.city, country=new_org.country,
                       division_code=new_org.division_code)
    db.session.add(org)
    return org


def _create_user(row: PlannedRow, org: Organisation) -> User:
    values = row.values
    user = User(
        email=row.email,
        name=values["name"],
        role=values["role"],
        organisation=org,
        timezone=values["timezone"],
        locale=values["locale"],
        password_hash=None,
        calendar_token=secrets.token_urlsafe(24),
    )
    db.session.add(user)
    return user


def _update_user(actor, row: PlannedRow, org: Organisation) -> User:
    user = row.user
    for column in ("name", "timezone", "locale"):
        if column in row.changes:
            setattr(user, column, row.changes[column]["to"])
    if "organisation" in row.changes:
        user.organisation = org
    if "role" in row.changes:
        audit.record("role_changed", actor=actor, subject=user, old=row.changes["role"]["from"],
                     new=row.changes["role"]["to"], via="import")
        user.role = row.changes["role"]["to"]
    return user


def apply(actor, report: ImportReport, *, filename: str | None = None, sha256: str | None = None) -> ImportResult:
    """Write a checked plan in one transaction, then invite the new people (organisers).

    Raises ImportInvalid (nothing written) when any row has an error, Conflict when someone else
    created one of the people meanwhile.
    """
    require_role(actor, Role.ORGANISER)
    if not report.ok:
        raise ImportInvalid(report)
    existing_orgs = _organisations_by_name()
    created_orgs = {key: _create_organisation(o) for key, o in report.new_organisations.items()
                    if report.mapped_to(key) is None}
    for key, new_org in report.new_organisations.items():
        if report.mapped_to(key) is not None:  # filed under an existing organisation, which learns the name
            org = db.session.get(Organisation, report.mapped_to(key))
            org.aliases = [*(org.aliases or []), new_org.name]
            existing_orgs[key] = org
    created: list[User] = []
    updated: list[User] = []
    try:
        for row in report.rows:
            org = created_orgs.get(row.organisation_key) or existing_orgs[row.organisation_key]
            if row.outcome == NEW:
                row.user = _create_user(row, org)
                created.append(row.user)
            elif row.outcome == UPDATED:
                updated.append(_update_user(actor, row, org))
        summary = report.summary()
        audit.record("users_imported", actor=actor, rows=summary["rows"], created=summary["new"],
                     updated=summary["updated"], unchanged=summary["unchanged"],
                     organisations_created=len(created_orgs), filename=filename, sha256=sha256)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(gettext("Someone added some of these people or organisations while you were importing; "
                               "nothing was imported. Upload the file again."), code="import_conflict") from None
    except BaseException:
        db.session.rollback()
        raise
    result = ImportResult(report=report, created=created, updated=updated, organisations=list(created_orgs.values()))
    _invite(actor, result)
    return result


def _invite(actor, result: ImportResult) -> None:
    """After the people are committed: one invitation each, in a second transaction."""
    if not result.created:
        return
    from . import invitations

    try:
        # The commit expired every new person: reload them in one query rather than one each, and
        # hold the flush until the end (a new person has no earlier invitation to find).
        ids = [inspect(user).identity[0] for user in result.created]
        for start in range(0, len(ids), DEFAULT_MAX_ROWS):
            db.session.scalars(select(User).where(User.id.in_(ids[start:start + DEFAULT_MAX_ROWS]))).all()
        with db.session.no_autoflush:
            for user in result.created:
                invitations.invite(user, actor)
        db.session.commit()
        result.invited = len(result.created)
    except Exception:
        db.session.rollback()
        result.invitations_failed = True
        log.exception("Imported %s people but could not queue their invitations", len(result.created))


def import_people(actor, data: bytes, *, filename: str | None = None, mapping: dict | None = None) -> ImportResult:
    """Check a whole file and apply it, or raise and write nothing (the API's one-shot import).

    Raises ImportInvalid for a bad row, SimilarOrganisations when a new organisation looks much like an
    existing one (same place and kind) and `mapping` does not say whether it is that one or new.
    """
    report = plan(actor, data, mapping)
    if report.ok:
        undecided = [look.name for key, look in report.lookalikes.items() if look.strong and key not in report.chosen]
        if undecided:
            raise SimilarOrganisations(report, undecided)
    return apply(actor, report, filename=filename, sha256=hashlib.sha256(data).hexdigest())


# ---------------------------------------------------------------- uploads waiting for confirmation


@dataclass
class PendingImport:
    id: str
    owner_id: int
    sha256: str
    filename: str
    data: bytes


def _imports_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "imports"


def _prune(directory: Path) -> None:
    cutoff = time.time() - KEEP_SECONDS
    for path in directory.glob("*"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
        except OSError:
            pass


def store_upload(actor, data: bytes, filename: str | None) -> PendingImport:
    """Keep an uploaded file until its organiser confirms it (or for a day)."""
    require_role(actor, Role.ORGANISER)
    directory = _imports_dir()
    directory.mkdir(parents=True, exist_ok=True)
    _prune(directory)
    pending = PendingImport(id=secrets.token_urlsafe(18), owner_id=actor.id,
                            sha256=hashlib.sha256(data).hexdigest(), filename=(filename or "")[:200], data=data)
    meta = {"owner_id": pending.owner_id, "sha256": pending.sha256, "filename": pending.filename,
            "size": len(data), "created_at": time.time()}
    (directory / f"{pending.id}.csv").write_bytes(data)
    temporary = directory / f"{pending.id}.json.tmp"
    temporary.write_text(json.dumps(meta))
    os.replace(temporary, directory / f"{pending.id}.json")
    return pending


def load_upload(actor, import_id: str) -> PendingImport:
    """The actor's stored upload; 404 for anyone else's, a used or expired one, or a tampered file."""
    not_found = NotFound(gettext("This import is no longer waiting: it was applied, expired or is not yours. "
                                 "Upload the file again."))
    if not isinstance(import_id, str) or not _IMPORT_ID.fullmatch(import_id):
        raise not_found
    directory = _imports_dir()
    try:
        meta = json.loads((directory / f"{import_id}.json").read_text())
        data = (directory / f"{import_id}.csv").read_bytes()
    except (OSError, ValueError):
        raise not_found from None
    if meta.get("owner_id") != getattr(actor, "id", None) or hashlib.sha256(data).hexdigest() != meta.get("sha256"):
        raise not_found
    if meta.get("created_at", 0) < time.time() - KEEP_SECONDS:
        discard_upload(import_id)
        raise not_found
    return PendingImport(id=import_id, owner_id=meta["owner_id"], sha256=meta["sha256"],
                         filename=meta.get("filename", ""), data=data)


def discard_upload(import_id: str) -> None:
    directory = _imports_dir()
    for suffix in (".csv", ".json"):
        (directory / f"{import_id}{suffix}").unlink(missing_ok=True)


def confirm(actor, import_id: str, expected_digest: str | None = None, mapping: dict | None = None) -> ImportResult:
    """Apply a previewed upload: re-read and re-check it (the database may have changed since).

    Raises NotFound for someone else's or a spent upload, ImportInvalid when a row is now wrong,
    ImportChanged when the plan differs from the one previewed (`expected_digest`).
    """
    require_role(actor, Role.ORGANISER)
    pending = load_upload(actor, import_id)
    directory = _imports_dir()
    claimed = directory / f"{import_id}.claimed"
    try:  # a double-clicked confirm applies once: only one request can move the file
        os.replace(directory / f"{import_id}.json", claimed)
    except FileNotFoundError:
        raise NotFound(gettext("This import is no longer waiting: it was applied, expired or is not yours. "
                               "Upload the file again.")) from None
    try:
        report = plan(actor, pending.data, mapping)
        if not report.ok:
            raise ImportInvalid(report)
        if expected_digest is not None and report.digest() != expected_digest:
            raise ImportChanged(report)
        result = apply(actor, report, filename=pending.filename, sha256=pending.sha256)
    except BaseException:
        os.replace(claimed, directory / f"{import_id}.json")
        raise
    claimed.unlink(missing_ok=True)
    (directory / f"{import_id}.csv").unlink(missing_ok=True)
    return result


# ---------------------------------------------------------------- the template file


def template_csv(locale: str = "en") -> bytes:
    """The file to fill in: UTF-8 with a BOM (so Excel reads the Chinese), a header and two examples,
    written in `locale` (column names, roles, kinds, countries and languages by name; the import reads
    them in either language, and the codes too)."""
    from flask_babel import force_locale

    from ..reference.services import country_name

    examples = [
        ("张伟", "zhang.wei@example.org", Role.ATTENDEE, "石家庄市商务局", OrganisationKind.CITY_BUREAU, "石家庄", "CN",
         "Asia/Shanghai", "zh"),
        ("Anna Schmidt", "anna.schmidt@example.com", Role.PRESENTER, "Bavaria Invest Partners",
         OrganisationKind.AGENCY, "Munich", "DE", "Europe/Berlin", "en"),
    ]
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\r\n")
    with force_locale("zh" if locale == "zh" else "en"):
        writer.writerow([column_label(c) for c in COLUMNS])
        for name, email, role, org, kind, city, country, zone, language in examples:
            writer.writerow([name, email, role_label(role), org, kind_label(kind), city,
                             country_name(country, locale), zone, {"zh": "中文", "en": "English"}[language]])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
