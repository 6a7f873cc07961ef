"""Decide what an uploaded file is from its content, never its name or Content-Type.

puremagic makes the first guess from the magic numbers; a structural check per kind then
confirms it (the PDF opens, the zip is a plain PowerPoint or Word package, the image decodes,
the MP4 boxes add up) and refuses the known tricks: PDF/HTML polyglots, macro-enabled Office
files, zip bombs, decompression bombs, and executables or web pages under a harmless name.
"""

from __future__ import annotations

import re
import struct
import threading
import unicodedata
import zipfile
import zlib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import ParseError

import puremagic
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as parse_xml
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from PIL import Image

from app.errors import UnsupportedType, ValidationFailed


@dataclass(frozen=True)
class Sniffed:
    kind: str
    mime: str
    extension: str


MATERIAL_KINDS = frozenset({"pdf", "pptx", "docx", "png", "jpeg", "mp4"})
IMAGE_KINDS = frozenset({"png", "jpeg"})

#: PDFium may not be called from two threads at once, not even for different documents.
PDFIUM_LOCK = threading.RLock()

MIMES = {
    "pdf": "application/pdf",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "mp4": "video/mp4",
}
EXTENSIONS = {"pdf": ".pdf", "pptx": ".pptx", "docx": ".docx", "png": ".png", "jpeg": ".jpg", "mp4": ".mp4"}
#: In the order the "accepted: ..." sentence lists them; format names, the same in every language.
LABELS = {
    "pdf": "PDF",
    "pptx": "PowerPoint (.pptx)",
    "docx": "Word (.docx)",
    "png": "PNG",
    "jpeg": "JPEG",
    "mp4": "MP4",
}
#: What a file is, to finish the sentence "This file is ..." (translated when used).
DESCRIPTIONS = {
    "pdf": _l("a PDF document"),
    "pptx": _l("a PowerPoint presentation (.pptx)"),
    "docx": _l("a Word document (.docx)"),
    "png": _l("a PNG image"),
    "jpeg": _l("a JPEG image"),
    "mp4": _l("an MP4 video"),
}

# PDF/HTML polyglots: a browser that sniffs would run the markup.
POLYGLOT_HEAD_BYTES = 64 * 1024
POLYGLOT_TAIL_BYTES = 4 * 1024
POLYGLOT_MARKERS = (b"<html", b"<script", b"<body", b"<!doctype html", b"<iframe", b"<svg", b"javascript:")

# Zip bombs, judged from the central directory alone.
MAX_ARCHIVE_ENTRIES = 2000
MAX_ARCHIVE_TOTAL = 500 * 1024 * 1024
MAX_ARCHIVE_EXPANSION = 20  # times the file size ...
ARCHIVE_EXPANSION_FLOOR = 10 * 1024 * 1024  # ... once the contents pass this size
MAX_ENTRY_RATIO = 100
#: Entries smaller than this cannot hurt, whatever their ratio (a short run of spaces deflates > 100:1).
ENTRY_RATIO_FLOOR = 1024 * 1024
MAX_CONTENT_TYPES_BYTES = 1024 * 1024

MAX_IMAGE_PIXELS = 50_000_000

OOXML_MAIN = {
    "pptx": (
        "ppt/presentation.xml",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    ),
    "docx": (
        "word/document.xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    ),
}

# ISO base media files (ftyp at offset 4): which brands are MP4 video, which are something else.
MP4_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8", b"iso9", b"mp41", b"mp42", b"avc1",
     b"M4V ", b"M4VP", b"M4VH", b"dash", b"mmp4", b"MSNV", b"f4v ", b"XAVC"}
)
OTHER_BRANDS = {
    b"qt  ": _l("a QuickTime movie (.mov)"),
    b"M4A ": _l("an MPEG-4 audio file"),
    b"M4B ": _l("an MPEG-4 audio book"),
    b"M4P ": _l("a protected MPEG-4 audio file"),
    b"heic": _l("a HEIC photo"),
    b"heix": _l("a HEIC photo"),
    b"mif1": _l("a HEIF image"),
    b"msf1": _l("a HEIF image sequence"),
    b"avif": _l("an AVIF image"),
    b"avis": _l("an AVIF image sequence"),
    b"crx ": _l("a camera raw photo"),
    b"3gp4": _l("a 3GPP video"),
    b"3gp5": _l("a 3GPP video"),
    b"3gp6": _l("a 3GPP video"),
    b"3g2a": _l("a 3GPP2 video"),
}
MAX_TOP_LEVEL_BOXES = 100_000

