"""Content in two languages: fair, theme, session, project, series and organisation text.

Each bilingual text has two plain columns beside the original one, `<field>_zh` and `<field>_en`.
The original column keeps the text in the author's language (else the other), so code that reads it
keeps working. Readers get their own language and, where it is missing, the other one marked as such.

Writes accept, for a field `title`: `title_i18n` `{"zh": …, "en": …}` (the API), `title_zh` and
`title_en` (forms), and plain `title`, which is the text in the author's language (`lang` of the
body, else the author's setting). At least one language must remain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import has_request_context, request
from flask_babel import gettext
from markupsafe import Markup, escape
from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .errors import ValidationFailed

LANGS = ("zh", "en")
OTHER = {"zh": "en", "en": "zh"}

#: Han ideographs (basic, extension A, compatibility, extensions B and later).
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
#: "中文 / English", "中文｜English", "English — 中文": two halves, one Chinese and one not.
_COMBINED = re.compile(r"\s+[/|｜—–-]\s+|\s*／\s*|\s*｜\s*")


class BilingualTitle:
    """A row's `title` in its author's language (else the other), `title_zh`/`title_en` each language."""

    title: Mapped[str] = mapped_column(String(200))
    title_zh: Mapped[str | None] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))


class BilingualSummary:
    """A row's `summary` in its author's language (else the other), `summary_zh`/`summary_en` each language."""

    summary: Mapped[str] = mapped_column(Text, default="")
    summary_zh: Mapped[str | None] = mapped_column(Text)
    summary_en: Mapped[str | None] = mapped_column(Text)


def has_han(text: str | None) -> bool:
    return bool(text and _HAN.search(text))


def detect(text: str | None) -> str:
    """'zh' when the text has Han characters, else 'en'."""
    return "zh" if has_han(text) else "en"


def split_text(text: str | None) -> dict[str, str]:
    """Existing single-language text as {"zh", "en"}: a "中文 / English" title gives both halves,
    anything else goes to the language it is written in."""
    text = (text or "").strip()
    out = {"zh": "", "en": ""}
    if not text:
        return out
    parts = [p.strip() for p in _COMBINED.split(text, maxsplit=1)]
    if len(parts) == 2 and all(parts) and has_han(parts[0]) != has_han(parts[1]):
        zh, en = (parts[0], parts[1]) if has_han(parts[0]) else (parts[1], parts[0])
        return {"zh": zh, "en": en}
    out[detect(text)] = text
    return out


# ---------------------------------------------------------------- reading


def content_locale() -> str:
    """The language content is read in: `?lang=` of the request, else the interface language."""
    from .i18n import ui_locale

    if has_request_context():
        asked = (request.args.get("lang") or "").strip().lower()[:2]
        if asked in LANGS:
            return asked
    return ui_locale()


@dataclass(frozen=True)
class Picked:
    text: str
    lang: str
    #: True when the text is in the other language than the one asked for.
    fallback: bool

    def __str__(self) -> str:
        return self.text


def _get(obj, name: str):
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def pair(obj, field: str) -> dict[str, str]:
    """Both languages of a field: {"zh": …, "en": …} ("" where missing); the original text fills in
    for objects written before the two columns existed."""
    out = {lang: (_get(obj, f"{field}_{lang}") or "") for lang in LANGS}
    if not out["zh"] and not out["en"]:
        out = split_text(_get(obj, field))
    return out


def pick(obj, field: str, lang: str | None = None) -> Picked:
    """The field's text in `lang` (default: the reader's), else in the other language, marked."""
    lang = lang if lang in LANGS else content_locale()
    texts = pair(obj, field)
    if texts[lang]:
        return Picked(texts[lang], lang, False)
    other = OTHER[lang]
    if texts[other]:
        return Picked(texts[other], other, True)
    return Picked("", lang, False)


def text(obj, field: str, lang: str | None = None) -> str:
    """The field's text for the reader (their language, else the other), unmarked: for the API."""
    return pick(obj, field, lang).text


def fallback_mark(lang: str) -> str:
    """The marker after text shown in the other language: "(in Chinese)" / "（英文）"."""
    return gettext("(in Chinese)") if lang == "zh" else gettext("(in English)")


def _page_lang(lang: str | None) -> str:
    from .i18n import ui_locale

    return lang if lang in LANGS else ui_locale()


def plain(obj, field: str, lang: str | None = None) -> str:
    """The text for plain-text places (mail text, <title>, calendar): the marker in words when it falls back."""
    got = pick(obj, field, _page_lang(lang))
    return f"{got.text} {fallback_mark(got.lang)}" if got.fallback else got.text


def marked(obj, field: str, lang: str | None = None) -> Markup:
    """The text for HTML: text in the other language sits in <span lang> followed by its marker."""
    got = pick(obj, field, _page_lang(lang))
    if not got.fallback:
        return escape(got.text)
    hint = escape(gettext("Not available in your language"))
    return Markup('<span lang="%s">%s</span> <small class="fallback-mark" title="%s">%s</small>') % (
        "zh-Hans" if got.lang == "zh" else "en", got.text, hint, fallback_mark(got.lang))


# ---------------------------------------------------------------- writing


def author_lang(data: dict, actor=None) -> str:
    """The language plain text in a body is written in: the body's `lang`, else the author's setting."""
    lang = data.get("lang") if isinstance(data, dict) else None
    if isinstance(lang, str) and lang.strip().lower()[:2] in LANGS:
        return lang.strip().lower()[:2]
    locale = getattr(actor, "locale", None)
    return locale if locale in LANGS else "en"


def mentions(data: dict, field: str) -> bool:
    """Whether a write body says anything about the field (in any of its forms)."""
    return any(key in data for key in (field, f"{field}_i18n", f"{field}_zh", f"{field}_en"))


def resolve(data: dict, field: str, *, current=None, lang: str = "en", required: bool = False,
            max_length: int | None = None, label: str | None = None) -> dict[str, str]:
    """Both languages of `field` after a write: the current texts changed by what the body gives.

    Raises ValidationFailed on `field` (or `field_i18n`) with a sentence a person can act on: not
    text, a language other than zh/en, too long, or (when `required`) no language left."""
    texts = pair(current, field) if current is not None else {"zh": "", "en": ""}
    errors: dict[str, str] = {}
    if f"{field}_i18n" in data:
        given = data[f"{field}_i18n"]
        if given is None:
            given = {}
        if not isinstance(given, dict):
            errors[f"{field}_i18n"] = gettext('Give an object with the texts by language, e.g. {"zh": "…", "en": "…"}.')
        else:
            unknown = sorted(str(k) for k in given if k not in LANGS)
            if unknown:
                errors[f"{field}_i18n"] = gettext("Only zh and en are accepted, not: %(keys)s.", keys=", ".join(unknown))
            for lang_code in LANGS:
                if lang_code in given:
                    value = given[lang_code]
                    if value is not None and not isinstance(value, str):
                        errors[f"{field}_i18n"] = gettext("Each language's text must be text.")
                    else:
                        texts[lang_code] = (value or "").strip()
    for lang_code in LANGS:
        key = f"{field}_{lang_code}"
        if key in data:
            value = data[key]
            if value is not None and not isinstance(value, str):
                errors[key] = gettext("Must be text.")
            else:
                texts[lang_code] = (value or "").strip()
    if field in data and not (f"{field}_i18n" in data and isinstance(data[f"{field}_i18n"], dict)
                              and lang in data[f"{field}_i18n"]) and f"{field}_{lang}" not in data:
        value = data[field]
        if value is not None and not isinstance(value, str):
            errors[field] = gettext("Must be text.")
        else:
            texts[lang] = (value or "").strip()
    if max_length:
        for lang_code in LANGS:
            if len(texts[lang_code]) > max_length:
                errors.setdefault(f"{field}_{lang_code}", gettext(
                    "At most %(count)d characters (this has %(length)d).", count=max_length,
                    length=len(texts[lang_code])))
    if required and not errors and not (texts["zh"] or texts["en"]):
        message = gettext("Give %(what)s in Chinese or in English (at least one).", what=label or gettext("a title"))
        errors[field] = message
    if errors:
        raise ValidationFailed(errors)
    return texts