# Friendlier names for what puremagic finds, keyed by its extension.
FOUND = {
    ".html": _l("an HTML document"),
    ".htm": _l("an HTML document"),
    ".svg": _l("an SVG image"),
    ".xml": _l("an XML document"),
    ".exe": _l("a Windows program"),
    ".dll": _l("a Windows program"),
    ".zip": _l("a ZIP archive"),
    ".gz": _l("a gzip archive"),
    ".7z": _l("a 7-Zip archive"),
    ".rar": _l("a RAR archive"),
    ".gif": _l("a GIF image"),
    ".webp": _l("a WebP image"),
    ".bmp": _l("a BMP image"),
    ".tif": _l("a TIFF image"),
    ".tiff": _l("a TIFF image"),
    ".heif": _l("a HEIF image"),
    ".avif": _l("an AVIF image"),
    ".mov": _l("a QuickTime movie (.mov)"),
    ".doc": _l("an Office 97–2003 or password-protected Office document"),
    ".rtf": _l("an RTF document"),
    ".mp3": _l("an MP3 audio file"),
    ".json": _l("a JSON file"),
}


def sniff(path: Path, allowed: Collection[str] = MATERIAL_KINDS) -> Sniffed:
    """Identify a stored upload by its content and check it is safe to keep and serve.

    Raises ValidationFailed (422) for an empty file and UnsupportedType (415) otherwise, with
    `code` "unsupported_media_type", "polyglot", "macro_enabled", "archive_too_large",
    "image_too_large", "password_protected" or "damaged_file".
    """
    allowed = frozenset(allowed)
    if not allowed or not allowed <= MATERIAL_KINDS:
        raise ValueError(f"allowed must be a non-empty subset of {sorted(MATERIAL_KINDS)}")
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise ValidationFailed({"file": gettext("The file is empty.")})
    with path.open("rb") as f:
        head = f.read(POLYGLOT_HEAD_BYTES)
        f.seek(max(0, size - POLYGLOT_TAIL_BYTES))
        tail = f.read()
        f.seek(0)
        matches = _magic(f)

    if head.startswith(b"%PDF") or any(m.mime_type == "application/pdf" for m in matches):
        kind = "pdf"
    elif any(m.mime_type == "image/png" for m in matches):
        kind = "png"
    elif any(m.mime_type == "image/jpeg" for m in matches):
        kind = "jpeg"
    elif head[4:8] == b"ftyp":
        kind = "mp4"
    elif any(m.offset == 0 and m.byte_match.startswith(b"PK\x03\x04") for m in matches):
        kind = _check_ooxml(path, size, allowed)  # names what it finds, so it runs first
    else:
        raise _refused(_this_file_is(_describe(head, matches)), allowed)

    if kind == "mp4":
        _check_mp4_brand(head, matches, allowed)
    if kind not in allowed:
        raise _refused(_this_file_is(DESCRIPTIONS[kind]), allowed)
    if kind == "pdf":
        _check_pdf(path, head, tail, allowed)
    elif kind in IMAGE_KINDS:
        _check_image(path, kind)
    elif kind == "mp4":
        _check_mp4_boxes(path, size)
    return Sniffed(kind=kind, mime=MIMES[kind], extension=EXTENSIONS[kind])


def accepted_kinds(allowed: Collection[str]) -> str:
    """"PDF, PNG" in the canonical order ("PDF、PNG" in Chinese)."""
    locale = get_locale()
    separator = "、" if locale is not None and locale.language == "zh" else ", "
    return separator.join(label for kind, label in LABELS.items() if kind in allowed)


def _this_file_is(what) -> str:
    return gettext("This file is %(what)s", what=what)


def _refused(problem: str, allowed: Collection[str], code: str | None = None) -> UnsupportedType:
    """`problem` (a clause without its full stop), then what is accepted: one sentence."""
    return UnsupportedType(gettext("%(problem)s; accepted: %(kinds)s.", problem=problem, kinds=accepted_kinds(allowed)),
                           code=code)


def _magic(f) -> list:
    try:
        return puremagic.magic_stream(f)  # no filename: the name must not sway the guess
    except (puremagic.PureError, ValueError):
        return []


def _describe(head: bytes, matches: list) -> str:
    """Name what an unaccepted file is, for the error message."""
    lowered = head.lower()
    for match in matches:
        if match.extension in FOUND:
            return FOUND[match.extension]
        if "ELF" in match.name:
            return gettext("a Linux program (ELF)")
    if b"<svg" in lowered:
        return FOUND[".svg"]
    if any(marker in lowered for marker in (b"<html", b"<!doctype html", b"<script", b"<body", b"<iframe")):
        return FOUND[".html"]
    if head.startswith(b"MZ"):
        return FOUND[".exe"]
    if head.startswith(b"#!"):
        return gettext("a script")
    if matches:
        return gettext("of an unaccepted type (%(name)s)", name=matches[0].name)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return gettext("in a format we do not recognise")
    return gettext("a text file")


# --- PDF ---------------------------------------------------------------------------------------


def _check_pdf(path: Path, head: bytes, tail: bytes, allowed: Collection[str]) -> None:
    if not head.startswith(b"%PDF-"):
        raise _refused(gettext("This file does not start with a PDF header"), allowed, code="damaged_file")
    if any(marker in part.lower() for part in (head, tail) for marker in POLYGLOT_MARKERS):
        raise UnsupportedType(
            gettext("This PDF also carries web page code (HTML or script) that a browser could run; "
                    "export it again from the original application and upload that copy."),
            code="polyglot",
        )
    with PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(str(path))
        except pdfium.PdfiumError as exc:
            if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
                raise UnsupportedType(
                    gettext("This PDF is password-protected; remove the password and upload it again."),
                    code="password_protected",
                ) from None
            raise UnsupportedType(gettext("This PDF is damaged and cannot be opened."), code="damaged_file") from None
        try:
            pages = len(document)
        finally:
            document.close()
    if pages < 1:
        raise UnsupportedType(gettext("This PDF has no pages."), code="damaged_file")


# --- Office Open XML ---------------------------------------------------------------------------