def primary(texts: dict[str, str], lang: str) -> str:
    """The text the original column keeps: the author's language, else the other."""
    return texts.get(lang) or texts.get(OTHER.get(lang, "zh")) or ""


def assign(obj, field: str, texts: dict[str, str], lang: str) -> None:
    """Store both languages and the primary text on a model."""
    setattr(obj, f"{field}_zh", texts["zh"] or None)
    setattr(obj, f"{field}_en", texts["en"] or None)
    setattr(obj, field, primary(texts, lang))


def search_clause(columns, q: str):
    """An OR of case-insensitive substring matches of `q` over `columns` (LIKE wildcards escaped)."""
    from sqlalchemy import or_

    needle = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return or_(*(column.ilike(needle, escape="\\") for column in columns))


def _from_pair(texts) -> dict:
    texts = texts if isinstance(texts, dict) else {}
    return {"text_zh": texts.get("zh") or "", "text_en": texts.get("en") or ""}


def init_templating(app) -> None:
    app.jinja_env.globals["tr"] = marked  # {{ tr(fair, "title") }}
    app.jinja_env.globals["trt"] = plain  # {{ trt(fair, "title") }}: plain text, e.g. in <title> or mail text
    app.jinja_env.globals["tx"] = lambda obj, field: text(obj, field, _page_lang(None))  # unmarked: mail subjects
    app.jinja_env.globals["both"] = pair
    # {{ tri(row.organisation_i18n) }}: a {"zh", "en"} pair (API-shaped rows) marked like tr()
    app.jinja_env.globals["tri"] = lambda texts, lang=None: marked(_from_pair(texts), "text", lang)
    app.jinja_env.globals["trti"] = lambda texts, lang=None: plain(_from_pair(texts), "text", lang)


# ---------------------------------------------------------------- forms


def form_fields(label_zh, label_en, *, max_length: int, area: bool = False, checked: bool = True) -> tuple:
    """The two side-by-side fields of a bilingual text on a form: (`<field>_zh`, `<field>_en`). A form
    whose service loads a schema that checks the text passes `checked=False`: the fields then only
    render (with their maxlength) and show the schema's messages."""
    from wtforms import StringField, TextAreaField
    from wtforms.validators import Length, Optional

    kind = TextAreaField if area else StringField
    if not checked:
        return (kind(label_zh, render_kw={"lang": "zh-Hans", "maxlength": max_length}),
                kind(label_en, render_kw={"lang": "en", "maxlength": max_length}))
    return (kind(label_zh, validators=[Optional(), Length(max=max_length)], render_kw={"lang": "zh-Hans"}),
            kind(label_en, validators=[Optional(), Length(max=max_length)], render_kw={"lang": "en"}))


def form_data(form, *fields: str) -> dict:
    """What a bilingual form says about `fields`, as a service body. A post that names only the plain
    field (an older client) gives it as the author's language."""
    out: dict = {}
    for field in fields:
        names = (f"{field}_zh", f"{field}_en")
        if any(name in request.form for name in names):
            for name in names:
                out[name] = getattr(form, name).data or ""
        elif field in request.form:
            out[field] = request.form.get(field, "")
    return out


def fill_form(form, obj, *fields: str) -> None:
    """Show an object's texts in both fields of the form."""
    for field in fields:
        texts = pair(obj, field)
        getattr(form, f"{field}_zh").data = texts["zh"]
        getattr(form, f"{field}_en").data = texts["en"]


def form_errors(fields: dict, *names: str) -> dict:
    """A service's errors about `title`/`title_i18n` go beside the form's Chinese field."""
    out = {}
    for key, messages in fields.items():
        base = key[:-5] if key.endswith("_i18n") else key
        out[f"{base}_zh" if base in names else key] = messages
    return out