def _check_ooxml(path: Path, size: int, allowed: Collection[str]) -> str:
    """Return "pptx" or "docx" for a plain (macro-free, bomb-free) package; refuse anything else."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            _check_archive_size(entries, size)
            names = [entry.filename for entry in entries]
            if len(set(names)) != len(names):
                raise UnsupportedType(gettext("This archive lists the same entry twice."), code="damaged_file")
            if "[Content_Types].xml" not in names:
                raise _refused(_this_file_is(FOUND[".zip"]), allowed)
            overrides, all_types = _content_types(archive)
    except zipfile.BadZipFile:
        raise _refused(gettext("This file is a damaged ZIP archive"), allowed, code="damaged_file") from None
    except (NotImplementedError, RuntimeError, OSError, EOFError, zlib.error, struct.error):
        # Unsupported compression, encrypted entries, truncated data.
        raise UnsupportedType(gettext("This Office document cannot be read."), code="damaged_file") from None

    if any(name.lower().endswith("vbaproject.bin") for name in names) or any(
        "macroenabled" in ctype.lower() for ctype in all_types
    ):
        raise UnsupportedType(
            gettext("This Office document contains macros; save it as a plain .pptx or .docx and upload that."),
            code="macro_enabled",
        )
    for kind, (part, main_type) in OOXML_MAIN.items():
        if part in names and overrides.get(f"/{part}".lower()) == main_type:
            return kind
    if any("spreadsheetml" in ctype for ctype in all_types):
        raise _refused(_this_file_is(gettext("an Excel workbook (.xlsx)")), allowed)
    if any("presentationml" in ctype for ctype in all_types):
        raise _refused(gettext("This file is a PowerPoint template or slide show, not a .pptx presentation"), allowed)
    if any("wordprocessingml" in ctype for ctype in all_types):
        raise _refused(gettext("This file is a Word template, not a .docx document"), allowed)
    raise _refused(gettext("This file is an Office document of an unaccepted kind"), allowed)


def _check_archive_size(entries: list[zipfile.ZipInfo], size: int) -> None:
    if len(entries) > MAX_ARCHIVE_ENTRIES:
        raise UnsupportedType(
            gettext("This archive holds %(entries)s entries; at most %(limit)s are allowed.",
                    entries=f"{len(entries):,}", limit=f"{MAX_ARCHIVE_ENTRIES:,}"),
            code="archive_too_large",
        )
    total = sum(entry.file_size for entry in entries)
    if total > MAX_ARCHIVE_TOTAL or (total > MAX_ARCHIVE_EXPANSION * size and total > ARCHIVE_EXPANSION_FLOOR):
        raise UnsupportedType(
            gettext("This file unpacks to %(size)s MB, far more than its own size; it looks like a zip bomb.",
                    size=f"{total / 1024 / 1024:,.0f}"),
            code="archive_too_large",
        )
    for entry in entries:
        if entry.file_size > ENTRY_RATIO_FLOOR and entry.file_size > MAX_ENTRY_RATIO * max(entry.compress_size, 1):
            raise UnsupportedType(
                gettext("An entry in this file is compressed more than %(ratio)s to 1; it looks like a zip bomb.",
                        ratio=MAX_ENTRY_RATIO),
                code="archive_too_large",
            )


def _content_types(archive: zipfile.ZipFile) -> tuple[dict[str, str], list[str]]:
    """Parse [Content_Types].xml: overrides by lower-cased part name, and every declared type."""
    info = archive.getinfo("[Content_Types].xml")
    if info.file_size > MAX_CONTENT_TYPES_BYTES:
        raise UnsupportedType(gettext("This Office document's content types are implausibly large."), code="damaged_file")
    try:
        root = parse_xml(archive.read(info))
    except (ParseError, DefusedXmlException):
        raise UnsupportedType(gettext("This Office document's content types cannot be read."), code="damaged_file") from None
    overrides: dict[str, str] = {}
    all_types: list[str] = []
    for element in root:
        tag = element.tag.rsplit("}", 1)[-1]
        ctype = (element.get("ContentType") or "").strip()
        all_types.append(ctype)
        if tag == "Override" and element.get("PartName"):
            overrides[element.get("PartName").lower()] = ctype
    return overrides, all_types


# --- Images ------------------------------------------------------------------------------------

PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG"}


def _check_image(path: Path, kind: str) -> None:
    damaged = UnsupportedType(gettext("This %(kind)s image is damaged and cannot be read.", kind=LABELS[kind]),
                              code="damaged_file")
    try:
        with Image.open(path, formats=[PIL_FORMATS[kind]]) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise _too_many_pixels(width, height)
            image.verify()
        if kind == "jpeg":
            # JPEG's verify() checks nothing; decoding at 1/8 scale is cheap and finds truncation.
            with Image.open(path, formats=["JPEG"]) as image:
                image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                image.load()
    except Image.DecompressionBombError:
        raise UnsupportedType(
            gettext("This image has more than %(limit)s megapixels; scale it down and upload it again.",
                    limit=MAX_IMAGE_PIXELS // 1_000_000),
            code="image_too_large",
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error):
        raise damaged from None


def _too_many_pixels(width: int, height: int) -> UnsupportedType:
    return UnsupportedType(
        gettext("This image is %(width)s × %(height)s pixels, more than %(limit)s megapixels; "
                "scale it down and upload it again.",
                width=f"{width:,}", height=f"{height:,}", limit=MAX_IMAGE_PIXELS // 1_000_000),
        code="image_too_large",
    )


# --- MP4 ---------------------------------------------------------------------------------------


def _check_mp4_brand(head: bytes, matches: list, allowed: Collection[str]) -> None:
    box_size = int.from_bytes(head[:4], "big")
    if not 16 <= box_size <= min(len(head), 4096) or box_size % 4:
        raise _refused(gettext("This file has a damaged MP4 header"), allowed, code="damaged_file")
    major = head[8:12]
    compatible = {head[i : i + 4] for i in range(16, box_size, 4)}
    if major in MP4_BRANDS or (major not in OTHER_BRANDS and compatible & MP4_BRANDS):
        return
    what = OTHER_BRANDS.get(major) or next((FOUND.get(m.extension) for m in matches if m.extension in FOUND), None)
    if what is None:
        brand = major.decode("ascii", "replace").strip()
        what = gettext("an ISO media file of an unaccepted brand (%(brand)r)", brand=brand)
    raise _refused(_this_file_is(what), allowed)


def _check_mp4_boxes(path: Path, size: int) -> None:
    """Walk the top-level boxes: each must fit in the file, and a movie header (moov) must exist."""
    damaged = UnsupportedType(gettext("This MP4 video is damaged or truncated."), code="damaged_file")
    seen: set[bytes] = set()
    position = 0
    with path.open("rb") as f:
        for _ in range(MAX_TOP_LEVEL_BOXES):
            if position >= size:
                break
            f.seek(position)
            header = f.read(8)
            if len(header) < 8:
                raise damaged
            box_size, box_type = struct.unpack(">I4s", header)
            if box_size == 0:  # the last box runs to the end of the file
                seen.add(box_type)
                break
            if box_size == 1:
                large = f.read(8)
                if len(large) < 8:
                    raise damaged
                box_size = struct.unpack(">Q", large)[0]
                if box_size < 16:
                    raise damaged
            elif box_size < 8:
                raise damaged
            if not all(32 <= byte < 127 for byte in box_type) or position + box_size > size:
                raise damaged
            seen.add(box_type)
            position += box_size
        else:
            raise damaged
    if b"moov" not in seen:
        raise damaged


# --- Names -------------------------------------------------------------------------------------

_RESERVED_STEMS = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"COM{i}" for i in range(1, 10)} | {f"LPT{i}" for i in range(1, 10)}
    | {f"COM{c}" for c in "¹²³"} | {f"LPT{c}" for c in "¹²³"}
)
_DRIVE = re.compile(r"^[A-Za-z]:")
#: Bidirectional embeddings, overrides and isolates: they disguise "gpj.exe" as "exe.jpg".
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
MAX_FILENAME_CHARS = 255


def clean_filename(name: str | None) -> str:
    """Return the uploaded file's name, trimmed and NFC-normalised, for display only.

    Raises ValidationFailed({"file": ...}) for a missing name, a path, control characters,
    more than 255 characters or a Windows device name.
    """
    name = unicodedata.normalize("NFC", (name or "").strip())
    if not name:
        raise ValidationFailed({"file": gettext("The file has no name.")})
    if "/" in name or "\\" in name or _DRIVE.match(name):
        raise ValidationFailed({"file": gettext("The file name must be a plain name, without folders or a drive.")})
    if name in {".", ".."}:
        raise ValidationFailed({"file": gettext("The file name must be a plain name, without folders or a drive.")})
    if any(unicodedata.category(c) in {"Cc", "Zl", "Zp"} or c in _BIDI_CONTROLS for c in name):
        raise ValidationFailed({"file": gettext("The file name must not contain control characters.")})
    if len(name) > MAX_FILENAME_CHARS:
        raise ValidationFailed({"file": gettext("The file name is longer than %(limit)s characters.", limit=MAX_FILENAME_CHARS)})
    if name.split(".", 1)[0].rstrip(" ").upper() in _RESERVED_STEMS:
        raise ValidationFailed({"file": gettext("The file name is reserved by Windows (like CON or NUL); rename the file.")})
    return name
